/* The snapshot file format (snap_file.h, docs/snapshot.md): building the metadata of a file
 * and checking every byte of one. All integers are little-endian, as on every host kvmbox
 * runs on (x86-64); the vCPU sections are the Linux KVM API's own structures, whose layout is
 * fixed by the kernel's ABI. Checksums are zlib's CRC-32: they find a file damaged on disk or
 * on the way, not a forged one (a forger recomputes them), so every field is checked as if
 * hostile all the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "base/util.h"
#include "snap/snap_file.h"

/* Header fields (SNAP_HEADER_SIZE bytes at offset 0). */
#define H_MAGIC 0
#define H_VERSION 8
#define H_HEADER_SIZE 12
#define H_NSECTIONS 16
#define H_FLAGS 20
#define H_FILE_SIZE 24
#define H_WRITER 32
#define H_TABLE_CRC 48
#define H_RESERVED 52
#define H_CRC 60

/* A table entry (SNAP_ENTRY_SIZE bytes each, right after the header). */
struct entry {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
	uint32_t crc;
	uint32_t reserved;
};
_Static_assert(sizeof(struct entry) == SNAP_ENTRY_SIZE, "snapshot table entry layout");

#define PAGE_BYTES 4096u

uint32_t snap_crc(uint32_t crc, const void *p, size_t len)
{
	/* zlib's length is a uInt: feed it in pieces that fit. */
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p = (const uint8_t *)p + n;
		len -= n;
	}
	return crc;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static const char *const section_names[SNAP_SEC_TYPES] = {
	[SNAP_SEC_VM] = "VM", [SNAP_SEC_CPUID] = "CPUID", [SNAP_SEC_REGS] = "REGS",
	[SNAP_SEC_SREGS] = "SREGS", [SNAP_SEC_EVENTS] = "EVENTS", [SNAP_SEC_XCRS] = "XCRS",
	[SNAP_SEC_XSAVE] = "XSAVE", [SNAP_SEC_MSRS] = "MSRS", [SNAP_SEC_DEBUGREGS] = "DEBUGREGS",
	[SNAP_SEC_MP_STATE] = "MP_STATE", [SNAP_SEC_STATS] = "STATS", [SNAP_SEC_FEATURE] = "FEATURE",
	[SNAP_SEC_PAGES] = "PAGES", [SNAP_SEC_MEMORY] = "MEMORY",
};

const char *snap_section_name(uint32_t type, char *buf, size_t len)
{
	if (type < SNAP_SEC_TYPES && section_names[type])
		return section_names[type];
	snprintf(buf, len, "of type %u", type);
	return buf;
}

/* ---- Statistics ------------------------------------------------------------------------ */

/* The counters a snapshot keeps, in the STATS section's order. guest_ns and last_run_end_ns
 * are this process's clock and mean nothing to another: a restore starts them at 0. */
void snap_stats_pack(const struct kvmbox_stats *s, uint64_t *w)
{
	size_t n = 0;

	w[n++] = s->exits;
	for (unsigned r = 0; r < KVMBOX_EXIT_REASONS; r++)
		w[n++] = s->by_reason[r];
	w[n++] = s->io_in;
	w[n++] = s->io_out;
	w[n++] = s->hypercalls;
	w[n++] = s->bad_calls;
	w[n++] = s->console_bytes;
	w[n++] = s->console_dropped;
	w[n++] = s->coalesced_bytes;
	w[n++] = s->runs;
	w[n++] = s->snapshots;
}

void snap_stats_unpack(const uint64_t *w, struct kvmbox_stats *s)
{
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	s->exits = w[n++];
	for (unsigned r = 0; r < KVMBOX_EXIT_REASONS; r++)
		s->by_reason[r] = w[n++];
	s->io_in = w[n++];
	s->io_out = w[n++];
	s->hypercalls = w[n++];
	s->bad_calls = w[n++];
	s->console_bytes = w[n++];
	s->console_dropped = w[n++];
	s->coalesced_bytes = w[n++];
	s->runs = w[n++];
	s->snapshots = w[n++];
}

/* ---- Building --------------------------------------------------------------------------- */

