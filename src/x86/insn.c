/* The faulting instruction, for crash reports: decoded with Capstone (Debian's libcapstone),
 * its memory operands' effective addresses computed from the vCPU's registers, and what the
 * CPU's checks (segment limits, canonical addresses) say about them. */
#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>

#include "bits.h"
#include "x86.h"

/* A general register's value as an address component, or false for any other register. */
static bool reg_value(x86_reg reg, const struct kvm_regs *r, uint64_t next_ip, uint64_t *v)
{
	static const struct {
		x86_reg r64, r32, r16;
		size_t off;
	} gprs[] = {
#define G(a, b, c, f) { X86_REG_##a, X86_REG_##b, X86_REG_##c, offsetof(struct kvm_regs, f) }
		G(RAX, EAX, AX, rax), G(RBX, EBX, BX, rbx), G(RCX, ECX, CX, rcx),
		G(RDX, EDX, DX, rdx), G(RSI, ESI, SI, rsi), G(RDI, EDI, DI, rdi),
		G(RSP, ESP, SP, rsp), G(RBP, EBP, BP, rbp), G(R8, R8D, R8W, r8),
		G(R9, R9D, R9W, r9), G(R10, R10D, R10W, r10), G(R11, R11D, R11W, r11),
		G(R12, R12D, R12W, r12), G(R13, R13D, R13W, r13), G(R14, R14D, R14W, r14),
		G(R15, R15D, R15W, r15),
#undef G
	};
	uint64_t raw;

	/* RIP-relative addressing is relative to the next instruction (SDM Vol 2A 2.2.1.6). */
	if (reg == X86_REG_RIP || reg == X86_REG_EIP || reg == X86_REG_IP) {
		*v = next_ip;
		return true;
	}
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++) {
		memcpy(&raw, (const uint8_t *)r + gprs[i].off, sizeof(raw));
		if (reg == gprs[i].r64) {
			*v = raw;
			return true;
		}
		if (reg == gprs[i].r32) {
			*v = (uint32_t)raw;
			return true;
		}
		if (reg == gprs[i].r16) {
			*v = (uint16_t)raw;
			return true;
		}
	}
	return false;
}

static int seg_index(x86_reg seg, x86_reg base)
{
	switch (seg) {
	case X86_REG_ES: return X86_SEG_ES;
	case X86_REG_CS: return X86_SEG_CS;
	case X86_REG_SS: return X86_SEG_SS;
	case X86_REG_DS: return X86_SEG_DS;
	case X86_REG_FS: return X86_SEG_FS;
	case X86_REG_GS: return X86_SEG_GS;
	default:
		break;
	}
	/* The default segment: SS for an address based on the stack or frame pointer, DS for
	 * the rest (SDM Vol 1 3.7.4, Table 3-5). */
	switch (base) {
	case X86_REG_SP: case X86_REG_ESP: case X86_REG_RSP:
	case X86_REG_BP: case X86_REG_EBP: case X86_REG_RBP:
		return X86_SEG_SS;
	default:
		return X86_SEG_DS;
	}
}

/* The code width of the vCPU: 16 in real mode and 16-bit code segments, 64 in 64-bit mode. */
static unsigned code_bits(const struct kvm_sregs *s)
{
	if (x86_in_64bit_code(s))
		return 64;
	return (s->cr0 & CR0_PE) && s->cs.db ? 32 : 16;
}

