/* What a scheduler run did: per-VM reports (text and JSON) and the Chrome/Perfetto
 * trace-event JSON written while it runs (--trace-out). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sched_int.h"
#include "util.h"

const char *kvmbox_sched_status_name(enum kvmbox_sched_status st)
{
	static const char *const names[] = {
		[KVMBOX_SCHED_RUNNING] = "running",   [KVMBOX_SCHED_HALTED] = "halted",
		[KVMBOX_SCHED_EXITED] = "exited",     [KVMBOX_SCHED_FAULT] = "fault",
		[KVMBOX_SCHED_ASSERT] = "assert",     [KVMBOX_SCHED_BAD_CALL] = "bad-call",
		[KVMBOX_SCHED_TIMEOUT] = "timeout",   [KVMBOX_SCHED_DEADLOCK] = "deadlock",
		[KVMBOX_SCHED_STOPPED] = "stopped",   [KVMBOX_SCHED_HOST_ERROR] = "host-error",
		[KVMBOX_SCHED_CANCELLED] = "cancelled",
	};

	if ((size_t)st < ARRAY_SIZE(names) && names[st])
		return names[st];
	return "unknown";
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentiles P (0..100) of V's latency samples, into OUT. */
static void percentiles(const struct sched_vm *v, const unsigned *p, uint64_t *out, unsigned n)
{
	uint64_t *sorted;
	unsigned k;

	memset(out, 0, n * sizeof(*out));
	if (!v->nlat)
		return;
	sorted = malloc(v->nlat * sizeof(*sorted));
	if (!sorted)
		return;
	memcpy(sorted, v->lat, v->nlat * sizeof(*sorted));
	qsort(sorted, v->nlat, sizeof(*sorted), cmp_u64);
	for (k = 0; k < n; k++) {
		size_t rank = (v->nlat * p[k] + 99) / 100;

		out[k] = sorted[rank ? rank - 1 : 0];
	}
	free(sorted);
}

int kvmbox_sched_report(const struct kvmbox_sched *s, unsigned i, struct kvmbox_sched_vm_report *r)
{
	static const unsigned pcts[3] = { 50, 99, 100 };
	uint64_t total_cpu = 0, total_share = 0, lat[3];
	const struct sched_vm *v;
	unsigned k;

	if (!s || i >= s->nvms || !r)
		return -EINVAL;
	for (k = 0; k < s->nvms; k++) {
		total_cpu += s->vms[k].cpu_ns;
		total_share += s->vms[k].share;
	}
	v = &s->vms[i];
	percentiles(v, pcts, lat, 3);
	*r = (struct kvmbox_sched_vm_report){
		.name = kvmbox_vm_name(v->vm),
		.share = v->share,
		.share_asked = (double)v->share / (double)total_share,
		.share_achieved = total_cpu ? (double)v->cpu_ns / (double)total_cpu : 0,
		.cpu_ns = v->cpu_ns,
		.quanta = v->quanta,
		.preemptions = v->preemptions,
		.latency_p50_ns = lat[0],
		.latency_p99_ns = lat[1],
		.latency_max_ns = lat[2],
		.status = v->status,
		.exit_status = v->exit_status,
		.message = v->message,
		.stats = kvmbox_vm_stats(v->vm),
	};
	return 0;
}

static const char *policy_name(enum kvmbox_sched_policy p)
{
	switch (p) {
	case KVMBOX_SCHED_IO:
		return "io";
	case KVMBOX_SCHED_RR:
		return "rr";
	case KVMBOX_SCHED_SHARE:
		return "share";
	default:
		return "script";
	}
}

