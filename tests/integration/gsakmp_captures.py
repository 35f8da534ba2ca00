#!/usr/bin/python3
"""Damaged GSAKMP captures for test_dissector.sh, made from gsakmp-sample's good capture.

  gsakmp_captures.py IN OUT KEKHEX

writes OUT, frames of eight kinds one after the other, and OUT.kinds, one tab-separated line per
frame, "NUMBER KIND MUST", MUST being what the dissector has to report on that frame: "error"
(an expert error), "warn" (a warning or an error) or "-" (nothing in particular: no Lua error).

  trunc    every UDP message cut at several lengths (datagram and IP lengths follow): error
  snap     every frame of IN recorded with its first 120 octets only: warn when longer
  flip     one to three random bit flips per copy: -
  fields   one bit flipped in the first 24 octets of a payload body (types, lengths): -
  length   the header Length or one Payload Length made inconsistent: error
  garbage  random datagrams to port 3761: warn
  tcp      TCP segments, each its own stream: messages cut, bad header Lengths (error), noise
  reseal   the Key Download's plaintext damaged (bit flips: -; cut or extended: warn), then
           sealed again under the KEK (AES-256-GCM, same IV and AAD, doc/gsakmp-profile.md §7.2)
           so that it still authenticates and the plaintext parsers see it

Frames are Ethernet/IPv4 between 127.0.0.1 ports 3761, UDP (checksum 0) unless said. Only the standard
library and `cryptography` are used; the output is the same on every run.
"""
import random
import struct
import sys

PORT = 3761


