/* The GDB stub's packets that act on the target: registers (g/G/p/P), memory (m/M/X),
 * breakpoints (Z/z) and resuming (c/s/C/S/vCont). */
#include <errno.h>
#include <string.h>
#include "gdb/stub_int.h"

/* ---- registers ---------------------------------------------------------------------- */

/* Append register REGNO as hex, or 'x's when the target does not have it ("g" packet). */
static int put_reg(struct gdb_stub *s, unsigned regno)
{
	uint8_t buf[64];
	size_t size = gdb_tdesc_reg_size(s->tdesc, regno);
	int rc;

	if (size > sizeof(buf))
		return -EINVAL;
	rc = s->ops->read_reg(s->ctx, regno, buf);
	if (rc == -ENOENT) {
		for (size_t i = 0; i < 2 * size; i++)
			gdb_rp_str(s, "x");
		return 0;
	}
	if (rc < 0)
		return rc;
	gdb_rp_hex(s, buf, size);
	return 0;
}

void gdb_cmd_read_regs(struct gdb_stub *s)
{
	gdb_rp_reset(s);
	for (unsigned i = 0; i < s->tdesc->nregs; i++) {
		int rc = put_reg(s, i);

		if (rc < 0) {
			gdb_reply_error(s, rc);
			return;
		}
	}
	gdb_rp_send(s, GDB_ENC_RLE);
}

/* G: every register, in order, exactly. */
void gdb_cmd_write_regs(struct gdb_stub *s, const char *pkt, size_t len)
{
	size_t total = gdb_tdesc_regs_size(s->tdesc), off = 0;

	if (len - 1 != 2 * total || total > sizeof(s->scratch) ||
	    gdb_decode_hex(pkt + 1, total, s->scratch)) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	for (unsigned i = 0; i < s->tdesc->nregs; i++) {
		int rc = s->ops->write_reg(s->ctx, i, s->scratch + off);

		if (rc < 0) {
			gdb_reply_error(s, rc);
			return;
		}
		off += gdb_tdesc_reg_size(s->tdesc, i);
	}
	gdb_reply(s, "OK");
}

/* "p N" / "P N=": the register number, checked against the description. */
static int parse_regno(struct gdb_stub *s, const char **p, const char *end, unsigned *regno)
{
	uint64_t n;

	if (gdb_parse_hex(p, end, &n) || n >= s->tdesc->nregs)
		return -EINVAL;
	*regno = (unsigned)n;
	return 0;
}

void gdb_cmd_read_reg(struct gdb_stub *s, const char *pkt, size_t len)
{
	const char *p = pkt + 1, *end = pkt + len;
	unsigned regno;
	int rc;

	if (parse_regno(s, &p, end, &regno) || p != end) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	gdb_rp_reset(s);
	rc = put_reg(s, regno);
	if (rc < 0) {
		gdb_reply_error(s, rc);
		return;
	}
	gdb_rp_send(s, 0);
}

void gdb_cmd_write_reg(struct gdb_stub *s, const char *pkt, size_t len)
{
	const char *p = pkt + 1, *end = pkt + len;
	unsigned regno;
	size_t size;
	int rc;

	if (parse_regno(s, &p, end, &regno) || p == end || *p++ != '=') {
		gdb_reply_error(s, EINVAL);
		return;
	}
	size = gdb_tdesc_reg_size(s->tdesc, regno);
	if ((size_t)(end - p) != 2 * size || gdb_decode_hex(p, size, s->scratch)) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	rc = s->ops->write_reg(s->ctx, regno, s->scratch);
	if (rc < 0)
		gdb_reply_error(s, rc);
	else
		gdb_reply(s, "OK");
}

/* ---- memory ------------------------------------------------------------------------- */

/* Move LEN bytes at ADDR in pieces that stay within a page. Returns the bytes done before the
 * first failure (a read may be answered in part: "m" allows fewer bytes than asked). */
static size_t mem_xfer(struct gdb_stub *s, gva_t addr, uint8_t *buf, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		gva_t a = addr + done;
		size_t n = PAGE - (a & (PAGE - 1));
		int rc;

		if (n > len - done)
			n = len - done;
		if (write)
			rc = s->ops->write_mem(s->ctx, a, buf + done, n);
		else
			rc = s->ops->read_mem(s->ctx, a, buf + done, n);
		if (rc < 0)
			break;
		done += n;
	}
	return done;
}

