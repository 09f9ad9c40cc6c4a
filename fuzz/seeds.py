#!/usr/bin/env python3
"""Write the hand-made seed corpus of the fuzz targets into fuzz/corpus/NAME/ (committed; run
again only to change it). The image corpus also takes the small hello ELFs of a build:
    fuzz/seeds.py [BUILD]     (default build)"""
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def elf64(phnum=1, p_offset=0x78, p_filesz=4, p_memsz=4, p_vaddr=0, entry=0):
    """A minimal ELF64 executable header with PHNUM program headers of one LOAD segment."""
    ehdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0, 64, 56, phnum, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, p_offset, p_vaddr, p_vaddr, p_filesz, p_memsz, 0x1000)
    return ehdr + ph * phnum + b"\xf4\xf4\xf4\xf4"


def elf32(p_offset=0x54, p_filesz=4, p_memsz=4, p_vaddr=0, entry=0):
    ehdr = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    ehdr += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, p_offset, p_vaddr, p_vaddr, p_filesz, p_memsz, 5, 0x1000)
    return ehdr + ph + b"\xf4\xf4\xf4\xf4"


def image_seeds(build):
    for mode in ("real", "protected", "paged32", "long"):
        elf = os.path.join(build, "guests", "hello-%s.elf" % mode)
        if os.path.exists(elf):
            shutil.copy(elf, os.path.join(HERE, "corpus", "image", "hello-%s.elf" % mode))
        flat = os.path.join(build, "guests", "flat-hello-%s.bin" % mode)
        if os.path.exists(flat):  # 16 bytes of load address and entry, then the flat binary
            put("image", "flat-%s" % mode, struct.pack("<QQ", 0, 0) + open(flat, "rb").read())
    put("image", "elf64-min", elf64())
    put("image", "elf32-min", elf32())
    put("image", "elf64-bss", elf64(p_memsz=0x100000))
    put("image", "elf64-offset-past-end", elf64(p_offset=0xFFFFFFFFFFFFFFF0))
    put("image", "elf64-size-wraps", elf64(p_vaddr=0xFFFFFFFFFFFFF000, p_memsz=0x2000))
    put("image", "elf64-many-phdrs", elf64(phnum=17))
    put("image", "elf32-truncated", elf32()[:40])
    put("image", "empty", b"")
    put("image", "flat-load-high", struct.pack("<QQ", 0xFFFFFFFFFFFFFFFF, 0x1000) + b"\xf4")


def walk_seed(name, cr0, cr3, cr4, efer, va, access, tables):
    """Guest memory holds only the tables: they share page 0 (each level indexes a different
    slot), which keeps inputs small and the fuzzer fast."""
    size = max([addr + 8 for addr, _, _ in tables] + [64])
    mem = bytearray(size)
    for addr, fmt, value in tables:
        struct.pack_into(fmt, mem, addr, value)
    put("walk", name, struct.pack("<QQQQQB", cr0, cr3, cr4, efer, va, access) + bytes(mem))


def walk_seeds():
    PE, WP, PG = 1, 1 << 16, 1 << 31
    PSE, PAE, LA57 = 1 << 4, 1 << 5, 1 << 12
    LME, LMA, NXE = 1 << 8, 1 << 10, 1 << 11
    P, RW, US, PS, NX = 1, 2, 4, 0x80, 1 << 63
    walk_seed("off", PE, 0, 0, 0, 0x1234, 0, [])
    walk_seed("p32-4m", PE | PG, 0, PSE, 0, 0x00401234, 1, [(4, "<I", 0x00400000 | P | RW | PS)])
    walk_seed("p32-4k", PE | PG | WP, 0, 0, 0, 0x00403123, 3,
              [(4, "<I", P | RW | US), (3 * 4, "<I", 0x5000 | P | US)])
    walk_seed("pae", PE | PG, 0, PAE, NXE, (1 << 30) | (2 << 21) | (3 << 12), 0,
              [(8, "<Q", P), (16, "<Q", P | RW), (24, "<Q", 0x4000 | P | RW | NX)])
    walk_seed("long-2m", PE | PG, 0, PAE, LME | LMA, (1 << 30) | (2 << 21) | 0x123, 1,
              [(0, "<Q", P | RW), (8, "<Q", P | RW), (16, "<Q", 0x200000 | P | RW | PS)])
    walk_seed("long-1g", PE | PG, 0, PAE, LME | LMA, (1 << 39) | (1 << 30) | 0x123, 2,
              [(8, "<Q", P | RW | US), (8, "<Q", P | RW | US | PS)])
    walk_seed("long-4k", PE | PG, 0, PAE, LME | LMA, (1 << 39) | (2 << 30) | (3 << 21) | (4 << 12), 3,
              [(8, "<Q", P | RW | US), (16, "<Q", P | RW | US), (24, "<Q", P | RW | US),
               (32, "<Q", 0x7000 | P | RW | US)])
    walk_seed("long-noncanonical", PE | PG, 0, PAE, LME | LMA, 0x0000800000000000, 0, [])
    walk_seed("la57", PE | PG, 0, PAE | LA57, LME | LMA, (1 << 48) | (2 << 39) | (3 << 30) | (4 << 21), 0,
              [(8, "<Q", P | RW), (16, "<Q", P | RW), (24, "<Q", P | RW), (32, "<Q", P | RW),
               (40, "<Q", 0x1000 | P | RW)])