void kvmbox_sched_write_report(const struct kvmbox_sched *s, FILE *f)
{
	/* The weight asked means something only to the share policy; the others ignore it. */
	bool shares = s->cfg.policy == KVMBOX_SCHED_SHARE;
	unsigned i;

	fprintf(f, "kvmbox: %u VM%s, policy %s, quantum %.3f ms, %.3f s%s\n", s->nvms,
		s->nvms == 1 ? "" : "s",
		policy_name(s->cfg.policy), (double)s->cfg.quantum_ns / 1e6,
		(double)(s->end_ns - s->start_ns) / 1e9, s->deadlock ? ", DEADLOCK" : "");
	fprintf(f, "  %-12s %-10s %10s %s%8s %9s %9s %9s %11s %11s\n", "vm", "status", "cpu ms",
		shares ? "  share " : "", "achieved", "quanta", "exits", "io exits", "lat p50 us",
		"lat p99 us");
	for (i = 0; i < s->nvms; i++) {
		struct kvmbox_sched_vm_report r;
		char status[32], lat[32];

		kvmbox_sched_report(s, i, &r);
		if (r.status == KVMBOX_SCHED_EXITED)
			snprintf(status, sizeof(status), "exit(%d)", r.exit_status);
		else
			snprintf(status, sizeof(status), "%s", kvmbox_sched_status_name(r.status));
		if (s->vms[i].nlat)
			snprintf(lat, sizeof(lat), "%11.1f %11.1f", (double)r.latency_p50_ns / 1e3,
				 (double)r.latency_p99_ns / 1e3);
		else
			snprintf(lat, sizeof(lat), "%11s %11s", "-", "-");
		fprintf(f, "  %-12s %-10s %10.3f ", r.name, status, (double)r.cpu_ns / 1e6);
		if (shares)
			fprintf(f, "%6.1f%% ", 100 * r.share_asked);
		fprintf(f, "%7.1f%% %9llu %9llu %9llu %s\n", 100 * r.share_achieved,
			(unsigned long long)r.quanta,
			(unsigned long long)r.stats->exits,
			(unsigned long long)r.stats->by_reason[KVM_EXIT_IO], lat);
		if (r.status != KVMBOX_SCHED_HALTED && r.status != KVMBOX_SCHED_STOPPED &&
		    r.status != KVMBOX_SCHED_CANCELLED && !(r.status == KVMBOX_SCHED_EXITED && r.exit_status == 0))
			fprintf(f, "  %-12s   %s\n", "", r.message);
		if (r.stats->console_dropped)
			fprintf(f, "  %-12s   console: %llu of %llu bytes dropped (never written: a "
				   "reader slower than the guest or gone, or a failed write)\n", "",
				(unsigned long long)r.stats->console_dropped,
				(unsigned long long)r.stats->console_bytes);
	}
	for (i = 0; i < KVMBOX_CHAN_MAX; i++) {
		struct kvmbox_chan_stats cs;

		if (kvmbox_chan_hub_stats(s->hub, i, &cs, NULL) < 0)
			continue;
		fprintf(f, "  channel %u: %llu sent, %llu received, %u queued (capacity %u), "
			   "%llu sends and %llu receives waited\n",
			i, (unsigned long long)cs.sent, (unsigned long long)cs.received, cs.queued,
			cs.capacity, (unsigned long long)cs.send_blocks,
			(unsigned long long)cs.recv_blocks);
	}
}

/* The length of the well-formed UTF-8 sequence at P (2-4 bytes), or 0 when none starts there
 * (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *p)
{
	static const struct { unsigned char lo, hi; } second[] = {
		[0xe0 & 0x0f] = { 0xa0, 0xbf }, [0xed & 0x0f] = { 0x80, 0x9f },
	};
	size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	unsigned char lo = 0x80, hi = 0xbf;

	if (n == 3 && (p[0] == 0xe0 || p[0] == 0xed)) {
		lo = second[p[0] & 0x0f].lo;
		hi = second[p[0] & 0x0f].hi;
	} else if (n == 4) {
		lo = p[0] == 0xf0 ? 0x90 : 0x80;
		hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	}
	if (!n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
	return n;
}

/* A JSON string (RFC 8259, 7): quotes, backslashes and control characters escaped, UTF-8
 * passed as it is, and any other byte (>= 0x80 but not UTF-8) as U+FFFD, so that any text,
 * a guest's or a user's, makes a document every JSON parser reads. */
static void json_str(FILE *f, const char *str)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		size_t n;

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p < 0x80)
			fputc(*p, f);
		else if ((n = utf8_seq(p)) > 0) {
			fwrite(p, 1, n, f);
			p += n - 1;
		} else
			fputs("\\ufffd", f);
	}
	fputc('"', f);
}

/* "KVM_EXIT_IO" -> "io". */
static void json_exit_key(FILE *f, uint32_t reason)
{
	const char *n = kvmbox_exit_name(reason);

	if (!strncmp(n, "KVM_EXIT_", 9))
		n += 9;
	fputc('"', f);
	for (; *n; n++)
		fputc(*n >= 'A' && *n <= 'Z' ? *n - 'A' + 'a' : *n, f);
	fputc('"', f);
}

