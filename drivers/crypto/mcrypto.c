/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite table and session life cycle, common to every engine. The engines only expand keys and
 * provide the per-packet functions; allocation, validation and wiping happen here once.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mcrypto.h"

#define SESSION_ALIGN 64

/*
 * RFC 4106: KEYMAT = key || 4-byte salt (§8.1), 8-byte explicit IV (§3.1), full 16-byte ICV
 * (§6: the only length that MUST be supported; 8 and 12 are not offered).
 * RFC 4543: the same KEYMAT (§5.4) and IV (§3.1); the ICV is the full 16-byte tag (§3.4:
 * truncation MUST NOT be used).
 * RFC 3686: KEYMAT = key || 4-byte nonce (§5.1), 8-byte IV (§3.1); RFC 4868: HMAC-SHA-256-128
 * with a 32-byte key (§2.1.1) and the leftmost 128 bits as ICV (§2.1.2).
 * RFC 2410: NULL has no key and no IV.
 * All are counter modes or no cipher: no payload alignment beyond ESP's own 4 bytes.
 */
static const struct mcrypto_suite_info suites[MCRYPTO_SUITE_MAX] = {
	[MCRYPTO_SUITE_AES_GCM_128] = {
		.name = "aes-gcm-128", .salt_name = "salt", .kind = MCRYPTO_KIND_AEAD,
		.key_len = 16, .salt_len = MCRYPTO_SALT_LEN,
		.iv_len = MCRYPTO_IV_LEN, .icv_len = 16, .block_len = 1, .encrypts = 1,
	},
	[MCRYPTO_SUITE_AES_GCM_256] = {
		.name = "aes-gcm-256", .salt_name = "salt", .kind = MCRYPTO_KIND_AEAD,
		.key_len = 32, .salt_len = MCRYPTO_SALT_LEN,
		.iv_len = MCRYPTO_IV_LEN, .icv_len = 16, .block_len = 1, .encrypts = 1,
	},
	[MCRYPTO_SUITE_AES_GMAC_128] = {
		.name = "aes-gmac-128", .salt_name = "salt", .kind = MCRYPTO_KIND_AUTH_ONLY,
		.key_len = 16, .salt_len = MCRYPTO_SALT_LEN,
		.iv_len = MCRYPTO_IV_LEN, .icv_len = 16, .block_len = 1, .encrypts = 0,
	},
	[MCRYPTO_SUITE_NULL_HMAC_SHA256] = {
		.name = "null-hmac-sha256-128", .salt_name = "salt", .kind = MCRYPTO_KIND_ETM,
		.key_len = 0, .salt_len = 0, .auth_key_len = 32,
		.iv_len = 0, .icv_len = 16, .block_len = 1, .encrypts = 0,
	},
	[MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256] = {
		.name = "aes-ctr-128-hmac-sha256-128", .salt_name = "nonce",
		.kind = MCRYPTO_KIND_ETM, .key_len = 16, .salt_len = MCRYPTO_SALT_LEN,
		.auth_key_len = 32, .iv_len = MCRYPTO_IV_LEN, .icv_len = 16, .block_len = 1,
		.encrypts = 1,
	},
};

static_assert(16 + MCRYPTO_SALT_LEN + MCRYPTO_MAX_AUTH_KEY_LEN <= MCRYPTO_MAX_KEYMAT_LEN,
	"MCRYPTO_MAX_KEYMAT_LEN too small");

/* The first entry is the default. */
static const struct mcrypto_engine *const engines[] = {
	&mcrypto_engine_ipsec_mb,
};

const struct mcrypto_suite_info *mcrypto_suite_info(enum mcrypto_suite suite)
{
	if ((unsigned int)suite >= MCRYPTO_SUITE_MAX || suites[suite].name == NULL)
		return NULL;
	return &suites[suite];
}

enum mcrypto_suite mcrypto_suite_by_name(const char *name)
{
	if (name == NULL)
		return MCRYPTO_SUITE_NONE;
	for (unsigned int i = 0; i < MCRYPTO_SUITE_MAX; i++)
		if (suites[i].name != NULL && strcmp(suites[i].name, name) == 0)
			return (enum mcrypto_suite)i;
	return MCRYPTO_SUITE_NONE;
}

const char *mcrypto_default_engine(void)
{
	return engines[0]->name;
}

static const struct mcrypto_engine *engine_by_name(const char *name)
{
	if (name == NULL)
		return engines[0];
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
}

static size_t session_bytes(uint32_t ctx_size)
{
	size_t hdr = offsetof(struct mcrypto_session, ctx);

	return (hdr + ctx_size + SESSION_ALIGN - 1) & ~(size_t)(SESSION_ALIGN - 1);
}

size_t mcrypto_session_size(const struct mcrypto_session *s)
{
	return s == NULL ? 0 : session_bytes(s->ctx_size);
}

