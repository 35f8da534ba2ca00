/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The token container (RFC 4534 §2): a DER CMS SignedData whose eContentType is
 * id-ct-msec-token, signed by the Group Owner with a signing-time signed attribute.
 *
 * Receipt follows RFC 4534 §2's list, strictest and cheapest first: the DER tree is walked
 * before OpenSSL parses it; the content type and the single signer are checked before any
 * signature work; the signature (over the signed attributes, whose message-digest covers the
 * content) before the chain; and the content is decoded only once it is known to come from a
 * Group Owner. The Group Owner is the holder of a certificate that chains to the trust anchor
 * and carries the msecgw Group Owner extended key usage, so a member's certificate from the
 * same CA cannot sign tokens. Then the dates, then the ordering against the last token
 * accepted: same group, edition greater, signing-time not older.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "policy_pvt.h"

static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "unknown reason";
}

/* ------------------------------------------------------------------ signing */

/* RFC 5652 §5.4 / RFC 8419: ECDSA with the digest of its size, EdDSA with SHA-512. */
static const EVP_MD *signer_md(EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return EVP_sha512();
	if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

int policy_cms_sign_raw(const uint8_t *content, size_t clen, int content_nid, EVP_PKEY *key,
		X509 *cert, STACK_OF(X509) *chain, time_t signing_time, bool no_attrs,
		uint8_t **der, size_t *len, char *err)
{
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_TIME *st = NULL;
	BIO *in = NULL;
	unsigned char *out = NULL;
	int n, rc;

	if (content == NULL || key == NULL || cert == NULL || der == NULL || len == NULL)
		return policy_fail(err, POLICY_E_INVAL, "missing argument");
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		return policy_fail(err, POLICY_E_KEY, "the private key does not match the "
				"certificate");
	}
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (cms == NULL || CMS_set1_eContentType(cms, OBJ_nid2obj(content_nid)) != 1)
		goto crypto;
	si = CMS_add1_signer(cms, cert, key, signer_md(key),
			flags | (no_attrs ? CMS_NOATTR : 0));
	if (si == NULL) {
		rc = policy_fail(err, POLICY_E_KEY, "this key cannot sign CMS here: %s",
				ossl_reason());
		goto out;
	}
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (CMS_add1_cert(cms, sk_X509_value(chain, i)) != 1)
			goto crypto;
	if (!no_attrs) {
		/* OpenSSL adds the current time only when no signing-time is present */
		st = ASN1_TIME_set(NULL, signing_time != 0 ? signing_time : time(NULL));
		if (st == NULL || CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, st->type,
				st, -1) != 1)
			goto crypto;
	}
	in = BIO_new_mem_buf(content, (int)clen);
	if (in == NULL)
		goto crypto;
	if (CMS_final(cms, in, NULL, flags) != 1) {
		rc = policy_fail(err, POLICY_E_KEY, "signing failed: %s", ossl_reason());
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, &out);
	if (n <= 0)
		goto crypto;
	*der = out;
	*len = (size_t)n;
	rc = POLICY_OK;
	goto out;
crypto:
	rc = policy_fail(err, POLICY_E_CRYPTO, "CMS: %s", ossl_reason());
out:
	ASN1_TIME_free(st);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return rc;
}

int policy_token_sign(const struct policy_token *tok, EVP_PKEY *key, X509 *cert,
		STACK_OF(X509) *chain, time_t signing_time, uint8_t **der, size_t *len,
		char err[POLICY_ERR_MAX])
{
	const struct policy_nids *ids = policy_init();
	uint8_t *content = NULL;
	size_t clen = 0;
	int rc;

	if (tok == NULL || der == NULL || len == NULL)
		return policy_fail(err, POLICY_E_INVAL, "missing argument");
	if (ids == NULL)
		return policy_fail(err, POLICY_E_CRYPTO, "cannot register the token OIDs");
	rc = policy_content_encode(tok, &content, &clen, err);
	if (rc != POLICY_OK)
		return rc;
	rc = policy_cms_sign_raw(content, clen, ids->token, key, cert, chain, signing_time, false,
			der, len, err);
	OPENSSL_free(content);
	return rc;
}

