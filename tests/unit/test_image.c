/* Unit tests for kvmbox_image_parse and kvmbox_image_read_file: valid ELF32/ELF64/flat images
 * built in memory, one test per refusal, every truncation of a valid image, and a seeded
 * mutation fuzz.
 * Every parse reads from a heap copy of exactly the given size so ASan catches any over-read. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvmbox/abi.h"
#include "kvmbox/kvmbox.h"

/* ---- A small ELF builder -------------------------------------------------------------- */

#define CAP 8192
#define MAXPH 24

struct seg_spec {
	uint32_t type, flags;
	uint64_t addr;   /* p_vaddr == p_paddr */
	uint64_t filesz; /* bytes of content placed in the file (pattern, or BYTES) */
	uint64_t memsz;
	uint64_t align;  /* p_align; 0 means 4 */
	const uint8_t *bytes; /* content (notes); NULL: a pattern */
};

struct spec {
	bool is64;
	uint64_t entry;
	unsigned n;
	struct seg_spec seg[MAXPH];
};

struct built {
	uint8_t buf[CAP];
	size_t size;
	bool is64;
	uint64_t phoff;
};

enum ph_field { PH_TYPE, PH_FLAGS, PH_OFFSET, PH_VADDR, PH_PADDR, PH_FILESZ, PH_MEMSZ, PH_ALIGN };
enum eh_field { EH_TYPE, EH_MACHINE, EH_VERSION, EH_ENTRY, EH_PHOFF, EH_PHENTSIZE, EH_PHNUM };

static void put(struct built *b, uint64_t off, const void *src, size_t len)
{
	assert_true(off + len <= CAP);
	memcpy(b->buf + off, src, len);
}

static void build(struct built *b, const struct spec *s)
{
	size_t ehsize = s->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = s->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t pos = ehsize + (uint64_t)s->n * phsize;

	memset(b, 0, sizeof(*b));
	b->is64 = s->is64;
	b->phoff = ehsize;
	for (unsigned i = 0; i < s->n; i++) {
		const struct seg_spec *g = &s->seg[i];
		uint64_t off = g->filesz ? (pos + 15) & ~15ull : 0;

		if (g->filesz) {
			assert_true(off + g->filesz <= CAP);
			if (g->bytes)
				memcpy(b->buf + off, g->bytes, g->filesz);
			else
				for (uint64_t k = 0; k < g->filesz; k++)
					b->buf[off + k] = (uint8_t)(0x90 + i + k);
			pos = off + g->filesz;
		}
		if (s->is64) {
			Elf64_Phdr p = { .p_type = g->type, .p_flags = g->flags, .p_offset = off,
					 .p_vaddr = g->addr, .p_paddr = g->addr, .p_filesz = g->filesz,
					 .p_memsz = g->memsz, .p_align = g->align ? g->align : 4 };
			put(b, ehsize + i * phsize, &p, sizeof(p));
		} else {
			Elf32_Phdr p = { .p_type = g->type, .p_flags = g->flags, .p_offset = (uint32_t)off,
					 .p_vaddr = (uint32_t)g->addr, .p_paddr = (uint32_t)g->addr,
					 .p_filesz = (uint32_t)g->filesz, .p_memsz = (uint32_t)g->memsz,
					 .p_align = g->align ? (uint32_t)g->align : 4 };
			put(b, ehsize + i * phsize, &p, sizeof(p));
		}
	}
	b->size = pos;
	if (s->is64) {
		Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
				 .e_entry = s->entry, .e_phoff = ehsize, .e_ehsize = (uint16_t)ehsize,
				 .e_phentsize = (uint16_t)phsize, .e_phnum = (uint16_t)s->n };
		memcpy(h.e_ident, ELFMAG, SELFMAG);
		h.e_ident[EI_CLASS] = ELFCLASS64;
		h.e_ident[EI_DATA] = ELFDATA2LSB;
		h.e_ident[EI_VERSION] = EV_CURRENT;
		put(b, 0, &h, sizeof(h));
	} else {
		Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
				 .e_entry = (uint32_t)s->entry, .e_phoff = (uint32_t)ehsize,
				 .e_ehsize = (uint16_t)ehsize, .e_phentsize = (uint16_t)phsize,
				 .e_phnum = (uint16_t)s->n };
		memcpy(h.e_ident, ELFMAG, SELFMAG);
		h.e_ident[EI_CLASS] = ELFCLASS32;
		h.e_ident[EI_DATA] = ELFDATA2LSB;
		h.e_ident[EI_VERSION] = EV_CURRENT;
		put(b, 0, &h, sizeof(h));
	}
}

/* Overwrite one program header field of a built image (width follows the class). */
static void ph_set(struct built *b, unsigned i, enum ph_field f, uint64_t v)
{
	if (b->is64) {
		Elf64_Phdr p;
		uint64_t off = b->phoff + i * sizeof(p);

		memcpy(&p, b->buf + off, sizeof(p));
		switch (f) {
		case PH_TYPE: p.p_type = (uint32_t)v; break;
		case PH_FLAGS: p.p_flags = (uint32_t)v; break;
		case PH_OFFSET: p.p_offset = v; break;
		case PH_VADDR: p.p_vaddr = v; break;
		case PH_PADDR: p.p_paddr = v; break;
		case PH_FILESZ: p.p_filesz = v; break;
		case PH_MEMSZ: p.p_memsz = v; break;
		case PH_ALIGN: p.p_align = v; break;
		}
		memcpy(b->buf + off, &p, sizeof(p));
	} else {
		Elf32_Phdr p;
		uint64_t off = b->phoff + i * sizeof(p);

		assert_true(v <= UINT32_MAX);
		memcpy(&p, b->buf + off, sizeof(p));
		switch (f) {
		case PH_TYPE: p.p_type = (uint32_t)v; break;
		case PH_FLAGS: p.p_flags = (uint32_t)v; break;
		case PH_OFFSET: p.p_offset = (uint32_t)v; break;
		case PH_VADDR: p.p_vaddr = (uint32_t)v; break;
		case PH_PADDR: p.p_paddr = (uint32_t)v; break;
		case PH_FILESZ: p.p_filesz = (uint32_t)v; break;
		case PH_MEMSZ: p.p_memsz = (uint32_t)v; break;
		case PH_ALIGN: p.p_align = (uint32_t)v; break;
		}
		memcpy(b->buf + off, &p, sizeof(p));
	}
}

static void ph_addr(struct built *b, unsigned i, uint64_t addr)
{
	ph_set(b, i, PH_VADDR, addr);
	ph_set(b, i, PH_PADDR, addr);
}

