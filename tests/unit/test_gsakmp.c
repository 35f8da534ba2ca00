/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/gsakmp: the RFC 4535 wire codec and the msecgw security profile.
 *
 * - hand-built messages: byte arrays typed from the RFC 4535 §7 figures, field by field,
 *   independently of the encoder, decoded and checked field by field;
 * - a table of malformed messages, each refused with its own reason;
 * - every exchange built by the encoder, signed, verified, re-encoded to the same bytes;
 * - signatures with a throwaway PKI made here with OpenSSL (CA, intermediate, leaves, a rogue
 *   CA), key creation, KEK protection, cookies, known-answer tests (RFC 5869, RFC 7748);
 * - the LKH leave example of RFC 4535 Appendix A.3.2 end to end, and a whole registration.
 *
 * Times are fixed (NOW = 2026-03-01T12:00:00Z), certificates are valid 2026-2036, so nothing
 * depends on the wall clock.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gsakmp.h"
#include "gsakmp_crypto.h"
#include "test_common.h"

#define NOW INT64_C(1772366400)       /* 2026-03-01 12:00:00 UTC */
#define T_2026 INT64_C(1767225600)    /* 2026-01-01 */
#define T_2036 INT64_C(2082758400)    /* 2036-01-01 */
#define KEY_CREATED INT64_C(1772323200) /* 2026-03-01 00:00:00 */
#define KEY_EXPIRES INT64_C(1803859200) /* 2027-03-01 00:00:00 */
#define SKEW 300

/* ------------------------------------------------------------------ byte-building macros */

#define B16(v) (uint8_t)((unsigned int)(v) >> 8), (uint8_t)(v)
#define B32(v) (uint8_t)((uint32_t)(v) >> 24), (uint8_t)((uint32_t)(v) >> 16), \
	(uint8_t)((uint32_t)(v) >> 8), (uint8_t)(v)
#define R8(b) (b), (b) + 1, (b) + 2, (b) + 3, (b) + 4, (b) + 5, (b) + 6, (b) + 7
#define R16(b) R8(b), R8((b) + 8)
#define R32(b) R16(b), R16((b) + 16)
#define X8(v) v, v, v, v, v, v, v, v
#define X64(v) X8(v), X8(v), X8(v), X8(v), X8(v), X8(v), X8(v), X8(v)
/* "YYYYMMDDHHMMSSZ" timestamps (RFC 4535 §7.4.1.1) */
#define TS_C '2', '0', '2', '6', '0', '3', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'
#define TS_E '2', '0', '2', '7', '0', '3', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'
#define TS_S '2', '0', '2', '6', '0', '3', '0', '1', '1', '2', '0', '0', '0', '0', 'Z'
#define VID_BYTES 'm', 's', 'e', 'c', 'g', 'w', '-', 'g', 's', 'a', 'k', 'm', 'p', '-', '0', '1'
/* Key Datum fixed part: Key Type, Key ID, Key Handle, Creation, Expiration (§7.4.1.1) */
#define DATUM(kt, id, h) B16(kt), B32(id), B32(h), TS_C, TS_E
/* AES-GCM-128 KEYMAT (profile key type 49153): 20 octets */
#define KEYMAT20 R16(0x10), 0x20, 0x21, 0x22, 0x23

/* GroupID: Octet String (2), L = 9: 8 random octets then "G" (§7.1.1.1) */
#define GID_OCT 0x02, 0x09, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 'G'

/* ------------------------------------------------------------------ hand-built messages */

/* Cookie Download (exchange 10): {HDR-GrpID, Notif_COOKIE_REQUIRED, [VendorID]} (§5.2.2) */
static const uint8_t hb_cookie_dl[] = {
	GID_OCT,                  /* [0] GroupID Type 2, Length 9, Value */
	0x09,                     /* [11] Next Payload: Notification */
	0x01,                     /* [12] Version 1 */
	0x0a,                     /* [13] Exchange Type: Cookie Download */
	B32(0),                   /* [14] Sequence ID: 0 on negotiation messages */
	B32(64),                  /* [18] Length of the whole message */
	/* [22] Notification (§7.9) */
	0x0a, 0x00, B16(22),      /* Next: Vendor ID, RESERVED, Payload Length */
	B16(27),                  /* [26] Cookie-Required */
	R16(0xc0),                /* [28] the cookie */
	/* [44] Vendor ID (§7.10) */
	0x00, 0x00, B16(20),      /* last payload */
	VID_BYTES,                /* [48] */
};

/* Request to Join (exchange 8):
 * {HDR-GrpID, Key Creation, Nonce_I, [VendorID], [Notif_Mechanism_Choices], [Notif_Cookie]}SigM,
 * [Cert] (§5.2.1.1) */
static const uint8_t hb_rtj[] = {
	GID_OCT,
	0x0b,                     /* [11] Next Payload: Key Creation */
	0x01, 0x08,               /* Version 1, Request to Join */
	B32(0),
	B32(261),
	/* [22] Key Creation (§7.11) */
	0x0c, 0x00, B16(38),      /* Next: Nonce */
	B16(0xc001),              /* [26] KC Type: X25519 (profile) */
	R32(0x01),                /* [28] public value */
	/* [60] Nonce (§7.12) */
	0x0a, 0x00, B16(37),      /* Next: Vendor ID */
	0x01,                     /* [64] Nonce_I */
	R32(0xa0),                /* [65] */
	/* [97] Vendor ID */
	0x09, 0x00, B16(20),
	VID_BYTES,
	/* [117] Notification: Mechanism Choices (§7.9.1.3) */
	0x09, 0x00, B16(15),
	B16(29),                  /* [121] */
	0x00, B16(0xc001),        /* key creation: X25519 */
	0x01, B16(0xc001),        /* encryption: AES-256-GCM */
	0x02, B16(0xc001),        /* nonce hash: SHA-256 */
	/* [132] Notification: Cookie */
	0x08, 0x00, B16(23),      /* Next: Signature */
	B16(28),                  /* [136] */
	0x00, X8(0x5a), X8(0x5a), /* [138] version 0 || MAC */
	/* [155] Signature (§7.8) */
	0x06, 0x00, B16(95),      /* Next: Certificate */
	B16(0xc002),              /* [159] Ed25519 (profile) */
	0x1f,                     /* [161] Sig ID Type: ID_DN_STRING */
	TS_S,                     /* [162] Signature Timestamp */
	B16(5),                   /* [177] Signer ID Length */
	'C', 'N', '=', 'g', 'm',  /* [179] Signer ID Data: the signed span ends here (184) */
	B16(64),                  /* [184] Signature Length */
	X64(0xee),                /* [186] Signature Data */
	/* [250] Certificate (§7.7), not covered by the signature */
	0x00, 0x00, B16(11),
	B16(4),                   /* [254] X.509v3 signature certificate */
	0x30, 0x03, 0x02, 0x01, 0x05, /* [256] one DER SEQUENCE (not a real certificate) */
};

/* Key Download (exchange 9), IPv6 GroupID:
 * {HDR-GrpID, Member ID, [Nonce_R, Nonce_C], Key Creation, (Policy Token)*, (Key Download)*,
 * [VendorID]}SigC (§5.2.1.2). The PT Data and Key Download body are opaque to the codec. */
static const uint8_t hb_keydl[] = {
	0x04, 24,                 /* GroupID Type IPv6, Length 24 */
	R8(0x01),                 /* [2] random element */
	0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0x01, /* [10] ff3e::8000:1 */
	0x04, 0x01, 0x09,         /* [26] Next: Identification, Version 1, Key Download */
	B32(0),
	B32(332),
	/* [37] Identification (§7.6): the Member ID */
	0x0c, 0x00, B16(20),
	0x01,                     /* [41] Classification: Receiver */
	0x1f,                     /* [42] ID_DN_STRING */
	'C', 'N', '=', 'g', 'm', '1', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	/* [57] Nonce_R */
	0x0c, 0x00, B16(37), 0x02, R32(0x40),
	/* [94] Nonce_C */
	0x0b, 0x00, B16(37), 0x03, R32(0x60),
	/* [131] Key Creation */
	0x01, 0x00, B16(38), B16(0xc001), R32(0x21),
	/* [169] Policy Token (§7.3) */
	0x02, 0x00, B16(14),
	B16(1),                   /* [173] GSAKMP_ASN.1_PT_V1 */
	0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03,
	/* [183] Key Download (§7.4) */
	0x0a, 0x00, B16(34),
	R16(0x90), R8(0xa0), 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
	/* [217] Vendor ID */
	0x08, 0x00, B16(20), VID_BYTES,
	/* [237] Signature */
	0x00, 0x00, B16(95),
	B16(0xc001),              /* ECDSA P-256 SHA-256 (profile) */
	0x1f, TS_S, B16(5), 'C', 'N', '=', 'k', 's', B16(64), X64(0x77),
};

/* LKH Key Datums for the Appendix A.3.2 example */
#define GTPK2 DATUM(0xc001, 1, 2), KEYMAT20
#define KEK2(id, k) DATUM(0xc006, id, 2), R32(k)

/* Rekey Event (exchange 5), IPv4 GroupID, Appendix A.3.2 with the field widths of §7.5:
 * member 6 (leaf 13) leaves a binary tree of 8; blocks under KeyID 2, 12 and 7. The blocks'
 * bodies are plaintext Key Packages here: the codec does not look inside them. */
static const uint8_t hb_rekey[] = {
	0x03, 12, R8(0x91), 232, 1, 1, 1, /* GroupID Type IPv4, Length 12, random, 232.1.1.1 */
	0x03, 0x01, 0x05,         /* [14] Next: Rekey Event, Version 1, Rekey Event */
	B32(2),                   /* [17] Sequence ID 2 */
	B32(606),                 /* [21] */
	/* [25] Rekey Event (§7.5) */
	0x08, 0x00, B16(486),
	0x01,                     /* [29] Rekey Event Type: GSAKMP_LKH */
	R8(0x91), 232, 1, 1, 1,   /* [30] Rekey Event Header: GroupID Value, no type or length */
	TS_S,                     /* [42] Time/Date Stamp */
	0x01,                     /* [57] Rekey Event Type again */
	0x01,                     /* [58] Algorithm Version */
	B16(3),                   /* [59] # of Rekey Event Data(s) */
	/* [61] Rekey Event Data 1: under KeyID 2 */
	B16(65), B32(2), B32(1),  /* Packet Length, Wrapping KeyID, Wrapping Key Handle */
	B16(1),                   /* [71] # of Key Packages */
	0x00, B16(60), GTPK2,     /* GTPK' */
	/* [136] Rekey Event Data 2: under leaf 12 (member 5) */
	B16(215), B32(12), B32(1),
	B16(3),
	0x00, B16(60), GTPK2,
	0x01, B16(72), KEK2(3, 0x30),
	0x01, B16(72), KEK2(6, 0x50),
	/* [361] Rekey Event Data 3: under KeyID 7 (members 7 and 8) */
	B16(140), B32(7), B32(1),
	B16(2),
	0x00, B16(60), GTPK2,
	0x01, B16(72), KEK2(3, 0x30),
	/* [511] Signature */
	0x00, 0x00, B16(95), B16(0xc001), 0x1f, TS_S, B16(5), 'C', 'N', '=', 'k', 's', B16(64),
	X64(0x77),
};

/* Departure Ack (exchange 15), UTF-8 GroupID: {HDR-GrpID, [Nonce_C], Notif_Ack}SigM */
static const uint8_t hb_da[] = {
	0x01, 20,                 /* GroupID Type UTF-8, Length 20 */
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', /* [2] */
	'i', 'p', 't', 'v',       /* [18] */
	0x0c, 0x01, 0x0f, B32(0), B32(172),
	/* [33] Nonce_C */
	0x09, 0x00, B16(37), 0x03, R32(0x60),
	/* [70] Notification: Acknowledgement, Simple */
	0x08, 0x00, B16(7), B16(23), 0x00,
	/* [77] Signature */
	0x00, 0x00, B16(95), B16(0xc002), 0x1f, TS_S, B16(5), 'C', 'N', '=', 'g', 'm', B16(64),
	X64(0xee),
};

/* Key Download contents (§7.4.1), plaintext: a GTPK, a Rekey Array, a data SA (profile). */
static const uint8_t hb_kd[] = {
	B16(3),                   /* Number of Items */
	/* [2] item: GTPK (Table 15: 0) */
	0x00, B16(60),            /* KDD Item Type, Item Length */
	DATUM(0xc001, 1, 1),      /* [5] Key Type AES-GCM-128, Key ID 1, Handle 1, dates */
	KEYMAT20,                 /* [45] */
	/* [65] item: Rekey-LKH, a Rekey Array (§7.4.1.2) */
	0x01, B16(151),
	0x01,                     /* [68] Rekey Version# */
	B32(1),                   /* [69] Member ID 1 (leaf 8) */
	B16(2),                   /* [73] Number of KEK Keys: a shortened path, 2 and 4 */
	DATUM(0xc006, 2, 1), R32(0x30), /* [75] KeyID 2 (no length: 32 from Key Type 49158) */
	DATUM(0xc006, 4, 1), R32(0x50), /* [147] KeyID 4 */
	/* [219] item: data SA (profile type 193) */
	0xc1, B16(59),
	B32(1), B32(1),           /* [222] the GTPK's Key ID and Handle */
	B16(0x8001), B16(4), B32(0x1000), /* [230] SPI (critical) */
	B16(0x8002), B16(2), B16(1),      /* [238] suite aes-gcm-128 */
	B16(0x8003), B16(4), B32(0x1b),   /* [244] flags: preserve src+dst, send, receive */
	B16(0x8004), B16(1), 8,           /* [252] SID length 8 */
	B16(0x8005), B16(4), B16(1), B16(2), /* [257] SIDs 1, 2 */
	B16(0x0006), B16(4), B32(1000),   /* [265] activation delay (not critical) */
	B16(0x0007), B16(4), B32(2000),   /* [273] deactivation delay */
};

/* ------------------------------------------------------------------ a throwaway PKI */

struct pki {
	EVP_PKEY *ca_key, *int_key, *ks_pkey, *gm_pkey, *gm2_pkey, *rogue_ca_key, *rogue_pkey;
	X509 *ca, *inter, *ks_cert, *gm_cert, *gm2_cert, *rogue_ca, *rogue_cert;
	struct gsakmp_key *ks, *gm, *gm2, *rogue;
	struct gsakmp_trust *trust;
};

static struct pki P;
static long cert_serial = 1;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		bool ca, int64_t not_before, int64_t not_after)
{
	X509 *x = X509_new();
	X509_NAME *n;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), cert_serial++);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"msecgw test",
			-1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
			ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
			ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	if (issuer_key == NULL)
		issuer_key = key;
	ck_assert_int_gt(X509_sign(x, issuer_key,
			EVP_PKEY_is_a(issuer_key, "ED25519") ? NULL : EVP_sha256()), 0);
	return x;
}

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	ck_assert_ptr_nonnull(k);
	return k;
}

static EVP_PKEY *ed_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	ck_assert_ptr_nonnull(k);
	return k;
}

/* Made once, in the parent, before the suite forks its tests. */
static void pki_setup(void)
{
	if (P.trust != NULL)
		return;
	P.ca_key = ec_key();
	P.ca = make_cert(P.ca_key, "msecgw test CA", NULL, NULL, true, T_2026, T_2036);
	P.int_key = ed_key();
	P.inter = make_cert(P.int_key, "msecgw test members CA", P.ca, P.ca_key, true, T_2026,
			T_2036);
	P.ks_pkey = ec_key();
	P.ks_cert = make_cert(P.ks_pkey, "gcks.example", P.ca, P.ca_key, false, T_2026, T_2036);
	P.gm_pkey = ed_key();
	P.gm_cert = make_cert(P.gm_pkey, "gm1.example", P.ca, P.ca_key, false, T_2026, T_2036);
	P.gm2_pkey = ed_key();
	P.gm2_cert = make_cert(P.gm2_pkey, "gm2.example", P.inter, P.int_key, false, T_2026,
			T_2036);
	P.rogue_ca_key = ec_key();
	P.rogue_ca = make_cert(P.rogue_ca_key, "msecgw test CA", NULL, NULL, true, T_2026, T_2036);
	P.rogue_pkey = ec_key();
	P.rogue_cert = make_cert(P.rogue_pkey, "gcks.example", P.rogue_ca, P.rogue_ca_key, false,
			T_2026, T_2036);
	ck_assert_int_eq(gsakmp_key_new(P.ks_pkey, P.ks_cert, &P.ks), 0);
	ck_assert_int_eq(gsakmp_key_new(P.gm_pkey, P.gm_cert, &P.gm), 0);
	ck_assert_int_eq(gsakmp_key_new(P.gm2_pkey, P.gm2_cert, &P.gm2), 0);
	ck_assert_int_eq(gsakmp_key_new(P.rogue_pkey, P.rogue_cert, &P.rogue), 0);
	ck_assert_int_eq(gsakmp_trust_new(&P.trust), 0);
	ck_assert_int_eq(gsakmp_trust_add(P.trust, P.ca), 0);
}

/* ------------------------------------------------------------------ shared test data */

static const uint8_t TGID[] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
	'i', 'p', 't', 'v', '-', '1' };
static const uint8_t NI[32] = { R32(0xa0) };
static const uint8_t NR[32] = { R32(0x40) };
static const uint8_t PT_DATA[] = "a policy token (RFC 4534 CMS SignedData in real life)";
/* RFC 7748 §6.1: Alice is the member, Bob the GC/KS */
static const char ALICE_PRIV[] =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char ALICE_PUB[] =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char BOB_PRIV[] =
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char BOB_PUB[] =
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char SHARED[] =
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
static const uint8_t GTPK_KEY[20] = { KEYMAT20 };
/* LKH node keys (AES-256 KEKs) by Key ID; the handle is the key's version. */
static uint8_t NODE_KEY[16][2][32];

static void node_keys_init(void)
{
	for (int id = 0; id < 16; id++)
		for (int h = 0; h < 2; h++)
			for (int i = 0; i < 32; i++)
				NODE_KEY[id][h][i] = (uint8_t)(id * 37 + h * 101 + i);
}

static void hex(const char *h, uint8_t *out, size_t n)
{
	ck_assert_int_eq(test_hex(h, out, n), (int)n);
}

static void hdr_init(struct gsakmp_hdr *h, uint8_t exch, uint32_t seq)
{
	memset(h, 0, sizeof(*h));
	h->gid_type = GSAKMP_GID_OCTETS;
	h->gid_len = sizeof(TGID);
	memcpy(h->gid, TGID, sizeof(TGID));
	h->version = GSAKMP_VERSION;
	h->exch = exch;
	h->seq = seq;
}

static struct gsakmp_dec_ctx ctx_for(uint8_t exch)
{
	struct gsakmp_dec_ctx c = {
		.gid = TGID, .gid_type = GSAKMP_GID_OCTETS, .gid_len = sizeof(TGID),
		.exch_mask = GSAKMP_EXCH_BIT(exch),
	};
	return c;
}

static void datum(struct gsakmp_key_datum *d, uint16_t type, uint32_t id, uint32_t handle,
		const uint8_t *key)
{
	d->type = type;
	d->id = id;
	d->handle = handle;
	d->created = KEY_CREATED;
	d->expires = KEY_EXPIRES;
	d->key = key;
	d->key_len = gsakmp_key_type_len(type);
}

static void sa_attrs(struct gsakmp_sa_attrs *sa, bool full)
{
	memset(sa, 0, sizeof(*sa));
	sa->key_id = 1;
	sa->key_handle = 1;
	sa->present = 1u << GSAKMP_ATTR_SPI | 1u << GSAKMP_ATTR_SUITE;
	sa->spi = 0x1000;
	sa->suite = GSAKMP_SUITE_AES_GCM_128;
	if (!full)
		return;
	sa->present |= 1u << GSAKMP_ATTR_FLAGS | 1u << GSAKMP_ATTR_SID_BITS |
		1u << GSAKMP_ATTR_SIDS | 1u << GSAKMP_ATTR_ACT_DELAY |
		1u << GSAKMP_ATTR_DEACT_DELAY | 1u << GSAKMP_ATTR_REPLAY_WINDOW |
		1u << GSAKMP_ATTR_GROUP_ADDR | 1u << GSAKMP_ATTR_SOURCE_ADDR |
		1u << GSAKMP_ATTR_TESLA;
	sa->flags = GSAKMP_SAF_PRESERVE_SRC | GSAKMP_SAF_PRESERVE_DST | GSAKMP_SAF_ESN |
		GSAKMP_SAF_SEND | GSAKMP_SAF_RECEIVE;
	sa->sid_bits = 12;
	sa->nb_sids = 3;
	sa->sids[0] = 1;
	sa->sids[1] = 2;
	sa->sids[2] = 0xfff;
	sa->act_delay_ms = 1000;
	sa->deact_delay_ms = 5000;
	sa->replay_window = 1024;
	sa->addr_len = 4;
	memcpy(sa->group_addr, (const uint8_t[]){ 232, 1, 1, 1 }, 4);
	memcpy(sa->source_addr, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
	sa->tesla.interval_ms = 20;
	sa->tesla.d = 2;
	sa->tesla.mac = GSAKMP_TESLA_MAC_HMAC_SHA256_128;
	sa->tesla.t0_ms = (uint64_t)NOW * 1000;
	sa->tesla.chain_len = 100000;
	sa->tesla.max_skew_ms = 15;
	sa->tesla.nb_senders = 2;
	sa->tesla.senders[0].nb_sids = 2;
	sa->tesla.senders[0].sids[0] = 1;
	sa->tesla.senders[0].sids[1] = 2;
	memset(sa->tesla.senders[0].commitment, 0x5c, GSAKMP_TESLA_COMMIT_LEN);
	sa->tesla.senders[1].nb_sids = 1;
	sa->tesla.senders[1].sids[0] = 0xfff;
	sa->tesla.senders[1].chain = 3;
	memset(sa->tesla.senders[1].commitment, 0x5d, GSAKMP_TESLA_COMMIT_LEN);
}

/* The Key Download member 5 (leaf 12) gets: the GTPK, its LKH path below the root (KeyIDs 3,
 * 6, 12; RFC 4535 Appendix A.2) and the data SA. */
static void kd_example(struct gsakmp_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	kd->nb_items = 3;
	kd->items[0].type = GSAKMP_KDD_GTPK;
	datum(&kd->items[0].u.datum, GSAKMP_KEY_AES_GCM_128, 1, 1, GTPK_KEY);
	kd->items[1].type = GSAKMP_KDD_REKEY_LKH;
	kd->items[1].u.ra.version = 1;
	kd->items[1].u.ra.member_id = 5;
	kd->items[1].u.ra.nb_keys = 3;
	kd->items[1].u.ra.first_key = 0;
	kd->nb_keys = 3;
	datum(&kd->keys[0], GSAKMP_KEY_AES_256_KEK, 3, 1, NODE_KEY[3][1]);
	datum(&kd->keys[1], GSAKMP_KEY_AES_256_KEK, 6, 1, NODE_KEY[6][1]);
	datum(&kd->keys[2], GSAKMP_KEY_AES_256_KEK, 12, 1, NODE_KEY[12][1]);
	kd->items[2].type = GSAKMP_KDD_DATA_SA;
	sa_attrs(&kd->items[2].u.sa, true);
}

static void derive_kek(uint8_t kek[GSAKMP_KEK_LEN])
{
	uint8_t priv[32], pub_a[32], pub_b[32], shared[32];
	struct gsakmp_kex *a;

	hex(ALICE_PRIV, priv, 32);
	hex(ALICE_PUB, pub_a, 32);
	hex(BOB_PUB, pub_b, 32);
	ck_assert_int_eq(gsakmp_kex_x25519_from_private(priv, &a), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(a, pub_b, shared), 0);
	gsakmp_kex_free(a);
	struct gsakmp_kek_info in = {
		.gid = TGID, .gid_len = sizeof(TGID), .pub_gm = pub_a, .pub_ks = pub_b,
		.nonce_i = NI, .nonce_i_len = 32, .nonce_r = NR, .nonce_r_len = 32,
	};
	ck_assert_int_eq(gsakmp_kek_derive(shared, &in, kek), 0);
}

static const uint8_t VID[GSAKMP_PROFILE_VID_LEN] = { VID_BYTES };
static const uint8_t GTPK2_KEY[20] = { R16(0x70), 0x80, 0x81, 0x82, 0x83 };

static void add_sig_cert(struct gsakmp_enc *e, const struct gsakmp_key *k)
{
	const uint8_t *der;
	size_t n;

	gsakmp_enc_payload_sig(e, k, GSAKMP_ID_DN_STRING, NOW);
	gsakmp_key_cert_der(k, &der, &n);
	gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, der, n);
}

