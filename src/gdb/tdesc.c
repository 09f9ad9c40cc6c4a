/* The register tables of gdb's i386 and amd64 descriptions (gdb manual, "i386 Features"), our own
 * system-register feature, and the XML generated from them. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gdb/tdesc.h"
#include "base/util.h"

#define FIELD_SIZE(f) sizeof(((struct gdb_cpu *)0)->f)
#define REG(nm, ty, grp, nbits, f) \
	{ .name = nm, .type = ty, .group = grp, .bits = nbits, .off = offsetof(struct gdb_cpu, f), \
	  .width = FIELD_SIZE(f), .kind = GDB_REG_PLAIN }
#define SEG(nm, f) \
	{ .name = nm, .type = "int32", .bits = 32, .off = offsetof(struct gdb_cpu, f), \
	  .width = FIELD_SIZE(f), .kind = GDB_REG_SEG }
#define NONE(nm) { .name = nm, .type = "int", .group = "float", .bits = 32, .kind = GDB_REG_NONE }
#define FTAG(nm) { .name = nm, .type = "int", .group = "float", .bits = 32, .kind = GDB_REG_FTAG }

/* x87 data registers: FXSAVE keeps each 80-bit value in a 16-byte slot, in stack order. */
#define ST(i) REG("st" #i, "i387_ext", NULL, 80, fpu.fpr[i])
#define X87_REGS \
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7), \
	REG("fctrl", "int", "float", 32, fpu.fcw), REG("fstat", "int", "float", 32, fpu.fsw), \
	FTAG("ftag"), NONE("fiseg"), REG("fioff", "int", "float", 32, fpu.last_ip), NONE("foseg"), \
	REG("fooff", "int", "float", 32, fpu.last_dp), REG("fop", "int", "float", 32, fpu.last_opcode)
#define XMM(i) REG("xmm" #i, "vec128", NULL, 128, fpu.xmm[i])
#define SEGMENT_REGS \
	SEG("cs", sregs.cs), SEG("ss", sregs.ss), SEG("ds", sregs.ds), SEG("es", sregs.es), \
	SEG("fs", sregs.fs), SEG("gs", sregs.gs)

