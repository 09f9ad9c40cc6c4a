/* The words of --trace and -v (kvm_trace.h): each KVM request's argument struct, the registers
 * handed over through sync_regs, each exit's fields, a VM's layout and image. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kvmbox/abi.h"
#include "kvm/kvm_explain.h"
#include "base/log.h"
#include "kvm/kvm_trace.h"
#include "base/util.h"
#include "x86/x86.h"

/* One line being built; never overruns, truncates quietly. */
struct line {
	char buf[640];
	size_t n;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n + 1 >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->buf + l->n, sizeof(l->buf) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n = (size_t)k < sizeof(l->buf) - l->n ? l->n + (size_t)k : sizeof(l->buf) - 1;
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* ---- ioctl arguments ------------------------------------------------------------------- */

/* Does CPUID entry list C offer long mode (CPUID 0x80000001 EDX bit 29, "LM")? */
static bool cpuid_has_lm(const struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000001u)
			return c->entries[i].edx & (1u << 29);
	return false;
}

static void add_sregs_short(struct line *l, const struct kvm_sregs *s)
{
	add(l, "{cr0 0x%llx, cr3 0x%llx, cr4 0x%llx, efer 0x%llx, cs 0x%x base 0x%llx}", ull(s->cr0),
	    ull(s->cr3), ull(s->cr4), ull(s->efer), s->cs.selector, ull(s->cs.base));
}

/* The argument of a VM or system request whose argument is a struct or a value worth
 * reading. Returns false for a request it does not know. */
static bool add_vm_arg(struct line *l, unsigned long req, const void *p, unsigned long arg,
		       int ret)
{
	switch (req) {
	case KVM_SET_USER_MEMORY_REGION: {
		const struct kvm_userspace_memory_region *r = p;

		add(l, "{slot %u, flags 0x%x%s, guest_phys_addr 0x%llx, memory_size 0x%llx, "
		    "userspace_addr 0x%llx}", r->slot, r->flags,
		    r->flags & KVM_MEM_LOG_DIRTY_PAGES ? " (LOG_DIRTY_PAGES)" : "",
		    ull(r->guest_phys_addr), ull(r->memory_size), ull(r->userspace_addr));
		return true;
	}
	case KVM_SET_TSS_ADDR:
		add(l, "0x%lx (3 pages, to 0x%lx)", arg, arg + 3 * 4096);
		return true;
	case KVM_GET_SUPPORTED_CPUID:
	case KVM_SET_CPUID2: {
		const struct kvm_cpuid2 *c = p;

		add(l, "{nent %u", c->nent);
		if (ret >= 0)
			add(l, ", long mode %s", cpuid_has_lm(c) ? "offered (LM)" : "absent");
		add(l, "}");
		return true;
	}
	case KVM_REGISTER_COALESCED_MMIO: {
		const struct kvm_coalesced_mmio_zone *z = p;

		add(l, "{addr 0x%llx, size %u, %s}", ull(z->addr), z->size, z->pio ? "pio" : "mmio");
		return true;
	}
	case KVM_GET_DIRTY_LOG:
		add(l, "{slot %u}", ((const struct kvm_dirty_log *)p)->slot);
		return true;
	default:
		return false;
	}
}

/* The same for a vCPU request; an output struct only when the call succeeded. */
static bool add_vcpu_arg(struct line *l, unsigned long req, const void *p, int ret)
{
	switch (req) {
	case KVM_GET_SREGS:
	case KVM_SET_SREGS:
		if (ret >= 0 || req == KVM_SET_SREGS)
			add_sregs_short(l, p);
		return true;
	case KVM_GET_REGS:
	case KVM_SET_REGS: {
		const struct kvm_regs *r = p;

		if (ret >= 0 || req == KVM_SET_REGS)
			add(l, "{rip 0x%llx, rsp 0x%llx, rflags 0x%llx}", ull(r->rip), ull(r->rsp),
			    ull(r->rflags));
		return true;
	}
	case KVM_TRANSLATE: {
		const struct kvm_translation *t = p;

		add(l, "{linear 0x%llx -> physical 0x%llx, valid %u, writeable %u, usermode %u}",
		    ull(t->linear_address), ull(t->physical_address), t->valid, t->writeable,
		    t->usermode);
		return true;
	}
	case KVM_SET_GUEST_DEBUG:
		add(l, "{control 0x%x}", ((const struct kvm_guest_debug *)p)->control);
		return true;
	case KVM_SET_SIGNAL_MASK:
		add(l, "{len %u}", ((const struct kvm_signal_mask *)p)->len);
		return true;
	default:
		return false;
	}
}