static void add_id(struct gsakmp_enc *e, uint8_t cls, X509 *who)
{
	uint8_t dn[256];
	size_t n;

	ck_assert_int_eq(gsakmp_signer_id(who, GSAKMP_ID_DN_STRING, dn, sizeof(dn), &n), 0);
	gsakmp_enc_payload_id(e, cls, GSAKMP_ID_DN_STRING, dn, n);
}

/* Packages of the Appendix A.3.2 leave: GTPK' and new KEKs 3' and 6' (handle 2). */
static void leave_pkgs(struct gsakmp_kd *k, int nb_keks)
{
	memset(k, 0, sizeof(*k));
	k->nb_items = (uint16_t)(1 + nb_keks);
	k->items[0].type = GSAKMP_KDD_GTPK;
	datum(&k->items[0].u.datum, GSAKMP_KEY_AES_GCM_128, 1, 2, GTPK2_KEY);
	if (nb_keks >= 1) {
		k->items[1].type = GSAKMP_KDD_REKEY_LKH;
		datum(&k->items[1].u.datum, GSAKMP_KEY_AES_256_KEK, 3, 2, NODE_KEY[3][0]);
	}
	if (nb_keks >= 2) {
		k->items[2].type = GSAKMP_KDD_REKEY_LKH;
		datum(&k->items[2].u.datum, GSAKMP_KEY_AES_256_KEK, 6, 2, NODE_KEY[6][0]);
	}
}

/* Rekey Event payload of the leave: blocks under KeyID 2, 12 and 7 (handle 1). */
static void add_leave_rekey(struct gsakmp_enc *e, uint16_t alg)
{
	static const struct { uint32_t wrap; int keks; } blocks[] = {
		{ 2, 0 }, { 12, 2 }, { 7, 1 },
	};
	struct gsakmp_kd pkgs;

	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	for (size_t i = 0; i < 3; i++) {
		leave_pkgs(&pkgs, blocks[i].keks);
		gsakmp_enc_rekey_data_sealed(e, blocks[i].wrap, 1, &pkgs, alg,
				NODE_KEY[blocks[i].wrap][1]);
	}
	gsakmp_enc_rekey_end(e);
}

static void gtpk_kek(uint8_t kek[GSAKMP_KEK_LEN])
{
	struct gsakmp_key_datum d;

	datum(&d, GSAKMP_KEY_AES_GCM_128, 1, 1, GTPK_KEY);
	ck_assert_int_eq(gsakmp_key_kek(&d, kek), 0);
}

static const uint8_t EXCHS[] = {
	GSAKMP_EXCH_KEYDL_ACK, GSAKMP_EXCH_REKEY, GSAKMP_EXCH_RTJ, GSAKMP_EXCH_KEYDL,
	GSAKMP_EXCH_COOKIE_DL, GSAKMP_EXCH_RTJ_ERR, GSAKMP_EXCH_LOA, GSAKMP_EXCH_RTD,
	GSAKMP_EXCH_DR, GSAKMP_EXCH_DA,
};
#define NB_EXCHS (int)(sizeof(EXCHS) / sizeof(EXCHS[0]))

/* One example of each exchange with every optional payload, as the encoder makes it. */
static size_t build_exch(uint8_t exch, uint8_t *buf, size_t cap)
{
	static const uint8_t cookie[GSAKMP_COOKIE_LEN] = { 0, X8(0x33), X8(0x44) };
	static const uint8_t ack = GSAKMP_ACK_SIMPLE;
	static const uint8_t ip4[4] = { 198, 51, 100, 7 };
	const struct gsakmp_mech mech[3] = {
		{ GSAKMP_MECH_KEY_CREATION, GSAKMP_MECH_KC_X25519 },
		{ GSAKMP_MECH_ENCRYPTION, GSAKMP_MECH_ENC_AES256_GCM },
		{ GSAKMP_MECH_NONCE_HASH, GSAKMP_MECH_NONCE_SHA256 },
	};
	uint8_t nc[32], kek[32], pub[32], mb[16];
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_kd kd;
	size_t len = 0, n;

	hdr_init(&h, exch, exch == GSAKMP_EXCH_REKEY ? 7 : 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, cap, &h), 0);
	ck_assert_int_eq(gsakmp_nonce_c(NI, 32, NR, 32, nc), 0);
	switch (exch) {
	case GSAKMP_EXCH_RTJ:
		hex(ALICE_PUB, pub, 32);
		gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, pub, 32);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, NI, 32);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		ck_assert_int_eq(gsakmp_mech_build(mech, 3, mb, sizeof(mb), &n), 0);
		gsakmp_enc_payload_notify(e, GSAKMP_N_MECH_CHOICES, mb, n);
		gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE, cookie, sizeof(cookie));
		gsakmp_enc_payload_notify(e, GSAKMP_N_IPV4_VALUE, ip4, sizeof(ip4));
		add_sig_cert(e, P.gm);
		break;
	case GSAKMP_EXCH_KEYDL:
		add_id(e, GSAKMP_IDC_RECEIVER, P.gm_cert);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, NR, 32);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
		hex(BOB_PUB, pub, 32);
		gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, pub, 32);
		derive_kek(kek);
		gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, PT_DATA, sizeof(PT_DATA),
				GSAKMP_KEK_AES256_GCM, kek);
		kd_example(&kd);
		gsakmp_enc_payload_kdl_sealed(e, &kd, GSAKMP_KEK_AES256_GCM, kek);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		add_sig_cert(e, P.ks);
		break;
	case GSAKMP_EXCH_KEYDL_ACK:
	case GSAKMP_EXCH_DA:
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
		gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, &ack, 1);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		add_sig_cert(e, P.gm);
		break;
	case GSAKMP_EXCH_REKEY:
		/* a new PT rides in the old GTPK (§5.3.1.1) */
		gtpk_kek(kek);
		gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, PT_DATA, sizeof(PT_DATA),
				GSAKMP_KEK_AES256_GCM, kek);
		add_leave_rekey(e, GSAKMP_KEK_AES256_GCM);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		add_sig_cert(e, P.ks);
		break;
	case GSAKMP_EXCH_COOKIE_DL:
		gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, cookie, sizeof(cookie));
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		break;
	case GSAKMP_EXCH_RTJ_ERR:
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, NI, 32);
		gsakmp_enc_payload_notify(e, GSAKMP_N_UNAUTHORIZED_REQUEST, NULL, 0);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		break;
	case GSAKMP_EXCH_LOA:
	case GSAKMP_EXCH_DR:
		add_id(e, GSAKMP_IDC_RECEIVER, P.gm_cert);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, NR, 32);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
		gsakmp_enc_payload_notify(e, exch == GSAKMP_EXCH_DR ?
				GSAKMP_N_DEPARTURE_ACCEPTED : GSAKMP_N_NACK, NULL, 0);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		add_sig_cert(e, P.ks);
		break;
	case GSAKMP_EXCH_RTD:
		add_id(e, GSAKMP_IDC_RECEIVER, P.ks_cert);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, NI, 32);
		gsakmp_enc_payload_notify(e, GSAKMP_N_LEAVE_GROUP, NULL, 0);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		add_sig_cert(e, P.gm);
		break;
	default:
		ck_abort();
	}
	ck_assert_int_eq(gsakmp_enc_finish(e, &len), 0);
	return len;
}

static bool exch_signed(uint8_t exch)
{
	return exch != GSAKMP_EXCH_COOKIE_DL && exch != GSAKMP_EXCH_RTJ_ERR;
}

static bool datum_eq(const struct gsakmp_key_datum *a, const struct gsakmp_key_datum *b)
{
	return a->type == b->type && a->id == b->id && a->handle == b->handle &&
		a->created == b->created && a->expires == b->expires &&
		a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Field by field, the counted parts only. */
static bool tesla_eq(const struct gsakmp_tesla *a, const struct gsakmp_tesla *b)
{
	if (a->interval_ms != b->interval_ms || a->d != b->d || a->mac != b->mac ||
			a->t0_ms != b->t0_ms || a->chain_len != b->chain_len ||
			a->max_skew_ms != b->max_skew_ms || a->nb_senders != b->nb_senders ||
			a->nb_senders > GSAKMP_TESLA_MAX_SENDERS)
		return false;
	for (unsigned int k = 0; k < a->nb_senders; k++) {
		const struct gsakmp_tesla_sender *x = &a->senders[k], *y = &b->senders[k];

		if (x->nb_sids != y->nb_sids || x->nb_sids > GSAKMP_MAX_SIDS ||
				x->chain != y->chain ||
				memcmp(x->commitment, y->commitment, sizeof(x->commitment)) != 0 ||
				memcmp(x->sids, y->sids, sizeof(x->sids[0]) * x->nb_sids) != 0)
			return false;
	}
	return true;
}

static bool sa_eq(const struct gsakmp_sa_attrs *a, const struct gsakmp_sa_attrs *b)
{
	return a->key_id == b->key_id && a->key_handle == b->key_handle &&
		a->present == b->present && a->spi == b->spi && a->suite == b->suite &&
		a->flags == b->flags && a->sid_bits == b->sid_bits && a->nb_sids == b->nb_sids &&
		memcmp(a->sids, b->sids, sizeof(a->sids[0]) * a->nb_sids) == 0 &&
		a->act_delay_ms == b->act_delay_ms && a->deact_delay_ms == b->deact_delay_ms &&
		a->replay_window == b->replay_window && a->addr_len == b->addr_len &&
		memcmp(a->group_addr, b->group_addr, a->addr_len) == 0 &&
		memcmp(a->source_addr, b->source_addr, a->addr_len) == 0 &&
		tesla_eq(&a->tesla, &b->tesla);
}

static void ck_kd_eq(const struct gsakmp_kd *a, const struct gsakmp_kd *b, bool kpkg)
{
	ck_assert_uint_eq(a->nb_items, b->nb_items);
	for (uint16_t i = 0; i < a->nb_items; i++) {
		const struct gsakmp_kd_item *x = &a->items[i], *y = &b->items[i];

		ck_assert_uint_eq(x->type, y->type);
		if (x->type == GSAKMP_KDD_GTPK || (kpkg && x->type == GSAKMP_KDD_REKEY_LKH)) {
			ck_assert(datum_eq(&x->u.datum, &y->u.datum));
		} else if (x->type == GSAKMP_KDD_REKEY_LKH) {
			ck_assert_uint_eq(x->u.ra.version, y->u.ra.version);
			ck_assert_uint_eq(x->u.ra.member_id, y->u.ra.member_id);
			ck_assert_uint_eq(x->u.ra.nb_keys, y->u.ra.nb_keys);
			for (uint16_t k = 0; k < x->u.ra.nb_keys; k++)
				ck_assert(datum_eq(&a->keys[x->u.ra.first_key + k],
						&b->keys[y->u.ra.first_key + k]));
		} else {
			ck_assert(sa_eq(&x->u.sa, &y->u.sa));
		}
	}
}

/* ------------------------------------------------------------------ timestamps and errors */

START_TEST(test_time)
{
	static const struct { int64_t t; const char *s; } ok[] = {
		{ 0, "19700101000000Z" },
		{ 951782400, "20000229000000Z" },     /* a leap day in a century leap year */
		{ NOW, "20260301120000Z" },
		{ INT64_C(4102444799), "20991231235959Z" },
		{ INT64_C(253402300799), "99991231235959Z" },
	};
	static const char *const bad[] = {
		"19691231235959Z", "21000229000000Z", "20250229000000Z", "20260431000000Z",
		"20260001000000Z", "20261301000000Z", "20260100000000Z", "20260101240000Z",
		"20260101006000Z", "20260101000060Z", "2026010100000 Z", "20260101000000z",
		"2026-101000000Z", "20260101000000\0",
	};
	char out[GSAKMP_TS_LEN + 1];
	int64_t t;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(gsakmp_time_format(ok[i].t, out), 0);
		ck_assert_str_eq(out, ok[i].s);
		ck_assert_int_eq(gsakmp_time_parse((const uint8_t *)ok[i].s, &t), 0);
		ck_assert_int_eq(t, ok[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(gsakmp_time_parse((const uint8_t *)bad[i], &t) ==
				-GSAKMP_E_TIMESTAMP, "%s", bad[i]);
	ck_assert_int_eq(gsakmp_time_format(-1, out), -GSAKMP_E_TIMESTAMP);
	ck_assert_int_eq(gsakmp_time_format(INT64_C(253402300800), out), -GSAKMP_E_TIMESTAMP);
	/* every day of a leap and a common year round-trips */
	for (int64_t d = 0; d < 2 * 366; d++) {
		int64_t when = INT64_C(946684800) + d * 86400 + 3723;

		ck_assert_int_eq(gsakmp_time_format(when, out), 0);
		ck_assert_int_eq(gsakmp_time_parse((const uint8_t *)out, &t), 0);
		ck_assert_int_eq(t, when);
	}
}
END_TEST

START_TEST(test_errors)
{
	for (int e = 0; e < GSAKMP_E__MAX; e++) {
		ck_assert_str_ne(gsakmp_errname(e), "unknown");
		ck_assert_str_ne(gsakmp_strerror(-e), "unknown error");
		ck_assert_str_eq(gsakmp_errname(e), gsakmp_errname(-e));
		for (int f = 0; f < e; f++)
			ck_assert_str_ne(gsakmp_errname(e), gsakmp_errname(f));
	}
	ck_assert_str_eq(gsakmp_errname(GSAKMP_E__MAX), "unknown");
	ck_assert_str_eq(gsakmp_strerror(-1000), "unknown error");
	ck_assert_str_eq(gsakmp_errname(-GSAKMP_E_BAD_SIGNATURE), "bad_signature");
	ck_assert_uint_eq(gsakmp_err_notify(-GSAKMP_E_VERSION), GSAKMP_N_INVALID_VERSION);
	ck_assert_uint_eq(gsakmp_err_notify(-GSAKMP_E_REPLAY), GSAKMP_N_INVALID_SEQUENCE_ID);
	ck_assert_uint_eq(gsakmp_err_notify(-GSAKMP_E_BAD_SIGNATURE),
			GSAKMP_N_AUTHENTICATION_FAILED);
	ck_assert_uint_eq(gsakmp_err_notify(-GSAKMP_E_NO_SPACE), 0);
}
END_TEST

/* ------------------------------------------------------------------ hand-built decoding */

START_TEST(test_hb_cookie_dl)
{
	struct gsakmp_msg m;
	const struct gsakmp_payload *p;

	ck_assert_int_eq(sizeof(hb_cookie_dl), 64);
	ck_assert_int_eq(gsakmp_decode(hb_cookie_dl, sizeof(hb_cookie_dl), &m, NULL), 0);
	ck_assert_uint_eq(m.hdr.gid_type, GSAKMP_GID_OCTETS);
	ck_assert_uint_eq(m.hdr.gid_len, 9);
	ck_assert_mem_eq(m.hdr.gid, hb_cookie_dl + 2, 9);
	ck_assert_uint_eq(m.hdr.version, 1);
	ck_assert_uint_eq(m.hdr.exch, GSAKMP_EXCH_COOKIE_DL);
	ck_assert_uint_eq(m.hdr.seq, 0);
	ck_assert_uint_eq(m.hdr.length, 64);
	ck_assert_uint_eq(m.nb_payloads, 2);
	ck_assert_int_eq(m.sig_index, -1);
	ck_assert(m.profile);
	p = &m.pl[0];
	ck_assert_uint_eq(p->type, GSAKMP_PL_NOTIFICATION);
	ck_assert_uint_eq(p->offset, 22);
	ck_assert_uint_eq(p->length, 22);
	ck_assert_uint_eq(p->u.notify.type, GSAKMP_N_COOKIE_REQUIRED);
	ck_assert_uint_eq(p->u.notify.len, 16);
	ck_assert_ptr_eq(p->u.notify.data, hb_cookie_dl + 28);
	p = &m.pl[1];
	ck_assert_uint_eq(p->type, GSAKMP_PL_VENDOR_ID);
	ck_assert_uint_eq(p->u.vid.len, 16);
	ck_assert_mem_eq(p->u.vid.data, GSAKMP_PROFILE_VID, 16);
}
END_TEST

START_TEST(test_hb_rtj)
{
	struct gsakmp_mech mech[4];
	struct gsakmp_msg m;
	const struct gsakmp_payload *p;
	const struct gsakmp_sig *s;

	ck_assert_int_eq(sizeof(hb_rtj), 261);
	ck_assert_int_eq(gsakmp_decode(hb_rtj, sizeof(hb_rtj), &m, NULL), 0);
	ck_assert_uint_eq(m.hdr.exch, GSAKMP_EXCH_RTJ);
	ck_assert_uint_eq(m.nb_payloads, 7);
	p = gsakmp_msg_find(&m, GSAKMP_PL_KEY_CREATION, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->offset, 22);
	ck_assert_uint_eq(p->u.kc.type, GSAKMP_KC_X25519);
	ck_assert_uint_eq(p->u.kc.len, 32);
	ck_assert_uint_eq(p->u.kc.data[0], 0x01);
	ck_assert_uint_eq(p->u.kc.data[31], 0x20);
	p = gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 0);
	ck_assert_uint_eq(p->offset, 60);
	ck_assert_uint_eq(p->u.nonce.type, GSAKMP_NONCE_I);
	ck_assert_uint_eq(p->u.nonce.len, 32);
	ck_assert_mem_eq(p->u.nonce.data, NI, 32);
	ck_assert(m.profile);
	p = gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 0);
	ck_assert_uint_eq(p->u.notify.type, GSAKMP_N_MECH_CHOICES);
	ck_assert_int_eq(gsakmp_mech_parse(&p->u.notify, mech, 4), 3);
	ck_assert_uint_eq(mech[0].type, GSAKMP_MECH_KEY_CREATION);
	ck_assert_uint_eq(mech[0].choice, GSAKMP_MECH_KC_X25519);
	ck_assert_uint_eq(mech[1].type, GSAKMP_MECH_ENCRYPTION);
	ck_assert_uint_eq(mech[1].choice, GSAKMP_MECH_ENC_AES256_GCM);
	ck_assert_uint_eq(mech[2].type, GSAKMP_MECH_NONCE_HASH);
	ck_assert_uint_eq(mech[2].choice, GSAKMP_MECH_NONCE_SHA256);
	ck_assert_int_eq(gsakmp_mech_parse(&p->u.notify, mech, 2), 2);
	p = gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 1);
	ck_assert_uint_eq(p->u.notify.type, GSAKMP_N_COOKIE);
	ck_assert_uint_eq(p->u.notify.len, 17);
	ck_assert_uint_eq(p->u.notify.data[0], 0);
	ck_assert_uint_eq(p->u.notify.data[16], 0x5a);
	ck_assert_ptr_null(gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 2));
	ck_assert_int_eq(m.sig_index, 5);
	s = &m.pl[5].u.sig;
	ck_assert_uint_eq(m.pl[5].offset, 155);
	ck_assert_uint_eq(s->type, GSAKMP_SIG_ED25519);
	ck_assert_uint_eq(s->id_type, GSAKMP_ID_DN_STRING);
	ck_assert_int_eq(s->timestamp, NOW);
	ck_assert_uint_eq(s->signer_len, 5);
	ck_assert_mem_eq(s->signer, "CN=gm", 5);
	ck_assert_uint_eq(s->sig_len, 64);
	ck_assert_ptr_eq(s->sig, hb_rtj + 186);
	ck_assert_uint_eq(s->signed_len, 184);
	p = &m.pl[6];
	ck_assert_uint_eq(p->type, GSAKMP_PL_CERT);
	ck_assert_uint_eq(p->u.cert.type, GSAKMP_CERT_X509_SIG);
	ck_assert_uint_eq(p->u.cert.len, 5);
	ck_assert_ptr_eq(p->u.cert.data, hb_rtj + 256);
}
END_TEST

