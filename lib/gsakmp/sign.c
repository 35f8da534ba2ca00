/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message signatures of the profile (doc/gsakmp-profile.md §4): ECDSA P-256 with SHA-256 and
 * Ed25519, both with 64-octet Signature Data, so the signed lengths are known before signing
 * (RFC 4535 §7.8 covers the header Length and the Signature payload's own length). ECDSA is
 * carried as r || s (32 octets each, big-endian) rather than DER, whose length varies.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gsakmp_pvt.h"

/* Longest Signer ID we produce. */
#define SIGNER_MAX 2048
/* Longest DER ECDSA-Sig-Value for P-256. */
#define ECDSA_DER_MAX 80

static uint16_t pkey_sig_type(const EVP_PKEY *pkey)
{
	char group[32];
	size_t glen = 0;

	/* a certificate whose key algorithm OpenSSL does not know parses with no key */
	if (pkey == NULL)
		return 0;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return GSAKMP_SIG_ED25519;
	if (EVP_PKEY_is_a(pkey, "EC") &&
			EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) == 1 &&
			strcmp(group, SN_X9_62_prime256v1) == 0)
		return GSAKMP_SIG_ECDSA_P256_SHA256;
	return 0;
}

int gsakmp_key_new(EVP_PKEY *pkey, X509 *cert, struct gsakmp_key **out)
{
	struct gsakmp_key *k;
	unsigned char *der = NULL;
	uint16_t type;
	int n;

	if (out == NULL)
		return -GSAKMP_E_INVALID;
	*out = NULL;
	if (pkey == NULL || cert == NULL)
		return -GSAKMP_E_INVALID;
	type = pkey_sig_type(pkey);
	if (type == 0)
		return -GSAKMP_E_SIG_TYPE;
	if (X509_check_private_key(cert, pkey) != 1)
		return -GSAKMP_E_INVALID;
	n = i2d_X509(cert, &der);
	if (n <= 0)
		return -GSAKMP_E_CRYPTO;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		OPENSSL_free(der);
		return -GSAKMP_E_NOMEM;
	}
	if (EVP_PKEY_up_ref(pkey) != 1 || X509_up_ref(cert) != 1) {
		OPENSSL_free(der);
		free(k);
		return -GSAKMP_E_CRYPTO;
	}
	k->pkey = pkey;
	k->cert = cert;
	k->sig_type = type;
	k->der = der;
	k->der_len = (size_t)n;
	*out = k;
	return 0;
}

int gsakmp_key_load(const char *key_pem, const char *cert_pem, struct gsakmp_key **out)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *b = NULL;
	int rc = -GSAKMP_E_INVALID;

	if (out == NULL || key_pem == NULL || cert_pem == NULL)
		return -GSAKMP_E_INVALID;
	*out = NULL;
	b = BIO_new_file(key_pem, "r");
	if (b == NULL)
		goto out;
	pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_file(cert_pem, "r");
	if (b == NULL || pkey == NULL)
		goto out;
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (cert == NULL)
		goto out;
	rc = gsakmp_key_new(pkey, cert, out);
out:
	BIO_free(b);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return rc;
}

void gsakmp_key_free(struct gsakmp_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	X509_free(k->cert);
	OPENSSL_free(k->der);
	free(k);
}

uint16_t gsakmp_key_sig_type(const struct gsakmp_key *k)
{
	return k != NULL ? k->sig_type : 0;
}

void gsakmp_key_cert_der(const struct gsakmp_key *k, const uint8_t **der, size_t *len)
{
	*der = k->der;
	*len = k->der_len;
}

