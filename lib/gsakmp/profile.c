/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The profile's key creation, key derivation, KEK protection, nonce hash and cookies
 * (doc/gsakmp-profile.md §5-§8). Every buffer that held a secret is wiped before it is freed
 * or goes out of scope; MACs are compared with CRYPTO_memcmp.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "gsakmp_pvt.h"

#define GCM_IV 12u
#define GCM_TAG 16u
#define KWP_BLOCK 8u

static const char kek_label[] = "msecgw gsakmp kek";
static const char key_kek_label[] = "msecgw gsakmp key kek";

/* OpenSSL's parameter constructors take non-const pointers to data they only read. */
static void *unconst(const void *p)
{
	return (void *)(uintptr_t)p;
}

int gsakmp_random(uint8_t *buf, size_t len)
{
	if (buf == NULL || len > INT_MAX)
		return -GSAKMP_E_INVALID;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -GSAKMP_E_CRYPTO;
}

/* ------------------------------------------------------------------ HKDF */

int gsakmp_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *kctx = NULL;
	EVP_KDF *kdf;
	int rc = -GSAKMP_E_CRYPTO;

	if (ikm == NULL || ikm_len == 0 || out == NULL || out_len == 0 || out_len > 255 * 32 ||
			(salt == NULL && salt_len != 0) || (info == NULL && info_len != 0))
		return -GSAKMP_E_INVALID;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf == NULL)
		return -GSAKMP_E_CRYPTO;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return -GSAKMP_E_NOMEM;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, unconst("SHA256"), 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, unconst(ikm), ikm_len);
	/* an absent salt is HashLen zeros (RFC 5869 §2.2), which is also what an empty HMAC key
	 * amounts to */
	if (salt_len != 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, unconst(salt),
				salt_len);
	if (info_len != 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, unconst(info),
				info_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kctx);
	return rc;
}

/* ------------------------------------------------------------------ X25519 */

static int kex_wrap(EVP_PKEY *pkey, struct gsakmp_kex **out)
{
	struct gsakmp_kex *k;

	if (pkey == NULL)
		return -GSAKMP_E_CRYPTO;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return -GSAKMP_E_NOMEM;
	}
	k->pkey = pkey;
	*out = k;
	return 0;
}

int gsakmp_kex_x25519_new(struct gsakmp_kex **out)
{
	if (out == NULL)
		return -GSAKMP_E_INVALID;
	*out = NULL;
	return kex_wrap(EVP_PKEY_Q_keygen(NULL, NULL, "X25519"), out);
}

int gsakmp_kex_x25519_from_private(const uint8_t priv[GSAKMP_X25519_LEN],
		struct gsakmp_kex **out)
{
	if (out == NULL || priv == NULL)
		return -GSAKMP_E_INVALID;
	*out = NULL;
	return kex_wrap(EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv,
			GSAKMP_X25519_LEN), out);
}

int gsakmp_kex_x25519_public(const struct gsakmp_kex *kex, uint8_t pub[GSAKMP_X25519_LEN])
{
	size_t n = GSAKMP_X25519_LEN;

	if (kex == NULL || pub == NULL)
		return -GSAKMP_E_INVALID;
	if (EVP_PKEY_get_raw_public_key(kex->pkey, pub, &n) != 1 || n != GSAKMP_X25519_LEN)
		return -GSAKMP_E_CRYPTO;
	return 0;
}

int gsakmp_kex_x25519_derive(const struct gsakmp_kex *kex,
		const uint8_t peer[GSAKMP_X25519_LEN], uint8_t shared[GSAKMP_X25519_LEN])
{
	static const uint8_t zero[GSAKMP_X25519_LEN];
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pp;
	size_t n = GSAKMP_X25519_LEN;
	int rc = -GSAKMP_E_KEX;

	if (kex == NULL || peer == NULL || shared == NULL)
		return -GSAKMP_E_INVALID;
	pp = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, GSAKMP_X25519_LEN);
	if (pp == NULL)
		return -GSAKMP_E_KEX;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, kex->pkey, NULL);
	if (ctx == NULL) {
		rc = -GSAKMP_E_NOMEM;
		goto out;
	}
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pp) != 1 ||
			EVP_PKEY_derive(ctx, shared, &n) != 1 || n != GSAKMP_X25519_LEN)
		goto fail;
	/* RFC 7748 §6.1: an all-zero output means a low-order peer value; refuse it */
	if (CRYPTO_memcmp(shared, zero, GSAKMP_X25519_LEN) == 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	OPENSSL_cleanse(shared, GSAKMP_X25519_LEN);
	ERR_clear_error();
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pp);
	return rc;
}