def sched_seeds():
    for name, text in (("two", b"1 2\n"), ("comment", b"# producer twice\n1 1 2\n"),
                       ("commas", b"1,2,3\r\n"), ("nine", b"123456789"), ("bad", b"1 x"),
                       ("only-comment", b"# nothing\n"), ("empty", b"")):
        put("sched", name, text)
    bbuf = os.path.join(HERE, "..", "examples", "bbuf.sched")
    if os.path.exists(bbuf):
        put("sched", "bbuf", open(bbuf, "rb").read())


def opts_seeds():
    for name, words in (
            ("elf", ["run", "-m", "long", "guest.elf"]),
            ("flat", ["--load", "0x1000", "--entry", "0x1004", "-r", "x.bin"]),
            ("numbers", ["--mem", "64M", "--timeout", "0.5", "--repeat", "3", "g.elf"]),
            ("share", ["--share", "dir:ro", "--strict", "--no-coalesce", "g.elf"]),
            ("flags", ["-vv", "--trace", "--stats", "--regs", "-p"]),
            ("equals", ["--mem=2M", "--mode=real", "--load=0", "a", "b"]),
            ("bad", ["--bogus", "-m"]), ("help", ["-h", "-V"]),
            ("conflict", ["-l", "-s", "--entry", "1"]),
            ("several", ["--vm", "neo=a.elf,mode=real,weight=7,out=neo.txt", "--vm",
                         "morpheus=b.bin,load=0x1000,entry=0x1004,mode=long,strict",
                         "--sched", "share", "--quantum", "0.5", "--chan", "1=4",
                         "--duration", "2", "--stats-json", "s.json", "--yield-on-io"]),
            ("script", ["--vm", "p=p.elf,share=dir:ro", "--vm", "c=c.elf,timeout=3",
                        "--sched", "script:bbuf.sched", "--trace-out", "t.json", "--show-ports"]),
            ("repeat-sched", ["--repeat", "2", "--sched", "io", "g.elf"])):
        put("opts", name, b"\0".join(w.encode() for w in words))


PE, PG = 1, 1 << 31
PAE = 1 << 5
LME, LMA = 1 << 8, 1 << 10


def paging_tables(kind):
    """(cr0, cr3, cr4, efer, cs_l, memory writes) for an identity map of the first 64 KiB with
    the tables at 0x1000: 'off', 'p32' (4 KiB pages), 'long' (4 KiB pages, 4 levels)."""
    P = 7  # present, writable, user
    if kind == "off":
        return PE, 0, 0, 0, 0, []
    if kind == "p32":
        return (PE | PG, 0x1000, 0, 0, 0, [(0x1000, "<I", 0x2000 | P)] +
                [(0x2000 + 4 * i, "<I", (i << 12) | P) for i in range(16)])
    return (PE | PG, 0x1000, PAE, LME | LMA, 1,
            [(0x1000, "<Q", 0x2000 | P), (0x2000, "<Q", 0x3000 | P), (0x3000, "<Q", 0x4000 | P)] +
            [(0x4000 + 8 * i, "<Q", (i << 12) | P) for i in range(16)])


def image(writes, size=0x8000):
    mem = bytearray(size)
    for addr, fmt, value in writes:
        if isinstance(value, bytes):
            mem[addr:addr + len(value)] = value
        else:
            struct.pack_into(fmt, mem, addr, value)
    return bytes(mem).rstrip(b"\0")


def hc_seed(name, calls, writes, kind="off", flags=0):
    """Header: cr0 cr3 cr4 efer, flags (strict 1, cs.l 2, cs.db 4, share read-only 8, memory
    pages - 1 in bits 4-7), call count; then (access, nr, rbx) per call (access bit 0: which
    VM, bits 1-2: 0 a well-formed IN, else a malformed access); then guest memory."""
    cr0, cr3, cr4, efer, cs_l, tables = paging_tables(kind)
    head = struct.pack("<QQQQBB", cr0, cr3, cr4, efer, flags | (2 if cs_l else 0) | 0xF0, len(calls))
    body = b"".join(struct.pack("<BBQ", a, nr, rbx) for a, nr, rbx in calls)
    put("hc", name, head + body + image(tables + writes))


