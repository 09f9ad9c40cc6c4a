/* Image parsing: ELF32/ELF64 x86 executables and flat binaries become a list of segments, an
 * entry point and a CPU mode. Pure validation on a caller-owned buffer; nothing here touches
 * guest memory (kvmbox_vm_load places the segments). docs/images.md lists every refusal. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvmbox/abi.h"
#include "kvmbox/kvmbox.h"
#include "base/addr.h"
#include "base/util.h"
#include "image/image.h"

/* Fields are copied straight into native structs: x86 hosts only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the ELF reader assumes a little-endian host");

/* kvmbox guest memory never reaches 4 GiB (KVMBOX_MEM_MAX is 3 GiB, the TSS sits below 4 GiB),
 * so a segment ending above it can never load, whatever the ELF class. */
#define ADDR_LIMIT (1ull << 32)

/* Program header in a class-independent form. */
struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* What the parser knows about the ELF file being read. */
struct elf {
	const uint8_t *data;
	size_t size;
	bool is64;
};

static int fail(struct kvmbox_error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill ERR (if any) with one line and return RC. */
static int fail(struct kvmbox_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Is [off, off+len) inside the file? Overflow-safe. */
static bool in_file(const struct elf *e, uint64_t off, uint64_t len)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= e->size;
}

/* Read program header I; the caller has checked that the table lies inside the file.
 * memcpy because e_phoff need not be aligned (an unaligned struct load is undefined). */
static void read_phdr(const struct elf *e, uint64_t phoff, unsigned i, struct phdr *ph)
{
	if (e->is64) {
		Elf64_Phdr p;

		memcpy(&p, e->data + phoff + (uint64_t)i * sizeof(p), sizeof(p));
		*ph = (struct phdr){ p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_paddr,
				     p.p_filesz, p.p_memsz, p.p_align };
	} else {
		Elf32_Phdr p;

		memcpy(&p, e->data + phoff + (uint64_t)i * sizeof(p), sizeof(p));
		*ph = (struct phdr){ p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_paddr,
				     p.p_filesz, p.p_memsz, p.p_align };
	}
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Mode names for messages (local: this file links without the rest of the library). */
static const char *mode_str(enum kvmbox_mode m)
{
	switch (m) {
	case KVMBOX_MODE_REAL: return "real";
	case KVMBOX_MODE_PROTECTED: return "protected";
	case KVMBOX_MODE_PAGED32: return "paged32";
	case KVMBOX_MODE_LONG: return "long";
	default: return "auto";
	}
}

/* Map a KVMBOX_NOTE_MODE_* value to a mode the ELF class allows. ELF64 images are 64-bit
 * code: only LONG. ELF32 images hold 16- or 32-bit code: REAL, PROTECTED or PAGED32. */
static int note_mode(const struct elf *e, unsigned ph_index, uint32_t value, enum kvmbox_mode *mode,
		     struct kvmbox_error *err)
{
	switch (value) {
	case KVMBOX_NOTE_MODE_REAL: *mode = KVMBOX_MODE_REAL; break;
	case KVMBOX_NOTE_MODE_PROTECTED: *mode = KVMBOX_MODE_PROTECTED; break;
	case KVMBOX_NOTE_MODE_PAGED32: *mode = KVMBOX_MODE_PAGED32; break;
	case KVMBOX_NOTE_MODE_LONG: *mode = KVMBOX_MODE_LONG; break;
	default:
		return fail(err, -ENOEXEC, "segment %u: kvmbox mode note has unknown mode value %" PRIu32,
			    ph_index, value);
	}
	if (e->is64 != (*mode == KVMBOX_MODE_LONG))
		return fail(err, -ENOEXEC, "segment %u: kvmbox mode note asks for %s mode in an %s image",
			    ph_index, mode_str(*mode), e->is64 ? "ELF64" : "ELF32");
	return 0;
}

/* A kvmbox guard note's descriptor (KVMBOX_NOTE_GUARD_NULL): 0 or 1 into IMG. */
static int guard_note(unsigned ph_index, uint64_t descsz, const uint8_t *desc,
		      struct kvmbox_image *img, struct kvmbox_error *err)
{
	uint32_t v;

	if (descsz != 4)
		return fail(err, -ENOEXEC, "segment %u: kvmbox guard note has a %" PRIu64
			    "-byte descriptor (expected 4)", ph_index, descsz);
	v = get32(desc);
	if (v > 1)
		return fail(err, -ENOEXEC, "segment %u: kvmbox guard note has value %" PRIu32
			    " (0: no guard, 1: guard page 0)", ph_index, v);
	img->guard_null = v == 1;
	return 0;
}

_Static_assert(KVMBOX_IMAGE_MAX_EXPORTS == KVMBOX_EXPORTS_MAX, "kvmbox.h and abi.h agree");

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

bool image_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '$';
}

/* A kvmbox export note's descriptor (KVMBOX_NOTE_EXPORT) at file offset OFF: the address,
 * then a NUL-terminated name of 1 to KVMBOX_EXPORT_NAME_MAX name characters; recorded in IMG
 * (the addresses are checked against the segments once all are known, names for repeats). */
static int export_note(const struct elf *e, unsigned ph_index, uint64_t off, uint64_t descsz,
		       struct kvmbox_image *img, struct kvmbox_error *err)
{
	const char *name = (const char *)e->data + off + 8;
	size_t len;

	if (descsz < 8 + 2 || descsz > 8 + KVMBOX_EXPORT_NAME_MAX + 1 + 3)
		return fail(err, -ENOEXEC, "segment %u: kvmbox export note has a %" PRIu64 "-byte "
			    "descriptor (an 8-byte address and a name of 1 to %d bytes with its NUL)",
			    ph_index, descsz, KVMBOX_EXPORT_NAME_MAX);
	len = strnlen(name, descsz - 8);
	if (len == descsz - 8 || len > KVMBOX_EXPORT_NAME_MAX || len == 0)
		return fail(err, -ENOEXEC, "segment %u: kvmbox export note's name is %s", ph_index,
			    len == 0 ? "empty" : len == descsz - 8 ? "not NUL-terminated"
					       : "longer than 63 bytes");
	for (size_t i = 0; i < len; i++)
		if (!image_name_char(name[i]))
			return fail(err, -ENOEXEC, "segment %u: kvmbox export note's name has the byte "
				    "0x%02x (names are letters, digits, '_', '.' and '$')", ph_index,
				    (unsigned char)name[i]);
	if (img->nexports == KVMBOX_EXPORTS_MAX)
		return fail(err, -ENOEXEC, "segment %u: more than %d kvmbox export notes", ph_index,
			    KVMBOX_EXPORTS_MAX);
	for (unsigned k = 0; k < img->nexports; k++)
		if (!strcmp((const char *)e->data + img->export_desc[k] + 8, name))
			return fail(err, -ENOEXEC, "segment %u: the function %s is exported twice",
				    ph_index, name);
	/* OFF < the file size <= KVMBOX_IMAGE_MAX_SIZE (1 GiB): it fits 32 bits. */
	img->export_desc[img->nexports++] = (uint32_t)off;
	return 0;
}

/* Every export's address lies inside the file bytes of an executable (PF_X) segment, as the
 * entry point must: a call enters the guest there. */
static int check_exports(const struct elf *e, const struct kvmbox_image *img, unsigned xmask,
			 struct kvmbox_error *err)
{
	for (unsigned i = 0; i < img->nexports; i++) {
		const uint8_t *desc = e->data + img->export_desc[i];
		uint64_t addr = get64(desc);
		bool inside = false;

		for (unsigned k = 0; k < img->nsegments && !inside; k++) {
			const struct kvmbox_segment *s = &img->segments[k];

			inside = (xmask & (1u << k)) && addr >= s->gpa && addr - s->gpa < s->filesz;
		}
		if (!inside)
			return fail(err, -ENOEXEC, "exported function %s at 0x%" PRIx64 " is not inside "
				    "the file bytes of an executable (PF_X) PT_LOAD segment",
				    (const char *)desc + 8, addr);
	}
	return 0;
}

int kvmbox_image_export(const struct kvmbox_image *img, unsigned i, struct kvmbox_export *exp)
{
	if (!img || !exp || i >= img->nexports)
		return -ENOENT;
	exp->addr = get64(img->data + img->export_desc[i]);
	exp->name = (const char *)img->data + img->export_desc[i] + 8;
	return 0;
}

/* Walk the notes of one PT_NOTE segment (whose file range is checked) and apply a kvmbox
 * mode note to *MODE and a guard note to IMG. *SEEN says whether an earlier note already
 * chose a mode; two notes must agree. Note layout per the gABI "Note Section": 12-byte header (namesz, descsz, type),
 * name and descriptor each padded to the segment's alignment (4, or 8 for 8-aligned notes). */
static int parse_notes(const struct elf *e, unsigned ph_index, const struct phdr *ph,
		       struct kvmbox_image *img, bool *seen, struct kvmbox_error *err)
{
	static const char owner[] = KVMBOX_NOTE_NAME;
	const uint8_t *seg = e->data + ph->offset;
	uint64_t a = ph->align == 8 ? 8 : 4;
	uint64_t pos = 0, len = ph->filesz;

	while (pos < len) {
		uint64_t namesz, descsz, name_off, desc_off, next;
		uint32_t type;
		bool ours;

		if (len - pos < 12)
			return fail(err, -ENOEXEC,
				    "segment %u: note at offset 0x%" PRIx64 " is truncated (0x%" PRIx64
				    " bytes left, a note header needs 12)", ph_index, pos, len - pos);
		namesz = get32(seg + pos);
		descsz = get32(seg + pos + 4);
		type = get32(seg + pos + 8);
		/* namesz, descsz < 2^32 and pos < 2^63: these sums cannot overflow uint64_t. */
		name_off = pos + 12;
		desc_off = align_up(name_off + namesz, a);
		if (name_off + namesz > len || desc_off > len || descsz > len - desc_off)
			return fail(err, -ENOEXEC,
				    "segment %u: note at offset 0x%" PRIx64 " (name 0x%" PRIx64
				    " bytes, descriptor 0x%" PRIx64 " bytes) runs past the segment end (0x%" PRIx64
				    " bytes)", ph_index, pos, namesz, descsz, len);
		next = align_up(desc_off + descsz, a);

		ours = namesz == sizeof(owner) && memcmp(seg + name_off, owner, sizeof(owner)) == 0;
		if (ours && type == KVMBOX_NOTE_EXPORT) {
			int rc = export_note(e, ph_index, ph->offset + desc_off, descsz, img, err);

			if (rc)
				return rc;
		} else if (ours && type == KVMBOX_NOTE_GUARD_NULL) {
			int rc = guard_note(ph_index, descsz, seg + desc_off, img, err);

			if (rc)
				return rc;
		} else if (ours && type == KVMBOX_NOTE_MODE) {
			enum kvmbox_mode m = KVMBOX_MODE_AUTO;
			int rc;

			if (descsz != 4)
				return fail(err, -ENOEXEC,
					    "segment %u: kvmbox mode note has a %" PRIu64
					    "-byte descriptor (expected 4)", ph_index, descsz);
			rc = note_mode(e, ph_index, get32(seg + desc_off), &m, err);
			if (rc)
				return rc;
			if (*seen && m != img->mode)
				return fail(err, -ENOEXEC,
					    "segment %u: kvmbox mode notes disagree (%s, then %s)", ph_index,
					    mode_str(img->mode), mode_str(m));
			img->mode = m;
			*seen = true;
		}
		/* Other owners and other kvmbox note types are ignored (forward compatibility). */
		pos = next;
	}
	return 0;
}

/* The architecture an ELF e_machine names, for messages ("AArch64"), or NULL. */
static const char *machine_name(uint16_t machine)
{
	static const struct { uint16_t machine; const char *name; } names[] = {
		{ EM_SPARC, "SPARC" }, { EM_386, "i386" }, { EM_MIPS, "MIPS" },
		{ EM_PPC, "PowerPC" }, { EM_PPC64, "PowerPC64" }, { EM_S390, "S/390" },
		{ EM_ARM, "ARM" }, { EM_SPARCV9, "SPARC V9" }, { EM_IA_64, "IA-64" },
		{ EM_X86_64, "x86-64" }, { EM_AARCH64, "AArch64" }, { EM_RISCV, "RISC-V" },
		{ 258 /* EM_LOONGARCH, newer than some elf.h */, "LoongArch" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].machine == machine)
			return names[i].name;
	return NULL;
}

/* Validate e_ident (magic, class, encoding, version) and that the whole header is in the
 * file; sets E->is64. */
static int parse_ident(struct elf *e, struct kvmbox_error *err)
{
	const uint8_t *id = e->data;
	size_t ehsize;

	if (e->size < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0)
		return fail(err, -ENOEXEC, "not an ELF file (use --load ADDR for a flat binary)");
	if (e->size < EI_NIDENT)
		return fail(err, -ENOEXEC, "file too short for an ELF header (%zu bytes)", e->size);
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return fail(err, -ENOEXEC, "ELF class %u is not ELFCLASS32 (1) or ELFCLASS64 (2)",
			    id[EI_CLASS]);
	e->is64 = id[EI_CLASS] == ELFCLASS64;
	ehsize = e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (e->size < ehsize)
		return fail(err, -ENOEXEC, "file too short for an ELF%d header (%zu bytes, need %zu)",
			    e->is64 ? 64 : 32, e->size, ehsize);
	if (id[EI_DATA] != ELFDATA2LSB)
		return fail(err, -ENOEXEC, "ELF data encoding %u is not little-endian (ELFDATA2LSB)",
			    id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return fail(err, -ENOEXEC, "ELF ident version %u is not EV_CURRENT (1)", id[EI_VERSION]);
	return 0;
}

/* Validate the ELF header; on success *PHOFF and *PHNUM describe a program header table that
 * lies inside the file and *ENTRY is e_entry. */
static int parse_ehdr(struct elf *e, uint64_t *phoff, unsigned *phnum, uint64_t *entry,
		      struct kvmbox_error *err)
{
	uint16_t type, machine, phentsize, want_machine;
	uint32_t version;
	size_t want_phentsize;
	uint64_t table;
	int rc = parse_ident(e, err);

	if (rc < 0)
		return rc;
	if (e->is64) {
		Elf64_Ehdr h;

		memcpy(&h, e->data, sizeof(h));
		type = h.e_type, machine = h.e_machine, version = h.e_version;
		phentsize = h.e_phentsize, *phnum = h.e_phnum, *phoff = h.e_phoff, *entry = h.e_entry;
	} else {
		Elf32_Ehdr h;

		memcpy(&h, e->data, sizeof(h));
		type = h.e_type, machine = h.e_machine, version = h.e_version;
		phentsize = h.e_phentsize, *phnum = h.e_phnum, *phoff = h.e_phoff, *entry = h.e_entry;
	}

	if (version != EV_CURRENT)
		return fail(err, -ENOEXEC, "ELF e_version %" PRIu32 " is not EV_CURRENT (1)", version);
	want_machine = e->is64 ? EM_X86_64 : EM_386;
	if (machine != want_machine)
		return fail(err, -ENOEXEC, "ELF%d machine %s (%u) is not %s", e->is64 ? 64 : 32,
			    machine_name(machine) ? machine_name(machine) : "unknown", machine,
			    machine_name(want_machine));
	if (type == ET_DYN)
		return fail(err, -ENOEXEC, "ELF type ET_DYN (position-independent) is not supported: "
			    "link a fixed-address executable (-static -no-pie)");
	if (type == ET_REL)
		return fail(err, -ENOEXEC, "an object file (ELF type ET_REL), not an executable: link "
			    "it (docs/sdk.md: gcc hello.o $(pkg-config --libs kvmbox-guest-MODE))");
	if (type != ET_EXEC)
		return fail(err, -ENOEXEC, "ELF type %u is not an executable (ET_EXEC)", type);

	want_phentsize = e->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (phentsize != want_phentsize)
		return fail(err, -ENOEXEC, "ELF e_phentsize %u is not %zu", phentsize, want_phentsize);
	if (*phnum == 0)
		return fail(err, -ENOEXEC, "ELF file has no program headers (e_phnum 0)");
	if (*phnum == PN_XNUM)
		return fail(err, -ENOEXEC, "ELF e_phnum 0xffff (PN_XNUM extended numbering) is not supported");
	/* phnum < 2^16 and phentsize <= 56: the product fits; only the sum can overflow. */
	table = (uint64_t)*phnum * phentsize;
	if (!in_file(e, *phoff, table))
		return fail(err, -ENOEXEC,
			    "program header table 0x%" PRIx64 "+0x%" PRIx64 " (%u entries) extends past "
			    "end of file (0x%zx bytes)", *phoff, table, *phnum, e->size);
	return 0;
}

/* Check one PT_LOAD header and, when it occupies memory, append it to IMG. *TOTAL sums memsz. */
static int add_load(const struct elf *e, unsigned i, const struct phdr *ph, struct kvmbox_image *img,
		    unsigned *xmask, uint64_t *total, struct kvmbox_error *err)
{
	uint64_t end;
	struct kvmbox_segment *s;

	if (ph->filesz > ph->memsz)
		return fail(err, -ENOEXEC,
			    "segment %u: p_filesz 0x%" PRIx64 " is larger than p_memsz 0x%" PRIx64, i,
			    ph->filesz, ph->memsz);
	if (ph->memsz == 0)
		return 0; /* occupies nothing: skipped */
	if (ph->filesz && !in_file(e, ph->offset, ph->filesz))
		return fail(err, -ENOEXEC,
			    "segment %u: file range 0x%" PRIx64 "+0x%" PRIx64 " extends past end of file "
			    "(0x%zx bytes)", i, ph->offset, ph->filesz, e->size);
	/* p_paddr is where the bytes go. Guest memory is identity-mapped in every kvmbox mode
	 * (paging modes map linear == physical), so the link-time virtual address must equal it:
	 * a different p_vaddr (a higher-half kernel linked with AT()) needs page tables kvmbox
	 * does not build, and e_entry (virtual) would not be where the code is. */
	if (ph->vaddr != ph->paddr)
		return fail(err, -ENOEXEC,
			    "segment %u: p_vaddr 0x%" PRIx64 " differs from p_paddr 0x%" PRIx64
			    " (kvmbox maps guest memory 1:1; link with vaddr == paddr)", i, ph->vaddr,
			    ph->paddr);
	if (__builtin_add_overflow(ph->paddr, ph->memsz, &end) || end > ADDR_LIMIT)
		return fail(err, -ENOEXEC,
			    "segment %u: address range 0x%" PRIx64 "+0x%" PRIx64 " ends above 4 GiB", i,
			    ph->paddr, ph->memsz);
	/* Each memsz is below 4 GiB here and there are at most 16 segments: no overflow. */
	*total += ph->memsz;
	if (*total > KVMBOX_IMAGE_MAX_SIZE)
		return fail(err, -ENOEXEC,
			    "segment %u: p_memsz 0x%" PRIx64 " brings the segments to 0x%" PRIx64
			    " bytes in total, more than 0x%llx (1 GiB)", i, ph->memsz, *total,
			    KVMBOX_IMAGE_MAX_SIZE);
	if (img->nsegments == KVMBOX_IMAGE_MAX_SEGMENTS)
		return fail(err, -ENOEXEC, "segment %u: more than %d non-empty PT_LOAD segments", i,
			    KVMBOX_IMAGE_MAX_SEGMENTS);
	for (unsigned k = 0; k < img->nsegments; k++) {
		const struct kvmbox_segment *o = &img->segments[k];

		if (ph->paddr < o->gpa + o->memsz && o->gpa < end)
			return fail(err, -ENOEXEC,
				    "segment %u: range 0x%" PRIx64 "-0x%" PRIx64 " overlaps an earlier "
				    "segment at 0x%" PRIx64 "-0x%" PRIx64, i, ph->paddr, end, o->gpa,
				    o->gpa + o->memsz);
	}
	if (ph->flags & PF_X)
		*xmask |= 1u << img->nsegments;
	s = &img->segments[img->nsegments++];
	s->gpa = ph->paddr;
	s->filesz = ph->filesz;
	s->memsz = ph->memsz;
	s->offset = ph->filesz ? ph->offset : 0;
	return 0;
}

static int parse_elf(struct kvmbox_image *img, struct elf *e, struct kvmbox_error *err)
{
	uint64_t phoff = 0, entry = 0, total = 0;
	unsigned phnum = 0, xmask = 0;
	bool seen = false;
	int rc;

	rc = parse_ehdr(e, &phoff, &phnum, &entry, err);
	if (rc)
		return rc;
	img->format = e->is64 ? KVMBOX_IMAGE_ELF64 : KVMBOX_IMAGE_ELF32;
	img->mode = e->is64 ? KVMBOX_MODE_LONG : KVMBOX_MODE_PROTECTED;

	for (unsigned i = 0; i < phnum; i++) {
		struct phdr ph;

		read_phdr(e, phoff, i, &ph);
		switch (ph.type) {
		case PT_LOAD:
			rc = add_load(e, i, &ph, img, &xmask, &total, err);
			break;
		case PT_NOTE:
			if (ph.filesz == 0)
				break;
			if (!in_file(e, ph.offset, ph.filesz))
				return fail(err, -ENOEXEC,
					    "segment %u: note range 0x%" PRIx64 "+0x%" PRIx64 " extends past "
					    "end of file (0x%zx bytes)", i, ph.offset, ph.filesz, e->size);
			rc = parse_notes(e, i, &ph, img, &seen, err);
			break;
		case PT_INTERP:
		case PT_DYNAMIC:
			return fail(err, -ENOEXEC, "segment %u: %s: dynamically linked images are not "
				    "supported (link with -static)", i,
				    ph.type == PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC");
		default:
			break; /* PT_NULL, PT_PHDR, PT_GNU_STACK ...: nothing to load */
		}
		if (rc)
			return rc;
	}
	if (img->nsegments == 0)
		return fail(err, -ENOEXEC, "no loadable segment (no PT_LOAD with p_memsz > 0)");

	/* The entry must be code the file provides: inside the file bytes of a PF_X segment
	 * (an entry in zero-filled memory or in data is always a link error). */
	for (unsigned k = 0; k < img->nsegments; k++) {
		const struct kvmbox_segment *s = &img->segments[k];

		if ((xmask & (1u << k)) && entry >= s->gpa && entry - s->gpa < s->filesz) {
			img->entry = entry;
			return check_exports(e, img, xmask, err);
		}
	}
	return fail(err, -ENOEXEC,
		    "entry point 0x%" PRIx64 " is not inside the file bytes of an executable (PF_X) "
		    "PT_LOAD segment", entry);
}

static int parse_flat(struct kvmbox_image *img, gpa_t load_addr, gva_t entry, struct kvmbox_error *err)
{
	uint64_t end;

	if (__builtin_add_overflow(load_addr, (uint64_t)img->size, &end) || end > ADDR_LIMIT)
		return fail(err, -ENOEXEC,
			    "flat image 0x%" PRIx64 "+0x%zx ends above 4 GiB", load_addr, img->size);
	if (entry < load_addr || entry >= end)
		return fail(err, -ENOEXEC,
			    "flat image: entry 0x%" PRIx64 " is outside the image 0x%" PRIx64 "-0x%" PRIx64,
			    entry, load_addr, end);
	img->format = KVMBOX_IMAGE_FLAT;
	img->mode = KVMBOX_MODE_AUTO;
	img->entry = entry;
	img->nsegments = 1;
	img->segments[0] = (struct kvmbox_segment){ .gpa = load_addr, .filesz = img->size,
						    .memsz = img->size, .offset = 0 };
	return 0;
}

int kvmbox_image_parse(struct kvmbox_image *img, const void *data, size_t size, bool flat,
		       gpa_t load_addr, gva_t entry, struct kvmbox_error *err)
{
	struct elf e = { .data = data, .size = size };
	int rc;

	if (!img)
		return fail(err, -EINVAL, "kvmbox_image_parse: no image to fill (img is NULL)");
	memset(img, 0, sizeof(*img));
	if (!data && size)
		return fail(err, -EINVAL, "kvmbox_image_parse: data is NULL but size is %zu", size);
	/* Checked before any byte is read: SIZE bounds every later access. */
	if (size == 0)
		return fail(err, -ENOEXEC, "empty image (0 bytes)");
	if (size > KVMBOX_IMAGE_MAX_SIZE)
		return fail(err, -ENOEXEC, "image too large (%zu bytes, at most %llu)", size,
			    KVMBOX_IMAGE_MAX_SIZE);
	img->data = data;
	img->size = size;

	rc = flat ? parse_flat(img, load_addr, entry, err) : parse_elf(img, &e, err);
	if (rc)
		memset(img, 0, sizeof(*img));
	return rc;
}
