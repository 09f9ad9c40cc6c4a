/* libFuzzer target: kvmbox_image_parse (public API) on arbitrary bytes, as an ELF and as a flat
 * binary, checking what it promises about an image it accepts; and the symbolizer's scan of
 * the same bytes (debuginfo_may_name_other_files), which decides whether libdw is opened at
 * load or at the first fault. */
#include <string.h>
#include "kvmbox/kvmbox.h"
#include "fault/symbolize.h"
#include "fuzz.h"

/* Every accepted segment lies inside the file and its memory size covers its file size. */
static void check_image(const struct kvmbox_image *img, size_t size)
{
	FUZZ_REQUIRE(img->nsegments <= KVMBOX_IMAGE_MAX_SEGMENTS);
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct kvmbox_segment *s = &img->segments[i];

		FUZZ_REQUIRE(s->offset <= size && s->filesz <= size - s->offset);
		FUZZ_REQUIRE(s->filesz <= s->memsz);
		FUZZ_REQUIRE(s->gpa + s->memsz >= s->gpa);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmbox_error err;
	struct kvmbox_image img;
	uint64_t load = 0, entry = 0;

	if (kvmbox_image_parse(&img, data, size, false, 0, 0, &err) == 0)
		check_image(&img, size);
	else
		FUZZ_REQUIRE(memchr(err.msg, 0, sizeof(err.msg)) && err.msg[0]);
	/* An image the scan clears must be one libdw's own check does not refuse: else its
	 * symbolizer, opened under the seccomp filter, could reach for another file. */
	if (!debuginfo_may_name_other_files(data, size)) {
		struct debuginfo *di = NULL;

		if (debuginfo_open(&di, data, size, NULL) == 0) {
			FUZZ_REQUIRE(!debuginfo_refused(di));
			debuginfo_close(di);
		}
	}
	/* Flat: the first 16 bytes choose the load address and the entry point. */
	if (size >= 16) {
		memcpy(&load, data, 8);
		memcpy(&entry, data + 8, 8);
		if (kvmbox_image_parse(&img, data + 16, size - 16, true, load, entry, &err) == 0)
			check_image(&img, size - 16);
	}
	return 0;
}