START_TEST(test_hb_keydl)
{
	static const uint8_t v6[16] = { 0xff, 0x3e, [12] = 0x80, [15] = 0x01 };
	struct gsakmp_msg m;
	const struct gsakmp_payload *p;

	ck_assert_int_eq(sizeof(hb_keydl), 332);
	ck_assert_int_eq(gsakmp_decode(hb_keydl, sizeof(hb_keydl), &m, NULL), 0);
	ck_assert_uint_eq(m.hdr.gid_type, GSAKMP_GID_IPV6);
	ck_assert_uint_eq(m.hdr.gid_len, 24);
	ck_assert_mem_eq(m.hdr.gid + 8, v6, 16);
	ck_assert_uint_eq(m.hdr.exch, GSAKMP_EXCH_KEYDL);
	ck_assert_uint_eq(m.nb_payloads, 8);
	p = gsakmp_msg_find(&m, GSAKMP_PL_ID, 0);
	ck_assert_uint_eq(p->offset, 37);
	ck_assert_uint_eq(p->u.id.cls, GSAKMP_IDC_RECEIVER);
	ck_assert_uint_eq(p->u.id.type, GSAKMP_ID_DN_STRING);
	ck_assert_uint_eq(p->u.id.len, 14);
	ck_assert_mem_eq(p->u.id.data, "CN=gm1.example", 14);
	ck_assert_uint_eq(gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 0)->u.nonce.type, GSAKMP_NONCE_R);
	ck_assert_uint_eq(gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 1)->u.nonce.type, GSAKMP_NONCE_C);
	p = gsakmp_msg_find(&m, GSAKMP_PL_POLICY_TOKEN, 0);
	ck_assert_uint_eq(p->offset, 169);
	ck_assert_uint_eq(p->u.pt.type, GSAKMP_PT_ASN1_V1);
	ck_assert_uint_eq(p->u.pt.len, 8);
	ck_assert_uint_eq(p->u.pt.data[0], 0xde);
	p = gsakmp_msg_find(&m, GSAKMP_PL_KEY_DOWNLOAD, 0);
	ck_assert_uint_eq(p->offset, 183);
	ck_assert_uint_eq(p->u.kdl.len, 30);
	ck_assert_ptr_eq(p->u.kdl.body, hb_keydl + 187);
	ck_assert_uint_eq(m.pl[m.sig_index].u.sig.type, GSAKMP_SIG_ECDSA_P256_SHA256);
	ck_assert_uint_eq(m.pl[m.sig_index].u.sig.signed_len, 237 + 4 + 20 + 5);
}
END_TEST

START_TEST(test_hb_rekey)
{
	static const struct { uint32_t wrap; uint16_t len; int pkgs; } want[3] = {
		{ 2, 65, 1 }, { 12, 215, 3 }, { 7, 140, 2 },
	};
	struct gsakmp_red_iter it;
	struct gsakmp_red red;
	struct gsakmp_msg m;
	struct gsakmp_kd pk;
	const struct gsakmp_rekey *re;
	int n = 0;

	ck_assert_int_eq(sizeof(hb_rekey), 606);
	ck_assert_int_eq(gsakmp_decode(hb_rekey, sizeof(hb_rekey), &m, NULL), 0);
	ck_assert_uint_eq(m.hdr.gid_type, GSAKMP_GID_IPV4);
	ck_assert_uint_eq(m.hdr.seq, 2);
	ck_assert_uint_eq(m.nb_payloads, 2);
	ck_assert_uint_eq(m.pl[0].type, GSAKMP_PL_REKEY_EVENT);
	re = &m.pl[0].u.rekey;
	ck_assert_uint_eq(re->type, GSAKMP_REKEY_LKH);
	ck_assert_uint_eq(re->alg_version, 1);
	ck_assert_int_eq(re->timestamp, NOW);
	ck_assert_uint_eq(re->nb_data, 3);
	gsakmp_red_iter_init(&it, re);
	while (gsakmp_red_next(&it, &red)) {
		ck_assert_int_lt(n, 3);
		ck_assert_uint_eq(red.wrap_id, want[n].wrap);
		ck_assert_uint_eq(red.wrap_handle, 1);
		ck_assert_uint_eq(red.len, want[n].len);
		/* the bodies are plaintext Key Packages here (§7.5.1.2.1) */
		ck_assert_int_eq(gsakmp_kpkg_parse(red.body, red.len, &pk), 0);
		ck_assert_uint_eq(pk.nb_items, want[n].pkgs);
		ck_assert_uint_eq(pk.items[0].type, GSAKMP_KDD_GTPK);
		ck_assert_uint_eq(pk.items[0].u.datum.type, GSAKMP_KEY_AES_GCM_128);
		ck_assert_uint_eq(pk.items[0].u.datum.id, 1);
		ck_assert_uint_eq(pk.items[0].u.datum.handle, 2);
		ck_assert_int_eq(pk.items[0].u.datum.created, KEY_CREATED);
		ck_assert_int_eq(pk.items[0].u.datum.expires, KEY_EXPIRES);
		ck_assert_mem_eq(pk.items[0].u.datum.key, GTPK_KEY, 20);
		if (want[n].pkgs > 1) {
			ck_assert_uint_eq(pk.items[1].type, GSAKMP_KDD_REKEY_LKH);
			ck_assert_uint_eq(pk.items[1].u.datum.type, GSAKMP_KEY_AES_256_KEK);
			ck_assert_uint_eq(pk.items[1].u.datum.id, 3);
			ck_assert_uint_eq(pk.items[1].u.datum.key_len, 32);
			ck_assert_uint_eq(pk.items[1].u.datum.key[0], 0x30);
		}
		if (want[n].pkgs > 2)
			ck_assert_uint_eq(pk.items[2].u.datum.id, 6);
		n++;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(m.pl[1].u.sig.signed_len, 511 + 4 + 20 + 5);
}
END_TEST

START_TEST(test_hb_da)
{
	struct gsakmp_msg m;
	const struct gsakmp_payload *p;

	ck_assert_int_eq(sizeof(hb_da), 172);
	ck_assert_int_eq(gsakmp_decode(hb_da, sizeof(hb_da), &m, NULL), 0);
	ck_assert_uint_eq(m.hdr.gid_type, GSAKMP_GID_UTF8);
	ck_assert_uint_eq(m.hdr.gid_len, 20);
	ck_assert_uint_eq(m.hdr.exch, GSAKMP_EXCH_DA);
	ck_assert(!m.profile);
	p = gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 0);
	ck_assert_uint_eq(p->offset, 70);
	ck_assert_uint_eq(p->u.notify.type, GSAKMP_N_ACK);
	ck_assert_int_eq(gsakmp_notify_ack_type(&p->u.notify), GSAKMP_ACK_SIMPLE);
	ck_assert_int_eq(gsakmp_notify_ack_type(&m.pl[0].u.notify), -GSAKMP_E_NOTIFY);
}
END_TEST