/* One section's bytes before they are laid out: a head (fixed part) and a body. */
struct piece {
	uint32_t type;
	const void *head;
	size_t head_len;
	const void *body;
	size_t body_len;
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int snap_file_build(struct snap_file *f, uint8_t **bufp, size_t *lenp, struct kvmbox_error *err)
{
	struct piece p[SNAP_SECTIONS_MAX];
	uint8_t cpuid_head[8] = { 0 }, msrs_head[8] = { 0 }, pages_head[8];
	uint8_t names[SNAP_SECTIONS_MAX][SNAP_FEATURE_NAME];
	uint64_t stats[SNAP_STATS_WORDS];
	size_t n = 0, off, meta, total;
	uint8_t *buf;

	if (f->nfeatures > SNAP_SECTIONS_MAX - 14 || f->ncpuid > SNAP_CPUID_MAX ||
	    f->nmsrs > SNAP_MSRS_MAX || f->xsave_size > SNAP_XSAVE_MAX)
		return set_error(err, E2BIG, "snapshot: more state than the format holds");
	put32(cpuid_head, f->ncpuid);
	put32(msrs_head, f->nmsrs);
	put64(pages_head, f->nruns);
	memcpy(stats, f->stats, sizeof(stats));
#define PIECE(t, h, hl, b, bl) p[n++] = (struct piece){ t, h, hl, b, bl }
	PIECE(SNAP_SEC_VM, &f->vm, sizeof(f->vm), NULL, 0);
	PIECE(SNAP_SEC_CPUID, cpuid_head, 8, f->cpuid, (size_t)f->ncpuid * sizeof(*f->cpuid));
	PIECE(SNAP_SEC_REGS, &f->regs, sizeof(f->regs), NULL, 0);
	PIECE(SNAP_SEC_SREGS, &f->sregs, sizeof(f->sregs), NULL, 0);
	PIECE(SNAP_SEC_EVENTS, &f->events, sizeof(f->events), NULL, 0);
	PIECE(SNAP_SEC_XCRS, &f->xcrs, sizeof(f->xcrs), NULL, 0);
	PIECE(SNAP_SEC_XSAVE, f->xsave, f->xsave_size, NULL, 0);
	PIECE(SNAP_SEC_MSRS, msrs_head, 8, f->msrs, (size_t)f->nmsrs * sizeof(*f->msrs));
	PIECE(SNAP_SEC_DEBUGREGS, &f->debugregs, sizeof(f->debugregs), NULL, 0);
	PIECE(SNAP_SEC_MP_STATE, &f->mp_state, sizeof(f->mp_state), NULL, 0);
	PIECE(SNAP_SEC_STATS, stats, sizeof(stats), NULL, 0);
	for (uint32_t i = 0; i < f->nfeatures; i++) {
		memset(names[i], 0, SNAP_FEATURE_NAME);
		memcpy(names[i], f->features[i].name, strnlen(f->features[i].name, SNAP_FEATURE_NAME));
		if (f->features[i].len > SNAP_FEATURE_MAX)
			return set_error(err, E2BIG, "snapshot: feature %s keeps more than %u bytes",
					 f->features[i].name, SNAP_FEATURE_MAX);
		PIECE(SNAP_SEC_FEATURE, names[i], SNAP_FEATURE_NAME, f->features[i].data,
		      f->features[i].len);
	}
	PIECE(SNAP_SEC_PAGES, pages_head, 8, f->runs, (size_t)f->nruns * sizeof(*f->runs));
#undef PIECE
	/* Sections 8-byte aligned after the table; the pages on a page boundary after them,
	 * so that a restore maps them straight from the file. */
	off = SNAP_HEADER_SIZE + (n + 1) * SNAP_ENTRY_SIZE;
	for (size_t i = 0; i < n; i++)
		off = align_up(off, 8) + p[i].head_len + p[i].body_len;
	meta = off;
	if (meta > SNAP_META_MAX)
		return set_error(err, E2BIG, "snapshot: %zu bytes of state, the format holds %u",
				 meta, SNAP_META_MAX);
	f->mem_offset = align_up(meta, PAGE_BYTES);
	total = (size_t)f->mem_offset;
	f->file_size = f->mem_offset + f->pages * PAGE_BYTES;
	buf = calloc(1, total);
	if (!buf)
		return set_error(err, ENOMEM, "snapshot: out of memory");
	off = SNAP_HEADER_SIZE + (n + 1) * SNAP_ENTRY_SIZE;
	for (size_t i = 0; i <= n; i++) {
		uint8_t *e = buf + SNAP_HEADER_SIZE + i * SNAP_ENTRY_SIZE;
		struct entry en = { 0 };

		if (i == n) { /* the pages: their CRC is the caller's */
			en = (struct entry){ .type = SNAP_SEC_MEMORY, .offset = f->mem_offset,
					     .size = f->pages * PAGE_BYTES, .crc = f->mem_crc };
		} else {
			off = align_up(off, 8);
			en.type = p[i].type;
			en.offset = off;
			en.size = p[i].head_len + p[i].body_len;
			if (p[i].head_len)
				memcpy(buf + off, p[i].head, p[i].head_len);
			if (p[i].body_len)
				memcpy(buf + off + p[i].head_len, p[i].body, p[i].body_len);
			en.crc = snap_crc(0, buf + off, (size_t)en.size);
			off += (size_t)en.size;
		}
		memcpy(e, &en, sizeof(en));
	}
	memcpy(buf + H_MAGIC, SNAP_MAGIC, 8);
	put32(buf + H_VERSION, SNAP_VERSION);
	put32(buf + H_HEADER_SIZE, SNAP_HEADER_SIZE);
	put32(buf + H_NSECTIONS, (uint32_t)(n + 1));
	put64(buf + H_FILE_SIZE, f->file_size);
	strncpy((char *)buf + H_WRITER, KVMBOX_VERSION, 16);
	put32(buf + H_TABLE_CRC, snap_crc(0, buf + SNAP_HEADER_SIZE, (n + 1) * SNAP_ENTRY_SIZE));
	put32(buf + H_CRC, snap_crc(0, buf, H_CRC));
	*bufp = buf;
	*lenp = total;
	return 0;
}

/* ---- Checking --------------------------------------------------------------------------- */

/* Every refusal: -ENOEXEC and one line starting "not a valid snapshot: " or a clearer word. */
#define bad(err, ...) set_error(err, ENOEXEC, __VA_ARGS__)

/* The header's 16-byte writer field (the kvmbox version that wrote the file) as a printable,
 * NUL-terminated string: the file's words, filtered as every outside string is. */
static void writer_of(const uint8_t *head, char out[17])
{
	memcpy(out, head + H_WRITER, 16);
	out[16] = 0;
	text_printable(out, 17, out);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* The header and table of HEAD (LEN bytes, the start of a file of FILE_SIZE bytes): checked,
 * the entries copied into E (N of them). */
static int check_head(const uint8_t *head, size_t len, uint64_t file_size, struct entry *e,
		      uint32_t *n, struct kvmbox_error *err)
{
	uint32_t version, nsec;
	uint64_t said;
	char writer[17];

	if (file_size < 8 || len < 8 || memcmp(head + H_MAGIC, SNAP_MAGIC, 8))
		return bad(err, "not a kvmbox snapshot (no \"" SNAP_MAGIC "\" at its start)");
	if (len < SNAP_HEADER_SIZE)
		return bad(err, "truncated: %zu bytes, shorter than a snapshot's header", len);
	version = get32(head + H_VERSION);
	writer_of(head, writer);
	if (version != SNAP_VERSION)
		return bad(err, "snapshot format version %u (written by kvmbox %s); this kvmbox (%s) "
			   "reads version %u only", version, writer, KVMBOX_VERSION, SNAP_VERSION);
	if (get32(head + H_CRC) != snap_crc(0, head, H_CRC))
		return bad(err, "corrupt: the header's checksum does not match");
	if (get32(head + H_HEADER_SIZE) != SNAP_HEADER_SIZE || get32(head + H_FLAGS) ||
	    !all_zero(head + H_RESERVED, H_CRC - H_RESERVED))
		return bad(err, "corrupt: header fields that version %u fixes hold other values",
			   SNAP_VERSION);
	said = get64(head + H_FILE_SIZE);
	if (said != file_size)
		return bad(err, "%s: the header says %llu bytes, the file has %llu",
			   said > file_size ? "truncated" : "corrupt", (unsigned long long)said,
			   (unsigned long long)file_size);
	nsec = get32(head + H_NSECTIONS);
	if (nsec < 1 || nsec > SNAP_SECTIONS_MAX)
		return bad(err, "corrupt: %u sections (1 ... %u)", nsec, SNAP_SECTIONS_MAX);
	if (SNAP_HEADER_SIZE + (uint64_t)nsec * SNAP_ENTRY_SIZE > len)
		return bad(err, "truncated: the section table ends past the file's end");
	if (get32(head + H_TABLE_CRC) != snap_crc(0, head + SNAP_HEADER_SIZE, nsec * SNAP_ENTRY_SIZE))
		return bad(err, "corrupt: the section table's checksum does not match");
	for (uint32_t i = 0; i < nsec; i++)
		memcpy(&e[i], head + SNAP_HEADER_SIZE + i * SNAP_ENTRY_SIZE, sizeof(e[i]));
	*n = nsec;
	return 0;
}

/* Where each section lies: inside the file, after the table, aligned, no two overlapping,
 * one of each type (FEATURE aside), the pages page-aligned and last. Sets *META_END to the
 * end of the last section before the pages. */
static int check_places(const struct entry *e, uint32_t n, uint64_t file_size,
			uint64_t *meta_end, struct kvmbox_error *err)
{
	uint64_t table_end = SNAP_HEADER_SIZE + (uint64_t)n * SNAP_ENTRY_SIZE, end = table_end;
	uint32_t order[SNAP_SECTIONS_MAX], seen = 0;
	char nb[32];

	for (uint32_t i = 0; i < n; i++) {
		const char *name = snap_section_name(e[i].type, nb, sizeof(nb));
		uint64_t last;

		if (e[i].type < 1 || e[i].type >= SNAP_SEC_TYPES)
			return bad(err, "corrupt: a section %s (this kvmbox knows 1 ... %u)", name,
				   SNAP_SEC_TYPES - 1);
		if (e[i].type != SNAP_SEC_FEATURE && (seen & (1u << e[i].type)))
			return bad(err, "corrupt: two %s sections", name);
		seen |= 1u << e[i].type;
		if (e[i].flags || e[i].reserved)
			return bad(err, "corrupt: the %s section's entry has fields set that must be 0",
				   name);
		if (e[i].offset < table_end || e[i].offset > file_size ||
		    __builtin_add_overflow(e[i].offset, e[i].size, &last))
			return bad(err, "corrupt: the %s section [%llu, +%llu) does not lie between the "
				   "section table and the file's end (%llu bytes)", name,
				   (unsigned long long)e[i].offset, (unsigned long long)e[i].size,
				   (unsigned long long)file_size);
		if (last > file_size)
			return bad(err, "truncated: the %s section ends at byte %llu, the file has %llu",
				   name, (unsigned long long)last, (unsigned long long)file_size);
		if (e[i].type == SNAP_SEC_MEMORY) {
			if (e[i].offset % PAGE_BYTES || e[i].size % PAGE_BYTES || last != file_size)
				return bad(err, "corrupt: the guest pages must lie on page boundaries at "
					   "the end of the file");
		} else if (e[i].offset % 8) {
			return bad(err, "corrupt: the %s section is not 8-byte aligned", name);
		} else if (last > end) {
			end = last;
		}
	}
	for (uint32_t t = SNAP_SEC_VM; t < SNAP_SEC_TYPES; t++)
		if (t != SNAP_SEC_FEATURE && !(seen & (1u << t)))
			return bad(err, "corrupt: no %s section", snap_section_name(t, nb, sizeof(nb)));
	/* No two sections overlap: sorted by offset, each ends where the next may begin. */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = i;

		while (k > 0 && e[order[k - 1]].offset > e[i].offset) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
	}
	for (uint32_t i = 1; i < n; i++) {
		const struct entry *a = &e[order[i - 1]], *b = &e[order[i]];

		if (a->offset + a->size > b->offset)
			return bad(err, "corrupt: the %s and %s sections overlap",
				   snap_section_name(a->type, nb, sizeof(nb)),
				   section_names[b->type]);
	}
	if (end > SNAP_META_MAX)
		return bad(err, "corrupt: %llu bytes of state before the pages, at most %u",
			   (unsigned long long)end, SNAP_META_MAX);
	*meta_end = end;
	return 0;
}

int snap_file_head(const uint8_t *head, size_t len, uint64_t file_size, size_t *meta_len,
		   struct kvmbox_error *err)
{
	struct entry e[SNAP_SECTIONS_MAX];
	uint64_t end;
	uint32_t n;
	int ret;

