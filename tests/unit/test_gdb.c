/* Unit tests for the GDB remote stub (src/gdb): framing, target descriptions, the command layer
 * over a fake target (replies checked byte for byte), a seeded fuzz of the parser and stub, the
 * connection layer over a socketpair and real sockets, and (when gdb is installed) a real gdb
 * session against tests/unit/gdb_fake_server. No KVM needed. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "gdb/conn.h"
#include "gdb/packet.h"
#include "gdb/stub.h"
#include "gdb/tdesc.h"
#include "gdb_fake_target.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* "$PAYLOAD#cs", with the checksum computed here independently of packet.c. */
static void frame(char *out, size_t cap, const char *payload)
{
	unsigned sum = 0;

	for (const char *p = payload; *p; p++)
		sum += (unsigned char)*p;
	snprintf(out, cap, "$%s#%02x", payload, sum & 0xff);
}

struct fx {
	struct fake_target t;
	struct gdb_stub *s;
	char out[64 * 1024];
};

static struct fx *fx_new(enum kvmbox_mode mode, unsigned bp_types)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_target_init(&f->t, mode);
	f->t.bp_types = bp_types;
	assert_int_equal(gdb_stub_create(&fake_target_ops, &f->t, f->t.tdesc, &f->s), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	gdb_stub_destroy(f->s);
	free(f);
}

/* Everything the stub queued, as a string (replies are text unless a test says otherwise). */
static const char *drain(struct fx *f)
{
	const uint8_t *data;
	size_t n = gdb_stub_output(f->s, &data);

	assert_true(n < sizeof(f->out));
	memcpy(f->out, data, n);
	f->out[n] = 0;
	gdb_stub_consume(f->s, n);
	return f->out;
}

static void feed_str(struct fx *f, const char *raw)
{
	assert_int_equal(gdb_stub_feed(f->s, raw, strlen(raw)), strlen(raw));
}

/* Send PAYLOAD framed; the stub must answer exactly "+" then REPLY framed (NULL: no reply). */
static void expect_reply(struct fx *f, const char *payload, const char *reply)
{
	char in[8192], want[8192] = "+";

	frame(in, sizeof(in), payload);
	feed_str(f, in);
	if (reply)
		frame(want + 1, sizeof(want) - 1, reply);
	assert_string_equal(drain(f), want);
}

/* Send PAYLOAD and return the reply's payload (checked framing, RLE expanded) in OUT. */
static void ask(struct fx *f, const char *payload, char *out, size_t cap)
{
	char in[8192];
	const char *r, *hash;
	size_t n = 0;

	frame(in, sizeof(in), payload);
	feed_str(f, in);
	r = drain(f);
	assert_true(r[0] == '+' && r[1] == '$');
	hash = strchr(r + 2, '#');
	assert_non_null(hash);
	for (const char *p = r + 2; p < hash; p++) {
		if (*p == '*') { /* run-length: repeat the previous character */
			int extra = p[1] - 29;

			for (int i = 0; i < extra; i++, n++)
				out[n] = out[n - 1];
			p++;
			continue;
		}
		assert_true(n + 1 < cap);
		out[n++] = *p;
	}
	out[n] = 0;
}

static void hex_le(char *out, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", (unsigned)(v >> (8 * i)) & 0xff);
}

#define ALL_BPS ((1u << GDB_BP_TYPES) - 1)

/* ---- framing ------------------------------------------------------------------------ */

static enum gdb_pkt_event feed_all(struct gdb_pkt_parser *p, const char *s)
{
	enum gdb_pkt_event ev = GDB_PKT_NONE;
	size_t len = strlen(s), n;

	while (len) {
		n = gdb_pkt_feed(p, (const uint8_t *)s, len, &ev);
		s += n;
		len -= n;
		if (ev != GDB_PKT_NONE)
			break;
	}
	return ev;
}

static void test_packet_parse(void **state)
{
	struct gdb_pkt_parser p;
	enum gdb_pkt_event ev;
	const char *in = "$m1000,4#8e";

	(void)state;
	gdb_pkt_parser_init(&p);
	assert_int_equal(feed_all(&p, in), GDB_PKT_PACKET);
	assert_int_equal(p.len, 7);
	assert_string_equal((char *)p.data, "m1000,4");
	/* One byte at a time, upper-case checksum digits. */
	for (size_t i = 0; in[i]; i++) {
		uint8_t c = (uint8_t)(in[i] == 'e' && i == strlen(in) - 1 ? 'E' : in[i]);

		assert_int_equal(gdb_pkt_feed(&p, &c, 1, &ev), 1);
		assert_int_equal(ev, in[i + 1] ? GDB_PKT_NONE : GDB_PKT_PACKET);
	}
	assert_int_equal(feed_all(&p, "junk+"), GDB_PKT_ACK);
	assert_int_equal(feed_all(&p, "-"), GDB_PKT_NACK);
	assert_int_equal(feed_all(&p, "\x03"), GDB_PKT_INTERRUPT);
	assert_int_equal(feed_all(&p, "$m1000,4#8f"), GDB_PKT_BAD);
	assert_int_equal(p.fault, GDB_PKT_CHECKSUM);
	assert_int_equal(feed_all(&p, "$g#zz"), GDB_PKT_BAD);
	assert_int_equal(p.fault, GDB_PKT_CHECKSUM);
}

static void test_packet_escapes_and_faults(void **state)
{
	struct gdb_pkt_parser p;
	char big[GDB_PACKET_MAX + 16];

	(void)state;
	gdb_pkt_parser_init(&p);
	/* "X0,2:" then '}' '\x03' = '#' and '}' ']' = '}': checksum over the raw bytes. */
	assert_int_equal(feed_all(&p, "$X0,2:}\x03}]#7a"), GDB_PKT_PACKET);
	assert_int_equal(p.len, 7);
	assert_memory_equal(p.data, "X0,2:#}", 7);
	assert_int_equal(feed_all(&p, "$ab}#00"), GDB_PKT_BAD);
	assert_int_equal(p.fault, GDB_PKT_ESCAPE);
	/* A '$' inside a packet: the first is refused, the second still parses. */
	assert_int_equal(feed_all(&p, "$g$g#67"), GDB_PKT_BAD);
	assert_int_equal(p.fault, GDB_PKT_TRUNCATED);
	assert_int_equal(feed_all(&p, "$g#67"), GDB_PKT_PACKET);
	memset(big, 'a', sizeof(big));
	big[0] = '$';
	strcpy(big + GDB_PACKET_MAX + 2, "#00");
	assert_int_equal(feed_all(&p, big), GDB_PKT_BAD);
	assert_int_equal(p.fault, GDB_PKT_TOO_LONG);
}

