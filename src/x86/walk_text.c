/* The two renderings of a described walk (struct kvmbox_walk): one line of levels for fault
 * reports, and the full text of `kvmbox run --walk` (docs/page-walks.md shows both). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bits.h"
#include "walk.h"

/* Append to BUF at *POS without overrunning LEN; *POS counts the whole text, as snprintf's
 * result does, so the caller learns the length a larger buffer would need. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static const char *size_name(uint64_t size)
{
	switch (size) {
	case PAGE_SIZE_4K: return "4 KiB";
	case PAGE_SIZE_2M: return "2 MiB";
	case PAGE_SIZE_4M: return "4 MiB";
	case PAGE_SIZE_1G: return "1 GiB";
	default: return "?";
	}
}

/* Is level I the last one read and the walk did not end there with a page? */
static bool stopped_at(const struct kvmbox_walk *w, unsigned i)
{
	return !w->mapped && i + 1 == w->nlevels;
}

static void brief(const struct kvmbox_walk *w, char *buf, size_t len, size_t *pos)
{
	unsigned i;

	if (w->segment && !w->mapped && !w->nlevels && w->why) {
		put(buf, len, pos, "%s 0x%" PRIx64 ": %s 0x%" PRIx32, w->segment, w->gva, w->why,
		    w->seg_limit);
		return;
	}
	if (!w->nlevels)
		put(buf, len, pos, "paging %s", w->paging ? w->paging : "?");
	for (i = 0; i < w->nlevels; i++)
		put(buf, len, pos, "%s%s[%u]", i ? " -> " : "", w->levels[i].table, w->levels[i].index);
	if (!w->mapped)
		put(buf, len, pos, " %s", w->why ? w->why : "not mapped");
	else if (!w->in_slot)
		put(buf, len, pos, " -> 0x%" PRIx64 " outside guest memory", w->gpa);
	else
		put(buf, len, pos, " -> 0x%" PRIx64, w->gpa);
}

static void segment_line(const struct kvmbox_walk *w, char *buf, size_t len, size_t *pos)
{
	if (w->linear_given)
		put(buf, len, pos, "  segment   none: 0x%" PRIx64 " is a linear address\n", w->linear);
	else if (!w->segment)
		put(buf, len, pos, "  segment   none: 64-bit code is flat, linear = 0x%" PRIx64 "\n",
		    w->linear);
	else if (w->real_mode)
		put(buf, len, pos, "  segment   real mode: %s 0x%04x * 16 = 0x%" PRIx64 ", + 0x%" PRIx64,
		    w->segment, w->selector, w->seg_base, w->gva);
	else
		put(buf, len, pos, "  segment   %s selector 0x%04x: base 0x%" PRIx64 " + 0x%" PRIx64,
		    w->segment, w->selector, w->seg_base, w->gva);
	if (!w->segment)
		return;
	if (!w->mapped && !w->nlevels && w->why)
		put(buf, len, pos, ": %s 0x%" PRIx32 "\n", w->why, w->seg_limit);
	else
		put(buf, len, pos, " = linear 0x%" PRIx64 " (limit 0x%" PRIx32 ")\n", w->linear,
		    w->seg_limit);
}

/* "P=1 RW=1 US=1 PS=1 A=1 D=0 NX=0": the bits of SDM Vol 3A Tables 4-4 to 4-20 a learner
 * looks at; NX exists only in 8-byte entries. */
static void level_line(const struct kvmbox_walk *w, unsigned i, char *buf, size_t len, size_t *pos)
{
	const struct kvmbox_walk_level *l = &w->levels[i];
	uint64_t e = l->entry;

	char label[16];

	snprintf(label, sizeof(label), "%s[%u]", l->table, l->index);
	put(buf, len, pos, "  %-9s table 0x%" PRIx64, label, l->table_gpa);
	if (!l->read) {
		put(buf, len, pos, ": entry outside guest memory\n");
		return;
	}
	put(buf, len, pos, "  entry 0x%0*" PRIx64 "  P=%d RW=%d US=%d PS=%d A=%d D=%d", (int)l->entry_size * 2,
	    e, !!(e & PTE_P), !!(e & PTE_RW), !!(e & PTE_US), !!(e & PTE_PS), !!(e & PTE_A),
	    !!(e & PTE_D));
	if (l->entry_size == 8)
		put(buf, len, pos, " NX=%d", !!(e & PTE_NX));
	if (stopped_at(w, i))
		put(buf, len, pos, "  stop: %s\n", w->why ? w->why : "not mapped");
	else if (i + 1 == w->nlevels)
		put(buf, len, pos, "  -> %s page 0x%" PRIx64 "\n", size_name(w->page_size),
		    w->gpa & ~(w->page_size - 1));
	else
		put(buf, len, pos, "  -> %s 0x%" PRIx64 "\n", w->levels[i + 1].table,
		    w->levels[i + 1].table_gpa);
}

static void memory_lines(const struct kvmbox_walk *w, char *buf, size_t len, size_t *pos)
{
	if (!w->mapped) {
		put(buf, len, pos, "  physical  none: %s\n", w->why ? w->why : "not mapped");
		return;
	}
	put(buf, len, pos, "  physical  0x%" PRIx64 "\n", w->gpa);
	if (!w->in_slot) {
		put(buf, len, pos, "  memslot   none: 0x%" PRIx64 " lies outside guest memory\n", w->gpa);
		return;
	}
	/* HVA, not "host": a host-virtual address of the kvmbox process, which readers of a
	 * walk otherwise take for a physical one (the host-physical address is the kernel's). */
	put(buf, len, pos, "  memslot   %" PRIu32 ": guest-physical 0x%" PRIx64 "..0x%" PRIx64
	    " at HVA 0x%" PRIx64 "\n", w->slot, w->slot_gpa, w->slot_gpa + w->slot_size - 1,
	    w->slot_hva);
	put(buf, len, pos, "  HVA       0x%" PRIx64 " (host-virtual: 0x%" PRIx64 " + 0x%" PRIx64
	    ")\n", w->hva, w->slot_hva, w->gpa - w->slot_gpa);
}

static void full(const struct kvmbox_walk *w, char *buf, size_t len, size_t *pos)
{
	unsigned i;

	put(buf, len, pos, "walk 0x%" PRIx64 "\n", w->gva);
	segment_line(w, buf, len, pos);
	if (w->segment && !w->mapped && !w->nlevels && w->why) {
		put(buf, len, pos, "  physical  none: %s\n", w->why);
		return;
	}
	if (w->paging && strcmp(w->paging, "off"))
		put(buf, len, pos, "  paging    %s, CR3 0x%" PRIx64 "\n", w->paging, w->cr3);
	else
		put(buf, len, pos, "  paging    %s: physical = linear\n", w->paging ? w->paging : "?");
	for (i = 0; i < w->nlevels; i++)
		level_line(w, i, buf, len, pos);
	if (w->mapped || w->nlevels || w->why)
		memory_lines(w, buf, len, pos);
}

size_t x86_walk_format(const struct kvmbox_walk *w, bool short_form, char *buf, size_t len)
{
	size_t pos = 0;

	if (!buf)
		len = 0;
	if (len)
		buf[0] = '\0';
	if (!w)
		return 0;
	if (short_form)
		brief(w, buf, len, &pos);
	else
		full(w, buf, len, &pos);
	return pos;
}
