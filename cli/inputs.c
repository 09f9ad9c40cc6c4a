/* Checking what a run's options name on the host: share directories, the schedule file and
 * the output files, all before any VM is created. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kvmbox/kvmbox.h"
#include "inputs.h"
#include "status.h"

char *cli_read_text(const char *path, char *err, size_t errlen)
{
	struct kvmbox_error e = { "" };
	uint8_t *data;
	size_t size;
	char *text;

	if (kvmbox_image_read_file(path, &data, &size, &e) < 0) {
		cli_fail(err, errlen, "%s", e.msg);
		return NULL;
	}
	text = realloc(data, size + 1);
	if (!text) {
		free(data);
		cli_fail(err, errlen, "out of memory");
		return NULL;
	}
	text[size] = '\0';
	return text;
}

/* Every VM number in TEXT (digits 1-9 outside '#' comments) names one of NVMS VMs. The
 * syntax itself is the library's to check (kvmbox_sched_create). */
static int check_script(const char *text, unsigned nvms, char *err, size_t errlen)
{
	unsigned line = 1;
	bool comment = false;

	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			line++;
		if (comment || *p == '#') {
			comment = *p != '\n';
			continue;
		}
		if (*p >= '1' && *p <= '9' && (unsigned)(*p - '0') > nvms)
			return cli_fail(err, errlen, "line %u names VM %c, but the run has %u VM%s", line,
					*p, nvms, nvms == 1 ? "" : "s");
	}
	return 0;
}

static int check_share(const struct vm_opts *v, bool several)
{
	struct stat st;
	int e;

	if (!v->share)
		return EXIT_OK;
	e = stat(v->share, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (e) {
		/* share=W was the scheduling weight before share= named a directory, as --share. */
		bool weight = e == ENOENT && v->share[strspn(v->share, "0123456789")] == '\0';

		if (several)
			fprintf(stderr, "kvmbox: --vm %s: share=%s: %s%s%s\n", v->name, v->share,
				strerror(e), weight ? "; the scheduling weight is weight=" : "",
				weight ? v->share : "");
		else
			fprintf(stderr, "kvmbox: --share %s: %s\n", v->share, strerror(e));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int open_output(const char *what, const char *path, FILE **f)
{
	if (!path)
		return EXIT_OK;
	*f = fopen(path, "w");
	if (!*f) {
		fprintf(stderr, "kvmbox: %s %s: %s\n", what, path, strerror(errno));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Each VM's --trace-file, opened now: a bad path is refused before any VM runs, and the file
 * is open before anything (a seccomp filter) could forbid opening it. VMs that name the same
 * path share one FILE, so their lines (prefixed with the VM's name) interleave, not clobber. */
static int open_logs(const struct run_opts *o, struct run_inputs *in)
{
	unsigned i, k;

	for (i = 0; i < o->nvms; i++) {
		const char *path = o->vms[i].trace_file;

		/* The copies of a count=N VM sit together and name one path: no search. */
		k = i && path == o->vms[i - 1].trace_file ? i - 1 : 0;
		for (; path && k < i; k++)
			if (o->vms[k].trace_file && !strcmp(o->vms[k].trace_file, path))
				break;
		if (path && k < i)
			in->log[i] = in->log[k];
		else if (open_output(o->several ? "trace-file=" : "--trace-file", path,
				     &in->log[i]) != EXIT_OK)
			return EXIT_USAGE;
	}
	return EXIT_OK;
}

int run_inputs_open(const struct run_opts *o, struct run_inputs *in)
{
	char msg[512];
	unsigned i;

	memset(in, 0, sizeof(*in));
	in->out = calloc(o->nvms, sizeof(*in->out));
	in->log = calloc(o->nvms, sizeof(*in->log));
	if (!in->out || !in->log) {
		fprintf(stderr, "kvmbox: out of memory\n");
		return EXIT_HOST;
	}
	in->nvms = o->nvms;
	for (i = 0; i < o->nvms; i++)
		if ((!i || !o->vms[i].share || !o->vms[i - 1].share ||
		     strcmp(o->vms[i].share, o->vms[i - 1].share)) && /* copies: checked once */
		    check_share(&o->vms[i], o->several) != EXIT_OK)
			return EXIT_USAGE;
	if (o->script_file) {
		in->script = cli_read_text(o->script_file, msg, sizeof(msg));
		if (!in->script || check_script(in->script, o->nvms, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "kvmbox: --sched script:%s: %s\n", o->script_file, msg);
			return EXIT_USAGE;
		}
	}
	for (i = 0; i < o->nvms; i++)
		if (open_output(o->several ? "out=" : "--out", o->vms[i].out, &in->out[i]) != EXIT_OK)
			return EXIT_USAGE;
	if (open_output("--stats-json", o->stats_json, &in->stats_json) != EXIT_OK ||
	    open_output("--trace-out", o->trace_out, &in->trace) != EXIT_OK)
		return EXIT_USAGE;
	if (open_logs(o, in) != EXIT_OK)
		return EXIT_USAGE;
	return EXIT_OK;
}

void run_inputs_close(struct run_inputs *in)
{
	unsigned i, k;

	for (i = 0; in->out && i < in->nvms; i++)
		if (in->out[i])
			fclose(in->out[i]);
	for (i = 0; in->log && i < in->nvms; i++) {
		k = i && in->log[i] == in->log[i - 1] ? i - 1 : 0;
		for (; in->log[i] && k < i && in->log[k] != in->log[i]; k++)
			;
		if (in->log[i] && k == i) /* shared FILEs are closed once */
			fclose(in->log[i]);
	}
	free(in->out);
	free(in->log);
	if (in->stats_json)
		fclose(in->stats_json);
	if (in->trace)
		fclose(in->trace);
	free(in->script);
	memset(in, 0, sizeof(*in));
}