START_TEST(test_hb_kd)
{
	struct gsakmp_kd kd, kd2;
	const struct gsakmp_sa_attrs *sa;
	uint8_t out[512];
	size_t n;

	ck_assert_int_eq(sizeof(hb_kd), 281);
	ck_assert_int_eq(gsakmp_kd_parse(hb_kd, sizeof(hb_kd), &kd), 0);
	ck_assert_uint_eq(kd.nb_items, 3);
	ck_assert_uint_eq(kd.items[0].type, GSAKMP_KDD_GTPK);
	ck_assert_uint_eq(kd.items[0].u.datum.type, GSAKMP_KEY_AES_GCM_128);
	ck_assert_uint_eq(kd.items[0].u.datum.id, 1);
	ck_assert_uint_eq(kd.items[0].u.datum.handle, 1);
	ck_assert_int_eq(kd.items[0].u.datum.created, KEY_CREATED);
	ck_assert_int_eq(kd.items[0].u.datum.expires, KEY_EXPIRES);
	ck_assert_uint_eq(kd.items[0].u.datum.key_len, 20);
	ck_assert_ptr_eq(kd.items[0].u.datum.key, hb_kd + 45);
	ck_assert_uint_eq(kd.items[1].type, GSAKMP_KDD_REKEY_LKH);
	ck_assert_uint_eq(kd.items[1].u.ra.version, 1);
	ck_assert_uint_eq(kd.items[1].u.ra.member_id, 1);
	ck_assert_uint_eq(kd.items[1].u.ra.nb_keys, 2);
	ck_assert_uint_eq(kd.nb_keys, 2);
	ck_assert_uint_eq(kd.keys[0].id, 2);
	ck_assert_uint_eq(kd.keys[0].key_len, 32);
	ck_assert_ptr_eq(kd.keys[0].key, hb_kd + 115);
	ck_assert_uint_eq(kd.keys[1].id, 4);
	ck_assert_ptr_eq(kd.keys[1].key, hb_kd + 187);
	ck_assert_uint_eq(kd.items[2].type, GSAKMP_KDD_DATA_SA);
	sa = &kd.items[2].u.sa;
	ck_assert_uint_eq(sa->key_id, 1);
	ck_assert_uint_eq(sa->spi, 0x1000);
	ck_assert_uint_eq(sa->suite, GSAKMP_SUITE_AES_GCM_128);
	ck_assert_uint_eq(sa->flags, GSAKMP_SAF_PRESERVE_SRC | GSAKMP_SAF_PRESERVE_DST |
			GSAKMP_SAF_SEND | GSAKMP_SAF_RECEIVE);
	ck_assert_uint_eq(sa->sid_bits, 8);
	ck_assert_uint_eq(sa->nb_sids, 2);
	ck_assert_uint_eq(sa->sids[1], 2);
	ck_assert_uint_eq(sa->act_delay_ms, 1000);
	ck_assert_uint_eq(sa->deact_delay_ms, 2000);
	ck_assert(!(sa->present & (1u << GSAKMP_ATTR_TESLA)));
	/* and the encoder writes exactly these bytes back */
	ck_assert_int_eq(gsakmp_kd_build(&kd, out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, sizeof(hb_kd));
	ck_assert_mem_eq(out, hb_kd, n);
	ck_assert_int_eq(gsakmp_kd_build(&kd, out, n - 1, &n), -GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_kd_parse(out, sizeof(hb_kd), &kd2), 0);
	ck_kd_eq(&kd, &kd2, false);
}
END_TEST

/* Every hand-built message re-encodes to its own bytes. */
START_TEST(test_hb_reencode)
{
	static const struct { const uint8_t *b; size_t n; } v[] = {
		{ hb_cookie_dl, sizeof(hb_cookie_dl) }, { hb_rtj, sizeof(hb_rtj) },
		{ hb_keydl, sizeof(hb_keydl) }, { hb_rekey, sizeof(hb_rekey) },
		{ hb_da, sizeof(hb_da) },
	};
	uint8_t out[1024];
	struct gsakmp_msg m;
	size_t n;

	ck_assert_int_eq(gsakmp_decode(v[_i].b, v[_i].n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_encode_msg(&m, out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, v[_i].n);
	ck_assert_mem_eq(out, v[_i].b, n);
	ck_assert_int_eq(gsakmp_encode_msg(&m, out, n - 1, &n), -GSAKMP_E_NO_SPACE);
}
END_TEST

/* ------------------------------------------------------------------ malformed messages */

/* A minimal independent framer for crafted variants: GID_OCT header, payload bodies given. */
struct raw_pl {
	uint8_t type;
	const uint8_t *body;
	size_t len;
};

static size_t raw_msg(uint8_t *out, uint8_t exch, uint32_t seq, const struct raw_pl *pl, int n)
{
	static const uint8_t gid[] = { GID_OCT };
	size_t off = sizeof(gid) + 11;

	memcpy(out, gid, sizeof(gid));
	out[11] = n > 0 ? pl[0].type : 0;
	out[12] = 1;
	out[13] = exch;
	out[14] = (uint8_t)(seq >> 24);
	out[15] = (uint8_t)(seq >> 16);
	out[16] = (uint8_t)(seq >> 8);
	out[17] = (uint8_t)seq;
	for (int i = 0; i < n; i++) {
		size_t l = 4 + pl[i].len;

		out[off] = i + 1 < n ? pl[i + 1].type : 0;
		out[off + 1] = 0;
		out[off + 2] = (uint8_t)(l >> 8);
		out[off + 3] = (uint8_t)l;
		memcpy(out + off + 4, pl[i].body, pl[i].len);
		off += l;
	}
	out[18] = (uint8_t)(off >> 24);
	out[19] = (uint8_t)(off >> 16);
	out[20] = (uint8_t)(off >> 8);
	out[21] = (uint8_t)off;
	return off;
}

/* bodies for the crafted variants */
static const uint8_t b_cookie_req[] = { B16(27), R16(0xc0) };
static const uint8_t b_cookie_long[] = { B16(27), X64(1), 1 };
static const uint8_t b_vid[] = { VID_BYTES };
static const uint8_t b_vid3[] = { 'a', 'b', 'c' };
static const uint8_t b_nc[] = { 3, R32(0x60) };
static const uint8_t b_ni[] = { 1, R32(0xa0) };
static const uint8_t b_nr[] = { 2, R32(0x40) };
static const uint8_t b_ni3[] = { 1, 1, 2, 3 };
static const uint8_t b_ack[] = { B16(23), 0 };
static const uint8_t b_ack_extra[] = { B16(23), 0, 1 };
static const uint8_t b_mech4[] = { B16(29), 0, B16(0xc001), 1 };
static const uint8_t b_leave[] = { B16(30) };
static const uint8_t b_sig[] = { B16(0xc002), 0x1f, TS_S, B16(5), 'C', 'N', '=', 'g', 'm',
	B16(64), X64(0xee) };
static const uint8_t b_sig63[] = { B16(0xc002), 0x1f, TS_S, B16(5), 'C', 'N', '=', 'g', 'm',
	B16(63), X8(0xee), X8(0xee), X8(0xee), X8(0xee), X8(0xee), X8(0xee), X8(0xee),
	0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
static const uint8_t b_kc[] = { B16(0xc001), R32(0x01) };
static const uint8_t b_kc31[] = { B16(0xc001), R16(0x01), R8(0x11), 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t b_id[] = { 1, 0x1f, 'C', 'N', '=', 'k', 's' };
static const uint8_t b_id_v4[] = { 1, 1, 10, 0, 0, 1, 9 };
static const uint8_t b_id_uname[] = { 1, 30, X8(0), X8(0), 0, 0, 0, 0, B32(3), 'a', 'b' };
static const uint8_t b_pt1[] = { 0 };
static const uint8_t b_pt_empty[] = { B16(1) };
static const uint8_t b_pt[] = { B16(1), 1, 2, 3 };
static const uint8_t b_kdl1[] = { 0 };
static const uint8_t b_kdl[] = { B16(0) };
static const uint8_t b_short2[] = { 0, 1 };
static const uint8_t b_short1[] = { 1 };
static const uint8_t b_sig22[] = { B16(0xc002), 0x1f, TS_S, B16(1), 'x', 0 };
static const uint8_t b_cert1[] = { B16(4), 0x30 };
static const uint8_t b_cert_cut[] = { B16(4), 0x30, 0x82, 0x01 };
static const uint8_t b_id_v6[] = { 1, 5, R16(0x20) };
static const uint8_t b_id_v6_15[] = { 1, 5, R8(0x20), 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t b_n_v6[] = { B16(35), R16(0x20) };
static const uint8_t b_n_v6_15[] = { B16(35), R8(0x20), 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t b_kc_2048[] = { B16(14), X64(1), X64(1), X64(1), X64(1), 1 };
static const uint8_t b_rekey_short[] = { 1, 0x11, 0x22, 0x33 };
static const uint8_t b_rekey_none_data[] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 'G', TS_S, 0x00, 0x00, B16(1), B16(2), B32(1), B32(1), 0, 0 };

enum base {
	B_CDL, B_RTJ, B_KEYDL, B_REKEY, B_DA,
	V_DUP_VID, V_VID_SHORT, V_COOKIE_LONG, V_SIG_LEN, V_KC_LEN, V_NONCE_SHORT, V_MECH_LEN,
	V_ACK_EXTRA, V_ID_V4, V_ID_UNAME, V_PT_SHORT, V_PT_EMPTY, V_KDL_SHORT, V_NONCE_PAIR,
	V_TWO_SIGS, V_REKEY_NONE_DATA, V_UNSIGNED_SIG, V_ID_IN_RTJ,
	V_SHORT_REKEY, V_SHORT_ID, V_SHORT_CERT, V_SHORT_SIG, V_SHORT_NOTIFY, V_SHORT_KC,
	V_SHORT_NONCE, V_CERT_1, V_CERT_CUT, V_ID_V6, V_ID_V6_15, V_N_V6, V_N_V6_15, V_KC_2048,
};

#define PL(t, b) { GSAKMP_PL_##t, b, sizeof(b) }

static size_t get_base(int id, uint8_t *buf)
{
	switch (id) {
#define HB(x) memcpy(buf, x, sizeof(x)); return sizeof(x)
	case B_CDL: HB(hb_cookie_dl);
	case B_RTJ: HB(hb_rtj);
	case B_KEYDL: HB(hb_keydl);
	case B_REKEY: HB(hb_rekey);
	case B_DA: HB(hb_da);
#undef HB
#define V(exch, seq, ...) do { \
		const struct raw_pl p_[] = { __VA_ARGS__ }; \
		return raw_msg(buf, exch, seq, p_, (int)(sizeof(p_) / sizeof(p_[0]))); \
	} while (0)
	case V_DUP_VID:
		V(10, 0, PL(NOTIFICATION, b_cookie_req), PL(VENDOR_ID, b_vid),
			PL(VENDOR_ID, b_vid));
	case V_VID_SHORT:
		V(10, 0, PL(NOTIFICATION, b_cookie_req), PL(VENDOR_ID, b_vid3));
	case V_COOKIE_LONG:
		V(10, 0, PL(NOTIFICATION, b_cookie_long));
	case V_SIG_LEN:
		V(15, 0, PL(NONCE, b_nc), PL(NOTIFICATION, b_ack), PL(SIGNATURE, b_sig63));
	case V_KC_LEN:
		V(8, 0, PL(KEY_CREATION, b_kc31), PL(NONCE, b_ni), PL(SIGNATURE, b_sig));
	case V_NONCE_SHORT:
		V(8, 0, PL(KEY_CREATION, b_kc), PL(NONCE, b_ni3), PL(SIGNATURE, b_sig));
	case V_MECH_LEN:
		V(8, 0, PL(KEY_CREATION, b_kc), PL(NONCE, b_ni), PL(NOTIFICATION, b_mech4),
			PL(SIGNATURE, b_sig));
	case V_ACK_EXTRA:
		V(15, 0, PL(NOTIFICATION, b_ack_extra), PL(SIGNATURE, b_sig));
	case V_ID_V4:
		V(13, 0, PL(ID, b_id_v4), PL(NOTIFICATION, b_leave), PL(SIGNATURE, b_sig));
	case V_ID_UNAME:
		V(13, 0, PL(ID, b_id_uname), PL(NOTIFICATION, b_leave), PL(SIGNATURE, b_sig));
	case V_PT_SHORT:
		V(5, 1, PL(POLICY_TOKEN, b_pt1), PL(SIGNATURE, b_sig));
	case V_PT_EMPTY:
		V(5, 1, PL(POLICY_TOKEN, b_pt_empty), PL(SIGNATURE, b_sig));
	case V_KDL_SHORT:
		V(9, 0, PL(ID, b_id), PL(KEY_CREATION, b_kc), PL(POLICY_TOKEN, b_pt),
			PL(KEY_DOWNLOAD, b_kdl1), PL(SIGNATURE, b_sig));
	case V_NONCE_PAIR:
		V(9, 0, PL(ID, b_id), PL(NONCE, b_nr), PL(KEY_CREATION, b_kc),
			PL(POLICY_TOKEN, b_pt), PL(KEY_DOWNLOAD, b_kdl), PL(SIGNATURE, b_sig));
	case V_TWO_SIGS:
		V(15, 0, PL(NOTIFICATION, b_ack), PL(SIGNATURE, b_sig), PL(SIGNATURE, b_sig));
	case V_REKEY_NONE_DATA:
		V(5, 1, PL(REKEY_EVENT, b_rekey_none_data), PL(SIGNATURE, b_sig));
	case V_UNSIGNED_SIG:
		V(10, 0, PL(NOTIFICATION, b_cookie_req), PL(SIGNATURE, b_sig));
	case V_ID_IN_RTJ:
		V(8, 0, PL(KEY_CREATION, b_kc), PL(NONCE, b_ni), PL(ID, b_id),
			PL(SIGNATURE, b_sig));
	case V_SHORT_REKEY:
		V(5, 1, PL(REKEY_EVENT, b_rekey_short), PL(SIGNATURE, b_sig));
	case V_SHORT_ID:
		V(13, 0, PL(ID, b_short2), PL(NOTIFICATION, b_leave), PL(SIGNATURE, b_sig));
	case V_SHORT_CERT:
		V(10, 0, PL(NOTIFICATION, b_cookie_req), PL(CERT, b_short2));
	case V_SHORT_SIG:
		V(15, 0, PL(NOTIFICATION, b_ack), PL(SIGNATURE, b_sig22));
	case V_SHORT_NOTIFY:
		V(10, 0, PL(NOTIFICATION, b_short1));
	case V_SHORT_KC:
		V(8, 0, PL(KEY_CREATION, b_short2), PL(NONCE, b_ni), PL(SIGNATURE, b_sig));
	case V_SHORT_NONCE:
		V(8, 0, PL(KEY_CREATION, b_kc), { GSAKMP_PL_NONCE, b_pt1, 0 },
			PL(SIGNATURE, b_sig));
	case V_CERT_1:
		V(10, 0, PL(NOTIFICATION, b_cookie_req), PL(CERT, b_cert1));
	case V_CERT_CUT:
		V(10, 0, PL(NOTIFICATION, b_cookie_req), PL(CERT, b_cert_cut));
	case V_ID_V6:
		V(13, 0, PL(ID, b_id_v6), PL(NOTIFICATION, b_leave), PL(SIGNATURE, b_sig));
	case V_ID_V6_15:
		V(13, 0, PL(ID, b_id_v6_15), PL(NOTIFICATION, b_leave), PL(SIGNATURE, b_sig));
	case V_N_V6:
		V(8, 0, PL(KEY_CREATION, b_kc), PL(NONCE, b_ni), PL(NOTIFICATION, b_n_v6),
			PL(SIGNATURE, b_sig));
	case V_N_V6_15:
		V(8, 0, PL(KEY_CREATION, b_kc), PL(NONCE, b_ni), PL(NOTIFICATION, b_n_v6_15),
			PL(SIGNATURE, b_sig));
	case V_KC_2048:
		V(8, 0, PL(KEY_CREATION, b_kc_2048), PL(NONCE, b_ni), PL(SIGNATURE, b_sig));
#undef V
	default:
		ck_abort();
		return 0;
	}
}

enum { CTX_NONE, CTX_OTHER_GROUP, CTX_ONLY_RTJ, CTX_SEQ, CTX_THIS_GROUP };

struct bad_case {
	const char *name;
	int base;
	int off, nb;            /* patch v[0..nb) at off (nb 0: no patch) */
	uint8_t v[4];
	int off2, nb2;
	uint8_t v2[4];
	int len;                /* octets given to the decoder (0: the base's; more: zero-filled) */
	int ctx;
	uint32_t last_seq;
	int err;
};

#define E(x) (-GSAKMP_E_##x)
static const struct bad_case bad[] = {
	/* header (RFC 4535 §7.1.1, §7.1.2) */
	{ "empty", B_CDL, .len = -1, .err = E(SHORT_HEADER) },
	{ "one octet", B_CDL, .len = 1, .err = E(SHORT_HEADER) },
	{ "header cut", B_CDL, .len = 21, .err = E(SHORT_HEADER) },
	{ "gid length 0", B_CDL, 1, 1, { 0 }, .err = E(GID_LENGTH) },
	{ "gid type reserved", B_CDL, 0, 1, { 0 }, .err = E(GID_TYPE) },
	{ "gid type unassigned", B_CDL, 0, 1, { 7 }, .err = E(GID_TYPE) },
	{ "gid type private", B_CDL, 0, 1, { 0xc1 }, .err = E(GID_TYPE) },
	{ "gid ipv4 length", B_CDL, 0, 1, { 3 }, .err = E(GID_LENGTH) },
	{ "gid ipv6 length", B_CDL, 0, 1, { 4 }, .err = E(GID_LENGTH) },
	{ "gid utf8 length", B_CDL, 0, 1, { 1 }, .err = E(GID_LENGTH) },
	{ "gid utf8 not hex", B_DA, 9, 1, { 'x' }, .err = E(GID_VALUE) },
	{ "gid ipv6 value as octets", B_KEYDL, 0, 1, { 2 }, .err = 0 },
	{ "version 2", B_CDL, 12, 1, { 2 }, .err = E(VERSION) },
	{ "version 0", B_CDL, 12, 1, { 0 }, .err = E(VERSION) },
	{ "exchange 0", B_CDL, 13, 1, { 0 }, .err = E(EXCH_TYPE) },
	{ "exchange 6", B_CDL, 13, 1, { 6 }, .err = E(EXCH_TYPE) },
	{ "exchange 16", B_CDL, 13, 1, { 16 }, .err = E(EXCH_TYPE) },
	{ "exchange private", B_CDL, 13, 1, { 200 }, .err = E(EXCH_TYPE) },
	{ "length below header", B_CDL, 18, 4, { 0, 0, 0, 21 }, .err = E(MSG_LENGTH) },
	{ "length above limit", B_CDL, 18, 4, { 0, 0x20, 0, 0 }, .err = E(MSG_LENGTH) },
	{ "length overflow", B_CDL, 18, 4, { 0xff, 0xff, 0xff, 0xff }, .err = E(MSG_LENGTH) },
	{ "length past received", B_CDL, 21, 1, { 65 }, .err = E(TRUNCATED) },
	{ "truncated datagram", B_CDL, .len = 60, .err = E(TRUNCATED) },
	{ "trailing garbage", B_CDL, .len = 65, .err = E(TRAILING) },
	{ "trailing inside length", B_CDL, 21, 1, { 65 }, .len = 65, .err = E(TRAILING) },
	{ "length short of received", B_CDL, 21, 1, { 63 }, .err = E(TRAILING) },
	{ "sequence on negotiation", B_CDL, 17, 1, { 1 }, .err = E(SEQUENCE) },
	{ "rekey with sequence 0", B_REKEY, 17, 4, { 0, 0, 0, 0 }, .err = E(SEQUENCE) },
	{ "wrong group", B_CDL, .ctx = CTX_OTHER_GROUP, .err = E(GROUP_ID) },
	{ "wrong group type", B_DA, .ctx = CTX_THIS_GROUP, .err = E(GROUP_ID) },
	{ "exchange not expected", B_CDL, .ctx = CTX_ONLY_RTJ, .err = E(UNEXPECTED_EXCH) },
	{ "sequence replayed", B_REKEY, .ctx = CTX_SEQ, .last_seq = 2, .err = E(REPLAY) },
	{ "sequence older", B_REKEY, .ctx = CTX_SEQ, .last_seq = 5, .err = E(REPLAY) },
	{ "sequence newer", B_REKEY, .ctx = CTX_SEQ, .last_seq = 1, .err = 0 },
	/* payload chain (§7.2) */
	{ "payload length past end", B_CDL, 24, 2, { 1, 0 }, .err = E(PAYLOAD_LENGTH) },
	{ "payload length 3", B_CDL, 24, 2, { 0, 3 }, .err = E(PAYLOAD_LENGTH) },
	{ "payload length 0", B_CDL, 24, 2, { 0, 0 }, .err = E(PAYLOAD_LENGTH) },
	{ "chain past end", B_CDL, 44, 1, { GSAKMP_PL_VENDOR_ID }, .err = E(PAYLOAD_LENGTH) },
	{ "reserved set", B_CDL, 23, 1, { 1 }, .err = E(RESERVED) },
	{ "payload type 5", B_CDL, 11, 1, { 5 }, .err = E(UNKNOWN_PAYLOAD) },
	{ "payload type 7", B_CDL, 11, 1, { 7 }, .err = E(UNKNOWN_PAYLOAD) },
	{ "payload type 13", B_CDL, 22, 1, { 13 }, .err = E(UNKNOWN_PAYLOAD) },
	{ "payload type private", B_CDL, 44, 1, { 200 }, .err = E(UNKNOWN_PAYLOAD) },
	/* exchange dissections (§5) */
	{ "cookie dl wrong notification", B_CDL, 26, 2, { 0, 28 }, .err = E(NOTIFY) },
	{ "notification type 0", B_CDL, 26, 2, { 0, 0 }, .err = E(NOTIFY) },
	{ "rtd missing member id", B_CDL, 13, 1, { 13 }, .err = E(MISSING_PAYLOAD) },
	{ "rtj as cookie dl", B_RTJ, 13, 1, { 10 }, .err = E(UNEXPECTED_PAYLOAD) },
	{ "duplicate vendor id", V_DUP_VID, .err = E(DUP_PAYLOAD) },
	{ "vendor id 3 octets", V_VID_SHORT, .err = E(VID) },
	{ "cookie 65 octets", V_COOKIE_LONG, .err = E(NOTIFY) },
	{ "unsigned exchange signed", V_UNSIGNED_SIG, .err = E(UNEXPECTED_PAYLOAD) },
	{ "identification in rtj", V_ID_IN_RTJ, .err = E(UNEXPECTED_PAYLOAD) },
	{ "two signatures", V_TWO_SIGS, .err = E(DUP_PAYLOAD) },
	{ "payload after signature", B_RTJ, 155, 1, { GSAKMP_PL_VENDOR_ID },
		.err = E(SIG_POSITION) },
	{ "signature missing", B_RTJ, 132, 1, { GSAKMP_PL_CERT }, .err = E(NO_SIGNATURE) },
	{ "rtj nonce_r", B_RTJ, 64, 1, { 2 }, .err = E(NONCE) },
	{ "rtj nonce_c", B_RTJ, 64, 1, { 3 }, .err = E(NONCE) },
	{ "nonce type 0", B_RTJ, 64, 1, { 0 }, .err = E(NONCE) },
	{ "nonce 3 octets", V_NONCE_SHORT, .err = E(NONCE) },
	{ "keydl two nonce_r", B_KEYDL, 98, 1, { 2 }, .err = E(NONCE) },
	{ "keydl nonce_r alone", V_NONCE_PAIR, .err = E(NONCE) },
	{ "keydl key creation missing", B_KEYDL, 94, 1, { GSAKMP_PL_CERT },
		.err = E(MISSING_PAYLOAD) },
	{ "rtj notification leave", B_RTJ, 121, 2, { 0, 30 }, .err = E(NOTIFY) },
	{ "rtj two cookies", B_RTJ, 121, 2, { 0, 28 }, .err = E(DUP_PAYLOAD) },
	{ "mechanism choices 4 octets", V_MECH_LEN, .err = E(NOTIFY) },
	{ "simple ack with data", V_ACK_EXTRA, .err = E(NOTIFY) },
	/* payload bodies (§7.3-§7.12) */
	{ "key creation type 0", B_RTJ, 26, 2, { 0, 0 }, .err = E(KC) },
	{ "key creation dh1024", B_RTJ, 26, 2, { 0, 2 }, .err = 0 },
	{ "x25519 31 octets", V_KC_LEN, .err = E(KC) },
	{ "certificate truncated", B_RTJ, 257, 1, { 4 }, .err = E(CERT_TRUNCATED) },
	{ "certificate long form cut", B_RTJ, 257, 1, { 0x84 }, .err = E(CERT_DER) },
	{ "certificate trailing", B_RTJ, 257, 1, { 2 }, .err = E(CERT_DER) },
	{ "certificate not sequence", B_RTJ, 256, 1, { 0x31 }, .err = E(CERT_DER) },
	{ "certificate indefinite", B_RTJ, 257, 1, { 0x80 }, .err = E(CERT_DER) },
	{ "certificate type 0", B_RTJ, 254, 2, { 0, 0 }, .err = E(CERT_TYPE) },
	{ "certificate raw rsa opaque", B_RTJ, 254, 2, { 0, 11 }, .err = 0 },
	{ "signature type unknown", B_RTJ, 159, 2, { 0x12, 0x34 }, .err = E(SIG_TYPE) },
	{ "signature ecdsa", B_RTJ, 159, 2, { 0xc0, 0x01 }, .err = 0 },
	{ "signature dss opaque", B_RTJ, 159, 2, { 0, 0 }, .err = 0 },
	{ "signer id type", B_RTJ, 161, 1, { 99 }, .err = E(ID_TYPE) },
	{ "signature timestamp", B_RTJ, 166, 1, { '1' }, .err = E(TIMESTAMP) },
	{ "signer length overflow", B_RTJ, 177, 2, { 0, 0xff }, .err = E(MALFORMED) },
	{ "signer length 0", B_RTJ, 177, 2, { 0, 0 }, .err = E(MALFORMED) },
	{ "signature length mismatch", B_RTJ, 184, 2, { 0, 63 }, .err = E(MALFORMED) },
	{ "ed25519 63 octets", V_SIG_LEN, .err = E(SIG_LENGTH) },
	{ "id classification", B_KEYDL, 41, 1, { 3 }, .err = E(ID_TYPE) },
	{ "id type unknown", B_KEYDL, 42, 1, { 99 }, .err = E(ID_TYPE) },
	{ "id ipv4 5 octets", V_ID_V4, .err = E(ID_TYPE) },
	{ "id u_name length", V_ID_UNAME, .err = E(ID_TYPE) },
	{ "policy token type 0", B_KEYDL, 173, 2, { 0, 0 }, .err = E(PT_TYPE) },
	{ "policy token 1 octet", V_PT_SHORT, .err = E(MALFORMED) },
	{ "policy token empty", V_PT_EMPTY, .err = E(PT_TYPE) },
	{ "key download 1 octet", V_KDL_SHORT, .err = E(MALFORMED) },
	/* Rekey Event (§7.5) */
	{ "rekey group differs", B_REKEY, 30, 1, { 0 }, .err = E(REKEY_GROUP) },
	{ "rekey type copies differ", B_REKEY, 57, 1, { 0 }, .err = E(REKEY_TYPE) },
	{ "rekey type unknown", B_REKEY, 29, 1, { 2 }, 57, 1, { 2 }, .err = E(REKEY_TYPE) },
	{ "rekey algorithm version", B_REKEY, 58, 1, { 2 }, .err = E(REKEY_TYPE) },
	{ "rekey count high", B_REKEY, 59, 2, { 0, 4 }, .err = E(COUNT) },
	{ "rekey count low", B_REKEY, 59, 2, { 0, 2 }, .err = E(COUNT) },
	{ "rekey count overflow", B_REKEY, 59, 2, { 0xff, 0xff }, .err = E(COUNT) },
	{ "rekey data past end", B_REKEY, 61, 2, { 0x0f, 0xff }, .err = E(MALFORMED) },
	{ "rekey data 1 octet", B_REKEY, 61, 2, { 0, 1 }, .err = E(MALFORMED) },
	{ "rekey timestamp", B_REKEY, 42, 1, { '0' }, .err = E(TIMESTAMP) },
	{ "rekey none with data", V_REKEY_NONE_DATA, .err = E(COUNT) },
	/* bodies shorter than their fixed fields */
	{ "rekey event 4 octets", V_SHORT_REKEY, .err = E(MALFORMED) },
	{ "identification 2 octets", V_SHORT_ID, .err = E(MALFORMED) },
	{ "certificate 2 octets", V_SHORT_CERT, .err = E(MALFORMED) },
	{ "signature 22 octets", V_SHORT_SIG, .err = E(MALFORMED) },
	{ "notification 1 octet", V_SHORT_NOTIFY, .err = E(MALFORMED) },
	{ "key creation 2 octets", V_SHORT_KC, .err = E(MALFORMED) },
	{ "nonce empty", V_SHORT_NONCE, .err = E(MALFORMED) },
	{ "certificate 1 octet", V_CERT_1, .err = E(CERT_TRUNCATED) },
	{ "certificate length octets cut", V_CERT_CUT, .err = E(CERT_TRUNCATED) },
	{ "certificate length not minimal", B_RTJ, 257, 1, { 0x81 }, .err = E(CERT_DER) },
	{ "id ipv6", V_ID_V6, .err = 0 },
	{ "id ipv6 15 octets", V_ID_V6_15, .err = E(ID_TYPE) },
	{ "ipv6 value", V_N_V6, .err = 0 },
	{ "ipv6 value 15 octets", V_N_V6_15, .err = E(NOTIFY) },
	{ "dh2048 257 octets", V_KC_2048, .err = E(KC) },
	{ "key creation type opaque", B_RTJ, 26, 2, { 0x12, 0x34 }, .err = 0 },
};

static void run_bad(const struct bad_case *c, int (*fn)(const uint8_t *, size_t, void *),
		void *out)
{
	uint8_t buf[2048];
	size_t n;
	int rc;

	memset(buf, 0, sizeof(buf));
	n = get_base(c->base, buf);
	if (c->nb != 0)
		memcpy(buf + c->off, c->v, (size_t)c->nb);
	if (c->nb2 != 0)
		memcpy(buf + c->off2, c->v2, (size_t)c->nb2);
	if (c->len > 0)
		n = (size_t)c->len;
	else if (c->len < 0)
		n = 0;
	rc = fn(buf, n, out);
	ck_assert_msg(rc == c->err, "%s: got %d (%s), want %d (%s)", c->name, rc,
			gsakmp_errname(rc), c->err, gsakmp_errname(c->err));
}

static const struct bad_case *cur;

static int decode_fn(const uint8_t *b, size_t n, void *out)
{
	static const uint8_t other[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	static const uint8_t da_gid[] = { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a',
		'b', 'c', 'd', 'e', 'f', 'i', 'p', 't', 'v' };
	struct gsakmp_dec_ctx ctx = { 0 };

	switch (cur->ctx) {
	case CTX_OTHER_GROUP:
		ctx.gid = other;
		ctx.gid_type = GSAKMP_GID_OCTETS;
		ctx.gid_len = sizeof(other);
		break;
	case CTX_THIS_GROUP:  /* right value, wrong type */
		ctx.gid = da_gid;
		ctx.gid_type = GSAKMP_GID_OCTETS;
		ctx.gid_len = sizeof(da_gid);
		break;
	case CTX_ONLY_RTJ:
		ctx.exch_mask = GSAKMP_EXCH_BIT(GSAKMP_EXCH_RTJ);
		break;
	case CTX_SEQ:
		ctx.check_seq = true;
		ctx.last_seq = cur->last_seq;
		break;
	default:
		return gsakmp_decode(b, n, out, NULL);
	}
	return gsakmp_decode(b, n, out, &ctx);
}

START_TEST(test_malformed)
{
	struct gsakmp_msg m;

	cur = &bad[_i];
	run_bad(cur, decode_fn, &m);
}
END_TEST

/* Key Download contents (§7.4.1) and the profile's data SA attributes. */
static const struct bad_case bad_kd[] = {
	{ "reference", 0, .err = 0 },
	{ "items high", 0, 0, 2, { 0, 4 }, .err = E(COUNT) },
	{ "items low", 0, 0, 2, { 0, 2 }, .err = E(COUNT) },
	{ "items overflow", 0, 0, 2, { 0xff, 0xff }, .err = E(COUNT) },
	{ "empty", 0, .len = 1, .err = E(MALFORMED) },
	{ "item type", 0, 2, 1, { 7 }, .err = E(ITEM_TYPE) },
	{ "item length past end", 0, 3, 2, { 2, 0 }, .err = E(MALFORMED) },
	{ "truncated", 0, .len = 280, .err = E(MALFORMED) },
	{ "key type unknown", 0, 5, 2, { 0xc0, 0xff }, .err = E(KEY_TYPE) },
	{ "key type reserved", 0, 5, 2, { 0, 0 }, .err = E(KEY_TYPE) },
	{ "key length", 0, 5, 2, { 0xc0, 0x02 }, .err = E(KEY_LENGTH) },
	{ "expires before creation", 0, 30, 4, { '2', '0', '2', '5' }, .err = E(KEY_DATES) },
	{ "creation month 13", 0, 19, 2, { '1', '3' }, .err = E(TIMESTAMP) },
	{ "rekey array version", 0, 68, 1, { 2 }, .err = E(REKEY_TYPE) },
	{ "rekey array keys high", 0, 73, 2, { 0, 3 }, .err = E(COUNT) },
	{ "rekey array keys overflow", 0, 73, 2, { 1, 0 }, .err = E(COUNT) },
	{ "rekey array key type", 0, 147, 2, { 0, 99 }, .err = E(KEY_TYPE) },
	{ "rekey array shorter key", 0, 147, 2, { 0, 12 }, .err = E(COUNT) },
	{ "attr critical unknown", 0, 273, 2, { 0x80, 0x0c }, .err = E(CRITICAL_ATTR) },
	{ "attr unknown skipped", 0, 273, 2, { 0x00, 0x0c }, .err = 0 },
	{ "attr order", 0, 265, 2, { 0, 8 }, .err = E(ATTR) },
	{ "attr type 0", 0, 230, 2, { 0x80, 0 }, .err = E(ATTR) },
	{ "attr critical bit missing", 0, 230, 2, { 0, 1 }, .err = E(ATTR) },
	{ "attr critical bit extra", 0, 265, 2, { 0x80, 6 }, .err = E(ATTR) },
	{ "attr length past end", 0, 232, 2, { 0, 0xff }, .err = E(MALFORMED) },
	{ "attr spi 3 octets", 0, 232, 2, { 0, 3 }, .err = E(ATTR) },
	{ "suite unknown", 0, 242, 2, { 0, 9 }, .err = E(ATTR) },
	{ "flags unknown bit", 0, 248, 4, { 0, 0, 1, 0 }, .err = E(ATTR) },
	{ "sid bits 9", 0, 256, 1, { 9 }, .err = E(ATTR) },
	{ "sid above sid bits", 0, 261, 2, { 1, 0 }, .err = E(ATTR) },
	{ "sid repeated", 0, 263, 2, { 0, 1 }, .err = E(ATTR) },
	{ "attr unknown first", 0, 231, 1, { 0x0c }, .err = E(CRITICAL_ATTR) },
	{ "gtpk item 39 octets", 0, 3, 2, { 0, 39 }, .err = E(MALFORMED) },
	{ "rekey array 6 octets", 0, 66, 2, { 0, 6 }, .err = E(MALFORMED) },
	{ "rekey array key cut", 0, 66, 2, { 0, 150 }, .err = E(COUNT) },
	{ "rekey array key date", 0, 161, 2, { '1', '3' }, .err = E(TIMESTAMP) },
	{ "data sa 7 octets", 0, 220, 2, { 0, 7 }, .err = E(MALFORMED) },
	{ "attr header cut", 0, 220, 2, { 0, 54 }, .len = 276, .err = E(MALFORMED) },
	{ "attr suite 3 octets", 0, 240, 2, { 0, 3 }, .err = E(ATTR) },
	{ "attr flags 3 octets", 0, 246, 2, { 0, 3 }, .err = E(ATTR) },
	{ "attr sid bits 2 octets", 0, 254, 2, { 0, 2 }, .err = E(ATTR) },
	{ "attr sids 3 octets", 0, 259, 2, { 0, 3 }, .err = E(ATTR) },
	{ "attr delay 3 octets", 0, 267, 2, { 0, 3 }, .err = E(ATTR) },
};

static int kd_fn(const uint8_t *b, size_t n, void *out)
{
	return gsakmp_kd_parse(b, n, out);
}

START_TEST(test_malformed_kd)
{
	struct bad_case c;
	struct gsakmp_kd kd;
	uint8_t buf[512];

	/* base 0 is hb_kd: copy through a case with the bytes in place */
	c = bad_kd[_i];
	memset(buf, 0, sizeof(buf));
	memcpy(buf, hb_kd, sizeof(hb_kd));
	if (c.nb != 0)
		memcpy(buf + c.off, c.v, (size_t)c.nb);
	ck_assert_msg(kd_fn(buf, c.len > 0 ? (size_t)c.len : sizeof(hb_kd), &kd) == c.err,
			"%s: got %s", c.name,
			gsakmp_errname(kd_fn(buf, c.len > 0 ? (size_t)c.len : sizeof(hb_kd), &kd)));
}
END_TEST

START_TEST(test_limits)
{
	static const uint8_t cert_body[] = { 0, GSAKMP_CERT_RAW_RSA, 1 };
	uint8_t buf[8192];
	struct raw_pl pl[GSAKMP_MAX_PAYLOADS + 1];
	struct gsakmp_msg m;
	struct gsakmp_kd kd;
	size_t n;

	/* 65 certificates: the chain pass stops at the limit */
	for (int i = 0; i <= GSAKMP_MAX_PAYLOADS; i++) {
		pl[i].type = i == 0 ? GSAKMP_PL_NOTIFICATION : GSAKMP_PL_CERT;
		pl[i].body = i == 0 ? b_cookie_req : cert_body;
		pl[i].len = i == 0 ? sizeof(b_cookie_req) : 3;
	}
	n = raw_msg(buf, GSAKMP_EXCH_COOKIE_DL, 0, pl, GSAKMP_MAX_PAYLOADS);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_uint_eq(m.nb_payloads, GSAKMP_MAX_PAYLOADS);
	n = raw_msg(buf, GSAKMP_EXCH_COOKIE_DL, 0, pl, GSAKMP_MAX_PAYLOADS + 1);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), -GSAKMP_E_TOO_MANY_PAYLOADS);

	/* 17 Key Download items: more than a gsakmp_kd holds */
	n = 0;
	buf[n++] = 0;
	buf[n++] = GSAKMP_KD_MAX_ITEMS + 1;
	for (int i = 0; i <= GSAKMP_KD_MAX_ITEMS; i++) {
		memcpy(buf + n, hb_kd + 2, 63);  /* the GTPK item */
		n += 63;
	}
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &kd), -GSAKMP_E_LIMIT);
	buf[1] = GSAKMP_KD_MAX_ITEMS;
	ck_assert_int_eq(gsakmp_kd_parse(buf, n - 63, &kd), 0);

	/* a Rekey Array of 65 keys */
	n = 0;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = GSAKMP_KDD_REKEY_LKH;
	buf[n++] = (uint8_t)((7 + 72 * 65) >> 8);
	buf[n++] = (uint8_t)(7 + 72 * 65);
	buf[n++] = 1;
	memset(buf + n, 0, 4);
	n += 4;
	buf[n++] = 0;
	buf[n++] = GSAKMP_KD_MAX_KEYS + 1;
	for (int i = 0; i <= GSAKMP_KD_MAX_KEYS; i++) {
		memcpy(buf + n, hb_kd + 75, 72);
		n += 72;
	}
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &kd), -GSAKMP_E_LIMIT);
}
END_TEST

