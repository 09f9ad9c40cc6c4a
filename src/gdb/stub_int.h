/* Inside the GDB stub: the per-connection state shared by stub.c (session, queries, stop
 * replies), stub_cmd.c (registers, memory, breakpoints, resuming) and reply.c (output). */
#ifndef KVMBOX_GDB_STUB_INT_H
#define KVMBOX_GDB_STUB_INT_H

#include "gdb/packet.h"
#include "gdb/stub.h"

/* Largest reply payload before framing, and the frame it can become (escapes double bytes). */
#define REPLY_MAX GDB_PACKET_MAX
#define FRAME_MAX (2 * REPLY_MAX + 4)
/* Output queued between two drains by the connection: acks and several replies. */
#define OUT_MAX (4 * FRAME_MAX)
/* Breakpoints and watchpoints the stub remembers (to remove them all on detach). */
#define MAX_BPS 64
/* Memory is read and written in pieces that never cross a page (see gdb_target_ops). */
#define PAGE 4096u

struct bp {
	bool used;
	enum gdb_bp_type type;
	gva_t addr;
	size_t len;
};

struct gdb_stub {
	const struct gdb_target_ops *ops;
	void *ctx;
	const struct gdb_tdesc *tdesc;
	enum gdb_stub_state state;
	bool no_ack;       /* QStartNoAckMode done */
	bool gdb_swbreak;  /* gdb said swbreak+: report swbreak: in stop replies */
	bool gdb_hwbreak;  /* likewise hwbreak+ */
	unsigned bp_types; /* GDB_BP_MASK bits the target can set */
	const char *xml;   /* target.xml, shared by every stub of its mode (tdesc.c) */
	size_t xml_len;
	struct bp bps[MAX_BPS];
	struct gdb_stub_stats stats;
	struct gdb_pkt_parser parser;
	char reply[REPLY_MAX + 1]; /* the reply being built (NUL-terminated by the helpers) */
	size_t reply_len;
	bool reply_full;           /* a helper ran out of room: the reply is an error instead */
	uint8_t scratch[REPLY_MAX]; /* decoded data of G, M, X, P */
	uint8_t last[FRAME_MAX];    /* the last reply frame, sent again after a '-' */
	size_t last_len;
	uint8_t out[OUT_MAX];       /* queued for gdb */
	size_t out_len;
};

/* reply.c. Queue LEN raw bytes for gdb (acks, frames); the caller made sure they fit
 * (gdb_stub_feed keeps room for one event's output). */
void gdb_queue(struct gdb_stub *s, const uint8_t *buf, size_t len);
/* Reply building: start empty, append, then send once (or not at all: no reply). */
void gdb_rp_reset(struct gdb_stub *s);
void gdb_rp_str(struct gdb_stub *s, const char *str);
void gdb_rp_fmt(struct gdb_stub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gdb_rp_hex(struct gdb_stub *s, const uint8_t *buf, size_t len);
/* Frame the reply (GDB_ENC_* FLAGS) and queue it. */
void gdb_rp_send(struct gdb_stub *s, unsigned flags);
/* Shorthands: reply STR; reply "ENN" for -errno ERR (NN: errno in decimal, as E14 for EFAULT). */
void gdb_reply(struct gdb_stub *s, const char *str);
void gdb_reply_error(struct gdb_stub *s, int err);


/* Packets of stub_cmd.c; PKT is the whole payload (LEN bytes, NUL-terminated). */
void gdb_cmd_read_regs(struct gdb_stub *s);
void gdb_cmd_write_regs(struct gdb_stub *s, const char *pkt, size_t len);
void gdb_cmd_read_reg(struct gdb_stub *s, const char *pkt, size_t len);
void gdb_cmd_write_reg(struct gdb_stub *s, const char *pkt, size_t len);
void gdb_cmd_read_mem(struct gdb_stub *s, const char *pkt, size_t len);
void gdb_cmd_write_mem(struct gdb_stub *s, const char *pkt, size_t len, bool binary);
void gdb_cmd_breakpoint(struct gdb_stub *s, const char *pkt, size_t len, bool insert);
void gdb_cmd_resume(struct gdb_stub *s, const char *pkt, size_t len);
void gdb_cmd_vcont(struct gdb_stub *s, const char *pkt, size_t len);
/* Remove every breakpoint the stub inserted (detach). */
void gdb_remove_all_bps(struct gdb_stub *s);

#endif
