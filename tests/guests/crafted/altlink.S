/* Debug data that names a supplementary file, as dwz makes it: a .gnu_debugaltlink section
 * (a file name and a build ID) and names given as offsets into that file's strings
 * (DW_FORM_strp_sup, DWARF 5's, and DW_FORM_GNU_strp_alt, its GNU forerunner). Only the
 * sections are taken from this object (objcopy --dump-section) and put into a stripped copy
 * of a guest (the Makefile's crafted-altlink rule): libdw would open the named file, or
 * /usr/lib/debug/.build-id/..., the first time it reads such a name. The numbers are
 * constants, so the object has no relocations. DWARF 5 standard, 7.5.1 and 7.5.6. */
#define DW_TAG_compile_unit 0x11
#define DW_TAG_subprogram 0x2e
#define DW_AT_name 0x03
#define DW_AT_low_pc 0x11
#define DW_AT_high_pc 0x12
#define DW_FORM_addr 0x01
#define DW_FORM_data4 0x06
#define DW_FORM_strp_sup 0x1d
/* DW_FORM_GNU_strp_alt is 0x1f21: two bytes of ULEB128 */
#define GNU_STRP_ALT_LO 0xa1
#define GNU_STRP_ALT_HI 0x3e

	.section .debug_abbrev, "", @progbits
	.byte 1, DW_TAG_compile_unit, 1           /* code 1, has children */
	.byte DW_AT_name, DW_FORM_strp_sup
	.byte DW_AT_low_pc, DW_FORM_addr
	.byte DW_AT_high_pc, DW_FORM_data4        /* a length (DWARF 4 and later) */
	.byte 0, 0
	.byte 2, DW_TAG_subprogram, 0             /* code 2, no children */
	.byte DW_AT_name, GNU_STRP_ALT_LO, GNU_STRP_ALT_HI
	.byte DW_AT_low_pc, DW_FORM_addr
	.byte DW_AT_high_pc, DW_FORM_data4
	.byte 0, 0
	.byte 0

	.section .debug_info, "", @progbits
	.long 2f - 1f                             /* unit_length */
1:	.short 4                                  /* version */
	.long 0                                   /* debug_abbrev_offset */
	.byte 8                                   /* address_size */
	.byte 1                                   /* the compile unit: all of the address space */
	.long 0x10
	.quad 0
	.long 0xffffffff
	.byte 2                                   /* one function over the same range */
	.long 0x20
	.quad 0
	.long 0xffffffff
	.byte 0                                   /* end of the unit's children */
2:

	.section .gnu_debugaltlink, "", @progbits
	.asciz "kvmbox-crafted-alt.debug"
	.byte 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd
	.byte 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01