static void test_packet_encode(void **state)
{
	uint8_t out[64];
	int n;

	(void)state;
	n = gdb_pkt_encode("OK", 2, 0, out, sizeof(out));
	assert_int_equal(n, 6);
	assert_memory_equal(out, "$OK#9a", 6);
	/* 10 zeros: '0' and 9 more ('*' then 29 + 9 = '&'). */
	n = gdb_pkt_encode("0000000000", 10, GDB_ENC_RLE, out, sizeof(out));
	assert_memory_equal(out, "$0*&#", 5);
	assert_int_equal(n, 7);
	/* 7 zeros would need '#' (6 extra): 5 extra then one plain zero. */
	n = gdb_pkt_encode("0000000", 7, GDB_ENC_RLE, out, sizeof(out));
	assert_memory_equal(out, "$0*\"0#", 6);
	/* Runs of 3 stay as they are. */
	n = gdb_pkt_encode("000", 3, GDB_ENC_RLE, out, sizeof(out));
	assert_memory_equal(out, "$000#", 5);
	n = gdb_pkt_encode("l$#}*", 5, GDB_ENC_BINARY, out, sizeof(out));
	assert_memory_equal(out, "$l}\x04}\x03}]}\x0a#", 11);
	assert_int_equal(gdb_pkt_encode("OK", 2, 0, out, 5), -ENOSPC);
}

/* ---- target descriptions ------------------------------------------------------------ */

static void test_tdesc_tables(void **state)
{
	const struct gdb_tdesc *r = gdb_tdesc_for_mode(KVMBOX_MODE_REAL);
	const struct gdb_tdesc *p = gdb_tdesc_for_mode(KVMBOX_MODE_PAGED32);
	const struct gdb_tdesc *l = gdb_tdesc_for_mode(KVMBOX_MODE_LONG);

	(void)state;
	assert_null(gdb_tdesc_for_mode(KVMBOX_MODE_AUTO));
	assert_string_equal(r->arch, "i8086");
	assert_string_equal(p->arch, "i386");
	assert_ptr_equal(gdb_tdesc_for_mode(KVMBOX_MODE_PROTECTED), p);
	assert_string_equal(l->arch, "i386:x86-64");
	/* gdb's fixed numbers: eip 8, eflags 9, cs 10, st0 16; rip 16, eflags 17, st0 24. */
	assert_string_equal(p->regs[8].name, "eip");
	assert_string_equal(p->regs[10].name, "cs");
	assert_string_equal(p->regs[16].name, "st0");
	assert_string_equal(p->regs[32].name, "xmm0");
	assert_string_equal(l->regs[7].name, "rsp");
	assert_string_equal(l->regs[16].name, "rip");
	assert_string_equal(l->regs[24].name, "st0");
	assert_int_equal(r->pc, 8);
	assert_int_equal(l->pc, 16);
	assert_int_equal(gdb_tdesc_regs_size(p), 332);
	assert_int_equal(gdb_tdesc_regs_size(l), 600);
	assert_int_equal(gdb_tdesc_reg_size(l, 17), 4);
	assert_int_equal(gdb_tdesc_reg_size(l, 24), 10);
	assert_int_equal(gdb_tdesc_reg_size(l, l->nregs), 0);
	/* Features cover the table in order, each register once. */
	for (int k = 0; k < 3; k++) {
		const struct gdb_tdesc *t = k == 0 ? r : k == 1 ? p : l;
		unsigned next = 0;

		for (unsigned i = 0; i < t->nfeatures; i++) {
			assert_int_equal(t->features[i].first, next);
			next += t->features[i].count;
		}
		assert_int_equal(next, t->nregs);
	}
}