void gsakmp_kex_free(struct gsakmp_kex *kex)
{
	if (kex == NULL)
		return;
	EVP_PKEY_free(kex->pkey);  /* OpenSSL wipes the private value */
	free(kex);
}

int gsakmp_kek_derive(const uint8_t shared[GSAKMP_X25519_LEN],
		const struct gsakmp_kek_info *in, uint8_t kek[GSAKMP_KEK_LEN])
{
	uint8_t salt[2 * GSAKMP_NONCE_MAX];
	uint8_t info[sizeof(kek_label) - 1 + 1 + GSAKMP_GID_MAX + 2 * GSAKMP_X25519_LEN];
	size_t sl = 0, il = 0;

	if (shared == NULL || in == NULL || kek == NULL || in->gid == NULL || in->gid_len == 0 ||
			in->pub_gm == NULL || in->pub_ks == NULL ||
			in->nonce_i_len > GSAKMP_NONCE_MAX || in->nonce_r_len > GSAKMP_NONCE_MAX ||
			(in->nonce_i == NULL && in->nonce_i_len != 0) ||
			(in->nonce_r == NULL && in->nonce_r_len != 0))
		return -GSAKMP_E_INVALID;
	if (in->nonce_i_len != 0)
		memcpy(salt, in->nonce_i, in->nonce_i_len);
	sl = in->nonce_i_len;
	if (in->nonce_r_len != 0)
		memcpy(salt + sl, in->nonce_r, in->nonce_r_len);
	sl += in->nonce_r_len;
	memcpy(info, kek_label, sizeof(kek_label) - 1);
	il = sizeof(kek_label) - 1;
	info[il++] = in->gid_len;
	memcpy(info + il, in->gid, in->gid_len);
	il += in->gid_len;
	memcpy(info + il, in->pub_gm, GSAKMP_X25519_LEN);
	il += GSAKMP_X25519_LEN;
	memcpy(info + il, in->pub_ks, GSAKMP_X25519_LEN);
	il += GSAKMP_X25519_LEN;
	return gsakmp_hkdf(salt, sl, shared, GSAKMP_X25519_LEN, info, il, kek, GSAKMP_KEK_LEN);
}

int gsakmp_key_kek(const struct gsakmp_key_datum *key, uint8_t kek[GSAKMP_KEK_LEN])
{
	uint8_t info[sizeof(key_kek_label) - 1 + 8];

	if (key == NULL || kek == NULL || key->key == NULL || key->key_len == 0)
		return -GSAKMP_E_INVALID;
	if (key->type == GSAKMP_KEY_AES_256_KEK) {
		if (key->key_len != GSAKMP_KEK_LEN)
			return -GSAKMP_E_KEY_LENGTH;
		memcpy(kek, key->key, GSAKMP_KEK_LEN);
		return 0;
	}
	memcpy(info, key_kek_label, sizeof(key_kek_label) - 1);
	put32(info + sizeof(key_kek_label) - 1, key->id);
	put32(info + sizeof(key_kek_label) + 3, key->handle);
	return gsakmp_hkdf(NULL, 0, key->key, key->key_len, info, sizeof(info), kek,
			GSAKMP_KEK_LEN);
}

/* ------------------------------------------------------------------ KEK protection */

size_t gsakmp_kek_wrap_len(uint16_t alg, size_t len)
{
	switch (alg) {
	case GSAKMP_KEK_AES256_GCM:
		return GCM_IV + len + GCM_TAG;
	case GSAKMP_KEK_AES256_KWP:
		/* RFC 5649 §4.1: pad to a multiple of 8, plus the 8-octet AIV block */
		return len == 0 ? 0 : (len + KWP_BLOCK - 1) / KWP_BLOCK * KWP_BLOCK + KWP_BLOCK;
	default:
		return 0;
	}
}

