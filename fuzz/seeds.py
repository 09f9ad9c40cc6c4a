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


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    os.makedirs(os.path.join(HERE, "corpus", "image"), exist_ok=True)
    image_seeds(build)
    walk_seeds()
    sched_seeds()
    opts_seeds()


if __name__ == "__main__":
    main()