/* RFLAGS bits (Intel SDM vol. 1, 3.4.3), shown by name in `info registers`. */
static const char core_types[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
	"<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
	"<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
	"<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
	"<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
	"<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
	"<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>"
	"</flags>";

/* The views of an XMM register and the MXCSR bits (Intel SDM vol. 1, 10.2.3). */
static const char sse_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>"
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
	"<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
	"<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
	"<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
	"<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>"
	"</flags>";

/* gdb's i386 numbering: eax ecx edx ebx esp ebp esi edi eip eflags, segments, x87, SSE. gdb's
 * i8086 architecture uses this same table: its registers are the 32-bit e-registers. */
static const struct gdb_reg i386_regs[] = {
	REG("eax", "int32", NULL, 32, regs.rax), REG("ecx", "int32", NULL, 32, regs.rcx),
	REG("edx", "int32", NULL, 32, regs.rdx), REG("ebx", "int32", NULL, 32, regs.rbx),
	REG("esp", "data_ptr", NULL, 32, regs.rsp), REG("ebp", "data_ptr", NULL, 32, regs.rbp),
	REG("esi", "int32", NULL, 32, regs.rsi), REG("edi", "int32", NULL, 32, regs.rdi),
	REG("eip", "code_ptr", NULL, 32, regs.rip), REG("eflags", "i386_eflags", NULL, 32, regs.rflags),
	SEGMENT_REGS,
	X87_REGS,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	REG("mxcsr", "i386_mxcsr", "vector", 32, fpu.mxcsr),
	REG("cr0", "uint32", "system", 32, sregs.cr0), REG("cr2", "uint32", "system", 32, sregs.cr2),
	REG("cr3", "uint32", "system", 32, sregs.cr3), REG("cr4", "uint32", "system", 32, sregs.cr4),
	REG("efer", "uint64", "system", 64, sregs.efer),
};

static const struct gdb_feature i386_features[] = {
	{ "org.gnu.gdb.i386.core", core_types, 0, 32 },
	{ "org.gnu.gdb.i386.sse", sse_types, 32, 9 },
	{ "org.kvmbox.x86.sys", "", 41, 5 },
};

/* gdb's amd64 numbering: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags, segments, x87,
 * SSE, then fs_base/gs_base (org.gnu.gdb.i386.segments). */
static const struct gdb_reg amd64_regs[] = {
	REG("rax", "int64", NULL, 64, regs.rax), REG("rbx", "int64", NULL, 64, regs.rbx),
	REG("rcx", "int64", NULL, 64, regs.rcx), REG("rdx", "int64", NULL, 64, regs.rdx),
	REG("rsi", "int64", NULL, 64, regs.rsi), REG("rdi", "int64", NULL, 64, regs.rdi),
	REG("rbp", "data_ptr", NULL, 64, regs.rbp), REG("rsp", "data_ptr", NULL, 64, regs.rsp),
	REG("r8", "int64", NULL, 64, regs.r8), REG("r9", "int64", NULL, 64, regs.r9),
	REG("r10", "int64", NULL, 64, regs.r10), REG("r11", "int64", NULL, 64, regs.r11),
	REG("r12", "int64", NULL, 64, regs.r12), REG("r13", "int64", NULL, 64, regs.r13),
	REG("r14", "int64", NULL, 64, regs.r14), REG("r15", "int64", NULL, 64, regs.r15),
	REG("rip", "code_ptr", NULL, 64, regs.rip), REG("eflags", "i386_eflags", NULL, 32, regs.rflags),
	SEGMENT_REGS,
	X87_REGS,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
	REG("mxcsr", "i386_mxcsr", "vector", 32, fpu.mxcsr),
	REG("fs_base", "int", NULL, 64, sregs.fs.base), REG("gs_base", "int", NULL, 64, sregs.gs.base),
	REG("cr0", "uint64", "system", 64, sregs.cr0), REG("cr2", "uint64", "system", 64, sregs.cr2),
	REG("cr3", "uint64", "system", 64, sregs.cr3), REG("cr4", "uint64", "system", 64, sregs.cr4),
	REG("cr8", "uint64", "system", 64, sregs.cr8), REG("efer", "uint64", "system", 64, sregs.efer),
};

static const struct gdb_feature amd64_features[] = {
	{ "org.gnu.gdb.i386.core", core_types, 0, 40 },
	{ "org.gnu.gdb.i386.sse", sse_types, 40, 17 },
	{ "org.gnu.gdb.i386.segments", "", 57, 2 },
	{ "org.kvmbox.x86.sys", "", 59, 6 },
};

_Static_assert(ARRAY_SIZE(i386_regs) == 46, "i386 feature ranges");
_Static_assert(ARRAY_SIZE(amd64_regs) == 65, "amd64 feature ranges");

static const struct gdb_tdesc tdesc_i8086 = {
	.arch = "i8086", .regs = i386_regs, .nregs = ARRAY_SIZE(i386_regs),
	.features = i386_features, .nfeatures = ARRAY_SIZE(i386_features), .pc = 8, .real_mode = true,
};
static const struct gdb_tdesc tdesc_i386 = {
	.arch = "i386", .regs = i386_regs, .nregs = ARRAY_SIZE(i386_regs),
	.features = i386_features, .nfeatures = ARRAY_SIZE(i386_features), .pc = 8,
};
static const struct gdb_tdesc tdesc_amd64 = {
	.arch = "i386:x86-64", .regs = amd64_regs, .nregs = ARRAY_SIZE(amd64_regs),
	.features = amd64_features, .nfeatures = ARRAY_SIZE(amd64_features), .pc = 16,
};

const struct gdb_tdesc *gdb_tdesc_for_mode(enum kvmbox_mode mode)
{
	switch (mode) {
	case KVMBOX_MODE_REAL:
		return &tdesc_i8086;
	case KVMBOX_MODE_PROTECTED:
	case KVMBOX_MODE_PAGED32:
		return &tdesc_i386;
	case KVMBOX_MODE_LONG:
		return &tdesc_amd64;
	default:
		return NULL;
	}
}

size_t gdb_tdesc_reg_size(const struct gdb_tdesc *t, unsigned regno)
{
	return regno < t->nregs ? t->regs[regno].bits / 8u : 0;
}

size_t gdb_tdesc_regs_size(const struct gdb_tdesc *t)
{
	size_t n = 0;

	for (unsigned i = 0; i < t->nregs; i++)
		n += gdb_tdesc_reg_size(t, i);
	return n;
}

/* snprintf into a growing position; keeps counting past the end to report the full size. */
struct xml_out {
	char *buf;
	size_t len, pos;
};

static void __attribute__((format(printf, 2, 3))) xml(struct xml_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL, o->pos < o->len ? o->len - o->pos : 0,
		      fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void xml_feature(struct xml_out *o, const struct gdb_tdesc *t, const struct gdb_feature *f)
{
	xml(o, "<feature name=\"%s\">%s", f->name, f->types);
	for (unsigned i = f->first; i < f->first + f->count; i++) {
		const struct gdb_reg *r = &t->regs[i];

		xml(o, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"", r->name, r->bits,
		    r->type, i);
		if (r->group)
			xml(o, " group=\"%s\"", r->group);
		xml(o, "/>");
	}
	xml(o, "</feature>");
}

size_t gdb_tdesc_xml(const struct gdb_tdesc *t, char *buf, size_t len)
{
	struct xml_out o = { .buf = buf, .len = len };

	if (len)
		buf[0] = 0;
	xml(&o, "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		"<target version=\"1.0\"><architecture>%s</architecture>"
		"<osabi>none</osabi>", t->arch); /* a bare guest: not gdb's default GNU/Linux */
	for (unsigned i = 0; i < t->nfeatures; i++)
		xml_feature(&o, t, &t->features[i]);
	xml(&o, "</target>");
	return o.pos;
}

/* Each mode's target.xml, formatted once per process and then shared read-only by every stub
 * (several VMs, each with a stub, may start at once in one process: pthread_once orders the
 * formatting before any reader). A slot left NULL by a failed allocation stays NULL. */
static const struct gdb_tdesc *const shared_tdescs[] = { &tdesc_i8086, &tdesc_i386, &tdesc_amd64 };
static struct {
	char *text;
	size_t len;
} shared_xml[ARRAY_SIZE(shared_tdescs)];
static pthread_once_t shared_xml_once = PTHREAD_ONCE_INIT;

static void shared_xml_build(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(shared_tdescs); i++) {
		size_t n = gdb_tdesc_xml(shared_tdescs[i], NULL, 0);
		char *text = malloc(n + 1);

		if (!text)
			continue;
		gdb_tdesc_xml(shared_tdescs[i], text, n + 1);
		shared_xml[i].text = text;
		shared_xml[i].len = n;
	}
}

int gdb_tdesc_target_xml(const struct gdb_tdesc *t, const char **xml, size_t *len)
{
	pthread_once(&shared_xml_once, shared_xml_build);
	for (size_t i = 0; i < ARRAY_SIZE(shared_tdescs); i++) {
		if (shared_tdescs[i] != t)
			continue;
		if (!shared_xml[i].text)
			return -ENOMEM;
		*xml = shared_xml[i].text;
		*len = shared_xml[i].len;
		return 0;
	}
	return -EINVAL;
}

/* The full x87 tag word (two bits per physical register: 0 valid, 1 zero, 2 special, 3 empty)
 * from FXSAVE's abridged tag, whose bit i says whether physical register i is in use; the
 * slots hold ST(0)..ST(7), and ST(i) is physical register (TOP + i) mod 8 (SDM vol. 1, 8.1.7
 * and 10.5.1.1). */
static uint16_t x87_full_tag(const struct kvm_fpu *fpu)
{
	unsigned top = (fpu->fsw >> 11) & 7;
	uint16_t tag = 0;

	for (unsigned phys = 0; phys < 8; phys++) {
		const uint8_t *v = fpu->fpr[(phys - top) & 7];
		uint64_t mant;
		unsigned exp = (v[8] | (unsigned)v[9] << 8) & 0x7fff, t;

		memcpy(&mant, v, sizeof(mant));
		if (!(fpu->ftwx & (1u << phys)))
			t = 3;
		else if (exp == 0x7fff || (exp == 0 && mant) || !(mant >> 63 || exp == 0))
			t = 2;
		else if (exp == 0)
			t = 1;
		else
			t = 0;
		tag |= (uint16_t)(t << (2 * phys));
	}
	return tag;
}

static uint8_t x87_abridged_tag(uint16_t tag)
{
	uint8_t ftwx = 0;

	for (unsigned phys = 0; phys < 8; phys++)
		if (((tag >> (2 * phys)) & 3) != 3)
			ftwx |= (uint8_t)(1u << phys);
	return ftwx;
}

int gdb_tdesc_reg_read(const struct gdb_tdesc *t, unsigned regno, const struct gdb_cpu *cpu,
		       uint8_t *buf)
{
	const uint8_t *base = (const uint8_t *)cpu;
	size_t size = gdb_tdesc_reg_size(t, regno);
	const struct gdb_reg *r;
	uint16_t v16;

	if (!size)
		return -EINVAL;
	r = &t->regs[regno];
	memset(buf, 0, size);
	switch (r->kind) {
	case GDB_REG_PLAIN:
		memcpy(buf, base + r->off, r->width < size ? r->width : size);
		break;
	case GDB_REG_SEG:
		memcpy(&v16, base + r->off + offsetof(struct kvm_segment, selector), sizeof(v16));
		memcpy(buf, &v16, sizeof(v16));
		break;
	case GDB_REG_FTAG:
		v16 = x87_full_tag(&cpu->fpu);
		memcpy(buf, &v16, sizeof(v16));
		break;
	}
	return (int)size;
}

/* A segment selector write: real mode reloads the base as the CPU would (SDM vol. 3, 20.1.1);
 * elsewhere only the current value is accepted, since the descriptor cache stays as it was. */
static int seg_write(const struct gdb_tdesc *t, struct kvm_segment *seg, const uint8_t *buf)
{
	uint16_t sel = (uint16_t)(buf[0] | buf[1] << 8);

	if (t->real_mode) {
		seg->selector = sel;
		seg->base = (uint64_t)sel << 4;
		return 0;
	}
	return sel == seg->selector ? 0 : -EPERM;
}

int gdb_tdesc_reg_write(const struct gdb_tdesc *t, unsigned regno, struct gdb_cpu *cpu,
			const uint8_t *buf)
{
	uint8_t *base = (uint8_t *)cpu;
	size_t size = gdb_tdesc_reg_size(t, regno);
	const struct gdb_reg *r;

	if (!size)
		return -EINVAL;
	r = &t->regs[regno];
	switch (r->kind) {
	case GDB_REG_PLAIN:
		memcpy(base + r->off, buf, r->width < size ? r->width : size);
		return 0;
	case GDB_REG_SEG:
		return seg_write(t, (struct kvm_segment *)(base + r->off), buf);
	case GDB_REG_FTAG:
		cpu->fpu.ftwx = x87_abridged_tag((uint16_t)(buf[0] | buf[1] << 8));
		return 0;
	default:
		return 0;
	}
}