static int gcm(bool enc, const uint8_t *kek, const uint8_t *iv, const uint8_t *aad,
		size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, rc = -GSAKMP_E_CRYPTO;

	if (c == NULL)
		return -GSAKMP_E_NOMEM;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, kek, iv, enc) != 1)
		goto out;
	if (aad_len != 0 && EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len != 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
		rc = enc ? -GSAKMP_E_CRYPTO : -GSAKMP_E_DECRYPT;
		ERR_clear_error();
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/*
 * RFC 5649 through OpenSSL's wrap-pad cipher. EVP assumes room for a block more than the
 * input, so the work happens in a scratch buffer that is wiped afterwards.
 */
static int kwp(bool enc, const uint8_t *kek, const uint8_t *in, size_t len, uint8_t *out,
		size_t cap, size_t *out_len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t scap = len + 2 * KWP_BLOCK;
	uint8_t *tmp = malloc(scap);
	int n = 0, rc = enc ? -GSAKMP_E_CRYPTO : -GSAKMP_E_DECRYPT;

	if (c == NULL || tmp == NULL) {
		rc = -GSAKMP_E_NOMEM;
		goto out;
	}
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(c, EVP_aes_256_wrap_pad(), NULL, kek, NULL, enc) != 1) {
		rc = -GSAKMP_E_CRYPTO;
		goto out;
	}
	if (EVP_CipherUpdate(c, tmp, &n, in, (int)len) != 1 || n <= 0) {
		ERR_clear_error();
		goto out;
	}
	if ((size_t)n > cap) {
		rc = -GSAKMP_E_NO_SPACE;
		goto out;
	}
	memcpy(out, tmp, (size_t)n);
	*out_len = (size_t)n;
	rc = 0;
out:
	if (tmp != NULL)
		OPENSSL_clear_free(tmp, scap);
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int gsakmp_kek_wrap(uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN], const uint8_t *aad,
		size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		size_t *out_len)
{
	size_t wl = gsakmp_kek_wrap_len(alg, len);
	int rc;

	if (kek == NULL || out == NULL || out_len == NULL || (in == NULL && len != 0) ||
			(aad == NULL && aad_len != 0) || len > PL_MAX || aad_len > INT_MAX ||
			wl == 0)
		return -GSAKMP_E_INVALID;
	if (cap < wl)
		return -GSAKMP_E_NO_SPACE;
	if (alg == GSAKMP_KEK_AES256_KWP)
		return kwp(true, kek, in, len, out, cap, out_len);
	/* 96-bit random IV: a KEK protects a handful of messages over its life, far below the
	 * 2^32 random-IV bound of NIST SP 800-38D §8.3 */
	rc = gsakmp_random(out, GCM_IV);
	if (rc == 0)
		rc = gcm(true, kek, out, aad, aad_len, in, len, out + GCM_IV, out + GCM_IV + len);
	if (rc != 0)
		return rc;
	*out_len = wl;
	return 0;
}

int gsakmp_kek_unwrap(uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN], const uint8_t *aad,
		size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		size_t *out_len)
{
	size_t pl;
	int rc;

	if (kek == NULL || out == NULL || out_len == NULL || in == NULL ||
			(aad == NULL && aad_len != 0) || len > PL_MAX || aad_len > INT_MAX)
		return -GSAKMP_E_INVALID;
	switch (alg) {
	case GSAKMP_KEK_AES256_GCM:
		if (len < GCM_IV + GCM_TAG)
			return -GSAKMP_E_DECRYPT;
		pl = len - GCM_IV - GCM_TAG;
		if (cap < pl)
			return -GSAKMP_E_NO_SPACE;
		rc = gcm(false, kek, in, aad, aad_len, in + GCM_IV, pl, out,
				unconst(in + GCM_IV + pl));
		if (rc != 0) {
			OPENSSL_cleanse(out, pl);
			return rc;
		}
		*out_len = pl;
		return 0;
	case GSAKMP_KEK_AES256_KWP:
		if (len < 2 * KWP_BLOCK || len % KWP_BLOCK != 0)
			return -GSAKMP_E_DECRYPT;
		return kwp(false, kek, in, len, out, cap, out_len);
	default:
		return -GSAKMP_E_INVALID;
	}
}

