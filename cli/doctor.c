/* `kvmbox doctor`: probes the KVM device (kvmbox_host_probe) and, when it is usable, runs the
 * real mode probes (kvmbox_host_supports_mode); prints a table, one JSON object or one line. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kvmbox/kvmbox.h"
#include "doctor.h"

#define LANE_CMD "scripts/kvm-in-qemu build/kvmbox run ..."

const char cli_doctor_usage[] =
	"usage: kvmbox doctor [--json | --brief]\n"
	"Check whether this host's KVM can run kvmbox guests, and say why not.\n"
	"Checks the device (present, permissions, the group to join), KVM_GET_API_VERSION,\n"
	"every capability kvmbox uses, the KVM module, whether this kernel is itself a guest,\n"
	"and runs a one-instruction guest in each of the four modes.\n"
	"\n"
	"      --json    one JSON object with the same facts (keys in docs/doctor.md)\n"
	"      --brief   one line: \"KVM usable: MODULE, modes ...\" or the cause\n"
	"  -h, --help    this text\n"
	"\n"
	"The device is $KVMBOX_DEVICE when set (default /dev/kvm); modes are probed only on\n"
	"/dev/kvm, the device kvmbox's VMs open.\n"
	"\n"
	"Exit status: 0 KVM usable and all four modes run; 1 KVM usable but some mode\n"
	"cannot run here; 2 bad usage; 69 no usable KVM (as `kvmbox run` says it).\n";

enum format { FORMAT_TABLE, FORMAT_JSON, FORMAT_BRIEF };

/* What one mode probe said. */
struct mode_result {
	enum kvmbox_mode mode;
	int runs; /* 1 yes, 0 no, -1 the probe failed, -2 not probed */
	char reason[256];
};

struct doctor {
	struct kvmbox_host_info info;
	struct mode_result modes[4];
	int status;
};

static const enum kvmbox_mode doctor_modes[4] = { KVMBOX_MODE_REAL, KVMBOX_MODE_PROTECTED,
						  KVMBOX_MODE_PAGED32, KVMBOX_MODE_LONG };

/* Probe the four modes with one VM held open: on some hosts (kvm_pvm) creating the only VM
 * costs far more than creating another one. Modes are probed only on the library's device. */
static void probe_modes(struct doctor *d)
{
	struct kvmbox_vm_config cfg = { .name = "doctor", .mode = KVMBOX_MODE_REAL, .console_fd = -1 };
	bool own_device = !strcmp(d->info.device, KVMBOX_DEVICE_DEFAULT);
	struct kvmbox_vm *hold = NULL;
	struct kvmbox_error err;
	int i;

	/* *VMP is set only on success; a VM that cannot be held only makes the probes slower. */
	if (d->info.state == KVMBOX_HOST_OK && own_device && kvmbox_vm_create(&hold, &cfg, &err) < 0)
		hold = NULL;
	for (i = 0; i < 4; i++) {
		struct mode_result *m = &d->modes[i];

		m->mode = doctor_modes[i];
		m->reason[0] = 0;
		if (d->info.state != KVMBOX_HOST_OK || !own_device) {
			m->runs = -2;
			snprintf(m->reason, sizeof(m->reason), "%s", d->info.state != KVMBOX_HOST_OK
				 ? "not probed: no usable KVM"
				 : "not probed: VMs open /dev/kvm, not $KVMBOX_DEVICE");
			continue;
		}
		err.msg[0] = 0;
		m->runs = kvmbox_host_supports_mode(m->mode, &err);
		if (m->runs < 0)
			m->runs = -1;
		if (m->runs != 1)
			snprintf(m->reason, sizeof(m->reason), "%s", err.msg);
	}
	kvmbox_vm_destroy(hold);
}

static int doctor_run(struct doctor *d, const char *device)
{
	int i;

	kvmbox_host_probe(device, &d->info);
	probe_modes(d);
	if (d->info.state != KVMBOX_HOST_OK)
		return d->status = DOCTOR_NO_KVM;
	d->status = DOCTOR_OK;
	for (i = 0; i < 4; i++)
		if (d->modes[i].runs != 1)
			d->status = DOCTOR_SOME_MODE;
	return d->status;
}

/* The modes that run, space-separated ("real protected long"). */
static const char *modes_that_run(const struct doctor *d, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < 4 && n < len; i++)
		if (d->modes[i].runs == 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "",
					      kvmbox_mode_name(d->modes[i].mode));
	return buf[0] ? buf : "none";
}

static void print_brief(const struct doctor *d)
{
	char modes[64];

	if (d->info.state != KVMBOX_HOST_OK)
		printf("no usable KVM: %s\n", d->info.cause);
	else
		printf("KVM usable: %s, modes %s\n", d->info.module[0] ? d->info.module : "unknown module",
		       modes_that_run(d, modes, sizeof(modes)));
}

/* ---- the table ---------------------------------------------------------------------- */