/* ------------------------------------------------------------------ exchanges */

static void ck_subject(X509 *x, const char *cn)
{
	char buf[128];

	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
	ck_assert_str_eq(buf, cn);
}

/* Every exchange: encode, decode against the state machine's expectations, verify, re-encode
 * to the same bytes, and open what is protected. */
START_TEST(test_exchange)
{
	uint8_t exch = EXCHS[_i];
	uint8_t buf[4096], out[4096], plain[2048], kek[32];
	struct gsakmp_dec_ctx ctx = ctx_for(exch);
	struct gsakmp_msg m, m2;
	struct gsakmp_kd kd, want;
	const struct gsakmp_payload *p;
	X509 *signer = NULL;
	size_t n, n2;

	n = build_exch(exch, buf, sizeof(buf));
	ctx.check_seq = true;
	ctx.last_seq = 6;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), 0);
	ck_assert_uint_eq(m.hdr.exch, exch);
	ck_assert_uint_eq(m.hdr.length, n);
	ck_assert(m.profile);
	if (exch_signed(exch)) {
		ck_assert_int_ge(m.sig_index, 0);
		ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, &signer), 0);
		ck_subject(signer, exch == GSAKMP_EXCH_RTJ || exch == GSAKMP_EXCH_KEYDL_ACK ||
				exch == GSAKMP_EXCH_RTD || exch == GSAKMP_EXCH_DA ?
				"gm1.example" : "gcks.example");
		X509_free(signer);
		/* Certificates follow the signature and only they do */
		for (int i = m.sig_index + 1; i < m.nb_payloads; i++)
			ck_assert_uint_eq(m.pl[i].type, GSAKMP_PL_CERT);
	} else {
		ck_assert_int_eq(m.sig_index, -1);
		ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
				-GSAKMP_E_NO_SIGNATURE);
	}
	ck_assert_int_eq(gsakmp_encode_msg(&m, out, sizeof(out), &n2), 0);
	ck_assert_uint_eq(n2, n);
	ck_assert_mem_eq(out, buf, n);
	ck_assert_int_eq(gsakmp_decode(out, n2, &m2, &ctx), 0);
	ck_assert_uint_eq(m2.nb_payloads, m.nb_payloads);

	switch (exch) {
	case GSAKMP_EXCH_KEYDL:
		derive_kek(kek);
		p = gsakmp_msg_find(&m, GSAKMP_PL_POLICY_TOKEN, 0);
		ck_assert_int_eq(gsakmp_pt_open(&m, &p->u.pt, GSAKMP_KEK_AES256_GCM, kek, plain,
				sizeof(plain), &n2), 0);
		ck_assert_uint_eq(n2, sizeof(PT_DATA));
		ck_assert_mem_eq(plain, PT_DATA, n2);
		p = gsakmp_msg_find(&m, GSAKMP_PL_KEY_DOWNLOAD, 0);
		ck_assert_int_eq(gsakmp_kdl_open(&m, &p->u.kdl, GSAKMP_KEK_AES256_GCM, kek, plain,
				sizeof(plain), &kd), 0);
		kd_example(&want);
		ck_kd_eq(&kd, &want, false);
		ck_assert_int_eq(gsakmp_nonce_c_check(NI, 32, NR, 32,
				gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 1)->u.nonce.data, 32), 0);
		break;
	case GSAKMP_EXCH_REKEY:
		ck_assert_uint_eq(m.hdr.seq, 7);
		gtpk_kek(kek);
		p = gsakmp_msg_find(&m, GSAKMP_PL_POLICY_TOKEN, 0);
		ck_assert_int_eq(gsakmp_pt_open(&m, &p->u.pt, GSAKMP_KEK_AES256_GCM, kek, plain,
				sizeof(plain), &n2), 0);
		ck_assert_mem_eq(plain, PT_DATA, sizeof(PT_DATA));
		p = gsakmp_msg_find(&m, GSAKMP_PL_REKEY_EVENT, 0);
		ck_assert_uint_eq(p->u.rekey.nb_data, 3);
		break;
	case GSAKMP_EXCH_RTJ:
		p = gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 2);
		ck_assert_uint_eq(p->u.notify.type, GSAKMP_N_IPV4_VALUE);
		ck_assert_uint_eq(p->u.notify.len, 4);
		break;
	case GSAKMP_EXCH_DR:
		ck_assert_uint_eq(gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 0)->u.notify.type,
				GSAKMP_N_DEPARTURE_ACCEPTED);
		break;
	default:
		break;
	}
}
END_TEST

/* Each payload type, built on its own and read back field by field. */
START_TEST(test_payloads)
{
	static const uint8_t uname[] = { R16(0x01), 1, 2, 3, 4, B32(9), 'C', 'N', '=', 'm', 'e',
		'm', 'b', 'e', 'r' };
	static const uint8_t der[] = { 0x30, 0x81, 0x80, X64(0), X64(0) };
	uint8_t buf[2048], out[2048];
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_msg m;
	const struct gsakmp_payload *p;
	const uint8_t *serial, *dn;
	uint32_t dnlen;
	size_t n, n2;

	hdr_init(&h, GSAKMP_EXCH_RTD, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_id(e, GSAKMP_IDC_THIRD_PARTY, GSAKMP_ID_U_NAME, uname, sizeof(uname));
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, NI, GSAKMP_NONCE_MIN);
	gsakmp_enc_payload_notify(e, GSAKMP_N_LEAVE_GROUP, NULL, 0);
	gsakmp_enc_payload_vid(e, (const uint8_t *)"abcd", 4);
	gsakmp_enc_payload_cert(e, GSAKMP_CERT_CRL, der, sizeof(der));
	gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_KEY_ID, NOW);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert(!m.profile);
	p = gsakmp_msg_find(&m, GSAKMP_PL_ID, 0);
	ck_assert_uint_eq(p->u.id.cls, GSAKMP_IDC_THIRD_PARTY);
	ck_assert_int_eq(gsakmp_id_u_name(&p->u.id, &serial, &dn, &dnlen), 0);
	ck_assert_mem_eq(serial, uname, 20);
	ck_assert_uint_eq(dnlen, 9);
	ck_assert_mem_eq(dn, "CN=member", 9);
	ck_assert_uint_eq(gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 0)->u.nonce.len, 4);
	ck_assert_uint_eq(gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 0)->u.notify.len, 0);
	ck_assert_uint_eq(gsakmp_msg_find(&m, GSAKMP_PL_VENDOR_ID, 0)->u.vid.len, 4);
	p = gsakmp_msg_find(&m, GSAKMP_PL_CERT, 0);
	ck_assert_uint_eq(p->u.cert.type, GSAKMP_CERT_CRL);
	ck_assert_uint_eq(p->u.cert.len, sizeof(der));
	p = &m.pl[m.sig_index];
	ck_assert_uint_eq(p->u.sig.id_type, GSAKMP_ID_KEY_ID);
	ck_assert_uint_eq(p->u.sig.signer_len, 32);
	/* the signer is named by key: verify with the certificate given out of band */
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL), 0);
	ck_assert_int_eq(gsakmp_encode_msg(&m, out, sizeof(out), &n2), 0);
	ck_assert_mem_eq(out, buf, n);
	struct gsakmp_id other = { .cls = 0, .type = GSAKMP_ID_FQDN, .len = 4,
		.data = (const uint8_t *)"a.eu" };
	ck_assert_int_eq(gsakmp_id_u_name(&other, NULL, NULL, NULL), -GSAKMP_E_ID_TYPE);
}
END_TEST

START_TEST(test_kd_roundtrip)
{
	uint8_t buf[4096];
	struct gsakmp_kd kd, back, pk;
	size_t n;

	kd_example(&kd);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &back), 0);
	ck_kd_eq(&kd, &back, false);
	/* minimal SA attributes */
	sa_attrs(&kd.items[2].u.sa, false);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &back), 0);
	ck_kd_eq(&kd, &back, false);
	/* IPv6 selectors */
	sa_attrs(&kd.items[2].u.sa, true);
	kd.items[2].u.sa.addr_len = 16;
	memset(kd.items[2].u.sa.group_addr, 0xff, 16);
	memset(kd.items[2].u.sa.source_addr, 0x20, 16);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &back), 0);
	ck_kd_eq(&kd, &back, false);
	/* Key Packages, the data SA riding along (profile KeyPkg 193) */
	leave_pkgs(&pk, 2);
	pk.items[3].type = GSAKMP_KDD_DATA_SA;
	sa_attrs(&pk.items[3].u.sa, true);
	pk.nb_items = 4;
	ck_assert_int_eq(gsakmp_kpkg_build(&pk, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(gsakmp_kpkg_parse(buf, n, &back), 0);
	ck_kd_eq(&pk, &back, true);
	/* a Key Download's type 1 is a Rekey Array, a Key Package's one Key Datum */
	ck_assert_int_ne(gsakmp_kd_parse(buf, n, &back), 0);
}
END_TEST

/* What the builders refuse to write. */
START_TEST(test_encoder_checks)
{
	uint8_t buf[1024], small[30];
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_kd kd;
	size_t n;

	hdr_init(&h, GSAKMP_EXCH_DA, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, small, 10, &h), -GSAKMP_E_NO_SPACE);
	ck_assert_ptr_null(e);
	h.gid_len = 0;
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), -GSAKMP_E_INVALID);
	hdr_init(&h, GSAKMP_EXCH_DA, 0);
	/* sticky error: the first one is reported at finish */
	ck_assert_int_eq(gsakmp_enc_init(&e, small, sizeof(small), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, NI, 32),
			-GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_enc_payload_vid(e, VID, 16), -GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), -GSAKMP_E_NO_SPACE);
	/* a message the decoder would refuse is not finished */
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, NI, 32);
	gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_DN_STRING, NOW);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), -GSAKMP_E_MISSING_PAYLOAD);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, (const uint8_t[]){ 0 }, 1);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), -GSAKMP_E_NO_SIGNATURE);
	/* a payload while a Rekey Event payload is open; a block outside one */
	hdr_init(&h, GSAKMP_EXCH_REKEY, 1);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_rekey_data(e, 1, 1, NI, 32), -GSAKMP_E_INVALID);
	gsakmp_enc_abort(e);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	ck_assert_int_eq(gsakmp_enc_payload_vid(e, VID, 16), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), -GSAKMP_E_INVALID);  /* still open */
	/* timestamps out of range; a payload over 64 KiB */
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, -5),
			-GSAKMP_E_TIMESTAMP);
	gsakmp_enc_abort(e);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload_pt(e, 1, buf, 70000), -GSAKMP_E_LIMIT);
	gsakmp_enc_abort(e);
	gsakmp_enc_abort(NULL);
	ck_assert_int_eq(gsakmp_enc_finish(NULL, &n), -GSAKMP_E_INVALID);
	/* Key Download contents that would not parse */
	kd_example(&kd);
	kd.items[0].u.datum.key_len = 16;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_KEY_LENGTH);
	kd_example(&kd);
	kd.items[0].u.datum.expires = kd.items[0].u.datum.created;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_KEY_DATES);
	kd_example(&kd);
	kd.items[0].u.datum.type = 77;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_KEY_TYPE);
	kd_example(&kd);
	kd.items[1].u.ra.nb_keys = 4;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_INVALID);
	kd_example(&kd);
	kd.items[2].u.sa.present &= ~(1u << GSAKMP_ATTR_SPI);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_ATTR);
	kd_example(&kd);
	kd.items[2].u.sa.sids[2] = 0x1000;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_ATTR);
	kd_example(&kd);
	kd.items[2].u.sa.present &= ~(1u << GSAKMP_ATTR_SID_BITS);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_ATTR);
	kd_example(&kd);
	kd.items[2].u.sa.tesla.d = 1;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_ATTR);
	kd_example(&kd);
	kd.items[2].u.sa.addr_len = 5;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_ATTR);
	kd_example(&kd);
	kd.items[1].type = 50;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_ITEM_TYPE);
	kd_example(&kd);
	kd.items[1].u.ra.version = 2;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), -GSAKMP_E_REKEY_TYPE);
}
END_TEST

/* ------------------------------------------------------------------ decoder context */

START_TEST(test_sequence)
{
	uint8_t buf[4096];
	struct gsakmp_dec_ctx ctx = ctx_for(GSAKMP_EXCH_REKEY);
	struct gsakmp_msg m;
	size_t n;

	ck_assert_int_eq(gsakmp_seq_check(0, 1), 0);
	ck_assert_int_eq(gsakmp_seq_check(5, 5), -GSAKMP_E_REPLAY);
	ck_assert_int_eq(gsakmp_seq_check(5, 4), -GSAKMP_E_REPLAY);
	ck_assert_int_eq(gsakmp_seq_check(5, GSAKMP_SEQ_DESTROY), 1);
	ck_assert_int_eq(gsakmp_seq_check(GSAKMP_SEQ_DESTROY, GSAKMP_SEQ_DESTROY),
			-GSAKMP_E_REPLAY);
	n = build_exch(GSAKMP_EXCH_REKEY, buf, sizeof(buf));
	ctx.check_seq = true;
	ctx.last_seq = 7;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), -GSAKMP_E_REPLAY);
	ctx.last_seq = 6;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), 0);
	/* the sequence check applies to group management only */
	n = build_exch(GSAKMP_EXCH_DA, buf, sizeof(buf));
	ctx.exch_mask = 0;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), 0);
}
END_TEST

/* RFC 4535 §7.1.1: a v1 receiver tries the v1 message embedded after a later header. */
START_TEST(test_embedded_v1)
{
	uint8_t buf[256];
	struct gsakmp_dec_ctx ctx = { .embedded_v1 = true };
	struct gsakmp_msg m;
	size_t n = 22 + sizeof(hb_cookie_dl);

	memcpy(buf, hb_cookie_dl, 22);
	buf[12] = 2;                                /* outer version 2 */
	buf[18] = 0;
	buf[19] = 0;
	buf[20] = 0;
	buf[21] = (uint8_t)n;
	memcpy(buf + 22, hb_cookie_dl, sizeof(hb_cookie_dl));
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), -GSAKMP_E_VERSION);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), 0);
	ck_assert_ptr_eq(m.buf, buf + 22);
	ck_assert_uint_eq(m.len, sizeof(hb_cookie_dl));
	ck_assert_uint_eq(m.hdr.exch, GSAKMP_EXCH_COOKIE_DL);
	buf[22 + 12] = 3;                           /* no v1 inside: ignored as a version */
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), -GSAKMP_E_VERSION);
	buf[22 + 12] = 1;
	buf[12] = 0;                                /* version 0 is not "later" */
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), -GSAKMP_E_VERSION);
}
END_TEST

/* TCP (port 3761): messages back to back, each cut by its header Length. */
START_TEST(test_tcp_framing)
{
	uint8_t stream[1024];
	struct gsakmp_msg m;
	size_t off = 0, total = sizeof(hb_cookie_dl) + sizeof(hb_da) + sizeof(hb_rtj);
	uint32_t len;
	int frames = 0;

	memcpy(stream, hb_cookie_dl, sizeof(hb_cookie_dl));
	memcpy(stream + sizeof(hb_cookie_dl), hb_da, sizeof(hb_da));
	memcpy(stream + sizeof(hb_cookie_dl) + sizeof(hb_da), hb_rtj, sizeof(hb_rtj));
	/* byte by byte, as a slow stream delivers it */
	for (size_t avail = 0; avail <= total; avail++) {
		int rc = gsakmp_frame_len(stream + off, avail - off, 0, &len);

		ck_assert_int_ge(rc, 0);
		if (rc == 0 || avail - off < len)
			continue;
		ck_assert_int_eq(gsakmp_decode(stream + off, len, &m, NULL), 0);
		off += len;
		frames++;
	}
	ck_assert_int_eq(frames, 3);
	ck_assert_uint_eq(off, total);
	ck_assert_int_eq(gsakmp_frame_len(hb_rtj, 2, 0, &len), 0);
	ck_assert_int_eq(gsakmp_frame_len(hb_rtj, 22, 0, &len), 1);
	ck_assert_uint_eq(len, sizeof(hb_rtj));
	ck_assert_int_eq(gsakmp_frame_len(hb_rtj, 22, 100, &len), -GSAKMP_E_MSG_LENGTH);
	stream[1] = 0;
	ck_assert_int_eq(gsakmp_frame_len(stream, 22, 0, &len), -GSAKMP_E_GID_LENGTH);
	memcpy(stream, hb_cookie_dl, 22);
	stream[21] = 3;
	ck_assert_int_eq(gsakmp_frame_len(stream, 22, 0, &len), -GSAKMP_E_MSG_LENGTH);
}
END_TEST

/* ------------------------------------------------------------------ signatures */

static size_t find_payload_off(const uint8_t *buf, size_t n, uint8_t type)
{
	struct gsakmp_msg m;

	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	return gsakmp_msg_find(&m, type, 0)->offset;
}

START_TEST(test_sign_verify)
{
	uint8_t buf[4096], save[4096];
	struct gsakmp_msg m;
	size_t n, off;

	/* ECDSA P-256 (GC/KS) and Ed25519 (member) */
	n = build_exch(GSAKMP_EXCH_KEYDL, buf, sizeof(buf));
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_uint_eq(m.pl[m.sig_index].u.sig.type, GSAKMP_SIG_ECDSA_P256_SHA256);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, P.ks_cert, P.trust, NOW, 0, NULL), 0);
	n = build_exch(GSAKMP_EXCH_RTJ, buf, sizeof(buf));
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_uint_eq(m.pl[m.sig_index].u.sig.type, GSAKMP_SIG_ED25519);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), 0);
	memcpy(save, buf, n);

	/* one bit anywhere in the signed span: the nonce, the header Length... */
	off = find_payload_off(buf, n, GSAKMP_PL_NONCE) + 10;
	buf[off] ^= 1;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_BAD_SIGNATURE);
	memcpy(buf, save, n);
	buf[1 + 1 + sizeof(TGID) + 2] ^= 0x80;      /* exchange type 8 -> 0x88: not decodable */
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), -GSAKMP_E_EXCH_TYPE);
	memcpy(buf, save, n);
	/* ...or in the Signature Data itself */
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	buf[m.pl[m.sig_index].u.sig.sig - buf + 5] ^= 1;
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_BAD_SIGNATURE);
	/* gsakmp_sign() re-signs in place */
	ck_assert_int_eq(gsakmp_sign(buf, n, P.gm), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), 0);
	ck_assert_int_eq(gsakmp_sign(buf, n, P.ks), -GSAKMP_E_SIG_TYPE);
	ck_assert_int_eq(gsakmp_sign(buf, n - 1, P.gm), -GSAKMP_E_TRUNCATED);
	memcpy(buf, save, n);

	/* the signature does not cover the Certificate payloads (§7.8): change the in-message
	 * certificate's type to an opaque one and verify with the certificate out of band */
	off = find_payload_off(buf, n, GSAKMP_PL_CERT);
	buf[off + 5] = GSAKMP_CERT_RAW_RSA;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), -GSAKMP_E_NO_CERT);
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL), 0);
	memcpy(buf, save, n);
}
END_TEST

START_TEST(test_verify_failures)
{
	uint8_t buf[4096];
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_trust *empty;
	struct gsakmp_msg m;
	const uint8_t *der;
	size_t n, dl;

	n = build_exch(GSAKMP_EXCH_DA, buf, sizeof(buf));
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	/* freshness: 5 minutes either way by default (RFC 4535 §3.1) */
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW + SKEW, SKEW, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW + SKEW + 1, SKEW, NULL),
			-GSAKMP_E_STALE);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW - SKEW - 1, SKEW, NULL),
			-GSAKMP_E_STALE);
	/* a certificate that has expired, or is not valid yet, at `now` */
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, T_2036 + 10, 0, NULL),
			-GSAKMP_E_CERT_UNTRUSTED);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, T_2026 - 10, 0, NULL),
			-GSAKMP_E_CERT_UNTRUSTED);
	/* no trust anchor at all */
	ck_assert_int_eq(gsakmp_trust_new(&empty), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, empty, NOW, SKEW, NULL),
			-GSAKMP_E_CERT_UNTRUSTED);
	gsakmp_trust_free(empty);
	/* another member's certificate given out of band */
	ck_assert_int_eq(gsakmp_verify(&m, P.gm2_cert, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_SIGNER_ID);

	/* a rogue CA's leaf with the GC/KS's very name */
	hdr_init(&h, GSAKMP_EXCH_DR, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	add_id(e, GSAKMP_IDC_RECEIVER, P.gm_cert);
	gsakmp_enc_payload_notify(e, GSAKMP_N_DEPARTURE_ACCEPTED, NULL, 0);
	add_sig_cert(e, P.rogue);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_CERT_UNTRUSTED);
	/* the real GC/KS certificate does not verify the rogue's signature */
	ck_assert_int_eq(gsakmp_verify(&m, P.ks_cert, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_BAD_SIGNATURE);

	/* a CA certificate (Key Usage without digitalSignature) does not sign messages */
	{
		struct gsakmp_key *ca;

		ck_assert_int_eq(gsakmp_key_new(P.ca_key, P.ca, &ca), 0);
		hdr_init(&h, GSAKMP_EXCH_DR, 0);
		ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
		add_id(e, GSAKMP_IDC_RECEIVER, P.gm_cert);
		gsakmp_enc_payload_notify(e, GSAKMP_N_DEPARTURE_ACCEPTED, NULL, 0);
		add_sig_cert(e, ca);
		ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
		ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
		ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
				-GSAKMP_E_CERT_UNTRUSTED);
		gsakmp_key_free(ca);
	}

	/* a chain through an intermediate carried in the message */
	hdr_init(&h, GSAKMP_EXCH_DA, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, (const uint8_t[]){ 0 }, 1);
	add_sig_cert(e, P.gm2);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_CERT_UNTRUSTED);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, (const uint8_t[]){ 0 }, 1);
	add_sig_cert(e, P.gm2);
	dl = (size_t)i2d_X509(P.inter, NULL);
	unsigned char *ider = OPENSSL_malloc(dl), *q = ider;
	i2d_X509(P.inter, &q);
	gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, ider, dl);
	OPENSSL_free(ider);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), 0);

	/* a certificate whose key algorithm nobody knows (Ed25519's OID 1.3.101.112 made
	 * 1.3.101.127): it parses without a key, and is refused before anything uses one */
	{
		unsigned char *cd = NULL;
		int cl = i2d_X509(P.gm_cert, &cd);
		bool patched = false;

		ck_assert_int_gt(cl, 0);
		for (int i = 0; i + 5 <= cl; i++) {
			if (memcmp(cd + i, "\x06\x03\x2b\x65\x70\x03", 6) == 0) {
				cd[i + 4] = 0x7f;  /* the SubjectPublicKeyInfo's, not the signature's */
				patched = true;
				break;
			}
		}
		ck_assert(patched);
		hdr_init(&h, GSAKMP_EXCH_DA, 0);
		ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
		gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, (const uint8_t[]){ 0 }, 1);
		gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_DN_STRING, NOW);
		gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, cd, (size_t)cl);
		ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
		OPENSSL_free(cd);
		ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
		ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
				-GSAKMP_E_SIG_TYPE);
	}

	/* a certificate payload that is DER but no certificate */
	ck_assert_int_eq(gsakmp_decode(hb_rtj, sizeof(hb_rtj), &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_CERT_PARSE);
	/* only certificates of someone else */
	hdr_init(&h, GSAKMP_EXCH_DA, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, (const uint8_t[]){ 0 }, 1);
	gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_DN_STRING, NOW);
	gsakmp_key_cert_der(P.ks, &der, &dl);
	gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, der, dl);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), -GSAKMP_E_SIGNER_ID);
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL), 0);
	/* the claimed type does not fit the key: Ed25519 signer, ECDSA claimed */
	buf[m.pl[m.sig_index].offset + 5] = 0x01;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_SIG_TYPE);
	/* the RFC's own types are decoded but not verified */
	buf[m.pl[m.sig_index].offset + 4] = 0;
	buf[m.pl[m.sig_index].offset + 5] = GSAKMP_SIG_DSS_SHA1;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_SIG_TYPE);
	/* a signer named by an ID type we do not sign with */
	ck_assert_int_eq(gsakmp_decode(hb_da, sizeof(hb_da), &m, NULL), 0);
	((struct gsakmp_sig *)&m.pl[m.sig_index].u.sig)->id_type = GSAKMP_ID_FQDN;
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL),
			-GSAKMP_E_SIGNER_ID);
}
END_TEST

