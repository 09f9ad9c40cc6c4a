/* Checking what a run's options name on the host: share directories, the schedule file and
 * the output files, all before any VM is created. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kvmbox/kvmbox.h"
#include "inputs.h"
#include "status.h"

char *cli_read_text(const char *path, char *err, size_t errlen)
{
	struct kvmbox_error e = { "" };
	struct stat st;
	uint8_t *data;
	size_t size;
	char *text;

	/* The library's reader speaks of image files; this is any text file of the run. */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_fail(err, errlen, "%s is a directory, not a file", path);
		return NULL;
	}
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

/* The schedule in TEXT, checked here so that an error names its line: digits 1-9 (each
 * naming one of NVMS VMs), blanks, commas and '#' comments, at least one digit. The
 * library's parser (kvmbox_sched_create) accepts the same. */
static int check_script(const char *text, unsigned nvms, char *err, size_t errlen)
{
	unsigned line = 1, digits = 0;
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
		if (*p >= '1' && *p <= '9')
			digits++;
		else if (*p > ' ' && *p < 127 && *p != ',')
			return cli_fail(err, errlen, "line %u: '%c' is not a VM number (1-9), a blank, a "
					"comma or a # comment", line, *p);
		else if (!strchr(" \t\r\n,", *p))
			return cli_fail(err, errlen, "line %u: byte 0x%02x is not a VM number (1-9), a "
					"blank, a comma or a # comment", line, (unsigned char)*p);
	}
	if (!digits)
		return cli_fail(err, errlen, "no VM number in it (digits 1-9 name the VM of each "
				"quantum)");
	return 0;
}

