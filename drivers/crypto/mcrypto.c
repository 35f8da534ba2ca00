/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite table and session life cycle, common to every engine. The engines only expand keys and
 * provide the per-packet functions; allocation, validation and wiping happen here once.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mcrypto.h"

#define SESSION_ALIGN 64

/* RFC 4106: KEYMAT = key || 4-byte salt (§8.1), 8-byte explicit IV (§3.1), full 16-byte ICV
 * (§6: the only length that MUST be supported; 8 and 12 are not offered). Counter mode: no
 * payload alignment beyond ESP's own 4 bytes. */
static const struct mcrypto_suite_info suites[MCRYPTO_SUITE_MAX] = {
	[MCRYPTO_SUITE_AES_GCM_128] = {
		.name = "aes-gcm-128", .key_len = 16, .salt_len = MCRYPTO_SALT_LEN,
		.iv_len = MCRYPTO_IV_LEN, .icv_len = 16, .block_len = 1,
	},
	[MCRYPTO_SUITE_AES_GCM_256] = {
		.name = "aes-gcm-256", .key_len = 32, .salt_len = MCRYPTO_SALT_LEN,
		.iv_len = MCRYPTO_IV_LEN, .icv_len = 16, .block_len = 1,
	},
};

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
	if (si == NULL || keymat == NULL || keymat_len != (size_t)si->key_len + si->salt_len)
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
	s->ctx_size = ctx_size;
	memcpy(s->salt, keymat + si->key_len, si->salt_len);

	rc = eng->session_init(s, keymat, si->key_len);
	if (rc != 0) {
		mcrypto_session_free(s);
		return rc;
	}
	*out = s;
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