START_TEST(test_keys)
{
	struct gsakmp_key *k;
	EVP_PKEY *rsa;
	uint8_t id[64];
	size_t n;

	ck_assert_uint_eq(gsakmp_key_sig_type(P.ks), GSAKMP_SIG_ECDSA_P256_SHA256);
	ck_assert_uint_eq(gsakmp_key_sig_type(P.gm), GSAKMP_SIG_ED25519);
	/* a key that is not the certificate's */
	ck_assert_int_eq(gsakmp_key_new(P.ks_pkey, P.gm_cert, &k), -GSAKMP_E_INVALID);
	ck_assert_ptr_null(k);
	/* a key type outside the profile */
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ck_assert_ptr_nonnull(rsa);
	ck_assert_int_eq(gsakmp_key_new(rsa, P.gm_cert, &k), -GSAKMP_E_SIG_TYPE);
	EVP_PKEY_free(rsa);
	ck_assert_int_eq(gsakmp_key_load("/nonexistent.pem", "/nonexistent.pem", &k),
			-GSAKMP_E_INVALID);
	/* Signer IDs */
	ck_assert_int_eq(gsakmp_signer_id(P.gm_cert, GSAKMP_ID_DN_STRING, id, sizeof(id), &n), 0);
	ck_assert_uint_eq(n, strlen("CN=gm1.example,O=msecgw test"));
	ck_assert_mem_eq(id, "CN=gm1.example,O=msecgw test", n);
	ck_assert_int_eq(gsakmp_signer_id(P.gm_cert, GSAKMP_ID_DN_STRING, id, 5, &n),
			-GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_signer_id(P.gm_cert, GSAKMP_ID_KEY_ID, id, sizeof(id), &n), 0);
	ck_assert_uint_eq(n, 32);
	ck_assert_int_eq(gsakmp_signer_id(P.gm_cert, GSAKMP_ID_FQDN, id, sizeof(id), &n),
			-GSAKMP_E_SIGNER_ID);
	gsakmp_key_free(NULL);
	gsakmp_trust_free(NULL);
	ck_assert_int_eq(gsakmp_trust_load(P.trust, "/nonexistent.pem"), -GSAKMP_E_INVALID);
}
END_TEST

/* ------------------------------------------------------------------ profile crypto */

START_TEST(test_hkdf_kat)
{
	/* RFC 5869 Appendix A.1 and A.3 (SHA-256) */
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
			want, 42);
	ck_assert_int_eq(gsakmp_hkdf(salt, 13, ikm, 22, info, 10, okm, 42), 0);
	ck_assert_mem_eq(okm, want, 42);
	hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
			want, 42);
	ck_assert_int_eq(gsakmp_hkdf(NULL, 0, ikm, 22, NULL, 0, okm, 42), 0);
	ck_assert_mem_eq(okm, want, 42);
	ck_assert_int_eq(gsakmp_hkdf(NULL, 0, ikm, 0, NULL, 0, okm, 42), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_hkdf(NULL, 0, ikm, 22, NULL, 0, okm, 255 * 32 + 1),
			-GSAKMP_E_INVALID);
}
END_TEST

START_TEST(test_x25519)
{
	uint8_t priv[32], pub[32], want[32], peer[32], shared[32], low[32] = { 0 };
	struct gsakmp_kex *a, *b, *f;

	/* RFC 7748 §6.1 */
	hex(ALICE_PRIV, priv, 32);
	ck_assert_int_eq(gsakmp_kex_x25519_from_private(priv, &a), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_public(a, pub), 0);
	hex(ALICE_PUB, want, 32);
	ck_assert_mem_eq(pub, want, 32);
	hex(BOB_PRIV, priv, 32);
	ck_assert_int_eq(gsakmp_kex_x25519_from_private(priv, &b), 0);
	hex(BOB_PUB, peer, 32);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(a, peer, shared), 0);
	hex(SHARED, want, 32);
	ck_assert_mem_eq(shared, want, 32);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(b, pub, shared), 0);
	ck_assert_mem_eq(shared, want, 32);
	/* low-order points give an all-zero secret: refused (RFC 7748 §6.1) */
	ck_assert_int_eq(gsakmp_kex_x25519_derive(a, low, shared), -GSAKMP_E_KEX);
	low[0] = 1;
	ck_assert_int_eq(gsakmp_kex_x25519_derive(a, low, shared), -GSAKMP_E_KEX);
	/* fresh pairs agree */
	ck_assert_int_eq(gsakmp_kex_x25519_new(&f), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_public(f, peer), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(a, peer, want), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(f, pub, shared), 0);
	ck_assert_mem_eq(shared, want, 32);
	gsakmp_kex_free(a);
	gsakmp_kex_free(b);
	gsakmp_kex_free(f);
	gsakmp_kex_free(NULL);
}
END_TEST

START_TEST(test_kek)
{
	static const uint16_t algs[] = { GSAKMP_KEK_AES256_GCM, GSAKMP_KEK_AES256_KWP };
	uint8_t kek[32], k2[32], in[300], ct[400], pt[400];
	uint8_t pub_a[32], pub_b[32], shared[32];
	const uint8_t aad[] = "context";
	uint16_t alg = algs[_i];
	size_t n, m;

	derive_kek(kek);
	/* the GC/KS derives the same KEK from its side */
	hex(SHARED, shared, 32);
	hex(ALICE_PUB, pub_a, 32);
	hex(BOB_PUB, pub_b, 32);
	struct gsakmp_kek_info in_ks = {
		.gid = TGID, .gid_len = sizeof(TGID), .pub_gm = pub_a, .pub_ks = pub_b,
		.nonce_i = NI, .nonce_i_len = 32, .nonce_r = NR, .nonce_r_len = 32,
	};
	ck_assert_int_eq(gsakmp_kek_derive(shared, &in_ks, k2), 0);
	ck_assert_mem_eq(k2, kek, 32);
	in_ks.nonce_r_len = 31;
	ck_assert_int_eq(gsakmp_kek_derive(shared, &in_ks, k2), 0);
	ck_assert_mem_ne(k2, kek, 32);
	in_ks.nonce_i = NULL;
	ck_assert_int_eq(gsakmp_kek_derive(shared, &in_ks, k2), -GSAKMP_E_INVALID);

	for (size_t len = 1; len < sizeof(in); len += 37) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 7);
		ck_assert_int_eq(gsakmp_kek_wrap(alg, kek, aad, sizeof(aad), in, len, ct,
				sizeof(ct), &n), 0);
		ck_assert_uint_eq(n, gsakmp_kek_wrap_len(alg, len));
		ck_assert_int_eq(gsakmp_kek_unwrap(alg, kek, aad, sizeof(aad), ct, n, pt,
				sizeof(pt), &m), 0);
		ck_assert_uint_eq(m, len);
		ck_assert_mem_eq(pt, in, len);
		/* any changed octet fails as a whole */
		ct[n / 2] ^= 0x40;
		ck_assert_int_eq(gsakmp_kek_unwrap(alg, kek, aad, sizeof(aad), ct, n, pt,
				sizeof(pt), &m), -GSAKMP_E_DECRYPT);
		ct[n / 2] ^= 0x40;
		k2[0] = kek[0] ^ 1;
		memcpy(k2 + 1, kek + 1, 31);
		ck_assert_int_eq(gsakmp_kek_unwrap(alg, k2, aad, sizeof(aad), ct, n, pt,
				sizeof(pt), &m), -GSAKMP_E_DECRYPT);
		if (alg == GSAKMP_KEK_AES256_GCM)
			ck_assert_int_eq(gsakmp_kek_unwrap(alg, kek, aad, 3, ct, n, pt,
					sizeof(pt), &m), -GSAKMP_E_DECRYPT);
		ck_assert_int_eq(gsakmp_kek_unwrap(alg, kek, aad, sizeof(aad), ct, n - 1, pt,
				sizeof(pt), &m), -GSAKMP_E_DECRYPT);
	}
	ck_assert_int_eq(gsakmp_kek_wrap(alg, kek, NULL, 0, in, 100, ct, 50, &n),
			-GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_kek_unwrap(alg, kek, NULL, 0, ct, 8, pt, sizeof(pt), &m),
			-GSAKMP_E_DECRYPT);
	ck_assert_int_eq(gsakmp_kek_wrap(7, kek, NULL, 0, in, 10, ct, sizeof(ct), &n),
			-GSAKMP_E_INVALID);
	ck_assert_uint_eq(gsakmp_kek_wrap_len(GSAKMP_KEK_AES256_KWP, 0), 0);
	ck_assert_uint_eq(gsakmp_kek_wrap_len(GSAKMP_KEK_AES256_KWP, 20), 32);
	ck_assert_uint_eq(gsakmp_kek_wrap_len(GSAKMP_KEK_AES256_GCM, 20), 48);
}
END_TEST

/* Protected payloads are bound to their place: group, exchange, payload, wrapping key. */
START_TEST(test_sealed_binding)
{
	uint8_t buf[4096], plain[2048], kek[32];
	struct gsakmp_msg m;
	struct gsakmp_kd kd;
	struct gsakmp_red_iter it;
	struct gsakmp_red red;
	const struct gsakmp_payload *p;
	size_t n, pl;

	n = build_exch(GSAKMP_EXCH_KEYDL, buf, sizeof(buf));
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	derive_kek(kek);
	p = gsakmp_msg_find(&m, GSAKMP_PL_KEY_DOWNLOAD, 0);
	ck_assert_int_eq(gsakmp_kdl_open(&m, &p->u.kdl, GSAKMP_KEK_AES256_GCM, kek, plain, 10,
			&kd), -GSAKMP_E_NO_SPACE);
	kek[3] ^= 1;
	ck_assert_int_eq(gsakmp_kdl_open(&m, &p->u.kdl, GSAKMP_KEK_AES256_GCM, kek, plain,
			sizeof(plain), &kd), -GSAKMP_E_DECRYPT);
	kek[3] ^= 1;
	m.hdr.gid[0] ^= 1;                      /* as if replayed into another group */
	ck_assert_int_eq(gsakmp_kdl_open(&m, &p->u.kdl, GSAKMP_KEK_AES256_GCM, kek, plain,
			sizeof(plain), &kd), -GSAKMP_E_DECRYPT);
	m.hdr.gid[0] ^= 1;
	p = gsakmp_msg_find(&m, GSAKMP_PL_POLICY_TOKEN, 0);
	struct gsakmp_pt pt = p->u.pt;
	pt.type = 2;                            /* PT Type is in the AAD */
	ck_assert_int_eq(gsakmp_pt_open(&m, &pt, GSAKMP_KEK_AES256_GCM, kek, plain,
			sizeof(plain), &pl), -GSAKMP_E_DECRYPT);
	ck_assert_int_eq(gsakmp_pt_open(&m, &p->u.pt, GSAKMP_KEK_AES256_KWP, kek, plain,
			sizeof(plain), &pl), -GSAKMP_E_DECRYPT);

	n = build_exch(GSAKMP_EXCH_REKEY, buf, sizeof(buf));
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	gsakmp_red_iter_init(&it, &gsakmp_msg_find(&m, GSAKMP_PL_REKEY_EVENT, 0)->u.rekey);
	ck_assert(gsakmp_red_next(&it, &red));
	ck_assert_uint_eq(red.wrap_id, 2);
	ck_assert_int_eq(gsakmp_red_open(&m, &red, GSAKMP_KEK_AES256_GCM, NODE_KEY[2][1], plain,
			sizeof(plain), &kd), 0);
	red.wrap_handle = 2;                    /* the wrapping key's identity is in the AAD */
	ck_assert_int_eq(gsakmp_red_open(&m, &red, GSAKMP_KEK_AES256_GCM, NODE_KEY[2][1], plain,
			sizeof(plain), &kd), -GSAKMP_E_DECRYPT);
}
END_TEST

START_TEST(test_nonce_cookie)
{
	uint8_t nc[32], cookie[GSAKMP_COOKIE_LEN], c2[GSAKMP_COOKIE_LEN];
	uint8_t secret[GSAKMP_COOKIE_SECRET_LEN];
	static const uint8_t ip[4] = { 192, 0, 2, 1 }, ip2[4] = { 192, 0, 2, 2 };
	struct gsakmp_cookie_ctx *c;
	struct gsakmp_cookie_in in = {
		.nonce_i = NI, .nonce_i_len = 32, .ip = ip, .ip_len = 4,
		.gid = TGID, .gid_len = sizeof(TGID),
	};

	ck_assert_int_eq(gsakmp_nonce_c(NI, 32, NR, 32, nc), 0);
	ck_assert_int_eq(gsakmp_nonce_c_check(NI, 32, NR, 32, nc, 32), 0);
	ck_assert_int_eq(gsakmp_nonce_c_check(NR, 32, NI, 32, nc, 32), -GSAKMP_E_NONCE_C);
	ck_assert_int_eq(gsakmp_nonce_c_check(NI, 32, NR, 32, nc, 20), -GSAKMP_E_NONCE_C);
	/* SHA-256("") would be the empty case; the real one is the concatenation */
	{
		uint8_t cat[64], want[32];
		unsigned int l;

		memcpy(cat, NI, 32);
		memcpy(cat + 32, NR, 32);
		EVP_Digest(cat, 64, want, &l, EVP_sha256(), NULL);
		ck_assert_mem_eq(nc, want, 32);
	}

	ck_assert_int_eq(gsakmp_cookie_ctx_new(&c), 0);
	memset(secret, 0x42, sizeof(secret));
	ck_assert_int_eq(gsakmp_cookie_rotate(c, secret), 0);
	ck_assert_int_eq(gsakmp_cookie_make(c, &in, cookie), 0);
	ck_assert_uint_eq(cookie[0], 1);
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), 0);
	/* deterministic for a given secret: stateless */
	ck_assert_int_eq(gsakmp_cookie_make(c, &in, c2), 0);
	ck_assert_mem_eq(c2, cookie, sizeof(cookie));
	/* bound to the address, the nonce and the group */
	in.ip = ip2;
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), -GSAKMP_E_COOKIE);
	in.ip = ip;
	in.nonce_i = NR;
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), -GSAKMP_E_COOKIE);
	in.nonce_i = NI;
	in.gid_len--;
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), -GSAKMP_E_COOKIE);
	in.gid_len++;
	cookie[9] ^= 1;
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), -GSAKMP_E_COOKIE);
	cookie[9] ^= 1;
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, 16), -GSAKMP_E_COOKIE);
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, NULL, 0), -GSAKMP_E_COOKIE);
	/* across one rotation the old cookie still works; after two it does not */
	ck_assert_int_eq(gsakmp_cookie_rotate(c, NULL), 0);
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), 0);
	ck_assert_int_eq(gsakmp_cookie_make(c, &in, c2), 0);
	ck_assert_mem_ne(c2, cookie, sizeof(cookie));
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, c2, sizeof(c2)), 0);
	ck_assert_int_eq(gsakmp_cookie_rotate(c, NULL), 0);
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, cookie, sizeof(cookie)), -GSAKMP_E_COOKIE);
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, c2, sizeof(c2)), 0);
	/* a cookie from a future version is refused */
	c2[0]++;
	ck_assert_int_eq(gsakmp_cookie_check(c, &in, c2, sizeof(c2)), -GSAKMP_E_COOKIE);
	in.nonce_i_len = 0;
	ck_assert_int_eq(gsakmp_cookie_make(c, &in, c2), -GSAKMP_E_INVALID);
	gsakmp_cookie_ctx_free(c);
	gsakmp_cookie_ctx_free(NULL);
}
END_TEST

START_TEST(test_key_kek)
{
	struct gsakmp_key_datum d;
	uint8_t a[32], b[32];

	datum(&d, GSAKMP_KEY_AES_256_KEK, 5, 1, NODE_KEY[5][1]);
	ck_assert_int_eq(gsakmp_key_kek(&d, a), 0);
	ck_assert_mem_eq(a, NODE_KEY[5][1], 32);
	datum(&d, GSAKMP_KEY_AES_GCM_128, 1, 1, GTPK_KEY);
	ck_assert_int_eq(gsakmp_key_kek(&d, a), 0);
	ck_assert_mem_ne(a, GTPK_KEY, 20);
	d.handle = 2;                            /* each version of a key its own KEK */
	ck_assert_int_eq(gsakmp_key_kek(&d, b), 0);
	ck_assert_mem_ne(a, b, 32);
	d.key_len = 0;
	ck_assert_int_eq(gsakmp_key_kek(&d, b), -GSAKMP_E_INVALID);
}
END_TEST

/* ------------------------------------------------------------------ LKH and registration */

/* RFC 4535 Appendix A.3.2: member 6 (leaf 13) leaves a binary tree of 8 members. Each member
 * holds its path below the root (handle 1) and opens the blocks it can. */
START_TEST(test_lkh_leave)
{
	uint8_t buf[4096], plain[2048];
	struct gsakmp_dec_ctx ctx = ctx_for(GSAKMP_EXCH_REKEY);
	struct gsakmp_red_iter it;
	struct gsakmp_red red;
	struct gsakmp_msg m;
	struct gsakmp_kd pk;
	size_t n;

	n = build_exch(GSAKMP_EXCH_REKEY, buf, sizeof(buf));
	ctx.check_seq = true;
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, &ctx), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, NULL), 0);
	for (int member = 1; member <= 8; member++) {
		uint32_t leaf = 7 + (uint32_t)member, path[3] = { leaf, leaf / 2, leaf / 4 };
		bool got_gtpk = false, got3 = false, got6 = false;
		int opened = 0;

		gsakmp_red_iter_init(&it, &gsakmp_msg_find(&m, GSAKMP_PL_REKEY_EVENT, 0)->u.rekey);
		while (gsakmp_red_next(&it, &red)) {
			bool held = false;

			for (int k = 0; k < 3; k++)
				held |= red.wrap_id == path[k] && red.wrap_handle == 1;
			if (!held)
				continue;  /* not ours: skipped, not an error (§7.5.2) */
			ck_assert_int_eq(gsakmp_red_open(&m, &red, GSAKMP_KEK_AES256_GCM,
					NODE_KEY[red.wrap_id][1], plain, sizeof(plain), &pk), 0);
			opened++;
			for (uint16_t i = 0; i < pk.nb_items; i++) {
				const struct gsakmp_key_datum *d = &pk.items[i].u.datum;

				ck_assert_uint_eq(d->handle, 2);
				if (d->id == 1) {
					ck_assert_mem_eq(d->key, GTPK2_KEY, 20);
					got_gtpk = true;
				} else if (d->id == 3) {
					ck_assert_mem_eq(d->key, NODE_KEY[3][0], 32);
					got3 = true;
				} else {
					ck_assert_uint_eq(d->id, 6);
					got6 = true;
				}
			}
		}
		/* members 1-4 via KeyID 2; member 5 via its leaf 12; 7 and 8 via KeyID 7 */
		ck_assert_int_eq(opened, member == 6 ? 0 : 1);
		ck_assert(got_gtpk == (member != 6));
		ck_assert(got3 == (member >= 5 && member != 6));
		ck_assert(got6 == (member == 5));
	}
	/* the same rekey with RFC 5649 key wrap */
	{
		struct gsakmp_hdr h;
		struct gsakmp_enc *e;

		hdr_init(&h, GSAKMP_EXCH_REKEY, 9);
		ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
		add_leave_rekey(e, GSAKMP_KEK_AES256_KWP);
		add_sig_cert(e, P.ks);
		ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
		ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
		gsakmp_red_iter_init(&it, &m.pl[0].u.rekey);
		ck_assert(gsakmp_red_next(&it, &red));
		ck_assert(gsakmp_red_next(&it, &red));
		ck_assert_int_eq(gsakmp_red_open(&m, &red, GSAKMP_KEK_AES256_KWP,
				NODE_KEY[12][1], plain, sizeof(plain), &pk), 0);
		ck_assert_uint_eq(pk.nb_items, 3);
	}
}
END_TEST

/* A whole registration (RFC 4535 §5.2.1, §5.2.2): RTJ without a cookie, Cookie Download, RTJ
 * with the cookie, Key Download, Key Download Ack; then the GC/KS's checks of it. */
