/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Crypto engines behind one small ops table.
 *
 * The data plane never calls a crypto library directly: an SA is bound to a session once, at
 * setup, and its runtime record keeps the session's function pointers. Engines: `ipsec_mb`
 * (Intel IPsec-MB direct API, the default). Every call is synchronous and in place.
 *
 * No DPDK dependency: the engines work on flat buffers, so unit tests and known-answer vectors
 * run without EAL.
 */
#ifndef MCRYPTO_H
#define MCRYPTO_H

#include <stddef.h>
#include <stdint.h>

/** Transform suites. Values are stable: they appear in counters and control messages. */
enum mcrypto_suite {
	MCRYPTO_SUITE_NONE = 0,
	MCRYPTO_SUITE_AES_GCM_128 = 1, /**< RFC 4106, 16-byte key, 4-byte salt, ICV 16 */
	MCRYPTO_SUITE_AES_GCM_256 = 2, /**< RFC 4106, 32-byte key, 4-byte salt, ICV 16 */
	MCRYPTO_SUITE_MAX
};

/** Salt length of the RFC 4106 counter-mode suites (KEYMAT = key || salt). */
#define MCRYPTO_SALT_LEN 4
/** Explicit IV length carried in ESP (RFC 4106 §3.1). */
#define MCRYPTO_IV_LEN 8
/** Longest key (AES-256). */
#define MCRYPTO_MAX_KEY_LEN 32
/** Longest ICV. */
#define MCRYPTO_MAX_ICV_LEN 16

/** Static facts about a suite. */
struct mcrypto_suite_info {
	const char *name;   /**< configuration name, e.g. "aes-gcm-128" */
	uint8_t key_len;    /**< cipher key bytes, salt excluded */
	uint8_t salt_len;   /**< salt bytes appended to the key in KEYMAT */
	uint8_t iv_len;     /**< explicit IV bytes on the wire */
	uint8_t icv_len;    /**< ICV bytes on the wire */
	uint8_t block_len;  /**< payload alignment the cipher needs (1 for counter modes) */
};

/**
 * Look up a suite.
 * @return the suite's facts, or NULL for an unknown value.
 */
const struct mcrypto_suite_info *mcrypto_suite_info(enum mcrypto_suite suite);

/**
 * Find a suite by its configuration name.
 * @return the suite, or MCRYPTO_SUITE_NONE when the name is unknown.
 */
enum mcrypto_suite mcrypto_suite_by_name(const char *name);

struct mcrypto_session;

/**
 * AEAD seal in place: encrypt `len` bytes at `data` and write the ICV to `icv`.
 * `iv` is the 8-byte explicit IV; the engine builds the nonce salt || iv itself.
 */
typedef void (*mcrypto_seal_t)(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv);

/**
 * AEAD open in place: verify the ICV over aad and ciphertext in constant time, then decrypt.
 * @return 0 when the ICV is good, -EBADMSG otherwise (the data is then undefined and must not
 *   be used).
 */
typedef int (*mcrypto_open_t)(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len,
		const uint8_t *icv);

/**
 * A keyed session: expanded keys and the engine's per-packet functions. Created by the control
 * thread, read by workers, freed only after no worker can hold it (the RCU grace period).
 * Cache-line aligned; the expanded key schedule follows the header.
 */
struct mcrypto_session {
	mcrypto_seal_t seal;
	mcrypto_open_t open;
	enum mcrypto_suite suite;
	uint8_t icv_len;
	uint8_t salt[MCRYPTO_SALT_LEN];
	const void *engine;      /**< engine-private per-process state (e.g. the IMB_MGR) */
	uint32_t ctx_size;       /**< bytes of key schedule after this header */
	uint8_t ctx[] __attribute__((aligned(64))); /**< engine key schedule */
};

/**
 * Create a session for `suite` with KEYMAT = key || salt (RFC 4106 §8.1).
 * @param engine "ipsec_mb" or NULL for the default.
 * @param keymat key followed by the salt; copied and expanded, the caller wipes its copy.
 * @param keymat_len must equal key_len + salt_len of the suite.
 * @param out receives the session (aligned allocation, free with mcrypto_session_free()).
 * @return 0, -EINVAL (bad suite or length), -ENOTSUP (engine unknown or suite not offered),
 *   -ENOMEM.
 */
int mcrypto_session_create(const char *engine, enum mcrypto_suite suite, const uint8_t *keymat,
		size_t keymat_len, struct mcrypto_session **out);

/** Bytes allocated for a session (header and key schedule, whole cache lines). */
size_t mcrypto_session_size(const struct mcrypto_session *s);

/** Wipe the key schedule and free. NULL is allowed. */
void mcrypto_session_free(struct mcrypto_session *s);

/** Name of the engine used when none is given. */
const char *mcrypto_default_engine(void);

/**
 * @internal
 * Engine interface, for the engines in drivers/crypto only. mcrypto_session_create() validates
 * the suite and the KEYMAT length, allocates the session with ctx_size() bytes of key schedule,
 * fills suite, icv_len and salt, then calls session_init().
 */
struct mcrypto_engine {
	const char *name;
	/** Bytes of key schedule the engine needs for `suite`; 0 if it does not offer the suite. */
	uint32_t (*ctx_size)(enum mcrypto_suite suite);
	/**
	 * Expand `key` (key_len bytes, salt excluded) into s->ctx and set s->seal, s->open and
	 * s->engine. @return 0 or a negative errno; s is wiped and freed by the caller on error.
	 */
	int (*session_init)(struct mcrypto_session *s, const uint8_t *key, size_t key_len);
};

/** @internal The Intel IPsec-MB engine ("ipsec_mb"). */
extern const struct mcrypto_engine mcrypto_engine_ipsec_mb;

#endif /* MCRYPTO_H */
