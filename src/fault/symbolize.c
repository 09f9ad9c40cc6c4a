/* The symbolizer: guest address -> function (file:line), read with elfutils from a private copy
 * of the image. libelf parses the copy in memory (elf_memory); the symbol table names the
 * function, libdw's line table gives the source line. Missing pieces degrade gracefully, and
 * debug data that points at other files is not used at all (names_other_files). */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault/symbolize.h"
#include "base/util.h"

struct debuginfo {
	char *bytes;  /* our copy of the image: libelf reads it in place */
	size_t size;
	Elf *elf;     /* NULL: not an ELF image (flat binary) */
	Dwarf *dwarf; /* NULL: no DWARF, or DWARF we refused */
	bool refused; /* the DWARF names other files: symbols only */
};

/* Does the image's DWARF name data in other files, which libdw would open by itself the first
 * time a lookup needs it: a supplementary file (.gnu_debugaltlink, as dwz makes; DWARF 5's
 * .debug_sup) whose strings DW_FORM_GNU_strp_alt / DW_FORM_strp_sup names point into, or
 * split units (DW_UT_skeleton: the rest is in a .dwo file found through DW_AT_comp_dir)?
 * Such opens take a path from the image, so a guest would choose which host file kvmbox
 * reads, and they happen at a fault report, when the process sandbox forbids any open
 * (docs/security.md): such DWARF is refused, the report keeps the ELF symbols. Scans the
 * unit headers only (no DIE is read through an other-file form). */
static bool names_other_files(Elf *elf, Dwarf *dw)
{
	Elf_Scn *scn = NULL;
	Dwarf_CU *cu = NULL;
	size_t shstrndx;
	uint8_t type;

	if (elf_getshdrstrndx(elf, &shstrndx) == 0)
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
				continue;
			if (!strcmp(name, ".gnu_debugaltlink") || !strcmp(name, ".debug_sup"))
				return true;
		}
	/* dwarf_get_units without its DIE arguments: asking for the sub-DIE would open the
	 * split unit's file. */
	while (dwarf_get_units(dw, cu, &cu, NULL, &type, NULL, NULL) == 0)
		if (type == DW_UT_skeleton || type == DW_UT_split_compile || type == DW_UT_split_type)
			return true;
	return false;
}

