/* An embedder whose own functions carry names the library uses inside (set_error, log_msg,
 * mem_read, hub_send), with meanings of its own, built out of tree against an installed
 * kvmbox and linked with its static library (tests/install/run.sh). The library exports only
 * kvmbox_* names, so the program links without a clash and each side keeps its own
 * functions: kvmbox's errors read as kvmbox words them, and the program's calls reach its own
 * code. No /dev/kvm needed. Exit status: 0 pass, 1 fail (what differed, on stderr). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <kvmbox/chan.h>
#include <kvmbox/sched.h>

/* The program's own error and log functions, which happen to share kvmbox's internal names. */
static char last_error[128];
static unsigned own_calls;

int set_error(const char *fmt, ...);
void log_msg(int level, const char *fmt, ...);
int mem_read(const char *name);
int hub_send(int chan);

int set_error(const char *fmt, ...)
{
	va_list ap;

	own_calls++;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -1;
}

void log_msg(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
	own_calls++;
}

int mem_read(const char *name)
{
	own_calls++;
	return (int)strlen(name);
}

int hub_send(int chan)
{
	own_calls++;
	return chan + 1;
}

/* kvmbox's message for a call that failed: WANT must be in it, and none of ours was called. */
static int expect(int ret, const struct kvmbox_error *err, const char *want, unsigned calls_before)
{
	if (ret >= 0) {
		fprintf(stderr, "embed_names: the call succeeded; expected an error '%s'\n", want);
		return 1;
	}
	if (!strstr(err->msg, want)) {
		fprintf(stderr, "embed_names: error '%s', not kvmbox's '%s'\n", err->msg, want);
		return 1;
	}
	if (own_calls != calls_before) {
		fprintf(stderr, "embed_names: kvmbox called the program's own functions (%u calls)\n",
			own_calls - calls_before);
		return 1;
	}
	return 0;
}

int main(void)
{
	struct kvmbox_sched_config cfg = { .policy = (enum kvmbox_sched_policy)99 };
	struct kvmbox_error err = { "" };
	struct kvmbox_chan_hub *hub = NULL;
	struct kvmbox_sched *sched = NULL;
	int failed = 0, ret;

	ret = kvmbox_chan_hub_create(&hub, &err);
	if (ret < 0) {
		fprintf(stderr, "embed_names: kvmbox_chan_hub_create: %s\n", err.msg);
		return 1;
	}
	ret = kvmbox_chan_hub_set_capacity(hub, KVMBOX_CHAN_MAX + 1, 1, &err);
	failed |= expect(ret, &err, "channel 65: capacity 1", own_calls);
	kvmbox_chan_hub_destroy(hub);
	err.msg[0] = 0;
	ret = kvmbox_sched_create(&sched, &cfg, &err);
	failed |= expect(ret, &err, "kvmbox_sched_create: unknown policy 99", own_calls);
	if (ret >= 0)
		kvmbox_sched_destroy(sched);

	/* The program's own functions are still its own. */
	if (set_error("mine %d", 7) != -1 || strcmp(last_error, "mine 7") != 0 ||
	    mem_read("four") != 4 || hub_send(1) != 2) {
		fprintf(stderr, "embed_names: the program's own functions do not answer as written\n");
		failed = 1;
	}
	log_msg(0, "done");
	if (own_calls != 4) {
		fprintf(stderr, "embed_names: %u calls reached the program's functions, not 4\n", own_calls);
		failed = 1;
	}
	if (!failed)
		fprintf(stderr, "embed_names: kvmbox's errors and the program's functions kept apart\n");
	return failed;
}