int gsakmp_signer_id(X509 *cert, uint8_t id_type, uint8_t *out, size_t cap, size_t *len)
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	char *s = NULL;
	long n;
	int dn;
	BIO *b;

	if (cert == NULL || out == NULL || len == NULL)
		return -GSAKMP_E_INVALID;
	switch (id_type) {
	case GSAKMP_ID_DN_STRING:
		/* RFC 4514 string of the subject (ID_DN_STRING, RFC 4535 §7.6.2), UTF-8 kept */
		b = BIO_new(BIO_s_mem());
		if (b == NULL)
			return -GSAKMP_E_NOMEM;
		if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0,
				XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
			BIO_free(b);
			return -GSAKMP_E_CRYPTO;
		}
		n = BIO_get_mem_data(b, &s);
		if (n <= 0 || (size_t)n > cap) {
			BIO_free(b);
			return n <= 0 ? -GSAKMP_E_SIGNER_ID : -GSAKMP_E_NO_SPACE;
		}
		memcpy(out, s, (size_t)n);
		*len = (size_t)n;
		BIO_free(b);
		return 0;
	case GSAKMP_ID_KEY_ID:
		/* SHA-256 of the DER SubjectPublicKeyInfo */
		if (cap < 32)
			return -GSAKMP_E_NO_SPACE;
		dn = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
		if (dn <= 0)
			return -GSAKMP_E_CRYPTO;
		if (EVP_Digest(der, (size_t)dn, out, &mdlen, EVP_sha256(), NULL) != 1) {
			OPENSSL_free(der);
			return -GSAKMP_E_CRYPTO;
		}
		OPENSSL_free(der);
		*len = mdlen;
		return 0;
	default:
		return -GSAKMP_E_SIGNER_ID;
	}
}

/* ------------------------------------------------------------------ trust */

int gsakmp_trust_new(struct gsakmp_trust **out)
{
	struct gsakmp_trust *t;

	if (out == NULL)
		return -GSAKMP_E_INVALID;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -GSAKMP_E_NOMEM;
	t->store = X509_STORE_new();
	if (t->store == NULL) {
		free(t);
		return -GSAKMP_E_NOMEM;
	}
	*out = t;
	return 0;
}

int gsakmp_trust_add(struct gsakmp_trust *t, X509 *anchor)
{
	if (t == NULL || anchor == NULL)
		return -GSAKMP_E_INVALID;
	return X509_STORE_add_cert(t->store, anchor) == 1 ? 0 : -GSAKMP_E_CRYPTO;
}

int gsakmp_trust_load(struct gsakmp_trust *t, const char *pem)
{
	if (t == NULL || pem == NULL)
		return -GSAKMP_E_INVALID;
	return X509_STORE_load_file(t->store, pem) == 1 ? 0 : -GSAKMP_E_INVALID;
}

void gsakmp_trust_free(struct gsakmp_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	free(t);
}

/* ------------------------------------------------------------------ sign and verify */

