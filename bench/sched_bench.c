/* Scheduler benchmark (not a test): 70/30 share accuracy over 5 s at quanta of 1, 10 and
 * 100 ms with the preemption latency p50/p99 of each run, and 100 VMs round robin in one
 * process with the resident memory each costs. Standalone: links libkvmbox.a.
 *
 *   bench/sched_bench [-d SECONDS] [-n VMS] [-j FILE]   (run from the repository root;
 *                                                        guests from $BUILD/guests) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/sched.h"
#include "common.h"

struct result {
	double quantum_ms, asked, achieved, err_pp;
	uint64_t p50, p99, quanta;
};

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static struct kvmbox_vm *make_vm(const char *name, const char *guest)
{
	const char *dir = getenv("BUILD");
	struct kvmbox_vm_config cfg = { .name = name, .mode = KVMBOX_MODE_REAL, .console_fd = -1 };
	struct kvmbox_error err = { "" };
	struct kvmbox_image img;
	struct kvmbox_vm *vm;
	char path[512];
	uint8_t *data;
	size_t size;

	snprintf(path, sizeof(path), "%s/guests/%s-real.elf", dir && *dir ? dir : "build", guest);
	if (kvmbox_image_read_file(path, &data, &size, &err) < 0 ||
	    kvmbox_image_parse(&img, data, size, false, 0, 0, &err) < 0 ||
	    kvmbox_vm_create(&vm, &cfg, &err) < 0 || kvmbox_vm_load(vm, &img, &err) < 0) {
		fprintf(stderr, "sched_bench: %s: %s\n", path, err.msg);
		exit(1);
	}
	free(data);
	return vm;
}

static struct kvmbox_sched *make_sched(enum kvmbox_sched_policy p, double quantum_ms, double secs)
{
	struct kvmbox_sched_config cfg = { .policy = p, .quantum_ns = (uint64_t)(quantum_ms * 1e6),
					   .duration_ns = (uint64_t)(secs * 1e9) };
	struct kvmbox_error err = { "" };
	struct kvmbox_sched *s;

	if (kvmbox_sched_create(&s, &cfg, &err) < 0) {
		fprintf(stderr, "sched_bench: %s\n", err.msg);
		exit(1);
	}
	return s;
}

/* Neo (share 70) and Morpheus (share 30), pure compute, for SECS at QUANTUM_MS. */
static struct result share_run(double quantum_ms, double secs)
{
	struct kvmbox_sched *s = make_sched(KVMBOX_SCHED_SHARE, quantum_ms, secs);
	struct kvmbox_vm *neo = make_vm("neo", "neo-spin"), *mor = make_vm("morpheus", "morpheus-spin");
	struct kvmbox_sched_vm_report a, b;
	struct kvmbox_error err = { "" };
	struct result r = { .quantum_ms = quantum_ms };

	kvmbox_sched_add(s, neo, 70, 0, &err);
	kvmbox_sched_add(s, mor, 30, 0, &err);
	if (kvmbox_sched_run(s, &err) < 0) {
		fprintf(stderr, "sched_bench: %s\n", err.msg);
		exit(1);
	}
	kvmbox_sched_report(s, 0, &a);
	kvmbox_sched_report(s, 1, &b);
	r.asked = a.share_asked;
	r.achieved = a.share_achieved;
	r.err_pp = 100 * (a.share_achieved - a.share_asked);
	/* Latency over both VMs: the larger of the two per-VM figures. */
	r.p50 = a.latency_p50_ns > b.latency_p50_ns ? a.latency_p50_ns : b.latency_p50_ns;
	r.p99 = a.latency_p99_ns > b.latency_p99_ns ? a.latency_p99_ns : b.latency_p99_ns;
	r.quanta = a.quanta + b.quanta;
	kvmbox_sched_destroy(s);
	kvmbox_vm_destroy(neo);
	kvmbox_vm_destroy(mor);
	return r;
}

