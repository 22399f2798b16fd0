#!/usr/bin/env python3
"""Writes the seed corpora of the vmm-lite fuzz targets (tests/fuzz/corpus/T/).

Why a script: a seed is a short program in the target's input language (a
stream of guest operations, see tests/fuzz/fuzz_support.h), and a fuzzer
starting from a well-formed driver session (negotiate, set up a queue, post a
request, notify) reaches the device's request handling at once instead of
having to guess ten register writes. Re-run it after changing an input format:
    python3 tests/fuzz/make_seeds.py
The proto seeds are written by hand (one record type per file) in corpus/proto.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- the operation stream of fuzz_bus_ops ----
def wr(off, data):  # op 0: write at base + off
    lensel = {1: 0, 2: 1, 4: 2, 8: 3}[len(data)]
    return bytes([0]) + struct.pack("<HB", off, lensel) + data

def wr32(off, v):
    return wr(off, struct.pack("<I", v))

def pio_wr(off, v, size):  # port I/O: lensel % 3 -> 1, 2, 4
    return bytes([0]) + struct.pack("<HB", off, {1: 0, 2: 1, 4: 2}[size]) + v.to_bytes(size, "little")

def rd(off, size, pio=False):  # op 1
    lensel = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return bytes([1]) + struct.pack("<HB", off, lensel)

def mem(addr, data):  # op 2: guest memory write, at most 255 bytes per op
    out = b""
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([2]) + struct.pack("<HB", addr + i, len(chunk)) + chunk
    return out

def dev(payload):  # op 3: the target's own operation
    return bytes([3]) + payload

# ---- virtio helpers (fuzz_virtio_driver_op) ----
def vsetup(q, size_log2, desc, avail, used, features=(1 << 28) | (1 << 29), keep=False):
    sub = 0 | (q << 2) | (16 if keep else 0)
    body = bytes([sub])
    if not keep:
        body += struct.pack("<I", features)
    return body + bytes([size_log2]) + struct.pack("<HHH", desc, avail, used)

def vnotify(q):
    return bytes([1 | (q << 2)])

def vreset():
    return bytes([2])

def vconfig():
    return bytes([3])

def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)

NEXT, WRITE, INDIRECT = 1, 2, 4

def avail(idx, heads):
    return struct.pack("<HH", 0, idx) + b"".join(struct.pack("<H", h) for h in heads)

def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)

# ---- virtio-blk: read, write, flush, get-id, indirect ----
D, A, U, H, B, S = 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000
def blk_chain(rtype, sector=0, nbytes=512, data_write=True):
    return (mem(H, struct.pack("<IIQ", rtype, 0, sector)) +
            mem(D, desc(H, 16, NEXT, 1) + desc(B, nbytes, NEXT | (WRITE if data_write else 0), 2) +
                desc(S, 1, WRITE, 0)))
s = dev(vsetup(0, 3, D, A, U))
write("virtio_mmio_blk", "read", s + blk_chain(0) + mem(A, avail(1, [0])) + dev(vnotify(0)))
write("virtio_mmio_blk", "write", s + blk_chain(1, 3, 1024, False) + mem(A, avail(1, [0])) + dev(vnotify(0)))
write("virtio_mmio_blk", "flush-getid", s + mem(H, struct.pack("<IIQ", 4, 0, 0)) +
      mem(D, desc(H, 16, NEXT, 1) + desc(S, 1, WRITE, 0)) + mem(A, avail(1, [0])) + dev(vnotify(0)) +
      blk_chain(8, 0, 20) + mem(A, avail(2, [0, 0])) + dev(vnotify(0)))
write("virtio_mmio_blk", "indirect", s + mem(H, struct.pack("<IIQ", 0, 0, 1)) +
      mem(0x7000, desc(H, 16, NEXT, 1) + desc(B, 512, NEXT | WRITE, 2) + desc(S, 1, WRITE, 0)) +
      mem(D, desc(0x7000, 48, INDIRECT)) + mem(A, avail(1, [0])) + dev(vnotify(0)))
write("virtio_mmio_blk", "registers", b"".join(rd(o, 4) for o in range(0, 0x100, 4)) + dev(vconfig()) +
      wr32(0x14, 1) + rd(0x10, 4) + wr32(0x38, 1024) + wr32(0x70, 0))

# ---- virtio-net: rx queue 0, tx queue 1 ----
def net(op):
    return dev(bytes([0]) + op)
RXD, RXA, RXU, TXD, TXA, TXU = 0x1000, 0x1800, 0x2000, 0x3000, 0x3800, 0x4000
frame = bytes(range(60))
s = net(vsetup(0, 3, RXD, RXA, RXU)) + net(vsetup(1, 3, TXD, TXA, TXU, keep=True))
write("virtio_mmio_net", "tx", s + mem(0x5000, bytes(12) + frame) + mem(TXD, desc(0x5000, 72)) +
      mem(TXA, avail(1, [0])) + net(vnotify(1)))
write("virtio_mmio_net", "rx", s + mem(RXD, desc(0x6000, 1526, WRITE)) + mem(RXA, avail(1, [0])) +
      net(vnotify(0)) + dev(bytes([1]) + struct.pack("<H", len(frame)) + frame) + dev(bytes([2])))
write("virtio_mmio_net", "rx-starved", s + dev(bytes([1]) + struct.pack("<H", 1400) + bytes(1400)) +
      mem(RXD, desc(0x6000, 100, WRITE)) + mem(RXA, avail(1, [0])) + net(vnotify(0)) + dev(bytes([2])))

# ---- virtio-balloon: inflate queue 0, deflate queue 1, config ----
s = dev(vsetup(0, 3, 0x1000, 0x1800, 0x2000)) + dev(vsetup(1, 3, 0x3000, 0x3800, 0x4000, keep=True))
pfns = struct.pack("<5I", 1, 2, 8, 9, 100000)
write("virtio_mmio_balloon", "inflate-deflate", s + mem(0x5000, pfns) + mem(0x1000, desc(0x5000, 20)) +
      mem(0x1800, avail(1, [0])) + dev(vnotify(0)) + mem(0x3000, desc(0x5000, 8)) +
      mem(0x3800, avail(1, [0])) + dev(vnotify(1)) + rd(0x100, 4) + wr32(0x104, 3) + rd(0x104, 4))

# ---- ATA PIO (base 0x1e0: the device is at offsets 0x10-0x17) ----
def ata_cmd(cmd, lba=0, count=1):
    return (pio_wr(0x12, count, 1) + pio_wr(0x13, lba & 0xff, 1) + pio_wr(0x14, lba >> 8 & 0xff, 1) +
            pio_wr(0x15, lba >> 16 & 0xff, 1) + pio_wr(0x16, 0xe0, 1) + pio_wr(0x17, cmd, 1))
write("ata_pio", "identify-read", ata_cmd(0xec) + b"".join(rd(0x10, 2) for _ in range(256)) +
      ata_cmd(0x20, 5, 2) + b"".join(rd(0x10, 4) for _ in range(256)) + rd(0x17, 1) + rd(0x11, 1))
write("ata_pio", "write-flush", ata_cmd(0x30, 7, 1) + b"".join(pio_wr(0x10, i, 2) for i in range(256)) +
      rd(0x17, 1) + ata_cmd(0xe7) + ata_cmd(0x20, 200, 0) + rd(0x11, 1))

# ---- legacy NIC (base 0x2f0: the device is at offsets 0x10-0x2f) ----
def lnic_frame(n):
    return dev(struct.pack("<H", n) + bytes((i * 7) & 0xff for i in range(n)))
write("legacy_nic", "tx", rd(0x10, 4) + b"".join(rd(0x2a + i, 1) for i in range(6)) + pio_wr(0x18, 60, 4) +
      b"".join(pio_wr(0x1c, i, 4) for i in range(15)) + pio_wr(0x28, 1, 1) + rd(0x14, 4))
write("legacy_nic", "rx", lnic_frame(60) + lnic_frame(1514) + rd(0x14, 4) + rd(0x20, 4) +
      b"".join(rd(0x24, 4) for i in range(16)) + pio_wr(0x28, 2, 1) + rd(0x20, 4) + rd(0x24, 2) +
      pio_wr(0x28, 2, 1) + pio_wr(0x28, 2, 1) + rd(0x14, 4))

# ---- UART, debug exit, calibration ports (base 0: ports are the offsets) ----
write("uart", "console", b"".join(pio_wr(0x3f8, c, 1) for c in b"hello\n") + pio_wr(0x3fb, 0x83, 1) +
      pio_wr(0x3f8, 1, 1) + rd(0x3f8, 1) + pio_wr(0x3fb, 3, 1) + pio_wr(0x3fc, 0x1f, 1) +
      rd(0x3fe, 1) + pio_wr(0x3ff, 0x5a, 1) + rd(0x3ff, 1) + rd(0x3fa, 1) + pio_wr(0x3fa, 1, 1) +
      rd(0x3fa, 1) + rd(0x3fd, 1) + pio_wr(0x3f8, 0x41424344, 4) + rd(0x3f8, 4))
write("uart", "calib-exit", rd(0x4f0, 4) + rd(0x4f4, 4) + rd(0x4f5, 1) + pio_wr(0x4f4, 1000, 4) +
      pio_wr(0x4f0, 1, 4) + pio_wr(0xf4, 1, 1))

# ---- virtqueue: 16-byte header + guest memory ----
def vq(size_log2, d, a, u, feat, body):
    hdr = bytes([size_log2]) + struct.pack("<HHH", d, a, u) + bytes([0, feat, 1]) + bytes(6)
    return hdr + body
def place(memsize, parts):
    m = bytearray(memsize)
    for addr, data in parts:
        m[addr:addr + len(data)] = data
    return bytes(m)
write("virtq", "chain", vq(3, 0x100, 0x400, 0x800, 0, place(0x2000, [
    (0x100, desc(0x1000, 16, NEXT, 1) + desc(0x1100, 512, NEXT | WRITE, 2) + desc(0x1400, 1, WRITE)),
    (0x400, avail(1, [0]))])))
write("virtq", "indirect", vq(3, 0x100, 0x400, 0x800, 1, place(0x2000, [
    (0x100, desc(0x1800, 32, INDIRECT)), (0x1800, desc(0x1000, 16, NEXT, 1) + desc(0x1100, 64, WRITE)),
    (0x400, avail(1, [0]))])))
write("virtq", "big-ring", vq(10, 0x0, 0x4000, 0x5000, 2, place(0x8000, [
    (0x0, b"".join(desc(0x7000, 8, NEXT if i % 4 != 3 else 0, i + 1) for i in range(1024))),
    (0x4000, avail(300, list(range(0, 1024, 4))[:256])), (0x6000, b"\x01" * 16)])))

# ---- PVH loader: synthetic ELF64 images ----
def elf(segments, entry, note=True):
    phnum = len(segments) + (1 if note else 0)
    ehdr_size, ph_size = 64, 56
    note_off = ehdr_size + ph_size * phnum
    note_data = struct.pack("<III", 4, 8, 18) + b"Xen\0" + struct.pack("<Q", entry)
    data_off = note_off + len(note_data)
    phdrs, blobs, off = b"", b"", data_off
    for paddr, filesz, memsz in segments:
        phdrs += struct.pack("<IIQQQQQQ", 1, 5, off, paddr, paddr, filesz, memsz, 0x1000)
        blobs += bytes((i * 13) & 0xff for i in range(filesz))
        off += filesz
    if note:
        phdrs += struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(note_data), len(note_data), 4)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehdr_size, 0, 0, 64, ph_size,
                               phnum, 64, 0, 0)
    return ehdr + phdrs + note_data + blobs
write("pvh", "one-segment", elf([(0x100000, 64, 0x2000)], 0x100010))
write("pvh", "two-segments", elf([(0x100000, 64, 0x1000), (0x101000, 32, 0x3000)], 0x101004))
write("pvh", "bss-entry", elf([(0x100000, 16, 0x2000)], 0x101000))
write("pvh", "overlap", elf([(0x100000, 64, 0x2000), (0x101000, 64, 0x1000)], 0x100010))
write("pvh", "reserved", elf([(0x2000, 64, 0x1000)], 0x2000))

# ---- timed-region markers (fuzz_region): 8 bytes choosing the address, then
# the 64-byte marker the guest wrote there (magic, edge, seq, label) ----
REGION_MAGIC, BEGIN, END = 0x52585456, 1, 2
def marker(edge, seq, label, gpa=0x200000):
    return struct.pack("<Q", (gpa << 3) | 3) + struct.pack("<IIQ", REGION_MAGIC, edge, seq) + \
        label.encode().ljust(48, b"\0")
def regions(*labels):
    out, seq = b"", 1
    for label in labels:
        out += marker(BEGIN, seq, label) + marker(END, seq + 1, label)
        seq += 2
    return out
write("region", "run", regions("run"))
# the null region's footprint is netted out of every other label's
write("region", "null-then-run", regions("vtx.null", "vtx.null", "run", "run"))
write("region", "labels", regions("calib.pio", "selfcal_exit_ns", "vtx.null", "calib.pio"))
