-- SPDX-License-Identifier: BSD-3-Clause
--[[
gsakmp.lua: Wireshark dissector for GSAKMP (RFC 4535) as msecgw speaks it, the profile of
doc/gsakmp-profile.md (section "Reading captures" lists the fields and preferences).

  tshark -X lua_script:tools/wireshark/gsakmp.lua -r capture.pcap -V
  or copy this file to ~/.local/lib/wireshark/plugins/ (Wireshark and tshark load it at start)

UDP and TCP port 3761 (preference gsakmp.port). Every payload type of the profile is decoded;
KEK-protected payloads (Policy Token data, Key Download, Rekey Event Data) are shown as
IV || ciphertext || tag (AES-256-GCM) or as an RFC 5649 blob, and decrypted when a key is
configured (preferences gsakmp.keys and gsakmp.key_file, e.g. `gsakmp-sample -k` output):
AES, GHASH, RFC 5649 unwrap and HKDF-SHA-256 are implemented below in plain Lua, since
Wireshark's Lua API has no cipher. Keys found in decrypted Key Downloads and Rekey Events are
used for the messages that follow.

Bad input never raises a Lua error: every read is preceded by a length check, findings become
expert info (gsakmp.expert.*), and each payload is dissected under pcall so that a bug in one
cannot hide the others.
]]

-- ---------------------------------------------------------------- bit operations
-- Lua 5.2 (Wireshark 4.0, what the tests run) has bit32; Lua 5.3 and later have operators instead,
-- compiled at run time so that this file still parses on 5.2 (that path is untested here).
local bit = bit32
if bit == nil then
	bit = load([[
		local M = 0xffffffff
		local b = {}
		function b.band(x, y, z) x = x & y if z then x = x & z end return x & M end
		function b.bor(x, y, z, w)
			x = x | y if z then x = x | z end if w then x = x | w end return x & M
		end
		function b.bxor(x, y, z, w, v)
			x = x ~ y
			if z then x = x ~ z end
			if w then x = x ~ w end
			if v then x = x ~ v end
			return x & M
		end
		function b.bnot(x) return ~x & M end
		function b.lshift(x, n) return (x << n) & M end
		function b.rshift(x, n) return (x & M) >> n end
		function b.rrotate(x, n) x = x & M return ((x >> n) | (x << (32 - n))) & M end
		return b
	]])()
end
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local lshift, rshift, rrotate = bit.lshift, bit.rshift, bit.rrotate
local sbyte, schar, srep, concat = string.byte, string.char, string.rep, table.concat

local function be32(s, i)
	local a, b, c, d = sbyte(s, i, i + 3)
	return ((a * 256 + b) * 256 + c) * 256 + d
end

local function w2s(w)
	return schar(rshift(w, 24), band(rshift(w, 16), 255), band(rshift(w, 8), 255), band(w, 255))
end

-- ---------------------------------------------------------------- AES (FIPS 197)
local SBOX, INV = {}, {}
local TE0, TE1, TE2, TE3, TD0, TD1, TD2, TD3 = {}, {}, {}, {}, {}, {}, {}, {}

local function xtime(x)
	return band(bxor(lshift(x, 1), band(x, 0x80) ~= 0 and 0x1b or 0), 0xff)
end

local function gmul8(a, b)
	local r = 0
	while b > 0 do
		if b % 2 == 1 then
			r = bxor(r, a)
		end
		a = xtime(a)
		b = (b - b % 2) / 2
	end
	return r
end

do
	-- The S-box from its definition (FIPS 197 §5.1.1): p walks the powers of 3 in GF(2^8), q
	-- the powers of its inverse, so q = 1/p; then the affine map.
	local function rotl8(x, s)
		return band(bor(lshift(x, s), rshift(x, 8 - s)), 0xff)
	end
	local p, q = 1, 1
	repeat
		p = band(bxor(p, lshift(p, 1), band(p, 0x80) ~= 0 and 0x1b or 0), 0xff)
		q = bxor(q, lshift(q, 1))
		q = bxor(q, lshift(q, 2))
		q = band(bxor(q, lshift(q, 4)), 0xff)
		if band(q, 0x80) ~= 0 then
			q = bxor(q, 0x09)
		end
		SBOX[p] = bxor(bxor(q, rotl8(q, 1), rotl8(q, 2)), rotl8(q, 3), rotl8(q, 4), 0x63)
	until p == 1
	SBOX[0] = 0x63
	for x = 0, 255 do
		INV[SBOX[x]] = x
	end
	for x = 0, 255 do
		local s, v = SBOX[x], INV[x]
		local w = bor(lshift(xtime(s), 24), lshift(s, 16), lshift(s, 8), bxor(xtime(s), s))
		TE0[x], TE1[x], TE2[x], TE3[x] = w, rrotate(w, 8), rrotate(w, 16), rrotate(w, 24)
		w = bor(lshift(gmul8(v, 14), 24), lshift(gmul8(v, 9), 16), lshift(gmul8(v, 13), 8),
			gmul8(v, 11))
		TD0[x], TD1[x], TD2[x], TD3[x] = w, rrotate(w, 8), rrotate(w, 16), rrotate(w, 24)
	end
end

local function subword(t)
	return bor(lshift(SBOX[rshift(t, 24)], 24), lshift(SBOX[band(rshift(t, 16), 255)], 16),
		lshift(SBOX[band(rshift(t, 8), 255)], 8), SBOX[band(t, 255)])
end

-- AES-256 key schedule, and the equivalent inverse cipher's (FIPS 197 §5.3.5).
local function aes_key(key)
	local w, d = {}, {}
	for i = 0, 7 do
		w[i] = be32(key, 4 * i + 1)
	end
	local rcon = 1
	for i = 8, 59 do
		local t = w[i - 1]
		if i % 8 == 0 then
			t = bxor(subword(rrotate(t, 24)), lshift(rcon, 24))
			rcon = xtime(rcon)
		elseif i % 8 == 4 then
			t = subword(t)
		end
		w[i] = bxor(w[i - 8], t)
	end
	for r = 0, 14 do
		for c = 0, 3 do
			local x = w[4 * (14 - r) + c]
			if r > 0 and r < 14 then
				x = bxor(TD0[SBOX[rshift(x, 24)]], TD1[SBOX[band(rshift(x, 16),
					255)]],
					TD2[SBOX[band(rshift(x, 8), 255)]], TD3[SBOX[band(x, 255)]])
			end
			d[4 * r + c] = x
		end
	end
	return { e = w, d = d }
end

local function aes_enc(k, a, b, c, d)
	local rk = k.e
	a, b, c, d = bxor(a, rk[0]), bxor(b, rk[1]), bxor(c, rk[2]), bxor(d, rk[3])
	for i = 4, 52, 4 do
		a, b, c, d =
			bxor(TE0[rshift(a, 24)], TE1[band(rshift(b, 16), 255)],
				TE2[band(rshift(c, 8), 255)], TE3[band(d, 255)], rk[i]),
			bxor(TE0[rshift(b, 24)], TE1[band(rshift(c, 16), 255)],
				TE2[band(rshift(d, 8), 255)], TE3[band(a, 255)], rk[i + 1]),
			bxor(TE0[rshift(c, 24)], TE1[band(rshift(d, 16), 255)],
				TE2[band(rshift(a, 8), 255)], TE3[band(b, 255)], rk[i + 2]),
			bxor(TE0[rshift(d, 24)], TE1[band(rshift(a, 16), 255)],
				TE2[band(rshift(b, 8), 255)], TE3[band(c, 255)], rk[i + 3])
	end
	local function last(x, y, z, w, r)
		return bxor(bor(lshift(SBOX[rshift(x, 24)], 24), lshift(SBOX[band(rshift(y, 16),
			255)], 16),
			lshift(SBOX[band(rshift(z, 8), 255)], 8), SBOX[band(w, 255)]), r)
	end
	return last(a, b, c, d, rk[56]), last(b, c, d, a, rk[57]), last(c, d, a, b, rk[58]),
		last(d, a, b, c, rk[59])
end

local function aes_dec(k, a, b, c, d)
	local rk = k.d
	a, b, c, d = bxor(a, rk[0]), bxor(b, rk[1]), bxor(c, rk[2]), bxor(d, rk[3])
	for i = 4, 52, 4 do
		a, b, c, d =
			bxor(TD0[rshift(a, 24)], TD1[band(rshift(d, 16), 255)],
				TD2[band(rshift(c, 8), 255)], TD3[band(b, 255)], rk[i]),
			bxor(TD0[rshift(b, 24)], TD1[band(rshift(a, 16), 255)],
				TD2[band(rshift(d, 8), 255)], TD3[band(c, 255)], rk[i + 1]),
			bxor(TD0[rshift(c, 24)], TD1[band(rshift(b, 16), 255)],
				TD2[band(rshift(a, 8), 255)], TD3[band(d, 255)], rk[i + 2]),
			bxor(TD0[rshift(d, 24)], TD1[band(rshift(c, 16), 255)],
				TD2[band(rshift(b, 8), 255)], TD3[band(a, 255)], rk[i + 3])
	end
	local function last(x, y, z, w, r)
		return bxor(bor(lshift(INV[rshift(x, 24)], 24), lshift(INV[band(rshift(y, 16),
			255)], 16),
			lshift(INV[band(rshift(z, 8), 255)], 8), INV[band(w, 255)]), r)
	end
	return last(a, d, c, b, rk[56]), last(b, a, d, c, rk[57]), last(c, b, a, d, rk[58]),
		last(d, c, b, a, rk[59])
end

-- ---------------------------------------------------------------- GCM (NIST SP 800-38D)
-- GHASH with Shoup's 4-bit tables: M[n] = n * H for the 16 nibbles, LAST4 the reduction of the
-- four bits shifted out.
local LAST4 = { [0] = 0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0 }

local function ghash_table(h1, h2, h3, h4)
	local m1, m2, m3, m4 = { [0] = 0, [8] = h1 }, { [0] = 0, [8] = h2 }, { [0] = 0, [8] = h3 },
		{ [0] = 0, [8] = h4 }
	local i = 4
	while i > 0 do
		-- M[i] = M[2i] * x: a right shift by one bit, reduced by x^128 = x^7 + x^2 + x + 1
		local lsb = band(h4, 1)
		h4 = bor(rshift(h4, 1), lshift(band(h3, 1), 31))
		h3 = bor(rshift(h3, 1), lshift(band(h2, 1), 31))
		h2 = bor(rshift(h2, 1), lshift(band(h1, 1), 31))
		h1 = rshift(h1, 1)
		if lsb == 1 then
			h1 = bxor(h1, 0xe1000000)
		end
		m1[i], m2[i], m3[i], m4[i] = h1, h2, h3, h4
		i = rshift(i, 1)
	end
	for _, j in ipairs({ 2, 4, 8 }) do
		for l = 1, j - 1 do
			m1[j + l], m2[j + l] = bxor(m1[j], m1[l]), bxor(m2[j], m2[l])
			m3[j + l], m4[j + l] = bxor(m3[j], m3[l]), bxor(m4[j], m4[l])
		end
	end
	return { m1, m2, m3, m4 }
end

-- (x1..x4) * H: the 32 nibbles from the last (x^124..x^127) to the first
local LAST4S = {}
for i = 0, 15 do
	LAST4S[i] = lshift(LAST4[i], 16)
end

local function gmul(t, x1, x2, x3, x4)
	local m1, m2, m3, m4 = t[1], t[2], t[3], t[4]
	local z1, z2, z3, z4 = 0, 0, 0, 0
	local w = x4
	for step = 0, 31 do
		if step == 8 then
			w = x3
		elseif step == 16 then
			w = x2
		elseif step == 24 then
			w = x1
		end
		local n = band(rshift(w, (step % 8) * 4), 15)
		local rem = band(z4, 15)
		z4 = bxor(rshift(z4, 4), lshift(z3, 28), m4[n])
		z3 = bxor(rshift(z3, 4), lshift(z2, 28), m3[n])
		z2 = bxor(rshift(z2, 4), lshift(z1, 28), m2[n])
		z1 = bxor(rshift(z1, 4), LAST4S[rem], m1[n])
	end
	return z1, z2, z3, z4
end

