/* The gdb server as a VM feature: the listening socket (made at create, before any sandbox),
 * one gdb session at a time over the KVM target, and the run-loop hooks that stop the vCPU for
 * gdb and serve it. While the guest runs, a watcher thread polls the socket and kicks the vCPU
 * out of KVM_RUN (immediate_exit and a signal) when gdb connects, sends Ctrl-C or goes away. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "console.h"
#include "fault/fault.h"
#include "feature.h"
#include "gdb/conn.h"
#include "gdb/kvm_target.h"
#include "gdb/stub.h"
#include "log.h"
#include "signals.h"
#include "util.h"
#include "vm.h"

extern const struct vm_feature gdb_feature;

/* Kicks the vCPU thread out of KVM_RUN; its handler does nothing (the EINTR is the point). */
#define KICK_SIGNAL GDB_KICK_SIGNAL
/* How often a wait for gdb looks at the run's cancel flag and deadline. */
#define WAIT_SLICE_MS 100

struct gdb_session {
	struct kvmbox_vm *vm;
	struct gdb_conn conn;
	struct gdb_stub *stub;   /* the session with the connected gdb; NULL without one */
	struct gdb_kvm target;
	bool wait_first;         /* gdb_wait: hold the first instruction until gdb is there */
	bool stop_pending;       /* an exit the target caused: stop for gdb before the next run */
	bool io_step;            /* a port I/O exit while stepping: the step ends with the I/O */
	struct gdb_stop pending;
	char address[320];

	pthread_t vcpu;          /* the thread in KVM_RUN (the one calling the hooks) */
	pthread_t watcher;
	bool watcher_started;
	bool watcher_failed;     /* pthread_create failed: run without it */
	pthread_mutex_t lock;    /* watch, quit, kick and run->immediate_exit */
	pthread_cond_t cond;
	int wake_fd;             /* eventfd: tells the watcher to stop polling */
	atomic_bool watch;       /* the guest runs: the watcher polls the socket */
	atomic_bool kick;        /* the watcher saw gdb: stop before the next KVM_RUN */
	bool quit;
};

static void on_kick(int sig)
{
	(void)sig;
}

/* The watcher: while the guest runs, wait for gdb's bytes (Ctrl-C, a new gdb, EOF). */
static void *watch_loop(void *arg)
{
	struct gdb_session *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->quit) {
		struct pollfd p[2] = { { .fd = s->wake_fd, .events = POLLIN } };
		uint64_t v;
		int n;

		if (!atomic_load(&s->watch)) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		/* The listening socket only without a client: one queued behind it would wake
		 * us for ever. */
		p[1] = (struct pollfd){ .fd = s->conn.fd >= 0 ? s->conn.fd : s->conn.listen_fd,
					.events = POLLIN };
		pthread_mutex_unlock(&s->lock);
		n = poll(p, 2, -1);
		pthread_mutex_lock(&s->lock);
		if (n > 0 && (p[0].revents & POLLIN) && read(s->wake_fd, &v, sizeof(v)) < 0)
			v = 0;
		if (n > 0 && p[1].revents && atomic_load(&s->watch)) {
			atomic_store(&s->watch, false);
			atomic_store(&s->kick, true);
			s->vm->run->immediate_exit = 1; /* a kick between two KVM_RUNs is not lost */
			pthread_kill(s->vcpu, KICK_SIGNAL);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The guest is about to run: let the watcher poll. The thread starts here, at the first
 * run, not at create: a thread that exists when the process sandbox is entered would stay
 * outside its Landlock domain (src/sandbox/), which binds only the calling thread and the
 * threads it starts later. Without the thread gdb still works, but is heard only when the
 * guest stops. The watcher blocks every signal: a process-directed one (the embedder's
 * SIGINT) then goes to a thread that can act on it, not to one polling a socket while the
 * vCPU thread stays in KVM_RUN. */
static void start_watch(struct gdb_session *s)
{
	sigset_t all, old;
	int rc;

	if (atomic_load(&s->watch) || s->watcher_failed)
		return;
	if (!s->watcher_started) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&s->watcher, NULL, watch_loop, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc) {
			s->watcher_failed = true;
			log_msg(s->vm->log, KVMBOX_LOG_WARN, s->vm->name, "gdb: cannot start the watcher "
				"thread (%s): gdb is heard only when the guest stops", strerror(rc));
			return;
		}
		s->watcher_started = true;
	}
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->watch, true);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The vCPU stopped: the watcher lets go of the socket, and a kick it sent is void. */
static void stop_watch(struct gdb_session *s)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	if (atomic_load(&s->watch) && write(s->wake_fd, &one, sizeof(one)) < 0)
		log_msg(s->vm->log, KVMBOX_LOG_WARN, s->vm->name, "gdb: eventfd: %s", strerror(errno));
	atomic_store(&s->watch, false);
	atomic_store(&s->kick, false);
	s->vm->run->immediate_exit = 0;
	pthread_mutex_unlock(&s->lock);
}