/*
 * AAD of KEK-protected content (profile §6):
 * L (1) | GroupID Value (L) | Exchange Type (1) | Payload Type (1) | context (0, 2 or 8).
 */
static size_t aad_build(uint8_t *a, const struct gsakmp_hdr *h, uint8_t pl_type,
		const uint8_t *ctx, size_t ctx_len)
{
	size_t L = h->gid_len;

	a[0] = (uint8_t)L;
	memcpy(a + 1, h->gid, L);
	a[1 + L] = h->exch;
	a[2 + L] = pl_type;
	if (ctx_len != 0)
		memcpy(a + 3 + L, ctx, ctx_len);
	return 3 + L + ctx_len;
}

int gsakmp_enc_payload_pt_sealed(struct gsakmp_enc *e, uint16_t pt_type, const uint8_t *data,
		size_t len, uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN])
{
	uint8_t aad[AAD_MAX], ctx[2];
	size_t wl = gsakmp_kek_wrap_len(alg, len), al, n;
	uint8_t *b;
	int rc;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (wl == 0 || data == NULL || kek == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	b = gsakmp_pvt_pl_reserve(e, GSAKMP_PL_POLICY_TOKEN, 2 + wl);
	if (b == NULL)
		return e->err;
	put16(b, pt_type);
	put16(ctx, pt_type);
	al = aad_build(aad, &e->hdr, GSAKMP_PL_POLICY_TOKEN, ctx, sizeof(ctx));
	rc = gsakmp_kek_wrap(alg, kek, aad, al, data, len, b + 2, wl, &n);
	return rc != 0 ? gsakmp_pvt_fail(e, rc) : 0;
}

int gsakmp_enc_payload_kdl_sealed(struct gsakmp_enc *e, const struct gsakmp_kd *kd,
		uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN])
{
	uint8_t aad[AAD_MAX];
	uint8_t *tmp, *b;
	size_t len = 0, wl, al, n;
	int rc;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (kd == NULL || kek == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	tmp = malloc(PL_MAX);
	if (tmp == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_NOMEM);
	rc = gsakmp_kd_build(kd, tmp, PL_MAX, &len);
	if (rc != 0)
		goto out;
	wl = gsakmp_kek_wrap_len(alg, len);
	if (wl == 0) {
		rc = -GSAKMP_E_INVALID;
		goto out;
	}
	b = gsakmp_pvt_pl_reserve(e, GSAKMP_PL_KEY_DOWNLOAD, wl);
	if (b == NULL) {
		rc = e->err;
		goto out;
	}
	al = aad_build(aad, &e->hdr, GSAKMP_PL_KEY_DOWNLOAD, NULL, 0);
	rc = gsakmp_kek_wrap(alg, kek, aad, al, tmp, len, b, wl, &n);
out:
	OPENSSL_clear_free(tmp, PL_MAX);
	return rc != 0 ? gsakmp_pvt_fail(e, rc) : 0;
}

int gsakmp_enc_rekey_data_sealed(struct gsakmp_enc *e, uint32_t wrap_id, uint32_t wrap_handle,
		const struct gsakmp_kd *pkgs, uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN])
{
	uint8_t aad[AAD_MAX], ctx[8];
	uint8_t *tmp, *b;
	size_t len = 0, wl, al, n;
	int rc;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (pkgs == NULL || kek == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	tmp = malloc(PL_MAX);
	if (tmp == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_NOMEM);
	rc = gsakmp_kpkg_build(pkgs, tmp, PL_MAX, &len);
	if (rc != 0)
		goto out;
	wl = gsakmp_kek_wrap_len(alg, len);
	if (wl == 0) {
		rc = -GSAKMP_E_INVALID;
		goto out;
	}
	b = gsakmp_pvt_red_reserve(e, wrap_id, wrap_handle, wl);
	if (b == NULL) {
		rc = e->err;
		goto out;
	}
	put32(ctx, wrap_id);
	put32(ctx + 4, wrap_handle);
	al = aad_build(aad, &e->hdr, GSAKMP_PL_REKEY_EVENT, ctx, sizeof(ctx));
	rc = gsakmp_kek_wrap(alg, kek, aad, al, tmp, len, b, wl, &n);
out:
	OPENSSL_clear_free(tmp, PL_MAX);
	return rc != 0 ? gsakmp_pvt_fail(e, rc) : 0;
}

int gsakmp_pt_open(const struct gsakmp_msg *msg, const struct gsakmp_pt *pt, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN], uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t aad[AAD_MAX], ctx[2];
	size_t al;

	if (msg == NULL || pt == NULL)
		return -GSAKMP_E_INVALID;
	put16(ctx, pt->type);
	al = aad_build(aad, &msg->hdr, GSAKMP_PL_POLICY_TOKEN, ctx, sizeof(ctx));
	return gsakmp_kek_unwrap(alg, kek, aad, al, pt->data, pt->len, out, cap, out_len);
}