START_TEST(test_registration)
{
	static const uint8_t gm_ip[4] = { 192, 0, 2, 33 };
	uint8_t rtj[2048], cdl[512], keydl[4096], ack[2048], plain[2048];
	uint8_t gm_pub[32], ks_pub[32], ni[32], nr[32], nc[32];
	uint8_t shared_gm[32], shared_ks[32], kek_gm[32], kek_ks[32], cookie[GSAKMP_COOKIE_LEN];
	struct gsakmp_kex *gm_kex, *ks_kex;
	struct gsakmp_cookie_ctx *cc;
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_msg m;
	struct gsakmp_kd kd, got;
	struct gsakmp_dec_ctx ks_ctx = ctx_for(GSAKMP_EXCH_RTJ);
	const struct gsakmp_payload *p;
	X509 *peer = NULL;
	size_t n, cl, pl;

	ck_assert_int_eq(gsakmp_cookie_ctx_new(&cc), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_new(&gm_kex), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_new(&ks_kex), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_public(gm_kex, gm_pub), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_public(ks_kex, ks_pub), 0);
	ck_assert_int_eq(gsakmp_random(ni, 32), 0);
	ck_assert_int_eq(gsakmp_random(nr, 32), 0);

	for (int attempt = 0; attempt < 2; attempt++) {
		/* GM: Request to Join (the second time with the cookie) */
		hdr_init(&h, GSAKMP_EXCH_RTJ, 0);
		ck_assert_int_eq(gsakmp_enc_init(&e, rtj, sizeof(rtj), &h), 0);
		gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, gm_pub, 32);
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, ni, 32);
		gsakmp_enc_payload_vid(e, VID, sizeof(VID));
		if (attempt == 1)
			gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE, cookie, cl);
		add_sig_cert(e, P.gm);
		ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);

		/* GC/KS: header and group first, then the cookie, before any signature work */
		ck_assert_int_eq(gsakmp_decode(rtj, n, &m, &ks_ctx), 0);
		p = gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 0);
		struct gsakmp_cookie_in cin = {
			.nonce_i = p->u.nonce.data, .nonce_i_len = p->u.nonce.len,
			.ip = gm_ip, .ip_len = 4, .gid = m.hdr.gid, .gid_len = m.hdr.gid_len,
		};
		const struct gsakmp_payload *cp = gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION, 0);

		if (attempt == 0) {
			ck_assert_ptr_null(cp);
			ck_assert_int_eq(gsakmp_cookie_make(cc, &cin, cookie), 0);
			cl = sizeof(cookie);
			hdr_init(&h, GSAKMP_EXCH_COOKIE_DL, 0);
			ck_assert_int_eq(gsakmp_enc_init(&e, cdl, sizeof(cdl), &h), 0);
			gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, cookie, cl);
			ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
			/* GM: takes the cookie as it is */
			struct gsakmp_dec_ctx gm_ctx = ctx_for(GSAKMP_EXCH_COOKIE_DL);
			ck_assert_int_eq(gsakmp_decode(cdl, n, &m, &gm_ctx), 0);
			ck_assert_uint_eq(m.pl[0].u.notify.len, cl);
			memcpy(cookie, m.pl[0].u.notify.data, cl);
			continue;
		}
		ck_assert_ptr_nonnull(cp);
		ck_assert_int_eq(gsakmp_cookie_check(cc, &cin, cp->u.notify.data, cp->u.notify.len),
				0);
		ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, &peer), 0);
		ck_subject(peer, "gm1.example");
		p = gsakmp_msg_find(&m, GSAKMP_PL_KEY_CREATION, 0);
		ck_assert_int_eq(gsakmp_kex_x25519_derive(ks_kex, p->u.kc.data, shared_ks), 0);
	}
	struct gsakmp_kek_info ki = {
		.gid = TGID, .gid_len = sizeof(TGID), .pub_gm = gm_pub, .pub_ks = ks_pub,
		.nonce_i = ni, .nonce_i_len = 32, .nonce_r = nr, .nonce_r_len = 32,
	};
	ck_assert_int_eq(gsakmp_kek_derive(shared_ks, &ki, kek_ks), 0);

	/* GC/KS: Key Download to that member */
	ck_assert_int_eq(gsakmp_nonce_c(ni, 32, nr, 32, nc), 0);
	hdr_init(&h, GSAKMP_EXCH_KEYDL, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, keydl, sizeof(keydl), &h), 0);
	add_id(e, GSAKMP_IDC_RECEIVER, peer);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, nr, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, ks_pub, 32);
	gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, PT_DATA, sizeof(PT_DATA),
			GSAKMP_KEK_AES256_GCM, kek_ks);
	kd_example(&kd);
	gsakmp_enc_payload_kdl_sealed(e, &kd, GSAKMP_KEK_AES256_GCM, kek_ks);
	gsakmp_enc_payload_vid(e, VID, sizeof(VID));
	add_sig_cert(e, P.ks);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	X509_free(peer);

	/* GM: the checks of §5.2.1.2 in their order */
	struct gsakmp_dec_ctx gm_ctx = ctx_for(GSAKMP_EXCH_KEYDL);
	uint8_t me[256];
	size_t mel;

	ck_assert_int_eq(gsakmp_decode(keydl, n, &m, &gm_ctx), 0);
	p = gsakmp_msg_find(&m, GSAKMP_PL_ID, 0);
	ck_assert_int_eq(gsakmp_signer_id(P.gm_cert, GSAKMP_ID_DN_STRING, me, sizeof(me), &mel), 0);
	ck_assert_uint_eq(p->u.id.len, mel);
	ck_assert_mem_eq(p->u.id.data, me, mel);
	ck_assert_int_eq(gsakmp_nonce_c_check(ni, 32, gsakmp_msg_find(&m, GSAKMP_PL_NONCE,
			0)->u.nonce.data, 32, gsakmp_msg_find(&m, GSAKMP_PL_NONCE, 1)->u.nonce.data,
			32), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, P.trust, NOW, SKEW, &peer), 0);
	ck_subject(peer, "gcks.example");
	X509_free(peer);
	p = gsakmp_msg_find(&m, GSAKMP_PL_KEY_CREATION, 0);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(gm_kex, p->u.kc.data, shared_gm), 0);
	ck_assert_mem_eq(shared_gm, shared_ks, 32);
	ck_assert_int_eq(gsakmp_kek_derive(shared_gm, &ki, kek_gm), 0);
	ck_assert_int_eq(gsakmp_pt_open(&m, &gsakmp_msg_find(&m, GSAKMP_PL_POLICY_TOKEN, 0)->u.pt,
			GSAKMP_KEK_AES256_GCM, kek_gm, plain, sizeof(plain), &pl), 0);
	ck_assert_mem_eq(plain, PT_DATA, sizeof(PT_DATA));
	ck_assert_int_eq(gsakmp_kdl_open(&m, &gsakmp_msg_find(&m, GSAKMP_PL_KEY_DOWNLOAD,
			0)->u.kdl, GSAKMP_KEK_AES256_GCM, kek_gm, plain, sizeof(plain), &got), 0);
	ck_kd_eq(&got, &kd, false);
	ck_assert_int_gt(got.items[0].u.datum.expires, NOW);
	OPENSSL_cleanse(plain, sizeof(plain));

	/* GM: Key Download Ack; GC/KS checks it */
	hdr_init(&h, GSAKMP_EXCH_KEYDL_ACK, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, ack, sizeof(ack), &h), 0);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, (const uint8_t[]){ GSAKMP_ACK_SIMPLE }, 1);
	gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_DN_STRING, NOW);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	struct gsakmp_dec_ctx ack_ctx = ctx_for(GSAKMP_EXCH_KEYDL_ACK);
	ck_assert_int_eq(gsakmp_decode(ack, n, &m, &ack_ctx), 0);
	ck_assert_int_eq(gsakmp_verify(&m, P.gm_cert, P.trust, NOW, SKEW, NULL), 0);
	ck_assert_int_eq(gsakmp_notify_ack_type(&gsakmp_msg_find(&m, GSAKMP_PL_NOTIFICATION,
			0)->u.notify), GSAKMP_ACK_SIMPLE);

	gsakmp_kex_free(gm_kex);
	gsakmp_kex_free(ks_kex);
	gsakmp_cookie_ctx_free(cc);
	OPENSSL_cleanse(kek_gm, sizeof(kek_gm));
	OPENSSL_cleanse(kek_ks, sizeof(kek_ks));
}
END_TEST


/* Data SA attribute values the hand-built Key Download does not carry. */
START_TEST(test_sa_attr_values)
{
	static const struct {
		const char *name;
		uint8_t attrs[64];
		size_t len;
		int err;
	} v[] = {
		{ "group ipv4", { B16(0x8009), B16(4), 232, 1, 1, 1 }, 8, 0 },
		{ "group 5 octets", { B16(0x8009), B16(5), 232, 1, 1, 1, 1 }, 9, E(ATTR) },
		{ "group v4 source v6", { B16(0x8009), B16(4), 232, 1, 1, 1, B16(0x800a), B16(16),
			R16(1) }, 28, E(ATTR) },
		{ "source only v6", { B16(0x800a), B16(16), R16(1) }, 20, 0 },
		{ "replay window", { B16(0x0008), B16(4), B32(64) }, 8, 0 },
		{ "replay window 2 octets", { B16(0x0008), B16(2), B16(64) }, 6, E(ATTR) },
		{ "sids without sid length", { B16(0x8005), B16(2), B16(1) }, 6, E(ATTR) },
		{ "sids 66", { B16(0x8004), B16(1), 16, B16(0x8005), B16(132) }, 9, E(MALFORMED) },
	};
	uint8_t buf[256];
	struct gsakmp_kd kd;
	size_t n = 0;

	/* Number of Items 1 | type 193 | length | Key ID | Handle | SPI | suite | attrs */
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = GSAKMP_KDD_DATA_SA;
	buf[n++] = 0;
	buf[n++] = (uint8_t)(8 + 8 + 6 + v[_i].len);
	memcpy(buf + n, (const uint8_t[]){ B32(1), B32(1), B16(0x8001), B16(4), B32(0x100),
		B16(0x8002), B16(2), B16(2) }, 22);
	n += 22;
	memcpy(buf + n, v[_i].attrs, v[_i].len);
	n += v[_i].len;
	ck_assert_msg(gsakmp_kd_parse(buf, n, &kd) == v[_i].err, "%s: %s", v[_i].name,
			gsakmp_errname(gsakmp_kd_parse(buf, n, &kd)));
}
END_TEST

/* ------------------------------------------------------------------ TESLA attribute (type 11) */

/*
 * Two Key Downloads with one data SA each, typed from doc/gsakmp-profile.md §9.1 field by field
 * (not produced by the encoder). TESLA_1: null-hmac-sha256-128 with its single sender (SID 0,
 * HMAC). TESLA_8: aes-ctr-128-hmac-sha256-128, 12-bit SIDs, AES-GMAC, eight senders holding 1
 * to 3 SIDs, sender 3 in the last chain whose start fits 32 bits (4971 * 864000).
 */
static const char TESLA_1[] =
	"0001" "c1" "0060"                    /* 1 item: data SA (193), 96 octets */
	"00000001" "00000001"                 /* Key ID 1, Key Handle 1 */
	"8001" "0004" "00001000"              /* SPI 0x1000 */
	"8002" "0002" "0005"                  /* suite 5 null-hmac-sha256-128 */
	"800b" "0046"                         /* [27] TESLA, critical, 70 octets */
	"0000000a"                            /* T_int 10 ms */
	"02" "01" "0000"                      /* d 2, MAC 1 HMAC-SHA-256-128, reserved */
	"0000019ca9450a00"                    /* T_0 1772366400000 ms (2026-03-01 12:00 UTC) */
	"00057e40"                            /* chain length 360000 */
	"00000001"                            /* max clock skew 1 ms */
	"01" "000000"                         /* 1 sender, reserved */
	"01" "000000" "00000000"              /* sender 0: 1 SID, reserved, chain 0 */
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"    /* F(K_0) */
	"b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"0000";                               /* SID 0 */

static const char TESLA_8[] =
	"0001" "c1" "0193"                    /* 1 item: data SA (193), 403 octets */
	"00000002" "00000003"                 /* Key ID 2, Key Handle 3 */
	"8001" "0004" "00002000"              /* SPI 0x2000 */
	"8002" "0002" "0006"                  /* suite 6 aes-ctr-128-hmac-sha256-128 */
	"8004" "0001" "0c"                    /* SID length 12 */
	"800b" "0174"                         /* [32] TESLA, critical, 372 octets */
	"00000064"                            /* T_int 100 ms */
	"03" "02" "0000"                      /* d 3, MAC 2 AES-128-GMAC, reserved */
	"0000019ca97bf880"                    /* T_0 1772370000000 ms */
	"000d2f00"                            /* chain length 864000 */
	"00000019"                            /* max clock skew 25 ms */
	"08" "000000"                         /* 8 senders, reserved */
	"01" "000000" "00000000"              /* [64] sender 0: 1 SID, chain 0 */
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"0001"                                /* SID 1 */
	"02" "000000" "00000001"              /* [106] sender 1: 2 SIDs, chain 1 */
	"1111111111111111111111111111111111111111111111111111111111111111"
	"0002" "0003"                         /* SIDs 2, 3 */
	"01" "000000" "00000002"              /* [150] sender 2: 1 SID, chain 2 */
	"2222222222222222222222222222222222222222222222222222222222222222"
	"0010"                                /* SID 16 */
	"03" "000000" "0000136b"              /* [192] sender 3: 3 SIDs, chain 4971 */
	"3333333333333333333333333333333333333333333333333333333333333333"
	"0100" "0200" "0fff"                  /* SIDs 256, 512, 4095 */
	"01" "000000" "00000000"              /* [238] sender 4 */
	"4444444444444444444444444444444444444444444444444444444444444444"
	"0004"
	"01" "000000" "00000007"              /* [280] sender 5: chain 7 */
	"5555555555555555555555555555555555555555555555555555555555555555"
	"0005"
	"02" "000000" "00000010"              /* [322] sender 6: 2 SIDs, chain 16 */
	"6666666666666666666666666666666666666666666666666666666666666666"
	"0006" "0007"
	"01" "000000" "00000000"              /* [366] sender 7 */
	"7777777777777777777777777777777777777777777777777777777777777777"
	"0800";                               /* SID 2048; [408] end */

/* Where the TESLA attribute's value starts in each vector. */
static const size_t tesla_val_off[2] = { 31, 36 };

/* What the two vectors say, as a data SA the encoder is given. */
static void tesla_vector_sa(int which, struct gsakmp_kd *kd)
{
	static const uint16_t sids8[8][3] = {
		{ 1 }, { 2, 3 }, { 16 }, { 256, 512, 4095 }, { 4 }, { 5 }, { 6, 7 }, { 2048 },
	};
	static const uint8_t nsids8[8] = { 1, 2, 1, 3, 1, 1, 2, 1 };
	static const uint32_t chain8[8] = { 0, 1, 2, 4971, 0, 7, 16, 0 };
	struct gsakmp_sa_attrs *sa = &kd->items[0].u.sa;
	struct gsakmp_tesla *t = &sa->tesla;

	memset(kd, 0, sizeof(*kd));
	kd->nb_items = 1;
	kd->items[0].type = GSAKMP_KDD_DATA_SA;
	sa->present = 1u << GSAKMP_ATTR_SPI | 1u << GSAKMP_ATTR_SUITE | 1u << GSAKMP_ATTR_TESLA;
	if (which == 0) {
		sa->key_id = 1;
		sa->key_handle = 1;
		sa->spi = 0x1000;
		sa->suite = GSAKMP_SUITE_NULL_HMAC_SHA256;
		t->interval_ms = 10;
		t->d = 2;
		t->mac = GSAKMP_TESLA_MAC_HMAC_SHA256_128;
		t->t0_ms = (uint64_t)NOW * 1000;
		t->chain_len = 360000;
		t->max_skew_ms = 1;
		t->nb_senders = 1;
		t->senders[0].nb_sids = 1;
		for (int i = 0; i < GSAKMP_TESLA_COMMIT_LEN; i++)
			t->senders[0].commitment[i] = (uint8_t)(0xa0 + i);
		return;
	}
	sa->present |= 1u << GSAKMP_ATTR_SID_BITS;
	sa->key_id = 2;
	sa->key_handle = 3;
	sa->spi = 0x2000;
	sa->suite = GSAKMP_SUITE_AES_CTR_128_HMAC_SHA256;
	sa->sid_bits = 12;
	t->interval_ms = 100;
	t->d = 3;
	t->mac = GSAKMP_TESLA_MAC_AES_GMAC_128;
	t->t0_ms = (uint64_t)NOW * 1000 + 3600000;
	t->chain_len = 864000;
	t->max_skew_ms = 25;
	t->nb_senders = 8;
	for (int k = 0; k < 8; k++) {
		t->senders[k].nb_sids = nsids8[k];
		memcpy(t->senders[k].sids, sids8[k], sizeof(sids8[k]));
		t->senders[k].chain = chain8[k];
		memset(t->senders[k].commitment, 0x11 * k, GSAKMP_TESLA_COMMIT_LEN);
	}
	for (int i = 0; i < GSAKMP_TESLA_COMMIT_LEN; i++)
		t->senders[0].commitment[i] = (uint8_t)i;
}

/* The vector's bytes; *len gets their count. */
static void tesla_vector(int which, uint8_t *out, size_t cap, size_t *len)
{
	const char *h = which == 0 ? TESLA_1 : TESLA_8;
	int n = test_hex(h, out, cap);

	ck_assert_int_eq(n, which == 0 ? 2 + 3 + 96 : 2 + 3 + 403);
	*len = (size_t)n;
}