int gsakmp_pvt_sign(const struct gsakmp_key *key, const uint8_t *buf, size_t signed_len,
		uint8_t sig[GSAKMP_SIG_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[ECDSA_DER_MAX];
	const unsigned char *q = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es = NULL;
	size_t n;
	int rc = -GSAKMP_E_CRYPTO;

	if (md == NULL)
		return -GSAKMP_E_NOMEM;
	if (key->sig_type == GSAKMP_SIG_ED25519) {
		n = GSAKMP_SIG_LEN;
		if (EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
				EVP_DigestSign(md, sig, &n, buf, signed_len) == 1 &&
				n == GSAKMP_SIG_LEN)
			rc = 0;
		goto out;
	}
	n = sizeof(der);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
			EVP_DigestSign(md, der, &n, buf, signed_len) != 1)
		goto out;
	es = d2i_ECDSA_SIG(NULL, &q, (long)n);
	if (es == NULL)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

/* 1 when sig verifies, 0 when it does not, negative on a library failure. */
static int raw_verify(EVP_PKEY *pkey, uint16_t type, const uint8_t *tbs, size_t len,
		const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int n, rc = -GSAKMP_E_CRYPTO;

	if (md == NULL)
		return -GSAKMP_E_NOMEM;
	if (type == GSAKMP_SIG_ED25519) {
		if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1)
			rc = EVP_DigestVerify(md, sig, sig_len, tbs, len) == 1;
		goto out;
	}
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;  /* owned by es now */
	n = i2d_ECDSA_SIG(es, &der);
	if (n <= 0)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
		rc = EVP_DigestVerify(md, der, (size_t)n, tbs, len) == 1;
out:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

int gsakmp_enc_payload_sig(struct gsakmp_enc *e, const struct gsakmp_key *key, uint8_t id_type,
		int64_t now)
{
	uint8_t signer[SIGNER_MAX];
	char ts[GSAKMP_TS_LEN + 1];
	size_t slen;
	uint8_t *b;
	int rc;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (key == NULL || e->sig_key != NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	rc = gsakmp_signer_id(key->cert, id_type, signer, sizeof(signer), &slen);
	if (rc == 0)
		rc = gsakmp_time_format(now, ts);
	if (rc != 0)
		return gsakmp_pvt_fail(e, rc == -GSAKMP_E_NO_SPACE ? -GSAKMP_E_LIMIT : rc);
	b = gsakmp_pvt_pl_reserve(e, GSAKMP_PL_SIGNATURE, SIG_FIXED + slen + 2 + GSAKMP_SIG_LEN);
	if (b == NULL)
		return e->err;
	put16(b, key->sig_type);
	b[2] = id_type;
	memcpy(b + 3, ts, GSAKMP_TS_LEN);
	put16(b + 18, (uint16_t)slen);
	memcpy(b + SIG_FIXED, signer, slen);
	put16(b + SIG_FIXED + slen, GSAKMP_SIG_LEN);
	memset(b + SIG_FIXED + slen + 2, 0, GSAKMP_SIG_LEN);
	e->sig_data_off = (size_t)(b - e->buf) + SIG_FIXED + slen + 2;
	e->sig_key = key;
	return 0;
}

int gsakmp_sign(uint8_t *buf, size_t len, const struct gsakmp_key *key)
{
	struct gsakmp_msg *m;
	const struct gsakmp_sig *s;
	int rc;

	if (buf == NULL || key == NULL)
		return -GSAKMP_E_INVALID;
	m = malloc(sizeof(*m));
	if (m == NULL)
		return -GSAKMP_E_NOMEM;
	rc = gsakmp_decode(buf, len, m, NULL);
	if (rc != 0)
		goto out;
	if (m->sig_index < 0) {
		rc = -GSAKMP_E_NO_SIGNATURE;
		goto out;
	}
	s = &m->pl[m->sig_index].u.sig;
	if (s->type != key->sig_type) {
		rc = -GSAKMP_E_SIG_TYPE;
		goto out;
	}
	rc = gsakmp_pvt_sign(key, buf, s->signed_len, buf + (s->sig - buf));
out:
	free(m);
	return rc;
}

static bool signer_matches(X509 *cert, const struct gsakmp_sig *s)
{
	uint8_t id[SIGNER_MAX];
	size_t n;

	return gsakmp_signer_id(cert, s->id_type, id, sizeof(id), &n) == 0 &&
		n == s->signer_len && memcmp(id, s->signer, n) == 0;
}

/* Does leaf chain to an anchor of trust at time now (with untrusted intermediates)? */
static bool chain_ok(const struct gsakmp_trust *trust, X509 *leaf, STACK_OF(X509) *chain,
		int64_t now)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	bool ok;

	if (sc == NULL || X509_STORE_CTX_init(sc, trust->store, leaf, chain) != 1) {
		X509_STORE_CTX_free(sc);
		return false;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(sc), (time_t)now);
	ok = X509_verify_cert(sc) == 1;
	X509_STORE_CTX_free(sc);
	if (!ok)
		ERR_clear_error();
	return ok;
}

int gsakmp_verify(const struct gsakmp_msg *msg, X509 *cert, const struct gsakmp_trust *trust,
		int64_t now, uint32_t max_skew, X509 **signer)
{
	STACK_OF(X509) *chain = NULL;
	const struct gsakmp_sig *s;
	X509 *leaf = NULL;
	int64_t skew;
	int rc, v;

	if (signer != NULL)
		*signer = NULL;
	if (msg == NULL || trust == NULL)
		return -GSAKMP_E_INVALID;
	if (msg->sig_index < 0 || msg->sig_index >= msg->nb_payloads)
		return -GSAKMP_E_NO_SIGNATURE;
	s = &msg->pl[msg->sig_index].u.sig;
	if ((s->type != GSAKMP_SIG_ECDSA_P256_SHA256 && s->type != GSAKMP_SIG_ED25519) ||
			s->sig_len != GSAKMP_SIG_LEN)
		return -GSAKMP_E_SIG_TYPE;
	if (s->id_type != GSAKMP_ID_DN_STRING && s->id_type != GSAKMP_ID_KEY_ID)
		return -GSAKMP_E_SIGNER_ID;
	/* freshness before any public-key work (RFC 4535 §5.2.1.2 order) */
	skew = s->timestamp - now;
	if (max_skew != 0 && (skew > (int64_t)max_skew || -skew > (int64_t)max_skew))
		return -GSAKMP_E_STALE;

	chain = sk_X509_new_null();
	if (chain == NULL)
		return -GSAKMP_E_NOMEM;
	if (cert != NULL) {
		if (!signer_matches(cert, s)) {
			rc = -GSAKMP_E_SIGNER_ID;
			goto out;
		}
		if (X509_up_ref(cert) != 1) {
			rc = -GSAKMP_E_CRYPTO;
			goto out;
		}
		leaf = cert;
	}
	/* A certificate known beforehand that chains to the anchors on its own needs nothing
	 * from the message: decoding DER certificates is most of the cost of a verification
	 * with OpenSSL 3 (doc/performance.md, registrations per second). */
	bool known_ok = leaf != NULL && chain_ok(trust, leaf, NULL, now);

	/* Certificates from the message are candidates for the leaf or untrusted
	 * intermediates, never anchors (RFC 4535 §7.7.1). */
	for (uint16_t i = 0; !known_ok && i < msg->nb_payloads; i++) {
		const struct gsakmp_cert *c = &msg->pl[i].u.cert;
		const unsigned char *p;
		X509 *x;

		if (msg->pl[i].type != GSAKMP_PL_CERT || c->type != GSAKMP_CERT_X509_SIG)
			continue;
		p = c->data;
		x = d2i_X509(NULL, &p, c->len);
		if (x == NULL || p != c->data + c->len) {
			X509_free(x);
			rc = -GSAKMP_E_CERT_PARSE;
			goto out;
		}
		if (leaf == NULL && signer_matches(x, s)) {
			leaf = x;
		} else if (sk_X509_push(chain, x) <= 0) {
			X509_free(x);
			rc = -GSAKMP_E_NOMEM;
			goto out;
		}
	}
	if (leaf == NULL) {
		rc = sk_X509_num(chain) > 0 ? -GSAKMP_E_SIGNER_ID : -GSAKMP_E_NO_CERT;
		goto out;
	}
	if (pkey_sig_type(X509_get0_pubkey(leaf)) != s->type) {
		rc = -GSAKMP_E_SIG_TYPE;
		goto out;
	}
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
			!(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		rc = -GSAKMP_E_CERT_UNTRUSTED;
		goto out;
	}
	if (!known_ok && !chain_ok(trust, leaf, chain, now)) {
		rc = -GSAKMP_E_CERT_UNTRUSTED;
		goto out;
	}
	v = raw_verify(X509_get0_pubkey(leaf), s->type, msg->buf, s->signed_len, s->sig,
			s->sig_len);
	if (v < 0) {
		rc = v;
		goto out;
	}
	if (v == 0) {
		rc = -GSAKMP_E_BAD_SIGNATURE;
		goto out;
	}
	rc = 0;
	if (signer != NULL) {
		*signer = leaf;
		leaf = NULL;
	}
out:
	/* refusing untrusted input is not a library fault: leave no stale errors behind */
	if (rc != 0)
		ERR_clear_error();
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