/* gdb detached, killed the guest or went away: the guest runs on without breakpoints. */
static void end_session(struct gdb_session *s)
{
	if (!s->stub)
		return;
	gdb_conn_flush(&s->conn, s->stub);
	gdb_kvm_release(&s->target);
	gdb_stub_destroy(s->stub);
	s->stub = NULL;
	gdb_conn_drop_client(&s->conn);
	log_msg(s->vm->log, KVMBOX_LOG_INFO, s->vm->name, "gdb: session over");
}

/* Must a wait for gdb end the run now: the run's cancel flag is set (a signal), or its hard
 * deadline (--timeout) passed, which counts while the guest is stopped too? Then the stop is
 * requested, with WHAT saying what the wait was ("while stopped in gdb"). */
static bool run_must_end(struct gdb_session *s, const char *what)
{
	struct kvmbox_vm *vm = s->vm;

	if (vm->cancel && *vm->cancel) {
		vm_request_stop(vm, KVMBOX_STOP_CANCELLED, 0, "cancelled %s", what);
		return true;
	}
	if (vm->deadline_ns && now_ns() >= vm->deadline_ns) {
		vm_request_stop(vm, KVMBOX_STOP_TIMEOUT, 0, "deadline passed %s", what);
		return true;
	}
	return false;
}

/* gdb's session state after a packet: resumed (the guest runs next), over, or stopped. */
static bool session_step(struct gdb_session *s)
{
	enum gdb_stub_state st = gdb_stub_state(s->stub);

	if (st == GDB_STUB_RUNNING) {
		if (gdb_kvm_go(&s->target) < 0)
			log_msg(s->vm->log, KVMBOX_LOG_WARN, s->vm->name, "gdb: KVM_SET_GUEST_DEBUG failed");
		return true;
	}
	if (st == GDB_STUB_CLOSED) {
		if (s->target.killed)
			vm_request_stop(s->vm, KVMBOX_STOP_CANCELLED, 0, "killed from gdb");
		end_session(s);
		return true;
	}
	return false;
}

/* Serve gdb while the vCPU is stopped, until gdb resumes it, ends the session, or the run
 * must end (run_must_end: a signal, the deadline), however silent gdb is. */
static void serve(struct gdb_session *s)
{
	while (s->stub && !session_step(s)) {
		struct pollfd p = { .fd = s->conn.fd, .events = POLLIN };

		if (run_must_end(s, "while stopped in gdb"))
			return;
		if (poll(&p, 1, WAIT_SLICE_MS) <= 0)
			continue;
		if (gdb_conn_pump(&s->conn, s->stub) < 0)
			end_session(s); /* gdb went away: as a detach */
	}
}

/* Stop the vCPU for gdb with STOP (told to gdb when it waits for a stop) and serve it. */
static void stop_for_gdb(struct gdb_session *s, const struct gdb_stop *stop)
{
	stop_watch(s);
	vm_console_flush(s->vm); /* the guest's output before the stop, as a user expects */
	gdb_kvm_stop(&s->target, stop);
	if (s->stub && gdb_stub_state(s->stub) == GDB_STUB_RUNNING) {
		gdb_stub_stopped(s->stub, stop);
		if (gdb_conn_flush(&s->conn, s->stub) < 0)
			end_session(s);
	}
	serve(s);
}

