/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PRF, F, F' and the reference MAC (doc/tesla.md, "Key chains").
 *
 * RFC 4082 §3.2 and RFC 5776 §3.1.2.1 write F(k) = f_k(0) and F'(k) = f_k(1) without saying
 * how 0 and 1 are encoded; we feed HMAC-SHA-256 the single octet 0x00 or 0x01. The two
 * messages differ, so the MAC key K'_i is never a chain key (the CMU library MACed the same
 * constant in both, which made K'_i = K_{i-1}, public one interval early).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "tesla_pvt.h"

static const uint8_t msg_f = 0x00;
static const uint8_t msg_fp = 0x01;

int tesla_prf_open(struct tesla_prf *prf)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};

	prf->ctx = NULL;
	prf->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (prf->mac == NULL)
		return -EIO;
	prf->ctx = EVP_MAC_CTX_new(prf->mac);
	if (prf->ctx == NULL || EVP_MAC_CTX_set_params(prf->ctx, params) != 1) {
		tesla_prf_close(prf);
		return -EIO;
	}
	return 0;
}

/* EVP_MAC_CTX_free() cleanses the HMAC state, which holds the last key's pads. */
void tesla_prf_close(struct tesla_prf *prf)
{
	EVP_MAC_CTX_free(prf->ctx);
	EVP_MAC_free(prf->mac);
	prf->ctx = NULL;
	prf->mac = NULL;
}

int tesla_prf_hmac(struct tesla_prf *prf, const uint8_t *key, size_t key_len, const void *data,
		size_t len, uint8_t out[32])
{
	static const uint8_t empty;
	size_t out_len = 0;

	/* A NULL key would make EVP_MAC_init() keep the previous one. */
	if (EVP_MAC_init(prf->ctx, key != NULL ? key : &empty, key_len, NULL) != 1 ||
	    EVP_MAC_update(prf->ctx, data, len) != 1 ||
	    EVP_MAC_final(prf->ctx, out, &out_len, 32) != 1 || out_len != 32)
		return -EIO;
	return 0;
}

/* EVP_MAC_init() copies the key into the context before final writes out: out may equal k. */
int tesla_prf_f(struct tesla_prf *prf, const uint8_t k[TESLA_KEY_LEN],
		uint8_t out[TESLA_KEY_LEN])
{
	return tesla_prf_hmac(prf, k, TESLA_KEY_LEN, &msg_f, 1, out);
}

int tesla_prf_fp(struct tesla_prf *prf, const uint8_t k[TESLA_KEY_LEN],
		uint8_t out[TESLA_KEY_LEN])
{
	return tesla_prf_hmac(prf, k, TESLA_KEY_LEN, &msg_fp, 1, out);
}

/* The free functions open a context per call: simple, and no global state. */
int tesla_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
		uint8_t out[32])
{
	struct tesla_prf prf;
	int rc;

	if ((key == NULL && key_len != 0) || (data == NULL && len != 0) || out == NULL)
		return -EINVAL;
	rc = tesla_prf_open(&prf);
	if (rc == 0)
		rc = tesla_prf_hmac(&prf, key, key_len, data, len, out);
	tesla_prf_close(&prf);
	return rc;
}

int tesla_f(const uint8_t k[TESLA_KEY_LEN], uint8_t out[TESLA_KEY_LEN])
{
	if (k == NULL)
		return -EINVAL;
	return tesla_hmac_sha256(k, TESLA_KEY_LEN, &msg_f, 1, out);
}

int tesla_f_prime(const uint8_t k[TESLA_KEY_LEN], uint8_t out[TESLA_KEY_LEN])
{
	if (k == NULL)
		return -EINVAL;
	return tesla_hmac_sha256(k, TESLA_KEY_LEN, &msg_fp, 1, out);
}

int tesla_mac(const uint8_t kprime[TESLA_KEY_LEN], const void *data, size_t len,
		uint8_t out[TESLA_MAC_LEN])
{
	uint8_t full[32];
	int rc;

	if (kprime == NULL || out == NULL)
		return -EINVAL;
	rc = tesla_hmac_sha256(kprime, TESLA_KEY_LEN, data, len, full);
	if (rc == 0)
		memcpy(out, full, TESLA_MAC_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int tesla_mac_check(const uint8_t kprime[TESLA_KEY_LEN], const void *data, size_t len,
		const uint8_t mac[TESLA_MAC_LEN])
{
	uint8_t want[TESLA_MAC_LEN];
	int rc;

	if (mac == NULL)
		return -EINVAL;
	rc = tesla_mac(kprime, data, len, want);
	if (rc == 0 && CRYPTO_memcmp(want, mac, TESLA_MAC_LEN) != 0)
		rc = -EBADMSG;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}
