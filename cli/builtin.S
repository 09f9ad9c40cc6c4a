/* The built-in hello guests: examples/hello.c built for each mode, embedded as ELF files. */
#define EMBED(sym, file)        \
	.globl sym, sym##_end;  \
	.balign 16;             \
sym:                            \
	.incbin file;           \
sym##_end:

	.section .rodata
EMBED(kvmbox_hello_real, HELLO_REAL)
EMBED(kvmbox_hello_protected, HELLO_PROTECTED)
EMBED(kvmbox_hello_paged32, HELLO_PAGED32)
EMBED(kvmbox_hello_long, HELLO_LONG)

	.section .note.GNU-stack, "", @progbits