/* What a successful RET means for the requests that return something. */
static const char *result_meaning(unsigned long req)
{
	switch (req) {
	case KVM_CREATE_VM: return " (the VM fd)";
	case KVM_CREATE_VCPU: return " (the vCPU fd)";
	case KVM_GET_VCPU_MMAP_SIZE: return " (bytes to mmap from the vCPU fd: kvm_run and the ring)";
	case KVM_GET_API_VERSION: return " (the stable API)";
	default: return "";
	}
}

void trace_ioctl(const struct kvmbox_log *log, const char *who, int fd, unsigned long req,
		 const char *name, unsigned long arg, int ret, int errnum)
{
	struct line l = { .n = 0 };

	if (!log_on(log, KVMBOX_LOG_TRACE))
		return;
	add(&l, "ioctl(fd %d, %s", fd, name);
	if (req != KVM_RUN && req != KVM_GET_API_VERSION && req != KVM_CREATE_VM &&
	    req != KVM_GET_VCPU_MMAP_SIZE) {
		add(&l, ", ");
		if (!add_vm_arg(&l, req, (const void *)arg, arg, ret) &&
		    !add_vcpu_arg(&l, req, (const void *)arg, ret))
			add(&l, "%lu", arg);
	}
	if (ret < 0)
		add(&l, ") = -1 %s", strerror(errnum));
	else
		add(&l, ") = %d%s", ret, result_meaning(req));
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", l.buf);
	/* KVM_RUN runs once per exit: trace_exit explains it once, at the first exit. */
	if (req != KVM_RUN)
		explain_step(log, who, name);
}

void trace_step(const struct kvmbox_log *log, const char *who, const char *step,
		const char *fmt, ...)
{
	char buf[320];
	va_list ap;

	if (!log_on(log, KVMBOX_LOG_TRACE))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", buf);
	explain_step(log, who, step);
}

/* ---- sync_regs ------------------------------------------------------------------------- */

static void add_seg(struct line *l, const char *name, const struct kvm_segment *s)
{
	add(l, "%s sel 0x%x base 0x%llx limit 0x%x type 0x%x s %u dpl %u p %u db %u l %u g %u%s",
	    name, s->selector, ull(s->base), s->limit, s->type, s->s, s->dpl, s->present, s->db,
	    s->l, s->g, s->unusable ? " unusable" : "");
}