	ret = check_head(head, len, file_size, e, &n, err);
	if (ret == 0)
		ret = check_places(e, n, file_size, &end, err);
	if (ret == 0)
		*meta_len = (size_t)end;
	return ret;
}

/* A section's bytes, with their size checked: exactly WANT, or (VARIABLE) at least WANT. */
static int section_bytes(const uint8_t *meta, const struct entry *e, size_t want, bool variable,
			 const uint8_t **p, struct kvmbox_error *err)
{
	if (variable ? e->size < want : e->size != want)
		return bad(err, "corrupt: the %s section has %llu bytes, %s %zu",
			   section_names[e->type], (unsigned long long)e->size,
			   variable ? "fewer than" : "not", want);
	*p = meta + e->offset;
	return 0;
}

/* A section of exactly SIZE bytes, copied into DST. */
static int copy_section(const uint8_t *meta, const struct entry *e, void *dst, size_t size,
			struct kvmbox_error *err)
{
	const uint8_t *p = NULL;
	int ret = section_bytes(meta, e, size, false, &p, err);

	if (ret == 0)
		memcpy(dst, p, size);
	return ret;
}

static int parse_vm(const uint8_t *p, struct snap_file *f, struct kvmbox_error *err)
{
	struct snap_vm_rec *v = &f->vm;
	struct kvmbox_layout layout;

	memcpy(v, p, sizeof(*v));
	if (v->mode <= KVMBOX_MODE_AUTO || v->mode >= KVMBOX_MODE_COUNT)
		return bad(err, "corrupt: CPU mode %u", v->mode);
	if (kvmbox_layout_get((enum kvmbox_mode)v->mode, v->mem_size, &layout, NULL) < 0)
		return bad(err, "corrupt: %llu bytes of guest memory (a multiple of 4 KiB, %llu KiB "
			   "... %llu GiB)", (unsigned long long)v->mem_size, KVMBOX_MEM_MIN >> 10,
			   KVMBOX_MEM_MAX >> 30);
	if (v->flags & ~(uint32_t)SNAP_VM_FLAGS || v->pad0 || !all_zero(v->reserved, sizeof(v->reserved)))
		return bad(err, "corrupt: VM section fields that must be 0 are not");
	if (v->slot_base && (v->slot_base != PAGE_BYTES || v->mode != KVMBOX_MODE_PROTECTED ||
			     !(v->flags & SNAP_VM_GUARD_NULL)))
		return bad(err, "corrupt: guest memory starts at 0x%llx, which only protected mode's "
			   "NULL guard does (at 0x1000)", (unsigned long long)v->slot_base);
	if (v->reason > SNAP_AT_FORK || v->cpuid_kind > SNAP_CPUID_HOST ||
	    v->stop > KVMBOX_STOP_RETURNED || v->coalesce_left > 1u << 30)
		return bad(err, "corrupt: VM section values out of range");
	if (v->vendor[15])
		return bad(err, "corrupt: the CPU vendor string is not terminated");
	return 0;
}

/* A section of a count (u32, then u32 0) and that many ENTSIZE-byte entries, at most MAX:
 * *ENTRIES and *N. WHAT names the section, NOUN its entries, in the message. */
static int counted_section(const uint8_t *meta, const struct entry *e, uint32_t max, size_t entsize,
			   const char *what, const char *noun, const uint8_t **entries, uint32_t *n,
			   struct kvmbox_error *err)
{
	const uint8_t *p = NULL;
	int ret = section_bytes(meta, e, 8, true, &p, err);

