/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gsakmp-sample: write one sample of every GSAKMP exchange (RFC 4535) in the msecgw profile to
 * a pcap file, as UDP datagrams between 127.0.0.1 ports 3761, for dissector work with tshark.
 *
 *   gsakmp-sample -o out.pcap [-t] [-k] [-d dir]
 *     -t      also write one TCP segment carrying two messages back to back (TCP framing)
 *     -k      print the throwaway keys (registration KEK, LKH node keys, GTPK) for decryption
 *     -d dir  also write each message, and plaintext Key Download / Key Package bodies, as raw
 *             files into dir (the fuzz seed corpus, tests/fuzz/corpus/gsakmp)
 *
 * The PKI, key pairs and nonces are fixed or made on the spot: nothing here is secret.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gsakmp.h"
#include "gsakmp_crypto.h"

#define NOW INT64_C(1772366400)        /* 2026-03-01 12:00:00 UTC */
#define MAX_MSG 8192

struct sample {
	const char *name;
	int tcp;                 /* 0: UDP; 1: first of a TCP pair; 2: second of it */
	size_t len;
	uint8_t buf[MAX_MSG];
};

static struct sample samples[24];
static int nb_samples;

static EVP_PKEY *ca_key, *ks_pkey, *gm_pkey;
static X509 *ca_cert, *ks_cert, *gm_cert;
static struct gsakmp_key *ks, *gm;

static const uint8_t GID[] = { 0x5e, 0xc6, 0x3a, 0x01, 0x9b, 0x44, 0x72, 0x0d,
	'i', 'p', 't', 'v', '-', '1' };
static const uint8_t VID[] = GSAKMP_PROFILE_VID;
static const uint8_t PT[] = "policy token placeholder (RFC 4534 CMS SignedData)";
static uint8_t ni[32], nr[32], nc[32], kek[32], gtpk[20], gtpk2[20], node[16][2][32];
static uint8_t gm_pub[32], ks_pub[32];

__attribute__((format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gsakmp-sample: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void ck(int rc, const char *what)
{
	if (rc != 0)
		die("%s: %s", what, gsakmp_strerror(rc));
}

/* ------------------------------------------------------------------ throwaway PKI */

static X509 *cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca)
{
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : (long)(2 + strlen(cn)));
	ASN1_TIME_set(X509_getm_notBefore(x), 1767225600);   /* 2026-01-01 */
	ASN1_TIME_set(X509_getm_notAfter(x), 2082758400);    /* 2036-01-01 */
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"msecgw sample",
			-1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
			ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, ikey != NULL ? ikey : key, NULL) <= 0)  /* Ed25519 CA: no digest */
		die("cannot sign a certificate");
	return x;
}

static void pki(void)
{
	uint8_t seed[32];
	size_t i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0xca + i);
	ca_key = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, 32);
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x61 + i);
	gm_pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, 32);
	ks_pkey = EVP_EC_gen("P-256");
	if (ca_key == NULL || gm_pkey == NULL || ks_pkey == NULL)
		die("key generation failed");
	ca_cert = cert(ca_key, "msecgw sample CA", NULL, NULL, 1);
	ks_cert = cert(ks_pkey, "gcks.example", ca_cert, ca_key, 0);
	gm_cert = cert(gm_pkey, "gm1.example", ca_cert, ca_key, 0);
	ck(gsakmp_key_new(ks_pkey, ks_cert, &ks), "GC/KS key");
	ck(gsakmp_key_new(gm_pkey, gm_cert, &gm), "member key");
}

/* ------------------------------------------------------------------ messages */

static struct gsakmp_enc *start(uint8_t exch, uint32_t seq, struct sample **s,
		const char *name, int tcp)
{
	struct gsakmp_hdr h = { .gid_type = GSAKMP_GID_OCTETS, .gid_len = sizeof(GID),
		.version = GSAKMP_VERSION, .exch = exch, .seq = seq };
	struct gsakmp_enc *e;

	if (nb_samples == (int)(sizeof(samples) / sizeof(samples[0])))
		die("too many samples");
	*s = &samples[nb_samples++];
	(*s)->name = name;
	(*s)->tcp = tcp;
	memcpy(h.gid, GID, sizeof(GID));
	ck(gsakmp_enc_init(&e, (*s)->buf, sizeof((*s)->buf), &h), name);
	return e;
}

