/* `kvmbox snapshot FILE` (cli/snapshot.h): the file checked whole, as a restore would check
 * it, and described: format, mode and memory, pages stored, why it was saved and where the
 * guest stood, the CPU it was saved on, the statistics and the features' state (open share
 * files). Needs no KVM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kvmbox/snapshot.h"
#include "snapshot.h"
#include "status.h"

const char cli_snapshot_usage[] =
	"usage: kvmbox snapshot FILE\n"
	"Check the snapshot FILE (kvmbox run --save, a guest's HC_snapshot) as a restore would,\n"
	"and say what it holds: the format version and the kvmbox that wrote it, the CPU mode and\n"
	"memory, the guest pages stored, why it was saved and where the guest stood, the CPU it\n"
	"was saved on, the statistics and the open share files. Exit status 0, or 2 with one line\n"
	"on stderr when FILE is not a valid snapshot (docs/snapshot.md).\n";

static const char *stop_word(enum kvmbox_stop stop)
{
	static const char *const words[] = {
		[KVMBOX_STOP_NONE] = "before its first run", [KVMBOX_STOP_HALT] = "after a halt",
		[KVMBOX_STOP_EXIT] = "after the guest's exit", [KVMBOX_STOP_TIMEOUT] = "at its deadline",
		[KVMBOX_STOP_PREEMPTED] = "preempted", [KVMBOX_STOP_YIELD] = "after an I/O exit",
		[KVMBOX_STOP_CANCELLED] = "when it was cancelled (a signal)",
		[KVMBOX_STOP_RETURNED] = "after a call returned",
	};

	return (size_t)stop < sizeof(words) / sizeof(words[0]) && words[stop] ? words[stop] : "?";
}

static void size_words(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
}

static void describe(const char *file, const struct kvmbox_snapshot_info *s)
{
	char mem[32], stored[32];

	size_words(s->mem_size, mem, sizeof(mem));
	size_words(s->pages * 4096, stored, sizeof(stored));
	printf("%s: kvmbox snapshot, format version %u, written by kvmbox %s\n", file, s->version,
	       s->writer);
	printf("  mode:       %s, %s of memory\n", kvmbox_mode_name(s->mode), mem);
	printf("  pages:      %llu of %llu stored (%s; the others are zero), in %llu run%s; "
	       "%llu bytes in all\n", (unsigned long long)s->pages,
	       (unsigned long long)(s->mem_size / 4096), stored, (unsigned long long)s->runs,
	       s->runs == 1 ? "" : "s", (unsigned long long)s->file_size);
	if (!strcmp(s->reason, "between runs"))
		printf("  saved:      between runs, %s\n", stop_word(s->stop));
	else
		printf("  saved:      %s\n", s->reason);
	printf("  stopped at: cs:rip %04x:%llx (linear 0x%llx)\n", s->cs, (unsigned long long)s->rip,
	       (unsigned long long)s->pc);
	printf("  generation: %llu%s\n", (unsigned long long)s->generation,
	       s->generation ? "" : " (started from its image)");
	printf("  CPU:        %s; CPUID table: %s; TSC %u kHz\n", s->vendor[0] ? s->vendor : "?",
	       s->cpuid, s->tsc_khz);
	printf("  statistics: %llu exits, %llu hypercalls, %llu console bytes\n",
	       (unsigned long long)s->stats.exits, (unsigned long long)s->stats.hypercalls,
	       (unsigned long long)s->stats.console_bytes);
	for (const char *p = s->state; *p;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		printf("  %.*s\n", n, p);
		p += n + (nl != NULL);
	}
	if (!s->state[0])
		printf("  files:      none open\n");
}

int cli_snapshot_main(int argc, char **argv)
{
	struct kvmbox_snapshot_info info;
	struct kvmbox_error err = { "" };
	int fd, ret;

	if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		fputs(cli_snapshot_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 3 || argv[2][0] == '-') {
		fprintf(stderr, "kvmbox snapshot: %s\n%s", argc < 3 ? "a FILE is needed"
			    : argc > 3 ? "one FILE only" : "unknown option", cli_snapshot_usage);
		return EXIT_USAGE;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kvmbox snapshot: %s: %s\n", argv[2], strerror(errno));
		return EXIT_USAGE;
	}
	ret = kvmbox_snapshot_info(fd, &info, &err);
	close(fd);
	if (ret < 0) {
		fprintf(stderr, "kvmbox snapshot: %s: %s\n", argv[2], err.msg);
		return EXIT_USAGE;
	}
	describe(argv[2], &info);
	return EXIT_OK;
}
