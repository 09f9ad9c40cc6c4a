/* What --trace, --trace-file, -v and --explain tell a user, checked against independent facts:
 * the memslot and control registers against the layout and the bits docs/modes.md gives
 * each mode (and against the registers the vCPU ran with), -v against the ELF's own header
 * and program headers, --explain against the list of bring-up steps, and a bad
 * --trace-file path refused (status 2) before any guest runs. */
#include <elf.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "../../cli/status.h"

extern char **environ;

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *mode_name(enum kvmbox_mode m)
{
	return kvmbox_mode_name(m);
}

/* A fresh file name for a trace (removed by the test that made it). */
static const char *temp_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/tmp/kvmbox-test-trace-%d-%s", (int)getpid(), what);
	unlink(buf);
	return buf;
}

/* The whole of PATH as a string (static buffer). */
static const char *slurp(const char *path)
{
	static char text[OUT_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	read_all_fd(fd, text, sizeof(text));
	return text;
}

/* The line of TEXT that contains NEEDLE (copied into LINE), or NULL. */
static const char *line_with(const char *text, const char *needle, char *line, size_t len)
{
	const char *p = strstr(text, needle), *start, *end;

	if (!p)
		return NULL;
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	snprintf(line, len, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
	return line;
}

/* ---- the memslot and the control registers, as set ----------------------------------- */

/* Architectural bits (SDM Vol 3A 2.5, 2.2.1) and what docs/modes.md gives each mode. */
#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

struct ctl {
	unsigned long long cr0, cr3, cr4, efer;
};

static struct ctl documented(enum kvmbox_mode mode, uint64_t mem)
{
	struct kvmbox_layout lo;
	struct ctl c = { .cr0 = CR0_ET | CR0_NE };

	assert_int_equal(kvmbox_layout_get(mode, mem, &lo, NULL), 0);
	c.cr3 = lo.pt_root;
	if (mode != KVMBOX_MODE_REAL)
		c.cr0 |= CR0_PE;
	if (mode == KVMBOX_MODE_PAGED32 || mode == KVMBOX_MODE_LONG)
		c.cr0 |= CR0_WP | CR0_PG;
	if (mode == KVMBOX_MODE_PAGED32)
		c.cr4 = CR4_PSE;
	if (mode == KVMBOX_MODE_LONG) {
		c.cr4 = CR4_PAE;
		c.efer = EFER_LME | EFER_LMA;
	}
	return c;
}

/* --trace-file of a hello run: the memslot's fields are the guest memory's, and the control
 * registers handed to KVM are the mode's documented ones; they are also what the vCPU ran
 * with (--regs, read back from kvm_run at the halt). Nothing of the trace reaches stderr. */
static void check_trace_file(enum kvmbox_mode mode, const char *mem_opt, uint64_t mem)
{
	char path[128], want[160], line[1024];
	struct ctl c = documented(mode, mem), got, ran;
	const char *text;
	struct cli r;

	temp_path(path, sizeof(path), "memslot");
	RUN(&r, "run", "-m", mode_name(mode), "--mem", mem_opt, "--regs", "--trace-file", path);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Hello, world!\n");
	assert_null(strstr(r.err, "trace:"));
	text = slurp(path);
	snprintf(want, sizeof(want), "KVM_SET_USER_MEMORY_REGION, {slot 0, flags 0x0, "
		 "guest_phys_addr 0x0, memory_size 0x%llx, userspace_addr 0x", (unsigned long long)mem);
	assert_non_null(line_with(text, want, line, sizeof(line)));
	assert_non_null(strstr(line, "}) = 0"));
	assert_non_null(line_with(text, "sync_regs sregs: cr0 ", line, sizeof(line)));
	assert_int_equal(sscanf(strstr(line, "cr0 "), "cr0 %llx", &got.cr0), 1);
	assert_int_equal(sscanf(strstr(line, " cr3 "), " cr3 %llx cr4 %llx", &got.cr3, &got.cr4), 2);
	assert_int_equal(sscanf(strstr(line, " efer "), " efer %llx", &got.efer), 1);
	assert_int_equal(got.cr0, c.cr0);
	assert_int_equal(got.cr3, c.cr3);
	assert_int_equal(got.cr4, c.cr4);
	assert_int_equal(got.efer, c.efer);
	assert_non_null(line_with(r.err, "cr0=", line, sizeof(line)));
	assert_int_equal(sscanf(line, "cr0=%llx cr2=%*x cr3=%llx cr4=%llx efer=%llx", &ran.cr0,
				&ran.cr3, &ran.cr4, &ran.efer), 4);
	assert_int_equal(ran.cr0, got.cr0);
	assert_int_equal(ran.cr3, got.cr3);
	assert_int_equal(ran.cr4, got.cr4);
	assert_int_equal(ran.efer, got.efer);
	unlink(path);
}

static void test_trace_file_memslot_and_control_registers(void **state)
{
	skip_unless_host_runs(MODE(state));
	check_trace_file(MODE(state), "2M", 2ull << 20);
	check_trace_file(MODE(state), "4M", 4ull << 20);
}

/* ---- -v against the ELF itself --------------------------------------------------------- */

/* IMAGE's entry and its PT_LOAD segments that occupy memory, read from its own headers. */
static unsigned elf_loads(const char *image, uint64_t *entry, Elf64_Phdr *ph, unsigned max)
{
	size_t size;
	uint8_t *f = read_whole_file(image, &size);
	unsigned n = 0;

	assert_non_null(f);
	assert_true(size >= sizeof(Elf32_Ehdr));
	if (f[EI_CLASS] == ELFCLASS64) {
		const Elf64_Ehdr *eh = (const void *)f;

		*entry = eh->e_entry;
		for (unsigned i = 0; i < eh->e_phnum && n < max; i++) {
			const Elf64_Phdr *p = (const void *)(f + eh->e_phoff + (size_t)i * eh->e_phentsize);

			if (p->p_type == PT_LOAD && p->p_memsz)
				ph[n++] = *p;
		}
	} else {
		const Elf32_Ehdr *eh = (const void *)f;

		*entry = eh->e_entry;
		for (unsigned i = 0; i < eh->e_phnum && n < max; i++) {
			const Elf32_Phdr *p = (const void *)(f + eh->e_phoff + (size_t)i * eh->e_phentsize);

			if (p->p_type == PT_LOAD && p->p_memsz)
				ph[n++] = (Elf64_Phdr){ .p_paddr = p->p_paddr, .p_offset = p->p_offset,
							.p_filesz = p->p_filesz, .p_memsz = p->p_memsz };
		}
	}
	free(f);
	return n;
}

static void test_verbose_names_mode_layout_entry_segments(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	const char *image = guest_image("cs695", mode);
	char want[256], line[1024];
	struct kvmbox_layout lo;
	Elf64_Phdr ph[16];
	uint64_t entry;
	unsigned n, i;
	struct cli r;

	skip_unless_host_runs(mode);
	n = elf_loads(image, &entry, ph, 16);
	assert_true(n >= 1);
	RUN(&r, "run", "-v", image);
	assert_int_equal(r.status, 0);
	snprintf(want, sizeof(want), "%s mode, 2 MiB of guest memory", mode_name(mode));
	assert_non_null(strstr(r.err, want));
	snprintf(want, sizeof(want), "entry 0x%llx, %u segment(s)", (unsigned long long)entry, n);
	assert_non_null(strstr(r.err, want));
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "segment %u: guest-physical 0x%llx..0x%llx (0x%llx bytes: "
			 "0x%llx from file offset 0x%llx", i, (unsigned long long)ph[i].p_paddr,
			 (unsigned long long)(ph[i].p_paddr + ph[i].p_memsz),
			 (unsigned long long)ph[i].p_memsz, (unsigned long long)ph[i].p_filesz,
			 (unsigned long long)ph[i].p_offset);
		assert_non_null(strstr(r.err, want));
	}
	/* The layout line names the system area and stack the library computes for the mode. */
	assert_int_equal(kvmbox_layout_get(mode, KVMBOX_MEM_DEFAULT, &lo, NULL), 0);
	if (mode == KVMBOX_MODE_REAL) {
		assert_non_null(strstr(r.err, "no system area"));
		snprintf(want, sizeof(want), "stack SS:SP 0:0x%llx", (unsigned long long)lo.stack_top);
	} else {
		snprintf(want, sizeof(want), "system area 0x%llx..0x%llx; stack top 0x%llx",
			 (unsigned long long)lo.sys_base, (unsigned long long)lo.mem_size,
			 (unsigned long long)lo.stack_top);
		assert_non_null(line_with(r.err, "GDT 0x", line, sizeof(line)));
		snprintf(line, sizeof(line), "GDT 0x%llx", (unsigned long long)lo.gdt);
		assert_non_null(strstr(r.err, line));
	}
	assert_non_null(strstr(r.err, want));
	if (lo.pt_root) {
		snprintf(want, sizeof(want), "CR3 = 0x%llx", (unsigned long long)lo.pt_root);
		assert_non_null(strstr(r.err, want));
	}
	/* Without -v a normal run says none of it. */
	RUN(&r, "run", image);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.err, "segment 0"));
}

