#!/usr/bin/python3
"""Independent ESP oracle and helpers for the interoperability tests (Debian's python3: scapy).

  esp_oracle.py gen SPEC OUT [--sizes 64,512,1420] [--count N]   plaintext, varied headers
  esp_oracle.py mkconf SPEC OUT [--dir sender|receiver] [--replay-window W]   msecgw config
  esp_oracle.py spec-from-conf CONF OUT               SPEC from an msecgw configuration
  esp_oracle.py secgw-cfg OUT [--inbound SPEC] [--outbound SPEC]   ipsec-secgw config
  esp_oracle.py check-esp SPEC PLAIN ESP [--wrong-key]   every field of doc/wire-format.md
  esp_oracle.py encrypt SPEC PLAIN OUT [--esn-hi H] [--seq-base B] [--tamper]   scapy encrypts
  esp_oracle.py compare OUT EXPECT[:TTL_DEC]... [--mac] [--what TEXT]   byte-for-byte
  esp_oracle.py cat OUT [IN...]                       concatenate pcaps (no IN: an empty one)
  esp_oracle.py tel-wait PREFIX PORT:FIELD=VALUE... [--timeout S]   DPDK /ethdev/stats
  esp_oracle.py gen-traffic ARGS...   tools/gen-traffic.py in this process
  esp_oracle.py gen-traffic-spec SPEC OUT [--count N]   the same, one stream per SA of SPEC
  esp_oracle.py multi "CMD ARGS..." "CMD ARGS..."   several of these in one process (one scapy
                                                    import); exit status 1 if one failed
  esp_oracle.py tshark-uat SPEC [--wrong-key]         -o options for tshark's ESP SA table
  esp_oracle.py tshark-check SPEC ESP [--plain PLAIN] [--wrong-key]   tshark decrypts, ICV
  esp_oracle.py mcast-send GROUP PORT COUNT [--src A] [--gap MS]        (stdlib only)
  esp_oracle.py mcast-recv GROUP PORT COUNT OUT [--src A] [--ready F] [--done F] (stdlib only)

SPEC is a JSON list of group SAs, one per group:
  {"name": "v4-s8", "source": "192.0.2.10", "group": "232.129.2.3", "dport": 5004,
   "spi": 4097, "suite": "aes-gcm-128", "key": "<hex key||salt>", "sid_bits": 8, "sid": 165,
   "esn": true, "ttl": "copy" | 1..255, "dscp": "copy" | 0..63, "dir": "sender" | "receiver"}
  suites: aes-gcm-128, aes-gcm-256, aes-gmac-128 ("key" = key||salt),
  aes-ctr-128-hmac-sha256-128 ("key" = key||nonce, "auth_key" = 32-byte HMAC key),
  null-hmac-sha256-128 (no "key", "auth_key"; no IV, so no SID on the wire).
The oracle's own ESP code (py_seal/py_open) uses Python's `cryptography` and `hmac`, not
scapy: scapy 2.5 has no AES-GMAC and its ESP HMAC leaves out the ESN high half, so scapy is the
second opinion where it applies (AES-GCM; AES-CTR and NULL with HMAC-SHA-256-128 without ESN).
Checks print TAP lines ("ok - ..." / "not ok - ...") and the exit status is 1 when one failed.
Plaintext frames are matched to ESP frames in order: the tests run one worker, so each SA's
frames keep their order and its sequence numbers count 1, 2, 3 ...
"""
import argparse
import ipaddress
import json
import os
import socket
import struct
import sys
import time

failures = 0


def tap(ok, what, detail=""):
    """Print one TAP line; details of a failure go on a comment line."""
    global failures
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if not ok:
        failures += 1
        if detail:
            print("# " + str(detail).replace("\n", "\n# "))
    sys.stdout.flush()
    return ok


# what the oracle needs of each suite (doc/wire-format.md section 4)
SUITES = {
    "aes-gcm-128": {"iv": 8, "kind": "gcm"},
    "aes-gcm-256": {"iv": 8, "kind": "gcm"},
    "aes-gmac-128": {"iv": 8, "kind": "gmac"},
    "aes-ctr-128-hmac-sha256-128": {"iv": 8, "kind": "ctr"},
    "null-hmac-sha256-128": {"iv": 0, "kind": "null"},
}


def iv_len(sa):
    return SUITES[sa["suite"]]["iv"]


def kind(sa):
    return SUITES[sa["suite"]]["kind"]