def read_pcap(path):
    """(linktype, [frame bytes]) of a little-endian microsecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4:
        raise SystemExit(f"{path}: not a little-endian pcap")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, frames


def write_pcap(path, frames):
    """frames: (bytes captured, original length, kind, must)."""
    with open(path, "wb") as f, open(path + ".kinds", "w") as k:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (fr, orig, kind, must) in enumerate(frames):
            f.write(struct.pack("<IIII", 1772366400 + i, 0, len(fr), orig))
            f.write(fr)
            k.write(f"{i + 1}\t{kind}\t{must}\n")


def ip_csum(h):
    s = sum(struct.unpack("!10H", h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_frame(payload):
    """Ethernet/IPv4/UDP 127.0.0.1:3761 -> 127.0.0.1:3761 carrying payload."""
    udp = struct.pack("!HHHH", PORT, PORT, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                               bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])))
    ip[10:12] = struct.pack("!H", ip_csum(bytes(ip)))
    return bytes(12) + b"\x08\x00" + bytes(ip) + udp


def tcp_frame(payload, sport):
    """Ethernet/IPv4/TCP 127.0.0.1:sport -> 127.0.0.1:3761, PSH ACK, its own stream."""
    tcp = struct.pack("!HHIIBBHHH", sport, PORT, 1, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                               bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])))
    ip[10:12] = struct.pack("!H", ip_csum(bytes(ip)))
    return bytes(12) + b"\x08\x00" + bytes(ip) + tcp


def udp_messages(path):
    """The GSAKMP messages of the UDP frames of a gsakmp-sample capture."""
    _, frames = read_pcap(path)
    out = []
    for fr in frames:
        if fr[12:14] == b"\x08\x00" and fr[23] == 17:
            ihl = (fr[14] & 0x0F) * 4
            out.append(fr[14 + ihl + 8:])
    return out


def payloads(msg):
    """[(offset, type)] of the payload chain of a well-formed message."""
    L = msg[1]
    np, off, out = msg[2 + L], 13 + L, []
    while np != 0 and off + 4 <= len(msg):
        out.append((off, np))
        np = msg[off]
        off += struct.unpack("!H", msg[off + 2:off + 4])[0]
    return out


def trunc(src):
    out = []
    for m in udp_messages(src):
        hdr = 13 + m[1]
        for cut in sorted({1, 2, 12, hdr - 1, hdr, hdr + 3, hdr + 4 + 5, len(m) // 2,
                           len(m) - 17, len(m) - 1}):
            if 0 < cut < len(m):
                fr = udp_frame(m[:cut])
                out.append((fr, len(fr), "trunc", "error"))
    return out


def snap(src):
    _, frames = read_pcap(src)
    return [(fr[:120], len(fr), "snap", "warn" if len(fr) > 120 else "-") for fr in frames]


def flip(src):
    rnd = random.Random(4535)
    out = []
    for m in udp_messages(src):
        for _ in range(16):
            b = bytearray(m)
            for _ in range(rnd.randint(1, 3)):
                i = rnd.randrange(len(b))
                b[i] ^= 1 << rnd.randrange(8)
            out.append((udp_frame(bytes(b)), None, "flip", "-"))
    return out


def fields(src):
    rnd = random.Random(7)
    out = []
    for m in udp_messages(src):
        for off, _ in payloads(m):
            end = min(len(m), off + 4 + 24)
            for _ in range(4):
                b = bytearray(m)
                i = rnd.randrange(off + 4, end)
                b[i] ^= 1 << rnd.randrange(8)
                out.append((udp_frame(bytes(b)), None, "fields", "-"))
    return out


def length(src):
    out = []
    for m in udp_messages(src):
        L = m[1]
        b = bytearray(m)
        b[9 + L] ^= 0x01                          # header Length + 16 Mi
        out.append((udp_frame(bytes(b)), None, "length", "error"))
        for off, _ in payloads(m):
            for mask in (0x80, 0x01):             # far past the end / off by 256
                b = bytearray(m)
                b[off + 2] ^= mask
                out.append((udp_frame(bytes(b)), None, "length", "error"))
            b = bytearray(m)
            b[off + 2:off + 4] = b"\x00\x02"       # below the 4-octet generic header
            out.append((udp_frame(bytes(b)), None, "length", "error"))
    return out


def garbage():
    rnd = random.Random(3761)
    out = []
    for i in range(60):
        body = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 400)))
        if i % 2:
            # a plausible start: Octet String GroupID, then noise
            body = bytes([2, rnd.randint(1, 40)]) + body
        out.append((udp_frame(body), None, "garbage", "warn"))
    return out


def tcp(src):
    rnd = random.Random(6)
    msgs = udp_messages(src)
    a, b = msgs[1], msgs[9]
    bad_len = bytearray(a)
    bad_len[9 + a[1]:13 + a[1]] = struct.pack("!I", 5)
    cases = [
        (a + b, "-"),                     # two messages, as gsakmp-sample's segment
        (a + b[:20], "-"),                # the second one cut: TCP waits for the rest
        (a[:30], "-"),                    # the first one cut
        (bytes([2, 0]) + a[2:], "error"),  # GroupID Length 0: the rest is one bad PDU
        (bytes(bad_len), "error"),        # header Length below the header
        (a + bytes(bad_len), "error"),
    ]
    for _ in range(10):
        cases.append((bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 300))), "-"))
    return [(tcp_frame(p, 20000 + i), None, "tcp", must) for i, (p, must) in enumerate(cases)]


def reseal(src, kek_hex):
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    gcm = AESGCM(bytes.fromhex(kek_hex))
    msg = next(m for m in udp_messages(src) if m[4 + m[1]] == 9)
    L = msg[1]
    off = next(o for o, t in payloads(msg) if t == 2)
    plen = struct.unpack("!H", msg[off + 2:off + 4])[0]
    blob = msg[off + 4:off + plen]
    iv, aad = blob[:12], bytes([L]) + msg[2:2 + L] + bytes([9, 2])
    try:
        plain = gcm.decrypt(iv, blob[12:], aad)
    except InvalidTag:
        raise SystemExit("reseal: the KEK does not open the Key Download")
    rnd = random.Random(193)
    variants = []
    for _ in range(40):
        b = bytearray(plain)
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        variants.append((bytes(b), "-"))
    for cut in (0, 1, 2, 3, 5, 40, 70, 100, 200, 300, len(plain) - 1):
        variants.append((plain[:cut], "warn"))
    variants.append((plain + b"\x00\x01\x02", "warn"))
    out = []
    for p, must in variants:
        sealed = iv + gcm.encrypt(iv, p, aad)
        m = bytearray(msg[:off + 4] + sealed + msg[off + plen:])
        m[off + 2:off + 4] = struct.pack("!H", 4 + len(sealed))
        m[9 + L:13 + L] = struct.pack("!I", len(m))
        out.append((udp_frame(bytes(m)), None, "reseal", must))
    return out


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    src, dst, kek = argv[1:]
    frames = (trunc(src) + snap(src) + flip(src) + fields(src) + length(src) + garbage() +
              tcp(src) + reseal(src, kek))
    write_pcap(dst, [(fr, len(fr) if orig is None else orig, kind, must)
                     for fr, orig, kind, must in frames])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
