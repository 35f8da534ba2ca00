#!/usr/bin/python3
"""Write the malformed-input table for test_malformed.sh as two pcaps, and print what each
packet must cause.

  craft_bad.py WORKDIR

Writes WORKDIR/prot.pcap (enters the protected port) and WORKDIR/unprot.pcap (enters the
unprotected port) and WORKDIR/expect.txt: one "counter value" line per gateway counter.

Group ESP is built here from the RFC text (RFC 4303 layout, RFC 4106 nonce and AAD, RFC 6054
IV = SID || counter) with the `cryptography` package's AES-GCM, independently of msecgw, so that
packets can carry a valid ICV around deliberately bad contents.
"""
import struct
import sys
from collections import Counter

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import ARP, Ether, IP, IPv6, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, UDP, Raw, wrpcap

KEY4 = bytes.fromhex("000102030405060708090a0b0c0d0e0f10111213")   # aes-gcm-128 key || salt
KEY6 = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff01020304")
SPI4, SPI6 = 0x1001, 0x3001
G4, S4 = "232.1.1.1", "192.0.2.10"
G6, S6 = "ff3e::1:1", "2001:db8::10"
MAC4 = "01:00:5e:01:01:01"
MAC6 = "33:33:00:01:00:01"
SRCMAC = "02:00:00:00:00:09"


def inner4(n=40, src=S4, dst=G4, tos=0):
    return bytes(IP(src=src, dst=dst, ttl=9, tos=tos) / UDP(sport=1, dport=5004) / Raw(b"x" * n))


def inner6(n=40):
    return bytes(IPv6(src=S6, dst=G6, hlim=9) / UDP(sport=1, dport=5008) / Raw(b"y" * n))


def trailer(payload, nh, pad=None, pad_bytes=None, extra=0):
    """Payload || padding || pad length || next header; minimal padding unless told."""
    if pad is None:
        pad = (-(len(payload) + 2)) % 4
    pb = pad_bytes if pad_bytes is not None else bytes(range(1, pad + 1))
    return payload + pb + bytes([pad + extra, nh])


def esp(key, spi, sid, sid_bits, seq, pt, v6=False, outer_src=None, outer_dst=None, tos=0,
        bad_icv=False, seq_hi=0):
    """Group ESP, tunnel mode, address preservation; pt is the whole plaintext (with trailer)."""
    k, salt = key[:-4], key[-4:]
    iv = struct.pack("!Q", (sid << (64 - sid_bits)) | (seq_hi << 32) | seq)
    aad = struct.pack("!III", spi, seq_hi, seq)          # ESN: SPI || SN high || SN low
    ct = AESGCM(k).encrypt(salt + iv, pt, aad)
    if bad_icv:
        ct = ct[:-1] + bytes([ct[-1] ^ 1])
    body = struct.pack("!II", spi, seq) + iv + ct
    if v6:
        return Ether(src=SRCMAC, dst=MAC6) / IPv6(src=outer_src or S6, dst=outer_dst or G6, nh=50, hlim=9, tc=tos) / Raw(body)
    return Ether(src=SRCMAC, dst=MAC4) / IP(src=outer_src or S4, dst=outer_dst or G4, proto=50, ttl=9, tos=tos) / Raw(body)


def good4(seq, sid=1, n=40):
    return esp(KEY4, SPI4, sid, 8, seq, trailer(inner4(n), 4))