static void eh_set(struct built *b, enum eh_field f, uint64_t v)
{
	if (b->is64) {
		Elf64_Ehdr h;

		memcpy(&h, b->buf, sizeof(h));
		switch (f) {
		case EH_TYPE: h.e_type = (uint16_t)v; break;
		case EH_MACHINE: h.e_machine = (uint16_t)v; break;
		case EH_VERSION: h.e_version = (uint32_t)v; break;
		case EH_ENTRY: h.e_entry = v; break;
		case EH_PHOFF: h.e_phoff = v; break;
		case EH_PHENTSIZE: h.e_phentsize = (uint16_t)v; break;
		case EH_PHNUM: h.e_phnum = (uint16_t)v; break;
		}
		memcpy(b->buf, &h, sizeof(h));
	} else {
		Elf32_Ehdr h;

		memcpy(&h, b->buf, sizeof(h));
		switch (f) {
		case EH_TYPE: h.e_type = (uint16_t)v; break;
		case EH_MACHINE: h.e_machine = (uint16_t)v; break;
		case EH_VERSION: h.e_version = (uint32_t)v; break;
		case EH_ENTRY: h.e_entry = (uint32_t)v; break;
		case EH_PHOFF: h.e_phoff = (uint32_t)v; break;
		case EH_PHENTSIZE: h.e_phentsize = (uint16_t)v; break;
		case EH_PHNUM: h.e_phnum = (uint16_t)v; break;
		}
		memcpy(b->buf, &h, sizeof(h));
	}
}

/* Append one note (owner, type, descriptor) to OUT, padded to ALIGN; returns its size. */
static size_t note(uint8_t *out, const char *owner, uint32_t type, const void *desc, uint32_t descsz,
		   uint32_t align)
{
	uint32_t namesz = (uint32_t)strlen(owner) + 1;
	size_t pos = 12;

	memcpy(out, &namesz, 4);
	memcpy(out + 4, &descsz, 4);
	memcpy(out + 8, &type, 4);
	memset(out + pos, 0, ((namesz + align - 1) & ~(align - 1)) + ((descsz + align - 1) & ~(align - 1)));
	memcpy(out + pos, owner, namesz);
	pos = (pos + namesz + align - 1) & ~(size_t)(align - 1);
	memcpy(out + pos, desc, descsz);
	pos = (pos + descsz + align - 1) & ~(size_t)(align - 1);
	return pos;
}

static uint8_t mode_note[64];

/* The standard valid image: text (R+X) at 0x1000, an optional note, data (RW, with bss) at
 * 0x3000, a PT_GNU_STACK. Program header indexes: 0 text, 1 note/GNU_STACK, 2 data, 3 stack.
 * MODE_VALUE 0: the note is not a kvmbox note (a GNU one, ignored). */
static void std_spec(struct spec *s, bool is64, uint32_t mode_value)
{
	uint8_t gnu_desc[16] = { 1, 2, 3 };
	size_t nlen;

	if (mode_value)
		nlen = note(mode_note, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &mode_value, 4, 4);
	else
		nlen = note(mode_note, "GNU", 3 /* NT_GNU_BUILD_ID */, gnu_desc, sizeof(gnu_desc), 4);
	*s = (struct spec){
		.is64 = is64,
		.entry = 0x1010,
		.n = 4,
		.seg = {
			{ .type = PT_LOAD, .flags = PF_R | PF_X, .addr = 0x1000, .filesz = 0x40, .memsz = 0x40 },
			{ .type = PT_NOTE, .flags = PF_R, .filesz = nlen, .memsz = nlen, .bytes = mode_note },
			{ .type = PT_LOAD, .flags = PF_R | PF_W, .addr = 0x3000, .filesz = 0x20, .memsz = 0x100 },
			{ .type = PT_GNU_STACK, .flags = PF_R | PF_W },
		},
	};
}

static void std_image(struct built *b, bool is64, uint32_t mode_value)
{
	struct spec s;

	std_spec(&s, is64, mode_value);
	build(b, &s);
}

/* ---- Parse helpers -------------------------------------------------------------------- */

/* Parse a heap copy of exactly SIZE bytes (so ASan sees any over-read). */
static int parse(const void *data, size_t size, bool flat, kvmbox_gpa_t load, kvmbox_gva_t entry,
		 struct kvmbox_image *img, struct kvmbox_error *err)
{
	uint8_t *copy = malloc(size ? size : 1);
	int rc;

	assert_non_null(copy);
	if (size)
		memcpy(copy, data, size);
	memset(err->msg, 0, sizeof(err->msg));
	rc = kvmbox_image_parse(img, copy, size, flat, load, entry, err);
	free(copy);
	/* img->data points into the freed copy: tests only read the parsed fields. */
	return rc;
}

static void check_msg(const struct kvmbox_error *err)
{
	assert_true(err->msg[0] != '\0');
	assert_null(strchr(err->msg, '\n'));
	if (getenv("KVMBOX_TEST_VERBOSE"))
		print_message("    msg: %s\n", err->msg);
}

static void expect_fail_buf(const void *data, size_t size, const char *needle)
{
	struct kvmbox_image img;
	struct kvmbox_error err;
	int rc = parse(data, size, false, 0, 0, &img, &err);

	if (rc != -ENOEXEC || !strstr(err.msg, needle))
		print_error("rc %d msg \"%s\", wanted -ENOEXEC and \"%s\"\n", rc, err.msg, needle);
	assert_int_equal(rc, -ENOEXEC);
	check_msg(&err);
	assert_non_null(strstr(err.msg, needle));
	assert_int_equal(img.nsegments, 0); /* a failed parse leaves the image zeroed */
}

static void expect_fail(const struct built *b, const char *needle)
{
	expect_fail_buf(b->buf, b->size, needle);
}