int mcrypto_session_create(const char *engine, enum mcrypto_suite suite, const uint8_t *keymat,
		size_t keymat_len, struct mcrypto_session **out)
{
	const struct mcrypto_suite_info *si = mcrypto_suite_info(suite);
	const struct mcrypto_engine *eng;
	struct mcrypto_session *s;
	size_t total;
	uint32_t ctx_size;
	void *mem;
	int rc;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (si == NULL || keymat == NULL || keymat_len != mcrypto_keymat_len(si))
		return -EINVAL;
	eng = engine_by_name(engine);
	if (eng == NULL)
		return -ENOTSUP;
	ctx_size = eng->ctx_size(suite);
	if (ctx_size == 0)
		return -ENOTSUP;

	/* whole cache lines, so the key schedule shares no line with another object */
	total = session_bytes(ctx_size);
	if (posix_memalign(&mem, SESSION_ALIGN, total) != 0)
		return -ENOMEM;
	memset(mem, 0, total);
	s = mem;
	s->suite = suite;
	s->icv_len = si->icv_len;
	s->iv_len = si->iv_len;
	s->ctx_size = ctx_size;
	memcpy(s->salt, keymat + si->key_len, si->salt_len);

	rc = eng->session_init(s, keymat, si->key_len,
			si->auth_key_len != 0 ? keymat + si->key_len + si->salt_len : NULL,
			si->auth_key_len);
	if (rc != 0) {
		mcrypto_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int mcrypto_thread_init(void)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		int rc = engines[i]->thread_init != NULL ? engines[i]->thread_init() : 0;

		if (rc != 0)
			return rc;
	}
	return 0;
}

void mcrypto_session_free(struct mcrypto_session *s)
{
	if (s == NULL)
		return;
	/* header (salt, pointers) and the expanded key schedule: no key bytes survive the free */
	OPENSSL_cleanse(s, offsetof(struct mcrypto_session, ctx) + s->ctx_size);
	free(s);
}

/* ------------------------------------------------------------------ TESLA MACs */

/* doc/wire-format.md §7.4; the names are those of the configuration ("mac"). */
static const char *const mac_names[MCRYPTO_MAC_MAX] = {
	[MCRYPTO_MAC_HMAC_SHA256_128] = "hmac-sha256-128",
	[MCRYPTO_MAC_AES_GMAC_128] = "aes-gmac-128",
};

const char *mcrypto_mac_name(enum mcrypto_mac alg)
{
	if ((unsigned int)alg >= MCRYPTO_MAC_MAX)
		return NULL;
	return mac_names[alg];
}

enum mcrypto_mac mcrypto_mac_by_name(const char *name)
{
	if (name == NULL)
		return MCRYPTO_MAC_NONE;
	for (unsigned int i = 0; i < MCRYPTO_MAC_MAX; i++)
		if (mac_names[i] != NULL && strcmp(mac_names[i], name) == 0)
			return (enum mcrypto_mac)i;
	return MCRYPTO_MAC_NONE;
}

/*
 * k is cleared before anything else, so a failed call leaves no key from an earlier interval
 * in it and k->mac is NULL (mcrypto_mac_verify() refuses such a key).
 */
int mcrypto_mac_key_init(const char *engine, enum mcrypto_mac alg,
		const uint8_t key[MCRYPTO_MAC_KEY_LEN], struct mcrypto_mac_key *k)
{
	const struct mcrypto_engine *eng;
	int rc;

	if (k == NULL)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	if (mcrypto_mac_name(alg) == NULL || key == NULL)
		return -EINVAL;
	eng = engine_by_name(engine);
	if (eng == NULL || eng->mac_init == NULL)
		return -ENOTSUP;
	rc = eng->mac_init(k, alg, key);
	if (rc == 0 && k->mac == NULL)
		rc = -EIO;
	if (rc != 0) {
		mcrypto_mac_key_wipe(k);
		return rc;
	}
	k->alg = alg;
	return 0;
}

void mcrypto_mac_key_wipe(struct mcrypto_mac_key *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof(*k));
}

/*
 * The computed tag starts as the complement of the received one: should an engine ever return
 * 0 without writing it (a library that refuses a parameter silently), the comparison fails.
 * The right MAC for forged data would be a forgery: it does not stay on the stack.
 */
int mcrypto_mac_verify(const struct mcrypto_mac_key *k, const uint8_t *nonce,
		const uint8_t *data, size_t len, const uint8_t *mac)
{
	uint8_t tag[MCRYPTO_MAC_LEN];
	int rc;

	if (k == NULL || k->mac == NULL || mac == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(tag); i++)
		tag[i] = (uint8_t)~mac[i];
	rc = mcrypto_mac(k, nonce, data, len, tag);
	if (rc == 0 && CRYPTO_memcmp(tag, mac, sizeof(tag)) != 0)
		rc = -EBADMSG;
	OPENSSL_cleanse(tag, sizeof(tag));
	return rc;
}