def main():
    work = sys.argv[1]
    unprot = []          # (frame, expected counter)
    prot = []

    def u(frame, what):
        unprot.append((frame, what))

    # --- parse-level drops on the unprotected port (its "default" is discard)
    u(Ether(src=SRCMAC, dst="ff:ff:ff:ff:ff:ff") / ARP(), "not_ip")
    u(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(b"\x45\x00\x00"), "malformed")
    u(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(bytes(IP(src=S4, dst=G4, proto=50, len=400) / Raw(b"z" * 40))), "malformed")
    u(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(b"\x65" + b"\x00" * 30), "malformed")
    u(Ether(src=SRCMAC, dst=MAC6, type=0x86dd) / Raw(b"\x60" + b"\x00" * 20), "malformed")
    u(Ether(src=SRCMAC, dst="02:00:00:00:00:01") / IP(src=S4, dst="10.0.0.1", proto=50) / Raw(b"q" * 40), "not_multicast")
    u(Ether(src=SRCMAC, dst=MAC6) / IPv6(src=S6, dst=G6) / IPv6ExtHdrRouting() / Raw(b"r" * 40), "ipv6_ext_hdr")
    u(Ether(src=SRCMAC, dst=MAC6) / IPv6(src=S6, dst=G6) / IPv6ExtHdrDestOpt(nh=50) / Raw(b"r" * 40), "ipv6_ext_hdr")
    u(Ether(src=SRCMAC, dst=MAC4) / IP(src=S4, dst=G4, proto=50, flags="MF") / Raw(b"f" * 64), "fragment")
    u(Ether(src=SRCMAC, dst=MAC4) / IP(src=S4, dst=G4, proto=50, frag=8) / Raw(b"f" * 64), "fragment")
    # plaintext for a protected group must not enter from the ESP side
    u(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(inner4()), "policy_discard")
    # unknown SPI, and a known SPI sent to another group
    u(esp(KEY4, 0x9999, 1, 8, 1, trailer(inner4(), 4)), "no_sa")
    u(esp(KEY4, SPI4, 1, 8, 1, trailer(inner4(dst="232.9.9.9"), 4), outer_dst="232.9.9.9"), "no_sa")
    # too short for SPI+SN+IV+ICV, and ciphertext not a multiple of 4
    u(Ether(src=SRCMAC, dst=MAC4) / IP(src=S4, dst=G4, proto=50) / Raw(struct.pack("!II", SPI4, 1) + b"\0" * 20), "malformed")
    u(Ether(src=SRCMAC, dst=MAC4) / IP(src=S4, dst=G4, proto=50) / Raw(struct.pack("!II", SPI4, 1) + b"\0" * 8 + b"c" * 5 + b"\0" * 16), "malformed")
    # --- ICV and anti-replay
    u(esp(KEY4, SPI4, 1, 8, 1, trailer(inner4(), 4), bad_icv=True), "auth_fail")
    u(esp(KEY4[:-1] + b"\x00", SPI4, 1, 8, 1, trailer(inner4(), 4)), "auth_fail")   # wrong salt
    u(good4(1), "delivered")
    u(good4(1), "replay")                             # duplicate
    u(good4(3), "delivered")
    u(good4(2), "delivered")                          # late, inside the window
    u(good4(3), "replay")
    u(good4(1000), "delivered")                       # far ahead
    u(good4(10), "replay")                            # far behind a 64-packet window
    u(good4(1000 - 63), "delivered")                  # the window's lowest slot
    u(good4(1000 - 64), "replay")                     # just below it
    # --- valid ICV, bad contents
    u(esp(KEY4, SPI4, 1, 8, 1001, trailer(inner4(41), 4, pad=1, pad_bytes=b"\x07")), "bad_pad")
    u(esp(KEY4, SPI4, 1, 8, 1002, inner4(40)[:-2] + bytes([200, 4])), "bad_pad")
    u(esp(KEY4, SPI4, 1, 8, 1003, trailer(inner4(), 41)), "bad_next_header")
    u(esp(KEY4, SPI4, 1, 8, 1004, trailer(inner4(), 17)), "bad_next_header")
    u(esp(KEY4, SPI4, 1, 8, 1005, trailer(b"\0" * 40, 59)), "dummy")
    u(esp(KEY4, SPI4, 1, 8, 1006, trailer(b"\x75" + inner4()[1:], 4)), "bad_inner")
    u(esp(KEY4, SPI4, 1, 8, 1007, trailer(inner4()[:12], 4)), "bad_inner")
    u(esp(KEY4, SPI4, 1, 8, 1008, trailer(inner4(src="192.0.2.99"), 4)), "addr_mismatch")
    u(esp(KEY4, SPI4, 1, 8, 1009, trailer(inner4(tos=0), 4), tos=3), "ecn")
    u(esp(KEY4, SPI4, 1, 8, 1010, trailer(inner4(tos=2), 4), tos=3), "delivered")   # CE copied in
    # --- per-sender windows: max_senders is 2 (SID 1 is one); SID 2 fits, SID 3 does not
    u(good4(5, sid=2), "delivered")
    u(good4(5, sid=2), "replay")
    u(good4(5, sid=3), "senders_full")
    # --- IPv6 group
    u(esp(KEY6, SPI6, 513, 16, 1, trailer(inner6(), 41), v6=True), "delivered")
    u(esp(KEY6, SPI6, 513, 16, 2, trailer(inner6(), 4), v6=True), "bad_next_header")
    u(esp(KEY6, SPI6, 513, 16, 3, trailer(inner6(), 41), v6=True, outer_src="2001:db8::99"), "no_sa")
    # ESN: a sender whose counter passed 2^32 (the IV carries the high half)
    u(esp(KEY6, SPI6, 514, 16, 7, trailer(inner6(), 41), v6=True, seq_hi=1), "delivered")

    def p(frame, what):
        prot.append((frame, what))

    # --- protected port (its default is discard)
    p(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(inner4(100)), "protected")
    p(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(inner4(1500 - 28 - 30)), "mtu_exceeded")  # 1500 + 57 > MTU
    p(Ether(src=SRCMAC, dst="02:00:00:00:00:01") / IP(src=S4, dst="10.1.1.1") / UDP() / Raw(b"u" * 30), "not_multicast")
    p(Ether(src=SRCMAC, dst="01:00:5e:09:09:09") / IP(src=S4, dst="239.9.9.9") / UDP(dport=7) / Raw(b"d" * 30), "policy_discard")
    p(Ether(src=SRCMAC, dst="01:00:5e:08:08:08") / IP(src=S4, dst="239.8.8.8") / UDP(dport=7) / Raw(b"b" * 30), "bypassed")
    p(Ether(src=SRCMAC, dst="01:00:5e:00:00:16") / IP(src=S4, dst="224.0.0.22", proto=2) / Raw(b"\x22" + b"\0" * 15), "bypassed")
    p(Ether(src=SRCMAC, dst=MAC4, type=0x0800) / Raw(b"\x45\x00"), "malformed")
    p(Ether(src=SRCMAC, dst="ff:ff:ff:ff:ff:ff") / ARP(), "not_ip")

    wrpcap(work + "/unprot.pcap", [f for f, _ in unprot])
    wrpcap(work + "/prot.pcap", [f for f, _ in prot])
    exp = Counter(w for _, w in unprot + prot)
    with open(work + "/expect.txt", "w") as f:
        for k, v in sorted(exp.items()):
            f.write("%s %d\n" % (k, v))
    print("craft_bad: %d frames for the unprotected port, %d for the protected port" % (len(unprot), len(prot)))


if __name__ == "__main__":
    main()