/* ---- --explain -------------------------------------------------------------------------- */

/* Every step of bring-up, in order, and the modes it applies to (bit per mode). */
#define ALL 0xf
#define PROT ((1 << KVMBOX_MODE_PROTECTED) | (1 << KVMBOX_MODE_PAGED32) | (1 << KVMBOX_MODE_LONG))
#define PAGED ((1 << KVMBOX_MODE_PAGED32) | (1 << KVMBOX_MODE_LONG))
static const struct {
	const char *step;
	unsigned modes;
} bringup[] = {
	{ "open /dev/kvm", ALL << 1 }, { "KVM_GET_API_VERSION", ALL << 1 },
	{ "KVM_CHECK_EXTENSION", ALL << 1 }, { "KVM_CREATE_VM", ALL << 1 },
	{ "KVM_SET_TSS_ADDR", ALL << 1 }, { "KVM_SET_USER_MEMORY_REGION", ALL << 1 },
	{ "KVM_CREATE_VCPU", ALL << 1 }, { "KVM_GET_VCPU_MMAP_SIZE", ALL << 1 },
	/* kvmbox's CPU model needs no KVM_GET_SUPPORTED_CPUID and only long mode needs a
	 * CPUID table, and hello prints too little for its console to be coalesced. */
	{ "mmap kvm_run", ALL << 1 }, { "KVM_GET_SUPPORTED_CPUID", 0 },
	{ "KVM_SET_CPUID2", 1 << KVMBOX_MODE_LONG }, { "KVM_REGISTER_COALESCED_MMIO", 0 },
	{ "KVM_GET_SREGS", ALL << 1 }, { "mode tables", PROT }, { "sync_regs", ALL << 1 },
	{ "CR0.PE", PROT }, { "CR0.PG", PAGED }, { "CR4.PSE", 1 << KVMBOX_MODE_PAGED32 },
	{ "CR4.PAE", 1 << KVMBOX_MODE_LONG }, { "EFER.LME", 1 << KVMBOX_MODE_LONG },
	{ "EFER.LMA", 1 << KVMBOX_MODE_LONG }, { "segments", ALL << 1 },
	{ "close /dev/kvm", ALL << 1 }, { "load image", ALL << 1 }, { "entry", ALL << 1 },
	{ "KVM_RUN", ALL << 1 }, { "KVM_EXIT_HLT", ALL << 1 },
};