int gsakmp_kdl_open(const struct gsakmp_msg *msg, const struct gsakmp_kdl *kdl, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN], uint8_t *plain, size_t cap,
		struct gsakmp_kd *kd)
{
	uint8_t aad[AAD_MAX];
	size_t al, n = 0;
	int rc;

	if (msg == NULL || kdl == NULL || kd == NULL)
		return -GSAKMP_E_INVALID;
	al = aad_build(aad, &msg->hdr, GSAKMP_PL_KEY_DOWNLOAD, NULL, 0);
	rc = gsakmp_kek_unwrap(alg, kek, aad, al, kdl->body, kdl->len, plain, cap, &n);
	if (rc != 0)
		return rc;
	rc = gsakmp_kd_parse(plain, n, kd);
	if (rc != 0)
		OPENSSL_cleanse(plain, n);
	return rc;
}

int gsakmp_red_open(const struct gsakmp_msg *msg, const struct gsakmp_red *red, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN], uint8_t *plain, size_t cap,
		struct gsakmp_kd *pkgs)
{
	uint8_t aad[AAD_MAX], ctx[8];
	size_t al, n = 0;
	int rc;

	if (msg == NULL || red == NULL || pkgs == NULL)
		return -GSAKMP_E_INVALID;
	put32(ctx, red->wrap_id);
	put32(ctx + 4, red->wrap_handle);
	al = aad_build(aad, &msg->hdr, GSAKMP_PL_REKEY_EVENT, ctx, sizeof(ctx));
	rc = gsakmp_kek_unwrap(alg, kek, aad, al, red->body, red->len, plain, cap, &n);
	if (rc != 0)
		return rc;
	rc = gsakmp_kpkg_parse(plain, n, pkgs);
	if (rc != 0)
		OPENSSL_cleanse(plain, n);
	return rc;
}

/* ------------------------------------------------------------------ nonces */

int gsakmp_nonce_c(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		uint8_t out[GSAKMP_NONCE_C_LEN])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	int rc = -GSAKMP_E_CRYPTO;

	if (ni == NULL || nr == NULL || out == NULL || ni_len == 0 || nr_len == 0)
		return -GSAKMP_E_INVALID;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return -GSAKMP_E_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
			EVP_DigestUpdate(md, ni, ni_len) == 1 &&
			EVP_DigestUpdate(md, nr, nr_len) == 1 &&
			EVP_DigestFinal_ex(md, out, &n) == 1 && n == GSAKMP_NONCE_C_LEN)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

int gsakmp_nonce_c_check(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		const uint8_t *nc, size_t nc_len)
{
	uint8_t want[GSAKMP_NONCE_C_LEN];
	int rc;

	if (nc == NULL)
		return -GSAKMP_E_INVALID;
	rc = gsakmp_nonce_c(ni, ni_len, nr, nr_len, want);
	if (rc != 0)
		return rc;
	if (nc_len != GSAKMP_NONCE_C_LEN || CRYPTO_memcmp(want, nc, GSAKMP_NONCE_C_LEN) != 0)
		return -GSAKMP_E_NONCE_C;
	return 0;
}

/* ------------------------------------------------------------------ cookies */