/* A gdb is at the listening socket: take it; the vCPU stops where it is (T05, as QEMU). */
static void attach(struct gdb_session *s, int timeout_ms)
{
	static const struct gdb_stop here = { .kind = GDB_STOP_STEP };
	struct kvmbox_error err = { "" };

	if (gdb_conn_accept(&s->conn, timeout_ms, &err) < 0)
		return;
	s->wait_first = false; /* -S waits for the first gdb only, however its session ends */
	if (gdb_stub_create(&gdb_kvm_ops, &s->target, s->target.tdesc, &s->stub) < 0) {
		gdb_conn_drop_client(&s->conn);
		return;
	}
	log_msg(s->vm->log, KVMBOX_LOG_INFO, s->vm->name, "gdb: attached");
	stop_for_gdb(s, &here);
}

/* The watcher kicked the vCPU: a new gdb, Ctrl-C from the one attached, or its EOF. */
static void kicked(struct gdb_session *s)
{
	static const struct gdb_stop ctrl_c = { .kind = GDB_STOP_INTERRUPT };

	stop_watch(s);
	if (!s->stub) {
		attach(s, 0);
		return;
	}
	if (gdb_conn_pump(&s->conn, s->stub) < 0) {
		end_session(s);
		return;
	}
	if (s->target.interrupted)
		stop_for_gdb(s, &ctrl_c);
}

static void gdb_before_run(struct kvmbox_vm *vm, void *state, const struct kvmbox_run_opts *opts)
{
	struct gdb_session *s = state;
	struct gdb_stop stop;

	(void)opts; /* the run's cancel flag and deadline are the VM's (run_must_end) */
	s->vcpu = pthread_self();
	while (s->wait_first && !s->stub && vm->pending == KVMBOX_STOP_NONE) {
		if (run_must_end(s, "while waiting for gdb"))
			return;
		attach(s, WAIT_SLICE_MS);
	}
	if (s->io_step) {
		s->io_step = false;
		if (gdb_kvm_io_step(&s->target, &stop))
			stop_for_gdb(s, &stop);
	}
	if (s->stop_pending) {
		s->stop_pending = false;
		stop_for_gdb(s, &s->pending);
	}
	if (atomic_load(&s->kick))
		kicked(s);
	if (vm->pending == KVMBOX_STOP_NONE)
		start_watch(s);
}

static bool gdb_exit(struct kvmbox_vm *vm, void *state)
{
	struct gdb_session *s = state;
	bool consumed;

	if (!s->stub)
		return false;
	if (gdb_kvm_exit(&s->target, &s->pending, &consumed))
		s->stop_pending = true;
	else if (vm->run->exit_reason == KVM_EXIT_IO && s->target.stepping)
		s->io_step = true;
	return consumed;
}

/* A guest exception the crash-report handlers caught (src/fault/): the registers are already
 * rewound to the faulting instruction, so gdb gets a SIGSEGV/SIGILL/SIGFPE stop there and may
 * look around. The run is over: a resume gets the end of the guest with that signal. */
static void exception_stop(struct gdb_session *s, const struct x86_exception *e)
{
	struct gdb_stop stop = { .kind = GDB_STOP_EXCEPTION, .code = e->vector };

	vm_console_flush(s->vm);
	gdb_kvm_take(&s->target, &stop); /* no I/O to complete: the report's out ended the run */
	gdb_stub_stopped(s->stub, &stop);
	if (gdb_conn_flush(&s->conn, s->stub) < 0) {
		end_session(s);
		return;
	}
	serve(s);
}

/* The run ended: gdb waiting for a stop learns that the guest is gone (W or X), after a
 * stop at the faulting instruction when an exception ended it. */
static void gdb_run_end(struct kvmbox_vm *vm, void *state, const struct kvmbox_result *res)
{
	struct gdb_session *s = state;
	const struct x86_exception *e = res->stop == KVMBOX_STOP_FAULT ? vm_exception(vm) : NULL;
	struct gdb_stop stop = { .kind = GDB_STOP_KILLED, .code = e ? e->vector : 8 /* #DF */ };

	if (res->stop == KVMBOX_STOP_PREEMPTED || res->stop == KVMBOX_STOP_YIELD ||
	    res->stop == KVMBOX_STOP_BLOCKED)
		return;
	stop_watch(s);
	if (s->stub && e && gdb_stub_state(s->stub) == GDB_STUB_RUNNING)
		exception_stop(s, e);
	if (!s->stub)
		return;
	if (res->stop == KVMBOX_STOP_HALT || res->stop == KVMBOX_STOP_EXIT)
		stop = (struct gdb_stop){ .kind = GDB_STOP_EXITED, .code = (unsigned)res->status & 0xff };
	if (gdb_stub_state(s->stub) == GDB_STUB_RUNNING)
		gdb_stub_stopped(s->stub, &stop);
	end_session(s);
}