static void test_tdesc_xml(void **state)
{
	const struct gdb_tdesc *l = gdb_tdesc_for_mode(KVMBOX_MODE_LONG);
	size_t n = gdb_tdesc_xml(l, NULL, 0);
	char *x = malloc(n + 1), small[16];

	(void)state;
	assert_non_null(x);
	assert_int_equal(gdb_tdesc_xml(l, x, n + 1), n);
	assert_int_equal(strlen(x), n);
	assert_non_null(strstr(x, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(x, "<feature name=\"org.gnu.gdb.i386.core\">"));
	assert_non_null(strstr(x, "<feature name=\"org.kvmbox.x86.sys\">"));
	assert_non_null(strstr(x, "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\"/>"));
	assert_non_null(strstr(x, "<reg name=\"cr3\" bitsize=\"64\" type=\"uint64\" regnum=\"61\" group=\"system\"/>"));
	assert_string_equal(x + n - 9, "</target>");
	/* Truncation is snprintf-like: the full length, a NUL-terminated prefix. */
	assert_int_equal(gdb_tdesc_xml(l, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	free(x);
}

/* Each mode's target.xml is formatted once and shared: every call hands out the same text,
 * equal to gdb_tdesc_xml's; a description not of gdb_tdesc_for_mode is refused. */
static void test_tdesc_target_xml_shared(void **state)
{
	static const enum kvmbox_mode modes[] = { KVMBOX_MODE_REAL, KVMBOX_MODE_PROTECTED,
						  KVMBOX_MODE_PAGED32, KVMBOX_MODE_LONG };
	struct gdb_tdesc fake;
	const char *a, *b;
	size_t na, nb;
	char *want;

	(void)state;
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const struct gdb_tdesc *t = gdb_tdesc_for_mode(modes[i]);

		assert_int_equal(gdb_tdesc_target_xml(t, &a, &na), 0);
		assert_int_equal(gdb_tdesc_target_xml(t, &b, &nb), 0);
		assert_ptr_equal(a, b);
		assert_int_equal(na, nb);
		want = malloc(na + 1);
		assert_non_null(want);
		assert_int_equal(gdb_tdesc_xml(t, want, na + 1), na);
		assert_memory_equal(a, want, na);
		free(want);
	}
	memcpy(&fake, gdb_tdesc_for_mode(KVMBOX_MODE_LONG), sizeof(fake));
	assert_int_equal(gdb_tdesc_target_xml(&fake, &a, &na), -EINVAL);
}

static void test_tdesc_registers(void **state)
{
	const struct gdb_tdesc *r = gdb_tdesc_for_mode(KVMBOX_MODE_REAL);
	const struct gdb_tdesc *p = gdb_tdesc_for_mode(KVMBOX_MODE_PROTECTED);
	struct gdb_cpu cpu = { 0 };
	uint8_t buf[16];

	(void)state;
	cpu.regs.rax = 0x1122334455667788ull;
	assert_int_equal(gdb_tdesc_reg_read(p, 0, &cpu, buf), 4);
	assert_memory_equal(buf, "\x88\x77\x66\x55", 4);
	memcpy(buf, "\x01\x02\x03\x04", 4);
	assert_int_equal(gdb_tdesc_reg_write(p, 0, &cpu, buf), 0);
	assert_int_equal(cpu.regs.rax, 0x1122334404030201ull);
	/* Segment: real mode reloads the base; protected mode keeps only the same selector. */
	memcpy(buf, "\x00\x10\x00\x00", 4);
	assert_int_equal(gdb_tdesc_reg_write(r, 12, &cpu, buf), 0); /* ds */
	assert_int_equal(cpu.sregs.ds.selector, 0x1000);
	assert_int_equal(cpu.sregs.ds.base, 0x10000);
	assert_int_equal(gdb_tdesc_reg_write(p, 12, &cpu, (const uint8_t *)"\x10\0\0\0"), -EPERM);
	assert_int_equal(gdb_tdesc_reg_write(p, 12, &cpu, (const uint8_t *)"\x00\x10\0\0"), 0);
	assert_int_equal(gdb_tdesc_reg_read(p, 99, &cpu, buf), -EINVAL);
	assert_int_equal(gdb_tdesc_reg_write(p, 99, &cpu, buf), -EINVAL);
}

/* The x87 tag word from FXSAVE's abridged form: empty 3, valid 0, zero 1, special 2. */
static void test_tdesc_x87_tag(void **state)
{
	const struct gdb_tdesc *p = gdb_tdesc_for_mode(KVMBOX_MODE_PROTECTED);
	struct gdb_cpu cpu = { 0 };
	uint8_t buf[4];

	(void)state;
	assert_int_equal(gdb_tdesc_reg_read(p, 26, &cpu, buf), 4);
	assert_memory_equal(buf, "\xff\xff\0\0", 4); /* all empty */
	/* TOP = 6: ST(0) is physical 6, ST(1) physical 7. ST(0) = 1.0, ST(1) = +0. */
	cpu.fpu.fsw = 6 << 11;
	cpu.fpu.ftwx = 0xc0;
	cpu.fpu.fpr[0][7] = 0x80;
	cpu.fpu.fpr[0][8] = 0xff;
	cpu.fpu.fpr[0][9] = 0x3f;
	assert_int_equal(gdb_tdesc_reg_read(p, 26, &cpu, buf), 4);
	assert_memory_equal(buf, "\xff\x4f\0\0", 4); /* phys 7 zero (01), phys 6 valid (00) */
	assert_int_equal(gdb_tdesc_reg_write(p, 26, &cpu, (const uint8_t *)"\xff\x3f\0\0"), 0);
	assert_int_equal(cpu.fpu.ftwx, 0x80);
}

/* ---- the command layer -------------------------------------------------------------- */

static void test_qsupported(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	struct fx *g = fx_new(KVMBOX_MODE_LONG, GDB_BP_MASK(GDB_BP_HW));

	(void)state;
	expect_reply(f, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386",
		     "PacketSize=1000;qXfer:features:read+;QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+");
	expect_reply(g, "qSupported", "PacketSize=1000;qXfer:features:read+;QStartNoAckMode+;vContSupported+;hwbreak+");
	fx_free(f);
	fx_free(g);
}

static void test_queries(void **state)
{
	static const struct { const char *pkt, *reply; } cases[] = {
		{ "qAttached", "1" },   { "qAttached:1", "1" },       { "qC", "QC1" },
		{ "qfThreadInfo", "m1" }, { "qsThreadInfo", "l" },    { "Hg0", "OK" },
		{ "Hc-1", "OK" },       { "T1", "OK" },               { "?", "T05thread:1;" },
		{ "qTStatus", "" },     { "vMustReplyEmpty", "" },    { "!", "" },
		{ "", "" },
	};
	struct fx *f = fx_new(KVMBOX_MODE_PROTECTED, ALL_BPS);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_reply(f, cases[i].pkt, cases[i].reply);
	fx_free(f);
}

static void test_xfer_target_xml(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_REAL, ALL_BPS);
	size_t n = gdb_tdesc_xml(f->t.tdesc, NULL, 0), got = 0;
	char *want = malloc(n + 1), *have = malloc(n + 1), req[128], reply[8192];

	(void)state;
	gdb_tdesc_xml(f->t.tdesc, want, n + 1);
	for (;;) { /* 1000-byte pieces, as gdb asks */
		snprintf(req, sizeof(req), "qXfer:features:read:target.xml:%zx,3e8", got);
		ask(f, req, reply, sizeof(reply));
		assert_true(reply[0] == 'm' || reply[0] == 'l');
		memcpy(have + got, reply + 1, strlen(reply + 1));
		got += strlen(reply + 1);
		if (reply[0] == 'l')
			break;
		assert_int_equal(strlen(reply + 1), 1000);
	}
	assert_int_equal(got, n);
	have[got] = 0;
	assert_string_equal(have, want);
	assert_non_null(strstr(have, "<architecture>i8086</architecture>"));
	snprintf(req, sizeof(req), "qXfer:features:read:target.xml:%zx,10", n);
	expect_reply(f, req, "l");
	snprintf(req, sizeof(req), "qXfer:features:read:target.xml:%zx,10", n + 1);
	expect_reply(f, req, "E22");
	expect_reply(f, "qXfer:features:read:other.xml:0,10", "E00");
	expect_reply(f, "qXfer:features:read:target.xml:zz", "E00");
	free(want);
	free(have);
	fx_free(f);
}

static void test_read_registers(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	const struct gdb_tdesc *t = f->t.tdesc;
	char reply[4096], want[64];

	(void)state;
	ask(f, "g", reply, sizeof(reply));
	assert_int_equal(strlen(reply), 2 * gdb_tdesc_regs_size(t));
	hex_le(want, 42, 8);
	assert_memory_equal(reply, want, 16);                    /* rax */
	hex_le(want, 0x1122334455667788ull, 8);
	assert_memory_equal(reply + 16, want, 16);               /* rbx */
	hex_le(want, FAKE_PC, 8);
	assert_memory_equal(reply + 2 * 16 * 8, want, 16);       /* rip */
	hex_le(want, FAKE_PC, 8);
	expect_reply(f, "p10", want);                            /* rip is 0x10 */
	hex_le(want, f->t.cpu.sregs.cr0, 8);
	expect_reply(f, "p3b", want);                            /* cr0 is 59 */
	expect_reply(f, "p41", "E22");                           /* 65: no such register */
	expect_reply(f, "pzz", "E22");
	expect_reply(f, "p10,", "E22");
	fx_free(f);
}

static void test_write_registers(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_PROTECTED, ALL_BPS);
	char regs[4096], pkt[4200];

	(void)state;
	expect_reply(f, "P0=07000000", "OK");
	assert_int_equal(f->t.cpu.regs.rax, 7);
	expect_reply(f, "P8=00200000", "OK");
	assert_int_equal(f->t.cpu.regs.rip, 0x2000);
	expect_reply(f, "P8=002000", "E22");            /* too short */
	expect_reply(f, "P8=0020000g", "E22");          /* not hex */
	expect_reply(f, "Pa=09000000", "E01");          /* cs cannot be reloaded: EPERM */
	expect_reply(f, "P99=00000000", "E22");
	/* g then G of the same bytes changes nothing and is accepted (segments included). */
	ask(f, "g", regs, sizeof(regs));
	snprintf(pkt, sizeof(pkt), "G%s", regs);
	expect_reply(f, pkt, "OK");
	assert_int_equal(f->t.cpu.regs.rip, 0x2000);
	pkt[strlen(pkt) - 2] = 0;
	expect_reply(f, pkt, "E22");
	fx_free(f);
}