	if (ret < 0)
		return ret;
	*n = get32(p);
	if (*n > max || get32(p + 4) || e->size != 8 + (uint64_t)*n * entsize)
		return bad(err, "corrupt: the %s section's count and size disagree (%u %s, at most "
			   "%u)", what, *n, noun, max);
	*entries = p + 8;
	return 0;
}

static int parse_cpuid(const uint8_t *meta, const struct entry *e, struct snap_file *f,
		       struct kvmbox_error *err)
{
	const uint8_t *p = NULL;
	uint32_t n;
	int ret = counted_section(meta, e, SNAP_CPUID_MAX, sizeof(*f->cpuid), "CPUID", "entries",
				  &p, &n, err);

	if (ret < 0)
		return ret;
	if ((f->vm.cpuid_kind == SNAP_CPUID_NONE) != (n == 0))
		return bad(err, "corrupt: %u CPUID entries for a VM %s", n,
			   n ? "given no CPUID table" : "given one");
	f->cpuid = (const struct kvm_cpuid_entry2 *)p;
	f->ncpuid = n;
	return 0;
}

static int parse_msrs(const uint8_t *meta, const struct entry *e, struct snap_file *f,
		      struct kvmbox_error *err)
{
	const uint8_t *p = NULL;
	uint32_t n;
	int ret = counted_section(meta, e, SNAP_MSRS_MAX, sizeof(*f->msrs), "MSRS", "MSRs", &p,
				  &n, err);