def hc_seeds():
    s = lambda addr, text: (addr, None, text + b"\0")
    console = [(0, 0, 0), (0, 1, 42), (0, 2, 0x5100), (0, 3, 0), (0, 4, 0x5200), (0, 5, 0x5100),
               (0, 6, 0x5300), (0, 7, 0x5400), (0, 9, 0x5500), (0, 8, 3)]
    mem = [s(0x5100, b"hello"), (0x5200, "<QI", (0x5600, 64)), (0x5300, "<Q", 0x5100),
           (0x5500, "<QQI", (0x5100, 0x5100, 7))]
    mem = [(a, f, v) if not isinstance(v, tuple) else (a, None, struct.pack(f, *v)) for a, f, v in mem]
    for kind in ("off", "p32", "long"):
        hc_seed("console-" + kind, console, mem, kind)
    files = [(0, 10, 0x5200), (0, 11, 0x5300), (0, 13, 0x5400), (0, 15, 0x5500), (0, 14, 0),
             (0, 10, 0x5600), (0, 12, 0x5700), (0, 14, 1), (0, 10, 0x5800), (0, 10, 0x5900)]
    fmem = [s(0x5100, b"a.txt"), s(0x5180, b"new.txt"), s(0x51c0, b"escape"), s(0x51e0, b"../x"),
            (0x5200, None, struct.pack("<QII", 0x5100, 0, 0)),
            (0x5300, None, struct.pack("<IIQQ", 0, 0, 0x6000, 64)),
            (0x5400, None, struct.pack("<IIqq", 0, 2, -3, 0)),
            (0x5500, None, struct.pack("<IIQ", 0, 0, 0x5a00)),
            (0x5600, None, struct.pack("<QII", 0x5180, 0o102, 0o644)),
            (0x5700, None, struct.pack("<IIQQ", 1, 0, 0x5100, 6)),
            (0x5800, None, struct.pack("<QII", 0x51c0, 0, 0)),
            (0x5900, None, struct.pack("<QII", 0x51e0, 0, 0))]
    hc_seed("files", files, fmem)
    hc_seed("files-ro", files, fmem, flags=8)
    hc_seed("files-long", files, fmem, "long")
    chan = [(0, 16, 0x5200), (1, 17, 0x5300), (1, 17, 0x5400), (1, 17, 0x5300), (0, 16, 0x5200),
            (0, 17, 0x5300), (1, 16, 0x5200)]
    cmem = [s(0x5100, b"record"), (0x5200, None, struct.pack("<IIQQ", 1, 0, 0x5100, 7)),
            (0x5300, None, struct.pack("<IIQQ", 1, 0, 0x6000, 64)),
            (0x5400, None, struct.pack("<IIQQ", 1, 1, 0x6000, 64))]
    hc_seed("chan", chan, cmem)
    bad = [(2, 1, 1), (4, 2, 0x5100), (6, 0, 0), (0, 63, 0), (0, 2, 0xFFFFFFFFFFFFFFF0), (0, 2, 0x8000)]
    hc_seed("bad", bad, [s(0x5100, b"x")])
    hc_seed("bad-strict", bad, [s(0x5100, b"x")], flags=1)


def mem_seed(name, ops, writes, kind="off"):
    """Header: cr0 cr3 cr4 efer, flags (cs.l 1, memory pages - 1 in bits 4-7), operation count;
    then (op, length, address) per operation: 0 guest_read, 1 guest_write, 2 guest_check, 3
    guest_read_str, 4 guest_hva, 5 mem_read, 6 mem_write, 7 mem_load (length << op's bits 5-7);
    then guest memory."""
    cr0, cr3, cr4, efer, cs_l, tables = paging_tables(kind)
    head = struct.pack("<QQQQBB", cr0, cr3, cr4, efer, cs_l | 0xF0, len(ops))
    body = b"".join(struct.pack("<BHQ", op, n, addr) for op, n, addr in ops)
    put("mem", name, head + body + image(tables + writes))