/* Steps that are one ioctl call each, traced on the line before their explanation (KVM_RUN
 * is explained at the first exit, KVM_CHECK_EXTENSION once before its several calls). */
static bool is_ioctl_step(const char *step)
{
	return !strncmp(step, "KVM_", 4) && strncmp(step, "KVM_EXIT", 8) && strcmp(step, "KVM_RUN") &&
	       strcmp(step, "KVM_CHECK_EXTENSION");
}

/* The line before the one at P (inside TEXT) is the trace of ioctl STEP. */
static void check_line_before(const char *text, const char *p, const char *step)
{
	char want[128], line[1024];
	const char *bol = p, *prev;

	while (bol > text && bol[-1] != '\n')
		bol--;
	assert_true(bol > text);
	for (prev = bol - 1; prev > text && prev[-1] != '\n'; prev--)
		;
	snprintf(line, sizeof(line), "%.*s", (int)(bol - 1 - prev), prev);
	snprintf(want, sizeof(want), "trace: ioctl(fd ");
	assert_non_null(strstr(line, want));
	snprintf(want, sizeof(want), ", %s", step);
	if (!strstr(line, want))
		fail_msg("the line before the explanation of %s is not its trace: %s", step, line);
}

/* Each step has its one explain line, in bring-up order, right after the trace line of the
 * step when it is an ioctl; a step that does not apply to the mode has none. */
static void test_explain_every_bringup_step(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	const char *prev = NULL, *p;
	char want[128];
	struct cli r;
	unsigned i;

	skip_unless_host_runs(mode);
	RUN(&r, "run", "--explain", "-m", mode_name(mode));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Hello, world!\n");
	for (i = 0; i < ARRAY_LEN(bringup); i++) {
		snprintf(want, sizeof(want), ": explain: %s: ", bringup[i].step);
		p = strstr(r.err, want);
		if (!(bringup[i].modes & (1u << mode))) {
			assert_null(p);
			continue;
		}
		if (!p)
			fail_msg("no explain line for %s", bringup[i].step);
		assert_null(strstr(p + 1, want)); /* once */
		assert_true(!prev || p > prev);   /* in bring-up order */
		if (is_ioctl_step(bringup[i].step))
			check_line_before(r.err, p, bringup[i].step);
		prev = p;
	}
	/* Without --explain, the trace alone. */
	RUN(&r, "run", "--trace", "-m", mode_name(mode));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "trace: ioctl("));
	assert_null(strstr(r.err, "explain:"));
}

/* ---- exits decoded ---------------------------------------------------------------------- */

/* Without coalescing every console byte leaves the guest: the trace's data fields, in order,
 * are exactly what the guest printed (KVM may hand over a rep outsb's bytes one per exit, or
 * several in one: the trace shows up to 16 of them). */