	if (ret < 0)
		return ret;
	f->msrs = (const struct kvm_msr_entry *)p;
	f->nmsrs = n;
	for (uint32_t i = 0; i < n; i++) {
		if (f->msrs[i].reserved)
			return bad(err, "corrupt: MSR entry %u has its reserved field set", i);
		for (uint32_t k = 0; k < i; k++)
			if (f->msrs[k].index == f->msrs[i].index)
				return bad(err, "corrupt: MSR 0x%x twice", f->msrs[i].index);
	}
	return 0;
}

static int parse_feature(const uint8_t *meta, const struct entry *e, struct snap_file *f,
			 struct kvmbox_error *err)
{
	struct snap_feature *ft = &f->features[f->nfeatures];
	const uint8_t *p = NULL;
	size_t len;
	int ret = section_bytes(meta, e, SNAP_FEATURE_NAME, true, &p, err);

	if (ret < 0)
		return ret;
	if (e->size - SNAP_FEATURE_NAME > SNAP_FEATURE_MAX)
		return bad(err, "corrupt: a feature section of %llu bytes, at most %u",
			   (unsigned long long)e->size, SNAP_FEATURE_NAME + SNAP_FEATURE_MAX);
	len = strnlen((const char *)p, SNAP_FEATURE_NAME);
	if (!len || len == SNAP_FEATURE_NAME || !all_zero(p + len, SNAP_FEATURE_NAME - len))
		return bad(err, "corrupt: a feature section's name is not 1 ... %u characters, "
			   "NUL-padded", SNAP_FEATURE_NAME - 1);
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return bad(err, "corrupt: a feature section's name has characters other than "
				   "a-z, 0-9 and _");
	memcpy(ft->name, p, len);
	ft->name[len] = 0;
	for (uint32_t i = 0; i < f->nfeatures; i++)
		if (!strcmp(f->features[i].name, ft->name))
			return bad(err, "corrupt: two sections for feature %s", ft->name);
	ft->data = p + SNAP_FEATURE_NAME;
	ft->len = (uint32_t)(e->size - SNAP_FEATURE_NAME);
	f->nfeatures++;
	return 0;
}

/* The page runs: sorted, apart, non-empty, inside guest memory, as many pages as the MEMORY
 * section holds. */
static int parse_pages(const uint8_t *meta, const struct entry *e, const struct entry *mem,
		       struct snap_file *f, struct kvmbox_error *err)
{
	uint64_t mem_pages = f->vm.mem_size / PAGE_BYTES, next = 0, total = 0;
	const uint8_t *p = NULL;
	uint64_t n;
	int ret = section_bytes(meta, e, 8, true, &p, err);