def load_spec(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    for sa in spec:
        sa.setdefault("key", "")
        sa["v6"] = ipaddress.ip_address(sa["group"]).version == 6
        sa.setdefault("ttl", "copy")
        sa.setdefault("dscp", "copy")
        sa.setdefault("esn", False)
        sa.setdefault("sid", 0)
        sa.setdefault("sid_bits", 8)
        sa.setdefault("dport", 5004)
    return spec


def mcast_mac(group):
    ip = ipaddress.ip_address(group)
    b = ip.packed
    if ip.version == 4:
        return "01:00:5e:%02x:%02x:%02x" % (b[1] & 0x7F, b[2], b[3])
    return "33:33:%02x:%02x:%02x:%02x" % (b[12], b[13], b[14], b[15])


def sa_for(spec, l3):
    for sa in spec:
        if l3.dst == sa["group"] and l3.src == sa["source"]:
            return sa
    return None


# ---------------------------------------------------------------------------------------------
# plaintext generation

def cmd_gen(a):
    from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap
    spec = load_spec(a.spec)
    sizes = [int(s) for s in a.sizes.split(",")]
    pkts = []
    n = 0
    for i in range(a.count):
        for size in sizes:
            for k, sa in enumerate(spec):
                n += 1
                # vary every header field the gateway copies: DSCP, ECN, ID, DF, TTL, flow label
                tos = (((n * 7) % 64) << 2) | (n % 4)
                ttl = 1 + (n * 37) % 255
                if sa["v6"]:
                    l3 = IPv6(src=sa["source"], dst=sa["group"], tc=tos, fl=(n * 40503) & 0xFFFFF,
                              hlim=ttl)
                else:
                    l3 = IP(src=sa["source"], dst=sa["group"], tos=tos, id=(n * 2654435761) & 0xFFFF,
                            flags="DF" if n % 2 else 0, ttl=ttl)
                hdr = Ether(src="02:00:00:00:00:01", dst=mcast_mac(sa["group"])) / l3 / \
                    UDP(sport=40000 + k, dport=sa["dport"])
                head = struct.pack("!4sHHI", b"MSEC", k, size, i + 1)
                pad = max(0, size - len(hdr) - len(head))
                body = (head + bytes((i + j) & 0xFF for j in range(pad)))
                if len(hdr) + len(body) > size:
                    body = body[:max(0, size - len(hdr))]
                pkts.append(hdr / Raw(body))
    wrpcap(a.out, pkts)
    print("# gen: %d frames, %d SAs, sizes %s -> %s" % (len(pkts), len(spec), a.sizes, a.out))
    return 0


# ---------------------------------------------------------------------------------------------
# msecgw configuration (doc/configuration.md)

def cmd_mkconf(a):
    spec = load_spec(a.spec)
    conf = {
        "control": {"socket": ""},
        "ports": [
            {"name": "plain", "device": a.dev0, "role": "protected"},
            {"name": "esp", "device": a.dev1, "role": "unprotected"},
        ],
        "groups": [],
        "policies": [],
    }
    for sa in spec:
        s = {"spi": sa["spi"], "suite": sa["suite"], "esn": sa["esn"]}
        if sa["key"]:
            s["key"] = sa["key"]
        if sa.get("auth_key"):
            s["auth_key"] = sa["auth_key"]
        if iv_len(sa):
            s["sid_bits"] = sa["sid_bits"]     # no IV (NULL): no SID on the wire
        d = sa.get("dir") or a.dir
        if d == "sender":
            s["direction"] = "sender"
            s["sids"] = [sa["sid"]]
            s["ttl"] = sa["ttl"]
            s["dscp"] = sa["dscp"]
        else:
            s["direction"] = "receiver"
            s["replay_window"] = a.replay_window
        conf["groups"].append({"name": sa["name"], "address": sa["group"], "source": sa["source"],
                               "protected_port": "plain", "unprotected_port": "esp", "sas": [s]})
        if d == "sender":
            conf["policies"].append({"group": sa["group"], "source": sa["source"],
                                     "action": "protect", "protect_group": sa["name"]})
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(conf, f, indent=1)
    return 0


# ---------------------------------------------------------------------------------------------
# the oracle

def keyparts(sa):
    km = bytes.fromhex(sa["key"])
    return km[:-4], km[-4:]


def scapy_sa(sa, l3cls, key=None, auth_key=None):
    """scapy's SecurityAssociation for the suites it has: AES-GCM, and AES-CTR or NULL with
    HMAC-SHA-256-128 (its ESP HMAC has no ESN; callers use it only without)."""
    from scapy.layers.ipsec import SecurityAssociation, ESP
    key = key if key is not None else bytes.fromhex(sa["key"])
    tun = l3cls(src=sa["source"], dst=sa["group"])
    if kind(sa) == "gcm":
        return SecurityAssociation(ESP, spi=sa["spi"], crypt_algo="AES-GCM", crypt_key=key,
                                   auth_algo="NULL", tunnel_header=tun, esn_en=sa["esn"])
    ak = auth_key if auth_key is not None else bytes.fromhex(sa["auth_key"])
    return SecurityAssociation(ESP, spi=sa["spi"],
                               crypt_algo="AES-CTR" if kind(sa) == "ctr" else "NULL",
                               crypt_key=key, auth_algo="SHA2-256-128", auth_key=ak,
                               tunnel_header=tun)


def scapy_applies(sa):
    return kind(sa) == "gcm" or (kind(sa) in ("ctr", "null") and not sa["esn"])


def gcm_open(sa, iv, aad, ct_icv):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key, salt = keyparts(sa)
    return AESGCM(key).decrypt(salt + iv, ct_icv, aad)


class IcvError(Exception):
    pass


def _hmac128(key, msg):
    import hashlib
    import hmac
    return hmac.new(key, msg, hashlib.sha256).digest()[:16]


def _ctr(key, nonce, iv, data):
    """RFC 3686 section 4: counter block = nonce || IV || block counter from 1."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    c = Cipher(algorithms.AES(key), modes.CTR(nonce + iv + b"\0\0\0\1")).encryptor()
    return c.update(data) + c.finalize()


def _gmac(key, salt, iv, aad):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    return AESGCM(key).encrypt(salt + iv, b"", aad)


def py_seal(sa, s64, iv, payload, key=None, auth_key=None):
    """SPI || SN || IV || protected payload || ICV for any suite (doc/wire-format.md section 4).
    payload = inner packet || padding || pad length || next header."""
    km = key if key is not None else bytes.fromhex(sa["key"])
    ak = auth_key if auth_key is not None else bytes.fromhex(sa.get("auth_key", ""))
    hdr = struct.pack("!II", sa["spi"], s64 & 0xFFFFFFFF)
    hi = struct.pack("!I", s64 >> 32) if sa["esn"] else b""
    aad = hdr[:4] + hi + hdr[4:]
    k = kind(sa)
    if k == "gcm":
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        return hdr + iv + AESGCM(km[:-4]).encrypt(km[-4:] + iv, payload, aad)
    if k == "gmac":
        return hdr + iv + payload + _gmac(km[:-4], km[-4:], iv, aad + iv + payload)
    body = _ctr(km[:-4], km[-4:], iv, payload) if k == "ctr" else payload
    return hdr + iv + body + _hmac128(ak, hdr + iv + body + hi)


def py_open(sa, esp, s64, key=None, auth_key=None):
    """The payload of SPI || SN || IV || payload || ICV, or IcvError."""
    import hmac
    km = key if key is not None else bytes.fromhex(sa["key"])
    ak = auth_key if auth_key is not None else bytes.fromhex(sa.get("auth_key", ""))
    n = 8 + iv_len(sa)
    hdr, iv, body, icv = esp[:8], esp[8:n], esp[n:-16], esp[-16:]
    hi = struct.pack("!I", s64 >> 32) if sa["esn"] else b""
    aad = hdr[:4] + hi + hdr[4:]
    k = kind(sa)
    if k == "gcm":
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        try:
            return AESGCM(km[:-4]).decrypt(km[-4:] + iv, body + icv, aad)
        except InvalidTag as ex:
            raise IcvError("AES-GCM tag") from ex
    if k == "gmac":
        want = _gmac(km[:-4], km[-4:], iv, aad + iv + body)
    else:
        want = _hmac128(ak, hdr + iv + body + hi)
    if not hmac.compare_digest(want, icv):
        raise IcvError("%s ICV" % k)
    return _ctr(km[:-4], km[-4:], iv, body) if k == "ctr" else body


def icv_what(sa):
    hi = "SPI||seq_hi||seq" if sa["esn"] else "SPI||seq"
    return {"gcm": "AES-GCM, AAD " + hi,
            "gmac": "AES-GMAC, AAD %s||IV||payload" % hi,
            "ctr": "HMAC-SHA-256-128 over SPI||seq||IV||ciphertext" + ("||seq_hi" if sa["esn"] else ""),
            "null": "HMAC-SHA-256-128 over SPI||seq||payload" + ("||seq_hi" if sa["esn"] else "")}[kind(sa)]


def wrong_keys(sa):
    """(key, auth_key) with one bit flipped in the key the ICV depends on."""
    key = bytearray(bytes.fromhex(sa["key"]))
    ak = bytearray(bytes.fromhex(sa.get("auth_key", "")))
    if kind(sa) in ("gcm", "gmac"):
        key[0] ^= 0x01
    else:
        ak[0] ^= 0x01
    return bytes(key), bytes(ak)


class Checks:
    """Counts failures per named check; one TAP line per check at the end."""

    def __init__(self, label):
        self.label = label
        self.names = []
        self.bad = {}

    def __call__(self, name, cond, detail):
        if name not in self.names:
            self.names.append(name)
        if not cond and name not in self.bad:
            self.bad[name] = detail

    def report(self):
        for n in self.names:
            tap(n not in self.bad, "%s: %s" % (self.label, n), self.bad.get(n, ""))


def cmd_check_esp(a):
    from scapy.all import rdpcap, Ether, IP, IPv6, raw
    from scapy.layers.ipsec import IPSecIntegrityError
    spec = load_spec(a.spec)
    plain = rdpcap(a.plain)
    esp = rdpcap(a.esp)
    label = a.label
    tap(len(esp) == len(plain), "%s: one ESP frame per plaintext frame (%d sent, %d ESP)" %
        (label, len(plain), len(esp)))
    c = Checks(label)
    seq = {}
    nmatched = {}
    for i, (p, e) in enumerate(zip(plain, esp)):
        pin = p[IPv6] if IPv6 in p else p[IP]
        inner = raw(pin)
        sa = sa_for(spec, pin)
        if sa is None:
            c("plaintext frames belong to a configured SA", False, "frame %d: %s" % (i, pin.summary()))
            continue
        seq[sa["spi"]] = seq.get(sa["spi"], 0) + 1
        s64 = seq[sa["spi"]]
        v6 = sa["v6"]
        eb = raw(e)
        where = "frame %d (%s, %d B)" % (i, sa["name"], len(eb))
        c("Ethernet destination is the group MAC (01:00:5e+23 bits / 33:33+32 bits)",
          e[Ether].dst == mcast_mac(sa["group"]), "%s: %s" % (where, e[Ether].dst))
        c("ethertype matches the SA family", e[Ether].type == (0x86DD if v6 else 0x0800),
          "%s: 0x%04x" % (where, e[Ether].type))
        o = eb[14:]
        hl = 40 if v6 else 20
        ivl = iv_len(sa)
        if len(o) < hl + 8 + ivl + 16:
            c("frame long enough", False, where)
            continue
        inner_tc = (raw(pin)[0] << 4 & 0xF0 | raw(pin)[1] >> 4) if v6 else inner[1]
        dscp = (inner_tc >> 2) if sa["dscp"] == "copy" else sa["dscp"]
        want_tc = (dscp << 2) | (inner_tc & 3)
        want_ttl = (inner[7] if v6 else inner[8]) if sa["ttl"] == "copy" else sa["ttl"]
        ct_len = len(o) - hl - 8 - ivl - 16
        if v6:
            vtc = struct.unpack("!I", o[0:4])[0]
            ivtc = struct.unpack("!I", inner[0:4])[0]
            c("outer version 6", vtc >> 28 == 6, where)
            c("outer traffic class: DSCP %s, ECN copied" % sa["dscp"], (vtc >> 20) & 0xFF == want_tc,
              "%s: tc 0x%02x want 0x%02x" % (where, (vtc >> 20) & 0xFF, want_tc))
            c("outer flow label copied", vtc & 0xFFFFF == ivtc & 0xFFFFF, where)
            c("outer payload length", struct.unpack("!H", o[4:6])[0] == len(o) - 40, where)
            c("outer next header 50 (no extension headers)", o[6] == 50, "%s: %d" % (where, o[6]))
            c("outer hop limit %s" % sa["ttl"], o[7] == want_ttl, "%s: %d want %d" % (where, o[7], want_ttl))
            c("outer source/destination == inner (address preservation)",
              o[8:40] == inner[8:40], where)
        else:
            c("outer version/IHL 0x45", o[0] == 0x45, "%s: 0x%02x" % (where, o[0]))
            c("outer DSCP %s, ECN copied" % sa["dscp"], o[1] == want_tc,
              "%s: tos 0x%02x want 0x%02x" % (where, o[1], want_tc))
            c("outer total length", struct.unpack("!H", o[2:4])[0] == len(o),
              "%s: %d vs %d" % (where, struct.unpack("!H", o[2:4])[0], len(o)))
            c("outer identification copied", o[4:6] == inner[4:6], where)
            ff = struct.unpack("!H", o[6:8])[0]
            c("outer DF copied, MF 0, offset 0", ff == (struct.unpack("!H", inner[6:8])[0] & 0x4000),
              "%s: 0x%04x" % (where, ff))
            c("outer TTL %s" % sa["ttl"], o[8] == want_ttl, "%s: %d want %d" % (where, o[8], want_ttl))
            c("outer protocol 50", o[9] == 50, "%s: %d" % (where, o[9]))
            s = sum(struct.unpack("!10H", o[:20]))
            while s >> 16:
                s = (s & 0xFFFF) + (s >> 16)
            c("outer header checksum valid", s == 0xFFFF, where)
            c("outer source/destination == inner (address preservation)",
              o[12:20] == inner[12:20], where)
        spi, sq = struct.unpack("!II", o[hl:hl + 8])
        iv = o[hl + 8:hl + 8 + ivl]
        k = sa["sid_bits"]
        c("SPI", spi == sa["spi"], "%s: 0x%08x" % (where, spi))
        c("sequence number = low 32 bits of the counter (1, 2, 3 ...)", sq == s64 & 0xFFFFFFFF,
          "%s: %d want %d" % (where, sq, s64))
        if ivl:
            ivn = struct.unpack("!Q", iv)[0]
            c("IV = SID(%d bits) || seq (RFC 6054)" % k, ivn == (sa["sid"] << (64 - k)) | s64,
              "%s: %016x want %016x" % (where, ivn, (sa["sid"] << (64 - k)) | s64))
        c("ciphertext length a multiple of 4", ct_len % 4 == 0, "%s: %d" % (where, ct_len))
        try:
            pt = py_open(sa, o[hl:], s64)
        except Exception as ex:  # IcvError
            c("ICV verifies (%s)" % icv_what(sa), False, "%s: %r" % (where, ex))
            continue
        c("ICV verifies (%s)" % icv_what(sa), True, "")
        if kind(sa) in ("gmac", "null"):
            c("payload in clear on the wire (integrity only)", o[hl + 8 + ivl:len(o) - 16] == pt,
              where)
        padlen, nh = pt[-2], pt[-1]
        body = pt[:len(pt) - 2 - padlen]
        c("next header %d" % (41 if v6 else 4), nh == (41 if v6 else 4), "%s: %d" % (where, nh))
        c("pad length minimal (0..3, ciphertext 4-aligned)",
          padlen == (-(len(inner) + 2)) % 4 and len(body) == len(inner),
          "%s: pad %d inner %d" % (where, padlen, len(inner)))
        c("padding bytes 1, 2, 3 ...", pt[len(pt) - 2 - padlen:len(pt) - 2] == bytes(range(1, padlen + 1)),
          "%s: %s" % (where, pt[len(pt) - 2 - padlen:len(pt) - 2].hex()))
        c("decrypted inner packet == plaintext sent, byte for byte (TTL unchanged)", body == inner,
          "%s:\n got  %s\n want %s" % (where, body.hex(), inner.hex()))
        # scapy's own ESP implementation, as a second opinion on the whole packet
        l3cls = IPv6 if v6 else IP
        if scapy_applies(sa):
            try:
                dec = scapy_sa(sa, l3cls).decrypt(l3cls(o))
                got = raw(dec)
            except Exception as ex:
                got = repr(ex).encode()
            c("scapy SecurityAssociation.decrypt() returns the original packet", got == inner,
              "%s:\n got  %s\n want %s" % (where, got.hex(), inner.hex()))
        if a.wrong_key:
            wk, wak = wrong_keys(sa)
            try:
                py_open(sa, o[hl:], s64, key=wk, auth_key=wak)
                ok = False
            except IcvError:
                ok = True
            c("negative control: a key with one bit flipped fails the ICV", ok, where)
            if scapy_applies(sa):
                try:
                    scapy_sa(sa, l3cls, key=wk, auth_key=wak).decrypt(l3cls(o))
                    ok = False
                except IPSecIntegrityError:
                    ok = True
                c("negative control: scapy with a key with one bit flipped fails the ICV", ok,
                  where)
            try:
                py_open(dict(sa, esn=not sa["esn"]), o[hl:], s64)
                ok = False
            except IcvError:
                ok = True
            c("negative control: the other ESN setting fails the ICV", ok, where)
        nmatched[sa["name"]] = nmatched.get(sa["name"], 0) + 1
    c.report()
    print("# %s: ESP frames per SA: %s" % (label, ", ".join("%s %d" % kv for kv in sorted(nmatched.items()))))
    return 1 if failures else 0


def cmd_encrypt(a):
    """Encrypt as a group sender would: tunnel header = inner (S, G), IV = SID||seq. scapy does
    it where it has the suite (AES-GCM; AES-CTR and NULL with HMAC without ESN), the oracle's own
    py_seal() otherwise. NULL encryption carries no IV, so its receivers infer the ESN high half
    (RFC 4303 Appendix A) and a fresh one starts from 0: --esn-hi does not apply to it."""
    from scapy.all import rdpcap, wrpcap, Ether, IP, IPv6, raw
    spec = load_spec(a.spec)
    out = []
    seq = {}
    for p in rdpcap(a.plain):
        pin = p[IPv6] if IPv6 in p else p[IP]
        sa = sa_for(spec, pin)
        if sa is None:
            continue
        seq[sa["spi"]] = seq.get(sa["spi"], 0) + 1
        hi = a.esn_hi if sa["esn"] and iv_len(sa) else 0
        s64 = (hi << 32) + a.seq_base + seq[sa["spi"]]
        iv = struct.pack("!Q", (sa["sid"] << (64 - sa["sid_bits"])) | s64)[:iv_len(sa)]
        l3cls = IPv6 if sa["v6"] else IP
        inner = l3cls(raw(pin))
        if scapy_applies(sa):
            e = scapy_sa(sa, l3cls).encrypt(inner, seq_num=s64 & 0xFFFFFFFF, iv=iv or None,
                                            esn_en=sa["esn"], esn=s64 >> 32)
        else:
            body = raw(inner)
            pad = (-(len(body) + 2)) % 4
            body += bytes(range(1, pad + 1)) + bytes([pad, 41 if sa["v6"] else 4])
            o = l3cls(src=sa["source"], dst=sa["group"], proto=50) if not sa["v6"] else \
                l3cls(src=sa["source"], dst=sa["group"], nh=50)
            # outer header as scapy's tunnel mode would build it: copied TTL/TOS not needed by
            # msecgw's receiver, which checks only the addresses
            e = l3cls(raw(o / py_seal(sa, s64, iv, body)))
        f = Ether(src="02:00:00:00:00:02", dst=mcast_mac(sa["group"])) / e
        if a.tamper:
            b = bytearray(raw(f))
            b[-1] ^= 0x80               # last ICV byte
            f = Ether(bytes(b))
        out.append(f)
    wrpcap(a.out, out)
    print("# encrypt: %d ESP frames -> %s" % (len(out), a.out))
    return 0


def ttl_adjusted(l3bytes, dec):
    """The packet after a router decremented its TTL / hop limit by `dec` (IPv4: checksum
    recomputed from scratch, so a wrong incremental update by the peer would show)."""
    want = bytearray(l3bytes)
    if dec == 0:
        return bytes(want)
    if want[0] >> 4 == 6:
        want[7] = (want[7] - dec) & 0xFF
        return bytes(want)
    want[8] = (want[8] - dec) & 0xFF
    want[10:12] = b"\0\0"
    hl = (want[0] & 0xF) * 4
    cs = sum(struct.unpack("!%dH" % (hl // 2), bytes(want[:hl])))
    while cs >> 16:
        cs = (cs & 0xFFFF) + (cs >> 16)
    want[10:12] = struct.pack("!H", ~cs & 0xFFFF)
    return bytes(want)


def cmd_compare(a):
    """Delivered IP packets equal the expected ones, in order. Each EXPECT is a pcap of sent
    frames, optionally FILE:N when a router on the way (ipsec-secgw's legacy path) decremented
    TTL / hop limit by N; several are expected one after the other."""
    from scapy.all import rdpcap, Ether, IP, IPv6, raw
    want = []
    for e in a.expect:
        path, _, dec = e.partition(":")
        for s in rdpcap(path):
            want.append(ttl_adjusted(raw(s[IPv6] if IPv6 in s else s[IP]), int(dec or 0)))
    out = rdpcap(a.out)
    what = a.what
    tap(len(out) == len(want), "%s: delivered %d of %d" % (what, len(out), len(want)))
    bad_bytes, bad_mac, first = 0, 0, ""
    for i, (w, o) in enumerate(zip(want, out)):
        ol3 = o[IPv6] if IPv6 in o else (o[IP] if IP in o else None)
        got = raw(ol3) if ol3 is not None else raw(o)
        if got != w:
            bad_bytes += 1
            if not first:
                first = "frame %d:\n got  %s\n want %s" % (i, got.hex(), w.hex())
        if a.mac and (Ether not in o or ol3 is None or o[Ether].dst != mcast_mac(ol3.dst)):
            bad_mac += 1
    decs = [e.partition(":")[2] for e in a.expect]
    note = " (TTL - 1 where the peer routes, IPv4 checksum recomputed)" if any(d not in ("", "0") for d in decs) else ""
    tap(bad_bytes == 0 and len(out) > 0,
        "%s: every delivered packet equals the sent one byte for byte%s, in order" % (what, note),
        "%d differ; %s" % (bad_bytes, first))
    if a.mac:
        tap(bad_mac == 0, "%s: delivered frames carry the group's multicast MAC" % what,
            "%d wrong" % bad_mac)
    return 1 if failures else 0


def cmd_cat(a):
    """Concatenate pcaps (classic pcap, as net_pcap reads it)."""
    from scapy.all import rdpcap, wrpcap
    pkts = []
    for f in a.inputs:
        pkts.extend(rdpcap(f))
    wrpcap(a.out, pkts, linktype=1)
    return 0


def cmd_spec_from_conf(a):
    """Group SAs of an msecgw configuration as a SPEC (only the keys the oracle uses)."""
    with open(a.conf, encoding="utf-8") as f:
        conf = json.load(f)
    dport = {}
    for p in conf.get("policies", []):
        if p.get("action") == "protect" and isinstance(p.get("udp_dport"), int):
            dport[p.get("protect_group")] = p["udp_dport"]
    spec = []
    for g in conf.get("groups", []):
        for sa in g.get("sas", []):
            spi = sa["spi"]
            spec.append({
                "name": g["name"], "source": g.get("source"), "group": g["address"],
                "dport": dport.get(g["name"], 5004),
                "spi": int(spi, 0) if isinstance(spi, str) else spi,
                "suite": sa["suite"],
                "key": sa.get("key", "")[2:] if sa.get("key", "").startswith("0x") else sa.get("key", ""),
                "auth_key": sa.get("auth_key", "")[2:] if sa.get("auth_key", "").startswith("0x")
                else sa.get("auth_key", ""),
                "sid_bits": sa.get("sid_bits", 8), "sid": (sa.get("sids") or [0])[0],
                "esn": sa.get("esn", True), "ttl": sa.get("ttl", "copy"), "dscp": sa.get("dscp", "copy"),
                "dir": sa.get("direction")})
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1)
    return 0


def cmd_secgw_cfg(a):
    """ipsec-secgw configuration: SAs of --inbound decrypt from port 1 to port 0, SAs of
    --outbound encrypt from port 0 to port 1. Tunnel endpoints = (S, G): with address
    preservation the outer header equals the inner one, which ipsec-secgw's inbound check
    compares with its SA's endpoints."""
    lines = []
    for path, d in ((a.inbound, "in"), (a.outbound, "out")):
        if not path:
            continue
        for sa in load_spec(path):
            fam = "ipv6" if sa["v6"] else "ipv4"
            plen = 128 if sa["v6"] else 32
            def hexc(h):
                return ":".join("%02x" % b for b in bytes.fromhex(h))
            k = kind(sa)
            if k == "gcm":
                alg = {"aes-gcm-128": "aes-128-gcm", "aes-gcm-256": "aes-256-gcm"}[sa["suite"]]
                xf = "aead_algo %s aead_key %s" % (alg, hexc(sa["key"]))
            elif k == "gmac":
                # RFC 4543 in ipsec-secgw: NULL cipher, auth aes-gmac with key || salt
                xf = "cipher_algo null auth_algo aes-gmac auth_key %s" % hexc(sa["key"])
            elif k == "ctr":
                xf = "cipher_algo aes-128-ctr cipher_key %s auth_algo sha256-hmac auth_key %s" % (
                    hexc(sa["key"]), hexc(sa["auth_key"]))
            else:
                xf = "cipher_algo null auth_algo sha256-hmac auth_key %s" % hexc(sa["auth_key"])
            lines.append("sp %s %s esp protect %d pri 2 dst %s/%d sport 0:65535 dport 0:65535" %
                         (fam, d, sa["spi"], sa["group"], plen))
            lines.append("sa %s %d %s mode %s-tunnel src %s dst %s" %
                         (d, sa["spi"], xf, fam, sa["source"], sa["group"]))
            lines.append("rt %s dst %s/%d port %d" % (fam, sa["group"], plen, 0 if d == "in" else 1))
            lines.append("neigh port %d %s" % (0 if d == "in" else 1, mcast_mac(sa["group"])))
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# DPDK telemetry (any primary process): wait until a port counter reaches a value

def telemetry(sock_path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2)
    s.connect(sock_path)
    try:
        s.recv(4096)                        # greeting: version, pid, max_output_len
        s.send(cmd.encode())
        return json.loads(s.recv(65536).decode())
    finally:
        s.close()


def cmd_tel_wait(a):
    """Wait until every PORT:FIELD=VALUE holds (or --timeout), then print the counters of the
    ports involved. Exit 0 only when each counter equals its value exactly once they settle."""
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % a.prefix
    wants = []
    for w in a.want:
        pf, _, v = w.partition("=")
        port, _, field = pf.partition(":")
        wants.append((int(port), field, int(v)))
    ports = sorted(set(w[0] for w in wants))

    def read():
        return {p: telemetry(path, "/ethdev/stats,%d" % p)["/ethdev/stats"] for p in ports}

    deadline = time.monotonic() + a.timeout
    st = None
    while time.monotonic() < deadline:
        if a.pid and not os.path.exists("/proc/%d" % a.pid):
            print("# tel-wait: process %d is gone" % a.pid)
            break
        try:
            st = read()
            if all(st[p][f] >= v for p, f, v in wants):
                time.sleep(0.3)         # settle: more than expected is an answer too
                st = read()
                break
        except (OSError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.1)
    if st is None:
        print("# tel-wait: no telemetry from %s" % a.prefix)
        return 1
    for p in ports:
        print("# %s port %d: %s" % (a.prefix, p, " ".join("%s %s" % (k, st[p][k]) for k in
              ("ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf"))))
    return 0 if all(st[p][f] == v for p, f, v in wants) and \
        all(st[p][k] == 0 for p in ports for k in ("ierrors", "oerrors", "imissed")) else 1


# ---------------------------------------------------------------------------------------------
# tshark's ESP SA table

def uat_options(spec, wrong_key=False):
    """tshark options: decryption and ICV checks on, one ESP SA table entry per SA. The table's
    fields: protocol, source, destination, SPI, encryption, key || salt, authentication, key."""
    opts = ["-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE"]
    for sa in spec:
        if wrong_key:
            key, ak = wrong_keys(sa)
        else:
            key, ak = bytes.fromhex(sa["key"]), bytes.fromhex(sa.get("auth_key", ""))
        enc, auth = {"gcm": ("AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
                     "ctr": ("AES-CTR [RFC3686]", "HMAC-SHA-256-128 [RFC4868]"),
                     "null": ("NULL", "HMAC-SHA-256-128 [RFC4868]")}[kind(sa)]
        opts += ["-o", 'uat:esp_sa:"%s","%s","%s","0x%08x","%s","%s","%s","%s"' %
                 ("IPv6" if sa["v6"] else "IPv4", sa["source"], sa["group"], sa["spi"],
                  enc, "0x" + key.hex() if key else "", auth, "0x" + ak.hex() if ak else "")]
    return opts


def cmd_tshark_uat(a):
    for o in uat_options(load_spec(a.spec), a.wrong_key):
        print(o)
    return 0


def desc(sa):
    sid = "SID %d/%d bits" % (sa["sid"], sa["sid_bits"]) if iv_len(sa) else "no IV"
    return "%s %s %s%s" % ("IPv6" if sa["v6"] else "IPv4", sa["suite"], sid,
                           ", ESN" if sa["esn"] else "")


def cmd_tshark_check(a):
    """tshark decrypts and checks every ESP frame: esp.icv_good on each (esp.icv_bad on each with
    --wrong-key); with --plain, the decrypted inner packet (esp.decrypted_data minus padding, pad
    length and next header) equals the plaintext frame sent, in order."""
    import subprocess
    spec = load_spec(a.spec)
    byspi = {sa["spi"]: sa for sa in spec}
    # With a wrong key the "decrypted" trailer is noise, and a noise next header sends noise
    # into some inner dissector; if that throws, tshark never adds esp.icv_bad to the frame. So
    # the negative control has every next header but ESP's dissected as plain data.
    dec_as = ["-d", "ip.proto==0-49,data", "-d", "ip.proto==51-255,data"] if a.wrong_key else []
    cmd = ["tshark", "-n", "-r", a.esp] + dec_as + uat_options(spec, a.wrong_key) + \
        ["-T", "fields", "-E", "separator=/t", "-e", "esp.spi", "-e", "esp.icv_good",
         "-e", "esp.icv_bad", "-e", "esp.pad_len", "-e", "esp.decrypted_data"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows = [ln.split("\t") for ln in r.stdout.splitlines()]
    if not tap(r.returncode == 0 and len(rows) > 0, "%s: tshark reads %d frames" % (a.label, len(rows)),
               r.stderr[-2000:]):
        return 1
    inner = {}
    if a.plain:
        from scapy.all import rdpcap, IP, IPv6, raw
        seq = {}
        for p in rdpcap(a.plain):
            l3 = p[IPv6] if IPv6 in p else p[IP]
            sa = sa_for(spec, l3)
            if sa is not None:
                inner.setdefault(sa["spi"], []).append(raw(l3))
                seq[sa["spi"]] = seq.get(sa["spi"], 0) + 1
    st = {spi: {"n": 0, "good": 0, "bad": 0, "same": 0, "first": ""} for spi in byspi}
    other = 0
    for row in rows:
        row += [""] * (5 - len(row))
        try:
            spi = int(row[0], 16)
        except ValueError:
            other += 1
            continue
        if spi not in st:
            other += 1
            continue
        x = st[spi]
        i = x["n"]
        x["n"] += 1
        x["good"] += row[1] in ("1", "True")
        x["bad"] += row[2] in ("1", "True")
        if a.plain and row[3] and row[4]:
            dec = bytes.fromhex(row[4].replace(":", ""))
            body = dec[:len(dec) - 2 - int(row[3], 0)]
            want = inner[spi][i] if i < len(inner.get(spi, [])) else b""
            if body == want:
                x["same"] += 1
            elif not x["first"]:
                x["first"] = "frame %d of SPI 0x%x:\n got  %s\n want %s" % (i, spi, body.hex(), want.hex())
    tap(other == 0, "%s: every frame is ESP of a configured SA" % a.label, "%d others" % other)
    esn_skip = []
    for spi, sa in sorted(byspi.items()):
        x = st[spi]
        sent = len(inner.get(spi, [])) if a.plain else (a.count if a.count is not None else x["n"])
        what = "%s: %s, SPI 0x%x" % (a.label, desc(sa), spi)
        if a.wrong_key:
            tap(x["n"] > 0 and x["bad"] == x["n"] and x["good"] == 0,
                "%s: wrong key: esp.icv_bad on all %d frames, icv_good on none" % (what, x["n"]),
                "bad %d good %d" % (x["bad"], x["good"]))
            continue
        if sa["esn"]:
            # tshark's ESP SA table has no ESN setting: its AAD is always SPI || seq and its
            # HMAC never appends seq_hi, so a correct ESN ICV must fail there on every frame
            esn_skip.append(spi)
            tap(x["n"] == sent and x["bad"] == sent and x["good"] == 0,
                "%s: esp.icv_bad on every frame with tshark's non-ESN AAD (%d of %d): the "
                "ICV covers seq_hi" % (what, x["bad"], sent),
                "frames %d good %d bad %d" % (x["n"], x["good"], x["bad"]))
        else:
            tap(x["n"] == sent and x["good"] == sent and x["bad"] == 0,
                "%s: esp.icv_good on every frame (%d of %d sent)" % (what, x["good"], sent),
                "frames %d good %d bad %d" % (x["n"], x["good"], x["bad"]))
        if a.plain:
            tap(x["same"] == sent and sent > 0,
                "%s: tshark's decrypted inner packets equal the plaintext sent (%d of %d)" %
                (what, x["same"], sent), x["first"])
    if esn_skip:
        print("ok - # SKIP %s: icv_good for %d ESN SAs: tshark's ESP SA table has no ESN setting "
              "(4.0: AAD always SPI||seq); ESN ICVs are verified in "
              "test_interop_scapy.sh" % (a.label, len(esn_skip)))
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------
# Linux multicast sockets (stdlib only)

def mcast_socket(group, ifname, src, recv_port=None):
    ip = ipaddress.ip_address(group)
    fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    ifindex = socket.if_nametoindex(ifname) if ifname else 0
    if recv_port is None:
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 16)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            if src:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
                s.bind((src, 0))
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 16)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            if ifindex:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        return s, fam
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if fam == socket.AF_INET:
        s.bind((group, recv_port))
        if src:
            # struct ip_mreq_source: imr_multiaddr, imr_interface, imr_sourceaddr (Linux order)
            ifaddr = socket.inet_aton("0.0.0.0")
            mreq = socket.inet_aton(group) + ifaddr + socket.inet_aton(src)
            s.setsockopt(socket.IPPROTO_IP, 39, mreq)     # IP_ADD_SOURCE_MEMBERSHIP
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                         socket.inet_aton(group) + socket.inet_aton("0.0.0.0"))
    else:
        s.bind(("::", recv_port))
        mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    return s, fam


def payload(i, size):
    head = struct.pack("!4sI", b"MSEC", i)
    return head + bytes((i + j) & 0xFF for j in range(size - len(head)))


def cmd_mcast_send(a):
    s, _ = mcast_socket(a.group, a.ifname, a.src)
    sizes = [int(x) for x in a.sizes.split(",")]
    for i in range(a.count):
        s.sendto(payload(i, sizes[i % len(sizes)]), (a.group, a.port))
        time.sleep(a.gap / 1000.0)
    print("# mcast-send: %d datagrams to %s:%d" % (a.count, a.group, a.port))
    return 0


def cmd_mcast_recv(a):
    s, _ = mcast_socket(a.group, a.ifname, a.src, recv_port=a.port)
    s.settimeout(0.5)
    if a.ready:
        open(a.ready, "w").close()
    got = []
    deadline = time.monotonic() + a.timeout
    while len(got) < a.count and time.monotonic() < deadline:
        # the sender is done: what is still in flight arrives within a couple of seconds
        if a.done and os.path.exists(a.done):
            deadline = min(deadline, os.path.getmtime(a.done) + 3 - time.time() + time.monotonic())
        try:
            data, frm = s.recvfrom(65535)
        except socket.timeout:
            continue
        got.append((frm[0], data))
    sizes = [int(x) for x in a.sizes.split(",")]
    want = [payload(i, sizes[i % len(sizes)]) for i in range(a.count)]
    same = [d for _, d in got] == want
    srcs = sorted(set(f for f, _ in got))
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"received": len(got), "identical_in_order": same, "sources": srcs}, f)
    print("# mcast-recv: %d of %d datagrams, identical and in order: %s, from %s" %
          (len(got), a.count, same, srcs))
    return 0 if same and (not a.src or srcs == [a.src]) else 1