static void expect_ok(const struct built *b, struct kvmbox_image *img)
{
	struct kvmbox_error err;
	int rc = parse(b->buf, b->size, false, 0, 0, img, &err);

	if (rc)
		print_error("unexpected failure: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

/* ---- Valid images --------------------------------------------------------------------- */

static void check_std(const struct kvmbox_image *img, const struct built *b)
{
	assert_int_equal(img->size, b->size);
	assert_int_equal(img->entry, 0x1010);
	assert_int_equal(img->nsegments, 2);
	assert_int_equal(img->segments[0].gpa, 0x1000);
	assert_int_equal(img->segments[0].filesz, 0x40);
	assert_int_equal(img->segments[0].memsz, 0x40);
	assert_int_equal(img->segments[1].gpa, 0x3000);
	assert_int_equal(img->segments[1].filesz, 0x20);
	assert_int_equal(img->segments[1].memsz, 0x100);
	/* The offsets point at the bytes the builder wrote for each segment. */
	assert_int_equal(b->buf[img->segments[0].offset], 0x90);
	assert_int_equal(b->buf[img->segments[0].offset + 0x3f], (uint8_t)(0x90 + 0x3f));
	assert_int_equal(b->buf[img->segments[1].offset], 0x92);
}

static void test_elf64_valid(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	std_image(&b, true, 0);
	expect_ok(&b, &img);
	assert_int_equal(img.format, KVMBOX_IMAGE_ELF64);
	assert_int_equal(img.mode, KVMBOX_MODE_LONG);
	check_std(&img, &b);
}

static void test_elf32_valid(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	std_image(&b, false, 0);
	expect_ok(&b, &img);
	assert_int_equal(img.format, KVMBOX_IMAGE_ELF32);
	assert_int_equal(img.mode, KVMBOX_MODE_PROTECTED);
	check_std(&img, &b);
}

static void test_note_modes(void **state)
{
	static const struct { bool is64; uint32_t value; enum kvmbox_mode mode; } ok[] = {
		{ false, KVMBOX_NOTE_MODE_REAL, KVMBOX_MODE_REAL },
		{ false, KVMBOX_NOTE_MODE_PROTECTED, KVMBOX_MODE_PROTECTED },
		{ false, KVMBOX_NOTE_MODE_PAGED32, KVMBOX_MODE_PAGED32 },
		{ true, KVMBOX_NOTE_MODE_LONG, KVMBOX_MODE_LONG },
	};
	struct built b;
	struct kvmbox_image img;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		std_image(&b, ok[i].is64, ok[i].value);
		expect_ok(&b, &img);
		assert_int_equal(img.mode, ok[i].mode);
		check_std(&img, &b);
	}
}

static void test_note_inconsistent(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, false, KVMBOX_NOTE_MODE_LONG);
	expect_fail(&b, "segment 1: kvmbox mode note asks for long mode in an ELF32 image");
	std_image(&b, true, KVMBOX_NOTE_MODE_REAL);
	expect_fail(&b, "asks for real mode in an ELF64 image");
	std_image(&b, true, KVMBOX_NOTE_MODE_PROTECTED);
	expect_fail(&b, "asks for protected mode in an ELF64 image");
	std_image(&b, true, KVMBOX_NOTE_MODE_PAGED32);
	expect_fail(&b, "asks for paged32 mode in an ELF64 image");
}

static void test_note_unknown_value(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, false, 9);
	expect_fail(&b, "segment 1: kvmbox mode note has unknown mode value 9");
	std_image(&b, true, 0xffffffff);
	expect_fail(&b, "unknown mode value 4294967295");
}

/* A note segment built from raw bytes in place of the standard one. */
static void note_image(struct built *b, bool is64, const uint8_t *notes, size_t len, uint64_t align)
{
	struct spec s;

	std_spec(&s, is64, 0);
	s.seg[1].bytes = notes;
	s.seg[1].filesz = s.seg[1].memsz = len;
	s.seg[1].align = align;
	build(b, &s);
}

static void test_note_bad_descsz(void **state)
{
	uint8_t n[64];
	uint64_t v = KVMBOX_NOTE_MODE_REAL;
	struct built b;

	(void)state;
	note_image(&b, false, n, note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 8, 4), 4);
	expect_fail(&b, "segment 1: kvmbox mode note has a 8-byte descriptor (expected 4)");
	note_image(&b, false, n, note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 0, 4), 4);
	expect_fail(&b, "has a 0-byte descriptor");
}

static void test_note_other_owner_or_type_ignored(void **state)
{
	uint8_t n[128];
	uint32_t v = KVMBOX_NOTE_MODE_REAL;
	size_t len = 0;
	struct built b;
	struct kvmbox_image img;

	(void)state;
	/* "kvmbo" (a prefix), "kvmboxx" (longer), a kvmbox note of another type: all ignored. */
	len += note(n + len, "kvmbo", KVMBOX_NOTE_MODE, &v, 4, 4);
	len += note(n + len, "kvmboxx", KVMBOX_NOTE_MODE, &v, 4, 4);
	len += note(n + len, KVMBOX_NOTE_NAME, 77, &v, 4, 4);
	note_image(&b, false, n, len, 4);
	expect_ok(&b, &img);
	assert_int_equal(img.mode, KVMBOX_MODE_PROTECTED);
	/* ... and a real mode note after them is found. */
	len += note(n + len, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 4, 4);
	note_image(&b, false, n, len, 4);
	expect_ok(&b, &img);
	assert_int_equal(img.mode, KVMBOX_MODE_REAL);
}

/* The guard note: 1 asks for the NULL guard, 0 and no note do not; anything else is refused. */
static void test_note_guard(void **state)
{
	uint8_t n[128];
	uint32_t on = 1, off = 0, bad = 7;
	uint64_t wide = 1;
	struct built b;
	struct kvmbox_image img;

	(void)state;
	note_image(&b, false, n, note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_GUARD_NULL, &on, 4, 4), 4);
	expect_ok(&b, &img);
	assert_true(img.guard_null);
	note_image(&b, false, n, note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_GUARD_NULL, &off, 4, 4), 4);
	expect_ok(&b, &img);
	assert_false(img.guard_null);
	note_image(&b, false, n, note(n, "kvmbo", KVMBOX_NOTE_GUARD_NULL, &on, 4, 4), 4);
	expect_ok(&b, &img);
	assert_false(img.guard_null);
	note_image(&b, false, n, note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_GUARD_NULL, &bad, 4, 4), 4);
	expect_fail(&b, "segment 1: kvmbox guard note has value 7 (0: no guard, 1: guard page 0)");
	note_image(&b, false, n, note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_GUARD_NULL, &wide, 8, 4), 4);
	expect_fail(&b, "segment 1: kvmbox guard note has a 8-byte descriptor (expected 4)");
}

static void test_note_duplicates(void **state)
{
	uint8_t n[128];
	uint32_t real = KVMBOX_NOTE_MODE_REAL, prot = KVMBOX_NOTE_MODE_PROTECTED;
	size_t len;
	struct built b;
	struct kvmbox_image img;

	(void)state;
	len = note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &real, 4, 4);
	len += note(n + len, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &real, 4, 4);
	note_image(&b, false, n, len, 4);
	expect_ok(&b, &img);
	assert_int_equal(img.mode, KVMBOX_MODE_REAL);

	len = note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &real, 4, 4);
	len += note(n + len, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &prot, 4, 4);
	note_image(&b, false, n, len, 4);
	expect_fail(&b, "segment 1: kvmbox mode notes disagree (real, then protected)");
}

