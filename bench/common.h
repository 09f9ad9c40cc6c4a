/* Shared by the benchmark programs: a monotonic clock, sample statistics, and the one output
 * format bench/run.sh reads: one JSON object per line on stdout, a figure each. */
#ifndef KVMBOX_BENCH_COMMON_H
#define KVMBOX_BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: what a figure costs when other processes compete for the
 * host's cores (wall time then also counts the time the thread waited to run). A syscall. */
static inline uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: a reproducible sequence from *STATE, for orders that must not bias a figure. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* N rounded up to a multiple of M. */
static inline int bench_round_up(int n, int m)
{
	return (n + m - 1) / m * m;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts V in place. Nearest-rank percentile P (0..100) of N samples. */
static inline double bench_pct(double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* One figure: NAME, UNIT, the median and p99 of N samples (samples are per-repetition values,
 * e.g. the mean time of one exit over a batch) and EXTRA, a JSON fragment or "". */
static inline void bench_emit(const char *name, const char *unit, double *v, size_t n,
			      const char *extra)
{
	double med = bench_pct(v, n, 50), p99 = bench_pct(v, n, 99);

	printf("{\"name\":\"%s\",\"unit\":\"%s\",\"median\":%.6g,\"p99\":%.6g,\"n\":%zu%s%s}\n", name,
	       unit, med, p99, n, extra && *extra ? "," : "", extra ? extra : "");
	fflush(stdout);
}

/* A figure with wall-time samples W and CPU-time samples C (same unit, N each). */
static inline void bench_emit2(const char *name, const char *unit, double *w, double *c, size_t n,
			       const char *extra)
{
	double med = bench_pct(w, n, 50), p99 = bench_pct(w, n, 99);
	double cmed = bench_pct(c, n, 50), cp99 = bench_pct(c, n, 99);

	printf("{\"name\":\"%s\",\"unit\":\"%s\",\"median\":%.6g,\"p99\":%.6g,"
	       "\"cpu_median\":%.6g,\"cpu_p99\":%.6g,\"n\":%zu%s%s}\n",
	       name, unit, med, p99, cmed, cp99, n, extra && *extra ? "," : "", extra ? extra : "");
	fflush(stdout);
}

/* A single value (no repetitions), e.g. an RSS difference. */
static inline void bench_emit1(const char *name, const char *unit, double value, const char *extra)
{
	bench_emit(name, unit, &value, 1, extra);
}

static inline void *bench_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	return p;
}

/* argv[I] as an int, or DEF when the command line is shorter. */
static inline int bench_arg_int(int argc, char **argv, int i, int def)
{
	return i < argc ? atoi(argv[i]) : def;
}

/* FIELD of /proc/self/status ("VmRSS", "RssAnon") in KiB, or -1. */
static inline long bench_status_kib(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' && sscanf(line + n + 1, "%ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* VmRSS of this process in KiB. */
static inline long bench_rss_kib(void)
{
	return bench_status_kib("VmRSS");
}

/* Open descriptors of this process (entries of /proc/self/fd, less the one reading it). */
#include <dirent.h>
static inline long bench_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = -1;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* "." and ".." */
}

/* Raise the soft open-file limit to the hard one; returns the limit now in force. */
#include <sys/resource.h>
static inline long bench_nofile_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
}

/* Exit status of bench/run.sh and every benchmark program on a host without usable KVM
 * (automake's "skipped"; docs/performance.md): one line names the cause, nothing is measured. */
#define BENCH_NO_KVM 77

#define BENCH_SKIP_NO_KVM(...)                                                      \
	do {                                                                        \
		fprintf(stderr, "bench: no usable KVM: " __VA_ARGS__);              \
		fputs("; the benchmarks need KVM (docs/performance.md)\n", stderr); \
		exit(BENCH_NO_KVM);                                                 \
	} while (0)

#ifdef KVMBOX_KVMBOX_H
/* For the programs that link the library: stop with BENCH_NO_KVM unless KVM is usable. */
static inline void bench_require_kvm(void)
{
	struct kvmbox_host_info info;

	if (kvmbox_host_probe(NULL, &info) < 0)
		BENCH_SKIP_NO_KVM("%s", info.cause);
}
#endif

#define BENCH_DIE(...)                                 \
	do {                                           \
		fprintf(stderr, "bench: " __VA_ARGS__); \
		fputc('\n', stderr);                   \
		exit(1);                               \
	} while (0)

#endif
