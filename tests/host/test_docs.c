/* The output pasted in the docs is what kvmbox prints today. Every ```console block of
 * README.md and of the .md files in docs/ is a sequence of `$ COMMAND` lines, each followed by what COMMAND
 * prints (stdout and stderr as one terminal shows them); the test runs each command from a
 * scratch checkout (build/, examples/, scripts/ of this tree) and compares, leaving open what
 * differs from run to run and host to host: host-virtual addresses (0x7 and 11 hex digits),
 * the CPUID entry count of the host's KVM (nent N) and the note to root ("running as root is
 * not needed ..."). A line `...` in the docs stands for any number of lines (an excerpt).
 * Commands that ask for paged32 or go through scripts/kvm-in-qemu run where paged32 runs
 * (this host, or the QEMU lane, without the prefix) and are one skip elsewhere. */
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

#define LANE_PREFIX "scripts/kvm-in-qemu "
#define MAX_CMDS 64
#define MAX_LINES 256
#define CMD_MAX 501

struct doc_cmd {
	char where[128];         /* FILE:LINE of the `$` line */
	char cmd[CMD_MAX];
	char *want[MAX_LINES];   /* the pasted output, one line each (malloc'd) */
	unsigned nwant;
	bool paged32;            /* needs 32-bit paging (or the lane) */
};

static struct doc_cmd cmds[MAX_CMDS];
static unsigned ncmds;
static char scratch[64]; /* the scratch checkout the commands run in; removed by teardown */

/* The ```console blocks of FILE, appended to cmds. */
static void read_doc(const char *file)
{
	char line[4096];
	bool in = false;
	struct doc_cmd *c = NULL;
	FILE *f = fopen(file, "r");
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "```", 3)) {
			in = !in && !strcmp(line, "```console");
			c = NULL;
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "$ ", 2)) {
			assert_true(ncmds < MAX_CMDS);
			c = &cmds[ncmds++];
			snprintf(c->where, sizeof(c->where), "%s:%u", file, n);
			assert_true(strlen(line + 2) < sizeof(c->cmd));
			memcpy(c->cmd, line + 2, strlen(line + 2) + 1);
			c->paged32 = strstr(c->cmd, "paged32") || !strncmp(c->cmd, LANE_PREFIX, strlen(LANE_PREFIX));
			continue;
		}
		if (!c)
			fail_msg("%s:%u: a console block starts with a `$ ` command line", file, n);
		assert_true(c->nwant < MAX_LINES);
		c->want[c->nwant] = strdup(line);
		assert_non_null(c->want[c->nwant++]);
	}
	fclose(f);
}

static int setup(void **state)
{
	glob_t g;

	(void)state;
	if (access("README.md", R_OK) != 0 || glob("docs/*.md", 0, NULL, &g) != 0)
		return 0; /* not in the source tree: each test says so */
	read_doc("README.md");
	for (size_t i = 0; i < g.gl_pathc; i++)
		read_doc(g.gl_pathv[i]);
	globfree(&g);
	return 0;
}