int gsakmp_cookie_ctx_new(struct gsakmp_cookie_ctx **out)
{
	struct gsakmp_cookie_ctx *c;

	if (out == NULL)
		return -GSAKMP_E_INVALID;
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -GSAKMP_E_NOMEM;
	if (gsakmp_random(c->cur, sizeof(c->cur)) != 0) {
		free(c);
		return -GSAKMP_E_CRYPTO;
	}
	*out = c;
	return 0;
}

int gsakmp_cookie_rotate(struct gsakmp_cookie_ctx *c, const uint8_t *secret)
{
	uint8_t next[GSAKMP_COOKIE_SECRET_LEN];

	if (c == NULL)
		return -GSAKMP_E_INVALID;
	if (secret != NULL)
		memcpy(next, secret, sizeof(next));
	else if (gsakmp_random(next, sizeof(next)) != 0)
		return -GSAKMP_E_CRYPTO;
	memcpy(c->prev, c->cur, sizeof(c->prev));
	memcpy(c->cur, next, sizeof(c->cur));
	OPENSSL_cleanse(next, sizeof(next));
	c->has_prev = 1;
	c->version++;
	return 0;
}

void gsakmp_cookie_ctx_free(struct gsakmp_cookie_ctx *c)
{
	if (c == NULL)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* HMAC-SHA-256(secret, len16 || Nonce_I || len16 || IP || len16 || GroupID), first 16. */
static int cookie_mac(const uint8_t *secret, const struct gsakmp_cookie_in *in, uint8_t *mac)
{
	uint8_t data[6 + GSAKMP_NONCE_MAX + 16 + GSAKMP_GID_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n = 0;

	if (in == NULL || in->nonce_i == NULL || in->nonce_i_len == 0 ||
			in->nonce_i_len > GSAKMP_NONCE_MAX || in->ip_len > 16 ||
			(in->ip == NULL && in->ip_len != 0) || in->gid_len > GSAKMP_GID_MAX ||
			(in->gid == NULL && in->gid_len != 0))
		return -GSAKMP_E_INVALID;
	put16(data, (uint16_t)in->nonce_i_len);
	memcpy(data + 2, in->nonce_i, in->nonce_i_len);
	n = 2 + in->nonce_i_len;
	put16(data + n, (uint16_t)in->ip_len);
	if (in->ip_len != 0)
		memcpy(data + n + 2, in->ip, in->ip_len);
	n += 2 + in->ip_len;
	put16(data + n, (uint16_t)in->gid_len);
	if (in->gid_len != 0)
		memcpy(data + n + 2, in->gid, in->gid_len);
	n += 2 + in->gid_len;
	if (HMAC(EVP_sha256(), secret, GSAKMP_COOKIE_SECRET_LEN, data, n, md, &mdlen) == NULL)
		return -GSAKMP_E_CRYPTO;
	memcpy(mac, md, GSAKMP_COOKIE_LEN - 1);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int gsakmp_cookie_make(const struct gsakmp_cookie_ctx *c, const struct gsakmp_cookie_in *in,
		uint8_t cookie[GSAKMP_COOKIE_LEN])
{
	if (c == NULL || cookie == NULL)
		return -GSAKMP_E_INVALID;
	cookie[0] = c->version;
	return cookie_mac(c->cur, in, cookie + 1);
}

int gsakmp_cookie_check(const struct gsakmp_cookie_ctx *c, const struct gsakmp_cookie_in *in,
		const uint8_t *cookie, size_t len)
{
	uint8_t mac[GSAKMP_COOKIE_LEN - 1];
	const uint8_t *secret;
	int rc;

	if (c == NULL)
		return -GSAKMP_E_INVALID;
	if (cookie == NULL || len != GSAKMP_COOKIE_LEN)
		return -GSAKMP_E_COOKIE;
	/* only the current secret and the one before it: a rotation every T seconds bounds a
	 * cookie's life to 2T (RFC 4535 §5.2.2) */
	if (cookie[0] == c->version)
		secret = c->cur;
	else if (c->has_prev && cookie[0] == (uint8_t)(c->version - 1))
		secret = c->prev;
	else
		return -GSAKMP_E_COOKIE;
	rc = cookie_mac(secret, in, mac);
	if (rc != 0)
		return rc;
	return CRYPTO_memcmp(mac, cookie + 1, sizeof(mac)) == 0 ? 0 : -GSAKMP_E_COOKIE;
}