static void test_note_align8(void **state)
{
	uint8_t n[128];
	uint32_t v = KVMBOX_NOTE_MODE_LONG;
	uint8_t prop[12] = { 0 };
	size_t len;
	struct built b;
	struct kvmbox_image img;

	(void)state;
	/* A GNU property note (8-aligned, as in .note.gnu.property) before the kvmbox note:
	 * with p_align 8 the descriptor padding is to 8, and the walk must still find it. */
	len = note(n, "GNU", 5 /* NT_GNU_PROPERTY_TYPE_0 */, prop, sizeof(prop), 8);
	len += note(n + len, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 4, 8);
	note_image(&b, true, n, len, 8);
	expect_ok(&b, &img);
	assert_int_equal(img.mode, KVMBOX_MODE_LONG);
}

static void test_note_malformed(void **state)
{
	uint8_t n[64];
	uint32_t v = KVMBOX_NOTE_MODE_REAL, big = 0xffffffff;
	size_t len;
	struct built b;

	(void)state;
	/* namesz too large for the segment (and near 2^32: no overflow). */
	len = note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 4, 4);
	memcpy(n, &big, 4);
	note_image(&b, false, n, len, 4);
	expect_fail(&b, "segment 1: note at offset 0x0 (name 0xffffffff bytes, descriptor 0x4 bytes) "
		    "runs past the segment end (0x18 bytes)");
	/* descsz too large. */
	len = note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 4, 4);
	memcpy(n + 4, &big, 4);
	note_image(&b, false, n, len, 4);
	expect_fail(&b, "descriptor 0xffffffff bytes) runs past the segment end");
	/* descriptor one byte short of the segment. */
	len = note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 4, 4);
	note_image(&b, false, n, len - 1, 4);
	expect_fail(&b, "runs past the segment end (0x17 bytes)");
	/* trailing bytes that are not a whole note header. */
	len = note(n, KVMBOX_NOTE_NAME, KVMBOX_NOTE_MODE, &v, 4, 4);
	memset(n + len, 0, 5);
	note_image(&b, false, n, len + 5, 4);
	expect_fail(&b, "segment 1: note at offset 0x18 is truncated (0x5 bytes left, a note header "
		    "needs 12)");
}

static void test_note_outside_file(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, KVMBOX_NOTE_MODE_LONG);
	ph_set(&b, 1, PH_OFFSET, b.size - 4);
	expect_fail(&b, "segment 1: note range 0x");
	expect_fail(&b, "extends past end of file");
	ph_set(&b, 1, PH_OFFSET, UINT64_MAX - 4);
	expect_fail(&b, "segment 1: note range 0xfffffffffffffffb+0x18 extends past end of file");
}

static void test_memsz_zero_skipped(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	std_image(&b, true, 0);
	/* The PT_GNU_STACK slot becomes an empty PT_LOAD with a nonsense offset: skipped. */
	ph_set(&b, 3, PH_TYPE, PT_LOAD);
	ph_set(&b, 3, PH_OFFSET, UINT64_MAX);
	ph_addr(&b, 3, 0x1000);
	expect_ok(&b, &img);
	assert_int_equal(img.nsegments, 2);
}

static void test_bss_only_segment(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	std_image(&b, false, 0);
	/* filesz 0: no file bytes, so its offset does not matter. */
	ph_set(&b, 2, PH_FILESZ, 0);
	ph_set(&b, 2, PH_OFFSET, 0xfffffff0);
	expect_ok(&b, &img);
	assert_int_equal(img.nsegments, 2);
	assert_int_equal(img.segments[1].filesz, 0);
	assert_int_equal(img.segments[1].memsz, 0x100);
	assert_int_equal(img.segments[1].offset, 0);
}

static void test_max_segments(void **state)
{
	struct spec s = { .is64 = true, .entry = 0x10000 };
	struct built b;
	struct kvmbox_image img;

	(void)state;
	for (unsigned i = 0; i < KVMBOX_IMAGE_MAX_SEGMENTS; i++)
		s.seg[s.n++] = (struct seg_spec){ .type = PT_LOAD, .flags = PF_R | PF_X,
						  .addr = 0x10000 + i * 0x1000, .filesz = 0x10, .memsz = 0x10 };
	build(&b, &s);
	expect_ok(&b, &img);
	assert_int_equal(img.nsegments, KVMBOX_IMAGE_MAX_SEGMENTS);
	assert_int_equal(img.segments[15].gpa, 0x1f000);

	s.seg[s.n++] = (struct seg_spec){ .type = PT_LOAD, .flags = PF_R, .addr = 0x80000,
					  .filesz = 0x10, .memsz = 0x10 };
	build(&b, &s);
	expect_fail(&b, "segment 16: more than 16 non-empty PT_LOAD segments");
}

/* ---- Malformed headers ---------------------------------------------------------------- */

static void test_not_elf(void **state)
{
	static const uint8_t text[] = "#!/bin/sh\necho hi\n";
	static const uint8_t almost[] = { 0x7f, 'E', 'L' };
	const char *msg = "not an ELF file (use --load ADDR for a flat binary)";
	struct kvmbox_image img;
	struct kvmbox_error err;

	(void)state;
	expect_fail_buf(text, sizeof(text), msg);
	expect_fail_buf(almost, sizeof(almost), msg);
	expect_fail_buf("\x7f" "ELG", 4, msg);
	assert_int_equal(parse(text, sizeof(text), false, 0, 0, &img, &err), -ENOEXEC);
	assert_string_equal(err.msg, msg);
	expect_fail_buf(text, 0, "empty image (0 bytes)");
}

static void test_short_header(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	expect_fail_buf(b.buf, 10, "file too short for an ELF header (10 bytes)");
	expect_fail_buf(b.buf, 63, "file too short for an ELF64 header (63 bytes, need 64)");
	std_image(&b, false, 0);
	expect_fail_buf(b.buf, 51, "file too short for an ELF32 header (51 bytes, need 52)");
}

static void test_bad_ident(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	b.buf[EI_CLASS] = ELFCLASSNONE;
	expect_fail(&b, "ELF class 0 is not ELFCLASS32 (1) or ELFCLASS64 (2)");
	b.buf[EI_CLASS] = 3;
	expect_fail(&b, "ELF class 3 is not");
	std_image(&b, true, 0);
	b.buf[EI_DATA] = ELFDATA2MSB;
	expect_fail(&b, "ELF data encoding 2 is not little-endian (ELFDATA2LSB)");
	b.buf[EI_DATA] = ELFDATANONE;
	expect_fail(&b, "ELF data encoding 0 is not little-endian");
	std_image(&b, false, 0);
	b.buf[EI_VERSION] = 0;
	expect_fail(&b, "ELF ident version 0 is not EV_CURRENT (1)");
	std_image(&b, false, 0);
	eh_set(&b, EH_VERSION, 2);
	expect_fail(&b, "ELF e_version 2 is not EV_CURRENT (1)");
}

