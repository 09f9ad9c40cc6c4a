/* The scheduler: several VMs on the calling thread. Each step ends the VMs whose time is up,
 * wakes the VMs whose channel call was completed (the hub's wake callback said so), detects a deadlock, picks one VM by the
 * policy and runs it for one quantum (timer preemption in kvmbox_vm_run) or until its next
 * I/O exit, then accounts the guest time it used. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/log.h"
#include "base/util.h"
#include "sched/sched_int.h"

#define QUANTUM_DEFAULT_NS 10000000ull
#define SHARE_MAX 1000000u
/* vruntime advances by guest ns * SHARE_SCALE / share: fixed point, no float in the loop. */
#define SHARE_SCALE 1024u

/* The script's digits as 0-based VM indices. Returns 0 or -EINVAL. */
static int parse_script(struct kvmbox_sched *s, const char *text, struct kvmbox_error *err)
{
	size_t n = 0, cap = strlen(text);
	bool comment = false;

	s->script = malloc(cap ? cap : 1);
	if (!s->script)
		return set_error(err, ENOMEM, "out of memory");
	for (const char *p = text; *p; p++) {
		if (comment) {
			comment = *p != '\n';
			continue;
		}
		if (*p == '#')
			comment = true;
		else if (*p >= '1' && *p <= '9')
			s->script[n++] = (char)(*p - '1');
		else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ',')
			return set_error(err, EINVAL,
					 "schedule: '%c' is not a VM number (1-9), a space or a # comment",
					 *p);
	}
	if (!n)
		return set_error(err, EINVAL, "schedule: no VM number in it");
	s->script_len = n;
	return 0;
}

/* The hub's wake callback: a peer's call completed VM's pending channel call. Only noted
 * here (it runs inside that peer's hypercall); the loop wakes the VM at its next step. */
static void on_wake(void *ctx, struct kvmbox_vm *vm)
{
	struct kvmbox_sched *s = ctx;
	unsigned i;

	for (i = 0; i < s->nvms; i++)
		if (s->vms[i].vm == vm) {
			s->vms[i].woken = true;
			s->any_woken = true;
		}
}

int kvmbox_sched_create(struct kvmbox_sched **sp, const struct kvmbox_sched_config *cfg,
			struct kvmbox_error *err)
{
	struct kvmbox_sched *s;
	int ret;

	if (!sp || !cfg)
		return set_error(err, EINVAL, "kvmbox_sched_create: NULL argument");
	if (cfg->policy > KVMBOX_SCHED_SCRIPT)
		return set_error(err, EINVAL, "kvmbox_sched_create: unknown policy %d", cfg->policy);
	if (cfg->policy == KVMBOX_SCHED_SCRIPT && !cfg->script)
		return set_error(err, EINVAL, "the script policy needs a schedule");
	s = calloc(1, sizeof(*s));
	if (!s)
		return set_error(err, ENOMEM, "out of memory");
	s->cfg = *cfg;
	s->cfg.script = NULL;
	if (!s->cfg.quantum_ns)
		s->cfg.quantum_ns = QUANTUM_DEFAULT_NS;
	if (cfg->policy == KVMBOX_SCHED_IO)
		s->cfg.yield_on_io = true;
	if (cfg->policy == KVMBOX_SCHED_SCRIPT) {
		ret = parse_script(s, cfg->script, err);
		if (ret < 0)
			goto destroy;
	}
	ret = kvmbox_chan_hub_create(&s->hub, err);
	if (ret < 0)
		goto destroy;
	kvmbox_chan_hub_set_wake(s->hub, on_wake, s);
	*sp = s;
	return 0;

destroy:
	kvmbox_sched_destroy(s);
	return ret;
}

void kvmbox_sched_destroy(struct kvmbox_sched *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->nvms; i++) {
		kvmbox_chan_hub_detach(s->vms[i].vm);
		free(s->vms[i].lat);
	}
	kvmbox_chan_hub_destroy(s->hub);
	free(s->vms);
	free(s->script);
	free(s->picks);
	free(s);
}

struct kvmbox_chan_hub *kvmbox_sched_hub(struct kvmbox_sched *s)
{
	return s->hub;
}