static void test_exit_io_data_is_the_console_output(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	char text[256] = "";
	const char *p;
	struct cli r;
	size_t n = 0;

	skip_unless_host_runs(mode);
	RUN(&r, "run", "--trace", "--no-coalesce", "-m", mode_name(mode));
	assert_int_equal(r.status, 0);
	for (p = r.err; (p = strstr(p, "exit KVM_EXIT_IO: out port 0xe9 (console) size 1 count ")); p++) {
		unsigned count, v, i;
		int k;

		assert_int_equal(sscanf(strchr(p, ')') + 1, " size 1 count %u data%n", &count, &k), 1);
		assert_true(count >= 1 && count <= 16);
		p = strchr(p, ')') + 1 + k;
		for (i = 0; i < count; i++, p += k) {
			assert_int_equal(sscanf(p, " 0x%x%n", &v, &k), 1);
			assert_true(n + 1 < sizeof(text));
			text[n++] = (char)v;
		}
	}
	assert_string_equal(text, r.out);
	assert_string_equal(text, "Hello, world!\n");
	assert_non_null(strstr(r.err, "exit KVM_EXIT_HLT at rip=0x"));
}

/* A hypercall's exit names the call and its argument register. */
static void test_exit_hypercall_fields(void **state)
{
	struct cli r;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(&r, "run", "--trace", build_path("guests/cs695-long.elf"));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "exit KVM_EXIT_IO: in port 0x601 (hypercall 1) size 4 count 1 "
				      "argument rbx 0x"));
}

/* ---- --trace-file: refused paths, several VMs ----------------------------------------------- */

static void test_bad_trace_file_is_status_2_before_running(void **state)
{
	char dir[128];
	struct cli r;

	(void)state;
	RUN(&r, "run", "--trace-file", "/nonexistent-kvmbox-dir/t.log");
	assert_int_equal(r.status, EXIT_USAGE);
	assert_string_equal(r.out, ""); /* the guest never ran */
	assert_non_null(strstr(r.err, "--trace-file /nonexistent-kvmbox-dir/t.log: No such file"));
	assert_null(strstr(r.err, "trace:"));
	snprintf(dir, sizeof(dir), "%s", build_path("guests"));
	RUN(&r, "run", "--trace-file", dir);
	assert_int_equal(r.status, EXIT_USAGE);
	assert_string_equal(r.out, "");
	snprintf(dir, sizeof(dir), "a=%s,trace-file=/nonexistent-kvmbox-dir/a",
		 build_path("guests/hello-long.elf"));
	RUN(&r, "run", "--vm", dir, "--vm", "b=no-such-image-is-read-before-the-check.elf");
	assert_int_equal(r.status, EXIT_USAGE);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "trace-file= /nonexistent-kvmbox-dir/a"));
	RUN(&r, "run", "--trace-file");
	assert_int_equal(r.status, EXIT_USAGE);
	RUN(&r, "run", "--vm", "a=x.elf,trace-file=");
	assert_int_equal(r.status, EXIT_USAGE);
}

/* Per VM: one VM's trace to its file, the other's nowhere; one file shared by two VMs holds
 * both, each line with its VM's name. */
static void test_trace_file_per_vm(void **state)
{
	char a[128], spec[256], both[256];
	const char *text;
	struct cli r;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	temp_path(a, sizeof(a), "a");
	snprintf(spec, sizeof(spec), "a=%s,trace-file=%s", build_path("guests/hello-long.elf"), a);
	snprintf(both, sizeof(both), "b=%s", build_path("guests/hello-long.elf"));
	RUN(&r, "run", "--vm", spec, "--vm", both);
	assert_int_equal(r.status, 0);
	text = slurp(a);
	assert_non_null(strstr(text, "kvmbox[a]: trace: ioctl(fd "));
	assert_null(strstr(text, "kvmbox[b]"));
	assert_null(strstr(r.err, "trace:"));
	unlink(a);
	RUN(&r, "run", "--trace-file", a, "--vm", spec, "--vm", both);
	assert_int_equal(r.status, 0);
	text = slurp(a);
	assert_non_null(strstr(text, "kvmbox[a]: trace: ioctl(fd "));
	assert_non_null(strstr(text, "kvmbox[b]: trace: ioctl(fd "));
	unlink(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_trace_file_memslot_and_control_registers),
		PER_MODE(test_verbose_names_mode_layout_entry_segments),
		PER_MODE(test_explain_every_bringup_step),
		PER_MODE(test_exit_io_data_is_the_console_output),
		cmocka_unit_test(test_exit_hypercall_fields),
		cmocka_unit_test(test_bad_trace_file_is_status_2_before_running),
		cmocka_unit_test(test_trace_file_per_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