static void test_bad_machine(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	eh_set(&b, EH_MACHINE, EM_386);
	expect_fail(&b, "ELF64 machine i386 (3) is not x86-64");
	eh_set(&b, EH_MACHINE, EM_AARCH64);
	expect_fail(&b, "ELF64 machine AArch64 (183) is not x86-64");
	eh_set(&b, EH_MACHINE, 4242);
	expect_fail(&b, "ELF64 machine unknown (4242) is not x86-64");
	std_image(&b, false, 0);
	eh_set(&b, EH_MACHINE, EM_X86_64); /* x32 */
	expect_fail(&b, "ELF32 machine x86-64 (62) is not i386");
}

static void test_bad_type(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	eh_set(&b, EH_TYPE, ET_DYN);
	expect_fail(&b, "ELF type ET_DYN (position-independent) is not supported: link a fixed-address "
		    "executable (-static -no-pie)");
	eh_set(&b, EH_TYPE, ET_REL);
	expect_fail(&b, "an object file (ELF type ET_REL), not an executable: link it");
	eh_set(&b, EH_TYPE, ET_CORE);
	expect_fail(&b, "ELF type 4 is not an executable (ET_EXEC)");
	eh_set(&b, EH_TYPE, ET_NONE);
	expect_fail(&b, "ELF type 0 is not an executable");
}

static void test_bad_phentsize(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	eh_set(&b, EH_PHENTSIZE, sizeof(Elf32_Phdr));
	expect_fail(&b, "ELF e_phentsize 32 is not 56");
	std_image(&b, false, 0);
	eh_set(&b, EH_PHENTSIZE, sizeof(Elf64_Phdr));
	expect_fail(&b, "ELF e_phentsize 56 is not 32");
	eh_set(&b, EH_PHENTSIZE, 0);
	expect_fail(&b, "ELF e_phentsize 0 is not 32");
}

static void test_bad_phtable(void **state)
{
	struct built b;
	char want[128];

	(void)state;
	std_image(&b, true, 0);
	eh_set(&b, EH_PHNUM, 0);
	expect_fail(&b, "ELF file has no program headers (e_phnum 0)");
	eh_set(&b, EH_PHNUM, PN_XNUM);
	expect_fail(&b, "ELF e_phnum 0xffff (PN_XNUM extended numbering) is not supported");
	std_image(&b, true, 0);
	eh_set(&b, EH_PHOFF, b.size);
	snprintf(want, sizeof(want), "program header table 0x%zx+0xe0 (4 entries) extends past end of file "
		 "(0x%zx bytes)", b.size, b.size);
	expect_fail(&b, want);
	eh_set(&b, EH_PHOFF, UINT64_MAX - 8); /* phoff + table overflows */
	expect_fail(&b, "program header table 0xfffffffffffffff7+0xe0 (4 entries) extends past end");
	std_image(&b, true, 0);
	eh_set(&b, EH_PHNUM, 200);
	expect_fail(&b, "program header table 0x40+0x2bc0 (200 entries) extends past end of file");
	std_image(&b, false, 0);
	eh_set(&b, EH_PHOFF, 0xffffffff);
	expect_fail(&b, "program header table 0xffffffff+0x80 (4 entries) extends past end of file");
}

static void test_no_load(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	ph_set(&b, 0, PH_TYPE, PT_NULL);
	ph_set(&b, 2, PH_TYPE, PT_NULL);
	expect_fail(&b, "no loadable segment (no PT_LOAD with p_memsz > 0)");
	std_image(&b, false, 0);
	ph_set(&b, 0, PH_FILESZ, 0);
	ph_set(&b, 0, PH_MEMSZ, 0);
	ph_set(&b, 2, PH_FILESZ, 0);
	ph_set(&b, 2, PH_MEMSZ, 0);
	expect_fail(&b, "no loadable segment");
}

static void test_dynamic(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	ph_set(&b, 3, PH_TYPE, PT_INTERP);
	expect_fail(&b, "segment 3: PT_INTERP: dynamically linked images are not supported (link with -static)");
	ph_set(&b, 3, PH_TYPE, PT_DYNAMIC);
	expect_fail(&b, "segment 3: PT_DYNAMIC: dynamically linked");
}

/* ---- Malformed segments --------------------------------------------------------------- */

static void test_filesz_gt_memsz(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	ph_set(&b, 2, PH_MEMSZ, 0x10);
	expect_fail(&b, "segment 2: p_filesz 0x20 is larger than p_memsz 0x10");
	ph_set(&b, 2, PH_MEMSZ, 0); /* even a zero-sized segment must not claim file bytes */
	expect_fail(&b, "segment 2: p_filesz 0x20 is larger than p_memsz 0x0");
}

static void test_file_range(void **state)
{
	struct built b;
	char want[160];

	(void)state;
	std_image(&b, true, 0);
	ph_set(&b, 2, PH_OFFSET, 0x1000);
	ph_set(&b, 2, PH_FILESZ, 0x50);
	snprintf(want, sizeof(want),
		 "segment 2: file range 0x1000+0x50 extends past end of file (0x%zx bytes)", b.size);
	expect_fail(&b, want);
	/* One byte past the end. */
	std_image(&b, false, 0);
	ph_set(&b, 2, PH_FILESZ, 0x21);
	expect_fail(&b, "segment 2: file range");
	/* offset + filesz overflows. */
	std_image(&b, true, 0);
	ph_set(&b, 0, PH_OFFSET, UINT64_MAX - 0x10);
	expect_fail(&b, "segment 0: file range 0xffffffffffffffef+0x40 extends past end of file");
}

static void test_vaddr_ne_paddr(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	ph_set(&b, 0, PH_VADDR, 0xffffffff80001000ull);
	expect_fail(&b, "segment 0: p_vaddr 0xffffffff80001000 differs from p_paddr 0x1000 (kvmbox maps "
		    "guest memory 1:1; link with vaddr == paddr)");
}

static void test_address_range(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	/* ELF32: 32-bit fields, but the sum passes 4 GiB. */
	std_image(&b, false, 0);
	ph_addr(&b, 2, 0xfffff000);
	ph_set(&b, 2, PH_MEMSZ, 0x2000);
	expect_fail(&b, "segment 2: address range 0xfffff000+0x2000 ends above 4 GiB");
	/* Ending exactly at 4 GiB is fine. */
	ph_set(&b, 2, PH_MEMSZ, 0x1000);
	expect_ok(&b, &img);
	assert_int_equal(img.segments[1].gpa, 0xfffff000);
	/* ELF64: the sum overflows 64 bits. */
	std_image(&b, true, 0);
	ph_addr(&b, 2, 0xfffffffffffff000ull);
	ph_set(&b, 2, PH_MEMSZ, 0x2000);
	expect_fail(&b, "segment 2: address range 0xfffffffffffff000+0x2000 ends above 4 GiB");
	/* ELF64 above 4 GiB without overflow. */
	ph_addr(&b, 2, 0x100000000ull);
	ph_set(&b, 2, PH_MEMSZ, 0x100);
	expect_fail(&b, "segment 2: address range 0x100000000+0x100 ends above 4 GiB");
}

