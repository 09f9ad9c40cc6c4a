/* Unit tests for the symbolizer (src/fault/symbolize.c): it names the same function and file:line as
 * binutils' addr2line for addresses in the built guest images (the expectations are computed
 * at build time by tests/unit/debuginfo_expect.sh and compiled in), and degrades to the function or the bare
 * address for images without DWARF, without symbols, or that are not ELF at all. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <elf.h>

#include "fault/symbol_cache.h"
#include "fault/symbolize.h"

#define DW_UT_skeleton_VALUE 4 /* DWARF 5, 7.5.1 */
#include "debuginfo_expect.h" /* addr2line_lines, from tests/unit/debuginfo_expect.sh */

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b && *b ? b : "build";
}

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*size = buf ? (size_t)n : 0;
	fclose(f);
	return buf;
}

static struct debuginfo *open_guest(const char *name)
{
	struct kvmbox_error err = { "" };
	struct debuginfo *di = NULL;
	char path[512];
	uint8_t *data;
	size_t size;

	snprintf(path, sizeof(path), "%s/guests/%s", build_dir(), name);
	data = slurp(path, &size);
	assert_non_null(data);
	assert_int_equal(debuginfo_open(&di, data, size, &err), 0);
	free(data); /* the symbolizer keeps its own copy */
	return di;
}

/* Does addr2line's PATH name the same file as our (compilation-directory relative) FILE? */
static bool same_file(const char *path, const char *file)
{
	size_t p = strlen(path), f = strlen(file);

	return !strcmp(path, file) || (p > f && path[p - f - 1] == '/' && !strcmp(path + p - f, file));
}

/* One expectation line: NAME ADDR FUNCTION FILE:LINE[ (discriminator N)]. */
static void check_line(const char *line, int *checked)
{
	char name[128], fn[128], where[512], *colon, desc[700], want[700];
	struct debuginfo_where w;
	struct debuginfo *di;
	unsigned long long addr;
	int want_line;

	assert_int_equal(sscanf(line, "%127s %llx %127s %511s", name, &addr, fn, where), 4);
	colon = strrchr(where, ':');
	assert_non_null(colon);
	*colon = '\0';
	want_line = atoi(colon + 1);
	if (!strcmp(fn, "??") || want_line <= 0)
		return; /* addr2line knows nothing there either */
	di = open_guest(name);
	assert_int_equal(debuginfo_lookup(di, addr, &w), 0);
	assert_non_null(w.function);
	assert_string_equal(w.function, fn);
	assert_non_null(w.file);
	if (!same_file(where, w.file))
		fail_msg("%s 0x%llx: file %s, addr2line says %s", name, addr, w.file, where);
	assert_int_equal(w.line, want_line);
	/* The one-line form the crash report uses. */
	debuginfo_describe(di, addr, desc, sizeof(desc));
	snprintf(want, sizeof(want), "%s (%s:%d)", fn, w.file, want_line);
	assert_string_equal(desc, want);
	debuginfo_close(di);
	(*checked)++;
}

static void test_agrees_with_addr2line(void **state)
{
	int checked = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addr2line_lines) / sizeof(addr2line_lines[0]); i++)
		check_line(addr2line_lines[i], &checked);
	/* Every mode's hello image has several functions with lines: fewer is a bug. */
	assert_true(checked >= 8);
}

/* An address outside every function and line: the bare address. */
static void test_unknown_address(void **state)
{
	struct debuginfo *di = open_guest("hello-long.elf");
	struct debuginfo_where w;
	char buf[64];

	(void)state;
	assert_int_equal(debuginfo_lookup(di, 0x7fff0000, &w), -ENOENT);
	assert_null(w.function);
	assert_null(w.file);
	assert_int_equal(debuginfo_describe(di, 0x7fff0000, buf, sizeof(buf)), strlen("0x7fff0000"));
	assert_string_equal(buf, "0x7fff0000");
	debuginfo_close(di);
}

/* A flat binary (not ELF), an empty image and a NULL symbolizer: bare addresses, no crash. */
static void test_not_elf(void **state)
{
	static const uint8_t flat[] = { 0xf4, 0xeb, 0xfd, 0x90 };
	struct debuginfo *di = NULL;
	char buf[32];

	(void)state;
	assert_int_equal(debuginfo_open(&di, flat, sizeof(flat), NULL), 0);
	debuginfo_describe(di, 0x1000, buf, sizeof(buf));
	assert_string_equal(buf, "0x1000");
	debuginfo_close(di);
	assert_int_equal(debuginfo_open(&di, NULL, 0, NULL), 0);
	debuginfo_describe(di, 0x1, buf, sizeof(buf));
	assert_string_equal(buf, "0x1");
	debuginfo_close(di);
	debuginfo_describe(NULL, 0xabc, buf, sizeof(buf));
	assert_string_equal(buf, "0xabc");
	assert_int_equal(debuginfo_open(NULL, flat, sizeof(flat), NULL), -EINVAL);
	debuginfo_close(NULL);
}