static int teardown(void **state)
{
	char sh[128];
	struct cli r;

	(void)state;
	if (scratch[0]) {
		snprintf(sh, sizeof(sh), "rm -rf %s", scratch);
		run_command(&r, (const char *const[]){ "sh", "-c", sh, NULL });
	}
	for (unsigned i = 0; i < ncmds; i++)
		for (unsigned k = 0; k < cmds[i].nwant; k++)
			free(cmds[i].want[k]);
	return 0;
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* LINE with what varies between runs and hosts replaced, into OUT. */
static void normalize(const char *line, char *out, size_t max)
{
	size_t o = 0;

	for (const char *p = line; *p && o + 8 < max;) {
		int k = 0;

		/* A host-virtual address of the kvmbox process: 0x7 and 11 more hex digits. */
		if (!strncmp(p, "0x7", 3)) {
			while (k < 12 && is_hex(p[2 + k]))
				k++;
			if (k == 12 && !is_hex(p[14])) {
				o += (size_t)snprintf(out + o, max - o, "0x7HVA");
				p += 14;
				continue;
			}
		}
		/* The host KVM's number of CPUID entries. */
		if (!strncmp(p, "nent ", 5) && p[5] >= '0' && p[5] <= '9') {
			o += (size_t)snprintf(out + o, max - o, "nent N");
			for (p += 5; *p >= '0' && *p <= '9'; p++)
				;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* Said only to root (the QEMU lane runs as root): left out of the docs and the comparison. */
static bool root_note(const char *line)
{
	static const char note[] = "kvmbox: running as root is not needed";

	return !strncmp(line, note, sizeof(note) - 1);
}

/* Do the lines GOT[0..NGOT) match WANT[0..NWANT), a "..." in WANT matching any run? */
static bool match(char *const *want, unsigned nwant, char *const *got, unsigned ngot)
{
	char a[4096], b[4096];

	if (!nwant)
		return ngot == 0;
	if (!strcmp(want[0], "...")) {
		for (unsigned skip = 0; skip <= ngot; skip++)
			if (match(want + 1, nwant - 1, got + skip, ngot - skip))
				return true;
		return false;
	}
	if (!ngot)
		return false;
	normalize(want[0], a, sizeof(a));
	normalize(got[0], b, sizeof(b));
	return !strcmp(a, b) && match(want + 1, nwant - 1, got + 1, ngot - 1);
}

/* A scratch checkout: build/, examples/ and scripts/ of this tree, nothing else to leave
 * files in. */
static void scratch_dir(char *dir, size_t max)
{
	static const char *const from_tree[] = { "examples", "scripts" };
	char abs[PATH_MAX], link[PATH_MAX + 64];

	snprintf(dir, max, "/tmp/kvmbox-docs-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(build_path("."), abs));
	snprintf(link, sizeof(link), "%s/build", dir);
	assert_int_equal(symlink(abs, link), 0);
	for (size_t i = 0; i < 2; i++) {
		assert_non_null(realpath(from_tree[i], abs));
		snprintf(link, sizeof(link), "%s/%s", dir, from_tree[i]);
		assert_int_equal(symlink(abs, link), 0);
	}
}

/* Run C (its lane prefix taken off: this host or this lane runs every mode it asks for) and
 * compare its output with the docs'. */
static void check_cmd(const struct doc_cmd *c, const char *dir)
{
	char sh[1024], *got[MAX_LINES * 2], *line, *end;
	const char *cmd = c->cmd;
	unsigned ngot = 0;
	struct cli r;

	if (!strncmp(cmd, LANE_PREFIX, strlen(LANE_PREFIX)))
		cmd += strlen(LANE_PREFIX);
	snprintf(sh, sizeof(sh), "cd %s && exec %s 2>&1", dir, cmd);
	run_command(&r, (const char *const[]){ "bash", "-c", sh, NULL });
	for (line = r.out; *line && ngot < MAX_LINES * 2; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line) - 1; /* a last line without its newline */
		else
			*end = '\0';
		if (!root_note(line))
			got[ngot++] = line;
	}
	if (!match(c->want, c->nwant, got, ngot)) {
		fprintf(stderr, "%s: `%s` prints today (status %d):\n", c->where, c->cmd, r.status);
		for (unsigned i = 0; i < ngot; i++)
			fprintf(stderr, "  | %s\n", got[i]);
		fail_msg("%s: the pasted output of `%s` is not what kvmbox prints (above)", c->where,
			 c->cmd);
	}
}

static void check_docs(bool paged32)
{
	unsigned n = 0;

	if (!ncmds) {
		printf("SKIP: README.md and docs/ are not here (run from the source tree)\n");
		skip();
	}
	if (!scratch[0])
		scratch_dir(scratch, sizeof(scratch));
	for (unsigned i = 0; i < ncmds; i++)
		if (cmds[i].paged32 == paged32) {
			check_cmd(&cmds[i], scratch);
			n++;
		}
	print_message("%u commands of the docs print what the docs show\n", n);
	assert_true(n > 0);
}

static void test_docs_output(void **state)
{
	(void)state;
	check_docs(false);
}

/* The blocks that need 32-bit paging: output of the QEMU lane, checked where paged32 runs. */
static void test_docs_output_paged32(void **state)
{
	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_PAGED32);
	check_docs(true);
}

/* The normalization leaves open only what varies, and "..." only what it stands for. */
static void test_normalize_and_match(void **state)
{
	char a[128];
	char *want[] = { "x", "...", "memslot at HVA 0x7f6f90400000", "nent 75" };
	char *got[] = { "x", "a", "b", "memslot at HVA 0x7fb85b000000", "nent 76" };
	char *bad[] = { "x", "memslot at HVA 0x7fb85b00000", "nent 76" };

	(void)state;
	normalize("0x7f6f90400000 + 0x1000, 0x7f6f904000001", a, sizeof(a));
	assert_string_equal(a, "0x7HVA + 0x1000, 0x7f6f904000001");
	normalize("{nent 75, long mode}", a, sizeof(a));
	assert_string_equal(a, "{nent N, long mode}");
	assert_true(match(want, 4, got, 5));
	assert_false(match(want, 4, bad, 3)); /* 11 hex digits is not an HVA */
	assert_false(match(want, 2, got, 0));
	assert_true(match(want + 1, 1, got, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_and_match),
		cmocka_unit_test(test_docs_output),
		cmocka_unit_test(test_docs_output_paged32),
	};

	return cmocka_run_group_tests_name("docs", tests, setup, teardown);
}