/* "ADDR,LENGTH" after the packet letter; *P is left after LENGTH. */
static int parse_range(const char **p, const char *end, gva_t *addr, size_t *len)
{
	uint64_t a, n;

	if (gdb_parse_hex(p, end, &a) || *p == end || *(*p)++ != ',' || gdb_parse_hex(p, end, &n))
		return -EINVAL;
	if (a + n < a) /* wraps the address space */
		return -EINVAL;
	*addr = a;
	*len = n;
	return 0;
}

void gdb_cmd_read_mem(struct gdb_stub *s, const char *pkt, size_t len)
{
	const char *p = pkt + 1, *end = pkt + len;
	gva_t addr;
	size_t n, got;

	if (parse_range(&p, end, &addr, &n) || p != end || n == 0) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	if (n > REPLY_MAX / 2)
		n = REPLY_MAX / 2; /* gdb accepts a shorter answer and asks for the rest */
	got = mem_xfer(s, addr, s->scratch, n, false);
	if (got == 0) {
		gdb_reply_error(s, EFAULT);
		return;
	}
	gdb_rp_reset(s);
	gdb_rp_hex(s, s->scratch, got);
	gdb_rp_send(s, 0);
}

/* M addr,len:HEX and X addr,len:BINARY (already unescaped by the parser). */
void gdb_cmd_write_mem(struct gdb_stub *s, const char *pkt, size_t len, bool binary)
{
	const char *p = pkt + 1, *end = pkt + len;
	gva_t addr;
	size_t n, data;
	bool ok;

	if (parse_range(&p, end, &addr, &n) || p == end || *p++ != ':' || n > sizeof(s->scratch)) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	data = (size_t)(end - p);
	if (binary) {
		ok = data == n;
		if (ok)
			memcpy(s->scratch, p, n);
	} else {
		ok = data == 2 * n && gdb_decode_hex(p, n, s->scratch) == 0;
	}
	if (!ok) { /* the length and the data disagree, or bad hex */
		gdb_reply_error(s, EINVAL);
		return;
	}
	if (mem_xfer(s, addr, s->scratch, n, true) != n)
		gdb_reply_error(s, EFAULT);
	else
		gdb_reply(s, "OK");
}

/* ---- breakpoints -------------------------------------------------------------------- */

static struct bp *find_bp(struct gdb_stub *s, enum gdb_bp_type type, gva_t addr, size_t len)
{
	for (unsigned i = 0; i < MAX_BPS; i++) {
		struct bp *b = &s->bps[i];

		if (b->used && b->type == type && b->addr == addr && b->len == len)
			return b;
	}
	return NULL;
}

static int insert_bp(struct gdb_stub *s, enum gdb_bp_type type, gva_t addr, size_t len)
{
	struct bp *slot;
	int rc;

	if (find_bp(s, type, addr, len))
		return 0; /* gdb may insert the same one again: once is enough */
	for (slot = s->bps; slot < s->bps + MAX_BPS && slot->used; slot++)
		;
	if (slot == s->bps + MAX_BPS)
		return -ENOSPC;
	rc = s->ops->insert_bp(s->ctx, type, addr, len);
	if (rc == 0)
		*slot = (struct bp){ .used = true, .type = type, .addr = addr, .len = len };
	return rc;
}

static int remove_bp(struct gdb_stub *s, enum gdb_bp_type type, gva_t addr, size_t len)
{
	struct bp *b = find_bp(s, type, addr, len);
	int rc;

	if (!b)
		return 0; /* never inserted: nothing to undo */
	rc = s->ops->remove_bp(s->ctx, type, addr, len);
	if (rc == 0)
		b->used = false;
	return rc;
}

void gdb_remove_all_bps(struct gdb_stub *s)
{
	for (unsigned i = 0; i < MAX_BPS; i++) {
		struct bp *b = &s->bps[i];

		if (b->used && s->ops->remove_bp(s->ctx, b->type, b->addr, b->len) == 0)
			b->used = false;
	}
}

/* Z/z TYPE,ADDR,KIND[;cond...]: conditions and commands (target-side) are not supported and
 * were not advertised, so gdb does not send them; anything after KIND is refused. */