/* A truncated ELF (valid header, sections cut off) still opens and describes addresses. */
static void test_truncated_elf(void **state)
{
	char path[512], buf[64];
	struct debuginfo *di = NULL;
	uint8_t *data;
	size_t size, cut;

	(void)state;
	snprintf(path, sizeof(path), "%s/guests/hello-long.elf", build_dir());
	data = slurp(path, &size);
	assert_non_null(data);
	for (cut = 0; cut < size; cut += size / 37 + 1) {
		assert_int_equal(debuginfo_open(&di, data, cut, NULL), 0);
		assert_true(debuginfo_describe(di, 0x1010, buf, sizeof(buf)) > 0);
		debuginfo_close(di);
	}
	free(data);
}

/* The section header named NAME in the ELF64 image B (SIZE bytes), or NULL. */
static Elf64_Shdr *section64(uint8_t *b, size_t size, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Shdr *sh = (Elf64_Shdr *)(b + eh->e_shoff);
	const char *strs = (const char *)b + sh[eh->e_shstrndx].sh_offset;

	assert_true(eh->e_shoff + eh->e_shnum * sizeof(*sh) <= size);
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (!strcmp(strs + sh[i].sh_name, name))
			return &sh[i];
	return NULL;
}

/* The cheap check that lets the symbolizer open at the first fault instead of at load: it
 * clears the SDK's images (DWARF 5, nothing split) in every mode, and agrees with libdw's
 * refusal on every guest this build made; a supplementary-file section, a split or
 * pre-DWARF-5 unit, a bad unit length and a cut section table all keep the open at load. */
static void test_may_name_other_files(void **state)
{
	static const char *const modes[] = { "real", "protected", "paged32", "long" };
	static const uint8_t flat[] = { 0xf4, 0xeb, 0xfd, 0x90 };
	char path[512];
	uint8_t *data;
	size_t size;
	Elf64_Shdr *info, *str;
	DIR *dir;
	struct dirent *de;
	int checked = 0;

	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		snprintf(path, sizeof(path), "%s/guests/hello-%s.elf", build_dir(), modes[m]);
		data = slurp(path, &size);
		assert_non_null(data);
		if (debuginfo_may_name_other_files(data, size))
			fail_msg("%s: the SDK's image is not cleared for a symbolizer opened late", path);
		free(data);
	}
	/* Every guest of this build: cleared ones are ones libdw does not refuse either. */
	snprintf(path, sizeof(path), "%s/guests", build_dir());
	dir = opendir(path);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		struct debuginfo *di = NULL;
		size_t n = strlen(de->d_name);

		if (n < 4 || strcmp(de->d_name + n - 4, ".elf"))
			continue;
		snprintf(path, sizeof(path), "%s/guests/%s", build_dir(), de->d_name);
		data = slurp(path, &size);
		assert_non_null(data);
		assert_int_equal(debuginfo_open(&di, data, size, NULL), 0);
		if (!debuginfo_may_name_other_files(data, size) && debuginfo_refused(di))
			fail_msg("%s: cleared, yet libdw's check refuses its DWARF", path);
		checked++;
		debuginfo_close(di);
		free(data);
	}
	closedir(dir);
	assert_true(checked >= 4);
	snprintf(path, sizeof(path), "%s/guests/crafted-altlink-long.elf", build_dir());
	data = slurp(path, &size);
	assert_non_null(data);
	assert_true(debuginfo_may_name_other_files(data, size));
	free(data);
	assert_false(debuginfo_may_name_other_files(flat, sizeof(flat)));

	snprintf(path, sizeof(path), "%s/guests/hello-long.elf", build_dir());
	data = slurp(path, &size);
	assert_non_null(data);
	info = section64(data, size, ".debug_info");
	str = section64(data, size, ".debug_str");
	assert_non_null(info);
	assert_non_null(str);
	/* The unit's version (bytes 4-5 of a 32-bit DWARF unit), its type (byte 6). */
	data[info->sh_offset + 4] = 4;
	assert_true(debuginfo_may_name_other_files(data, size));
	data[info->sh_offset + 4] = 5;
	assert_false(debuginfo_may_name_other_files(data, size));
	data[info->sh_offset + 6] = DW_UT_skeleton_VALUE;
	assert_true(debuginfo_may_name_other_files(data, size));
	data[info->sh_offset + 6] = 1; /* DW_UT_compile */
	data[info->sh_offset] ^= 0x80; /* a unit length past the section */
	assert_true(debuginfo_may_name_other_files(data, size));
	data[info->sh_offset] ^= 0x80;
	info->sh_flags |= SHF_COMPRESSED;
	assert_true(debuginfo_may_name_other_files(data, size));
	info->sh_flags &= ~(uint64_t)SHF_COMPRESSED;
	/* ".debug_str" renamed ".debug_sup", in place: a DWARF 5 supplementary file's mark. */
	memcpy(data + ((Elf64_Shdr *)(data + ((Elf64_Ehdr *)data)->e_shoff))[((Elf64_Ehdr *)data)
		->e_shstrndx].sh_offset + str->sh_name, ".debug_sup", 10);
	assert_true(debuginfo_may_name_other_files(data, size));
	str->sh_type = SHT_NULL; /* libdw reads every header's name (found by the image fuzzer) */
	assert_true(debuginfo_may_name_other_files(data, size));
	free(data);

	/* Cut anywhere: never a read outside the bytes (ASan), and a cut section table is never
	 * cleared. */
	data = slurp(path, &size);
	assert_non_null(data);
	for (size_t cut = 0; cut < size; cut += size / 97 + 1) {
		bool may = debuginfo_may_name_other_files(data, cut);

		if (cut >= SELFMAG && cut < size && !may &&
		    ((Elf64_Ehdr *)data)->e_shoff + ((Elf64_Ehdr *)data)->e_shnum * sizeof(Elf64_Shdr) > cut)
			fail_msg("cut at %zu bytes: cleared without its section table", cut);
	}
	free(data);
}