/* ------------------------------------------------------------------ receipt */

struct receipt {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509) *certs;          /* every certificate in the token */
	X509 *signer;                   /* one of certs */
	const uint8_t *content;         /* eContent, inside cms */
	size_t clen;
	int64_t signing_time;
};

static void receipt_free(struct receipt *r)
{
	sk_X509_pop_free(r->certs, X509_free);
	CMS_ContentInfo_free(r->cms);
}

static int64_t time_of(const ASN1_TIME *t, bool *ok)
{
	struct tm tm;

	*ok = t != NULL && ASN1_TIME_to_tm(t, &tm) == 1;
	return *ok ? (int64_t)timegm(&tm) : 0;
}

/* The one signing-time attribute: one value, a UTCTime or GeneralizedTime (RFC 5652 §11.3). */
static int signing_time(CMS_SignerInfo *si, int64_t *out, char *err)
{
	int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *v;
	bool ok;

	if (idx < 0)
		return policy_fail(err, POLICY_E_NO_SIGNING_TIME, "the signer has no signing-time "
				"signed attribute (RFC 4534 §2 requires one)");
	if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, idx) >= 0)
		return policy_fail(err, POLICY_E_NO_SIGNING_TIME, "more than one signing-time "
				"attribute");
	a = CMS_signed_get_attr(si, idx);
	if (a == NULL || X509_ATTRIBUTE_count(a) != 1)
		return policy_fail(err, POLICY_E_NO_SIGNING_TIME, "signing-time must hold exactly "
				"one value");
	v = X509_ATTRIBUTE_get0_type(a, 0);
	if (v == NULL || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME))
		return policy_fail(err, POLICY_E_NO_SIGNING_TIME, "signing-time is not a time");
	*out = time_of(v->value.utctime, &ok);
	if (!ok) {
		ERR_clear_error();
		return policy_fail(err, POLICY_E_NO_SIGNING_TIME, "signing-time is not a valid "
				"time");
	}
	return POLICY_OK;
}

/* Structure, content type, signer, signing-time: everything short of cryptography. */
static int open_token(const uint8_t *der, size_t len, struct receipt *r, char *err)
{
	const struct policy_nids *ids = policy_init();
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING **pos;
	int rc;

	memset(r, 0, sizeof(*r));
	if (ids == NULL)
		return policy_fail(err, POLICY_E_CRYPTO, "cannot register the token OIDs");
	if (der == NULL || len == 0 || len > POLICY_TOKEN_MAX)
		return policy_fail(err, POLICY_E_SIZE, "token of %zu bytes: expected 1..%d", len,
				POLICY_TOKEN_MAX);
	rc = policy_der_walk(der, len, "token", err);
	if (rc != POLICY_OK)
		return rc;
	if (der[0] != 0x30)
		return policy_fail(err, POLICY_E_NOT_CMS, "token: expected a DER SEQUENCE (0x30, "
				"CMS ContentInfo), got tag 0x%02x", der[0]);
	r->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (r->cms == NULL)
		return policy_fail(err, POLICY_E_NOT_CMS, "token: not a CMS ContentInfo: %s",
				ossl_reason());
	if (OBJ_obj2nid(CMS_get0_type(r->cms)) != NID_pkcs7_signed)
		return policy_fail(err, POLICY_E_NOT_SIGNED, "token: the CMS content type is not "
				"signedData");
	if (OBJ_obj2nid(CMS_get0_eContentType(r->cms)) != ids->token) {
		char oid[96];

		if (OBJ_obj2txt(oid, sizeof(oid), CMS_get0_eContentType(r->cms), 1) <= 0)
			snprintf(oid, sizeof(oid), "?");
		return policy_fail(err, POLICY_E_CONTENT_TYPE, "token: eContentType is %s, "
				"expected id-ct-msec-token (" OID_MSEC_TOKEN ")", oid);
	}
	pos = CMS_get0_content(r->cms);
	if (pos == NULL || *pos == NULL)
		return policy_fail(err, POLICY_E_NO_CONTENT, "token: no encapsulated content");
	r->content = (*pos)->data;
	r->clen = (size_t)(*pos)->length;
	sis = CMS_get0_SignerInfos(r->cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1)
		return policy_fail(err, POLICY_E_SIGNER, "token: expected exactly one signer (the "
				"Group Owner), got %d",
				sis != NULL ? sk_CMS_SignerInfo_num(sis) : 0);
	r->si = sk_CMS_SignerInfo_value(sis, 0);
	r->certs = CMS_get1_certs(r->cms);
	for (int i = 0; r->certs != NULL && i < sk_X509_num(r->certs); i++)
		if (CMS_SignerInfo_cert_cmp(r->si, sk_X509_value(r->certs, i)) == 0) {
			r->signer = sk_X509_value(r->certs, i);
			break;
		}
	ERR_clear_error();
	if (r->signer == NULL)
		return policy_fail(err, POLICY_E_SIGNER, "token: the signer's certificate is not "
				"in "
				"the token");
	return signing_time(r->si, &r->signing_time, err);
}

