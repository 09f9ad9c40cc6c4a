/* The symbolizer: maps a guest address to "function (file:line)" from the loaded image's ELF
 * symbol table and DWARF line table (elfutils' libelf and libdw). Internal: only src/
 * includes it. One object per image; it keeps its own copy of the image bytes. */
#ifndef KVMBOX_DEBUGINFO_H
#define KVMBOX_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"

struct debuginfo;

/* Open the symbolizer for the image in [DATA, DATA+SIZE) (the bytes kvmbox_image_parse read;
 * they are copied, so the caller may free them afterwards). An image that is not ELF (a flat
 * binary) or has no symbols or DWARF still opens: describe then gives what there is (the
 * function alone, or the bare address). DWARF that names other files (a supplementary file
 * through .gnu_debugaltlink or .debug_sup, split units in .dwo files) is refused here, as if
 * the image had none (debuginfo_refused says so): after this call no lookup opens a file.
 * Returns 0 with *DI set (release it with debuginfo_close), or -ENOMEM / -EINVAL (NULL
 * arguments) with ERR saying why. */
int debuginfo_open(struct debuginfo **di, const void *data, size_t size, struct kvmbox_error *err);

/* Could the ELF image in [DATA, DATA+SIZE) have DWARF that names other files (what
 * debuginfo_open refuses), judged without libdw from its section headers and .debug_info's
 * unit headers? false means certainly not: no supplementary-file section, no split or
 * pre-DWARF-5 unit, nothing compressed. Then a debuginfo_open of it reads that image alone,
 * and may as well happen at the first lookup, after the process sandbox forbids opening
 * files (symbol_cache.c: what that saves every start). Anything it cannot read answers
 * true; so does an image that is not little-endian ELF but starts as ELF. Not ELF: false. */
bool debuginfo_may_name_other_files(const void *data, size_t size);

/* Was DI's DWARF refused because it names other files? false for NULL. */
bool debuginfo_refused(const struct debuginfo *di);

/* DI's copy of the image (its size in *SIZE): NULL and 0 for NULL. Valid until
 * debuginfo_close. */
const void *debuginfo_image(const struct debuginfo *di, size_t *size);

/* Release DI and everything it owns. NULL is fine. */
void debuginfo_close(struct debuginfo *di);

/* What is known about ADDR: the name of the function it lies in (the innermost DWARF scope,
 * an inlined function's own name as `addr2line -f` gives it; else the ELF function symbol
 * that covers ADDR; NULL when neither does), and the source file and line of the DWARF
 * line-table row for it (file NULL, line 0 when the image has no line table for ADDR). Strings point into DI: valid until
 * debuginfo_close. The file is relative to the compilation directory when it lies under it
 * ("examples/foo.c"), as the user wrote it on the compiler's command line. Returns 0 when a
 * function or a line was found, -ENOENT when nothing was (or DI is NULL). */
struct debuginfo_where {
	const char *function;
	const char *file;
	int line;
};
int debuginfo_lookup(const struct debuginfo *di, uint64_t addr, struct debuginfo_where *where);

/* Describe ADDR into BUF (NUL-terminated, truncated to LEN): "fill_table (examples/foo.c:42)",
 * "fill_table" without a line table, "examples/foo.c:42" without a symbol, or "0x1a2f" when
 * nothing is known (DI may be NULL). Returns the length of the full description (as snprintf
 * does: a value >= LEN means it was truncated). */
size_t debuginfo_describe(const struct debuginfo *di, uint64_t addr, char *buf, size_t len);

#endif