static void finish(struct gsakmp_enc *e, struct sample *s)
{
	ck(gsakmp_enc_finish(e, &s->len), s->name);
}

static void sign(struct gsakmp_enc *e, const struct gsakmp_key *k)
{
	const uint8_t *der;
	size_t n;

	gsakmp_enc_payload_sig(e, k, GSAKMP_ID_DN_STRING, NOW);
	gsakmp_key_cert_der(k, &der, &n);
	gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, der, n);
}

static void member_id(struct gsakmp_enc *e, X509 *who)
{
	uint8_t dn[256];
	size_t n;

	ck(gsakmp_signer_id(who, GSAKMP_ID_DN_STRING, dn, sizeof(dn), &n), "signer id");
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING, dn, n);
}

static void datum(struct gsakmp_key_datum *d, uint16_t type, uint32_t id, uint32_t handle,
		const uint8_t *key)
{
	d->type = type;
	d->id = id;
	d->handle = handle;
	d->created = NOW - 43200;
	d->expires = NOW + 365 * 86400;
	d->key = key;
	d->key_len = gsakmp_key_type_len(type);
}

/* Member 5 (leaf 12) of an 8-member binary LKH tree: GTPK, KEKs 3, 6, 12, the data SA. */
static void key_download(struct gsakmp_kd *kd)
{
	struct gsakmp_sa_attrs *sa = &kd->items[2].u.sa;

	memset(kd, 0, sizeof(*kd));
	kd->nb_items = 3;
	kd->items[0].type = GSAKMP_KDD_GTPK;
	datum(&kd->items[0].u.datum, GSAKMP_KEY_AES_GCM_128, 1, 1, gtpk);
	kd->items[1].type = GSAKMP_KDD_REKEY_LKH;
	kd->items[1].u.ra = (struct gsakmp_rekey_array){ .version = 1, .member_id = 5,
		.nb_keys = 3, .first_key = 0 };
	kd->nb_keys = 3;
	datum(&kd->keys[0], GSAKMP_KEY_AES_256_KEK, 3, 1, node[3][1]);
	datum(&kd->keys[1], GSAKMP_KEY_AES_256_KEK, 6, 1, node[6][1]);
	datum(&kd->keys[2], GSAKMP_KEY_AES_256_KEK, 12, 1, node[12][1]);
	kd->items[2].type = GSAKMP_KDD_DATA_SA;
	sa->key_id = 1;
	sa->key_handle = 1;
	sa->present = (1u << GSAKMP_ATTR_SPI) | (1u << GSAKMP_ATTR_SUITE) |
		(1u << GSAKMP_ATTR_FLAGS) | (1u << GSAKMP_ATTR_SID_BITS) |
		(1u << GSAKMP_ATTR_SIDS) | (1u << GSAKMP_ATTR_ACT_DELAY) |
		(1u << GSAKMP_ATTR_DEACT_DELAY) | (1u << GSAKMP_ATTR_REPLAY_WINDOW) |
		(1u << GSAKMP_ATTR_GROUP_ADDR) | (1u << GSAKMP_ATTR_SOURCE_ADDR) |
		(1u << GSAKMP_ATTR_TESLA);
	sa->spi = 0x10001000;
	sa->suite = GSAKMP_SUITE_AES_GCM_128;
	sa->flags = GSAKMP_SAF_PRESERVE_SRC | GSAKMP_SAF_PRESERVE_DST | GSAKMP_SAF_ESN |
		GSAKMP_SAF_SEND | GSAKMP_SAF_RECEIVE;
	sa->sid_bits = 8;
	sa->nb_sids = 2;
	sa->sids[0] = 5;
	sa->sids[1] = 6;
	sa->act_delay_ms = 2000;
	sa->deact_delay_ms = 10000;
	sa->replay_window = 1024;
	sa->addr_len = 4;
	memcpy(sa->group_addr, (const uint8_t[]){ 232, 1, 1, 1 }, 4);
	memcpy(sa->source_addr, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
	sa->tesla = (struct gsakmp_tesla){ .interval_ms = 20, .d = 2,
		.mac = GSAKMP_TESLA_MAC_HMAC_SHA256_128, .t0_ms = (uint64_t)NOW * 1000,
		.chain_len = 360000, .max_skew_ms = 10, .nb_senders = 2 };
	/* this member (SIDs 5, 6) and one more sender, already on its second chain */
	sa->tesla.senders[0].nb_sids = 2;
	sa->tesla.senders[0].sids[0] = 5;
	sa->tesla.senders[0].sids[1] = 6;
	memset(sa->tesla.senders[0].commitment, 0x7e, GSAKMP_TESLA_COMMIT_LEN);
	sa->tesla.senders[1].nb_sids = 1;
	sa->tesla.senders[1].sids[0] = 9;
	sa->tesla.senders[1].chain = 1;
	memset(sa->tesla.senders[1].commitment, 0x7f, GSAKMP_TESLA_COMMIT_LEN);
}

/* Appendix A.3.2: member 6 leaves; GTPK' under 2, {GTPK', 3', 6'} under 12, {GTPK', 3'}
 * under 7. */
static void leave_rekey(struct gsakmp_enc *e, uint16_t alg)
{
	static const struct { uint32_t wrap; int keks; } blocks[] = {
		{ 2, 0 }, { 12, 2 }, { 7, 1 },
	};
	struct gsakmp_kd p;

	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	for (size_t i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.nb_items = (uint16_t)(1 + blocks[i].keks);
		p.items[0].type = GSAKMP_KDD_GTPK;
		datum(&p.items[0].u.datum, GSAKMP_KEY_AES_GCM_128, 1, 2, gtpk2);
		for (int k = 0; k < blocks[i].keks; k++) {
			p.items[1 + k].type = GSAKMP_KDD_REKEY_LKH;
			datum(&p.items[1 + k].u.datum, GSAKMP_KEY_AES_256_KEK, k == 0 ? 3 : 6, 2,
					node[k == 0 ? 3 : 6][0]);
		}
		gsakmp_enc_rekey_data_sealed(e, blocks[i].wrap, 1, &p, alg,
				node[blocks[i].wrap][1]);
	}
	gsakmp_enc_rekey_end(e);
}

static void build(int with_tcp)
{
	static const uint8_t ack = GSAKMP_ACK_SIMPLE;
	const struct gsakmp_mech mech[] = {
		{ GSAKMP_MECH_KEY_CREATION, GSAKMP_MECH_KC_X25519 },
		{ GSAKMP_MECH_ENCRYPTION, GSAKMP_MECH_ENC_AES256_GCM },
		{ GSAKMP_MECH_NONCE_HASH, GSAKMP_MECH_NONCE_SHA256 },
	};
	uint8_t mb[16], cookie[GSAKMP_COOKIE_LEN], shared[32], gkek[32];
	struct gsakmp_cookie_ctx *cc;
	struct gsakmp_kex *gk, *kk;
	struct gsakmp_key_datum old;
	struct gsakmp_enc *e;
	struct sample *s;
	struct gsakmp_kd kd;
	size_t mbl;
	uint8_t priv[32];

	/* RFC 7748 §6.1's key pairs: the member is Alice, the GC/KS Bob */
	static const uint8_t alice[32] = { 0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c,
		0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99,
		0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a };
	static const uint8_t bob[32] = { 0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79,
		0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6,
		0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb };

	memcpy(priv, alice, 32);
	ck(gsakmp_kex_x25519_from_private(priv, &gk), "x25519");
	memcpy(priv, bob, 32);
	ck(gsakmp_kex_x25519_from_private(priv, &kk), "x25519");
	ck(gsakmp_kex_x25519_public(gk, gm_pub), "x25519");
	ck(gsakmp_kex_x25519_public(kk, ks_pub), "x25519");
	ck(gsakmp_kex_x25519_derive(kk, gm_pub, shared), "x25519");
	for (int i = 0; i < 32; i++) {
		ni[i] = (uint8_t)(0xa0 + i);
		nr[i] = (uint8_t)(0x40 + i);
	}
	for (int i = 0; i < 20; i++) {
		gtpk[i] = (uint8_t)(0x10 + i);
		gtpk2[i] = (uint8_t)(0x70 + i);
	}
	for (int id = 0; id < 16; id++)
		for (int h = 0; h < 2; h++)
			for (int i = 0; i < 32; i++)
				node[id][h][i] = (uint8_t)(id * 37 + h * 101 + i);
	ck(gsakmp_nonce_c(ni, 32, nr, 32, nc), "nonce");
	struct gsakmp_kek_info ki = { .gid = GID, .gid_len = sizeof(GID), .pub_gm = gm_pub,
		.pub_ks = ks_pub, .nonce_i = ni, .nonce_i_len = 32, .nonce_r = nr,
		.nonce_r_len = 32 };
	ck(gsakmp_kek_derive(shared, &ki, kek), "kek");
	ck(gsakmp_cookie_ctx_new(&cc), "cookie");
	struct gsakmp_cookie_in cin = { .nonce_i = ni, .nonce_i_len = 32,
		.ip = (const uint8_t[]){ 127, 0, 0, 1 }, .ip_len = 4, .gid = GID,
		.gid_len = sizeof(GID) };
	ck(gsakmp_cookie_make(cc, &cin, cookie), "cookie");
	ck(gsakmp_mech_build(mech, 3, mb, sizeof(mb), &mbl), "mechanisms");

	/* 8: Request to Join, first without a cookie */
	e = start(GSAKMP_EXCH_RTJ, 0, &s, "rtj", 0);
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, gm_pub, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, ni, 32);
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	gsakmp_enc_payload_notify(e, GSAKMP_N_MECH_CHOICES, mb, mbl);
	sign(e, gm);
	finish(e, s);

	/* 10: Cookie Download */
	e = start(GSAKMP_EXCH_COOKIE_DL, 0, &s, "cookie-download", 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, cookie, sizeof(cookie));
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	finish(e, s);

	/* 8: Request to Join with the cookie and an IPv4 Value */
	e = start(GSAKMP_EXCH_RTJ, 0, &s, "rtj-cookie", 0);
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, gm_pub, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, ni, 32);
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	gsakmp_enc_payload_notify(e, GSAKMP_N_MECH_CHOICES, mb, mbl);
	gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE, cookie, sizeof(cookie));
	gsakmp_enc_payload_notify(e, GSAKMP_N_IPV4_VALUE, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
	sign(e, gm);
	finish(e, s);

	/* 9: Key Download */
	e = start(GSAKMP_EXCH_KEYDL, 0, &s, "key-download", 0);
	member_id(e, gm_cert);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, nr, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, ks_pub, 32);
	gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, PT, sizeof(PT), GSAKMP_KEK_AES256_GCM,
			kek);
	key_download(&kd);
	gsakmp_enc_payload_kdl_sealed(e, &kd, GSAKMP_KEK_AES256_GCM, kek);
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	sign(e, ks);
	finish(e, s);

	/* 4: Key Download - Ack */
	e = start(GSAKMP_EXCH_KEYDL_ACK, 0, &s, "key-download-ack", 0);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, &ack, 1);
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	sign(e, gm);
	finish(e, s);

	/* 12: Lack of Ack */
	e = start(GSAKMP_EXCH_LOA, 0, &s, "lack-of-ack", 0);
	member_id(e, gm_cert);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, nr, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_NACK, NULL, 0);
	sign(e, ks);
	finish(e, s);

	/* 5: Rekey Event, LKH leave with a new policy token in the old GTPK */
	datum(&old, GSAKMP_KEY_AES_GCM_128, 1, 1, gtpk);
	ck(gsakmp_key_kek(&old, gkek), "gtpk kek");
	e = start(GSAKMP_EXCH_REKEY, 2, &s, "rekey-lkh", 0);
	gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, PT, sizeof(PT), GSAKMP_KEK_AES256_GCM,
			gkek);
	leave_rekey(e, GSAKMP_KEK_AES256_GCM);
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	sign(e, ks);
	finish(e, s);

	/* 5: the same leave with RFC 5649 key wrap */
	e = start(GSAKMP_EXCH_REKEY, 3, &s, "rekey-lkh-kwp", 0);
	leave_rekey(e, GSAKMP_KEK_AES256_KWP);
	sign(e, ks);
	finish(e, s);

	/* 5: policy-token-only update (Rekey Event Type None, §5.3.1.2) */
	e = start(GSAKMP_EXCH_REKEY, 4, &s, "rekey-pt-only", 0);
	gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, PT, sizeof(PT), GSAKMP_KEK_AES256_GCM,
			gkek);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_NONE, 0, NOW);
	gsakmp_enc_rekey_end(e);
	sign(e, ks);
	finish(e, s);

	/* 11: Request to Join Error */
	e = start(GSAKMP_EXCH_RTJ_ERR, 0, &s, "rtj-error", 0);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, ni, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_UNAUTHORIZED_REQUEST, NULL, 0);
	gsakmp_enc_payload_vid(e, VID, GSAKMP_PROFILE_VID_LEN);
	finish(e, s);

	/* 13: Request to Depart */
	e = start(GSAKMP_EXCH_RTD, 0, &s, "request-to-depart", with_tcp ? 1 : 0);
	member_id(e, ks_cert);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, ni, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_LEAVE_GROUP, NULL, 0);
	sign(e, gm);
	finish(e, s);

	/* 14: Departure Response */
	e = start(GSAKMP_EXCH_DR, 0, &s, "departure-response", 0);
	member_id(e, gm_cert);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, nr, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_DEPARTURE_ACCEPTED, NULL, 0);
	sign(e, ks);
	finish(e, s);

	/* 15: Departure Ack */
	e = start(GSAKMP_EXCH_DA, 0, &s, "departure-ack", with_tcp ? 2 : 0);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, &ack, 1);
	sign(e, gm);
	finish(e, s);

	/* 5: group destruction (Sequence ID 0xFFFFFFFF, §5.3.1.3) */
	e = start(GSAKMP_EXCH_REKEY, GSAKMP_SEQ_DESTROY, &s, "rekey-destroy", 0);
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_NONE, 0, NOW);
	gsakmp_enc_rekey_end(e);
	sign(e, ks);
	finish(e, s);

	gsakmp_cookie_ctx_free(cc);
	gsakmp_kex_free(gk);
	gsakmp_kex_free(kk);
}