static void test_absurd_size(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, 0);
	ph_set(&b, 2, PH_MEMSZ, KVMBOX_IMAGE_MAX_SIZE + 1);
	expect_fail(&b, "segment 2: p_memsz 0x40000001 brings the segments to 0x40000041 bytes in total, "
		    "more than 0x40000000 (1 GiB)");
	/* Two segments that each fit but together do not. */
	std_image(&b, false, 0);
	ph_addr(&b, 0, 0x1000);
	ph_set(&b, 0, PH_MEMSZ, 0x30000000);
	ph_addr(&b, 2, 0x40000000);
	ph_set(&b, 2, PH_MEMSZ, 0x30000000);
	expect_fail(&b, "segment 2: p_memsz 0x30000000 brings the segments to 0x60000000 bytes");
}

static void test_overlap(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	std_image(&b, true, 0);
	ph_addr(&b, 2, 0x1020);
	expect_fail(&b, "segment 2: range 0x1020-0x1120 overlaps an earlier segment at 0x1000-0x1040");
	ph_addr(&b, 2, 0x0f80); /* ends inside the text */
	expect_fail(&b, "segment 2: range 0xf80-0x1080 overlaps an earlier segment at 0x1000-0x1040");
	ph_addr(&b, 2, 0x0f00); /* contains the text */
	ph_set(&b, 2, PH_MEMSZ, 0x1000);
	expect_fail(&b, "overlaps an earlier segment");
	ph_addr(&b, 2, 0x1040); /* adjacent is fine */
	ph_set(&b, 2, PH_MEMSZ, 0x100);
	expect_ok(&b, &img);
	ph_addr(&b, 2, 0x0f00); /* adjacent below */
	expect_ok(&b, &img);
}

static void test_entry(void **state)
{
	struct built b;
	struct kvmbox_image img;

	(void)state;
	std_image(&b, true, 0);
	eh_set(&b, EH_ENTRY, 0x9000);
	expect_fail(&b, "entry point 0x9000 is not inside the file bytes of an executable (PF_X) PT_LOAD segment");
	eh_set(&b, EH_ENTRY, 0x3000); /* data, not executable */
	expect_fail(&b, "entry point 0x3000 is not inside");
	eh_set(&b, EH_ENTRY, 0x1040); /* one past the text */
	expect_fail(&b, "entry point 0x1040 is not inside");
	eh_set(&b, EH_ENTRY, 0xfff);
	expect_fail(&b, "entry point 0xfff is not inside");
	/* In the zero-filled part of an executable segment. */
	std_image(&b, false, 0);
	ph_set(&b, 0, PH_MEMSZ, 0x80);
	eh_set(&b, EH_ENTRY, 0x1050);
	expect_fail(&b, "entry point 0x1050 is not inside");
	/* Data made executable: now fine. */
	std_image(&b, false, 0);
	ph_set(&b, 2, PH_FLAGS, PF_R | PF_X);
	eh_set(&b, EH_ENTRY, 0x301f);
	expect_ok(&b, &img);
	assert_int_equal(img.entry, 0x301f);
}

static void test_image_too_large(void **state)
{
	struct built b;
	struct kvmbox_image img;
	struct kvmbox_error err;
	int rc;

	(void)state;
	std_image(&b, true, 0);
	/* The size check comes before any byte is read, so a small buffer with a large claimed
	 * size is safe here (no heap copy: it would be 1 GiB). */
	rc = kvmbox_image_parse(&img, b.buf, (size_t)KVMBOX_IMAGE_MAX_SIZE + 1, false, 0, 0, &err);
	assert_int_equal(rc, -ENOEXEC);
	check_msg(&err);
	assert_string_equal(err.msg, "image too large (1073741825 bytes, at most 1073741824)");
	rc = kvmbox_image_parse(&img, b.buf, (size_t)KVMBOX_IMAGE_MAX_SIZE + 1, true, 0, 0, &err);
	assert_int_equal(rc, -ENOEXEC);
}

static void test_bad_args(void **state)
{
	struct built b;
	struct kvmbox_image img;
	struct kvmbox_error err;

	(void)state;
	std_image(&b, true, 0);
	assert_int_equal(kvmbox_image_parse(NULL, b.buf, b.size, false, 0, 0, &err), -EINVAL);
	check_msg(&err);
	assert_int_equal(kvmbox_image_parse(&img, NULL, 10, false, 0, 0, &err), -EINVAL);
	check_msg(&err);
	/* err may be NULL, on success and on failure. */
	assert_int_equal(kvmbox_image_parse(NULL, b.buf, b.size, false, 0, 0, NULL), -EINVAL);
	assert_int_equal(kvmbox_image_parse(&img, b.buf, b.size, false, 0, 0, NULL), 0);
	assert_int_equal(kvmbox_image_parse(&img, b.buf, 5, false, 0, 0, NULL), -ENOEXEC);
	/* NULL data with size 0 is just an empty image. */
	assert_int_equal(kvmbox_image_parse(&img, NULL, 0, false, 0, 0, &err), -ENOEXEC);
	assert_string_equal(err.msg, "empty image (0 bytes)");
}

/* ---- Truncation and fuzz -------------------------------------------------------------- */

/* Invariants of a successful parse of an image of SIZE bytes. */
static void check_parsed(const struct kvmbox_image *img, size_t size)
{
	bool entry_ok = false;

	assert_true(img->nsegments >= 1 && img->nsegments <= KVMBOX_IMAGE_MAX_SEGMENTS);
	if (img->format == KVMBOX_IMAGE_ELF64)
		assert_int_equal(img->mode, KVMBOX_MODE_LONG);
	else
		assert_true(img->format == KVMBOX_IMAGE_ELF32 && img->mode >= KVMBOX_MODE_REAL &&
			    img->mode <= KVMBOX_MODE_PAGED32);
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct kvmbox_segment *s = &img->segments[i];

		assert_true(s->memsz > 0 && s->filesz <= s->memsz);
		assert_true(s->offset <= size && s->filesz <= size - s->offset);
		assert_true(s->gpa + s->memsz <= (1ull << 32));
		if (img->entry >= s->gpa && img->entry < s->gpa + s->filesz)
			entry_ok = true;
		for (unsigned k = 0; k < i; k++) {
			const struct kvmbox_segment *o = &img->segments[k];

			assert_false(s->gpa < o->gpa + o->memsz && o->gpa < s->gpa + s->memsz);
		}
	}
	assert_true(entry_ok);
}

