/* The GDB stub's session: acknowledgements, packet dispatch, queries (qSupported, qXfer, threads)
 * and stop replies. The packets that touch the target are in stub_cmd.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gdb/stub_int.h"

/* gdb's own signal numbers (include/gdb/signals.def), used in stop replies. */
enum { SIG_INT = 2, SIG_ILL = 4, SIG_TRAP = 5, SIG_FPE = 8, SIG_BUS = 10, SIG_SEGV = 11 };

/* x86 exception vectors (Intel SDM vol. 3, 6.3.1) that do not mean SIGSEGV. */
enum { VEC_DE = 0, VEC_DB = 1, VEC_BP = 3, VEC_UD = 6, VEC_MF = 16, VEC_AC = 17, VEC_XM = 19 };

/* The one thread gdb sees (the vCPU), as thread-id in replies. */
#define THREAD_ID "1"

unsigned gdb_signal_for_vector(unsigned vector)
{
	switch (vector) {
	case VEC_DE:
	case VEC_MF:
	case VEC_XM:
		return SIG_FPE;
	case VEC_DB:
	case VEC_BP:
		return SIG_TRAP;
	case VEC_UD:
		return SIG_ILL;
	case VEC_AC:
		return SIG_BUS;
	default:
		return SIG_SEGV;
	}
}

static bool starts_with(const char *pkt, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(pkt, prefix, n) == 0;
}

static bool equals(const char *pkt, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(pkt, word, len) == 0;
}

/* ---- stop replies ------------------------------------------------------------------- */

static const char *watch_name(enum gdb_bp_type type)
{
	return type == GDB_BP_READ ? "rwatch" : type == GDB_BP_ACCESS ? "awatch" : "watch";
}

/* T05 plus the reason gdb asked to hear about (swbreak+/hwbreak+ in its qSupported): without
 * it gdb works out for itself whether a breakpoint of its own was hit. */
static void stop_trap(struct gdb_stub *s, const struct gdb_stop *stop)
{
	gdb_rp_fmt(s, "T%02x", SIG_TRAP);
	if (stop->kind == GDB_STOP_WATCH)
		gdb_rp_fmt(s, "%s:%llx;", watch_name(stop->bp_type), (unsigned long long)stop->addr);
	else if (stop->kind == GDB_STOP_BREAK && stop->bp_type == GDB_BP_SW && s->gdb_swbreak)
		gdb_rp_str(s, "swbreak:;");
	else if (stop->kind == GDB_STOP_BREAK && stop->bp_type == GDB_BP_HW && s->gdb_hwbreak)
		gdb_rp_str(s, "hwbreak:;");
	gdb_rp_str(s, "thread:" THREAD_ID ";");
}

static void send_stop(struct gdb_stub *s, const struct gdb_stop *stop)
{
	gdb_rp_reset(s);
	switch (stop->kind) {
	case GDB_STOP_STEP:
	case GDB_STOP_BREAK:
	case GDB_STOP_WATCH:
		stop_trap(s, stop);
		break;
	case GDB_STOP_INTERRUPT:
		gdb_rp_fmt(s, "T%02xthread:" THREAD_ID ";", SIG_INT);
		break;
	case GDB_STOP_EXCEPTION:
		gdb_rp_fmt(s, "T%02xthread:" THREAD_ID ";", gdb_signal_for_vector(stop->code));
		break;
	case GDB_STOP_EXITED:
		gdb_rp_fmt(s, "W%02x", stop->code & 0xff);
		s->state = GDB_STUB_CLOSED;
		break;
	case GDB_STOP_KILLED:
		gdb_rp_fmt(s, "X%02x", gdb_signal_for_vector(stop->code));
		s->state = GDB_STUB_CLOSED;
		break;
	}
	gdb_rp_send(s, 0);
}

void gdb_stub_stopped(struct gdb_stub *s, const struct gdb_stop *stop)
{
	if (s->state == GDB_STUB_CLOSED)
		return;
	s->state = GDB_STUB_STOPPED;
	send_stop(s, stop);
}

/* ---- queries ------------------------------------------------------------------------ */