/* Truncation of the description: NUL-terminated, full length returned. */
static void test_describe_truncates(void **state)
{
	struct debuginfo *di = open_guest("hello-long.elf");
	char full[256], small[8];
	size_t n;

	(void)state;
	n = debuginfo_describe(di, 0x1007, full, sizeof(full));
	assert_int_equal(n, strlen(full));
	assert_int_equal(debuginfo_describe(di, 0x1007, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
	debuginfo_close(di);
}

/* The shared symbolizers (symbol_cache.h): bytes the caller keeps (kvmbox_image.data_kept)
 * are read in place, never copied, and shared only by callers of the very same buffer; a
 * copy of kvmbox's own is shared by any caller of equal bytes; a fork takes the same one. */
static void test_kept_bytes_read_in_place(void **state)
{
	char path[512], from_kept[256], from_copy[256];
	const struct image_copy *kept, *again, *other, *copy, *copy2, *forked;
	uint8_t *data, *twin;
	size_t size, n;

	(void)state;
	snprintf(path, sizeof(path), "%s/guests/hello-long.elf", build_dir());
	data = slurp(path, &size);
	assert_non_null(data);
	twin = malloc(size);
	assert_non_null(twin);
	memcpy(twin, data, size);

	kept = image_copy_get(data, size, true);
	assert_non_null(kept);
	assert_ptr_equal(image_copy_bytes(kept, &n), data); /* no copy */
	assert_int_equal(n, size);
	again = image_copy_get(data, size, true);
	assert_ptr_equal(again, kept);
	/* Equal bytes in another buffer, kept or not, never lean on DATA. */
	other = image_copy_get(twin, size, true);
	assert_ptr_not_equal(other, kept);
	assert_ptr_equal(image_copy_bytes(other, &n), twin);
	copy = image_copy_get(twin, size, false);
	assert_ptr_not_equal(copy, kept);
	assert_ptr_not_equal(copy, other);
	assert_ptr_not_equal(image_copy_bytes(copy, &n), twin);
	copy2 = image_copy_get(data, size, false); /* a copy of kvmbox's own serves equal bytes */
	assert_ptr_equal(copy2, copy);
	forked = image_copy_ref(kept);
	assert_ptr_equal(forked, kept);

	/* The symbolizer reads the kept bytes as it reads a copy. */
	assert_true(image_copy_describe(kept, 0x1007, from_kept, sizeof(from_kept)) > 0);
	assert_true(image_copy_describe(copy, 0x1007, from_copy, sizeof(from_copy)) > 0);
	assert_string_equal(from_kept, from_copy);
	assert_non_null(strstr(from_kept, ".S:")); /* the SDK's start code, with its line */

	image_copy_put(forked);
	image_copy_put(again);
	image_copy_put(kept);
	image_copy_put(other);
	image_copy_put(copy2);
	image_copy_put(copy);
	free(twin);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_addr2line),
		cmocka_unit_test(test_unknown_address),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_truncated_elf),
		cmocka_unit_test(test_may_name_other_files),
		cmocka_unit_test(test_describe_truncates),
		cmocka_unit_test(test_kept_bytes_read_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
