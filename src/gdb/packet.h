/* GDB remote serial protocol framing: "$data#cs" packets, '+'/'-' acknowledgements, the 0x03
 * interrupt byte, '}' escapes and run-length encoded replies ("Remote Protocol" chapter of the
 * gdb manual, "Overview" and "Binary Data"). Pure byte work: no I/O, no allocation. */
#ifndef KVMBOX_GDB_PACKET_H
#define KVMBOX_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest packet we accept, counted as gdb counts it for PacketSize: the bytes between
 * '$' and '#' as they travel (escapes included). Advertised in qSupported. */
#define GDB_PACKET_MAX 4096

/* What one call of gdb_pkt_feed found. */
enum gdb_pkt_event {
	GDB_PKT_NONE,      /* every byte was consumed, no complete event */
	GDB_PKT_PACKET,    /* a well-formed packet: its unescaped payload is in the parser */
	GDB_PKT_BAD,       /* a complete but refused packet (checksum, escape, size): nack it */
	GDB_PKT_ACK,       /* '+' */
	GDB_PKT_NACK,      /* '-': resend the last packet */
	GDB_PKT_INTERRUPT, /* 0x03 outside a packet (Ctrl-C) */
};

/* Why the last GDB_PKT_BAD was refused (for logs and tests). */
enum gdb_pkt_fault {
	GDB_PKT_OK,
	GDB_PKT_CHECKSUM,  /* the checksum does not match, or is not two hex digits */
	GDB_PKT_ESCAPE,    /* '}' at the end of the data */
	GDB_PKT_TOO_LONG,  /* more than GDB_PACKET_MAX bytes between '$' and '#' */
	GDB_PKT_TRUNCATED, /* a '$' arrived before the '#' of the packet in progress */
};

/* Incremental parser state. Initialise with gdb_pkt_parser_init; owns no resources. */
struct gdb_pkt_parser {
	int state;                 /* private */
	size_t raw_len;            /* bytes between '$' and '#' so far, as sent */
	size_t len;                /* unescaped payload length */
	uint8_t sum;               /* running checksum of the raw bytes */
	uint8_t got_sum;           /* the checksum received, first digit in the high nibble */
	bool escaped;              /* the previous byte was '}' */
	enum gdb_pkt_fault fault;  /* first problem of the packet in progress or just refused */
	uint8_t data[GDB_PACKET_MAX + 1]; /* payload, NUL-terminated for convenience (may hold NULs) */
};

void gdb_pkt_parser_init(struct gdb_pkt_parser *p);

/* Feed up to LEN bytes of input. Stops right after the byte that completes an event and
 * returns how many bytes it consumed; *EV says which event (GDB_PKT_NONE when all LEN bytes
 * went in without completing one). After GDB_PKT_PACKET, p->data/p->len hold the payload
 * until the next call. Bytes outside packets other than '+', '-', 0x03 are ignored. Never
 * fails: bad input yields GDB_PKT_BAD with p->fault set. */
size_t gdb_pkt_feed(struct gdb_pkt_parser *p, const uint8_t *buf, size_t len, enum gdb_pkt_event *ev);

enum {
	GDB_ENC_BINARY = 1u << 0, /* escape '$', '#', '}' and '*' (binary replies such as qXfer) */
	GDB_ENC_RLE = 1u << 1,    /* run-length encode runs of 4 or more (text replies only) */
};

/* Frame PAYLOAD (LEN bytes) as "$...#cs" into OUT (CAP bytes) with the GDB_ENC_* FLAGS.
 * Returns the frame's length, or -ENOSPC when it does not fit (OUT is then unspecified). */
int gdb_pkt_encode(const void *payload, size_t len, unsigned flags, uint8_t *out, size_t cap);

/* Value of a hex digit, or -1. */
int gdb_hex_digit(int c);

/* Parse hex digits at *P (before END), at least one, at most 16; advance *P past them.
 * 0, or -EINVAL (no digit, or more than 64 bits). */
int gdb_parse_hex(const char **p, const char *end, uint64_t *v);

/* Decode 2 * N hex digits at P into the N bytes of OUT. 0, or -EINVAL for a non-hex digit. */
int gdb_decode_hex(const char *p, size_t n, uint8_t *out);

#endif