	if (ret < 0)
		return ret;
	n = get64(p);
	if (n > mem_pages || e->size != 8 + n * sizeof(struct snap_run))
		return bad(err, "corrupt: the PAGES section's count and size disagree (%llu runs)",
			   (unsigned long long)n);
	f->runs = (const struct snap_run *)(p + 8);
	for (uint64_t i = 0; i < n; i++) {
		const struct snap_run *r = &f->runs[i];
		uint64_t end;

		if (!r->pages || __builtin_add_overflow(r->first, r->pages, &end) || end > mem_pages)
			return bad(err, "corrupt: pages [%llu, +%llu) lie beyond the guest's %llu pages",
				   (unsigned long long)r->first, (unsigned long long)r->pages,
				   (unsigned long long)mem_pages);
		if (r->first < next)
			return bad(err, "corrupt: page runs out of order or overlapping at page %llu",
				   (unsigned long long)r->first);
		next = end;
		total += r->pages;
	}
	if (total * PAGE_BYTES != mem->size)
		return bad(err, "corrupt: the runs hold %llu pages, the MEMORY section %llu bytes",
			   (unsigned long long)total, (unsigned long long)mem->size);
	f->nruns = n;
	f->pages = total;
	f->mem_offset = mem->offset;
	f->mem_crc = mem->crc;
	return 0;
}

/* Every section but PAGES (which needs the VM section first), by type. */
static int parse_section(const uint8_t *meta, const struct entry *e, struct snap_file *f,
			 struct kvmbox_error *err)
{
	int ret = 0;

