/* Capstone for x86 only. kvmbox decodes nothing but x86 (src/x86/insn.c), yet libcapstone's
 * cs_open reaches every architecture's module through two tables of function pointers, so a
 * static link took all eleven others along, with their instruction tables: 77,000 pointers the
 * loader relocated at every start of the command (M68K's decoder alone is a table of 65,536),
 * 1.3 MiB of pages written before main, a millisecond of a hello run on a nested host
 * (docs/performance.md). These definitions of the other modules' two entry points come before
 * the library in the link, so the linker takes them instead and leaves the modules out; they
 * answer CS_ERR_ARCH (3), as an architecture not compiled in would. Capstone 4's names
 * (Debian's libcapstone-dev); with a capstone that names them otherwise these go unused and
 * the command is merely larger. Only the command links this file: the library links the whole
 * libcapstone for its embedders. */
#define CS_ERR_ARCH 3

#define NOT_X86(arch)                                                                      \
	int arch##_global_init(void *ud);                                                  \
	int arch##_option(void *handle, int type, unsigned long value);                   \
	int arch##_global_init(void *ud)                                                   \
	{                                                                                  \
		(void)ud;                                                                  \
		return CS_ERR_ARCH;                                                        \
	}                                                                                  \
	int arch##_option(void *handle, int type, unsigned long value)                    \
	{                                                                                  \
		(void)handle, (void)type, (void)value;                                     \
		return CS_ERR_ARCH;                                                        \
	}

NOT_X86(ARM)
NOT_X86(AArch64)
NOT_X86(Mips)
NOT_X86(PPC)
NOT_X86(Sparc)
NOT_X86(SystemZ)
NOT_X86(XCore)
NOT_X86(M68K)
NOT_X86(TMS320C64x)
NOT_X86(M680X)
NOT_X86(EVM)