int main(int argc, char **argv)
{
	static const double quanta[] = { 1, 10, 100 };
	struct result res[3];
	double secs = 5, many_secs = 2;
	unsigned nvms = 100, i, progressed = 0;
	const char *json = NULL;
	struct kvmbox_vm **vms;
	struct kvmbox_sched *s;
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *anchor;
	long rss0, rss1, rss2;
	uint64_t min_cpu = UINT64_MAX, max_cpu = 0;
	int c;
	FILE *f;

	while ((c = getopt(argc, argv, "d:n:j:")) != -1) {
		if (c == 'd')
			secs = atof(optarg);
		else if (c == 'n')
			nvms = (unsigned)atoi(optarg);
		else if (c == 'j')
			json = optarg;
		else
			return 2;
	}
	if (!(secs > 0) || nvms < 1) {
		fprintf(stderr, "usage: sched_bench [-d SECONDS] [-n VMS] [-j FILE]\n");
		return 2;
	}
	bench_require_kvm();
	/* One VM kept open for the whole benchmark: creating a VM while another exists is cheaper
	 * (about 3x on kvm_pvm: docs/performance.md, "Noise"), and the 100-VM figure should not
	 * include the first VM's kernel setup. */
	anchor = make_vm("anchor", "hello");

	printf("share 70/30, pure-compute Neo/Morpheus, %.0f s per quantum\n", secs);
	printf("  %10s %9s %9s %9s %8s %12s %12s\n", "quantum", "asked", "achieved", "error", "quanta",
	       "lat p50 us", "lat p99 us");
	for (i = 0; i < 3; i++) {
		res[i] = share_run(quanta[i], secs);
		printf("  %8.0fms %8.1f%% %8.2f%% %+7.2fpp %8llu %12.1f %12.1f\n", quanta[i],
		       100 * res[i].asked, 100 * res[i].achieved, res[i].err_pp,
		       (unsigned long long)res[i].quanta, (double)res[i].p50 / 1e3,
		       (double)res[i].p99 / 1e3);
	}

	rss0 = rss_kib();
	vms = calloc(nvms, sizeof(*vms));
	s = make_sched(KVMBOX_SCHED_RR, 1, many_secs);
	for (i = 0; i < nvms; i++) {
		char name[32];

		snprintf(name, sizeof(name), "vm%u", i);
		vms[i] = make_vm(name, "neo-spin");
		if (kvmbox_sched_add(s, vms[i], 1, 0, &err) < 0) {
			fprintf(stderr, "sched_bench: %s\n", err.msg);
			return 1;
		}
	}
	rss1 = rss_kib();
	if (kvmbox_sched_run(s, &err) < 0) {
		fprintf(stderr, "sched_bench: %s\n", err.msg);
		return 1;
	}
	rss2 = rss_kib();
	for (i = 0; i < nvms; i++) {
		struct kvmbox_sched_vm_report r;

		kvmbox_sched_report(s, i, &r);
		progressed += r.cpu_ns > 0;
		if (r.cpu_ns < min_cpu)
			min_cpu = r.cpu_ns;
		if (r.cpu_ns > max_cpu)
			max_cpu = r.cpu_ns;
	}
	printf("%u VMs round robin, quantum 1 ms, %.0f s: %u made progress, cpu per VM %.1f..%.1f ms\n",
	       nvms, many_secs, progressed, (double)min_cpu / 1e6, (double)max_cpu / 1e6);
	printf("  RSS: %ld KiB before, %ld KiB created (%.1f KiB/VM), %ld KiB after running (%.1f KiB/VM)\n",
	       rss0, rss1, (double)(rss1 - rss0) / nvms, rss2, (double)(rss2 - rss0) / nvms);

	if (json && (f = fopen(json, "w"))) {
		fprintf(f, "{\"share_70_30\":[");
		for (i = 0; i < 3; i++)
			fprintf(f, "%s{\"quantum_ms\":%g,\"achieved\":%.4f,\"error_pp\":%.3f,"
				   "\"latency_p50_ns\":%llu,\"latency_p99_ns\":%llu}",
				i ? "," : "", res[i].quantum_ms, res[i].achieved, res[i].err_pp,
				(unsigned long long)res[i].p50, (unsigned long long)res[i].p99);
		fprintf(f, "],\"many\":{\"vms\":%u,\"progressed\":%u,\"rss_kib_per_vm_created\":%.1f,"
			   "\"rss_kib_per_vm_run\":%.1f}}\n",
			nvms, progressed, (double)(rss1 - rss0) / nvms, (double)(rss2 - rss0) / nvms);
		fclose(f);
	}
	kvmbox_sched_destroy(s);
	for (i = 0; i < nvms; i++)
		kvmbox_vm_destroy(vms[i]);
	free(vms);
	kvmbox_vm_destroy(anchor);
	return 0;
}