int kvmbox_sched_add(struct kvmbox_sched *s, struct kvmbox_vm *vm, unsigned share,
		     uint64_t timeout_ns, struct kvmbox_error *err)
{
	int ret;

	if (!s || !vm || share < 1 || share > SHARE_MAX)
		return set_error(err, EINVAL, "kvmbox_sched_add: share must be 1..%u", SHARE_MAX);
	if (s->ran)
		return set_error(err, EBUSY, "kvmbox_sched_add: the scheduler already ran");
	if (s->nvms == UINT16_MAX)
		return set_error(err, EINVAL, "kvmbox_sched_add: too many VMs");
	if (s->nvms == s->cap_vms) {
		unsigned n = s->cap_vms ? 2 * s->cap_vms : 8;
		struct sched_vm *v = realloc(s->vms, n * sizeof(*v));

		if (!v)
			return set_error(err, ENOMEM, "out of memory");
		s->vms = v;
		s->cap_vms = n;
	}
	ret = kvmbox_chan_hub_attach(s->hub, vm, err);
	if (ret < 0)
		return ret;
	s->vms[s->nvms] = (struct sched_vm){ .vm = vm, .share = share, .timeout_ns = timeout_ns,
					     .state = SVM_RUNNABLE };
	s->nlive++;
	s->nrunnable++;
	return (int)s->nvms++;
}