int kvmbox_sched_write_json(const struct kvmbox_sched *s, FILE *f)
{
	unsigned i, r;
	bool first = true;

	fprintf(f, "{\"policy\":\"%s\",\"quantum_ns\":%llu,\"wall_ns\":%llu,\"deadlock\":%s,\n\"vms\":[",
		policy_name(s->cfg.policy), (unsigned long long)s->cfg.quantum_ns,
		(unsigned long long)(s->end_ns - s->start_ns), s->deadlock ? "true" : "false");
	for (i = 0; i < s->nvms; i++) {
		struct kvmbox_sched_vm_report rep;

		kvmbox_sched_report(s, i, &rep);
		fprintf(f, "%s\n {\"name\":", i ? "," : "");
		json_str(f, rep.name);
		fprintf(f, ",\"cpu_ns\":%llu,\"share\":%u,\"share_asked\":%.6f,\"share_achieved\":%.6f,"
			   "\"quanta\":%llu,\"preemptions\":%llu,\n  \"exits\":{\"total\":%llu",
			(unsigned long long)rep.cpu_ns, rep.share, rep.share_asked, rep.share_achieved,
			(unsigned long long)rep.quanta, (unsigned long long)rep.preemptions,
			(unsigned long long)rep.stats->exits);
		for (r = 0; r < KVMBOX_EXIT_REASONS; r++) {
			if (!rep.stats->by_reason[r])
				continue;
			fputc(',', f);
			json_exit_key(f, r);
			fprintf(f, ":%llu", (unsigned long long)rep.stats->by_reason[r]);
		}
		fprintf(f, ",\"io_in\":%llu,\"io_out\":%llu,\"hypercalls\":%llu,\"bad_calls\":%llu,"
			   "\"kvm_runs\":%llu},\n  \"preempt_latency_ns\":{\"p50\":%llu,\"p99\":%llu,"
			   "\"max\":%llu,\"samples\":%zu},\n  \"console\":{\"bytes\":%llu,\"dropped\":%llu},"
			   "\"status\":\"%s\",\"exit_status\":%d,\"message\":",
			(unsigned long long)rep.stats->io_in, (unsigned long long)rep.stats->io_out,
			(unsigned long long)rep.stats->hypercalls,
			(unsigned long long)rep.stats->bad_calls, (unsigned long long)rep.stats->runs,
			(unsigned long long)rep.latency_p50_ns, (unsigned long long)rep.latency_p99_ns,
			(unsigned long long)rep.latency_max_ns, s->vms[i].nlat,
			(unsigned long long)rep.stats->console_bytes,
			(unsigned long long)rep.stats->console_dropped, kvmbox_sched_status_name(rep.status), rep.exit_status);
		json_str(f, rep.message);
		fputc('}', f);
	}
	fputs("],\n\"channels\":[", f);
	for (i = 0; i < KVMBOX_CHAN_MAX; i++) {
		struct kvmbox_chan_stats cs;

		if (kvmbox_chan_hub_stats(s->hub, i, &cs, NULL) < 0)
			continue;
		fprintf(f, "%s{\"chan\":%u,\"sent\":%llu,\"received\":%llu,\"bytes\":%llu,"
			   "\"queued\":%u,\"capacity\":%u,\"send_blocks\":%llu,\"recv_blocks\":%llu}",
			first ? "" : ",", i, (unsigned long long)cs.sent,
			(unsigned long long)cs.received, (unsigned long long)cs.bytes, cs.queued,
			cs.capacity, (unsigned long long)cs.send_blocks,
			(unsigned long long)cs.recv_blocks);
		first = false;
	}
	fputs("]}\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- Trace events (Chrome trace-event format, loads in Perfetto and chrome://tracing) ---- */

static double trace_us(const struct kvmbox_sched *s, uint64_t t)
{
	return t > s->start_ns ? (double)(t - s->start_ns) / 1e3 : 0;
}

void sched_trace_begin(struct kvmbox_sched *s)
{
	FILE *f = s->cfg.trace;
	unsigned i;

	if (!f)
		return;
	fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"policy\":\"%s\",\"quantum_ns\":%llu},\n"
		   "\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
		   "\"args\":{\"name\":\"kvmbox\"}}",
		policy_name(s->cfg.policy), (unsigned long long)s->cfg.quantum_ns);
	for (i = 0; i < s->nvms; i++) {
		fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"args\":{\"name\":", i + 1);
		json_str(f, kvmbox_vm_name(s->vms[i].vm));
		fprintf(f, "}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
			   "\"args\":{\"sort_index\":%u}}", i + 1, i + 1);
	}
}

void sched_trace_slice(struct kvmbox_sched *s, unsigned i, uint64_t t0, uint64_t t1, const char *why)
{
	FILE *f = s->cfg.trace;

	if (!f)
		return;
	fputs(",\n{\"name\":", f);
	json_str(f, kvmbox_vm_name(s->vms[i].vm));
	fprintf(f, ",\"cat\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,"
		   "\"args\":{\"end\":\"%s\"}}",
		i + 1, trace_us(s, t0), t1 > t0 ? (double)(t1 - t0) / 1e3 : 0, why);
}

void sched_trace_instant(struct kvmbox_sched *s, unsigned i, uint64_t t, const char *what)
{
	FILE *f = s->cfg.trace;

	if (!f)
		return;
	fprintf(f, ",\n{\"name\":\"%s\",\"cat\":\"state\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,"
		   "\"tid\":%u,\"ts\":%.3f}", what, i + 1, trace_us(s, t));
}

void sched_trace_end(struct kvmbox_sched *s)
{
	/* Not flushed here: the caller's flush or close is where a full disk shows, with its
	 * errno (a failed flush here would leave only ferror to see). */
	if (s->cfg.trace)
		fputs("\n]}\n", s->cfg.trace);
}