/* qSupported[:gdbfeature;...]: note what gdb understands, say what we do. */
static void q_supported(struct gdb_stub *s, const char *pkt, size_t len)
{
	const char *p = memchr(pkt, ':', len), *end = pkt + len;

	while (p && p < end) {
		const char *f = p + 1, *semi = memchr(f, ';', (size_t)(end - f));
		size_t n = (size_t)((semi ? semi : end) - f);

		if (equals(f, n, "swbreak+"))
			s->gdb_swbreak = true;
		if (equals(f, n, "hwbreak+"))
			s->gdb_hwbreak = true;
		p = semi;
	}
	gdb_rp_reset(s);
	gdb_rp_fmt(s, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+",
		   GDB_PACKET_MAX);
	if (s->bp_types & GDB_BP_MASK(GDB_BP_SW))
		gdb_rp_str(s, ";swbreak+");
	if (s->bp_types & GDB_BP_MASK(GDB_BP_HW))
		gdb_rp_str(s, ";hwbreak+");
	gdb_rp_send(s, 0);
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH. The whole description is one annex, target.xml. */
static void q_xfer_features(struct gdb_stub *s, const char *pkt, size_t len)
{
	static const char prefix[] = "qXfer:features:read:target.xml:";
	const char *p = pkt + sizeof(prefix) - 1, *end = pkt + len;
	uint64_t off, want;
	size_t n;

	if (!starts_with(pkt, len, prefix)) {
		gdb_reply(s, "E00"); /* unknown annex ("qXfer read", E00) */
		return;
	}
	if (gdb_parse_hex(&p, end, &off) || p == end || *p++ != ',' || gdb_parse_hex(&p, end, &want) ||
	    p != end) {
		gdb_reply(s, "E00");
		return;
	}
	if (off > s->xml_len) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	n = s->xml_len - off;
	if (n > want)
		n = want;
	if (n > REPLY_MAX - 1)
		n = REPLY_MAX - 1;
	gdb_rp_reset(s);
	gdb_rp_str(s, off + n < s->xml_len ? "m" : "l");
	memcpy(s->reply + 1, s->xml + off, n);
	s->reply_len = 1 + n;
	gdb_rp_send(s, GDB_ENC_BINARY);
}

static void cmd_query(struct gdb_stub *s, const char *pkt, size_t len)
{
	if (starts_with(pkt, len, "qSupported"))
		q_supported(s, pkt, len);
	else if (starts_with(pkt, len, "qXfer:features:read:"))
		q_xfer_features(s, pkt, len);
	else if (starts_with(pkt, len, "qAttached"))
		gdb_reply(s, "1"); /* the guest was there before gdb: quitting detaches */
	else if (equals(pkt, len, "qC"))
		gdb_reply(s, "QC" THREAD_ID);
	else if (equals(pkt, len, "qfThreadInfo"))
		gdb_reply(s, "m" THREAD_ID);
	else if (equals(pkt, len, "qsThreadInfo"))
		gdb_reply(s, "l");
	else
		gdb_reply(s, "");
}

/* ---- session ------------------------------------------------------------------------ */

static void cmd_stop_reason(struct gdb_stub *s)
{
	struct gdb_stop stop = { .kind = GDB_STOP_STEP };

	s->ops->stop_reason(s->ctx, &stop);
	send_stop(s, &stop);
}

static void cmd_detach(struct gdb_stub *s)
{
	gdb_remove_all_bps(s);
	if (s->ops->detach)
		s->ops->detach(s->ctx);
	gdb_reply(s, "OK");
	s->state = GDB_STUB_CLOSED;
}

static void cmd_kill(struct gdb_stub *s)
{
	/* No reply: gdb does not wait for one after 'k'. */
	if (s->ops->kill)
		s->ops->kill(s->ctx);
	s->state = GDB_STUB_CLOSED;
}

static void cmd_general_set(struct gdb_stub *s, const char *pkt, size_t len)
{
	if (equals(pkt, len, "QStartNoAckMode")) {
		gdb_reply(s, "OK"); /* this reply is still acknowledged; nothing after it */
		s->no_ack = true;
	} else {
		gdb_reply(s, "");
	}
}

static void dispatch(struct gdb_stub *s, const char *pkt, size_t len)
{
	switch (len ? pkt[0] : 0) {
	case '?': cmd_stop_reason(s); break;
	case 'g': gdb_cmd_read_regs(s); break;
	case 'G': gdb_cmd_write_regs(s, pkt, len); break;
	case 'p': gdb_cmd_read_reg(s, pkt, len); break;
	case 'P': gdb_cmd_write_reg(s, pkt, len); break;
	case 'm': gdb_cmd_read_mem(s, pkt, len); break;
	case 'M': gdb_cmd_write_mem(s, pkt, len, false); break;
	case 'X': gdb_cmd_write_mem(s, pkt, len, true); break;
	case 'Z': gdb_cmd_breakpoint(s, pkt, len, true); break;
	case 'z': gdb_cmd_breakpoint(s, pkt, len, false); break;
	case 'c': case 'C': case 's': case 'S': gdb_cmd_resume(s, pkt, len); break;
	case 'v': gdb_cmd_vcont(s, pkt, len); break;
	case 'q': cmd_query(s, pkt, len); break;
	case 'Q': cmd_general_set(s, pkt, len); break;
	case 'H': gdb_reply(s, "OK"); break; /* one thread: every selection is it */
	case 'T': gdb_reply(s, "OK"); break; /* thread alive */
	case 'D': cmd_detach(s); break;
	case 'k': cmd_kill(s); break;
	default: gdb_reply(s, ""); break;    /* unknown: the empty reply says "not supported" */
	}
}

static void on_packet(struct gdb_stub *s)
{
	if (!s->no_ack)
		gdb_queue(s, (const uint8_t *)"+", 1);
	if (s->state != GDB_STUB_STOPPED) {
		s->stats.dropped++;
		return;
	}
	s->stats.packets++;
	dispatch(s, (const char *)s->parser.data, s->parser.len);
}

static void on_event(struct gdb_stub *s, enum gdb_pkt_event ev)
{
	switch (ev) {
	case GDB_PKT_PACKET:
		on_packet(s);
		break;
	case GDB_PKT_BAD:
		s->stats.bad++;
		if (!s->no_ack)
			gdb_queue(s, (const uint8_t *)"-", 1);
		break;
	case GDB_PKT_NACK:
		if (!s->no_ack && s->last_len) {
			s->stats.resent++;
			gdb_queue(s, s->last, s->last_len);
		}
		break;
	case GDB_PKT_INTERRUPT:
		if (s->state == GDB_STUB_RUNNING && s->ops->interrupt)
			s->ops->interrupt(s->ctx);
		break;
	case GDB_PKT_ACK:
	case GDB_PKT_NONE:
		break;
	}
}

size_t gdb_stub_feed(struct gdb_stub *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	/* One event queues at most an ack and one frame: keep room for that. */
	while (done < len && sizeof(s->out) - s->out_len > FRAME_MAX + 1) {
		enum gdb_pkt_event ev;

		done += gdb_pkt_feed(&s->parser, p + done, len - done, &ev);
		on_event(s, ev);
	}
	return done;
}

int gdb_stub_create(const struct gdb_target_ops *ops, void *ctx, const struct gdb_tdesc *tdesc,
		    struct gdb_stub **out)
{
	struct gdb_stub *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	rc = gdb_tdesc_target_xml(tdesc, &s->xml, &s->xml_len);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->ops = ops;
	s->ctx = ctx;
	s->tdesc = tdesc;
	s->state = GDB_STUB_STOPPED;
	s->bp_types = ops->bp_types ? ops->bp_types(ctx) : (1u << GDB_BP_TYPES) - 1;
	gdb_pkt_parser_init(&s->parser);
	*out = s;
	return 0;
}

void gdb_stub_destroy(struct gdb_stub *s)
{
	if (!s)
		return;
	free(s);
}

enum gdb_stub_state gdb_stub_state(const struct gdb_stub *s)
{
	return s->state;
}

void gdb_stub_get_stats(const struct gdb_stub *s, struct gdb_stub_stats *st)
{
	*st = s->stats;
}