/* Little-endian reads of N (2, 4 or 8) bytes at P. */
static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* .debug_info's unit headers, [P, P+LEN): does any unit say it is split (DWARF 5's skeleton
 * and split units), or come from before DWARF 5 (GCC's split DWARF 4 marks a skeleton only
 * with an attribute, DW_AT_GNU_dwo_id, which only libdw's reading of the DIE finds)? A header
 * that does not parse answers yes as well. */
static bool units_may_be_split(const uint8_t *p, uint64_t len)
{
	uint64_t pos = 0;

	while (pos < len) {
		uint64_t ulen, hdr = 4;

		if (len - pos < 4)
			return true;
		ulen = le(p + pos, 4);
		if (ulen >= 0xfffffff0u) { /* 64-bit DWARF (0xffffffff), or reserved */
			if (ulen != 0xffffffffu || len - pos < 12)
				return true;
			ulen = le(p + pos + 4, 8);
			hdr = 12;
		}
		if (ulen < 3 || ulen > len - pos - hdr)
			return true;
		if (le(p + pos + hdr, 2) < 5 || p[pos + hdr + 2] == DW_UT_skeleton ||
		    p[pos + hdr + 2] == DW_UT_split_compile || p[pos + hdr + 2] == DW_UT_split_type)
			return true;
		pos += hdr + ulen;
	}
	return false;
}

bool debuginfo_may_name_other_files(const void *data, size_t size)
{
	const uint8_t *b = data;
	bool is64, info_seen = false;
	uint64_t shoff, shentsize, shnum, shstrndx, stroff, strsize;

	if (!b || size < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG) || b[EI_DATA] != ELFDATA2LSB ||
	    (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64))
		return !b || (size >= SELFMAG && !memcmp(b, ELFMAG, SELFMAG)); /* not ELF: no DWARF */
	is64 = b[EI_CLASS] == ELFCLASS64;
	if (size < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return true;
	shoff = is64 ? le(b + 0x28, 8) : le(b + 0x20, 4);
	shentsize = le(b + (is64 ? 0x3a : 0x2e), 2);
	shnum = le(b + (is64 ? 0x3c : 0x30), 2);
	shstrndx = le(b + (is64 ? 0x3e : 0x32), 2);
	if (!shoff && !shnum)
		return false; /* no sections: no DWARF */
	if (shentsize != (is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) || !shnum ||
	    shstrndx >= shnum || shoff > size || shnum * shentsize > size - shoff)
		return true; /* extended numbering or a table that does not fit: libdw decides */
#define SH(i, f64, f32, n64, n32) \
	le(b + shoff + (i) * shentsize + (is64 ? (f64) : (f32)), is64 ? (n64) : (n32))
	stroff = SH(shstrndx, 0x18, 0x10, 8, 4);
	strsize = SH(shstrndx, 0x20, 0x14, 8, 4);
	if (stroff > size || strsize > size - stroff)
		return true;
	for (uint64_t i = 0; i < shnum; i++) {
		uint64_t name = SH(i, 0x00, 0x00, 4, 4), flags = SH(i, 0x08, 0x08, 8, 4);
		uint64_t off = SH(i, 0x18, 0x10, 8, 4), len = SH(i, 0x20, 0x14, 8, 4);
		const char *n = (const char *)b + stroff + name;
		size_t nlen;

		/* Every header's name, whatever its type: libdw's own check reads them all. */
		if (name >= strsize || (nlen = strnlen(n, strsize - name)) == strsize - name)
			return true;
		if (!strcmp(n, ".gnu_debugaltlink") || !strcmp(n, ".debug_sup") ||
		    !strcmp(n, ".debug_types") || (nlen >= 4 && !strcmp(n + nlen - 4, ".dwo")))
			return true;
		if (strncmp(n, ".debug_", 7) && strncmp(n, ".zdebug_", 8))
			continue;
		if (n[1] == 'z' || (flags & SHF_COMPRESSED))
			return true; /* compressed: its unit headers cannot be read here */
		if (!strcmp(n, ".debug_info")) {
			if (info_seen || SH(i, 0x04, 0x04, 4, 4) == SHT_NOBITS || off > size ||
			    len > size - off || units_may_be_split(b + off, len))
				return true;
			info_seen = true;
		}
	}
#undef SH
	return false;
}

int debuginfo_open(struct debuginfo **dip, const void *data, size_t size, struct kvmbox_error *err)
{
	struct debuginfo *di;

	if (!dip || (!data && size))
		return set_error(err, EINVAL, "debuginfo: no image");
	*dip = NULL;
	di = calloc(1, sizeof(*di));
	if (!di || !(di->bytes = malloc(size ? size : 1))) {
		free(di);
		return set_error(err, ENOMEM, "debuginfo: out of memory for a %zu-byte image", size);
	}
	if (size)
		memcpy(di->bytes, data, size);
	di->size = size;
	/* elf_version is libelf's one-time handshake; repeating it is harmless. */
	if (elf_version(EV_CURRENT) != EV_NONE && size >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG)) {
		di->elf = elf_memory(di->bytes, size);
		if (di->elf && elf_kind(di->elf) != ELF_K_ELF) {
			elf_end(di->elf);
			di->elf = NULL;
		}
	}
	if (di->elf)
		di->dwarf = dwarf_begin_elf(di->elf, DWARF_C_READ, NULL);
	if (di->dwarf && names_other_files(di->elf, di->dwarf)) {
		dwarf_end(di->dwarf);
		di->dwarf = NULL;
		di->refused = true;
	}
	*dip = di;
	return 0;
}