/* ------------------------------------------------------------------ pcap (by hand) */

static void le16(FILE *f, uint16_t v)
{
	fputc(v & 0xff, f);
	fputc(v >> 8, f);
}

static void le32(FILE *f, uint32_t v)
{
	le16(f, (uint16_t)v);
	le16(f, (uint16_t)(v >> 16));
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t tcp_seq = 0x1000;

/* One Ethernet/IPv4/UDP-or-TCP frame from 127.0.0.1:3761 to 127.0.0.1:3761. */
static void frame(FILE *f, uint32_t ts, const uint8_t *data, size_t len, bool tcp)
{
	uint8_t pkt[14 + 20 + 20 + 2 * MAX_MSG];
	size_t l4 = tcp ? 20 : 8, iplen = 20 + l4 + len, n = 14 + iplen;
	uint8_t *ip = pkt + 14, *th = ip + 20, ph[12];
	uint32_t sum;

	if (len > 2 * MAX_MSG)
		die("message too long for a frame");
	memset(pkt, 0, 14 + 20 + l4);
	pkt[12] = 0x08;                                  /* IPv4; MACs all zero */
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[6] = 0x40;                                    /* DF */
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	memcpy(ip + 12, (const uint8_t[]){ 127, 0, 0, 1, 127, 0, 0, 1 }, 8);
	sum = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	th[0] = GSAKMP_PORT >> 8;
	th[1] = GSAKMP_PORT & 0xff;
	th[2] = GSAKMP_PORT >> 8;
	th[3] = GSAKMP_PORT & 0xff;
	if (tcp) {
		th[4] = (uint8_t)(tcp_seq >> 24);
		th[5] = (uint8_t)(tcp_seq >> 16);
		th[6] = (uint8_t)(tcp_seq >> 8);
		th[7] = (uint8_t)tcp_seq;
		th[12] = 5 << 4;
		th[13] = 0x18;                           /* PSH, ACK */
		th[14] = 0xff;
		th[15] = 0xff;
		tcp_seq += (uint32_t)len;
	} else {
		th[4] = (uint8_t)((8 + len) >> 8);
		th[5] = (uint8_t)(8 + len);
	}
	memcpy(th + l4, data, len);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	ph[10] = (uint8_t)((l4 + len) >> 8);
	ph[11] = (uint8_t)(l4 + len);
	sum = csum_fold(csum_add(csum_add(0, ph, 12), th, l4 + len));
	if (!tcp && sum == 0)
		sum = 0xffff;
	th[tcp ? 16 : 6] = (uint8_t)(sum >> 8);
	th[tcp ? 17 : 7] = (uint8_t)sum;
	le32(f, ts);
	le32(f, 0);
	le32(f, (uint32_t)n);
	le32(f, (uint32_t)n);
	fwrite(pkt, 1, n, f);
}

static void write_pcap(const char *path)
{
	uint8_t both[2 * MAX_MSG];
	size_t bl = 0;
	FILE *f = fopen(path, "wb");
	uint32_t ts = (uint32_t)NOW;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	le32(f, 0xa1b2c3d4);
	le16(f, 2);
	le16(f, 4);
	le32(f, 0);
	le32(f, 0);
	le32(f, 65535);
	le32(f, 1);                                      /* LINKTYPE_ETHERNET */
	for (int i = 0; i < nb_samples; i++) {
		struct sample *s = &samples[i];

		if (s->tcp == 0) {
			frame(f, ts++, s->buf, s->len, false);
			continue;
		}
		memcpy(both + bl, s->buf, s->len);
		bl += s->len;
		if (s->tcp == 2) {
			frame(f, ts++, both, bl, true);  /* two messages in one segment */
			bl = 0;
		}
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void write_file(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b, 1, n, f) != n || fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void write_corpus(const char *dir)
{
	uint8_t buf[4096];
	char name[64];
	struct gsakmp_kd kd;
	size_t n;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die("%s: %s", dir, strerror(errno));
	for (int i = 0; i < nb_samples; i++) {
		snprintf(name, sizeof(name), "%02d-%s", i, samples[i].name);
		write_file(dir, name, samples[i].buf, samples[i].len);
	}
	/* the plaintexts behind the KEK, for the Key Download and Key Package parsers */
	key_download(&kd);
	ck(gsakmp_kd_build(&kd, buf, sizeof(buf), &n), "key download");
	write_file(dir, "kd-plain", buf, n);
	memset(&kd, 0, sizeof(kd));
	kd.nb_items = 3;
	kd.items[0].type = GSAKMP_KDD_GTPK;
	datum(&kd.items[0].u.datum, GSAKMP_KEY_AES_GCM_128, 1, 2, gtpk2);
	kd.items[1].type = GSAKMP_KDD_REKEY_LKH;
	datum(&kd.items[1].u.datum, GSAKMP_KEY_AES_256_KEK, 3, 2, node[3][0]);
	kd.items[2].type = GSAKMP_KDD_DATA_SA;
	{
		/* the data SA travels with a rekey without the member's own SIDs */
		struct gsakmp_kd full;

		key_download(&full);
		kd.items[2].u.sa = full.items[2].u.sa;
		kd.items[2].u.sa.present &= ~(1u << GSAKMP_ATTR_SIDS);
	}
	ck(gsakmp_kpkg_build(&kd, buf, sizeof(buf), &n), "key packages");
	write_file(dir, "kpkg-plain", buf, n);
}

static void hexline(const char *what, const uint8_t *b, size_t n)
{
	printf("%-28s ", what);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static void print_keys(void)
{
	char what[64];

	printf("# throwaway sample keys, for dissector development only\n");
	hexline("registration KEK", kek, 32);
	hexline("GTPK (id 1 handle 1)", gtpk, 20);
	hexline("GTPK' (id 1 handle 2)", gtpk2, 20);
	for (int id = 2; id < 16; id++) {
		snprintf(what, sizeof(what), "node KEK id %d handle 1", id);
		hexline(what, node[id][1], 32);
	}
}

static int usage(const char *prog, int rc)
{
	fprintf(stderr, "usage: %s -o out.pcap [-t] [-k] [-d corpus-dir]\n", prog);
	return rc;
}

int main(int argc, char **argv)
{
	const char *out = NULL, *dir = NULL;
	int opt, tcp = 0, keys = 0;

	while ((opt = getopt(argc, argv, "o:d:tkh")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			tcp = 1;
			break;
		case 'k':
			keys = 1;
			break;
		default:
			return usage(argv[0], opt == 'h' ? 0 : 2);
		}
	}
	if (out == NULL && dir == NULL)
		return usage(argv[0], 2);
	pki();
	build(tcp);
	if (out != NULL)
		write_pcap(out);
	if (dir != NULL)
		write_corpus(dir);
	if (keys)
		print_keys();
	gsakmp_key_free(ks);
	gsakmp_key_free(gm);
	X509_free(ca_cert);
	X509_free(ks_cert);
	X509_free(gm_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ks_pkey);
	EVP_PKEY_free(gm_pkey);
	return 0;
}