static void test_memory(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	char reply[8192];

	(void)state;
	expect_reply(f, "m2000,5", "48656c6c6f"); /* "Hello" */
	expect_reply(f, "m8000,1", "E14");        /* the hole */
	expect_reply(f, "m10000,4", "E14");       /* past memory */
	expect_reply(f, "mffffffffffffffff,2", "E22"); /* wraps */
	expect_reply(f, "m2000,0", "E22");
	expect_reply(f, "m2000", "E22");
	/* A read running into the hole is answered up to it. */
	ask(f, "m7ffe,4", reply, sizeof(reply));
	assert_int_equal(strlen(reply), 4);
	/* Big reads are capped to what one reply holds. */
	ask(f, "m0,ffff", reply, sizeof(reply));
	assert_int_equal(strlen(reply), GDB_PACKET_MAX);
	expect_reply(f, "M3000,4:deadbeef", "OK");
	assert_memory_equal(f->t.mem + 0x3000, "\xde\xad\xbe\xef", 4);
	expect_reply(f, "M3000,4:deadbe", "E22");
	expect_reply(f, "M3000,2:zzzz", "E22");
	expect_reply(f, "M8000,1:00", "E14");
	expect_reply(f, "M3000,0:", "OK");
	fx_free(f);
}

static void test_binary_write(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	/* 5 bytes: '#', '$', '}', '*', 0x00, escaped as gdb does. */
	const char raw[] = "X3100,5:}\x03}\x04}]}\x0a\x00";
	unsigned sum = 0;
	char in[64];
	size_t n = sizeof(raw) - 1;

	(void)state;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)raw[i];
	in[0] = '$';
	memcpy(in + 1, raw, n);
	snprintf(in + 1 + n, sizeof(in) - 1 - n, "#%02x", sum & 0xff);
	assert_int_equal(gdb_stub_feed(f->s, in, n + 4), n + 4);
	assert_string_equal(drain(f), "+$OK#9a");
	assert_memory_equal(f->t.mem + 0x3100, "#$}*\0", 5);
	expect_reply(f, "X3100,0:", "OK");           /* gdb's probe */
	expect_reply(f, "X3100,2:a", "E22");         /* length disagrees */
	expect_reply(f, "X8000,1:a", "E14");
	fx_free(f);
}

static void test_breakpoints(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS & ~GDB_BP_MASK(GDB_BP_SW));

	(void)state;
	expect_reply(f, "Z0,1000,1", "");            /* no software breakpoints: gdb falls back */
	assert_int_equal(f->t.nbps, 0);
	expect_reply(f, "Z1,1000,1", "OK");
	expect_reply(f, "Z1,1000,1", "OK");          /* again: still one */
	assert_int_equal(f->t.nbps, 1);
	expect_reply(f, "Z2,3000,4", "OK");
	expect_reply(f, "Z4,3008,8", "OK");
	assert_int_equal(f->t.nbps, 3);
	assert_int_equal(f->t.bps[1].type, GDB_BP_WRITE);
	assert_int_equal(f->t.bps[1].len, 4);
	expect_reply(f, "z2,3000,4", "OK");
	expect_reply(f, "z2,3000,4", "OK");          /* not there any more: nothing to do */
	assert_int_equal(f->t.nbps, 2);
	expect_reply(f, "Z5,1000,1", "");
	expect_reply(f, "Z1,1000", "E22");
	expect_reply(f, "Z1,1000,1;X2,0a", "E22");   /* conditions were not offered */
	/* Detach removes what is left, then the session is over. */
	expect_reply(f, "D", "OK");
	assert_int_equal(f->t.nbps, 0);
	assert_int_equal(f->t.detaches, 1);
	assert_int_equal(gdb_stub_state(f->s), GDB_STUB_CLOSED);
	fx_free(f);
}

static void test_breakpoint_slots(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	char pkt[64];

	(void)state;
	for (unsigned i = 0; i < FAKE_MAX_BPS; i++) {
		snprintf(pkt, sizeof(pkt), "Z0,%x,1", 0x1000 + i);
		expect_reply(f, pkt, "OK");
	}
	expect_reply(f, "Z0,2000,1", "E28"); /* the target is out of slots: ENOSPC */
	fx_free(f);
}