def mem_seeds():
    ops = [(0, 16, 0x5000), (1, 0x2000, 0x5ff0), (2, 100, 0x7ff0), (3, 64, 0x5100), (4, 0, 0x5100),
           (5, 8, 0xfff8), (6, 16, 0xfff8), (7 | (3 << 5), 0x100, 0x8000), (1, 0x1800, 0x1ff0),
           (0, 0x3000, 0xFFFFFFFFFFFFF000), (3, 4096, 0x5ff8)]
    for kind in ("off", "p32", "long"):
        mem_seed("mixed-" + kind, ops, [(0x5100, None, b"string\0")], kind)
    mem_seed("write-own-tables-p32", [(1, 0x3000, 0x2000), (0, 16, 0x4000)], [], "p32")


def gdb_frame(payload):
    return b"$" + payload + b"#" + b"%02x" % (sum(payload) % 256)


def gdb_seeds():
    """Byte 0: mode (bits 0-1), late stop replies (bit 2), chunk length - 1 (bits 3-7); then
    what gdb sends: a session's packets, with acknowledgements, as gdb sends them."""
    session = [b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386", b"?",
               b"qXfer:features:read:target.xml:0,ffb", b"g", b"m1000,10", b"M2000,4:01020304",
               b"X2004,2:ab", b"p0", b"P0=2a00000000000000", b"Z0,1004,1", b"Z1,1008,1",
               b"Z2,3000,4", b"vCont?", b"vCont;s", b"c", b"z0,1004,1", b"s", b"qC",
               b"qfThreadInfo", b"qsThreadInfo", b"Hg1", b"T1", b"qAttached", b"D"]
    for mode in range(4):
        data = b"".join(b"+" + gdb_frame(p) for p in session)
        put("gdb", "session-%d" % mode, bytes([mode | (31 << 3)]) + data)
        put("gdb", "session-chunked-%d" % mode, bytes([mode | 4 | (2 << 3)]) + data)
    for name, raw in (("bad-checksum", b"$g#00"), ("escape-end", b"$m}#00"),
                      ("interrupt", b"+" + gdb_frame(b"c") + b"\x03" + gdb_frame(b"?")),
                      ("nack", b"-" + gdb_frame(b"g") + b"-"), ("rle", gdb_frame(b"m0*,10")),
                      ("kill", gdb_frame(b"k")), ("long", b"$" + b"a" * 5000 + b"#00"),
                      ("binary-write", gdb_frame(b"X1000,4:}\x03}\x04**")),
                      ("hole", gdb_frame(b"m8000,10") + gdb_frame(b"M8ff8,10:" + b"00" * 16)),
                      ("watch", gdb_frame(b"Z4,2000,8") + gdb_frame(b"c") + gdb_frame(b"?"))):
        put("gdb", name, bytes([3 | (31 << 3)]) + raw)


def snap_seeds(build):
    """Snapshots kvmbox made of a guest that saves itself (tests/guests/snap_state.c), 256 KiB
    of memory, in each mode this host runs (needs a build and a usable KVM; the committed
    ones stay otherwise), one saved by --save at the hello guest's halt, and one of the calls
    example at its halt (its exports' feature section: four functions)."""
    import subprocess
    import tempfile
    kvmbox = os.path.join(build, "kvmbox")
    if not os.path.exists(kvmbox):
        return
    with tempfile.TemporaryDirectory() as share:
        for mode in ("real", "protected", "long"):
            elf = os.path.join(build, "guests", "test-snap_state-%s.elf" % mode)
            if subprocess.run([kvmbox, "run", "--mem", "256K", "--share", share, elf],
                              capture_output=True).returncode == 10:
                shutil.copy(os.path.join(share, "state"), os.path.join(HERE, "corpus", "snap", mode))
            os.unlink(os.path.join(share, "state")) if os.path.exists(os.path.join(share, "state")) else None
        hello = os.path.join(share, "hello")
        if subprocess.run([kvmbox, "run", "--mem", "256K", "--save", hello], capture_output=True).returncode == 0:
            shutil.copy(hello, os.path.join(HERE, "corpus", "snap", "hello-halted"))
        calls = os.path.join(share, "calls")
        elf = os.path.join(build, "guests", "calls-long.elf")
        if subprocess.run([kvmbox, "run", "--mem", "256K", "--save", calls, elf],
                          capture_output=True).returncode == 0:
            shutil.copy(calls, os.path.join(HERE, "corpus", "snap", "calls-halted"))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    os.makedirs(os.path.join(HERE, "corpus", "snap"), exist_ok=True)
    snap_seeds(build)
    os.makedirs(os.path.join(HERE, "corpus", "image"), exist_ok=True)
    image_seeds(build)
    walk_seeds()
    sched_seeds()
    opts_seeds()
    gdb_seeds()
    hc_seeds()
    mem_seeds()


if __name__ == "__main__":
    main()