/* Both vectors decode to what they say, and the encoder writes exactly their bytes. */
START_TEST(test_tesla_vectors)
{
	uint8_t want[512], out[512];
	struct gsakmp_kd kd, got, back;
	const struct gsakmp_tesla *t;
	size_t wn, n;

	tesla_vector(_i, want, sizeof(want), &wn);
	tesla_vector_sa(_i, &kd);
	ck_assert_int_eq(gsakmp_kd_parse(want, wn, &got), 0);
	ck_assert_uint_eq(got.nb_items, 1);
	ck_assert_uint_eq(got.items[0].type, GSAKMP_KDD_DATA_SA);
	ck_assert(got.items[0].u.sa.present & (1u << GSAKMP_ATTR_TESLA));
	t = &got.items[0].u.sa.tesla;
	ck_assert_uint_eq(t->nb_senders, _i == 0 ? 1 : 8);
	ck_assert_uint_eq(t->d, _i == 0 ? 2 : 3);
	ck_assert_uint_eq(t->mac, _i == 0 ? 1 : 2);
	ck_assert_uint_eq(t->t0_ms, _i == 0 ? UINT64_C(1772366400000) : UINT64_C(1772370000000));
	ck_assert_uint_eq(t->chain_len, _i == 0 ? 360000 : 864000);
	ck_assert_uint_eq(t->senders[t->nb_senders - 1].sids[0], _i == 0 ? 0 : 2048);
	ck_assert_uint_eq(got.items[0].u.sa.suite, _i == 0 ? 5 : 6);
	ck_kd_eq(&kd, &got, false);
	/* encode: the same octets, and not one more than the room given */
	ck_assert_int_eq(gsakmp_kd_build(&kd, out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, wn);
	ck_assert_mem_eq(out, want, wn);
	ck_assert_int_eq(gsakmp_kd_build(&kd, out, wn - 1, &n), -GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_kd_parse(out, wn, &back), 0);
	ck_kd_eq(&kd, &back, false);
	/* the same SA as a Key Package of a Rekey Event */
	ck_assert_int_eq(gsakmp_kpkg_build(&kd, out, sizeof(out), &n), 0);
	ck_assert_mem_eq(out, want, wn);
	ck_assert_int_eq(gsakmp_kpkg_parse(out, n, &back), 0);
	ck_kd_eq(&kd, &back, true);
}
END_TEST

/*
 * Damaged TESLA attributes. Each case patches the value of vector `base` (offsets from the
 * value's first octet), then cuts it or appends zero octets (`dlen`); the item and attribute
 * lengths are then set to agree, so the TESLA parser is what must refuse it. `suite` replaces
 * the vector's suite, `no_sid_bits` drops TESLA_8's SID length attribute.
 */
struct tesla_case {
	const char *name;
	int base;
	int16_t off;
	uint8_t nb;
	uint8_t v[4];
	int16_t dlen;
	uint16_t suite;
	bool no_sid_bits;
	int err;
};

static const struct tesla_case tesla_bad[] = {
	{ "reference 1", 0, .err = 0 },
	{ "reference 8", 1, .err = 0 },
	{ "short: fixed part", 0, .dlen = -43, .err = E(ATTR) },
	{ "short: no sender", 0, .dlen = -42, .err = E(ATTR) },
	{ "short: sender's fixed part", 0, .dlen = -3, .err = E(ATTR) },
	{ "short: SIDs cut", 0, .dlen = -1, .err = E(ATTR) },
	{ "short: a sender missing", 1, .dlen = -42, .err = E(ATTR) },
	{ "short: the last SID cut", 1, .dlen = -1, .err = E(ATTR) },
	{ "long: one octet more", 0, .dlen = 1, .err = E(ATTR) },
	{ "long: one SID more than k", 1, .dlen = 2, .err = E(ATTR) },
	{ "long: a sender more than n", 1, 24, 1, { 7 }, .err = E(ATTR) },
	{ "reserved octet 6", 0, 6, 1, { 0x80 }, .err = E(ATTR) },
	{ "reserved octet 7", 0, 7, 1, { 1 }, .err = E(ATTR) },
	{ "reserved octet 25", 0, 25, 1, { 1 }, .err = E(ATTR) },
	{ "reserved octet 27", 0, 27, 1, { 0x80 }, .err = E(ATTR) },
	{ "sender reserved octet 1", 0, 29, 1, { 1 }, .err = E(ATTR) },
	{ "sender 7 reserved octet 3", 1, 333, 1, { 0x40 }, .err = E(ATTR) },
	{ "T_int 0", 0, 0, 4, { 0, 0, 0, 0 }, .err = E(ATTR) },
	{ "T_int 2^32 - 1", 0, 0, 4, { 0xff, 0xff, 0xff, 0xff }, .err = 0 },
	{ "d 0", 0, 4, 1, { 0 }, .err = E(ATTR) },
	{ "d 1", 0, 4, 1, { 1 }, .err = E(ATTR) },
	{ "d 255", 0, 4, 1, { 255 }, .err = 0 },
	{ "MAC 0", 1, 5, 1, { 0 }, .err = E(ATTR) },
	{ "MAC 3", 1, 5, 1, { 3 }, .err = E(ATTR) },
	{ "MAC 255", 0, 5, 1, { 255 }, .err = E(ATTR) },
	{ "chain length d + 1", 1, 16, 4, { 0, 0, 0, 4 }, .err = E(ATTR) },
	{ "chain length d + 2", 0, 16, 4, { 0, 0, 0, 4 }, .err = 0 },
	{ "chain length 0", 0, 16, 4, { 0, 0, 0, 0 }, .err = E(ATTR) },
	{ "max skew 0 (none)", 0, 20, 4, { 0, 0, 0, 0 }, .err = 0 },
	{ "max skew d * T_int - 1", 1, 20, 4, { 0, 0, 0x01, 0x2b }, .err = 0 },
	{ "max skew d * T_int", 1, 20, 4, { 0, 0, 0x01, 0x2c }, .err = E(ATTR) },
	{ "n 0", 0, 24, 1, { 0 }, .err = E(ATTR) },
	{ "n 9", 1, 24, 1, { 9 }, .dlen = 42, .err = E(ATTR) },
	{ "k 0", 0, 28, 1, { 0 }, .dlen = -2, .err = E(ATTR) },
	{ "k 65", 1, 330, 1, { 65 }, .dlen = 128, .suite = 1, .no_sid_bits = true,
		.err = E(ATTR) },
	{ "k 255", 0, 28, 1, { 255 }, .dlen = 508, .suite = 1, .err = E(ATTR) },
	{ "duplicate SID in a sender", 1, 112, 2, { 0, 2 }, .err = E(ATTR) },
	{ "duplicate SID across senders", 1, 370, 2, { 0, 1 }, .err = E(ATTR) },
	{ "duplicate SID, first and last", 1, 68, 2, { 0x08, 0x00 }, .err = E(ATTR) },
	{ "SID 4096 with 12-bit SIDs", 1, 196, 2, { 0x10, 0x00 }, .err = E(ATTR) },
	{ "SID 4096 without a SID length", 1, 196, 2, { 0x10, 0x00 }, .no_sid_bits = true,
		.err = 0 },
	{ "SID 0xffff without a SID length", 1, 196, 2, { 0xff, 0xff }, .no_sid_bits = true,
		.err = 0 },
	{ "chain 4972: its start overflows", 1, 160, 4, { 0, 0, 0x13, 0x6c }, .err = E(ATTR) },
	{ "chain 2^32 - 1", 0, 32, 4, { 0xff, 0xff, 0xff, 0xff }, .err = E(ATTR) },
	{ "chain 11930 of 360000 keys", 0, 32, 4, { 0, 0, 0x2e, 0x9a }, .err = 0 },
	{ "chain 11931 of 360000 keys", 0, 32, 4, { 0, 0, 0x2e, 0x9b }, .err = E(ATTR) },
	{ "null suite, AES-GMAC", 0, 5, 1, { 2 }, .err = E(ATTR) },
	{ "null suite, SID 1", 0, 68, 2, { 0, 1 }, .err = E(ATTR) },
	{ "null suite, 8 senders", 1, .suite = 5, .no_sid_bits = true, .err = E(ATTR) },
	{ "aes-gcm-128, AES-GMAC, 8 senders", 1, .suite = 1, .err = 0 },
	{ "aes-gmac-128, SID 1", 0, 68, 2, { 0, 1 }, .suite = 3, .err = 0 },
	{ "aes-cbc-128+hmac-sha256-128", 0, .suite = 4, .err = 0 },
	{ "suite 7", 0, .suite = 7, .err = E(ATTR) },
};

/* Item | Key ID | Handle | SPI | suite | [SID length 12] | TESLA: the vector's, around `tv`. */
static size_t tesla_wrap(const uint8_t *vec, int base, uint16_t suite, bool sid_bits,
		const uint8_t *tv, size_t tl, uint8_t *out)
{
	size_t n = 5;

	memcpy(out + n, vec + 5, 20);        /* Key ID, Handle, SPI, suite header */
	n += 20;
	out[n++] = (uint8_t)(suite >> 8);
	out[n++] = (uint8_t)suite;
	if (base == 1 && sid_bits) {
		memcpy(out + n, vec + 27, 5);
		n += 5;
	}
	out[n++] = 0x80;
	out[n++] = 0x0b;
	out[n++] = (uint8_t)(tl >> 8);
	out[n++] = (uint8_t)tl;
	memcpy(out + n, tv, tl);
	n += tl;
	out[0] = 0;
	out[1] = 1;
	out[2] = GSAKMP_KDD_DATA_SA;
	out[3] = (uint8_t)((n - 5) >> 8);
	out[4] = (uint8_t)(n - 5);
	return n;
}

START_TEST(test_tesla_malformed)
{
	const struct tesla_case *c = &tesla_bad[_i];
	uint8_t vec[512], tv[1024], buf[1200], *exact;
	struct gsakmp_kd kd;
	size_t vn, off, tl, n;
	int rc;

	tesla_vector(c->base, vec, sizeof(vec), &vn);
	off = tesla_val_off[c->base];
	tl = vn - off;
	memset(tv, 0, sizeof(tv));
	memcpy(tv, vec + off, tl);
	/* the harness rebuilds each vector exactly */
	n = tesla_wrap(vec, c->base, c->base == 0 ? 5 : 6, true, tv, tl, buf);
	ck_assert_uint_eq(n, vn);
	ck_assert_mem_eq(buf, vec, vn);
	if (c->nb != 0)
		memcpy(tv + c->off, c->v, c->nb);
	tl = (size_t)((ptrdiff_t)tl + c->dlen);
	n = tesla_wrap(vec, c->base, c->suite != 0 ? c->suite : c->base == 0 ? 5 : 6,
			!c->no_sid_bits, tv, tl, buf);
	/* exactly n octets on the heap: AddressSanitizer sees any read past them */
	exact = malloc(n);
	ck_assert_ptr_nonnull(exact);
	memcpy(exact, buf, n);
	rc = gsakmp_kd_parse(exact, n, &kd);
	free(exact);
	ck_assert_msg(rc == c->err, "%s: got %d (%s), want %d (%s)", c->name, rc,
			gsakmp_errname(rc), c->err, gsakmp_errname(c->err));
}
END_TEST

/* The encoder refuses what the decoder would, and writes the largest attribute. */
START_TEST(test_tesla_encode)
{
	static uint8_t buf[1 << 16];
	struct gsakmp_kd kd, back;
	struct gsakmp_tesla *t = &kd.items[0].u.sa.tesla;
	size_t n;

#define REFUSED(which, stmt) do { \
		tesla_vector_sa(which, &kd); \
		stmt; \
		ck_assert_msg(gsakmp_kd_build(&kd, buf, sizeof(buf), &n) == -GSAKMP_E_ATTR, #stmt); \
	} while (0)
	REFUSED(0, t->interval_ms = 0);
	REFUSED(0, t->d = 0);
	REFUSED(0, t->d = 1);
	REFUSED(1, t->mac = 0);
	REFUSED(1, t->mac = 3);
	REFUSED(0, t->chain_len = 3);
	REFUSED(1, t->max_skew_ms = 300);
	REFUSED(0, t->nb_senders = 0);
	REFUSED(1, t->nb_senders = 9);
	REFUSED(1, t->nb_senders = 255);
	REFUSED(1, t->senders[4].nb_sids = 0);
	REFUSED(1, t->senders[4].nb_sids = 65);
	REFUSED(1, t->senders[6].sids[1] = 6);
	REFUSED(1, t->senders[7].sids[0] = 3);
	REFUSED(1, t->senders[7].sids[0] = 4096);
	REFUSED(1, t->senders[3].chain = 4972);
	REFUSED(1, t->senders[0].chain = UINT32_MAX);
	REFUSED(0, t->mac = GSAKMP_TESLA_MAC_AES_GMAC_128);
	REFUSED(0, t->senders[0].sids[0] = 1);
	REFUSED(0, (t->nb_senders = 2, t->senders[1] = t->senders[0], t->senders[1].sids[0] = 1));
	REFUSED(0, kd.items[0].u.sa.suite = 7);
#undef REFUSED

	/* the largest: 8 senders of 64 16-bit SIDs, 512 in all */
	tesla_vector_sa(1, &kd);
	kd.items[0].u.sa.sid_bits = 16;
	for (int k = 0; k < 8; k++) {
		t->senders[k].nb_sids = GSAKMP_MAX_SIDS;
		for (int i = 0; i < GSAKMP_MAX_SIDS; i++)
			t->senders[k].sids[i] = (uint16_t)(0xffff - 64 * k - i);
	}
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), 0);
	/* items (2) | item header (3) | Key ID, Handle (8) | SPI, suite, SID length (8 + 6 + 5)
	 * | TESLA header (4) | 28 + 8 * (40 + 128) */
	ck_assert_uint_eq(n, 2 + 3 + 8 + 19 + 4 + 28 + 8 * (40 + 128));
	ck_assert_uint_eq(buf[34], 0x05);    /* attribute length 1372 = 0x055c */
	ck_assert_uint_eq(buf[35], 0x5c);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, n - 1, &n), -GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &back), 0);
	ck_kd_eq(&kd, &back, false);
	/* a Key Download of 16 such data SAs (well below a payload's 64 KiB) */
	for (int i = 1; i < GSAKMP_KD_MAX_ITEMS; i++)
		kd.items[i] = kd.items[0];
	kd.nb_items = GSAKMP_KD_MAX_ITEMS;
	ck_assert_int_eq(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), 0);
	ck_assert_uint_eq(n, 2 + GSAKMP_KD_MAX_ITEMS * (3 + 8 + 19 + 4 + 1372));
	ck_assert_int_eq(gsakmp_kd_parse(buf, n, &back), 0);
	ck_kd_eq(&kd, &back, false);
	ck_assert_int_eq(gsakmp_kpkg_build(&kd, buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(gsakmp_kpkg_parse(buf, n, &back), 0);
	ck_kd_eq(&kd, &back, true);
}
END_TEST

START_TEST(test_small_helpers)
{
	struct gsakmp_notify nt = { .type = GSAKMP_N_MECH_CHOICES, .len = 4,
		.data = (const uint8_t *)"abcd" };
	struct gsakmp_mech mech[2] = { { 0, 1 }, { 1, 2 } };
	uint8_t out[8];
	size_t n;

	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_3DES_CBC64_192), 24);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_AES_CBC_128), 16);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_AES_CTR), 20);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_AES_GCM_256), 36);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_AES_GMAC_128), 20);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_AES_CBC_128_HMAC_SHA256), 48);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_NULL_HMAC_SHA256), 32);
	ck_assert_uint_eq(gsakmp_key_type_len(GSAKMP_KEY_AES_CTR_128_HMAC_SHA256), 52);
	ck_assert_uint_eq(gsakmp_key_type_len(0), 0);
	ck_assert_int_eq(gsakmp_mech_parse(&nt, mech, 2), -GSAKMP_E_NOTIFY);
	nt.type = GSAKMP_N_ACK;
	ck_assert_int_eq(gsakmp_mech_parse(&nt, mech, 2), -GSAKMP_E_NOTIFY);
	ck_assert_int_eq(gsakmp_mech_build(mech, 2, out, 5, &n), -GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_mech_build(mech, 0, out, 8, &n), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_mech_build(mech, 2, out, 8, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(gsakmp_decode(NULL, 0, NULL, NULL), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_frame_len(NULL, 0, 0, NULL), -GSAKMP_E_INVALID);
}
END_TEST

/* Keys and anchors from PEM files (written here, not shipped). */
START_TEST(test_key_files)
{
	char dir[] = "/tmp/gsakmp-test-XXXXXX", kp[64], cp[64], ap[64];
	struct gsakmp_key *k;
	struct gsakmp_trust *t;
	struct gsakmp_msg m;
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	uint8_t buf[2048];
	size_t n;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(kp, sizeof(kp), "%s/key.pem", dir);
	snprintf(cp, sizeof(cp), "%s/cert.pem", dir);
	snprintf(ap, sizeof(ap), "%s/ca.pem", dir);
	f = fopen(kp, "w");
	ck_assert(PEM_write_PrivateKey(f, P.ks_pkey, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	f = fopen(cp, "w");
	ck_assert(PEM_write_X509(f, P.ks_cert) == 1);
	fclose(f);
	f = fopen(ap, "w");
	ck_assert(PEM_write_X509(f, P.ca) == 1);
	fclose(f);
	ck_assert_int_eq(gsakmp_key_load(kp, cp, &k), 0);
	gsakmp_key_free(k);
	ck_assert_int_eq(gsakmp_key_load(kp, ap, &k), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_key_load(cp, cp, &k), -GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_key_load(kp, cp, &k), 0);
	ck_assert_int_eq(gsakmp_trust_new(&t), 0);
	ck_assert_int_eq(gsakmp_trust_load(t, ap), 0);
	hdr_init(&h, GSAKMP_EXCH_DR, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	add_id(e, GSAKMP_IDC_RECEIVER, P.gm_cert);
	gsakmp_enc_payload_notify(e, GSAKMP_N_DEPART_ERROR, NULL, 0);
	add_sig_cert(e, k);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_int_eq(gsakmp_verify(&m, NULL, t, NOW, SKEW, NULL), 0);
	gsakmp_key_free(k);
	gsakmp_trust_free(t);
	unlink(kp);
	unlink(cp);
	unlink(ap);
	rmdir(dir);
}
END_TEST

/* What the profile helpers refuse. */
START_TEST(test_profile_misc)
{
	static const uint8_t garbage[40] = { 1, 2, 3 };
	uint8_t buf[2048], plain[256], ct[128], kek[32];
	struct gsakmp_key_datum d;
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_msg m;
	struct gsakmp_kd kd;
	struct gsakmp_red_iter it;
	struct gsakmp_red red;
	uint8_t aad[64];
	size_t n, al;

	datum(&d, GSAKMP_KEY_AES_256_KEK, 5, 1, NODE_KEY[5][1]);
	d.key_len = 16;
	ck_assert_int_eq(gsakmp_key_kek(&d, kek), -GSAKMP_E_KEY_LENGTH);
	memset(kek, 7, sizeof(kek));
	ck_assert_int_eq(gsakmp_kek_unwrap(9, kek, NULL, 0, garbage, 40, plain, sizeof(plain), &n),
			-GSAKMP_E_INVALID);
	ck_assert_int_eq(gsakmp_kek_wrap(GSAKMP_KEK_AES256_KWP, kek, NULL, 0, garbage, 40, ct,
			sizeof(ct), &n), 0);
	ck_assert_int_eq(gsakmp_kek_unwrap(GSAKMP_KEK_AES256_KWP, kek, NULL, 0, ct, n, plain, 8,
			&al), -GSAKMP_E_NO_SPACE);
	ck_assert_int_eq(gsakmp_kek_unwrap(GSAKMP_KEK_AES256_GCM, kek, NULL, 0, garbage, 40,
			plain, 4, &al), -GSAKMP_E_NO_SPACE);

	/* protection that checks out around a plaintext that does not parse: the plaintext is
	 * refused (and wiped) */
	hdr_init(&h, GSAKMP_EXCH_KEYDL, 0);
	aad[0] = sizeof(TGID);
	memcpy(aad + 1, TGID, sizeof(TGID));
	aad[1 + sizeof(TGID)] = GSAKMP_EXCH_KEYDL;
	aad[2 + sizeof(TGID)] = GSAKMP_PL_KEY_DOWNLOAD;
	ck_assert_int_eq(gsakmp_kek_wrap(GSAKMP_KEK_AES256_GCM, kek, aad, 3 + sizeof(TGID),
			garbage, sizeof(garbage), ct, sizeof(ct), &n), 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	add_id(e, GSAKMP_IDC_RECEIVER, P.gm_cert);
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, NI, 32);
	gsakmp_enc_payload_pt(e, 1, garbage, 4);
	gsakmp_enc_payload_kdl(e, ct, n);
	gsakmp_enc_payload_sig(e, P.ks, GSAKMP_ID_DN_STRING, NOW);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	memset(plain, 0xaa, sizeof(plain));
	ck_assert_int_eq(gsakmp_kdl_open(&m, &gsakmp_msg_find(&m, GSAKMP_PL_KEY_DOWNLOAD,
			0)->u.kdl, GSAKMP_KEK_AES256_GCM, kek, plain, sizeof(plain), &kd),
			-GSAKMP_E_COUNT);
	for (size_t i = 0; i < sizeof(garbage); i++)
		ck_assert_uint_eq(plain[i], 0);
	/* the same for a Rekey Event Data block */
	hdr_init(&h, GSAKMP_EXCH_REKEY, 1);
	memcpy(aad + 1 + sizeof(TGID), (const uint8_t[]){ GSAKMP_EXCH_REKEY,
		GSAKMP_PL_REKEY_EVENT, B32(4), B32(1) }, 10);
	ck_assert_int_eq(gsakmp_kek_wrap(GSAKMP_KEK_AES256_GCM, kek, aad, 11 + sizeof(TGID),
			garbage, sizeof(garbage), ct, sizeof(ct), &al), 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	gsakmp_enc_rekey_data(e, 4, 1, ct, al);
	gsakmp_enc_rekey_end(e);
	gsakmp_enc_payload_sig(e, P.ks, GSAKMP_ID_DN_STRING, NOW);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	gsakmp_red_iter_init(&it, &m.pl[0].u.rekey);
	ck_assert(gsakmp_red_next(&it, &red));
	ck_assert_int_eq(gsakmp_red_open(&m, &red, GSAKMP_KEK_AES256_GCM, kek, plain,
			sizeof(plain), &kd), -GSAKMP_E_COUNT);
	ck_assert(!gsakmp_red_next(&it, &red));

	/* gsakmp_sign() needs a Signature payload to fill */
	memcpy(buf, hb_cookie_dl, sizeof(hb_cookie_dl));
	ck_assert_int_eq(gsakmp_sign(buf, sizeof(hb_cookie_dl), P.gm), -GSAKMP_E_NO_SIGNATURE);
}
END_TEST

/* Builder corners: default version, payload limit, views of unknown types, a second signer. */
START_TEST(test_encoder_corners)
{
	uint8_t buf[8192];
	struct gsakmp_payload pl = { .type = 5 };
	struct gsakmp_hdr h;
	struct gsakmp_enc *e;
	struct gsakmp_msg m;
	size_t n;

	hdr_init(&h, GSAKMP_EXCH_COOKIE_DL, 0);
	h.version = 0;                          /* 0: the builder writes 1 */
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, NI, 16);
	for (int i = 1; i < GSAKMP_MAX_PAYLOADS; i++)
		ck_assert_int_eq(gsakmp_enc_payload_cert(e, GSAKMP_CERT_RAW_RSA, NI, 1), 0);
	ck_assert_int_eq(gsakmp_enc_payload_cert(e, GSAKMP_CERT_RAW_RSA, NI, 1),
			-GSAKMP_E_TOO_MANY_PAYLOADS);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), -GSAKMP_E_TOO_MANY_PAYLOADS);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, NI, 16);
	ck_assert_int_eq(gsakmp_enc_finish(e, &n), 0);
	ck_assert_int_eq(gsakmp_decode(buf, n, &m, NULL), 0);
	ck_assert_uint_eq(m.hdr.version, 1);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload(e, &pl), -GSAKMP_E_UNKNOWN_PAYLOAD);
	gsakmp_enc_abort(e);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload(e, NULL), -GSAKMP_E_INVALID);
	gsakmp_enc_abort(e);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload_vid(e, NULL, 4), -GSAKMP_E_INVALID);
	gsakmp_enc_abort(e);
	/* one signature per message */
	hdr_init(&h, GSAKMP_EXCH_DA, 0);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_DN_STRING, NOW);
	ck_assert_int_eq(gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_DN_STRING, NOW),
			-GSAKMP_E_INVALID);
	gsakmp_enc_abort(e);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	ck_assert_int_eq(gsakmp_enc_payload_sig(e, P.gm, GSAKMP_ID_FQDN, NOW),
			-GSAKMP_E_SIGNER_ID);
	gsakmp_enc_abort(e);
	/* a rekey block too small to hold # of Key Packages, and one too big */
	hdr_init(&h, GSAKMP_EXCH_REKEY, 1);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, sizeof(buf), &h), 0);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	ck_assert_int_eq(gsakmp_enc_rekey_data(e, 1, 1, NI, 1), -GSAKMP_E_LIMIT);
	gsakmp_enc_abort(e);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, 200, &h), 0);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	ck_assert_int_eq(gsakmp_enc_rekey_data(e, 1, 1, buf + 1000, 300), -GSAKMP_E_NO_SPACE);
	gsakmp_enc_abort(e);
}
END_TEST

Suite *gsakmp_suite(void);

Suite *gsakmp_suite(void)
{
	Suite *s = suite_create("gsakmp");
	TCase *tc;

	node_keys_init();

	tc = tcase_create("codec");
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_hb_cookie_dl);
	tcase_add_test(tc, test_hb_rtj);
	tcase_add_test(tc, test_hb_keydl);
	tcase_add_test(tc, test_hb_rekey);
	tcase_add_test(tc, test_hb_da);
	tcase_add_test(tc, test_hb_kd);
	tcase_add_loop_test(tc, test_hb_reencode, 0, 5);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, test_malformed_kd, 0, (int)(sizeof(bad_kd) / sizeof(bad_kd[0])));
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_kd_roundtrip);
	tcase_add_test(tc, test_embedded_v1);
	tcase_add_test(tc, test_tcp_framing);
	tcase_add_loop_test(tc, test_sa_attr_values, 0, 8);
	tcase_add_loop_test(tc, test_tesla_vectors, 0, 2);
	tcase_add_loop_test(tc, test_tesla_malformed, 0,
			(int)(sizeof(tesla_bad) / sizeof(tesla_bad[0])));
	tcase_add_test(tc, test_tesla_encode);
	tcase_add_test(tc, test_small_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("exchanges");
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_loop_test(tc, test_exchange, 0, NB_EXCHS);
	tcase_add_test(tc, test_payloads);
	tcase_add_test(tc, test_encoder_checks);
	tcase_add_test(tc, test_sequence);
	tcase_add_test(tc, test_lkh_leave);
	tcase_add_test(tc, test_registration);
	tcase_add_test(tc, test_encoder_corners);
	suite_add_tcase(s, tc);

	tc = tcase_create("profile");
	tcase_add_unchecked_fixture(tc, pki_setup, NULL);
	tcase_add_test(tc, test_sign_verify);
	tcase_add_test(tc, test_verify_failures);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_hkdf_kat);
	tcase_add_test(tc, test_x25519);
	tcase_add_loop_test(tc, test_kek, 0, 2);
	tcase_add_test(tc, test_sealed_binding);
	tcase_add_test(tc, test_nonce_cookie);
	tcase_add_test(tc, test_key_kek);
	tcase_add_test(tc, test_key_files);
	tcase_add_test(tc, test_profile_misc);
	suite_add_tcase(s, tc);
	return s;
}