static void test_resume_and_stop(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	struct gdb_stop stop = { .kind = GDB_STOP_STEP };
	char want[64];

	(void)state;
	expect_reply(f, "vCont?", "vCont;c;C;s;S");
	expect_reply(f, "s", NULL);
	assert_int_equal(gdb_stub_state(f->s), GDB_STUB_RUNNING);
	assert_int_equal(f->t.steps, 1);
	/* While running: packets are dropped, Ctrl-C interrupts. */
	expect_reply(f, "g", NULL);
	feed_str(f, "\x03");
	assert_int_equal(f->t.interrupts, 1);
	gdb_stub_stopped(f->s, &stop);
	frame(want, sizeof(want), "T05thread:1;");
	assert_string_equal(drain(f), want);
	expect_reply(f, "c", NULL);
	stop.kind = GDB_STOP_INTERRUPT;
	gdb_stub_stopped(f->s, &stop);
	frame(want, sizeof(want), "T02thread:1;");
	assert_string_equal(drain(f), want);
	/* c ADDR moves the pc first; C/S signals are dropped. */
	expect_reply(f, "c2000", NULL);
	assert_int_equal(f->t.cpu.regs.rip, 0x2000);
	gdb_stub_stopped(f->s, &stop);
	drain(f);
	expect_reply(f, "S05;2004", NULL);
	assert_int_equal(f->t.cpu.regs.rip, 0x2004);
	assert_int_equal(f->t.last_how, GDB_RESUME_STEP);
	gdb_stub_stopped(f->s, &stop);
	drain(f);
	expect_reply(f, "C0b", NULL);
	assert_int_equal(f->t.last_how, GDB_RESUME_CONTINUE);
	gdb_stub_stopped(f->s, &stop);
	drain(f);
	expect_reply(f, "czz", "E22");
	expect_reply(f, "S05;", "E22");
	assert_int_equal(gdb_stub_state(f->s), GDB_STUB_STOPPED);
	fx_free(f);
}

static void test_vcont(void **state)
{
	static const struct { const char *pkt; int how; } cases[] = {
		{ "vCont;c", GDB_RESUME_CONTINUE },     { "vCont;s:1;c", GDB_RESUME_STEP },
		{ "vCont;s:p1.1;c", GDB_RESUME_STEP },  { "vCont;c:2;s", GDB_RESUME_STEP },
		{ "vCont;S05:-1", GDB_RESUME_STEP },    { "vCont;C0b", GDB_RESUME_CONTINUE },
		{ "vCont;t", -1 },                      { "vCont;r1000,2000:1", -1 },
		{ "vCont;", -1 },                       { "vCont;c:2", -1 },
	};
	struct gdb_stop stop = { .kind = GDB_STOP_STEP };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);

		expect_reply(f, cases[i].pkt, cases[i].how < 0 ? "E22" : NULL);
		if (cases[i].how >= 0) {
			assert_int_equal(gdb_stub_state(f->s), GDB_STUB_RUNNING);
			assert_int_equal(f->t.last_how, cases[i].how);
			gdb_stub_stopped(f->s, &stop);
		}
		fx_free(f);
	}
}

static void test_stop_replies(void **state)
{
	static const struct { struct gdb_stop stop; const char *reply; } cases[] = {
		{ { .kind = GDB_STOP_BREAK, .bp_type = GDB_BP_SW, .addr = 0x1000 }, "T05swbreak:;thread:1;" },
		{ { .kind = GDB_STOP_BREAK, .bp_type = GDB_BP_HW, .addr = 0x1000 }, "T05hwbreak:;thread:1;" },
		{ { .kind = GDB_STOP_WATCH, .bp_type = GDB_BP_WRITE, .addr = 0x3004 }, "T05watch:3004;thread:1;" },
		{ { .kind = GDB_STOP_WATCH, .bp_type = GDB_BP_READ, .addr = 0x10 }, "T05rwatch:10;thread:1;" },
		{ { .kind = GDB_STOP_WATCH, .bp_type = GDB_BP_ACCESS, .addr = 0x10 }, "T05awatch:10;thread:1;" },
		{ { .kind = GDB_STOP_EXCEPTION, .code = 14 }, "T0bthread:1;" },  /* #PF: SIGSEGV */
		{ { .kind = GDB_STOP_EXCEPTION, .code = 13 }, "T0bthread:1;" },  /* #GP */
		{ { .kind = GDB_STOP_EXCEPTION, .code = 6 }, "T04thread:1;" },   /* #UD: SIGILL */
		{ { .kind = GDB_STOP_EXCEPTION, .code = 0 }, "T08thread:1;" },   /* #DE: SIGFPE */
		{ { .kind = GDB_STOP_EXCEPTION, .code = 19 }, "T08thread:1;" },  /* #XM */
		{ { .kind = GDB_STOP_EXCEPTION, .code = 17 }, "T0athread:1;" },  /* #AC: SIGBUS */
		{ { .kind = GDB_STOP_EXITED, .code = 3 }, "W03" },
		{ { .kind = GDB_STOP_KILLED, .code = 8 }, "X0b" },               /* #DF */
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);

		expect_reply(f, "qSupported:swbreak+;hwbreak+", "PacketSize=1000;qXfer:features:read+;"
			     "QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+");
		expect_reply(f, "c", NULL);
		gdb_stub_stopped(f->s, &cases[i].stop);
		frame(want, sizeof(want), cases[i].reply);
		assert_string_equal(drain(f), want);
		assert_int_equal(gdb_stub_state(f->s), cases[i].reply[0] == 'T' ? GDB_STUB_STOPPED
										: GDB_STUB_CLOSED);
		fx_free(f);
	}
}

/* Without swbreak+/hwbreak+ from gdb, a breakpoint stop is a plain T05; '?' reports too. */
static void test_stop_reason_plain(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	struct gdb_stop stop = { .kind = GDB_STOP_BREAK, .bp_type = GDB_BP_SW, .addr = 0x1000 };
	char want[64];

	(void)state;
	expect_reply(f, "c", NULL);
	gdb_stub_stopped(f->s, &stop);
	frame(want, sizeof(want), "T05thread:1;");
	assert_string_equal(drain(f), want);
	f->t.stop = (struct gdb_stop){ .kind = GDB_STOP_EXITED, .code = 0 };
	expect_reply(f, "?", "W00");
	assert_int_equal(gdb_stub_state(f->s), GDB_STUB_CLOSED);
	expect_reply(f, "g", NULL); /* closed: acknowledged, not executed */
	fx_free(f);
}

static void test_kill(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_REAL, ALL_BPS);

	(void)state;
	expect_reply(f, "k", NULL);
	assert_int_equal(f->t.kills, 1);
	assert_int_equal(gdb_stub_state(f->s), GDB_STUB_CLOSED);
	fx_free(f);
}