int kvmbox_sched_record(struct kvmbox_sched *s, size_t max_entries)
{
	uint16_t *p = realloc(s->picks, (max_entries ? max_entries : 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	s->picks = p;
	s->max_picks = max_entries;
	s->npicks = 0;
	return 0;
}

size_t kvmbox_sched_picks(const struct kvmbox_sched *s, const uint16_t **picks)
{
	*picks = s->picks;
	return s->npicks;
}

bool kvmbox_sched_deadlocked(const struct kvmbox_sched *s)
{
	return s->deadlock;
}

unsigned kvmbox_sched_count(const struct kvmbox_sched *s)
{
	return s->nvms;
}

/* ---- VM state ------------------------------------------------------------------------- */

static void end_vm(struct kvmbox_sched *s, unsigned i, enum kvmbox_sched_status st, int status,
		   const char *msg)
{
	struct sched_vm *v = &s->vms[i];

	if (v->state != SVM_DONE)
		s->nlive--;
	if (v->state == SVM_RUNNABLE)
		s->nrunnable--;
	v->state = SVM_DONE;
	v->status = st;
	v->exit_status = status;
	snprintf(v->message, sizeof(v->message), "%s", msg);
	/* Its pending channel call, if any, can no longer complete; its sent records stay. */
	kvmbox_chan_hub_detach(v->vm);
	log_msg(s->cfg.log, KVMBOX_LOG_INFO, kvmbox_vm_name(v->vm), "%s: %s",
		kvmbox_sched_status_name(st), msg);
	sched_trace_instant(s, i, now_ns(), kvmbox_sched_status_name(st));
}

static void end_from_result(struct kvmbox_sched *s, unsigned i, const struct kvmbox_result *res)
{
	static const enum kvmbox_sched_status map[] = {
		[KVMBOX_STOP_HALT] = KVMBOX_SCHED_HALTED,
		[KVMBOX_STOP_EXIT] = KVMBOX_SCHED_EXITED,
		[KVMBOX_STOP_FAULT] = KVMBOX_SCHED_FAULT,
		[KVMBOX_STOP_ASSERT] = KVMBOX_SCHED_ASSERT,
		[KVMBOX_STOP_BAD_CALL] = KVMBOX_SCHED_BAD_CALL,
		[KVMBOX_STOP_TIMEOUT] = KVMBOX_SCHED_TIMEOUT,
		[KVMBOX_STOP_HOST_ERROR] = KVMBOX_SCHED_HOST_ERROR,
		[KVMBOX_STOP_CANCELLED] = KVMBOX_SCHED_CANCELLED,
	};
	enum kvmbox_sched_status st = KVMBOX_SCHED_HOST_ERROR;

	if ((size_t)res->stop < ARRAY_SIZE(map) && map[res->stop])
		st = map[res->stop];
	end_vm(s, i, st, res->status, res->msg);
}

/* A VM whose wait was completed by a peer's call becomes runnable. Under the share policy it
 * must not bank the time it slept: its vruntime is raised to the least runnable one
 * (as CFS does on wakeup), so it competes from now on instead of monopolising the CPU. */
static void wake(struct kvmbox_sched *s, unsigned i)
{
	uint64_t min = UINT64_MAX;
	unsigned k;

	for (k = 0; k < s->nvms; k++)
		if (s->vms[k].state == SVM_RUNNABLE && s->vms[k].vruntime < min)
			min = s->vms[k].vruntime;
	if (min != UINT64_MAX && s->vms[i].vruntime < min)
		s->vms[i].vruntime = min;
	s->vms[i].state = SVM_RUNNABLE;
	s->vms[i].woken = false;
	s->nrunnable++;
}

/* ---- Policies --------------------------------------------------------------------------- */

static int pick_rr(struct kvmbox_sched *s)
{
	unsigned k;

	for (k = 0; k < s->nvms; k++) {
		unsigned i = (s->rr_next + k) % s->nvms;

		if (s->vms[i].state == SVM_RUNNABLE) {
			s->rr_next = (i + 1) % s->nvms;
			return (int)i;
		}
	}
	return -ENOENT; /* no runnable VM */
}

/* Least vruntime first; ties go round robin so equal VMs alternate from the start. */
static int pick_share(struct kvmbox_sched *s)
{
	int best = -1;
	unsigned k;

	for (k = 0; k < s->nvms; k++) {
		unsigned i = (s->rr_next + k) % s->nvms;

		if (s->vms[i].state == SVM_RUNNABLE &&
		    (best < 0 || s->vms[i].vruntime < s->vms[best].vruntime))
			best = (int)i;
	}
	if (best >= 0)
		s->rr_next = ((unsigned)best + 1) % s->nvms;
	return best;
}

static int pick_script(struct kvmbox_sched *s)
{
	size_t k;

	for (k = 0; k < s->script_len; k++) {
		unsigned i = (unsigned char)s->script[s->script_pos];

		s->script_pos = (s->script_pos + 1) % s->script_len;
		if (i < s->nvms && s->vms[i].state == SVM_RUNNABLE)
			return (int)i;
		s->script_skips++;
	}
	return pick_rr(s);
}

static int pick(struct kvmbox_sched *s)
{
	switch (s->cfg.policy) {
	case KVMBOX_SCHED_SHARE:
		return pick_share(s);
	case KVMBOX_SCHED_SCRIPT:
		return pick_script(s);
	default:
		return pick_rr(s);
	}
}

/* ---- The loop ---------------------------------------------------------------------------- */

static void add_latency(struct sched_vm *v, uint64_t ns)
{
	if (v->nlat == v->cap_lat) {
		size_t n = v->cap_lat ? 2 * v->cap_lat : 64;
		uint64_t *p = realloc(v->lat, n * sizeof(*p));

		if (!p)
			return; /* a lost sample only thins the statistics */
		v->lat = p;
		v->cap_lat = n;
	}
	v->lat[v->nlat++] = ns;
}

/* End VMs whose time is up; wake VMs whose wait completed. Returns the live count and sets
 * *RUNNABLE. Looks at every VM only when a timeout is due or the hub woke a VM: otherwise
 * the counts kept as states change are the answer, and a step costs the same with ten
 * thousand VMs as with two. */
static unsigned update_states(struct kvmbox_sched *s, uint64_t now, unsigned *runnable)
{
	unsigned i;
	char msg[128];

	if (!s->any_woken && now < s->next_deadline) {
		*runnable = s->nrunnable;
		return s->nlive;
	}
	s->any_woken = false;
	s->next_deadline = UINT64_MAX;
	for (i = 0; i < s->nvms; i++) {
		struct sched_vm *v = &s->vms[i];

		if (v->state == SVM_DONE)
			continue;
		if (v->deadline && now >= v->deadline) {
			snprintf(msg, sizeof(msg), "still running after its timeout of %.3f s: stopped",
				 (double)v->timeout_ns / 1e9);
			end_vm(s, i, KVMBOX_SCHED_TIMEOUT, 0, msg);
			continue;
		}
		if (v->deadline && v->deadline < s->next_deadline)
			s->next_deadline = v->deadline;
		if (v->state == SVM_BLOCKED && v->woken)
			wake(s, i);
	}
	*runnable = s->nrunnable;
	return s->nlive;
}

static void report_deadlock(struct kvmbox_sched *s)
{
	unsigned i;
	char msg[160];

	s->deadlock = true;
	for (i = 0; i < s->nvms; i++) {
		bool sending = false;
		int chan;

		if (s->vms[i].state != SVM_BLOCKED)
			continue;
		chan = kvmbox_chan_hub_waiting(s->hub, s->vms[i].vm, &sending);
		snprintf(msg, sizeof(msg),
			 "deadlock: waits to %s channel %d, and every other remaining VM waits too",
			 sending ? "send on" : "receive from", chan);
		end_vm(s, i, KVMBOX_SCHED_DEADLOCK, 0, msg);
	}
}

/* Run VM I for one quantum (or to its next I/O exit) and account what it used. */
static void run_one(struct kvmbox_sched *s, unsigned i, uint64_t now)
{
	struct sched_vm *v = &s->vms[i];
	const struct kvmbox_stats *st = kvmbox_vm_stats(v->vm);
	struct kvmbox_run_opts ro = { .flags = s->cfg.yield_on_io ? KVMBOX_RUN_YIELD_ON_IO : 0,
				      .cancel = s->cfg.cancel };
	struct kvmbox_result res;
	uint64_t g0 = st->guest_ns, delta;
	const char *why;
	int ret;

	ro.deadline_ns = now + s->cfg.quantum_ns;
	if (v->deadline && v->deadline < ro.deadline_ns)
		ro.deadline_ns = v->deadline;
	if (s->stop_at_ns && s->stop_at_ns < ro.deadline_ns)
		ro.deadline_ns = s->stop_at_ns;
	v->quanta++;
	if (s->npicks < s->max_picks)
		s->picks[s->npicks++] = (uint16_t)i;

	ret = kvmbox_vm_run(v->vm, &ro, &res);
	if (ret < 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "kvmbox_vm_run: %s", strerror(-ret));
		end_vm(s, i, KVMBOX_SCHED_HOST_ERROR, 0, msg);
		return;
	}
	delta = st->guest_ns - g0;
	v->cpu_ns += delta;
	v->vruntime += delta * SHARE_SCALE / v->share;

	switch (res.stop) {
	case KVMBOX_STOP_PREEMPTED:
		why = "preempted";
		v->preemptions++;
		/* Out of KVM_RUN before the deadline (an older VM's tick ended it): no latency. */
		add_latency(v, st->last_run_end_ns > ro.deadline_ns
				       ? st->last_run_end_ns - ro.deadline_ns
				       : 0);
		break;
	case KVMBOX_STOP_YIELD:
		why = "io";
		break;
	case KVMBOX_STOP_BLOCKED:
		why = "blocked";
		v->state = SVM_BLOCKED;
		s->nrunnable--;
		v->woken = false;
		break;
	default:
		why = "stopped";
		break;
	}
	sched_trace_slice(s, i, now, st->last_run_end_ns, why); /* set by every run that returns 0 */
	if (res.stop != KVMBOX_STOP_PREEMPTED && res.stop != KVMBOX_STOP_YIELD &&
	    res.stop != KVMBOX_STOP_BLOCKED)
		end_from_result(s, i, &res);
}

/* End every VM still running with ST and MSG (the duration's end, a cancel). */
static void end_remaining(struct kvmbox_sched *s, enum kvmbox_sched_status st, const char *msg)
{
	unsigned i;

	for (i = 0; i < s->nvms; i++)
		if (s->vms[i].state != SVM_DONE)
			end_vm(s, i, st, 0, msg);
}

int kvmbox_sched_run(struct kvmbox_sched *s, struct kvmbox_error *err)
{
	unsigned i;

	if (!s)
		return set_error(err, EINVAL, "kvmbox_sched_run: NULL scheduler");
	if (s->ran)
		return set_error(err, EBUSY, "kvmbox_sched_run: already ran");
	if (!s->nvms)
		return set_error(err, EINVAL, "kvmbox_sched_run: no VM to run");
	s->ran = true;
	s->start_ns = now_ns();
	if (s->cfg.duration_ns)
		s->stop_at_ns = s->start_ns + s->cfg.duration_ns;
	s->next_deadline = UINT64_MAX;
	for (i = 0; i < s->nvms; i++) {
		if (s->vms[i].timeout_ns)
			s->vms[i].deadline = s->start_ns + s->vms[i].timeout_ns;
		if (s->vms[i].deadline && s->vms[i].deadline < s->next_deadline)
			s->next_deadline = s->vms[i].deadline;
	}
	sched_trace_begin(s);
	for (;;) {
		uint64_t now = now_ns();
		unsigned live, runnable;
		int next;

		if (s->stop_at_ns && now >= s->stop_at_ns) {
			end_remaining(s, KVMBOX_SCHED_STOPPED, "still running at the end of the run's duration");
			break;
		}
		/* A VM whose run saw the flag ended as CANCELLED already; the others end here. */
		if (s->cfg.cancel && *s->cfg.cancel) {
			end_remaining(s, KVMBOX_SCHED_CANCELLED, "cancelled");
			break;
		}
		live = update_states(s, now, &runnable);
		if (!live)
			break;
		if (!runnable) {
			report_deadlock(s);
			break;
		}
		next = pick(s);
		if (next < 0)
			break; /* cannot happen: a runnable VM exists */
		run_one(s, (unsigned)next, now);
	}
	s->end_ns = now_ns();
	sched_trace_end(s);
	return 0;
}
