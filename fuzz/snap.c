/* libFuzzer target: the snapshot file's parser (src/snap/snap_file.c) and the features'
 * readers of their saved bytes (each feature's describe hook), on arbitrary bytes taken as a
 * whole file, exactly as a restore reads one: the header and table from its first 4 KiB, the
 * metadata they name, then the guest pages' checksum. Every input is parsed twice: as it is,
 * and with its checksums made right (where its table lets them be found), so that the
 * fuzzer gets past them to the checks of every field instead of stopping at a CRC-32. An
 * accepted file must keep every promise snap_file.h makes. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "snap/snap_file.h"
#include "vm/vm_features.h"
#include "fuzz.h"

#define PAGE 4096u

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Is [P, P + LEN) inside [BASE, BASE + SIZE)? */
static bool inside(const void *p, size_t len, const uint8_t *base, size_t size)
{
	const uint8_t *b = p;

	return b >= base && b <= base + size && len <= (size_t)(base + size - b);
}

/* What an accepted file promises (snap_file.h): every pointer inside the metadata, page runs
 * sorted and inside guest memory, the pages where the file's tail says. */
static void check(const struct snap_file *f, const uint8_t *file, size_t size, size_t meta_len)
{
	uint64_t mem_pages = f->vm.mem_size / PAGE, next = 0, pages = 0;
	volatile uint32_t pages_crc;
	char text[512];

	FUZZ_REQUIRE(meta_len <= size && meta_len <= SNAP_META_MAX);
	FUZZ_REQUIRE(f->vm.mode > KVMBOX_MODE_AUTO && f->vm.mode < KVMBOX_MODE_COUNT);
	FUZZ_REQUIRE(f->vm.mem_size % PAGE == 0 && f->vm.mem_size >= KVMBOX_MEM_MIN &&
		     f->vm.mem_size <= KVMBOX_MEM_MAX);
	FUZZ_REQUIRE(f->ncpuid <= SNAP_CPUID_MAX && f->nmsrs <= SNAP_MSRS_MAX);
	FUZZ_REQUIRE(!f->ncpuid || inside(f->cpuid, f->ncpuid * sizeof(*f->cpuid), file, meta_len));
	FUZZ_REQUIRE(!f->nmsrs || inside(f->msrs, f->nmsrs * sizeof(*f->msrs), file, meta_len));
	FUZZ_REQUIRE(f->xsave_size >= SNAP_XSAVE_MIN && inside(f->xsave, f->xsave_size, file, meta_len));
	FUZZ_REQUIRE(f->xcrs.nr_xcrs <= KVM_MAX_XCRS);
	FUZZ_REQUIRE(f->mem_offset % PAGE == 0 && f->mem_offset + f->pages * PAGE == size);
	FUZZ_REQUIRE(!f->nruns || inside(f->runs, f->nruns * sizeof(*f->runs), file, meta_len));
	for (uint64_t i = 0; i < f->nruns; i++) {
		FUZZ_REQUIRE(f->runs[i].pages && f->runs[i].first >= next);
		next = f->runs[i].first + f->runs[i].pages;
		FUZZ_REQUIRE(next <= mem_pages);
		pages += f->runs[i].pages;
	}
	FUZZ_REQUIRE(pages == f->pages);
	for (uint32_t i = 0; i < f->nfeatures; i++) {
		const struct snap_feature *ft = &f->features[i];
		size_t n;

		FUZZ_REQUIRE(ft->name[0] && strlen(ft->name) < SNAP_FEATURE_NAME);
		FUZZ_REQUIRE(ft->len <= SNAP_FEATURE_MAX && (!ft->len || inside(ft->data, ft->len, file, meta_len)));
		/* A feature's reader of bytes a hostile file gave it. */
		n = features_describe(ft->name, ft->data, ft->len, text, sizeof(text));
		FUZZ_REQUIRE(n < sizeof(text) && text[n] == 0);
	}
	/* The restore's last check: the pages' checksum, over bytes that must all be the file's. */
	pages_crc = snap_crc(0, file + f->mem_offset, (size_t)(f->pages * PAGE));
	(void)pages_crc;
}

/* Parse FILE as a restore would. */
static void parse(const uint8_t *file, size_t size)
{
	struct kvmbox_error err = { "" };
	struct snap_file f;
	size_t meta_len;

	if (snap_file_head(file, size < PAGE ? size : PAGE, size, &meta_len, &err) < 0) {
		FUZZ_REQUIRE(err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)));
		return;
	}
	FUZZ_REQUIRE(meta_len <= size);
	if (snap_file_parse(file, meta_len, size, &f, &err) == 0)
		check(&f, file, size, meta_len);
	else
		FUZZ_REQUIRE(err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)));
}

/* Make every checksum FILE's table lets us find right: each section's inside the file, the
 * table's, the header's (docs/snapshot.md: the header's last 4 bytes cover its first 60,
 * byte 48 holds the table's). */
static void reseal(uint8_t *file, size_t size)
{
	uint32_t n;

	if (size < 64)
		return;
	n = get32(file + 16);
	if (n > SNAP_SECTIONS_MAX || 64 + (size_t)n * 32 > size)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = file + 64 + i * 32;
		uint64_t off = get64(e + 8), len = get64(e + 16);

		if (off <= size && len <= size - off)
			put32(e + 24, snap_crc(0, file + off, (size_t)len));
	}
	put32(file + 48, snap_crc(0, file + 64, n * 32));
	put32(file + 60, snap_crc(0, file, 60));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An aligned copy of its own, as the restore's malloc'd buffer is. */
	uint8_t *file = malloc(size ? size : 1);

	FUZZ_REQUIRE(file);
	memcpy(file, data, size);
	parse(file, size);
	reseal(file, size);
	parse(file, size);
	free(file);
	return 0;
}