static void test_acks(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	struct gdb_stub_stats st;
	char want[64], in[64];

	(void)state;
	feed_str(f, "$m2000,1#00");               /* bad checksum: nack, nothing run */
	assert_string_equal(drain(f), "-");
	expect_reply(f, "m2000,1", "48");
	feed_str(f, "-");                         /* gdb lost it: the same frame again */
	frame(want, sizeof(want), "48");
	assert_string_equal(drain(f), want);
	feed_str(f, "+");
	assert_string_equal(drain(f), "");
	expect_reply(f, "QStartNoAckMode", "OK");
	frame(in, sizeof(in), "m2000,1");
	feed_str(f, in);
	assert_string_equal(drain(f), want);      /* no '+' any more */
	feed_str(f, "$m2000,1#00-");              /* nor '-', and no resend */
	assert_string_equal(drain(f), "");
	gdb_stub_get_stats(f->s, &st);
	assert_int_equal(st.bad, 2);
	assert_int_equal(st.resent, 1);
	assert_int_equal(st.packets, 3);
	fx_free(f);
}

/* ---- fuzz --------------------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: deterministic for a seed, good enough to spread inputs. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static const char *const fuzz_cmds[] = {
	"?", "g", "G", "p", "P", "m", "M", "X", "Z", "z", "c", "s", "C", "S", "vCont?", "vCont;",
	"qSupported:", "qXfer:features:read:target.xml:", "qXfer:features:read:", "qAttached",
	"qC", "qfThreadInfo", "qsThreadInfo", "H", "T", "D", "k", "QStartNoAckMode", "q", "v",
};

/* A command letter or prefix followed by random arguments made of the characters the real
 * arguments use, and sometimes raw binary. */
static size_t fuzz_payload(uint64_t *seed, uint8_t *out, size_t cap)
{
	static const char alphabet[] = "0123456789abcdefABCDEF,:;=-.p}#$*xzl";
	const char *cmd = fuzz_cmds[rnd(seed) % (sizeof(fuzz_cmds) / sizeof(fuzz_cmds[0]))];
	size_t n = strlen(cmd), args = rnd(seed) % 48;
	bool binary = rnd(seed) % 8 == 0;

	memcpy(out, cmd, n);
	for (size_t i = 0; i < args && n < cap; i++)
		out[n++] = binary ? (uint8_t)rnd(seed) : (uint8_t)alphabet[rnd(seed) % (sizeof(alphabet) - 1)];
	return n;
}

/* One fuzz input of one of six shapes into BUF; returns its length. */
static size_t fuzz_input(uint64_t *seed, uint8_t *buf, size_t cap)
{
	uint8_t payload[256];
	size_t n = 0, len;
	unsigned sum = 0;

	switch (rnd(seed) % 6) {
	case 0: /* noise */
		len = rnd(seed) % 64;
		for (; n < len; n++)
			buf[n] = (uint8_t)rnd(seed);
		return n;
	case 1: /* oversized */
		buf[n++] = '$';
		while (n < GDB_PACKET_MAX + 100)
			buf[n++] = (uint8_t)('0' + rnd(seed) % 10);
		memcpy(buf + n, "#00", 3);
		return n + 3;
	default: /* a frame with a correct checksum (escapes may be bad), maybe cut short */
		len = fuzz_payload(seed, payload, sizeof(payload));
		buf[n++] = '$';
		for (size_t i = 0; i < len; i++) {
			if (payload[i] == '#' || payload[i] == '$') /* the only bytes a frame cannot hold */
				payload[i] = '}';
			sum += payload[i];
			buf[n++] = payload[i];
		}
		n += (size_t)snprintf((char *)buf + n, cap - n, "#%02x", sum & 0xff);
		return rnd(seed) % 5 == 0 ? rnd(seed) % n : n;
	}
}

/* Everything the stub sends is '+', '-', or a frame whose checksum is right. */
static void assert_well_formed(const uint8_t *out, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned sum = 0, got;

		if (out[i] == '+' || out[i] == '-') {
			i++;
			continue;
		}
		assert_int_equal(out[i], '$');
		for (i++; i < n && out[i] != '#'; i++)
			sum += out[i];
		assert_true(i + 2 < n);
		assert_int_equal(sscanf((const char *)out + i + 1, "%2x", &got), 1);
		assert_int_equal(got, sum & 0xff);
		i += 3;
	}
}

/* Feed LEN bytes in random chunks, draining (and checking) the output whenever the stub stops
 * taking bytes; a resumed target stops again at once, with a random reason. */
static void fuzz_feed(struct fx *f, uint64_t *seed, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t chunk = 1 + rnd(seed) % (len - off);
		const uint8_t *out;
		size_t n;

		off += gdb_stub_feed(f->s, buf + off, chunk);
		if (gdb_stub_state(f->s) == GDB_STUB_RUNNING) {
			struct gdb_stop stop = { .kind = (enum gdb_stop_kind)(rnd(seed) % 5) };

			gdb_stub_stopped(f->s, &stop);
		}
		n = gdb_stub_output(f->s, &out);
		assert_well_formed(out, n);
		gdb_stub_consume(f->s, n);
	}
}

static void test_fuzz(void **state)
{
	static uint8_t buf[GDB_PACKET_MAX + 512];
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	uint64_t seed = 0x6b766d626f78ull; /* fixed: the same inputs on every run */
	unsigned long packets = 0;
	struct gdb_stub_stats st;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		fuzz_feed(f, &seed, buf, fuzz_input(&seed, buf, sizeof(buf)));
		if (gdb_stub_state(f->s) == GDB_STUB_CLOSED) {
			gdb_stub_get_stats(f->s, &st);
			assert_int_equal(st.overflow, 0);
			packets += st.packets;
			fx_free(f);
			f = fx_new(KVMBOX_MODE_LONG, (unsigned)rnd(&seed) & ALL_BPS);
		}
	}
	assert_true(f->t.nbps <= FAKE_MAX_BPS);
	assert_true(packets > 1000);
	fx_free(f);
}

/* A burst of packets bigger than the output queue: the stub takes what it can answer, and
 * after each drain the rest; no reply is lost. */
static void test_backpressure(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	size_t len = 0, off = 0, replies = 0, rounds = 0;
	char *burst = malloc(1000 * 5 + 1);
	struct gdb_stub_stats st;

	(void)state;
	for (int i = 0; i < 1000; i++)
		len += (size_t)sprintf(burst + len, "$g#67");
	while (off < len) {
		const char *out;

		off += gdb_stub_feed(f->s, burst + off, len - off);
		for (out = drain(f); (out = strstr(out, "+$")); out++)
			replies++;
		rounds++;
	}
	assert_int_equal(replies, 1000);
	assert_true(rounds > 1);
	gdb_stub_get_stats(f->s, &st);
	assert_int_equal(st.overflow, 0);
	free(burst);
	fx_free(f);
}