static int check_share(const struct vm_opts *v, bool several)
{
	const char *mode;
	struct stat st;
	int e;

	if (!v->share)
		return EXIT_OK;
	mode = strrchr(v->share, ':');
	e = stat(v->share, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	/* DIR:MODE with a MODE that is neither ro nor rw (which the parser took off): a typo
	 * of the access mode, unless DIR:MODE is itself an existing directory. */
	if (e == ENOENT && mode && mode[1] && !strchr(mode, '/')) {
		if (several)
			fprintf(stderr, "kvmbox: --vm %s: share=%s: unknown access mode '%s' (ro, rw)\n",
				v->name, v->share, mode);
		else
			fprintf(stderr, "kvmbox: --share %s: unknown access mode '%s' (ro, rw)\n",
				v->share, mode);
		return EXIT_USAGE;
	}
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

/* Do A and B (open) name one file, however spelled ("f", "./f", a link)? Character devices
 * (/dev/null, a terminal) do not count: each open of one is a writer of its own, as stdout
 * and stderr on one terminal are. */
static bool same_file(FILE *a, FILE *b)
{
	struct stat sa, sb;

	return a && b && fstat(fileno(a), &sa) == 0 && fstat(fileno(b), &sb) == 0 &&
	       !S_ISCHR(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Open PATH for VM I of kind WHAT (FILES: that kind's array). An earlier VM's file of the same
 * kind that is the same file is shared, one FILE for both: their lines interleave (each VM's
 * prefixed with its name) instead of two writers overwriting each other. */
static int open_shared(const char *what, const char *path, FILE **files, unsigned i)
{
	if (open_output(what, path, &files[i]) != EXIT_OK)
		return EXIT_USAGE;
	for (unsigned k = 0; files[i] && k < i; k++)
		if (same_file(files[k], files[i])) {
			fclose(files[i]);
			files[i] = files[k];
			break;
		}
	return EXIT_OK;
}

/* One output file of the run, for the checks across kinds and for closing. */
struct output {
	const char *what, *path;
	FILE **f;
};

/* Room for every output file of O: two per VM and the two of the run (outputs). */
static struct output *output_list(const struct run_opts *o)
{
	return malloc((2 * (size_t)o->nvms + 2) * sizeof(struct output));
}

/* Every output file of O and IN, once each (a shared FILE is listed once); returns the
 * count. */
static unsigned outputs(const struct run_opts *o, struct run_inputs *in, struct output *list)
{
	unsigned n = 0, i, k;

	for (i = 0; i < o->nvms; i++) {
		for (k = 0; k < i && in->out[k] != in->out[i]; k++)
			;
		if (in->out[i] && k == i)
			list[n++] = (struct output){ o->several ? "out=" : "--out", o->vms[i].out,
						     &in->out[i] };
	}
	for (i = 0; i < o->nvms; i++) {
		for (k = 0; k < i && in->log[k] != in->log[i]; k++)
			;
		if (in->log[i] && k == i)
			list[n++] = (struct output){ o->several ? "trace-file=" : "--trace-file",
						     o->vms[i].trace_file, &in->log[i] };
	}
	if (in->stats_json)
		list[n++] = (struct output){ "--stats-json", o->stats_json, &in->stats_json };
	if (in->trace)
		list[n++] = (struct output){ "--trace-out", o->trace_out, &in->trace };
	return n;
}

/* Two outputs of different kinds (a console and the JSON, a trace and a log) cannot share a
 * file: each would overwrite the other, and neither would be readable. Refused as bad
 * input. */
static int check_distinct(const struct run_opts *o, struct run_inputs *in)
{
	struct output *list = output_list(o);
	unsigned n = list ? outputs(o, in, list) : 0;
	int status = list ? EXIT_OK : EXIT_HOST;

	for (unsigned i = 0; i < n && status == EXIT_OK; i++)
		for (unsigned k = 0; k < i; k++)
			if (same_file(*list[k].f, *list[i].f)) {
				fprintf(stderr, "kvmbox: %s %s and %s %s name the same file: each "
					"would overwrite the other; give them different files\n",
					list[k].what, list[k].path, list[i].what, list[i].path);
				status = EXIT_USAGE;
				break;
			}
	free(list);
	if (!list)
		fprintf(stderr, "kvmbox: out of memory\n");
	return status;
}

/* Is PATH beneath directory DIR (both resolved)? */
static bool beneath(const char *path, const char *dir)
{
	char rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	if (!realpath(path, rp) || !realpath(dir, rd))
		return false;
	n = strlen(rd);
	return !strncmp(rp, rd, n) && (rp[n] == '/' || (n == 1 && rd[0] == '/'));
}

int cli_check_restore(const struct run_opts *o, unsigned i, bool *copy)
{
	const struct vm_opts *v = &o->vms[i];
	const char *what = o->several ? "restore=" : "--restore";
	struct stat st;
	int fd;

	*copy = false;
	if (!v->restore)
		return EXIT_OK;
	fd = open(v->restore, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "kvmbox: %s %s: %s\n", what, v->restore,
			fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return EXIT_USAGE;
	}
	close(fd);
	*copy = st.st_nlink > 1;
	for (unsigned k = 0; k < o->nvms && !*copy; k++)
		*copy = o->vms[k].share && beneath(v->restore, o->vms[k].share);
	return EXIT_OK;
}

/* Is FD the file of F (or of descriptor G)? */
static bool same_fd(int fd, int g)
{
	struct stat a, b;

	return fd >= 0 && g >= 0 && fstat(fd, &a) == 0 && fstat(g, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* VM I's --save FILE, opened for writing (0600: it holds guest memory) and not truncated
 * (it may be this VM's own --restore file, which is read first: refused below). */
static int open_save(const struct run_opts *o, struct run_inputs *in, unsigned i)
{
	const struct vm_opts *v = &o->vms[i];
	const char *what = o->several ? "save=" : "--save";
	struct stat st;
	FILE *const *outs[4] = { in->out, in->log, &in->stats_json, &in->trace };

	if (!v->save)
		return EXIT_OK;
	in->save[i] = open(v->save, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (in->save[i] < 0 || fstat(in->save[i], &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "kvmbox: %s %s: %s\n", what, v->save,
			in->save[i] < 0 ? strerror(errno) : "not a regular file");
		return EXIT_USAGE;
	}
	for (unsigned k = 0; k < o->nvms; k++) {
		int r = o->vms[k].restore ? open(o->vms[k].restore, O_RDONLY | O_CLOEXEC) : -1;
		bool same = same_fd(in->save[i], r) || (k < i && same_fd(in->save[i], in->save[k]));

		if (r >= 0)
			close(r);
		if (same) {
			fprintf(stderr, "kvmbox: %s %s: the file is also %s: saving into it would change "
				"the memory of a VM restored from it, or another VM's snapshot\n", what,
				v->save, o->vms[k].restore ? "a snapshot the run restores from"
							  : "another VM's save file");
			return EXIT_USAGE;
		}
	}
	for (unsigned k = 0; k < 4; k++)
		for (unsigned j = 0; j < (k < 2 ? o->nvms : 1); j++)
			if (outs[k][j] && same_fd(in->save[i], fileno(outs[k][j]))) {
				fprintf(stderr, "kvmbox: %s %s names a file the run also writes its "
					"output to; give them different files\n", what, v->save);
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
	in->save = malloc(o->nvms * sizeof(*in->save));
	in->restore_copy = calloc(o->nvms, sizeof(*in->restore_copy));
	for (i = 0; in->save && i < o->nvms; i++)
		in->save[i] = -1;
	if (!in->out || !in->log || !in->save || !in->restore_copy) {
		fprintf(stderr, "kvmbox: out of memory\n");
		return EXIT_HOST;
	}
	for (i = 0; i < o->nvms; i++) /* copies of one VM: checked once */
		if (i && o->vms[i].restore && o->vms[i - 1].restore &&
		    !strcmp(o->vms[i].restore, o->vms[i - 1].restore))
			in->restore_copy[i] = in->restore_copy[i - 1];
		else if (cli_check_restore(o, i, &in->restore_copy[i]) != EXIT_OK)
			return EXIT_USAGE;
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
	/* Every file is open before anything (a seccomp filter) could forbid opening it. */
	for (i = 0; i < o->nvms; i++)
		if (open_shared(o->several ? "out=" : "--out", o->vms[i].out, in->out, i) != EXIT_OK ||
		    open_shared(o->several ? "trace-file=" : "--trace-file", o->vms[i].trace_file,
				in->log, i) != EXIT_OK)
			return EXIT_USAGE;
	if (open_output("--stats-json", o->stats_json, &in->stats_json) != EXIT_OK ||
	    open_output("--trace-out", o->trace_out, &in->trace) != EXIT_OK)
		return EXIT_USAGE;
	for (i = 0; i < o->nvms; i++)
		if (open_save(o, in, i) != EXIT_OK)
			return EXIT_USAGE;
	return check_distinct(o, in);
}

bool run_inputs_out_shared(const struct run_inputs *in, unsigned nvms, unsigned i)
{
	for (unsigned k = 0; in->out[i] && k < nvms; k++)
		if (k != i && in->out[k] == in->out[i])
			return true;
	return false;
}

/* Flush and close F (WHAT PATH): a write that failed earlier (ferror), one the flush makes
 * or the close's is one line on stderr. Returns EXIT_OK or EXIT_HOST. */
static int close_output(const char *what, const char *path, FILE *f)
{
	int e = 0;

	if (fflush(f) == EOF)
		e = errno;
	else if (ferror(f))
		e = EIO;
	if (fclose(f) == EOF && !e)
		e = errno;
	if (!e)
		return EXIT_OK;
	fprintf(stderr, "kvmbox: %s %s: %s: the file is incomplete\n", what, path, strerror(e));
	return EXIT_HOST;
}

int run_inputs_close(const struct run_opts *o, struct run_inputs *in)
{
	struct output *list = output_list(o);
	unsigned n = list && in->out && in->log ? outputs(o, in, list) : 0;
	int status = list || !o->nvms ? EXIT_OK : EXIT_HOST;

	for (unsigned i = 0; i < n; i++)
		if (close_output(list[i].what, list[i].path, *list[i].f) != EXIT_OK)
			status = EXIT_HOST;
	free(list);
	for (unsigned i = 0; in->save && i < o->nvms; i++)
		if (in->save[i] >= 0)
			close(in->save[i]);
	free(in->save);
	free(in->restore_copy);
	free(in->out);
	free(in->log);
	free(in->script);
	memset(in, 0, sizeof(*in));
	return status;
}