	switch (e->type) {
	case SNAP_SEC_CPUID:
		return parse_cpuid(meta, e, f, err);
	case SNAP_SEC_REGS:
		return copy_section(meta, e, &f->regs, sizeof(f->regs), err);
	case SNAP_SEC_SREGS:
		return copy_section(meta, e, &f->sregs, sizeof(f->sregs), err);
	case SNAP_SEC_EVENTS:
		return copy_section(meta, e, &f->events, sizeof(f->events), err);
	case SNAP_SEC_XCRS:
		ret = copy_section(meta, e, &f->xcrs, sizeof(f->xcrs), err);
		if (ret == 0 && f->xcrs.nr_xcrs > KVM_MAX_XCRS)
			return bad(err, "corrupt: %u extended control registers, at most %u",
				   f->xcrs.nr_xcrs, KVM_MAX_XCRS);
		return ret;
	case SNAP_SEC_XSAVE:
		if (e->size < SNAP_XSAVE_MIN || e->size > SNAP_XSAVE_MAX || e->size % 64)
			return bad(err, "corrupt: an XSAVE area of %llu bytes (%u ... %u, a multiple "
				   "of 64)", (unsigned long long)e->size, SNAP_XSAVE_MIN, SNAP_XSAVE_MAX);
		f->xsave = meta + e->offset;
		f->xsave_size = (uint32_t)e->size;
		return 0;
	case SNAP_SEC_MSRS:
		return parse_msrs(meta, e, f, err);
	case SNAP_SEC_DEBUGREGS:
		return copy_section(meta, e, &f->debugregs, sizeof(f->debugregs), err);
	case SNAP_SEC_MP_STATE:
		return copy_section(meta, e, &f->mp_state, sizeof(f->mp_state), err);
	case SNAP_SEC_STATS:
		return copy_section(meta, e, f->stats, sizeof(f->stats), err);
	case SNAP_SEC_FEATURE:
		return parse_feature(meta, e, f, err);
	default: /* VM, PAGES and MEMORY: parsed apart */
		return 0;
	}
}

int snap_file_parse(const uint8_t *meta, size_t meta_len, uint64_t file_size,
		    struct snap_file *f, struct kvmbox_error *err)
{
	struct entry e[SNAP_SECTIONS_MAX];
	const struct entry *vm = NULL, *pages = NULL, *mem = NULL;
	uint64_t end;
	uint32_t n;
	char nb[32];
	int ret;

	memset(f, 0, sizeof(*f));
	ret = check_head(meta, meta_len, file_size, e, &n, err);
	if (ret == 0)
		ret = check_places(e, n, file_size, &end, err);
	if (ret < 0)
		return ret;
	if (end > meta_len)
		return bad(err, "truncated: the state ends at byte %llu, %zu were read",
			   (unsigned long long)end, meta_len);
	writer_of(meta, f->writer);
	f->file_size = file_size;
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type != SNAP_SEC_MEMORY &&
		    snap_crc(0, meta + e[i].offset, (size_t)e[i].size) != e[i].crc)
			return bad(err, "corrupt: the %s section's checksum does not match",
				   snap_section_name(e[i].type, nb, sizeof(nb)));
		if (e[i].type == SNAP_SEC_VM)
			vm = &e[i];
		else if (e[i].type == SNAP_SEC_PAGES)
			pages = &e[i];
		else if (e[i].type == SNAP_SEC_MEMORY)
			mem = &e[i];
	}
	/* check_places saw one of each: the VM section first, the rest depends on it. */
	ret = section_bytes(meta, vm, sizeof(f->vm), false, &(const uint8_t *){ NULL }, err);
	if (ret == 0)
		ret = parse_vm(meta + vm->offset, f, err);
	for (uint32_t i = 0; i < n && ret == 0; i++)
		ret = parse_section(meta, &e[i], f, err);
	if (ret == 0)
		ret = parse_pages(meta, pages, mem, f, err);
	return ret;
}
