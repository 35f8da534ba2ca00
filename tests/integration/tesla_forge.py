#!/usr/bin/python3
"""A group member that holds the group key but no sender's TESLA chain, flooding a receiver.

  tesla_forge.py IFACE KEYHEX GROUP SOURCE SPI T0_MS INTERVAL_MS D SECONDS

Sends group ESP frames (AES-GCM-128, ESN, RFC 4106; IV = SID || counter, RFC 6054) on IFACE for
SECONDS, with a valid ICV (the member has the group key) and TESLA trailers it cannot make right
(doc/wire-format.md §7), in turns:

  SID 1: type-3 trailers (no key to check) in the current interval, for a sender whose chain is
         nobody's here: held until the store's caps for that sender are full (tesla_buffer_full),
         never released (tesla_no_key);
  SID 2: type-1 trailers in the current interval with a made-up disclosed key (tesla_bad_key);
  SID 3: trailers of an interval long past (tesla_unsafe).

Prints how many frames of each kind it sent. Python `cryptography` is the AES-GCM; the packet
layout is written out here byte by byte, not taken from msecgw.
"""
import os
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def cksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 16, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", cksum(h)) + h[12:] + payload


def main(argv):
    iface, keyhex, group, source = argv[1], argv[2], argv[3], argv[4]
    spi, t0_ms, t_int_ms, d, seconds = int(argv[5]), int(argv[6]), int(argv[7]), int(argv[8]), \
        float(argv[9])
    keymat = bytes.fromhex(keyhex)
    gcm, salt = AESGCM(keymat[:16]), keymat[16:20]
    g = socket.inet_aton(group)
    eth = bytes([0x01, 0x00, 0x5E, g[1] & 0x7F, g[2], g[3]]) + bytes.fromhex("020000000001") + \
        b"\x08\x00"
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    seq = {1: 0, 2: 0, 3: 0}
    sent = {1: 0, 2: 0, 3: 0}
    udp = struct.pack("!HHHH", 40000, 5004, 8 + 64, 0) + b"F" * 64
    inner = ipv4(source, group, 17, udp)
    end = time.monotonic() + seconds
    k = 0
    while time.monotonic() < end:
        sid = 1 + k % 3
        k += 1
        i = int((time.time() * 1000 - t0_ms) // t_int_ms)
        if sid == 1:
            trailer = bytes([3]) + struct.pack("!I", i) + os.urandom(32)
        elif sid == 2:
            trailer = bytes([1]) + struct.pack("!I", i) + os.urandom(32)
        else:
            trailer = bytes([1]) + struct.pack("!I", max(i - 10 * d, d)) + os.urandom(32)
        trailer += os.urandom(16)                     # the TESLA MAC: it cannot know K'_i
        seq[sid] += 1
        n = seq[sid]
        body = inner + trailer
        pad = (-(len(body) + 2)) % 4
        pt = body + bytes(range(1, pad + 1)) + bytes([pad, 4])
        iv = struct.pack("!Q", sid << 56 | n)
        aad = struct.pack("!III", spi, n >> 32, n & 0xFFFFFFFF)     # RFC 4106 §5 with ESN
        esp = struct.pack("!II", spi, n & 0xFFFFFFFF) + iv + gcm.encrypt(salt + iv, pt, aad)
        s.send(eth + ipv4(source, group, 50, esp))
        sent[sid] += 1
        if k % 64 == 0:
            time.sleep(0.001)
    print("# tesla_forge: sent %d held-type (SID 1), %d bad-key (SID 2), %d unsafe (SID 3)" %
          (sent[1], sent[2], sent[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