static void truncate_all(const struct built *b)
{
	for (size_t len = 0; len <= b->size; len++) {
		struct kvmbox_image img;
		struct kvmbox_error err;
		int rc = parse(b->buf, len, false, 0, 0, &img, &err);

		if (len == b->size) {
			assert_int_equal(rc, 0);
			check_parsed(&img, len);
		} else {
			if (rc != -ENOEXEC)
				print_error("truncated to %zu of %zu bytes: rc %d\n", len, b->size, rc);
			assert_int_equal(rc, -ENOEXEC);
			assert_true(err.msg[0] != '\0' && !strchr(err.msg, '\n'));
		}
	}
}

static void test_truncate(void **state)
{
	struct built b;

	(void)state;
	std_image(&b, true, KVMBOX_NOTE_MODE_LONG);
	truncate_all(&b);
	std_image(&b, false, KVMBOX_NOTE_MODE_REAL);
	truncate_all(&b);
	std_image(&b, false, 0);
	truncate_all(&b);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic for a fixed seed, no libc state. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void fuzz(const struct built *orig, uint64_t seed, unsigned rounds, unsigned *oks)
{
	static const uint64_t magic[] = { 0, 1, 4, 7, 8, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000,
					  0xffffffff, 0xfffffffffffffff0ull, UINT64_MAX };
	uint64_t rs = seed;

	for (unsigned r = 0; r < rounds; r++) {
		struct built b = *orig;
		unsigned n = 1 + rng_next(&rs) % 4;
		size_t len = b.size;
		struct kvmbox_image img;
		struct kvmbox_error err;
		int rc;

		for (unsigned k = 0; k < n; k++) {
			uint64_t x = rng_next(&rs);
			/* Mostly the headers and notes (where the parser looks), sometimes anywhere. */
			size_t span = (x & 3) ? (b.size < 256 ? b.size : 256) : b.size;
			size_t pos = (x >> 8) % span;

			switch ((x >> 4) % 4) {
			case 0: /* flip a bit */
				b.buf[pos] ^= (uint8_t)(1u << ((x >> 40) % 8));
				break;
			case 1: /* random byte */
				b.buf[pos] = (uint8_t)(x >> 48);
				break;
			case 2: { /* an interesting value, 1/2/4/8 bytes wide */
				uint64_t v = magic[(x >> 40) % (sizeof(magic) / sizeof(magic[0]))];
				size_t w = (size_t)1 << ((x >> 56) % 4);

				if (pos + w <= b.size)
					memcpy(b.buf + pos, &v, w);
				break;
			}
			default: /* change the length */
				len = (x >> 32) % (b.size + 1);
				break;
			}
		}
		rc = parse(b.buf, len, false, 0, 0, &img, &err);
		assert_true(rc == 0 || rc == -ENOEXEC);
		if (rc == 0) {
			check_parsed(&img, len);
			++*oks;
		} else {
			assert_true(err.msg[0] != '\0' && !strchr(err.msg, '\n'));
		}
	}
}

static void test_fuzz(void **state)
{
	struct built b;
	unsigned oks = 0;

	(void)state;
	std_image(&b, true, KVMBOX_NOTE_MODE_LONG);
	fuzz(&b, 0x6b766d626f7864ull, 4000, &oks);
	std_image(&b, false, KVMBOX_NOTE_MODE_REAL);
	fuzz(&b, 0x1234567887654321ull, 4000, &oks);
	/* Sanity: the mutations are not all fatal (the fuzz reaches the deep checks). */
	assert_true(oks > 100);
	if (getenv("KVMBOX_TEST_VERBOSE"))
		print_message("    fuzz: %u of 8000 mutants parsed\n", oks);
}

/* ---- Flat images ---------------------------------------------------------------------- */

static void test_flat(void **state)
{
	static const uint8_t code[] = { 0xb0, 'H', 0xe6, 0xe9, 0xf4 };
	struct kvmbox_image img;
	struct kvmbox_error err;
	struct built b;

	(void)state;
	assert_int_equal(parse(code, sizeof(code), true, 0, 0, &img, &err), 0);
	assert_int_equal(img.format, KVMBOX_IMAGE_FLAT);
	assert_int_equal(img.mode, KVMBOX_MODE_AUTO);
	assert_int_equal(img.entry, 0);
	assert_int_equal(img.nsegments, 1);
	assert_int_equal(img.segments[0].gpa, 0);
	assert_int_equal(img.segments[0].filesz, sizeof(code));
	assert_int_equal(img.segments[0].memsz, sizeof(code));
	assert_int_equal(img.segments[0].offset, 0);

	assert_int_equal(parse(code, sizeof(code), true, 0x7c00, 0x7c04, &img, &err), 0);
	assert_int_equal(img.segments[0].gpa, 0x7c00);
	assert_int_equal(img.entry, 0x7c04);

	/* An ELF file loaded flat is taken as bytes: the caller asked for it. */
	std_image(&b, true, 0);
	assert_int_equal(parse(b.buf, b.size, true, 0x1000, 0x1000, &img, &err), 0);
	assert_int_equal(img.format, KVMBOX_IMAGE_FLAT);
	assert_int_equal(img.segments[0].filesz, b.size);
}

static void test_flat_bad(void **state)
{
	static const uint8_t code[0x200] = { 0xf4 };
	struct kvmbox_image img;
	struct kvmbox_error err;

	(void)state;
	assert_int_equal(parse(code, 0, true, 0, 0, &img, &err), -ENOEXEC);
	check_msg(&err);
	assert_string_equal(err.msg, "empty image (0 bytes)");
	assert_int_equal(parse(code, sizeof(code), true, 0xffffffffffffff00ull, 0xffffffffffffff00ull,
			       &img, &err), -ENOEXEC);
	check_msg(&err);
	assert_string_equal(err.msg, "flat image 0xffffffffffffff00+0x200 ends above 4 GiB");
	assert_int_equal(parse(code, sizeof(code), true, 0xffffff00, 0xffffff00, &img, &err), -ENOEXEC);
	assert_string_equal(err.msg, "flat image 0xffffff00+0x200 ends above 4 GiB");
	assert_int_equal(parse(code, 0x100, true, 0xffffff00, 0xffffff00, &img, &err), 0);
	assert_int_equal(parse(code, sizeof(code), true, 0x1000, 0x1200, &img, &err), -ENOEXEC);
	check_msg(&err);
	assert_string_equal(err.msg, "flat image: entry 0x1200 is outside the image 0x1000-0x1200");
	assert_int_equal(parse(code, sizeof(code), true, 0x1000, 0xfff, &img, &err), -ENOEXEC);
	assert_int_equal(img.nsegments, 0);
}

/* ---- kvmbox_image_read_file ----------------------------------------------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/kvmbox-test-image.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	if (t->path[0])
		unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void test_file_directory(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	uint8_t *data = (uint8_t *)1;
	size_t size = 1;
	char want[128];

	assert_int_equal(kvmbox_image_read_file(t->dir, &data, &size, &err), -EISDIR);
	check_msg(&err);
	snprintf(want, sizeof(want), "%s: is a directory, not an image file", t->dir);
	assert_string_equal(err.msg, want);
	assert_null(data);
	assert_int_equal(size, 0);
}

static void test_file_missing(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	uint8_t *data;
	size_t size;
	char want[160];

	snprintf(t->path, sizeof(t->path), "%s/missing.elf", t->dir);
	assert_int_equal(kvmbox_image_read_file(t->path, &data, &size, &err), -ENOENT);
	check_msg(&err);
	snprintf(want, sizeof(want), "%s: No such file or directory", t->path);
	assert_string_equal(err.msg, want);
	assert_null(data);
	assert_int_equal(kvmbox_image_read_file(t->path, &data, &size, NULL), -ENOENT);
	t->path[0] = '\0';
}

static void test_file_empty(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	struct kvmbox_image img;
	uint8_t *data;
	size_t size;

	snprintf(t->path, sizeof(t->path), "%s/empty.elf", t->dir);
	write_file(t->path, "", 0);
	assert_int_equal(kvmbox_image_read_file(t->path, &data, &size, &err), 0);
	assert_non_null(data);
	assert_int_equal(size, 0);
	/* The parser, not the reader, refuses it. */
	assert_int_equal(kvmbox_image_parse(&img, data, size, false, 0, 0, &err), -ENOEXEC);
	assert_string_equal(err.msg, "empty image (0 bytes)");
	free(data);
}