int x86_insn_decode(const struct kvm_regs *regs, const struct kvm_sregs *sregs, const uint8_t *code,
		    size_t len, struct x86_insn_info *insn)
{
	unsigned bits = code_bits(sregs);
	cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
	uint64_t mask = bits == 64 ? ~0ull : bits == 32 ? 0xffffffffull : 0xffffull;
	csh h;
	cs_insn *ci = NULL;
	int ret = -1;

	memset(insn, 0, sizeof(*insn));
	if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK)
		return -1;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	if (cs_disasm(h, code, len, regs->rip & mask, 1, &ci) != 1)
		goto out;
	insn->len = ci->size;
	/* Truncation is harmless: the text is for people, the operands are read separately. */
	snprintf(insn->text, sizeof(insn->text), "%.16s%s%.78s", ci->mnemonic,
		 ci->op_str[0] ? " " : "", ci->op_str);
	insn->ud2 = ci->id == X86_INS_UD2;
	switch (ci->id) {
	case X86_INS_IN: case X86_INS_OUT:
	case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
	case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
		insn->port_io = true;
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < ci->detail->x86.op_count && insn->nmem < X86_INSN_MEM_MAX; i++) {
		const cs_x86_op *op = &ci->detail->x86.operands[i];
		/* The address size: the code width, or the other one with a 0x67 prefix. */
		uint64_t amask = ci->detail->x86.addr_size == 8 ? ~0ull
				 : ci->detail->x86.addr_size == 4 ? 0xffffffffull : 0xffffull;
		uint64_t base = 0, index = 0, next_ip = (regs->rip + ci->size) & mask;
		struct x86_mem_ref *m;

		if (op->type != X86_OP_MEM)
			continue;
		if ((op->mem.base != X86_REG_INVALID && !reg_value(op->mem.base, regs, next_ip, &base)) ||
		    (op->mem.index != X86_REG_INVALID && !reg_value(op->mem.index, regs, next_ip, &index)))
			continue;
		m = &insn->mem[insn->nmem++];
		m->seg = seg_index(op->mem.segment, op->mem.base);
		m->offset = (base + index * (uint64_t)op->mem.scale + (uint64_t)op->mem.disp) & amask;
		m->size = op->size;
	}
	ret = 0;
out:
	if (ci)
		cs_free(ci, 1);
	cs_close(&h);
	return ret;
}

static const struct kvm_segment *seg_of(const struct kvm_sregs *s, unsigned seg)
{
	const struct kvm_segment *segs[] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };

	return segs[seg];
}

const char *x86_seg_name(unsigned seg)
{
	static const char *const names[] = { "es", "cs", "ss", "ds", "fs", "gs" };

	return seg < 6 ? names[seg] : "?";
}

size_t x86_insn_limit_why(const struct x86_insn_info *insn, const struct kvm_sregs *sregs, char *buf,
			  size_t len)
{
	bool real = !(sregs->cr0 & CR0_PE), in64 = x86_in_64bit_code(sregs);

	buf[0] = '\0';
	for (unsigned i = 0; i < insn->nmem; i++) {
		const struct x86_mem_ref *m = &insn->mem[i];
		const struct kvm_segment *s = seg_of(sregs, m->seg);
		uint64_t last = m->offset + (m->size ? m->size - 1 : 0), linear;

		if (in64) {
			/* Only FS and GS have a base in 64-bit mode (SDM Vol 3A 3.2.4); every
			 * linear address must be canonical, bits 63:47 equal (Vol 1 3.3.7.1). */
			linear = m->offset + (m->seg == X86_SEG_FS || m->seg == X86_SEG_GS ? s->base : 0);
			if ((uint64_t)((int64_t)(linear << 16) >> 16) != linear)
				return (size_t)snprintf(buf, len, "address 0x%llx is not canonical (in "
							"64-bit mode bits 63-47 of an address are all "
							"equal): not a valid pointer",
							(unsigned long long)linear);
			continue;
		}
		if (!(s->type & SEG_TYPE_CODE) && (s->type & SEG_TYPE_DATA_E)) {
			/* Expand-down: the valid offsets lie above the limit (SDM Vol 3A 3.4.5.1). */
			if (m->offset <= s->limit)
				return (size_t)snprintf(buf, len, "offset 0x%llx is at or below the %s "
							"segment's lower limit 0x%x (an expand-down "
							"segment)", (unsigned long long)m->offset,
							x86_seg_name(m->seg), s->limit);
			continue;
		}
		if (last > s->limit) {
			if (real)
				return (size_t)snprintf(buf, len, "offset 0x%llx is past the %s "
							"segment's limit 0x%x: real mode reaches only "
							"64 KiB from a segment's base, so this is no "
							"valid pointer", (unsigned long long)m->offset,
							x86_seg_name(m->seg), s->limit);
			return (size_t)snprintf(buf, len, "offset 0x%llx is past the %s segment's limit "
						"0x%x", (unsigned long long)m->offset,
						x86_seg_name(m->seg), s->limit);
		}
	}
	return 0;
}
