/* libFuzzer target: the GDB remote stub (src/gdb/): random bytes from "gdb" through the packet
 * parser (packet.c) into the command layer (stub.c, stub_cmd.c) with the unit tests' fake
 * target (tests/unit/gdb_fake_target.c), in chunks, with the target resumed and stopped as
 * the stub asks. Every reply the stub queues must be a well-formed frame. */
#include <string.h>
#include "gdb/packet.h"
#include "gdb/stub.h"
#include "gdb_fake_target.h"
#include "fuzz.h"

/* Input: byte 0 = mode (bits 0-1), "resolve a resume only after the next chunk" (bit 2),
 * chunk length - 1 (bits 3-7); then the bytes gdb sends. */

/* Check that the stub's output parses as acknowledgements and well-formed packets only, then
 * drop it. P keeps the parser's state across calls: a frame may span two drains. */
static void drain(struct gdb_stub *s, struct gdb_pkt_parser *p)
{
	const uint8_t *out;
	size_t n = gdb_stub_output(s, &out), off = 0;

	while (off < n) {
		enum gdb_pkt_event ev;

		off += gdb_pkt_feed(p, out + off, n - off, &ev);
		FUZZ_REQUIRE(ev != GDB_PKT_BAD && ev != GDB_PKT_INTERRUPT);
	}
	gdb_stub_consume(s, n);
}

/* A resumed target "runs" (the fake's toy execution) and stops. */
static void resolve(struct gdb_stub *s, struct fake_target *t)
{
	struct gdb_stop stop;

	if (gdb_stub_state(s) != GDB_STUB_RUNNING)
		return;
	fake_target_run(t, t->last_how, &stop);
	gdb_stub_stopped(s, &stop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_target templates[4], t;
	static struct gdb_pkt_parser replies;
	static bool ready;
	struct gdb_stub_stats st;
	struct gdb_stub *s;
	size_t off = 1, chunk;
	unsigned turn = 0;

	if (!ready) {
		for (unsigned m = 0; m < 4; m++)
			fake_target_init(&templates[m], (enum kvmbox_mode)(KVMBOX_MODE_REAL + m));
		ready = true;
	}
	if (size < 1)
		return 0;
	t = templates[data[0] & 3];
	chunk = (size_t)(data[0] >> 3) + 1;
	gdb_pkt_parser_init(&replies);
	FUZZ_REQUIRE(gdb_stub_create(&fake_target_ops, &t, t.tdesc, &s) == 0);
	while (off < size && gdb_stub_state(s) != GDB_STUB_CLOSED) {
		size_t len = size - off < chunk ? size - off : chunk;
		size_t took = gdb_stub_feed(s, data + off, len);
		const uint8_t *pending;

		/* Taking nothing is allowed only while replies wait to be drained. */
		FUZZ_REQUIRE(took > 0 || gdb_stub_output(s, &pending) > 0);
		off += took;
		drain(s, &replies);
		if (!(data[0] & 4) || turn++ % 2)
			resolve(s, &t);
		drain(s, &replies);
	}
	gdb_stub_get_stats(s, &st);
	FUZZ_REQUIRE(st.overflow == 0);
	gdb_stub_destroy(s);
	return 0;
}