static void test_file_roundtrip(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	struct kvmbox_image img;
	struct built b;
	uint8_t *data;
	size_t size;

	std_image(&b, true, KVMBOX_NOTE_MODE_LONG);
	snprintf(t->path, sizeof(t->path), "%s/good.elf", t->dir);
	write_file(t->path, b.buf, b.size);
	assert_int_equal(kvmbox_image_read_file(t->path, &data, &size, &err), 0);
	assert_int_equal(size, b.size);
	assert_memory_equal(data, b.buf, b.size);
	assert_int_equal(kvmbox_image_parse(&img, data, size, false, 0, 0, &err), 0);
	assert_ptr_equal(img.data, data);
	check_std(&img, &b);
	free(data);
}

static void test_file_too_large(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	uint8_t *data;
	size_t size;
	char want[200];
	int fd;

	snprintf(t->path, sizeof(t->path), "%s/huge.bin", t->dir);
	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)KVMBOX_IMAGE_MAX_SIZE + 1), 0); /* sparse */
	close(fd);
	assert_int_equal(kvmbox_image_read_file(t->path, &data, &size, &err), -EFBIG);
	check_msg(&err);
	snprintf(want, sizeof(want), "%s: file too large (1073741825 bytes, at most 1073741824)", t->path);
	assert_string_equal(err.msg, want);
	assert_null(data);
}

static void test_file_not_regular(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	uint8_t *data;
	size_t size;
	char want[160];

	assert_int_equal(kvmbox_image_read_file("/dev/null", &data, &size, &err), -EINVAL);
	check_msg(&err);
	assert_string_equal(err.msg, "/dev/null: not a regular file");
	/* A FIFO without a writer: refused, not waited on. */
	snprintf(t->path, sizeof(t->path), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(t->path, 0600), 0);
	assert_int_equal(kvmbox_image_read_file(t->path, &data, &size, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", t->path);
	assert_string_equal(err.msg, want);
	assert_null(data);
}

/* kvmbox_image_read_file as the unprivileged user 65534 in a child (root reads mode-000
 * files): its return value and message come back through a pipe. */
static int read_unprivileged(const char *path, struct kvmbox_error *err)
{
	struct { int ret; struct kvmbox_error err; } out = { -EIO, { "" } };
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *data = NULL;
		size_t size;

		close(fds[0]);
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
				       setresuid(65534, 65534, 65534) < 0))
			_exit(1);
		out.ret = kvmbox_image_read_file(path, &data, &size, &out.err);
		free(data);
		_exit(write(fds[1], &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &out, sizeof(out)), (ssize_t)sizeof(out));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	*err = out.err;
	return out.ret;
}

static void test_file_unreadable(void **state)
{
	struct tmp *t = *state;
	struct kvmbox_error err;
	char want[160];

	snprintf(t->path, sizeof(t->path), "%s/secret.elf", t->dir);
	write_file(t->path, "x", 1);
	assert_int_equal(chmod(t->path, 0), 0);
	assert_int_equal(read_unprivileged(t->path, &err), -EACCES);
	snprintf(want, sizeof(want), "%s: Permission denied", t->path);
	assert_string_equal(err.msg, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf64_valid),
		cmocka_unit_test(test_elf32_valid),
		cmocka_unit_test(test_note_modes),
		cmocka_unit_test(test_note_inconsistent),
		cmocka_unit_test(test_note_unknown_value),
		cmocka_unit_test(test_note_bad_descsz),
		cmocka_unit_test(test_note_other_owner_or_type_ignored),
		cmocka_unit_test(test_note_duplicates),
		cmocka_unit_test(test_note_guard),
		cmocka_unit_test(test_note_align8),
		cmocka_unit_test(test_note_malformed),
		cmocka_unit_test(test_note_outside_file),
		cmocka_unit_test(test_memsz_zero_skipped),
		cmocka_unit_test(test_bss_only_segment),
		cmocka_unit_test(test_max_segments),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_short_header),
		cmocka_unit_test(test_bad_ident),
		cmocka_unit_test(test_bad_machine),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_bad_phentsize),
		cmocka_unit_test(test_bad_phtable),
		cmocka_unit_test(test_no_load),
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_filesz_gt_memsz),
		cmocka_unit_test(test_file_range),
		cmocka_unit_test(test_vaddr_ne_paddr),
		cmocka_unit_test(test_address_range),
		cmocka_unit_test(test_absurd_size),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_image_too_large),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_flat_bad),
		cmocka_unit_test_setup_teardown(test_file_directory, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_missing, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_empty, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_roundtrip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_too_large, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_not_regular, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_unreadable, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
