/* Least privilege for `kvmbox run` (cli/harden.h): the command's policy (when to warn, whom
 * to become); the library's sandbox does the confining. docs/security.md says why. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "kvmbox/sandbox.h"
#include "harden.h"
#include "status.h"

void cli_close_inherited(void)
{
	/* close_range(2) is Linux 5.9; before it, the descriptors a parent leaks stay open,
	 * which is what every kvmbox did before this existed. */
	if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
}

void cli_apply_profile(const struct run_opts *o, const struct vm_opts *v,
		       struct kvmbox_vm_config *cfg)
{
	cfg->share_file_size_max = v->file_size_max;
	cfg->share_bytes_max = v->share_bytes_max;
	cfg->share_files_max = v->share_files_max;
	if (o->sandbox) {
		cfg->flags |= KVMBOX_VM_HIDE_HOST_ADDRESSES;
		if (!v->file_size_max)
			cfg->share_file_size_max = SANDBOX_FILE_SIZE_MAX;
		if (!v->share_bytes_max)
			cfg->share_bytes_max = SANDBOX_SHARE_BYTES_MAX;
		if (!v->share_files_max)
			cfg->share_files_max = SANDBOX_SHARE_FILES_MAX;
	}
}

/* USER by name, or by number when it is all digits. */
static const struct passwd *find_user(const char *user)
{
	char *end;
	unsigned long uid;

	errno = 0;
	uid = strtoul(user, &end, 10);
	if (*user >= '0' && *user <= '9' && !*end && !errno && uid < 0xffffffffu)
		return getpwuid((uid_t)uid);
	return getpwnam(user);
}

/* Become USER for good: supplementary groups, gid, then uid (the other order would have no
 * right left to change the groups), and check that root cannot be had back. */
static int drop_to(const char *user)
{
	const struct passwd *pw;

	if (geteuid() != 0) {
		fprintf(stderr, "kvmbox: --user %s: kvmbox was not started as root, so there is "
			"nothing to drop (run it as that user instead)\n", user);
		return EXIT_USAGE;
	}
	pw = find_user(user);
	if (!pw) {
		fprintf(stderr, "kvmbox: --user %s: no such user\n", user);
		return EXIT_USAGE;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "kvmbox: --user %s: %s\n", user, strerror(errno));
		return EXIT_HOST;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "kvmbox: --user %s: root could be regained; not running\n", user);
		return EXIT_HOST;
	}
	return EXIT_OK;
}

/* Landlock, or what to do without it (KVMBOX_TEST_NO_LANDLOCK, for tests/host only, makes
 * this kernel look like one without): a share is then kept only by the hypercalls' own
 * checks, which a subverted kvmbox would not make (the filter cannot see paths). --sandbox,
 * the profile for code nobody vouches for, refuses that; a course run goes on, saying so. */
static int landlock_policy(const struct run_opts *o, struct kvmbox_sandbox_config *sc)
{
	bool share = false;

	if (!getenv("KVMBOX_TEST_NO_LANDLOCK") && kvmbox_sandbox_landlock_abi() > 0)
		return EXIT_OK;
	sc->flags |= KVMBOX_SANDBOX_NO_LANDLOCK;
	for (unsigned i = 0; i < o->nvms; i++)
		share |= o->vms[i].share != NULL;
	if (!share)
		return EXIT_OK; /* no call that opens a file is allowed at all then */
	if (o->sandbox) {
		fprintf(stderr, "kvmbox: --sandbox with a share needs Landlock (Linux 5.13 or later, "
			"the landlock LSM enabled), which this kernel lacks: nothing else would keep a "
			"subverted kvmbox's opens inside the share (docs/security.md)\n");
		return EXIT_UNSUPPORTED;
	}
	fprintf(stderr, "kvmbox: this kernel has no Landlock: only the hypercalls' own checks keep "
		"the share's opens inside it, none would stop a subverted kvmbox (docs/security.md; "
		"--sandbox refuses this)\n");
	return EXIT_OK;
}

int cli_harden(const struct run_opts *o, struct kvmbox_vm *const *vms, unsigned n,
	       void (*on_trap)(void *), void *trap_ctx)
{
	struct kvmbox_sandbox_config sc = { .vms = vms, .nvms = n, .on_trap = on_trap,
					    .trap_ctx = trap_ctx };
	struct kvmbox_error err = { "" };
	int status;

	if ((status = landlock_policy(o, &sc)) != EXIT_OK)
		return status;
	/* Once, where a person reads it: not on every scripted or test run as root. */
	if (geteuid() == 0 && !o->user && (o->verbosity || isatty(2)))
		fprintf(stderr, "kvmbox: running as root is not needed: membership in group kvm "
			"suffices (or --user USER drops to USER once /dev/kvm is open)\n");
	if (o->user && (status = drop_to(o->user)) != EXIT_OK)
		return status;
	if (o->no_seccomp) {
		sc.flags |= KVMBOX_SANDBOX_NO_SECCOMP;
		fprintf(stderr, "kvmbox: --no-seccomp: the guest runs WITHOUT the system-call "
			"filter (for debugging kvmbox only)\n");
	}
	if (kvmbox_sandbox_enter(&sc, &err) < 0) {
		fprintf(stderr, "kvmbox: sandbox: %s\n", err.msg);
		return EXIT_HOST;
	}
	/* For tests/host/test_harden.c only: what a subverted kvmbox might try (make another
	 * VM), to prove the filter ends the process. Harmless without the filter (EBADF). */
	if (getenv("KVMBOX_TEST_FORBIDDEN_CALL"))
		(void)ioctl(-1, KVM_CREATE_VM, 0);
	return EXIT_OK;
}