/* ---- connections -------------------------------------------------------------------- */

static void test_conn_parse(void **state)
{
	static const char *const bad[] = {
		"", "tcp:", "tcp:abc", "tcp:70000", "tcp:-1", "tcp:[::1", "tcp:[::1]1", "udp:1",
		"unix:", "1234", "tcp:1234x", "tcp:host:", "tcp:123456",
	};
	struct gdb_conn_spec s;
	struct kvmbox_error err;
	char long_path[200];

	(void)state;
	assert_int_equal(gdb_conn_parse("tcp:1234", &s, &err), 0);
	assert_int_equal(s.kind, GDB_CONN_TCP);
	assert_string_equal(s.host, "127.0.0.1");
	assert_int_equal(s.port, 1234);
	assert_int_equal(gdb_conn_parse("tcp:0.0.0.0:99", &s, &err), 0);
	assert_string_equal(s.host, "0.0.0.0");
	assert_int_equal(s.port, 99);
	assert_int_equal(gdb_conn_parse("tcp::77", &s, &err), 0);
	assert_string_equal(s.host, "127.0.0.1");
	assert_int_equal(gdb_conn_parse("tcp:[::1]:5", &s, &err), 0);
	assert_string_equal(s.host, "::1");
	assert_int_equal(s.port, 5);
	assert_int_equal(gdb_conn_parse("unix:/tmp/x.sock", &s, &err), 0);
	assert_int_equal(s.kind, GDB_CONN_UNIX);
	assert_string_equal(s.path, "/tmp/x.sock");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = 0;
		assert_int_equal(gdb_conn_parse(bad[i], &s, &err), -EINVAL);
		assert_true(strlen(err.msg) > 0);
	}
	memset(long_path, 'a', sizeof(long_path));
	memcpy(long_path, "unix:", 5);
	long_path[sizeof(long_path) - 1] = 0;
	assert_int_equal(gdb_conn_parse(long_path, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "path longer than"));
}

/* The stub behind a socketpair, as the run loop will drive it. */
static void test_conn_socketpair(void **state)
{
	struct fx *f = fx_new(KVMBOX_MODE_LONG, ALL_BPS);
	struct gdb_conn c;
	char want[64], got[64] = { 0 };
	int sv[2];
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	gdb_conn_from_fd(&c, sv[0]);
	assert_int_equal(gdb_conn_pump(&c, f->s), 0); /* nothing yet */
	assert_int_equal(write(sv[1], "$?#3f", 5), 5);
	assert_int_equal(gdb_conn_pump(&c, f->s), 0);
	n = read(sv[1], got, sizeof(got) - 1);
	frame(want + 1, sizeof(want) - 1, "T05thread:1;");
	want[0] = '+';
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(got, want);
	close(sv[1]);
	assert_int_equal(gdb_conn_pump(&c, f->s), -ECONNRESET);
	assert_int_equal(c.fd, -1);
	gdb_conn_close(&c);
	fx_free(f);
}