/* RFC 4514 form, as access rules write DNs; shortened if it does not fit */
static void dn_str(const X509_NAME *name, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0) {
			if ((size_t)n >= cap)
				n = (long)cap - 1;
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
}

static void signer_names(struct policy_token *tok, X509 *signer)
{
	dn_str(X509_get_subject_name(signer), tok->signer, sizeof(tok->signer));
	dn_str(X509_get_issuer_name(signer), tok->signer_issuer, sizeof(tok->signer_issuer));
}

static int decode(struct receipt *r, struct policy_token **out, char *err)
{
	struct policy_token *tok = calloc(1, sizeof(*tok));
	int rc;

	if (tok == NULL)
		return policy_fail(err, POLICY_E_NOMEM, "out of memory");
	rc = policy_content_decode(r->content, r->clen, tok, err);
	if (rc != POLICY_OK) {
		free(tok);
		return rc;
	}
	tok->parsed = true;
	tok->signing_time = r->signing_time;
	signer_names(tok, r->signer);
	*out = tok;
	return POLICY_OK;
}

int policy_token_parse(const uint8_t *der, size_t len, struct policy_token **out,
		char err[POLICY_ERR_MAX])
{
	struct receipt r;
	int rc;

	if (out == NULL)
		return policy_fail(err, POLICY_E_INVAL, "missing argument");
	*out = NULL;
	rc = open_token(der, len, &r, err);
	if (rc == POLICY_OK)
		rc = decode(&r, out, err);
	receipt_free(&r);
	return rc;
}

static bool has_go_eku(X509 *x, int kp_go)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	bool found = false;

	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == kp_go)
			found = true;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