/* ---- create and destroy ----------------------------------------------------------------- */

static void describe(struct gdb_session *s)
{
	const struct gdb_conn_spec *sp = &s->conn.spec;

	if (sp->kind == GDB_CONN_UNIX)
		snprintf(s->address, sizeof(s->address), "unix:%s", sp->path);
	else
		snprintf(s->address, sizeof(s->address), strchr(sp->host, ':') ? "tcp:[%s]:%u" : "tcp:%s:%u",
			 sp->host, gdb_conn_port(&s->conn));
}

/* The kick signal's handler (process-wide, idempotent) and the watcher's eventfd; the
 * thread itself starts with the first run (start_watch). */
static int prepare_watcher(struct gdb_session *s, struct kvmbox_error *err)
{
	struct sigaction sa = { .sa_handler = on_kick, .sa_flags = SA_RESTART };

	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0)
		return set_error(err, errno, "gdb: eventfd: %s", strerror(errno));
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return set_error(err, errno, "gdb: sigaction: %s", strerror(errno));
	return 0;
}

static void gdb_release(struct kvmbox_vm *vm, void *state)
{
	struct gdb_session *s = state;
	uint64_t one = 1;

	(void)vm;
	if (!s)
		return;
	if (s->watcher_started) {
		pthread_mutex_lock(&s->lock);
		s->quit = true;
		pthread_cond_signal(&s->cond);
		if (write(s->wake_fd, &one, sizeof(one)) < 0)
			one = 0;
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->watcher, NULL);
	}
	gdb_stub_destroy(s->stub);
	gdb_conn_close(&s->conn);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int gdb_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
		    struct kvmbox_error *err)
{
	struct gdb_conn_spec spec;
	struct gdb_session *s;
	int ret;

	if (!cfg->gdb)
		return 0;
	if (!(s = calloc(1, sizeof(*s))))
		return set_error(err, ENOMEM, "gdb: out of memory");
	s->vm = vm;
	s->wake_fd = -1;
	s->conn.fd = s->conn.listen_fd = -1;
	s->conn.remover_go = s->conn.remover_done = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	*state = s;
	ret = gdb_conn_parse(cfg->gdb, &spec, err);
	if (ret == 0)
		ret = gdb_conn_listen(&s->conn, &spec, err);
	if (ret < 0)
		return ret;
	s->wait_first = cfg->gdb_wait;
	s->target.vm = vm;
	s->target.tdesc = gdb_tdesc_for_mode(cfg->mode);
	s->target.last.kind = GDB_STOP_STEP;
	/* Probed here, before any sandbox: it creates a VM of its own. */
	s->target.caps = gdb_kvm_probe();
	describe(s);
	log_msg(vm->log, KVMBOX_LOG_INFO, vm->name,
		"gdb: listening on %s (breakpoints: planted hlt; hbreak: %s; watchpoints: %s)",
		s->address, s->target.caps & GDB_KVM_DR_EXEC ? "debug registers" : "planted hlt",
		s->target.caps & GDB_KVM_DR_WRITE ? "debug registers" : "none, the debug registers do not fire for data here");
	return prepare_watcher(s, err);
}

const char *kvmbox_vm_gdb_address(const struct kvmbox_vm *vm)
{
	const struct gdb_session *s = vm ? vm_feature_state(vm, &gdb_feature) : NULL;

	return s ? s->address : "";
}

const struct vm_feature gdb_feature = {
	.name = "gdb",
	.init = gdb_init,
	.release = gdb_release,
	.before_run = gdb_before_run,
	.exit = gdb_exit,
	.run_end = gdb_run_end,
};