void gdb_cmd_breakpoint(struct gdb_stub *s, const char *pkt, size_t len, bool insert)
{
	const char *p = pkt + 1, *end = pkt + len;
	uint64_t type;
	gva_t addr;
	size_t kind;
	int rc;

	if (gdb_parse_hex(&p, end, &type) || p == end || *p++ != ',' ||
	    parse_range(&p, end, &addr, &kind) || p != end) {
		gdb_reply_error(s, EINVAL);
		return;
	}
	/* A known type the target cannot set still reaches its insert, which answers -ENOTSUP
	 * and may tell the user why (gdb itself blames "too many hardware breakpoints"). */
	if (type >= GDB_BP_TYPES || (!insert && !(s->bp_types & GDB_BP_MASK(type)))) {
		gdb_reply(s, ""); /* not supported: gdb falls back (memory breakpoints for Z0) */
		return;
	}
	rc = insert ? insert_bp(s, (enum gdb_bp_type)type, addr, kind)
		    : remove_bp(s, (enum gdb_bp_type)type, addr, kind);
	if (rc == -ENOTSUP || rc == -EOPNOTSUPP)
		gdb_reply(s, "");
	else if (rc < 0)
		gdb_reply_error(s, rc);
	else
		gdb_reply(s, "OK");
}

/* ---- resuming ----------------------------------------------------------------------- */

static void resume(struct gdb_stub *s, enum gdb_resume how)
{
	int rc = s->ops->resume(s->ctx, how);

	if (rc < 0) {
		gdb_reply_error(s, rc);
		return;
	}
	s->state = GDB_STUB_RUNNING; /* the reply is the stop reply, later */
}

/* c[ADDR], s[ADDR], C SIG[;ADDR], S SIG[;ADDR]. A guest has no signals to deliver: SIG is
 * accepted and dropped. ADDR, when given, becomes the new pc first. */
void gdb_cmd_resume(struct gdb_stub *s, const char *pkt, size_t len)
{
	const char *p = pkt + 1, *end = pkt + len;
	bool with_signal = pkt[0] == 'C' || pkt[0] == 'S';
	uint64_t sig, pc;
	uint8_t buf[8];
	int rc = 0;

	if (with_signal && (gdb_parse_hex(&p, end, &sig) || (p < end && *p++ != ';') ||
			    (p == end && p[-1] == ';')))
		rc = -EINVAL;
	if (rc == 0 && p < end) {
		if (gdb_parse_hex(&p, end, &pc) || p != end) {
			rc = -EINVAL;
		} else {
			memcpy(buf, &pc, sizeof(buf)); /* little-endian, as registers travel */
			rc = s->ops->write_reg(s->ctx, s->tdesc->pc, buf);
		}
	}
	if (rc < 0)
		gdb_reply_error(s, rc);
	else
		resume(s, pkt[0] == 's' || pkt[0] == 'S' ? GDB_RESUME_STEP : GDB_RESUME_CONTINUE);
}

/* Does vCont thread-id TID (LEN bytes: "1", "-1", "p1.1", "p1.-1", ...) include our thread? */
static bool thread_is_ours(const char *tid, size_t len)
{
	const char *dot = len && tid[0] == 'p' ? memchr(tid, '.', len) : NULL;

	if (dot) {
		len -= (size_t)(dot + 1 - tid);
		tid = dot + 1;
	}
	return (len == 1 && (tid[0] == '1' || tid[0] == '0')) || (len == 2 && !memcmp(tid, "-1", 2));
}

/* vCont;ACTION[:TID];...: the leftmost action that applies to our one thread decides. */
static void vcont_actions(struct gdb_stub *s, const char *p, const char *end)
{
	while (p < end && *p++ == ';') {
		const char *next = memchr(p, ';', (size_t)(end - p)), *colon;
		const char *stop = next ? next : end;
		char action = p < stop ? *p : 0;

		colon = memchr(p, ':', (size_t)(stop - p));
		if (!colon || thread_is_ours(colon + 1, (size_t)(stop - colon - 1))) {
			if (action == 'c' || action == 'C' || action == 's' || action == 'S') {
				resume(s, action == 's' || action == 'S' ? GDB_RESUME_STEP
									 : GDB_RESUME_CONTINUE);
				return;
			}
			break; /* an action we do not offer (t, r) */
		}
		p = stop;
	}
	gdb_reply_error(s, EINVAL);
}

void gdb_cmd_vcont(struct gdb_stub *s, const char *pkt, size_t len)
{
	static const char vcont[] = "vCont";
	const char *end = pkt + len;

	if (len == sizeof(vcont) && !memcmp(pkt, "vCont?", len))
		gdb_reply(s, "vCont;c;C;s;S"); /* gdb uses vCont only when all four are there */
	else if (len > sizeof(vcont) - 1 && !memcmp(pkt, vcont, sizeof(vcont) - 1) &&
		 pkt[sizeof(vcont) - 1] == ';')
		vcont_actions(s, pkt + sizeof(vcont) - 1, end);
	else
		gdb_reply(s, ""); /* other v packets (vMustReplyEmpty, vKill, ...) */
}