static int connect_tcp(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void test_conn_tcp(void **state)
{
	struct gdb_conn c, c2;
	struct gdb_conn_spec spec;
	struct kvmbox_error err;
	char spec2[64], buf[16];
	uint16_t port;
	int fd;

	(void)state;
	assert_int_equal(gdb_conn_parse("tcp:127.0.0.1:0", &spec, &err), 0);
	assert_int_equal(gdb_conn_listen(&c, &spec, &err), 0);
	port = gdb_conn_port(&c);
	assert_true(port > 0);
	assert_int_equal(gdb_conn_accept(&c, 10, &err), -ETIMEDOUT);
	/* The same port again: refused, with a message that says so. */
	snprintf(spec2, sizeof(spec2), "tcp:%u", port);
	assert_int_equal(gdb_conn_parse(spec2, &spec, &err), 0);
	assert_int_equal(gdb_conn_listen(&c2, &spec, &err), -EADDRINUSE);
	assert_non_null(strstr(err.msg, "port in use"));
	assert_int_equal(c2.listen_fd, -1);
	fd = connect_tcp(port);
	assert_int_equal(gdb_conn_accept(&c, 1000, &err), 0);
	assert_int_equal(gdb_conn_accept(&c, 0, &err), -EBUSY);
	assert_int_equal(gdb_conn_read(&c, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(gdb_conn_write(&c, "+", 1, 1000), 0);
	assert_int_equal(read(fd, buf, 1), 1);
	assert_int_equal(buf[0], '+');
	assert_int_equal(write(fd, "abc", 3), 3);
	usleep(10000);
	assert_int_equal(gdb_conn_read(&c, buf, sizeof(buf)), 3);
	close(fd);
	usleep(10000);
	assert_int_equal(gdb_conn_read(&c, buf, sizeof(buf)), -ECONNRESET);
	gdb_conn_close(&c);
	assert_int_equal(gdb_conn_parse("tcp:no.such.host.invalid:1", &spec, &err), 0);
	assert_int_equal(gdb_conn_listen(&c2, &spec, &err), -EINVAL);
}

static void test_conn_unix(void **state)
{
	struct gdb_conn c, c2;
	struct gdb_conn_spec spec;
	struct kvmbox_error err;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char spec_str[128];
	struct stat st;
	int fd;

	(void)state;
	snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/kvmbox-test-gdb-%d.sock", (int)getpid());
	unlink(a.sun_path);
	snprintf(spec_str, sizeof(spec_str), "unix:%s", a.sun_path);
	assert_int_equal(gdb_conn_parse(spec_str, &spec, &err), 0);
	assert_int_equal(gdb_conn_listen(&c, &spec, &err), 0);
	assert_int_equal(gdb_conn_port(&c), 0);
	/* A second listener on the same path is refused; the file is not taken away. */
	assert_int_equal(gdb_conn_listen(&c2, &spec, &err), -EADDRINUSE);
	assert_non_null(strstr(err.msg, "not removed"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(gdb_conn_accept(&c, 1000, &err), 0);
	close(fd);
	gdb_conn_close(&c);
	assert_int_equal(stat(a.sun_path, &st), -1); /* we made it, we removed it */
}

/* ---- a real gdb (optional: skipped where gdb is not installed) ---------------------- */

/* Run gdb in batch mode with COMMANDS (one -ex each) against gdb_fake_server in MODE; the
 * server binary sits next to this test. Returns gdb's output (malloc'd). */
static char *run_gdb(const char *mode, const char *const *commands)
{
	char self[PATH_MAX], cmd[8192], line[128];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	unsigned port = 0;
	FILE *server, *gdb;
	int pos;

	assert_true(n > 0 && out);
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(cmd, sizeof(cmd), "%s/gdb_fake_server %s tcp:127.0.0.1:0", self, mode);
	server = popen(cmd, "r");
	assert_non_null(server);
	assert_non_null(fgets(line, sizeof(line), server));
	assert_int_equal(sscanf(line, "port %u", &port), 1);
	pos = snprintf(cmd, sizeof(cmd), "timeout 60 gdb -nx -batch -ex 'set pagination off' "
			"-ex 'target remote 127.0.0.1:%u'", port);
	for (; *commands; commands++)
		pos += snprintf(cmd + pos, sizeof(cmd) - (size_t)pos, " -ex '%s'", *commands);
	snprintf(cmd + pos, sizeof(cmd) - (size_t)pos, " 2>&1");
	gdb = popen(cmd, "r");
	assert_non_null(gdb);
	while (len + 1 < cap && (n = (ssize_t)fread(out + len, 1, cap - 1 - len, gdb)) > 0)
		len += (size_t)n;
	out[len] = 0;
	pclose(gdb);
	assert_int_equal(pclose(server), 0); /* it served gdb and ended cleanly */
	return out;
}

/* A gdb that starts, and the server next to this test. Inside the QEMU lane neither holds: only
 * the test programs travel there, and Debian's full gdb needs a Python runtime the lane lacks. */
static void skip_without_gdb(void)
{
	char server[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", server, sizeof(server) - 32);

	if (system("gdb -nx -batch -ex quit >/dev/null 2>&1") != 0) {
		printf("SKIP: gdb does not run here (Debian package gdb; it needs its Python runtime)\n");
		skip();
	}
	assert_true(n > 0);
	server[n] = 0;
	snprintf(strrchr(server, '/') + 1, 32, "gdb_fake_server"); /* readlink left room */
	if (access(server, X_OK) != 0) {
		printf("SKIP: %s is not here (tests copied without it, as in the QEMU lane)\n", server);
		skip();
	}
}

/* One gdb session: the commands after `target remote`, and what its output must contain. */
struct session {
	const char *mode;
	const char *const *cmds;  /* NULL-terminated */
	const char *const *wants; /* NULL-terminated */
};

static void run_session(const struct session *se)
{
	char *out;

	skip_without_gdb();
	out = run_gdb(se->mode, se->cmds);
	for (const char *const *w = se->wants; *w; w++)
		if (!strstr(out, *w))
			fail_msg("gdb output lacks \"%s\":\n%s", *w, out);
	free(out);
}

#define STRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_real_gdb_real_mode(void **state)
{
	const struct session se = {
		.mode = "real",
		.cmds = STRS("show architecture", "p $eax", "p/x $eip", "p/x $cs", "x/s 0x2000",
			     "info registers eflags", "p/x $cr0", "stepi", "p/x $eip", "detach"),
		.wants = STRS("i8086", "$1 = 42", "$2 = 0x1000", "$3 = 0x0", "0x2000:\t\"Hello, gdb!\"",
			      "$4 = 0x0", "$5 = 0x1001", "[Inferior 1 (Remote target) detached]"),
	};

	(void)state;
	run_session(&se);
}

static void test_real_gdb_protected(void **state)
{
	const struct session se = {
		.mode = "protected",
		.cmds = STRS("show architecture", "p $eax", "p/x $cs", "p/x $cr0", "info registers eflags",
			     "hbreak *0x1020", "continue", "p/x $eip", "kill"),
		.wants = STRS("i386", "$1 = 42", "$2 = 0x8", "$3 = 0x1", "Hardware assisted breakpoint 1",
			      "$4 = 0x1020", "[Inferior 1 (Remote target) killed]"),
	};

	(void)state;
	run_session(&se);
}

static void test_real_gdb_long(void **state)
{
	const struct session se = {
		.mode = "long",
		.cmds = STRS("show architecture", "p $rax", "p/x $rip", "p/x $cr0", "p/x $efer",
			     "x/s 0x2000", "break *0x1010", "continue", "p/x $pc", "stepi", "p/x $pc",
			     "set var $rax = 7", "p $rax", "set {int}0x3000 = 0x12345678", "x/wx 0x3000",
			     "watch *(int *)0x3000", "continue", "delete", "x/x 0x8000", "detach"),
		.wants = STRS("i386:x86-64", "$1 = 42", "$2 = 0x1000", "$3 = 0x80000001", "$4 = 0x500",
			      "0x2000:\t\"Hello, gdb!\"", "Breakpoint 1, 0x0000000000001010 in ?? ()",
			      "$5 = 0x1010", "$6 = 0x1011", "$7 = 7", "0x3000:\t0x12345678",
			      "Hardware watchpoint 2: *(int *)0x3000\n\nOld value = 305419896\n"
			      "New value = 305419897",
			      "Cannot access memory at address 0x8000",
			      "[Inferior 1 (Remote target) detached]"),
	};

	(void)state;
	run_session(&se);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_parse),
		cmocka_unit_test(test_packet_escapes_and_faults),
		cmocka_unit_test(test_packet_encode),
		cmocka_unit_test(test_tdesc_tables),
		cmocka_unit_test(test_tdesc_xml),
		cmocka_unit_test(test_tdesc_target_xml_shared),
		cmocka_unit_test(test_tdesc_registers),
		cmocka_unit_test(test_tdesc_x87_tag),
		cmocka_unit_test(test_qsupported),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_xfer_target_xml),
		cmocka_unit_test(test_read_registers),
		cmocka_unit_test(test_write_registers),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_binary_write),
		cmocka_unit_test(test_breakpoints),
		cmocka_unit_test(test_breakpoint_slots),
		cmocka_unit_test(test_resume_and_stop),
		cmocka_unit_test(test_vcont),
		cmocka_unit_test(test_stop_replies),
		cmocka_unit_test(test_stop_reason_plain),
		cmocka_unit_test(test_kill),
		cmocka_unit_test(test_acks),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_conn_parse),
		cmocka_unit_test(test_conn_socketpair),
		cmocka_unit_test(test_conn_tcp),
		cmocka_unit_test(test_conn_unix),
		cmocka_unit_test(test_real_gdb_real_mode),
		cmocka_unit_test(test_real_gdb_protected),
		cmocka_unit_test(test_real_gdb_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