static void row(const char *check, const char *verdict, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void row(const char *check, const char *verdict, const char *fmt, ...)
{
	va_list ap;

	printf("  %-24s %-5s ", check, verdict);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void table_device(const struct kvmbox_host_info *in)
{
	if (!in->exists)
		row("device", "FAIL", "%s does not exist", in->device);
	else
		row("device", in->is_chardev ? "ok" : "FAIL", "%s: %s, mode %04o, owner %s, group %s",
		    in->device, in->is_chardev ? "character device" : "not a character device",
		    in->st_mode & 07777, in->owner, in->group);
	if (in->open_errno == 0)
		row("open", "ok", "read-write as user %s", in->user);
	else if (in->exists)
		row("open", "FAIL", "as user %s: %s", in->user, strerror(in->open_errno));
	if (in->api_version >= 0)
		row("KVM_GET_API_VERSION", in->api_version == KVM_API_VERSION ? "ok" : "FAIL",
		    "%d (kvmbox needs %d)", in->api_version, KVM_API_VERSION);
}

static void table_caps(const struct kvmbox_host_info *in)
{
	unsigned i;

	for (i = 0; i < in->ncaps && in->api_version == KVM_API_VERSION; i++) {
		const struct kvmbox_host_cap *c = &in->caps[i];
		bool ok = (c->value & c->need) == c->need && c->value > 0;

		row(c->name + strlen("KVM_CAP_"), ok ? "ok" : c->need ? "FAIL" : "warn",
		    "%d (%s%s)", c->value, c->need ? "required: " : "optional: ", c->use);
	}
}

static void table_host(const struct kvmbox_host_info *in)
{
	if (in->module[0])
		row("KVM module", in->paravirtual ? "warn" : "ok", "%s%s", in->module,
		    in->paravirtual ? " (paravirtual PVM: KVM without VMX/SVM; no 32-bit paging)" : "");
	else
		row("KVM module", "FAIL", "%s", in->kvm_module ? "kvm without a vendor module"
							       : "none loaded (/sys/module/kvm absent)");
	row("CPU virtualization", in->cpu_virt ? "ok" : "warn", "%s",
	    in->cpu_virt ? "VMX or SVM in /proc/cpuinfo flags" : "no VMX/SVM in /proc/cpuinfo flags");
	if (in->nested)
		row("nested", "warn", "this kernel runs under a hypervisor (%s)",
		    in->hypervisor[0] ? in->hypervisor : "vendor unknown");
	else
		row("nested", "ok", "no hypervisor below this kernel");
}

static void table_modes(const struct doctor *d)
{
	char check[32];
	int i;

	for (i = 0; i < 4; i++) {
		const struct mode_result *m = &d->modes[i];

		snprintf(check, sizeof(check), "mode %s", kvmbox_mode_name(m->mode));
		if (m->runs == 1)
			row(check, "ok", "runs (a one-instruction guest halted)");
		else
			row(check, m->runs == -2 ? "-" : "FAIL", "%s", m->reason);
	}
}

static void print_table(const struct doctor *d)
{
	const struct kvmbox_host_info *in = &d->info;
	char modes[64];
	int i;

	printf("kvmbox doctor: KVM on this host\n\n");
	table_device(in);
	table_caps(in);
	table_host(in);
	table_modes(d);
	putchar('\n');
	if (in->state != KVMBOX_HOST_OK) {
		printf("no usable KVM: %s\n", in->cause);
		printf("kvmbox cannot run guests directly here. Run kvmbox inside QEMU/TCG with nested "
		       "kvm_amd:\n  " LANE_CMD "\n(`make check` runs the tests there by itself.)\n");
		return;
	}
	printf("KVM usable: %s, modes %s\n", in->module[0] ? in->module : "unknown module",
	       modes_that_run(d, modes, sizeof(modes)));
	for (i = 0; i < 4; i++)
		if (d->modes[i].runs != 1)
			printf("%s mode does not run here; the QEMU lane runs it: "
			       "scripts/kvm-in-qemu build/kvmbox run -m %s ...\n",
			       kvmbox_mode_name(d->modes[i].mode), kvmbox_mode_name(d->modes[i].mode));
}

/* ---- JSON (keys documented in docs/doctor.md) --------------------------------------- */

/* S as a JSON string, or null when S is NULL or empty. */
static void json_str(const char *s)
{
	if (!s || !*s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_key_str(const char *key, const char *s, const char *after)
{
	printf("\"%s\": ", key);
	json_str(s);
	fputs(after, stdout);
}

static void json_device(const struct kvmbox_host_info *in)
{
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", in->st_mode & 07777);
	printf("  \"device\": {");
	json_key_str("path", in->device, ", ");
	printf("\"exists\": %s, \"chardev\": %s, ", in->exists ? "true" : "false",
	       in->is_chardev ? "true" : "false");
	json_key_str("mode", in->exists ? mode : NULL, ", ");
	json_key_str("owner", in->exists ? in->owner : NULL, ", ");
	json_key_str("group", in->exists ? in->group : NULL, ", ");
	printf("\"opened\": %s, ", in->open_errno == 0 ? "true" : "false");
	json_key_str("open_error", in->open_errno > 0 ? strerror(in->open_errno) : NULL, "},\n");
	printf("  ");
	json_key_str("user", in->user, ",\n");
	if (in->api_version >= 0)
		printf("  \"api_version\": %d,\n", in->api_version);
	else
		printf("  \"api_version\": null,\n");
}

static void json_caps(const struct kvmbox_host_info *in)
{
	unsigned i;

	printf("  \"capabilities\": [");
	for (i = 0; i < in->ncaps; i++) {
		const struct kvmbox_host_cap *c = &in->caps[i];

		printf("%s\n    {", i ? "," : "");
		json_key_str("name", c->name, ", ");
		if (c->value >= 0)
			printf("\"value\": %d, ", c->value);
		else
			printf("\"value\": null, ");
		printf("\"required\": %s, \"need\": %d, \"ok\": %s, ", c->need ? "true" : "false", c->need,
		       c->value > 0 && (c->value & c->need) == c->need ? "true" : "false");
		json_key_str("use", c->use, "}");
	}
	printf("\n  ],\n");
}

static void json_host(const struct kvmbox_host_info *in)
{
	printf("  ");
	json_key_str("module", in->module, ",\n");
	printf("  \"kvm_module_loaded\": %s,\n  \"paravirtual\": %s,\n  \"cpu_virt\": %s,\n"
	       "  \"nested\": %s,\n  ", in->kvm_module ? "true" : "false",
	       in->paravirtual ? "true" : "false", in->cpu_virt ? "true" : "false",
	       in->nested ? "true" : "false");
	json_key_str("hypervisor", in->hypervisor, ",\n");
}

static void print_json(const struct doctor *d)
{
	const struct kvmbox_host_info *in = &d->info;
	int i;

	printf("{\n  \"kvm_usable\": %s,\n  ", in->state == KVMBOX_HOST_OK ? "true" : "false");
	json_key_str("state", kvmbox_host_state_name(in->state), ",\n  ");
	json_key_str("cause", in->cause, ",\n");
	json_device(in);
	json_caps(in);
	json_host(in);
	printf("  \"modes\": {");
	for (i = 0; i < 4; i++) {
		const struct mode_result *m = &d->modes[i];

		printf("%s\n    \"%s\": {\"runs\": %s, ", i ? "," : "", kvmbox_mode_name(m->mode),
		       m->runs == 1 ? "true" : m->runs == -2 ? "null" : "false");
		json_key_str("reason", m->reason, "}");
	}
	printf("\n  },\n  ");
	json_key_str("lane", in->state == KVMBOX_HOST_OK ? NULL : LANE_CMD, ",\n");
	printf("  \"status\": %d\n}\n", d->status);
}

/* ---- the command -------------------------------------------------------------------- */

static int parse(int argc, char **argv, enum format *format)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "brief", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 0; /* reset getopt (GNU): the command may parse again in one process */
	opterr = 0;
	*format = FORMAT_TABLE;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		enum format want = c == 'j' ? FORMAT_JSON : FORMAT_BRIEF;

		if (c == '?') {
			/* The word getopt stopped at: argv[optind] of the argv + 1 it was given. */
			if (optopt == 'j' || optopt == 'b')
				fprintf(stderr, "kvmbox doctor: %s: takes no value\n", argv[optind]);
			else if (optopt)
				fprintf(stderr, "kvmbox doctor: -%c: unknown option\n", optopt);
			else
				fprintf(stderr, "kvmbox doctor: %s: unknown option (--json, --brief, "
					"--help)\n", argv[optind]);
			fputs("Try 'kvmbox doctor --help'.\n", stderr);
			return -1;
		}
		if (*format != FORMAT_TABLE && *format != want) {
			fprintf(stderr, "kvmbox doctor: --json and --brief exclude each other\n"
				"Try 'kvmbox doctor --help'.\n");
			return -1;
		}
		*format = want;
	}
	if (optind < argc - 1) {
		fprintf(stderr, "kvmbox doctor: unexpected argument '%s'\nTry 'kvmbox doctor --help'.\n",
			argv[optind + 1]);
		return -1;
	}
	return 0;
}

int cli_doctor_main(int argc, char **argv)
{
	struct doctor *d;
	enum format format;
	int ret = parse(argc, argv, &format);

	if (ret)
		return ret > 0 ? (fputs(cli_doctor_usage, stdout), DOCTOR_OK) : DOCTOR_USAGE;
	d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "kvmbox doctor: out of memory\n");
		return DOCTOR_NO_KVM;
	}
	doctor_run(d, getenv("KVMBOX_DEVICE"));
	if (format == FORMAT_JSON)
		print_json(d);
	else if (format == FORMAT_BRIEF)
		print_brief(d);
	else
		print_table(d);
	ret = d->status;
	free(d);
	return ret;
}

bool doctor_say_no_kvm(void)
{
	struct kvmbox_host_info info;

	if (kvmbox_host_probe(NULL, &info) == 0)
		return false;
	fprintf(stderr, "kvmbox: no usable KVM: %s; run `kvmbox doctor`\n", info.cause);
	return true;
}