local function block(s, i)
	local b = s:sub(i, i + 15)
	if #b < 16 then
		b = b .. srep("\0", 16 - #b)
	end
	return be32(b, 1), be32(b, 5), be32(b, 9), be32(b, 13)
end

-- AES-256-GCM decryption with a 12-octet IV; nil when the tag does not verify.
local function gcm_open(k, iv, aad, ct, tag)
	if k.gt == nil then
		k.gt = ghash_table(aes_enc(k, 0, 0, 0, 0))
	end
	local t = k.gt
	local x1, x2, x3, x4 = 0, 0, 0, 0
	for _, s in ipairs({ aad, ct }) do
		for i = 1, #s, 16 do
			local b1, b2, b3, b4 = block(s, i)
			x1, x2, x3, x4 = gmul(t, bxor(x1, b1), bxor(x2, b2), bxor(x3, b3),
				bxor(x4, b4))
		end
	end
	x1, x2, x3, x4 = gmul(t, x1, bxor(x2, #aad * 8), x3, bxor(x4, #ct * 8))
	local j1, j2, j3 = be32(iv, 1), be32(iv, 5), be32(iv, 9)
	local e1, e2, e3, e4 = aes_enc(k, j1, j2, j3, 1)
	local g1, g2, g3, g4 = block(tag, 1)
	if bxor(x1, e1) ~= g1 or bxor(x2, e2) ~= g2 or bxor(x3, e3) ~= g3 or bxor(x4, e4) ~= g4 then
		return nil
	end
	local out, ctr = {}, 2
	for i = 1, #ct, 16 do
		local c1, c2, c3, c4 = block(ct, i)
		local k1, k2, k3, k4 = aes_enc(k, j1, j2, j3, ctr)
		ctr = (ctr + 1) % 4294967296
		out[#out + 1] = w2s(bxor(c1, k1)) .. w2s(bxor(c2, k2)) .. w2s(bxor(c3, k3)) ..
			w2s(bxor(c4, k4))
	end
	return concat(out):sub(1, #ct)
end

-- ---------------------------------------------------------------- key wrap (RFC 5649)
local function kwp_open(k, c)
	local n = #c / 8 - 1
	if #c % 8 ~= 0 or n < 1 then
		return nil
	end
	local a1, a2
	local r = {}
	if n == 1 then
		local p1, p2
		a1, a2, p1, p2 = aes_dec(k, block(c, 1))
		r[1] = { p1, p2 }
	else
		-- RFC 3394 §2.2.2 unwrap; t = n * j + i stays far below 2^32 (n <= 8192)
		a1, a2 = be32(c, 1), be32(c, 5)
		for i = 1, n do
			r[i] = { be32(c, 8 * i + 1), be32(c, 8 * i + 5) }
		end
		for j = 5, 0, -1 do
			for i = n, 1, -1 do
				local ri = r[i]
				a1, a2, ri[1], ri[2] =
					aes_dec(k, a1, bxor(a2, n * j + i), ri[1], ri[2])
			end
		end
	end
	-- the alternative initial value: A65959A6 || message length indicator (RFC 5649 §3)
	if a1 ~= 0xa65959a6 or a2 <= 8 * (n - 1) or a2 > 8 * n then
		return nil
	end
	local out = {}
	for i = 1, n do
		out[i] = w2s(r[i][1]) .. w2s(r[i][2])
	end
	local p = concat(out)
	if p:sub(a2 + 1) ~= srep("\0", 8 * n - a2) then
		return nil
	end
	return p:sub(1, a2)
end

-- ---------------------------------------------------------------- SHA-256, HMAC, HKDF
local K256, H256 = {}, {}
do
	-- FIPS 180-4 §4.2.2, §5.3.3: the first 32 bits of the fractional parts of the cube roots
	-- of the first 64 primes, and of the square roots of the first 8
	local primes, n = {}, 2
	while #primes < 64 do
		local prime = true
		for _, q in ipairs(primes) do
			if q * q > n then
				break
			end
			if n % q == 0 then
				prime = false
				break
			end
		end
		if prime then
			primes[#primes + 1] = n
		end
		n = n + 1
	end
	local function frac32(x)
		return math.floor((x - math.floor(x)) * 4294967296)
	end
	for i = 1, 64 do
		K256[i] = frac32(primes[i] ^ (1 / 3))
	end
	for i = 1, 8 do
		H256[i] = frac32(math.sqrt(primes[i]))
	end
end

local function sha256(msg)
	local len = #msg
	local bits = len * 8
	msg = msg .. "\128" .. srep("\0", (55 - len) % 64) ..
		w2s(math.floor(bits / 4294967296)) .. w2s(bits % 4294967296)
	local h = { H256[1], H256[2], H256[3], H256[4], H256[5], H256[6], H256[7], H256[8] }
	local w = {}
	for off = 1, #msg, 64 do
		for i = 1, 16 do
			w[i] = be32(msg, off + 4 * (i - 1))
		end
		for i = 17, 64 do
			local x, y = w[i - 15], w[i - 2]
			local s0 = bxor(rrotate(x, 7), rrotate(x, 18), rshift(x, 3))
			local s1 = bxor(rrotate(y, 17), rrotate(y, 19), rshift(y, 10))
			w[i] = (w[i - 16] + s0 + w[i - 7] + s1) % 4294967296
		end
		local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
		for i = 1, 64 do
			local s1 = bxor(rrotate(e, 6), rrotate(e, 11), rrotate(e, 25))
			local ch = bxor(band(e, f), band(bnot(e), g))
			local t1 = (hh + s1 + ch + K256[i] + w[i]) % 4294967296
			local s0 = bxor(rrotate(a, 2), rrotate(a, 13), rrotate(a, 22))
			local maj = bxor(band(a, b), band(a, c), band(b, c))
			hh, g, f, e, d, c, b, a = g, f, e, (d + t1) % 4294967296, c, b, a,
				(t1 + s0 + maj) % 4294967296
		end
		h[1], h[2], h[3], h[4] = (h[1] + a) % 4294967296, (h[2] + b) % 4294967296,
			(h[3] + c) % 4294967296, (h[4] + d) % 4294967296
		h[5], h[6], h[7], h[8] = (h[5] + e) % 4294967296, (h[6] + f) % 4294967296,
			(h[7] + g) % 4294967296, (h[8] + hh) % 4294967296
	end
	local out = {}
	for i = 1, 8 do
		out[i] = w2s(h[i])
	end
	return concat(out)
end

local function hmac_sha256(key, msg)
	if #key > 64 then
		key = sha256(key)
	end
	key = key .. srep("\0", 64 - #key)
	local ip, op = {}, {}
	for i = 1, 64 do
		local b = sbyte(key, i)
		ip[i] = schar(bxor(b, 0x36))
		op[i] = schar(bxor(b, 0x5c))
	end
	return sha256(concat(op) .. sha256(concat(ip) .. msg))
end

-- HKDF-SHA-256 (RFC 5869) for at most 32 octets of output: one expansion block.
local function hkdf32(salt, ikm, info)
	local prk = hmac_sha256(salt, ikm)
	return hmac_sha256(prk, info .. "\1")
end

-- ---------------------------------------------------------------- protocol constants
local PORT = 3761
local PROFILE_VID = "msecgw-gsakmp-01"
local MAX_MSG = 1048576                     -- longest message (doc/gsakmp-profile.md §3)
local GCM, KWP = 49153, 49154               -- KEK protection mechanisms (§7.1)
local KEY_AES_256_KEK = 49158

local gid_types = { [1] = "UTF-8", [2] = "Octet String", [3] = "IPv4", [4] = "IPv6" }

local payload_types = {
	[0] = "None", [1] = "Policy Token", [2] = "Key Download", [3] = "Rekey Event",
	[4] = "Identification", [5] = "Reserved", [6] = "Certificate", [7] = "Reserved",
	[8] = "Signature", [9] = "Notification", [10] = "Vendor ID", [11] = "Key Creation",
	[12] = "Nonce",
}
local payload_abbrev = {
	[1] = "PT", [2] = "KD", [3] = "RE", [4] = "ID", [6] = "CERT", [8] = "SIG", [9] = "N",
	[10] = "VID", [11] = "KC", [12] = "NONCE",
}

local exch_types = {
	[4] = "Key Download - Ack/Failure", [5] = "Rekey Event", [8] = "Request to Join",
	[9] = "Key Download", [10] = "Cookie Download", [11] = "Request to Join Error",
	[12] = "Lack of Ack", [13] = "Request to Depart", [14] = "Departure Response",
	[15] = "Departure Ack",
}

local pt_types = { [0] = "Reserved", [1] = "ASN.1 v1 (RFC 4534 token)" }

local kdd_types = { [0] = "GTPK", [1] = "Rekey - LKH", [193] = "Data SA (msecgw profile)" }

local key_types = {
	[0] = "Reserved", [3] = "3DES_CBC64_192", [12] = "AES_CBC_128", [13] = "AES_CTR",
	[49153] = "AES-GCM-128 (msecgw)", [49154] = "AES-GCM-256 (msecgw)",
	[49155] = "AES-GMAC-128 (msecgw)", [49156] = "AES-CBC-128 + HMAC-SHA-256-128 (msecgw)",
	[49157] = "NULL + HMAC-SHA-256-128 (msecgw)", [49158] = "AES-256 KEK (msecgw LKH node key)",
	[49159] = "AES-CTR-128 + HMAC-SHA-256-128 (msecgw)",
}
-- Key Data octets of each Key Type (§8.2): a Rekey Array's datums carry no length
local key_lens = {
	[3] = 24, [12] = 16, [13] = 20, [49153] = 20, [49154] = 36, [49155] = 20, [49156] = 48,
	[49157] = 32, [49158] = 32, [49159] = 52,
}

local attr_types = {
	[1] = "SPI", [2] = "Suite", [3] = "Flags", [4] = "SID length", [5] = "SIDs",
	[6] = "Activation delay", [7] = "Deactivation delay", [8] = "Replay window",
	[9] = "Group address", [10] = "Source address", [11] = "TESLA",
}
-- which attributes carry the critical bit (§9)
local attr_critical = {
	[1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [9] = true, [10] = true,
	[11] = true,
}
-- the gateway's configuration names (doc/gsakmp-profile.md §9)
local suites = {
	[1] = "aes-gcm-128", [2] = "aes-gcm-256", [3] = "aes-gmac-128",
	[4] = "aes-cbc-128+hmac-sha256-128", [5] = "null-hmac-sha256-128",
	[6] = "aes-ctr-128-hmac-sha256-128",
}
local SUITE_NULL = 5  -- no IV: one TESLA sender, SID 0, no AES-GMAC
-- TESLA MAC functions (doc/wire-format.md §7.4)
local tesla_macs = { [1] = "HMAC-SHA-256-128", [2] = "AES-128-GMAC" }

local rekey_types = { [0] = "None (policy token only)", [1] = "GSAKMP_LKH" }

local id_classes = { [0] = "Sender", [1] = "Receiver", [2] = "Third party" }
local id_types = {
	[1] = "ID_IPV4_ADDR", [2] = "ID_FQDN", [3] = "ID_RFC822_ADDR", [5] = "ID_IPV6_ADDR",
	[9] = "ID_DER_ASN1_DN", [11] = "ID_KEY_ID", [30] = "ID_U_NAME", [31] = "ID_DN_STRING",
}

local cert_types = {
	[0] = "Reserved", [1] = "PKCS #7 wrapped X.509 certificate", [2] = "PGP Certificate",
	[3] = "DNS Signed Key", [4] = "X.509 Certificate - Signature",
	[5] = "X.509 Certificate - Key Exchange", [6] = "Kerberos Tokens",
	[7] = "Certificate Revocation List (CRL)", [8] = "Authority Revocation List (ARL)",
	[9] = "SPKI Certificate", [10] = "X.509 Certificate - Attribute", [11] = "Raw RSA Key",
	[12] = "Hash and URL of X.509 certificate", [13] = "Hash and URL of X.509 bundle",
}

local sig_types = {
	[0] = "DSS-SHA1", [1] = "RSA1024-MD5", [2] = "ECDSA-P384-SHA3-384",
	[49153] = "ECDSA-P256-SHA256 (msecgw)", [49154] = "Ed25519 (msecgw)",
}

local notify_types = {
	[1] = "Invalid-Payload-Type", [4] = "Invalid-Version", [5] = "Invalid-GroupID",
	[6] = "Invalid-Sequence-ID", [7] = "Payload-Malformed", [8] = "Invalid-Key-Information",
	[9] = "Invalid-ID-Information", [12] = "Cert-Type-Unsupported",
	[13] = "Invalid-Cert-Authority", [14] = "Authentication-Failed",
	[17] = "Certificate-Unavailable", [19] = "Unauthorized-Request", [23] = "Acknowledgement",
	[26] = "NACK", [27] = "Cookie-Required", [28] = "Cookie", [29] = "Mechanism Choices",
	[30] = "Leave Group", [31] = "Departure Accepted", [32] = "Request to Depart Error",
	[33] = "Invalid Exchange Type", [34] = "IPv4 Value", [35] = "IPv6 Value",
	[36] = "Prohibited by Group Policy", [37] = "Prohibited by Locally Configured Policy",
}
local ack_types = { [0] = "Simple" }
local mech_types = {
	[0] = "Key Creation Algorithm", [1] = "Encryption Algorithm", [2] = "Nonce Hash Algorithm",
}
local mech_choices = {
	[0] = { [2] = "DH 1024 MODP", [14] = "DH 2048 MODP", [49153] = "X25519 (msecgw)" },
	[1] = { [49153] = "AES-256-GCM (msecgw)",
		[49154] = "AES-256 key wrap with padding (msecgw)" },
	[2] = { [1] = "SHA-1", [49153] = "SHA-256 (msecgw)" },
}
local kek_mechs = { [GCM] = "AES-256-GCM", [KWP] = "AES-256 key wrap with padding (RFC 5649)" }

local kc_types = { [2] = "DH 1024 MODP", [14] = "DH 2048 MODP", [49153] = "X25519 (msecgw)" }
local nonce_types = { [1] = "Nonce_I", [2] = "Nonce_R", [3] = "Nonce_C" }

-- Payload counts of each exchange (§4.1): { min, max }, "pair" = 0 or 2; payloads not listed are
-- not carried; Certificates are allowed everywhere.
local INF = math.huge
local dissections = {
	[8] = { [11] = { 1, 1 }, [12] = { 1, 1 }, [10] = { 0, 1 }, [9] = { 0, 4 }, [8] = { 1, 1 } },
	[10] = { [9] = { 1, 1 }, [10] = { 0, 1 } },
	[9] = { [4] = { 1, 1 }, [12] = "pair", [11] = { 1, 1 }, [1] = { 1, 1 }, [2] = { 1, 1 },
		[10] = { 0, 1 }, [8] = { 1, 1 } },
	[4] = { [12] = { 0, 1 }, [9] = { 1, 1 }, [10] = { 0, 1 }, [8] = { 1, 1 } },
	[11] = { [12] = { 0, 1 }, [9] = { 1, 1 }, [10] = { 0, 1 } },
	[12] = { [4] = { 1, 1 }, [12] = "pair", [9] = { 1, 1 }, [10] = { 0, 1 }, [8] = { 1, 1 } },
	[5] = { [1] = { 0, 1 }, [3] = { 1, INF }, [10] = { 0, 1 }, [8] = { 1, 1 } },
	[13] = { [4] = { 1, 1 }, [12] = { 0, 1 }, [9] = { 1, 1 }, [10] = { 0, 1 }, [8] = { 1, 1 } },
	[14] = { [4] = { 1, 1 }, [12] = "pair", [9] = { 1, 1 }, [10] = { 0, 1 }, [8] = { 1, 1 } },
	[15] = { [12] = { 0, 1 }, [9] = { 1, 1 }, [10] = { 0, 1 }, [8] = { 1, 1 } },
}

-- ---------------------------------------------------------------- protocol, fields, experts
local gsakmp = Proto("gsakmp", "Group Secure Association Key Management Protocol (msecgw)")

local function name_of(t, v)
	return t[v] or "Unknown"
end

local F, fields = {}, {}
local function field(key, ctor, abbr, ...)
	F[key] = ctor("gsakmp." .. abbr, ...)
	fields[#fields + 1] = F[key]
end

-- header
field("gid_type", ProtoField.uint8, "gid_type", "GroupID Type", base.DEC, gid_types)
field("gid_len", ProtoField.uint8, "gid_len", "GroupID Length", base.DEC)
field("gid", ProtoField.bytes, "gid", "GroupID Value")
field("gid_random", ProtoField.bytes, "gid.random", "Random element")
field("gid_name", ProtoField.string, "gid.name", "Group name")
field("gid_ipv4", ProtoField.ipv4, "gid.ipv4", "Group address")
field("gid_ipv6", ProtoField.ipv6, "gid.ipv6", "Group address")
field("next_payload", ProtoField.uint8, "next_payload", "Next Payload", base.DEC, payload_types)
field("version", ProtoField.uint8, "version", "Version", base.DEC)
field("exchange_type", ProtoField.uint8, "exchange_type", "Exchange Type", base.DEC, exch_types)
field("seq_id", ProtoField.uint32, "seq_id", "Sequence ID", base.DEC)
field("length", ProtoField.uint32, "length", "Length", base.DEC)
field("profile", ProtoField.bool, "profile", "msecgw profile (Vendor ID present)")

-- generic payload header
field("payload", ProtoField.none, "payload", "Payload")
field("pl_type", ProtoField.uint8, "payload.type", "Payload Type", base.DEC, payload_types)
field("pl_next", ProtoField.uint8, "payload.next", "Next Payload", base.DEC, payload_types)
field("pl_reserved", ProtoField.uint8, "payload.reserved", "RESERVED", base.HEX)
field("pl_length", ProtoField.uint16, "payload.length", "Payload Length", base.DEC)
field("pl_data", ProtoField.bytes, "payload.data", "Payload Data")

-- KEK-protected data
field("sealed", ProtoField.none, "sealed", "KEK-protected data")
field("sealed_iv", ProtoField.bytes, "sealed.iv", "IV")
field("sealed_ct", ProtoField.bytes, "sealed.ciphertext", "Ciphertext")
field("sealed_tag", ProtoField.bytes, "sealed.tag", "Tag")
field("sealed_wrapped", ProtoField.bytes, "sealed.wrapped", "Wrapped data (RFC 5649)")
field("sealed_mech", ProtoField.uint16, "sealed.mechanism", "Mechanism", base.DEC, kek_mechs)
field("sealed_decrypted", ProtoField.bool, "sealed.decrypted", "Decrypted")
field("sealed_key", ProtoField.string, "sealed.key", "Decrypted with")
field("plaintext", ProtoField.none, "sealed.plaintext", "Decrypted data")

-- Policy Token
field("pt_type", ProtoField.uint16, "pt.type", "PT Type", base.DEC, pt_types)
field("pt_data", ProtoField.bytes, "pt.data", "PT Data")

-- Key Download contents and Key Packages
field("kd_nitems", ProtoField.uint16, "kd.nitems", "Number of Items", base.DEC)
field("kd_item", ProtoField.none, "kd.item", "Item")
field("kd_item_type", ProtoField.uint8, "kd.item.type", "KDD Item Type", base.DEC, kdd_types)
field("kd_item_length", ProtoField.uint16, "kd.item.length", "Item Length", base.DEC)
field("kpkg_count", ProtoField.uint16, "kpkg.count", "Number of Key Packages", base.DEC)
field("kpkg_type", ProtoField.uint8, "kpkg.type", "KeyPkg Type", base.DEC, kdd_types)
field("kpkg_length", ProtoField.uint16, "kpkg.length", "Key Package Length", base.DEC)
field("key", ProtoField.none, "kd.key", "Key Datum")
field("key_type", ProtoField.uint16, "kd.key.type", "Key Type", base.DEC, key_types)
field("key_id", ProtoField.uint32, "kd.key.id", "Key ID", base.DEC)
field("key_handle", ProtoField.uint32, "kd.key.handle", "Key Handle", base.DEC)
field("key_created", ProtoField.string, "kd.key.created", "Key Creation Date")
field("key_expires", ProtoField.string, "kd.key.expires", "Key Expiration Date")
field("key_data", ProtoField.bytes, "kd.key.data", "Key Data")
field("ra_version", ProtoField.uint8, "kd.ra.version", "Rekey Version#", base.DEC)
field("ra_member", ProtoField.uint32, "kd.ra.member_id", "Member ID", base.DEC)
field("ra_nkeys", ProtoField.uint16, "kd.ra.nkeys", "Number of KEK Keys", base.DEC)
field("sa_key_id", ProtoField.uint32, "kd.sa.key_id", "Key ID of the GTPK", base.DEC)
field("sa_key_handle", ProtoField.uint32, "kd.sa.key_handle", "Key Handle of the GTPK", base.DEC)
field("attr", ProtoField.none, "kd.attr", "Attribute")
field("attr_type", ProtoField.uint16, "kd.attr.type", "Type", base.DEC, attr_types, 0x7fff)
field("attr_critical", ProtoField.bool, "kd.attr.critical", "Critical", 16, nil, 0x8000)
field("attr_length", ProtoField.uint16, "kd.attr.length", "Length", base.DEC)
field("attr_value", ProtoField.bytes, "kd.attr.value", "Value")
field("spi", ProtoField.uint32, "kd.spi", "SPI", base.HEX)
field("suite", ProtoField.uint16, "kd.suite", "Suite", base.DEC, suites)
field("flags", ProtoField.uint32, "kd.flags", "Flags", base.HEX)
field("flag_psrc", ProtoField.bool, "kd.flags.preserve_src", "Preserve source address", 32,
	nil, 0x1)
field("flag_pdst", ProtoField.bool, "kd.flags.preserve_dst", "Preserve destination address",
	32, nil, 0x2)
field("flag_esn", ProtoField.bool, "kd.flags.esn", "Extended sequence numbers", 32, nil, 0x4)
field("flag_send", ProtoField.bool, "kd.flags.send", "This member sends", 32, nil, 0x8)
field("flag_recv", ProtoField.bool, "kd.flags.receive", "This member receives", 32, nil, 0x10)
field("flag_rsvd", ProtoField.uint32, "kd.flags.reserved", "Reserved bits", base.HEX, nil,
	0xffffffe0)
field("sid_bits", ProtoField.uint8, "kd.sid_bits", "SID length (bits)", base.DEC)
field("sid", ProtoField.uint16, "kd.sid", "SID", base.DEC)
field("act_delay", ProtoField.uint32, "kd.act_delay", "Activation delay (ms)", base.DEC)
field("deact_delay", ProtoField.uint32, "kd.deact_delay", "Deactivation delay (ms)", base.DEC)
field("replay_window", ProtoField.uint32, "kd.replay_window", "Replay window", base.DEC)
field("group_addr", ProtoField.ipv4, "kd.group_addr", "Group address")
field("group_addr6", ProtoField.ipv6, "kd.group_addr6", "Group address")
field("source_addr", ProtoField.ipv4, "kd.source_addr", "Source address")
field("source_addr6", ProtoField.ipv6, "kd.source_addr6", "Source address")
field("tesla_interval", ProtoField.uint32, "kd.tesla.interval", "Interval T_int (ms)", base.DEC)
field("tesla_d", ProtoField.uint8, "kd.tesla.d", "Disclosure delay d (intervals)", base.DEC)
field("tesla_mac", ProtoField.uint8, "kd.tesla.mac", "MAC function", base.DEC, tesla_macs)
field("tesla_reserved", ProtoField.bytes, "kd.tesla.reserved", "Reserved")
field("tesla_t0", ProtoField.uint64, "kd.tesla.t0", "T_0 (ms since the epoch)", base.DEC)
field("tesla_chain", ProtoField.uint32, "kd.tesla.chain_len", "Chain length N + 1", base.DEC)
field("tesla_skew", ProtoField.uint32, "kd.tesla.max_skew", "Maximum clock skew (ms, 0 = none)",
	base.DEC)
field("tesla_senders", ProtoField.uint8, "kd.tesla.senders", "Number of senders", base.DEC)
field("tesla_sender", ProtoField.none, "kd.tesla.sender", "TESLA sender")
field("tesla_nsids", ProtoField.uint8, "kd.tesla.sender.nsids", "Number of SIDs", base.DEC)
field("tesla_sender_chain", ProtoField.uint32, "kd.tesla.sender.chain", "Chain index", base.DEC)
field("tesla_commitment", ProtoField.bytes, "kd.tesla.sender.commitment", "Commitment F(K_0)")
field("tesla_sid", ProtoField.uint16, "kd.tesla.sender.sid", "SID", base.DEC)

-- Rekey Event
field("rekey_type", ProtoField.uint8, "rekey.type", "Rekey Event Type", base.DEC, rekey_types)
field("rekey_gid", ProtoField.bytes, "rekey.gid", "GroupID Value")
field("rekey_ts", ProtoField.string, "rekey.timestamp", "Time/Date Stamp")
field("rekey_type2", ProtoField.uint8, "rekey.type_copy", "Rekey Event Type (copy)", base.DEC,
	rekey_types)
field("rekey_alg", ProtoField.uint8, "rekey.alg_version", "Algorithm Version", base.DEC)
field("rekey_ndata", ProtoField.uint16, "rekey.ndata", "# of Rekey Event Data(s)", base.DEC)
field("red", ProtoField.none, "rekey.data", "Rekey Event Data")
field("red_len", ProtoField.uint16, "rekey.data.length", "Packet Length", base.DEC)
field("red_wrap_id", ProtoField.uint32, "rekey.wrap_id", "Wrapping KeyID", base.DEC)
field("red_wrap_handle", ProtoField.uint32, "rekey.wrap_handle", "Wrapping Key Handle", base.DEC)

-- Identification
field("id_class", ProtoField.uint8, "id.class", "Classification", base.DEC, id_classes)
field("id_type", ProtoField.uint8, "id.type", "ID Type", base.DEC, id_types)
field("id_data", ProtoField.bytes, "id.data", "ID Data")
field("id_ipv4", ProtoField.ipv4, "id.ipv4", "IPv4 address")
field("id_ipv6", ProtoField.ipv6, "id.ipv6", "IPv6 address")
field("id_string", ProtoField.string, "id.string", "Identity")
field("id_serial", ProtoField.bytes, "id.u_name.serial", "Serial number")
field("id_dn_len", ProtoField.uint32, "id.u_name.length", "DN length", base.DEC)
field("id_dn", ProtoField.bytes, "id.u_name.dn", "DN")

-- Certificate
field("cert_type", ProtoField.uint16, "cert.type", "Cert Type", base.DEC, cert_types)
field("cert_length", ProtoField.uint16, "cert.length", "Certificate Data length", base.DEC)
field("cert_data", ProtoField.bytes, "cert.data", "Certificate Data")

-- Signature
field("sig_type", ProtoField.uint16, "sig.type", "Signature Type", base.DEC, sig_types)
field("sig_id_type", ProtoField.uint8, "sig.id_type", "Sig ID Type", base.DEC, id_types)
field("sig_ts", ProtoField.string, "sig.timestamp", "Signature Timestamp")
field("sig_signer_len", ProtoField.uint16, "sig.signer_len", "Signer ID Length", base.DEC)
field("sig_signer", ProtoField.string, "sig.signer", "Signer ID")
field("sig_signer_id", ProtoField.bytes, "sig.signer_id", "Signer ID Data")
field("sig_len", ProtoField.uint16, "sig.length", "Signature Length", base.DEC)
field("sig_data", ProtoField.bytes, "sig.data", "Signature Data")
field("sig_r", ProtoField.bytes, "sig.r", "r")
field("sig_s", ProtoField.bytes, "sig.s", "s")
field("sig_span", ProtoField.uint32, "sig.signed_len", "Signed octets (message start through "
	.. "Signer ID Data)", base.DEC)

-- Notification
field("notify_type", ProtoField.uint16, "notify.type", "Notification Type", base.DEC,
	notify_types)
field("notify_data", ProtoField.bytes, "notify.data", "Notification Data")
field("notify_ack", ProtoField.uint8, "notify.ack_type", "Ack Type", base.DEC, ack_types)
field("cookie", ProtoField.bytes, "notify.cookie", "Cookie")
field("cookie_ver", ProtoField.uint8, "notify.cookie.version", "Secret version", base.DEC)
field("cookie_mac", ProtoField.bytes, "notify.cookie.mac", "HMAC-SHA-256 (first 16 octets)")
field("mech_type", ProtoField.uint8, "notify.mech.type", "Mech Type", base.DEC, mech_types)
field("mech_choice", ProtoField.uint16, "notify.mech.choice", "Choice", base.DEC)
field("notify_ipv4", ProtoField.ipv4, "notify.ipv4", "IPv4 Value")
field("notify_ipv6", ProtoField.ipv6, "notify.ipv6", "IPv6 Value")

-- Vendor ID
field("vid", ProtoField.bytes, "vendor_id", "Vendor ID")
field("vid_string", ProtoField.string, "vendor_id.string", "Vendor ID (text)")
field("vid_msecgw", ProtoField.bool, "vendor_id.msecgw", "msecgw profile Vendor ID")

-- Key Creation, Nonce
field("kc_type", ProtoField.uint16, "kc.type", "KC Type", base.DEC, kc_types)
field("kc_value", ProtoField.bytes, "kc.value", "Key Creation Data")
field("nonce_type", ProtoField.uint8, "nonce.type", "Nonce Type", base.DEC, nonce_types)
field("nonce_data", ProtoField.bytes, "nonce.data", "Nonce Data")

gsakmp.fields = fields

local E, experts = {}, {}
local function expert_info(key, text, group, severity)
	E[key] = ProtoExpert.new("gsakmp.expert." .. key, text, group, severity)
	experts[#experts + 1] = E[key]
end
local G, S = expert.group, expert.severity
expert_info("short", "Shorter than its fixed fields", G.MALFORMED, S.ERROR)
expert_info("length", "Length field disagrees with the octets present", G.MALFORMED, S.ERROR)
expert_info("count", "Count disagrees with the octets present", G.MALFORMED, S.ERROR)
expert_info("trailing", "Octets after the last element", G.MALFORMED, S.WARN)
expert_info("snaplen", "Capture shorter than the packet (snap length)", G.UNDECODED, S.WARN)
expert_info("unknown", "Unknown or reserved value", G.PROTOCOL, S.WARN)
expert_info("reserved", "RESERVED field is not zero", G.PROTOCOL, S.WARN)
expert_info("value", "Value outside what the msecgw profile sends", G.PROTOCOL, S.WARN)
expert_info("timestamp", "Not a YYYYMMDDHHMMSSZ timestamp", G.PROTOCOL, S.WARN)
expert_info("sequence", "Sequence ID against RFC 4535 §7.1.2", G.SEQUENCE, S.WARN)
expert_info("destroy", "Sequence ID 0xFFFFFFFF: the group is destroyed", G.SEQUENCE, S.NOTE)
expert_info("dissection", "Payloads differ from the exchange's dissection", G.PROTOCOL, S.WARN)
expert_info("not_decrypted", "KEK-protected data not decrypted", G.DECRYPTION, S.CHAT)
expert_info("no_key", "No configured or learned key decrypts this", G.DECRYPTION, S.NOTE)
expert_info("decrypted", "KEK-protected data decrypted", G.DECRYPTION, S.CHAT)
expert_info("bug", "Dissector error", G.MALFORMED, S.ERROR)
gsakmp.experts = experts

local MECH_PREF = {
	{ 1, "AES-256-GCM (49153): IV || ciphertext || tag", GCM },
	{ 2, "AES-256 key wrap with padding (49154, RFC 5649)", KWP },
}
gsakmp.prefs.port = Pref.uint("UDP and TCP port", PORT, "GSAKMP port (RFC 4535 §9.1: 3761)")
gsakmp.prefs.keys = Pref.string("Keys", "",
	"Keys to decrypt KEK-protected payloads, separated by spaces, commas or semicolons: " ..
	"HEX (a 32-octet KEK: registration KEK or LKH node key) or ID:HANDLE:HEX (a key datum: " ..
	"used as a KEK if 32 octets, and through HKDF with its Key ID and Handle, profile §7.3)")
gsakmp.prefs.key_file = Pref.string("Key file", "",
	"File of keys, one a line, '#' comments: the hex key is the last word; 'id N handle M' " ..
	"or an ID:HANDLE: prefix names a key datum (the format `gsakmp-sample -k` prints)")
gsakmp.prefs.mechanism = Pref.enum("KEK protection of undecrypted data", GCM,
	"How to show KEK-protected data that no key decrypts (the mechanism is not on the wire)",
	MECH_PREF, false)
gsakmp.prefs.learn = Pref.bool("Learn keys from decrypted payloads", true,
	"Use the keys of decrypted Key Downloads and Rekey Events for the messages that follow")
gsakmp.prefs.x509 = Pref.bool("Dissect certificates as X.509", true,
	"Hand type 4 certificates to Wireshark's X.509 dissector")
gsakmp.prefs.desegment = Pref.bool("Reassemble messages spanning TCP segments", true,
	"Whether the dissector should reassemble messages spanning multiple TCP segments")

-- ---------------------------------------------------------------- key store
-- Candidates are 32-octet KEKs with a label and, for key datums, their Key ID and Handle.
local store = { list = {}, by_kek = {}, version = 0 }
local cache = {}

local function hex_to_raw(h)
	if #h == 0 or #h % 2 ~= 0 or h:find("%X") then
		return nil
	end
	return (h:gsub("%x%x", function(x)
		return schar(tonumber(x, 16))
	end))
end

local function be32s(v)
	return w2s(v % 4294967296)
end

local function add_candidate(kek, label, id, handle)
	if store.by_kek[kek] then
		return
	end
	local c = { kek = kek, label = label, id = id, handle = handle }
	store.by_kek[kek] = c
	store.list[#store.list + 1] = c
	store.version = store.version + 1
end

-- A key datum's KEK (profile §7.3): an AES-256 KEK as it is, any other key through HKDF. When the
-- type is unknown (a key from the preferences) both are candidates.
local function add_key(raw, label, id, handle, ktype)
	if (ktype == nil or ktype == KEY_AES_256_KEK) and #raw == 32 then
		add_candidate(raw, label, id, handle)
	end
	if id ~= nil and ktype ~= KEY_AES_256_KEK then
		local info = "msecgw gsakmp key kek" .. be32s(id) .. be32s(handle)
		add_candidate(hkdf32("", raw, info), label .. " via HKDF", id, handle)
	end
end

local function parse_key_entry(text, label)
	local id, handle, h = text:match("^(%d+):(%d+):(%x+)$")
	if id == nil then
		h = text:match("^(%x+)$")
	end
	local raw = h and hex_to_raw(h)
	if raw == nil then
		return
	end
	add_key(raw, label, tonumber(id), tonumber(handle))
end

local function load_keys()
	store = { list = {}, by_kek = {}, version = 0 }
	cache = {}
	local n = 0
	for entry in (gsakmp.prefs.keys or ""):gmatch("[^%s,;]+") do
		n = n + 1
		parse_key_entry(entry, "preference key " .. n)
	end
	local path = gsakmp.prefs.key_file or ""
	if path ~= "" then
		local f = io.open(path, "r")
		if f ~= nil then
			local ln = 0
			for line in f:lines() do
				ln = ln + 1
				line = line:gsub("#.*", "")
				local word = line:match("(%S+)%s*$")
				if word ~= nil then
					local before = line:sub(1, (line:find("%S+%s*$")) - 1)
					local label = before:gsub("^%s+", ""):gsub("%s+$", "")
					if label == "" then
						label = path:match("[^/\\]*$") .. " line " .. ln
					end
					local id, handle =
						before:match("id%s+(%d+)%s+handle%s+(%d+)")
					local raw = id and hex_to_raw(word)
					if raw ~= nil then
						add_key(raw, label, tonumber(id), tonumber(handle))
					else
						parse_key_entry(word, label)
					end
				end
			end
			f:close()
		end
	end
end

local function learn_key(ktype, id, handle, raw, frame)
	if not gsakmp.prefs.learn or key_lens[ktype] ~= #raw then
		return
	end
	add_key(raw, string.format("%s id %d handle %d (learned in frame %d)",
		ktype == KEY_AES_256_KEK and "node KEK" or (key_types[ktype] .. " key"), id, handle,
		frame), id, handle, ktype)
end

-- Try every candidate, those of the wrapping key first; the result is cached per blob (the
-- random IV makes GCM blobs unique), a failure only until the store grows.
local function open_blob(blob, aad, wrap_id, wrap_handle)
	local hit = cache[blob]
	if hit ~= nil and (hit.plain ~= nil or hit.version == store.version) then
		return hit.plain and hit or nil
	end
	local order = {}
	for _, c in ipairs(store.list) do
		if c.id ~= nil and c.id == wrap_id and c.handle == wrap_handle then
			order[#order + 1] = c
		end
	end
	for _, c in ipairs(store.list) do
		if not (c.id ~= nil and c.id == wrap_id and c.handle == wrap_handle) then
			order[#order + 1] = c
		end
	end
	local res = { version = store.version }
	for _, c in ipairs(order) do
		c.aes = c.aes or aes_key(c.kek)
		local plain, mech
		if #blob >= 28 then
			plain = gcm_open(c.aes, blob:sub(1, 12), aad, blob:sub(13, -17),
				blob:sub(-16))
			mech = GCM
		end
		if plain == nil and #blob >= 16 and #blob % 8 == 0 then
			plain = kwp_open(c.aes, blob)
			mech = KWP
		end
		if plain ~= nil then
			res.plain, res.mech, res.label = plain, mech, c.label
			break
		end
	end
	cache[blob] = res
	return res.plain and res or nil
end

-- ---------------------------------------------------------------- helpers
-- text worth showing as a string: printable ASCII, and UTF-8 (octets from 0x80)
local function printable(s)
	return #s > 0 and s:find("^[%g \128-\255]+$") ~= nil
end

local days = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- "YYYYMMDDHHMMSSZ" (profile §13 item 8) as "YYYY-MM-DD HH:MM:SS UTC", or nil
local function ts_text(s)
	if #s ~= 15 or s:find("^%d%d%d%d%d%d%d%d%d%d%d%d%d%dZ$") == nil then
		return nil
	end
	local y, mo, d = tonumber(s:sub(1, 4)), tonumber(s:sub(5, 6)), tonumber(s:sub(7, 8))
	local h, mi, se = tonumber(s:sub(9, 10)), tonumber(s:sub(11, 12)), tonumber(s:sub(13, 14))
	local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
	if y < 1970 or mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or se > 59 or
			d > days[mo] + ((mo == 2 and leap) and 1 or 0) then
		return nil
	end
	return string.format("%04d-%02d-%02d %02d:%02d:%02d UTC", y, mo, d, h, mi, se)
end

local function add_ts(tree, field_, tvb, off)
	local item = tree:add(field_, tvb(off, 15))
	local t = ts_text(tvb:raw(off, 15))
	if t then
		item:append_text(" (" .. t .. ")")
	else
		item:add_proto_expert_info(E.timestamp)
	end
end

-- a DER SEQUENCE with a definite length that fills exactly len octets (§5.2)
local function der_sequence(tvb, off, len)
	if len < 2 or tvb(off, 1):uint() ~= 0x30 then
		return false
	end
	local l1 = tvb(off + 1, 1):uint()
	if l1 < 0x80 then
		return 2 + l1 == len
	end
	local n = l1 - 0x80
	if n == 0 or n > 3 or len < 2 + n then
		return false
	end
	local l = 0
	for i = 0, n - 1 do
		l = l * 256 + tvb(off + 2 + i, 1):uint()
	end
	return 2 + n + l == len
end

local x509 = nil
do
	local ok, t = pcall(DissectorTable.get, "ber.oid")
	if ok and t ~= nil then
		local ok2, d = pcall(function()
			return t:get_dissector("2.5.4.36")   -- userCertificate: X509AF Certificate
		end)
		if ok2 then
			x509 = d
		end
	end
end

-- ---------------------------------------------------------------- Key Download contents
local dissect_attrs, dissect_datum

-- One Key Datum of len octets (exact = the item length says so) or, in a Rekey Array, of the
-- length its Key Type implies. Returns the octets used, or nil when the walk must stop.
function dissect_datum(tvb, off, len, tree, ctx, exact)
	if len < 40 then
		local item = tree:add(F.key_data, tvb(off, len))
		item:add_proto_expert_info(E.short, "Key Datum shorter than its 40 fixed octets")
		return nil
	end
	local ktype = tvb(off, 2):uint()
	local klen = key_lens[ktype]
	local dlen = exact and len - 40 or klen
	if dlen == nil then
		local item = tree:add(F.key_type, tvb(off, 2))
		item:add_proto_expert_info(E.unknown,
			"Unknown Key Type: a Rekey Array walk stops here")
		return nil
	end
	local truncated = false
	if 40 + dlen > len then
		dlen, truncated = len - 40, true
	end
	local st = tree:add(F.key, tvb(off, 40 + dlen))
	local id, handle = tvb(off + 2, 4):uint(), tvb(off + 6, 4):uint()
	st:set_text(string.format("Key Datum: %s, Key ID %d, Handle %d", name_of(key_types, ktype),
		id, handle))
	local ti = st:add(F.key_type, tvb(off, 2))
	if klen == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	st:add(F.key_id, tvb(off + 2, 4))
	st:add(F.key_handle, tvb(off + 6, 4))
	add_ts(st, F.key_created, tvb, off + 10)
	add_ts(st, F.key_expires, tvb, off + 25)
	if dlen > 0 then
		local kd = st:add(F.key_data, tvb(off + 40, dlen))
		if truncated then
			kd:add_proto_expert_info(E.count, "Key Data runs past the end")
		elseif klen ~= nil and dlen ~= klen then
			kd:add_proto_expert_info(E.length, string.format(
				"Key Data of %d octets, its Key Type has %d", dlen, klen))
		elseif ctx.pinfo ~= nil then
			learn_key(ktype, id, handle, tvb:raw(off + 40, dlen), ctx.pinfo.number)
		end
	end
	if truncated then
		return nil
	end
	return 40 + dlen
end

local function dissect_rekey_array(tvb, off, len, tree, ctx)
	if len < 7 then
		tree:add_proto_expert_info(E.short, "Rekey Array shorter than its 7 fixed octets")
		return
	end
	local vi = tree:add(F.ra_version, tvb(off, 1))
	if tvb(off, 1):uint() ~= 1 then
		vi:add_proto_expert_info(E.unknown)
	end
	tree:add(F.ra_member, tvb(off + 1, 4))
	local n = tvb(off + 5, 2):uint()
	local ni = tree:add(F.ra_nkeys, tvb(off + 5, 2))
	local pos, ends = off + 7, off + len
	for i = 1, n do
		if pos >= ends then
			ni:add_proto_expert_info(E.count,
				string.format("%d keys announced, %d present", n, i - 1))
			return
		end
		local used = dissect_datum(tvb, pos, ends - pos, tree, ctx, false)
		if used == nil then
			return
		end
		pos = pos + used
	end
	if pos < ends then
		tree:add(F.pl_data, tvb(pos, ends - pos)):add_proto_expert_info(E.trailing)
	end
end

local ATTR_LEN = { [1] = 4, [2] = 2, [3] = 4, [4] = 1, [6] = 4, [7] = 4, [8] = 4 }

-- A reserved run of n octets: shown, and flagged unless all zero.
local function reserved_zero(tvb, off, n, tree)
	local it = tree:add(F.tesla_reserved, tvb(off, n))
	for i = 0, n - 1 do
		if tvb(off + i, 1):uint() ~= 0 then
			it:add_proto_expert_info(E.reserved)
			return
		end
	end
end

-- TESLA (§9.1): T_int (4) | d (1) | MAC (1) | reserved (2) | T_0 (8) | chain length (4) |
-- max clock skew (4) | n (1) | reserved (3), then n senders: k (1) | reserved (3) | chain (4) |
-- F(K_0) (32) | k SIDs (2 each). `sa` holds the suite and SID length seen before it.
local TESLA_FIXED, TESLA_SENDER_FIXED = 28, 40
local function dissect_tesla(tvb, off, l, st, sa)
	if l < TESLA_FIXED then
		st:add(F.attr_value, tvb(off, l)):add_proto_expert_info(E.short,
			"TESLA: 28 octets, then its senders")
		return
	end
	local t_int, d, mac = tvb(off, 4):uint(), tvb(off + 4, 1):uint(), tvb(off + 5, 1):uint()
	local it = st:add(F.tesla_interval, tvb(off, 4))
	if t_int == 0 then
		it:add_proto_expert_info(E.value, "T_int must be at least 1 ms")
	end
	it = st:add(F.tesla_d, tvb(off + 4, 1))
	if d < 2 then
		it:add_proto_expert_info(E.value, "d must be 2..255 (RFC 4082 §3.6)")
	end
	it = st:add(F.tesla_mac, tvb(off + 5, 1))
	if tesla_macs[mac] == nil then
		it:add_proto_expert_info(E.unknown)
	elseif mac == 2 and sa.suite == SUITE_NULL then
		it:add_proto_expert_info(E.value, "AES-128-GMAC needs an IV: not with " ..
			suites[SUITE_NULL])
	end
	reserved_zero(tvb, off + 6, 2, st)
	local t0 = st:add(F.tesla_t0, tvb(off + 8, 8))
	local ms = tvb(off + 8, 4):uint() * 4294967296 + tvb(off + 12, 4):uint()
	local ok, date = pcall(os.date, "!%Y-%m-%d %H:%M:%S UTC", math.floor(ms / 1000))
	if ok and date then
		t0:append_text(" (" .. date .. ")")
	end
	local chain_len = tvb(off + 16, 4):uint()
	it = st:add(F.tesla_chain, tvb(off + 16, 4))
	if chain_len < d + 2 then
		it:add_proto_expert_info(E.value, "Chain length must be at least d + 2")
	end
	it = st:add(F.tesla_skew, tvb(off + 20, 4))
	if tvb(off + 20, 4):uint() >= d * t_int and t_int > 0 then
		it:add_proto_expert_info(E.value, "Clock skew must be below d * T_int")
	end
	local n = tvb(off + 24, 1):uint()
	local ni = st:add(F.tesla_senders, tvb(off + 24, 1))
	if n == 0 or n > 8 then
		ni:add_proto_expert_info(E.value, "1 to 8 senders")
	elseif n ~= 1 and sa.suite == SUITE_NULL then
		ni:add_proto_expert_info(E.value, suites[SUITE_NULL] ..
			" has no IV: a single sender, SID 0")
	end
	reserved_zero(tvb, off + 25, 3, st)
	st:append_text(string.format(": T_int %d ms, d %d, %s, %d sender%s", t_int, d,
		name_of(tesla_macs, mac), n, n == 1 and "" or "s"))
	local pos, ends, seen = off + TESLA_FIXED, off + l, {}
	for k = 1, n do
		if ends - pos < TESLA_SENDER_FIXED then
			if ends > pos then
				st:add(F.attr_value, tvb(pos, ends - pos))
			end
			ni:add_proto_expert_info(E.count, string.format(
				"%d senders announced, %d present", n, k - 1))
			return
		end
		local ns, chain = tvb(pos, 1):uint(), tvb(pos + 4, 4):uint()
		local want = TESLA_SENDER_FIXED + 2 * ns
		local cut = ends - pos < want
		local ss = st:add(F.tesla_sender, tvb(pos, cut and ends - pos or want))
		local nsi = ss:add(F.tesla_nsids, tvb(pos, 1))
		if ns == 0 or ns > 64 then
			nsi:add_proto_expert_info(E.value, "1 to 64 SIDs")
		end
		reserved_zero(tvb, pos + 1, 3, ss)
		it = ss:add(F.tesla_sender_chain, tvb(pos + 4, 4))
		if chain * chain_len > 4294967295 then
			it:add_proto_expert_info(E.value,
				"The chain's first interval, chain * chain length, must fit 32 bits")
		end
		ss:add(F.tesla_commitment, tvb(pos + 8, 32))
		if cut then
			nsi:add_proto_expert_info(E.count, string.format(
				"%d SIDs announced, %d octets present", ns, ends - pos - 40))
			return
		end
		local list = {}
		for i = 0, ns - 1 do
			local r = tvb(pos + TESLA_SENDER_FIXED + 2 * i, 2)
			local v = r:uint()
			local si = ss:add(F.tesla_sid, r)
			if seen[v] then
				si:add_proto_expert_info(E.value, "SID given twice in the SA")
			elseif sa.sid_bits ~= nil and v >= 2 ^ sa.sid_bits then
				si:add_proto_expert_info(E.value, "SID beyond the SID length")
			elseif v ~= 0 and sa.suite == SUITE_NULL then
				si:add_proto_expert_info(E.value, suites[SUITE_NULL] ..
					" has no IV: its sender is SID 0")
			end
			seen[v] = true
			list[#list + 1] = tostring(v)
		end
		ss:set_text(string.format("Sender %d: chain %d, SID%s %s", k, chain,
			ns == 1 and "" or "s", concat(list, ", ")))
		pos = pos + want
	end
	if pos < ends then
		st:add(F.attr_value, tvb(pos, ends - pos)):add_proto_expert_info(E.trailing)
	end
end

local function dissect_attr_value(tvb, off, l, st, a, sa)
	if ATTR_LEN[a] ~= nil and l ~= ATTR_LEN[a] then
		st:add(F.attr_value, tvb(off, l)):add_proto_expert_info(E.length,
			string.format("%s takes %d octets", attr_types[a], ATTR_LEN[a]))
		return
	end
	local r = tvb(off, l)
	if a == 1 then
		st:add(F.spi, r)
		st:append_text(string.format(": 0x%08x", r:uint()))
	elseif a == 2 then
		local it = st:add(F.suite, r)
		if suites[r:uint()] == nil then
			it:add_proto_expert_info(E.unknown)
		end
		sa.suite = r:uint()
		st:append_text(": " .. name_of(suites, r:uint()))
	elseif a == 3 then
		local ft = st:add(F.flags, r)
		ft:add(F.flag_psrc, r)
		ft:add(F.flag_pdst, r)
		ft:add(F.flag_esn, r)
		ft:add(F.flag_send, r)
		ft:add(F.flag_recv, r)
		local rs = ft:add(F.flag_rsvd, r)
		if bit.band(r:uint(), 0xffffffe0) ~= 0 then
			rs:add_proto_expert_info(E.reserved)
		end
	elseif a == 4 then
		local it = st:add(F.sid_bits, r)
		local v = r:uint()
		if v ~= 8 and v ~= 12 and v ~= 16 then
			it:add_proto_expert_info(E.value,
				"SID length must be 8, 12 or 16 (RFC 6054 §3)")
		else
			sa.sid_bits = v
		end
		st:append_text(": " .. v)
	elseif a == 5 then
		if l == 0 or l % 2 ~= 0 or l > 128 then
			st:add(F.attr_value, r):add_proto_expert_info(E.length,
				"SIDs: 1 to 64 two-octet values")
			return
		end
		local list = {}
		for i = 0, l / 2 - 1 do
			st:add(F.sid, tvb(off + 2 * i, 2))
			list[#list + 1] = tostring(tvb(off + 2 * i, 2):uint())
		end
		st:append_text(": " .. concat(list, ", "))
	elseif a == 6 then
		st:add(F.act_delay, r)
	elseif a == 7 then
		st:add(F.deact_delay, r)
	elseif a == 8 then
		st:add(F.replay_window, r)
	elseif a == 9 or a == 10 then
		if l == 4 then
			st:add(a == 9 and F.group_addr or F.source_addr, r)
			st:append_text(": " .. tostring(r:ipv4()))
		elseif l == 16 then
			st:add(a == 9 and F.group_addr6 or F.source_addr6, r)
			st:append_text(": " .. tostring(r:ipv6()))
		else
			st:add(F.attr_value, r):add_proto_expert_info(E.length,
				"Addresses take 4 or 16 octets")
		end
	elseif a == 11 then
		dissect_tesla(tvb, off, l, st, sa)
	end
end

-- Data SA attributes (§9): Key ID | Key Handle | attributes in ascending type order.
function dissect_attrs(tvb, off, len, tree)
	if len < 8 then
		tree:add_proto_expert_info(E.short,
			"Data SA item shorter than Key ID and Key Handle")
		return
	end
	tree:add(F.sa_key_id, tvb(off, 4))
	tree:add(F.sa_key_handle, tvb(off + 4, 4))
	local pos, ends, last, sa = off + 8, off + len, 0, {}
	while pos < ends do
		if ends - pos < 4 then
			tree:add(F.attr_value, tvb(pos, ends - pos)):add_proto_expert_info(E.short,
				"Attribute header cut short")
			return
		end
		local t, l = tvb(pos, 2):uint(), tvb(pos + 2, 2):uint()
		local a, crit = t % 32768, t >= 32768
		local bad = l > ends - pos - 4
		local vl = bad and ends - pos - 4 or l
		local st = tree:add(F.attr, tvb(pos, 4 + vl))
		st:set_text((attr_types[a] or ("Attribute " .. a)) ..
			(crit and " (critical)" or ""))
		st:add(F.attr_type, tvb(pos, 2))
		local ci = st:add(F.attr_critical, tvb(pos, 2))
		local li = st:add(F.attr_length, tvb(pos + 2, 2))
		if a <= last then
			st:add_proto_expert_info(E.value,
				"Attributes must be in strictly ascending order")
		end
		last = a
		if bad then
			li:add_proto_expert_info(E.length,
				"Attribute runs past the end of the item")
			if vl > 0 then
				st:add(F.attr_value, tvb(pos + 4, vl))
			end
			return
		end
		if attr_types[a] == nil then
			if l > 0 then
				st:add(F.attr_value, tvb(pos + 4, l))
			end
			if crit then
				ci:add_proto_expert_info(E.unknown,
					"Unknown attribute marked critical")
			end
		else
			if crit ~= (attr_critical[a] == true) then
				ci:add_proto_expert_info(E.value,
					"Wrong critical bit for this attribute")
			end
			if l == 0 then
				st:add_proto_expert_info(E.length, "Empty attribute")
			else
				dissect_attr_value(tvb, pos + 4, l, st, a, sa)
			end
		end
		pos = pos + 4 + l
	end
end

-- Key Download items (kpkg false) or Key Packages (kpkg true): the plaintext of a sealed blob.
local function dissect_items(tvb, off, len, tree, ctx, kpkg)
	if len < 2 then
		tree:add_proto_expert_info(E.short, "Shorter than its count")
		return
	end
	local n = tvb(off, 2):uint()
	local ni = tree:add(kpkg and F.kpkg_count or F.kd_nitems, tvb(off, 2))
	local pos, ends = off + 2, off + len
	for i = 1, n do
		if ends - pos < 3 then
			ni:add_proto_expert_info(E.count, string.format("%d announced, %d present",
				n, i - 1))
			return
		end
		local t, l = tvb(pos, 1):uint(), tvb(pos + 1, 2):uint()
		local bad = l > ends - pos - 3
		local il = bad and ends - pos - 3 or l
		local st = tree:add(F.kd_item, tvb(pos, 3 + il))
		st:set_text(string.format("%s %d: %s", kpkg and "Key Package" or "Item", i,
			name_of(kdd_types, t)))
		st:add(kpkg and F.kpkg_type or F.kd_item_type, tvb(pos, 1))
		local li = st:add(kpkg and F.kpkg_length or F.kd_item_length, tvb(pos + 1, 2))
		if bad then
			li:add_proto_expert_info(E.length, "Item runs past the end")
		end
		if il > 0 then
			if t == 0 or (t == 1 and kpkg) then
				dissect_datum(tvb, pos + 3, il, st, ctx, true)
			elseif t == 1 then
				dissect_rekey_array(tvb, pos + 3, il, st, ctx)
			elseif t == 193 then
				dissect_attrs(tvb, pos + 3, il, st)
			else
				st:add(F.pl_data, tvb(pos + 3, il)):add_proto_expert_info(E.unknown,
					"Unknown item type")
			end
		end
		if bad then
			return
		end
		pos = pos + 3 + l
	end
	if pos < ends then
		tree:add(F.pl_data, tvb(pos, ends - pos)):add_proto_expert_info(E.trailing)
	end
end

-- ---------------------------------------------------------------- KEK-protected data (§7)
-- Shows [off, off + len) as GCM or RFC 5649 data, decrypts it when a key fits and hands the
-- plaintext to inner(ptvb, tree).
local function sealed(tvb, off, len, tree, ctx, spec, inner)
	local st = tree:add(F.sealed, tvb(off, len))
	st:set_text(string.format("%s, KEK-protected (%d octets)", spec.what, len))
	local aad = schar(ctx.gid_len) .. ctx.gid .. schar(ctx.exch, spec.pl) .. spec.actx
	local res = nil
	if store.list[1] ~= nil and len >= 16 then
		res = open_blob(tvb:raw(off, len), aad, spec.wrap_id, spec.wrap_handle)
	end
	local mech = res and res.mech or gsakmp.prefs.mechanism
	if mech == KWP then
		local wi = st:add(F.sealed_wrapped, tvb(off, len))
		if len < 16 or len % 8 ~= 0 then
			wi:add_proto_expert_info(E.length,
				"RFC 5649 output is a multiple of 8, at least 16")
		end
	elseif len < 28 then
		st:add(F.sealed_ct, tvb(off, len)):add_proto_expert_info(E.short,
			"Shorter than the 12-octet IV and the 16-octet tag")
	else
		st:add(F.sealed_iv, tvb(off, 12))
		if len > 28 then
			st:add(F.sealed_ct, tvb(off + 12, len - 28))
		end
		st:add(F.sealed_tag, tvb(off + len - 16, 16))
	end
	local mi = st:add(F.sealed_mech, tvb(off, len), mech)
	mi:set_generated()
	if res == nil then
		mi:append_text(" (assumed: preference gsakmp.mechanism)")
		st:add(F.sealed_decrypted, tvb(off, len), false):set_generated()
		if store.list[1] ~= nil then
			st:add_proto_expert_info(E.no_key)
		else
			st:add_proto_expert_info(E.not_decrypted,
				"KEK-protected data not decrypted (no key: preference gsakmp.keys)")
		end
		return
	end
	st:add(F.sealed_decrypted, tvb(off, len), true):set_generated()
	st:add(F.sealed_key, tvb(off, len), res.label):set_generated()
	st:add_proto_expert_info(E.decrypted)
	if #res.plain == 0 then
		st:add_proto_expert_info(E.short, "Empty plaintext")
		return
	end
	local ptvb = ByteArray.new(res.plain, true):tvb("Decrypted " .. spec.what)
	local pt = st:add(F.plaintext, ptvb())
	pt:set_text(string.format("Decrypted %s (%d octets)", spec.what, ptvb:len()))
	inner(ptvb, pt)
end

-- ---------------------------------------------------------------- payload bodies
-- Each gets the message tvb and its body [off, off + len), all of it captured.
local body = {}

body[1] = function(tvb, off, len, tree, ctx) -- Policy Token (§7.3)
	if len < 2 then
		tree:add_proto_expert_info(E.short, "Policy Token shorter than its PT Type")
		return
	end
	local ti = tree:add(F.pt_type, tvb(off, 2))
	if tvb(off, 2):uint() == 0 then
		ti:add_proto_expert_info(E.unknown)
	end
	if len == 2 then
		tree:add_proto_expert_info(E.short, "Empty policy token")
		return
	end
	-- a plaintext RFC 4534 token is one DER SEQUENCE; anything else is the protected form
	if der_sequence(tvb, off + 2, len - 2) then
		tree:add(F.pt_data, tvb(off + 2, len - 2))
		return
	end
	local spec = { what = "PT Data", pl = 1, actx = tvb:raw(off, 2) }
	sealed(tvb, off + 2, len - 2, tree, ctx, spec,
		function(ptvb, pt)
			pt:add(F.pt_data, ptvb())
		end)
end

body[2] = function(tvb, off, len, tree, ctx) -- Key Download (§7.4)
	if len == 0 then
		tree:add_proto_expert_info(E.short, "Empty Key Download")
		return
	end
	sealed(tvb, off, len, tree, ctx, { what = "Key Download", pl = 2, actx = "" },
		function(ptvb, pt)
			dissect_items(ptvb, 0, ptvb:len(), pt, ctx, false)
		end)
end

body[3] = function(tvb, off, len, tree, ctx) -- Rekey Event (§7.5)
	local L = ctx.gid_len
	if len < 20 + L then
		tree:add_proto_expert_info(E.short, string.format(
			"Rekey Event shorter than its %d fixed octets", 20 + L))
		return
	end
	local rtype = tvb(off, 1):uint()
	local ti = tree:add(F.rekey_type, tvb(off, 1))
	if rekey_types[rtype] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	local gi = tree:add(F.rekey_gid, tvb(off + 1, L))
	if tvb:raw(off + 1, L) ~= ctx.gid then
		gi:add_proto_expert_info(E.value, "GroupID differs from the header's")
	end
	add_ts(tree, F.rekey_ts, tvb, off + 1 + L)
	local t2 = tree:add(F.rekey_type2, tvb(off + 16 + L, 1))
	if tvb(off + 16 + L, 1):uint() ~= rtype then
		t2:add_proto_expert_info(E.value, "The two Rekey Event Types differ")
	end
	local av = tree:add(F.rekey_alg, tvb(off + 17 + L, 1))
	if rtype == 1 and tvb(off + 17 + L, 1):uint() ~= 1 then
		av:add_proto_expert_info(E.unknown, "LKH Algorithm Version must be 1")
	end
	local n = tvb(off + 18 + L, 2):uint()
	local ni = tree:add(F.rekey_ndata, tvb(off + 18 + L, 2))
	if rtype == 0 and n ~= 0 then
		ni:add_proto_expert_info(E.count, "Rekey Event Type None carries no data")
	end
	tree:append_text(string.format(": %s, %d block%s", name_of(rekey_types, rtype), n,
		n == 1 and "" or "s"))
	local pos, ends = off + 20 + L, off + len
	for i = 1, n do
		if ends - pos < 10 then
			local e = string.format("%d blocks announced, %d present", n, i - 1)
			if pos < ends then
				tree:add(F.pl_data, tvb(pos,
					ends - pos)):add_proto_expert_info(E.count, e)
			else
				ni:add_proto_expert_info(E.count, e)
			end
			return
		end
		local pl = tvb(pos, 2):uint()
		local wid, wh = tvb(pos + 2, 4):uint(), tvb(pos + 6, 4):uint()
		local bad = pl > ends - pos - 10
		local bl = bad and ends - pos - 10 or pl
		local st = tree:add(F.red, tvb(pos, 10 + bl))
		st:set_text(string.format("Rekey Event Data %d: wrapping key %d handle %d",
			i, wid, wh))
		local li = st:add(F.red_len, tvb(pos, 2))
		st:add(F.red_wrap_id, tvb(pos + 2, 4))
		st:add(F.red_wrap_handle, tvb(pos + 6, 4))
		if bad then
			li:add_proto_expert_info(E.length, "Packet Length runs past the payload")
		elseif pl < 2 then
			li:add_proto_expert_info(E.length, "Packet Length below 2")
		end
		if bl > 0 then
			sealed(tvb, pos + 10, bl, st, ctx, { what = "Key Packages", pl = 3,
				actx = tvb:raw(pos + 2, 8), wrap_id = wid, wrap_handle = wh },
				function(ptvb, pt)
					dissect_items(ptvb, 0, ptvb:len(), pt, ctx, true)
				end)
		end
		if bad then
			return
		end
		pos = pos + 10 + pl
	end
	if pos < ends then
		tree:add(F.pl_data, tvb(pos, ends - pos)):add_proto_expert_info(E.trailing,
			"Octets after the last Rekey Event Data")
	end
end

body[4] = function(tvb, off, len, tree) -- Identification (§7.6)
	if len < 2 then
		tree:add_proto_expert_info(E.short,
			"Identification shorter than its 2 fixed octets")
		return
	end
	local ci = tree:add(F.id_class, tvb(off, 1))
	if id_classes[tvb(off, 1):uint()] == nil then
		ci:add_proto_expert_info(E.unknown)
	end
	local t = tvb(off, 2):uint() % 256
	local ti = tree:add(F.id_type, tvb(off + 1, 1))
	local dl = len - 2
	if id_types[t] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	if dl == 0 then
		tree:add_proto_expert_info(E.short, "No ID Data")
		return
	end
	local r = tvb(off + 2, dl)
	if (t == 1 and dl == 4) then
		tree:add(F.id_ipv4, r)
		tree:append_text(": " .. tostring(r:ipv4()))
	elseif (t == 5 and dl == 16) then
		tree:add(F.id_ipv6, r)
		tree:append_text(": " .. tostring(r:ipv6()))
	elseif (t == 2 or t == 3 or t == 31) and printable(r:raw()) then
		tree:add(F.id_string, r)
		tree:append_text(": " .. r:raw())
	elseif t == 30 then
		if dl < 24 or dl ~= 24 + tvb(off + 22, 4):uint() then
			tree:add(F.id_data, r):add_proto_expert_info(E.length,
				"ID_U_NAME: serial (20) | length (4) | DN")
			return
		end
		tree:add(F.id_serial, tvb(off + 2, 20))
		tree:add(F.id_dn_len, tvb(off + 22, 4))
		if dl > 24 then
			tree:add(F.id_dn, tvb(off + 26, dl - 24))
		end
	else
		local di = tree:add(F.id_data, r)
		if t == 1 or t == 5 then
			di:add_proto_expert_info(E.length, "Address of the wrong length")
		end
	end
end

body[6] = function(tvb, off, len, tree, ctx) -- Certificate (§7.7)
	if len < 2 then
		tree:add_proto_expert_info(E.short, "Certificate shorter than its Cert Type")
		return
	end
	local t = tvb(off, 2):uint()
	local ti = tree:add(F.cert_type, tvb(off, 2))
	if t == 0 or cert_types[t] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	local dl = len - 2
	tree:append_text(string.format(": %s, %d octets", name_of(cert_types, t), dl))
	if dl == 0 then
		tree:add_proto_expert_info(E.short, "No certificate data")
		return
	end
	tree:add(F.cert_length, tvb(off + 2, dl), dl):set_generated()
	local di = tree:add(F.cert_data, tvb(off + 2, dl))
	if t == 4 or t == 7 or t == 10 then
		if not der_sequence(tvb, off + 2, dl) then
			di:add_proto_expert_info(E.length, "Not exactly one DER SEQUENCE")
			return
		end
		if t == 4 and x509 ~= nil and gsakmp.prefs.x509 then
			local ok = pcall(function()
				x509:call(tvb(off + 2, dl):tvb(), ctx.pinfo, di)
			end)
			if not ok then
				di:add_proto_expert_info(E.value,
					"The X.509 dissector refused the certificate")
			end
		end
	end
end

body[8] = function(tvb, off, len, tree) -- Signature (§7.8)
	if len < 20 then
		tree:add_proto_expert_info(E.short, "Signature shorter than its 20 fixed octets")
		return
	end
	local t = tvb(off, 2):uint()
	local ti = tree:add(F.sig_type, tvb(off, 2))
	if sig_types[t] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	local idt = tvb(off + 2, 1):uint()
	local ii = tree:add(F.sig_id_type, tvb(off + 2, 1))
	if idt ~= 31 and idt ~= 11 then
		ii:add_proto_expert_info(E.value, "Signer ID types: 31 ID_DN_STRING or 11 KEY_ID")
	end
	add_ts(tree, F.sig_ts, tvb, off + 3)
	local n = tvb(off + 18, 2):uint()
	local ni = tree:add(F.sig_signer_len, tvb(off + 18, 2))
	tree:append_text(": " .. name_of(sig_types, t))
	if n == 0 or n > len - 20 then
		ni:add_proto_expert_info(E.length, "Signer ID Length 0 or past the payload")
		if len > 20 then
			tree:add(F.sig_signer_id, tvb(off + 20, len - 20))
		end
		return
	end
	local sr = tvb(off + 20, n)
	if idt == 31 and printable(sr:raw()) then
		tree:add(F.sig_signer, sr)
		tree:append_text(", " .. sr:raw())
	else
		tree:add(F.sig_signer_id, sr)
	end
	tree:add(F.sig_span, sr, off + 20 + n):set_generated()
	local pos = off + 20 + n
	local rest = off + len - pos
	if rest < 2 then
		tree:add_proto_expert_info(E.short, "No Signature Length")
		return
	end
	local sl = tvb(pos, 2):uint()
	local si = tree:add(F.sig_len, tvb(pos, 2))
	if sl ~= rest - 2 then
		si:add_proto_expert_info(E.length, string.format(
			"Signature Length %d, %d octets follow", sl, rest - 2))
		if rest > 2 then
			tree:add(F.sig_data, tvb(pos + 2, rest - 2))
		end
		return
	end
	if (t == 49153 or t == 49154) and sl ~= 64 then
		si:add_proto_expert_info(E.value, "Profile signatures are 64 octets")
	end
	if sl > 0 then
		local di = tree:add(F.sig_data, tvb(pos + 2, sl))
		if t == 49153 and sl == 64 then
			di:add(F.sig_r, tvb(pos + 2, 32))
			di:add(F.sig_s, tvb(pos + 34, 32))
		end
	end
end

body[9] = function(tvb, off, len, tree, ctx) -- Notification (§7.9)
	if len < 2 then
		tree:add_proto_expert_info(E.short, "Notification shorter than its type")
		return
	end
	local t = tvb(off, 2):uint()
	local ti = tree:add(F.notify_type, tvb(off, 2))
	if t == 0 or notify_types[t] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	tree:append_text(": " .. name_of(notify_types, t))
	ctx.info[#ctx.info] = "N(" .. name_of(notify_types, t) .. ")"
	local dl, d = len - 2, off + 2
	if t == 23 then
		if dl ~= 1 then
			ti:add_proto_expert_info(E.length, "Acknowledgement: one Ack Type octet")
		else
			local ai = tree:add(F.notify_ack, tvb(d, 1))
			if ack_types[tvb(d, 1):uint()] == nil then
				ai:add_proto_expert_info(E.unknown)
			end
			return
		end
	elseif t == 27 or t == 28 then
		if dl < 1 or dl > 64 then
			ti:add_proto_expert_info(E.length, "Cookies are 1 to 64 octets")
		else
			local ci = tree:add(F.cookie, tvb(d, dl))
			-- the profile's cookie: secret version || 16 octets of HMAC-SHA-256 (§12)
			if dl == 17 then
				ci:add(F.cookie_ver, tvb(d, 1))
				ci:add(F.cookie_mac, tvb(d + 1, 16))
			end
			return
		end
	elseif t == 29 then
		if dl % 3 ~= 0 then
			ti:add_proto_expert_info(E.length,
				"Mechanism Choices: Mech Type (1) | Choice (2)")
		else
			for p = d, d + dl - 3, 3 do
				local mt, ch = tvb(p, 1):uint(), tvb(p + 1, 2):uint()
				local st = tree:add(F.mech_type, tvb(p, 1))
				local chi = st:add(F.mech_choice, tvb(p + 1, 2))
				local cn = (mech_choices[mt] or {})[ch]
				chi:append_text(" (" .. (cn or "Unknown") .. ")")
				st:append_text(": " .. (cn or tostring(ch)))
			end
			return
		end
	elseif t == 34 or t == 35 then
		local want = t == 34 and 4 or 16
		if dl ~= want then
			ti:add_proto_expert_info(E.length, string.format("%s: %d octets",
				notify_types[t], want))
		else
			tree:add(t == 34 and F.notify_ipv4 or F.notify_ipv6, tvb(d, dl))
			return
		end
	end
	if dl > 0 then
		tree:add(F.notify_data, tvb(d, dl))
	end
end

body[10] = function(tvb, off, len, tree, ctx) -- Vendor ID (§7.10)
	if len == 0 then
		tree:add_proto_expert_info(E.short, "Empty Vendor ID")
		return
	end
	local r = tvb(off, len)
	local vi = tree:add(F.vid, r)
	if len < 4 then
		vi:add_proto_expert_info(E.length, "Vendor IDs are at least 4 octets")
	end
	local s = r:raw()
	if printable(s) then
		tree:add(F.vid_string, r)
	end
	local ours = s == PROFILE_VID
	tree:add(F.vid_msecgw, r, ours):set_generated()
	if ours then
		ctx.profile = true
		tree:append_text(": " .. PROFILE_VID .. " (msecgw GSAKMP profile)")
	elseif printable(s) then
		tree:append_text(": " .. s)
	end
end

body[11] = function(tvb, off, len, tree) -- Key Creation (§7.11)
	if len < 2 then
		tree:add_proto_expert_info(E.short, "Key Creation shorter than its KC Type")
		return
	end
	local t = tvb(off, 2):uint()
	local ti = tree:add(F.kc_type, tvb(off, 2))
	if kc_types[t] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	tree:append_text(": " .. name_of(kc_types, t))
	if len > 2 then
		local vi = tree:add(F.kc_value, tvb(off + 2, len - 2))
		if t == 49153 and len - 2 ~= 32 then
			vi:add_proto_expert_info(E.length, "X25519 public values are 32 octets")
		end
	end
end

body[12] = function(tvb, off, len, tree, ctx) -- Nonce (§7.12)
	if len < 1 then
		tree:add_proto_expert_info(E.short, "Nonce shorter than its type")
		return
	end
	local t = tvb(off, 1):uint()
	local ti = tree:add(F.nonce_type, tvb(off, 1))
	if nonce_types[t] == nil then
		ti:add_proto_expert_info(E.unknown)
	end
	tree:append_text(": " .. name_of(nonce_types, t))
	ctx.info[#ctx.info] = name_of(nonce_types, t):upper()
	if len - 1 < 4 or len - 1 > 256 then
		tree:add_proto_expert_info(E.length, "Nonces are 4 to 256 octets")
	end
	if len > 1 then
		tree:add(F.nonce_data, tvb(off + 1, len - 1))
	end
end

-- ---------------------------------------------------------------- message
local function check_dissection(root, ctx)
	local rules = dissections[ctx.exch]
	if rules == nil then
		return
	end
	local bad = {}
	for t, n in pairs(ctx.counts) do
		local r = rules[t]
		if r == nil and t ~= 6 and payload_types[t] ~= nil and t ~= 5 and t ~= 7 then
			bad[#bad + 1] = string.format("%s not carried", payload_types[t])
		elseif r == "pair" and n ~= 0 and n ~= 2 then
			bad[#bad + 1] = string.format("%d %s payloads, 0 or 2 expected", n,
				payload_types[t])
		elseif type(r) == "table" and n > r[2] then
			bad[#bad + 1] = string.format("%d %s payloads, at most %d", n,
				payload_types[t], r[2])
		end
	end
	for t, r in pairs(rules) do
		if type(r) == "table" and (ctx.counts[t] or 0) < r[1] then
			bad[#bad + 1] = string.format("%s missing", payload_types[t])
		end
	end
	if #bad > 0 then
		table.sort(bad)
		root:add_proto_expert_info(E.dissection, name_of(exch_types, ctx.exch) .. ": " ..
			concat(bad, "; "))
	end
end

-- One GSAKMP message: tvb holds exactly it (a UDP datagram or one PDU cut from a TCP stream).
local function dissect_message(tvb, pinfo, tree)
	local cap, rep = tvb:len(), tvb:reported_len()
	local root = tree:add(gsakmp, tvb())
	local info = {}
	if cap < rep then
		root:add_proto_expert_info(E.snaplen,
			string.format("%d of %d octets captured", cap, rep))
	end
	if cap < 2 then
		root:add_proto_expert_info(E.short, "Shorter than the GroupID Type and Length")
		return "Malformed"
	end
	local gtype, L = tvb(0, 1):uint(), tvb(1, 1):uint()
	local gi = root:add(F.gid_type, tvb(0, 1))
	if gid_types[gtype] == nil then
		gi:add_proto_expert_info(E.unknown)
	end
	local li = root:add(F.gid_len, tvb(1, 1))
	if cap < 13 + L then
		root:add_proto_expert_info(E.short, string.format(
			"Shorter than the %d-octet header", 13 + L))
		return "Malformed"
	end
	if L == 0 then
		li:add_proto_expert_info(E.length, "GroupID Length 0")
	elseif (gtype == 1 and L < 17) or (gtype == 2 and L < 9) or (gtype == 3 and L ~= 12) or
			(gtype == 4 and L ~= 24) then
		li:add_proto_expert_info(E.length, "GroupID Length wrong for its type (§4)")
	end
	if L > 0 then
		local gv = root:add(F.gid, tvb(2, L))
		if L >= 9 and gtype >= 1 and gtype <= 4 then
			local rl = gtype == 1 and 16 or 8
			if L > rl then
				gv:add(F.gid_random, tvb(2, rl))
				local rest = tvb(2 + rl, L - rl)
				if gtype == 3 and L == 12 then
					gv:add(F.gid_ipv4, rest)
				elseif gtype == 4 and L == 24 then
					gv:add(F.gid_ipv6, rest)
				elseif printable(rest:raw()) then
					gv:add(F.gid_name, rest)
					root:append_text(", group " .. rest:raw())
				end
			end
		end
	end
	local np = tvb(2 + L, 1):uint()
	local npi = root:add(F.next_payload, tvb(2 + L, 1))
	local vi = root:add(F.version, tvb(3 + L, 1))
	local ver = tvb(3 + L, 1):uint()
	if ver ~= 1 then
		vi:add_proto_expert_info(E.unknown, "Version other than 1 (§4)")
	end
	local exch = tvb(4 + L, 1):uint()
	local ei = root:add(F.exchange_type, tvb(4 + L, 1))
	if exch_types[exch] == nil then
		ei:add_proto_expert_info(E.unknown)
	end
	local seq = tvb(5 + L, 4):uint()
	local si = root:add(F.seq_id, tvb(5 + L, 4))
	if exch == 5 then
		if seq == 0 then
			si:add_proto_expert_info(E.sequence, "Rekey Event with Sequence ID 0")
		elseif seq == 0xffffffff then
			si:add_proto_expert_info(E.destroy)
		end
	elseif seq ~= 0 and exch_types[exch] ~= nil then
		si:add_proto_expert_info(E.sequence,
			"Sequence ID other than 0 outside Rekey Events")
	end
	local mlen = tvb(9 + L, 4):uint()
	local mi = root:add(F.length, tvb(9 + L, 4))
	root:append_text(string.format(", %s, seq %d", name_of(exch_types, exch), seq))
	local ends = cap
	if mlen < 13 + L then
		mi:add_proto_expert_info(E.length, "Length below the header size")
	elseif mlen > rep then
		mi:add_proto_expert_info(E.length, string.format(
			"Length %d, %d octets received (truncated)", mlen, rep))
	else
		if mlen < rep then
			local ti = root
			if cap > mlen then
				ti = root:add(F.pl_data, tvb(mlen, cap - mlen))
			end
			ti:add_proto_expert_info(E.trailing, string.format(
				"%d octets after the header Length", rep - mlen))
		end
		ends = math.min(mlen, cap)
	end

	local ctx = {
		pinfo = pinfo, gid_len = L, gid = tvb:raw(2, L), exch = exch, profile = false,
		counts = {}, info = info,
	}
	local off, from, sig_seen, np_off = 13 + L, npi, false, 2 + L
	while np ~= 0 do
		if off >= ends then
			from:add_proto_expert_info(E.length, string.format(
				"Next Payload names %s, the message ends",
				name_of(payload_types, np)))
			break
		end
		if ends - off < 4 then
			root:add(F.pl_data, tvb(off, ends - off)):add_proto_expert_info(E.short,
				"Payload header cut short")
			break
		end
		local nxt, plen = tvb(off, 1):uint(), tvb(off + 2, 2):uint()
		local bad = plen < 4 or plen > ends - off
		local pl = bad and ends - off or plen
		local pt = root:add(F.payload, tvb(off, pl))
		pt:set_text(name_of(payload_types, np) .. " payload")
		pt:add(F.pl_type, tvb(np_off, 1), np):set_generated()
		pt:add(F.pl_next, tvb(off, 1))
		local ri = pt:add(F.pl_reserved, tvb(off + 1, 1))
		if tvb(off + 1, 1):uint() ~= 0 then
			ri:add_proto_expert_info(E.reserved)
		end
		local pli = pt:add(F.pl_length, tvb(off + 2, 2))
		ctx.counts[np] = (ctx.counts[np] or 0) + 1
		info[#info + 1] = payload_abbrev[np] or tostring(np)
		if sig_seen and np ~= 6 then
			pt:add_proto_expert_info(E.dissection,
				"Only Certificates may follow the Signature")
		end
		sig_seen = sig_seen or np == 8
		if plen < 4 then
			pli:add_proto_expert_info(E.length, "Payload Length below 4")
		elseif bad and cap < rep and off + plen <= math.min(mlen, rep) then
			pli:add_proto_expert_info(E.snaplen,
				"Payload cut by the capture's snap length")
		elseif bad then
			pli:add_proto_expert_info(E.length, string.format(
				"Payload Length %d, %d octets left in the message",
				plen, ends - off))
		end
		local fn = body[np]
		if fn == nil then
			pt:add_proto_expert_info(E.unknown, "Unknown payload type " .. np)
			if pl > 4 then
				pt:add(F.pl_data, tvb(off + 4, pl - 4))
			end
		elseif bad then
			-- a body cut short would only add errors that follow from this one
			if pl > 4 then
				pt:add(F.pl_data, tvb(off + 4, pl - 4))
			end
		else
			local ok, err = pcall(fn, tvb, off + 4, pl - 4, pt, ctx)
			if not ok then
				pt:add_proto_expert_info(E.bug,
					"Dissector error: " .. tostring(err))
			end
		end
		if bad then
			break
		end
		off, np, from, np_off = off + plen, nxt, pt, off
	end
	if np == 0 and off < ends then
		root:add(F.pl_data, tvb(off, ends - off)):add_proto_expert_info(E.trailing,
			"Octets between the last payload and the header Length")
	end
	if np == 0 then
		check_dissection(root, ctx)
	end
	if ctx.profile then
		root:append_text(" [msecgw profile]")
	end
	root:add(F.profile, tvb(0, 2), ctx.profile):set_generated()
	return string.format("%s%s: %s", name_of(exch_types, exch),
		exch == 5 and string.format(" (seq %d)", seq) or "", concat(info, ", "))
end

-- ---------------------------------------------------------------- transports
local pdu_index = 0

local function set_info(pinfo, text)
	pinfo.cols.protocol = "GSAKMP"
	if pdu_index == 0 then
		pinfo.cols.info:clear()
		pinfo.cols.info:set(text)
	else
		pinfo.cols.info:append(" | " .. text)
	end
	pdu_index = pdu_index + 1
end

local function safe_message(tvb, pinfo, tree)
	local ok, text = pcall(dissect_message, tvb, pinfo, tree)
	if not ok then
		tree:add_proto_expert_info(E.bug, "Dissector error: " .. tostring(text))
		text = "Malformed"
	end
	set_info(pinfo, text)
	return tvb:len()
end

-- TCP framing (§3): 13 + L octets give the header Length. When fewer are there, ask TCP for one
-- more segment (returning 0); a Length below the header or above 1 MiB makes the rest of the
-- segment one malformed PDU so that the stream is not waited on forever.
local function pdu_len(tvb, pinfo, off)
	local avail = tvb:len() - off
	if avail < 2 then
		return avail
	end
	local L = tvb(off + 1, 1):uint()
	if L == 0 then
		return avail
	end
	if avail < 13 + L then
		if pinfo.can_desegment > 0 and gsakmp.prefs.desegment then
			return 0
		end
		return avail
	end
	local len = tvb(off + 9 + L, 4):uint()
	if len < 13 + L or len > MAX_MSG then
		return avail
	end
	return len
end

local function tcp_pdu_len(tvb, pinfo, off)
	local ok, len = pcall(pdu_len, tvb, pinfo, off)
	return ok and len or tvb:len() - off
end

function gsakmp.dissector(tvb, pinfo, tree)
	pdu_index = 0
	if tvb:len() == 0 then
		return 0
	end
	if pinfo.port_type == 2 then   -- PT_TCP
		dissect_tcp_pdus(tvb, tree, 2, tcp_pdu_len, safe_message, gsakmp.prefs.desegment)
		return tvb:len()
	end
	return safe_message(tvb, pinfo, tree)
end

function gsakmp.init()
	load_keys()
end

local udp_table, tcp_table = DissectorTable.get("udp.port"), DissectorTable.get("tcp.port")
local cur_port = PORT
udp_table:add(cur_port, gsakmp)
tcp_table:add(cur_port, gsakmp)

function gsakmp.prefs_changed()
	if gsakmp.prefs.port ~= cur_port then
		udp_table:remove(cur_port, gsakmp)
		tcp_table:remove(cur_port, gsakmp)
		cur_port = gsakmp.prefs.port
		udp_table:add(cur_port, gsakmp)
		tcp_table:add(cur_port, gsakmp)
	end
	load_keys()
end