bool debuginfo_refused(const struct debuginfo *di)
{
	return di && di->refused;
}

const void *debuginfo_image(const struct debuginfo *di, size_t *size)
{
	*size = di ? di->size : 0;
	return di ? di->bytes : NULL;
}

void debuginfo_close(struct debuginfo *di)
{
	if (!di)
		return;
	if (di->dwarf)
		dwarf_end(di->dwarf);
	if (di->elf)
		elf_end(di->elf);
	free(di->bytes);
	free(di);
}

/* The function symbol whose [value, value+size) holds ADDR, from .symtab (or .dynsym). */
static void find_function(const struct debuginfo *di, uint64_t addr, struct debuginfo_where *w)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(di->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    addr < sym.st_value || addr - sym.st_value >= sym.st_size)
				continue;
			name = elf_strptr(di->elf, sh.sh_link, sym.st_name);
			if (name && *name) {
				w->function = name;
				return;
			}
		}
	}
}

/* The compilation unit whose address ranges hold ADDR: .debug_aranges first, then each CU's
 * own ranges (an image linked without aranges). */
static int find_cu(Dwarf *dw, uint64_t addr, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(dw, addr, cu))
		return 0;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(dw, off + hsize, cu) && dwarf_haspc(cu, addr) > 0)
			return 0;
		off = next;
	}
	return -1;
}

/* The innermost function scope holding ADDR in CU, inlined or not: the function the line
 * table's row belongs to (what `addr2line -f` names), rather than the symbol it was inlined
 * into. dwarf_diename follows DW_AT_abstract_origin to the inlined function's name. */
static void find_scope(Dwarf_Die *cu, uint64_t addr, struct debuginfo_where *w)
{
	Dwarf_Die *scopes = NULL;
	int i, n = dwarf_getscopes(cu, addr, &scopes);

	for (i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		const char *name;

		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		name = dwarf_diename(&scopes[i]);
		if (name && *name) {
			w->function = name;
			break;
		}
	}
	free(scopes);
}

/* The line-table row for ADDR; the file made relative to the CU's compilation directory. */
static void find_line(const struct debuginfo *di, uint64_t addr, struct debuginfo_where *w)
{
	Dwarf_Attribute attr;
	Dwarf_Line *line;
	Dwarf_Die cu;
	const char *file, *dir;
	size_t n;

	if (find_cu(di->dwarf, addr, &cu) < 0)
		return;
	find_scope(&cu, addr, w);
	if (!(line = dwarf_getsrc_die(&cu, addr)))
		return;
	file = dwarf_linesrc(line, NULL, NULL);
	if (!file || dwarf_lineno(line, &w->line) != 0 || w->line <= 0) {
		w->line = 0;
		return;
	}
	dir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &attr));
	n = dir ? strlen(dir) : 0;
	if (n && !strncmp(file, dir, n) && file[n] == '/')
		file += n + 1;
	w->file = file;
}

int debuginfo_lookup(const struct debuginfo *di, uint64_t addr, struct debuginfo_where *w)
{
	memset(w, 0, sizeof(*w));
	if (!di || !di->elf)
		return -ENOENT;
	if (di->dwarf)
		find_line(di, addr, w);
	if (!w->function)
		find_function(di, addr, w);
	return w->function || w->file ? 0 : -ENOENT;
}

size_t debuginfo_describe(const struct debuginfo *di, uint64_t addr, char *buf, size_t len)
{
	struct debuginfo_where w;
	int n;

	if (debuginfo_lookup(di, addr, &w) < 0)
		n = snprintf(buf, len, "0x%" PRIx64, addr);
	else if (w.function && w.file)
		n = snprintf(buf, len, "%s (%s:%d)", w.function, w.file, w.line);
	else if (w.function)
		n = snprintf(buf, len, "%s", w.function);
	else
		n = snprintf(buf, len, "%s:%d", w.file, w.line);
	return n < 0 ? 0 : (size_t)n;
}