def cmd_gen_traffic(a):
    """tools/gen-traffic.py, run in this process (scapy is imported once)."""
    import runpy
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                        "gen-traffic.py")
    saved = sys.argv
    sys.argv = [tool] + a.args
    try:
        runpy.run_path(tool, run_name="__main__")
    except SystemExit as e:
        return e.code or 0
    finally:
        sys.argv = saved
    return 0


def cmd_gen_traffic_spec(a):
    """tools/gen-traffic.py with one stream per SA of SPEC (source, group, dport)."""
    args = ["-o", a.out, "--count", str(a.count)]
    for sa in load_spec(a.spec):
        args += ["--stream", "%s,%s,%d" % (sa["source"], sa["group"], sa["dport"])]
    return cmd_gen_traffic(argparse.Namespace(args=args))


def cmd_multi(a):
    """Several subcommands in one process: each argument is one command line (shell words)."""
    import shlex
    rc = 0
    for line in a.commands:
        r = main(shlex.split(line))
        rc = rc or r
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("multi")
    p.add_argument("commands", nargs="+")
    p.set_defaults(fn=cmd_multi)
    p = sub.add_parser("gen-traffic", help="the remaining arguments go to tools/gen-traffic.py")
    p.set_defaults(fn=cmd_gen_traffic)
    p = sub.add_parser("gen-traffic-spec")
    p.add_argument("spec")
    p.add_argument("out")
    p.add_argument("--count", type=int, default=20)
    p.set_defaults(fn=cmd_gen_traffic_spec)
    p = sub.add_parser("gen")
    p.add_argument("spec")
    p.add_argument("out")
    p.add_argument("--sizes", default="64,512,1420")
    p.add_argument("--count", type=int, default=10)
    p.set_defaults(fn=cmd_gen)
    p = sub.add_parser("mkconf")
    p.add_argument("spec")
    p.add_argument("out")
    p.add_argument("--dir", choices=("sender", "receiver"), default="receiver",
                   help="for SPEC entries without a \"dir\"")
    p.add_argument("--replay-window", type=int, default=1024)
    p.add_argument("--dev0", default="net_pcap0")
    p.add_argument("--dev1", default="net_pcap1")
    p.set_defaults(fn=cmd_mkconf)
    p = sub.add_parser("check-esp")
    p.add_argument("spec")
    p.add_argument("plain")
    p.add_argument("esp")
    p.add_argument("--label", default="oracle")
    p.add_argument("--wrong-key", action="store_true", help="also run the negative controls")
    p.set_defaults(fn=cmd_check_esp)
    p = sub.add_parser("encrypt")
    p.add_argument("spec")
    p.add_argument("plain")
    p.add_argument("out")
    p.add_argument("--esn-hi", type=int, default=0, help="high 32 bits of the ESN (ESN SAs)")
    p.add_argument("--seq-base", type=int, default=0, help="first sequence number - 1")
    p.add_argument("--tamper", action="store_true", help="flip a bit of every ICV")
    p.set_defaults(fn=cmd_encrypt)
    p = sub.add_parser("compare")
    p.add_argument("out")
    p.add_argument("expect", nargs="+", help="pcap of sent frames, FILE or FILE:TTL_DECREMENT")
    p.add_argument("--mac", action="store_true")
    p.add_argument("--what", default="compare")
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("cat")
    p.add_argument("out")
    p.add_argument("inputs", nargs="*")
    p.set_defaults(fn=cmd_cat)
    p = sub.add_parser("spec-from-conf")
    p.add_argument("conf")
    p.add_argument("out")
    p.set_defaults(fn=cmd_spec_from_conf)
    p = sub.add_parser("secgw-cfg")
    p.add_argument("out")
    p.add_argument("--inbound")
    p.add_argument("--outbound")
    p.set_defaults(fn=cmd_secgw_cfg)
    p = sub.add_parser("tel-wait")
    p.add_argument("prefix")
    p.add_argument("want", nargs="+", help="PORT:FIELD=VALUE from /ethdev/stats")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--pid", type=int, help="give up when this process has exited")
    p.set_defaults(fn=cmd_tel_wait)
    p = sub.add_parser("tshark-uat")
    p.add_argument("spec")
    p.add_argument("--wrong-key", action="store_true")
    p.set_defaults(fn=cmd_tshark_uat)
    p = sub.add_parser("tshark-check")
    p.add_argument("spec")
    p.add_argument("esp")
    p.add_argument("--plain")
    p.add_argument("--wrong-key", action="store_true")
    p.add_argument("--count", type=int, help="frames expected per SA (without --plain)")
    p.add_argument("--label", default="tshark")
    p.set_defaults(fn=cmd_tshark_check)
    p = sub.add_parser("mcast-send")
    p.add_argument("group")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--src")
    p.add_argument("--ifname")
    p.add_argument("--gap", type=float, default=2.0, help="milliseconds between datagrams")
    p.add_argument("--sizes", default="100,1000,1400")
    p.set_defaults(fn=cmd_mcast_send)
    p = sub.add_parser("mcast-recv")
    p.add_argument("group")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("out")
    p.add_argument("--src")
    p.add_argument("--ifname")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--ready", help="file created once the socket has joined")
    p.add_argument("--done", help="file the caller creates once the sender is done: then wait "
                   "at most 3 s more")
    p.add_argument("--sizes", default="100,1000,1400")
    p.set_defaults(fn=cmd_mcast_recv)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gen-traffic"]:
        return cmd_gen_traffic(argparse.Namespace(args=argv[1:]))
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