static bool same_seg(const struct kvm_segment *a, const struct kvm_segment *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* " (PE ET NE)": the named bits of one register, from x86's list of all of them. */
static void add_bits(struct line *l, const char *const *names, unsigned n, const char *reg)
{
	size_t len = strlen(reg);
	bool any = false;

	for (unsigned i = 0; i < n; i++) {
		if (strncmp(names[i], reg, len) || names[i][len] != '.')
			continue;
		add(l, "%s%s", any ? " " : " (", names[i] + len + 1);
		any = true;
	}
	if (any)
		add(l, ")");
}

static void trace_sregs(const struct kvmbox_log *log, const char *who, const struct kvm_sregs *s)
{
	const char *names[40];
	unsigned n = x86_ctl_bit_names(s, names, ARRAY_SIZE(names));
	struct line l = { .n = 0 };

	n = n < ARRAY_SIZE(names) ? n : ARRAY_SIZE(names);
	add(&l, "sync_regs sregs: cr0 0x%llx", ull(s->cr0));
	add_bits(&l, names, n, "CR0");
	add(&l, " cr3 0x%llx cr4 0x%llx", ull(s->cr3), ull(s->cr4));
	add_bits(&l, names, n, "CR4");
	add(&l, " efer 0x%llx", ull(s->efer));
	add_bits(&l, names, n, "EFER");
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", l.buf);
	explain_step(log, who, "sync_regs");
	for (unsigned i = 0; i < n; i++)
		explain_step(log, who, names[i]);
	l.n = 0;
	add_seg(&l, "sync_regs sregs: cs", &s->cs);
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", l.buf);
	l.n = 0;
	add_seg(&l, "sync_regs sregs: ds", &s->ds);
	if (same_seg(&s->ds, &s->es) && same_seg(&s->ds, &s->fs) && same_seg(&s->ds, &s->gs))
		add(&l, " (es fs gs the same)");
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", l.buf);
	l.n = 0;
	add_seg(&l, "sync_regs sregs: ss", &s->ss);
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", l.buf);
	explain_step(log, who, "segments");
	log_msg(log, KVMBOX_LOG_TRACE, who, "sync_regs sregs: tr sel 0x%x base 0x%llx limit 0x%x "
		"type 0x%x; gdt base 0x%llx limit 0x%x; idt base 0x%llx limit 0x%x",
		s->tr.selector, ull(s->tr.base), s->tr.limit, s->tr.type, ull(s->gdt.base),
		s->gdt.limit, ull(s->idt.base), s->idt.limit);
}

void trace_sync_regs(const struct kvmbox_log *log, const char *who, const struct kvm_run *run)
{
	const struct kvm_regs *r = &run->s.regs.regs;

	if (!log_on(log, KVMBOX_LOG_TRACE))
		return;
	if (run->kvm_dirty_regs & KVM_SYNC_X86_SREGS)
		trace_sregs(log, who, &run->s.regs.sregs);
	if (run->kvm_dirty_regs & KVM_SYNC_X86_REGS)
		log_msg(log, KVMBOX_LOG_TRACE, who, "sync_regs regs: rip 0x%llx rsp 0x%llx rflags 0x%llx "
			"(kvm_dirty_regs 0x%llx: applied by the next KVM_RUN)", ull(r->rip), ull(r->rsp),
			ull(r->rflags), ull(run->kvm_dirty_regs));
}

/* ---- exits ----------------------------------------------------------------------------- */

/* "(console)", "(hypercall 3)" or "" for PORT. */
static void add_port_name(struct line *l, uint16_t port)
{
	if (port == KVMBOX_PORT_CONSOLE)
		add(l, " (console)");
	else if (port >= KVMBOX_PORT_HC_BASE && port < KVMBOX_PORT_HC_BASE + KVMBOX_HC_MAX)
		add(l, " (hypercall %u)", port - KVMBOX_PORT_HC_BASE);
}

/* The first elements of DATA, SIZE bytes each, as hex (a string instruction's too). */
static void add_elements(struct line *l, const uint8_t *data, unsigned size, uint32_t count)
{
	uint32_t i, shown = count < 16 ? count : 16;

	add(l, " data");
	for (i = 0; i < shown; i++) {
		uint32_t v = 0;

		memcpy(&v, data + (size_t)i * size, size <= 4 ? size : 4);
		add(l, " 0x%x", v);
	}
	if (shown < count)
		add(l, " ...");
}

static void add_io(struct line *l, const struct kvm_run *run)
{
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	add(l, ": %s port 0x%x", out ? "out" : "in", run->io.port);
	add_port_name(l, run->io.port);
	add(l, " size %u count %u", run->io.size, run->io.count);
	/* A hypercall's argument travels in rbx (ebx outside 64-bit code), docs/abi.md. */
	if (run->io.port >= KVMBOX_PORT_HC_BASE && run->io.port < KVMBOX_PORT_HC_BASE + KVMBOX_HC_MAX)
		add(l, " argument rbx 0x%llx", ull(run->s.regs.regs.rbx));
	/* An in's data is what kvmbox is about to answer: nothing to show yet. */
	if (out && run->io.size <= 4)
		add_elements(l, (const uint8_t *)run + run->io.data_offset, run->io.size, run->io.count);
}

static void add_exit_fields(struct line *l, const struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		add_io(l, run);
		break;
	case KVM_EXIT_MMIO:
		add(l, ": %s %u byte(s) at guest-physical 0x%llx", run->mmio.is_write ? "write" : "read",
		    run->mmio.len, ull(run->mmio.phys_addr));
		if (run->mmio.is_write && run->mmio.len <= 8)
			add_elements(l, run->mmio.data, run->mmio.len <= 4 ? run->mmio.len : 4,
				     run->mmio.len <= 4 ? 1 : 2);
		break;
	case KVM_EXIT_SHUTDOWN:
		add(l, " (triple fault)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		add(l, ": suberror %u, %u data word(s)", run->internal.suberror, run->internal.ndata);
		for (uint32_t i = 0; i < run->internal.ndata && i < 4; i++)
			add(l, " 0x%llx", ull(run->internal.data[i]));
		break;
	case KVM_EXIT_FAIL_ENTRY:
		add(l, ": hardware_entry_failure_reason 0x%llx, cpu %u",
		    ull(run->fail_entry.hardware_entry_failure_reason), run->fail_entry.cpu);
		break;
	case KVM_EXIT_DEBUG:
		add(l, ": exception %u, pc 0x%llx, dr6 0x%llx, dr7 0x%llx", run->debug.arch.exception,
		    ull(run->debug.arch.pc), ull(run->debug.arch.dr6), ull(run->debug.arch.dr7));
		break;
	case KVM_EXIT_EXCEPTION:
		add(l, ": exception %u, error code 0x%x", run->ex.exception, run->ex.error_code);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		add(l, ": type %u", run->system_event.type);
		break;
	default:
		break;
	}
}

void trace_exit(const struct kvmbox_log *log, const char *who, const struct kvm_run *run,
		const char *name, bool first_run, bool first_of_kind)
{
	struct line l = { .n = 0 };

	if (!log_on(log, KVMBOX_LOG_TRACE))
		return;
	if (first_run)
		explain_step(log, who, "KVM_RUN");
	add(&l, "exit %s", name);
	add_exit_fields(&l, run);
	add(&l, " at rip=0x%llx", ull(run->s.regs.regs.rip));
	log_msg(log, KVMBOX_LOG_TRACE, who, "%s", l.buf);
	if (first_of_kind)
		explain_step(log, who, name);
}

/* ---- -v: layout and image -------------------------------------------------------------- */

void trace_layout(const struct kvmbox_log *log, const char *who, enum kvmbox_mode mode,
		  const struct kvmbox_layout *lo)
{
	struct x86_table t[12];
	unsigned n, i;
	struct line l = { .n = 0 };

	if (!log_on(log, KVMBOX_LOG_INFO))
		return;
	log_msg(log, KVMBOX_LOG_INFO, who, "%s mode, %llu %s of guest memory: guest-physical "
		"0x0..0x%llx, KVM memory slot 0", kvmbox_mode_name(mode),
		ull(lo->mem_size % (1u << 20) ? lo->mem_size >> 10 : lo->mem_size >> 20),
		lo->mem_size % (1u << 20) ? "KiB" : "MiB", ull(lo->mem_size));
	n = x86_mode_tables(mode, lo, t, ARRAY_SIZE(t));
	if (n == 0) {
		log_msg(log, KVMBOX_LOG_INFO, who, "layout: no system area (real mode has no GDT or "
			"page tables); with every segment 0 the guest reaches 0x0..0xffff (segment * 16 "
			"+ offset: below 1 MiB); stack SS:SP 0:0x%llx; the interrupt vector table at "
			"0x0..0x3ff, its entries 0-31 leading to kvmbox's exception stubs at 0x500..0x6ff",
			ull(lo->stack_top));
		return;
	}
	log_msg(log, KVMBOX_LOG_INFO, who, "layout: image area 0x0..0x%llx; system area "
		"0x%llx..0x%llx; stack top 0x%llx (grows down)", ull(lo->sys_base), ull(lo->sys_base),
		ull(lo->mem_size), ull(lo->stack_top));
	add(&l, "layout:");
	for (i = 0; i < n && i < ARRAY_SIZE(t); i++)
		add(&l, "%s %s 0x%llx (%llu bytes)", i ? "," : "", t[i].name, ull(t[i].gpa),
		    ull(t[i].size));
	if (lo->pt_root)
		add(&l, "; CR3 = 0x%llx", ull(lo->pt_root));
	log_msg(log, KVMBOX_LOG_INFO, who, "%s", l.buf);
}

void trace_image(const struct kvmbox_log *log, const char *who, const struct kvmbox_image *img)
{
	static const char *const formats[] = {
		[KVMBOX_IMAGE_FLAT] = "flat binary", [KVMBOX_IMAGE_ELF32] = "ELF32",
		[KVMBOX_IMAGE_ELF64] = "ELF64",
	};

	if (log_on(log, KVMBOX_LOG_INFO)) {
		log_msg(log, KVMBOX_LOG_INFO, who, "image: %s, entry 0x%llx, %u segment(s)",
			(unsigned)img->format < ARRAY_SIZE(formats) ? formats[img->format] : "?",
			ull(img->entry), img->nsegments);
		for (unsigned i = 0; i < img->nsegments; i++) {
			const struct kvmbox_segment *s = &img->segments[i];

			log_msg(log, KVMBOX_LOG_INFO, who, "segment %u: guest-physical 0x%llx..0x%llx "
				"(0x%llx bytes: 0x%llx from file offset 0x%llx, the rest zeroed)", i,
				ull(s->gpa), ull(s->gpa + s->memsz), ull(s->memsz), ull(s->filesz),
				ull(s->offset));
		}
	}
	explain_step(log, who, "load image");
	if (log_on(log, KVMBOX_LOG_TRACE))
		log_msg(log, KVMBOX_LOG_TRACE, who, "sync_regs regs: rip 0x%llx (the entry)",
			ull(img->entry));
	explain_step(log, who, "entry");
}