/* The signer's chain to the trust anchors at `now`, then the Group Owner key usage. */
static int check_signer(struct receipt *r, X509_STORE *trust, time_t now, char *err)
{
	const struct policy_nids *ids = policy_init();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = POLICY_OK;

	if (ctx == NULL)
		return policy_fail(err, POLICY_E_NOMEM, "out of memory");
	if (X509_STORE_CTX_init(ctx, trust, r->signer, r->certs) != 1) {
		rc = policy_fail(err, POLICY_E_CRYPTO, "X509_STORE_CTX_init: %s", ossl_reason());
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (X509_verify_cert(ctx) != 1) {
		rc = policy_fail(err, POLICY_E_CHAIN, "signer certificate: %s",
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	if (!has_go_eku(r->signer, ids->kp_go)) {
		rc = policy_fail(err, POLICY_E_NOT_GO, "the signer's certificate lacks the Group "
				"Owner extended key usage (" OID_KP_GO ")");
		goto out;
	}
	if ((X509_get_key_usage(r->signer) & KU_DIGITAL_SIGNATURE) == 0) {
		rc = policy_fail(err, POLICY_E_NOT_GO, "the signer's certificate does not allow "
				"digitalSignature");
		goto out;
	}
out:
	X509_STORE_CTX_free(ctx);
	return rc;
}

int policy_token_verify(const uint8_t *der, size_t len, X509_STORE *trust,
		const struct policy_state *last, time_t now, struct policy_token **out,
		char err[POLICY_ERR_MAX])
{
	struct policy_token *tok = NULL;
	struct receipt r;
	BIO *sink = NULL;
	char t1[32], t2[32];
	int rc;

	if (out != NULL)
		*out = NULL;
	if (trust == NULL)
		return policy_fail(err, POLICY_E_INVAL, "no trust anchors");
	if (now == 0)
		now = time(NULL);
	rc = open_token(der, len, &r, err);
	if (rc != POLICY_OK)
		goto out;

	/* the signature, with the embedded signer certificate; its chain comes next */
	sink = BIO_new(BIO_s_null());
	if (sink == NULL) {
		rc = policy_fail(err, POLICY_E_NOMEM, "out of memory");
		goto out;
	}
	if (CMS_verify(r.cms, r.certs, NULL, NULL, sink,
			CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
		rc = policy_fail(err, POLICY_E_SIGNATURE, "token signature: %s", ossl_reason());
		goto out;
	}
	rc = check_signer(&r, trust, now, err);
	if (rc != POLICY_OK)
		goto out;
	rc = decode(&r, &tok, err);
	if (rc != POLICY_OK)
		goto out;

	if (now + POLICY_CLOCK_SKEW < tok->not_before) {
		policy_time_str(tok->not_before, t1);
		rc = policy_fail(err, POLICY_E_NOT_YET_VALID, "token not valid before %s", t1);
		goto out;
	}
	if (now >= tok->not_after) {
		policy_time_str(tok->not_after, t1);
		rc = policy_fail(err, POLICY_E_EXPIRED, "token expired at %s", t1);
		goto out;
	}
	/* a token from the future would lock out every later one */
	if (tok->signing_time > now + POLICY_CLOCK_SKEW) {
		policy_time_str(tok->signing_time, t1);
		rc = policy_fail(err, POLICY_E_SIGNING_TIME, "token signed in the future (%s)", t1);
		goto out;
	}
	/* a zeroed state (no token accepted yet) passes each of these */
	if (last != NULL) {
		if (last->group_name[0] != '\0' && (strncmp(last->group_name, tok->group_name,
				sizeof(last->group_name)) != 0 ||
				memcmp(last->group_id, tok->group_id, POLICY_GROUP_ID_LEN) != 0)) {
			rc = policy_fail(err, POLICY_E_GROUP, "token for group \"%s\", expected "
					"group \"%.63s\" (with the same group ID)", tok->group_name,
					last->group_name);
			goto out;
		}
		if (tok->edition <= last->edition) {
			rc = policy_fail(err, POLICY_E_EDITION, "edition %llu is not newer than "
					"the "
					"last accepted edition %llu",
					(unsigned long long)tok->edition,
					(unsigned long long)last->edition);
			goto out;
		}
		if (tok->signing_time < last->signing_time) {
			policy_time_str(tok->signing_time, t1);
			policy_time_str(last->signing_time, t2);
			rc = policy_fail(err, POLICY_E_SIGNING_TIME, "signed at %s, before the "
					"last "
					"accepted token (%s)", t1, t2);
			goto out;
		}
	}
	tok->verified = true;
	if (out != NULL) {
		*out = tok;
		tok = NULL;
	}
	rc = POLICY_OK;
out:
	ERR_clear_error();
	policy_token_free(tok);
	BIO_free(sink);
	receipt_free(&r);
	return rc;
}
