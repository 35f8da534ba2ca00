/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Crypto engines behind one small ops table.
 *
 * The data plane never calls a crypto library directly: an SA is bound to a session once, at
 * setup, and its runtime record keeps the session's function pointers. Engines: `ipsec_mb`
 * (Intel IPsec-MB, the default). Every call is synchronous and in place.
 *
 * Every suite has the same two calls, seal and open, with the ESP semantics of its RFC: the
 * data plane does not know whether a suite is an AEAD, integrity only or cipher plus MAC, and
 * its packet code is the same for all of them (doc/wire-format.md §4 has the byte layouts).
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
	MCRYPTO_SUITE_AES_GMAC_128 = 3, /**< RFC 4543 ENCR_NULL_AUTH_AES_GMAC: integrity only,
					 *   16-byte key, 4-byte salt, ICV 16 */
	/* 4 is kept for AES-CBC-128 + HMAC-SHA-256-128 (enum gsakmp_suite) */
	MCRYPTO_SUITE_NULL_HMAC_SHA256 = 5, /**< RFC 2410 NULL + RFC 4868 HMAC-SHA-256-128:
					     *   no IV, 32-byte HMAC key, ICV 16 */
	MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256 = 6, /**< RFC 3686 AES-CTR (16-byte key, 4-byte
						    *   nonce) + RFC 4868 HMAC-SHA-256-128
						    *   (32-byte key), ICV 16 */
	MCRYPTO_SUITE_MAX
};

/** Salt (RFC 4106, RFC 4543) or nonce (RFC 3686) length of the counter-mode suites. */
#define MCRYPTO_SALT_LEN 4
/** Explicit IV length carried in ESP by the counter-mode suites (RFC 4106 §3.1). */
#define MCRYPTO_IV_LEN 8
/** Longest cipher key (AES-256). */
#define MCRYPTO_MAX_KEY_LEN 32
/** Longest integrity key (HMAC-SHA-256, RFC 4868 §2.1.1: the key is as long as the output). */
#define MCRYPTO_MAX_AUTH_KEY_LEN 32
/** Longest KEYMAT: cipher key || salt || integrity key. */
#define MCRYPTO_MAX_KEYMAT_LEN 52
/** Longest ICV. */
#define MCRYPTO_MAX_ICV_LEN 16

/** What a suite protects. */
enum mcrypto_kind {
	MCRYPTO_KIND_AEAD = 1,      /**< combined mode: encryption and integrity (GCM) */
	MCRYPTO_KIND_AUTH_ONLY = 2, /**< combined mode, no encryption: payload in clear (GMAC) */
	MCRYPTO_KIND_ETM = 3,       /**< a cipher (maybe NULL) then a separate integrity
				     *   algorithm over the packet (RFC 4303 §3.3.2.1) */
};

/** Static facts about a suite. */
struct mcrypto_suite_info {
	const char *name;   /**< configuration name, e.g. "aes-gcm-128" */
	const char *salt_name; /**< what the RFC calls the salt_len bytes: "salt" or "nonce" */
	enum mcrypto_kind kind;
	uint8_t key_len;    /**< cipher key bytes, salt excluded (0: no cipher key) */
	uint8_t salt_len;   /**< salt or nonce bytes appended to the key in KEYMAT */
	uint8_t auth_key_len; /**< integrity key bytes after key || salt in KEYMAT (0: none) */
	uint8_t iv_len;     /**< explicit IV bytes on the wire (0 or 8) */
	uint8_t icv_len;    /**< ICV bytes on the wire */
	uint8_t block_len;  /**< payload alignment the cipher needs (1 for counter modes) */
	uint8_t encrypts;   /**< 1 when the payload is encrypted */
};

/** KEYMAT bytes of a suite: key_len + salt_len + auth_key_len. */
static inline size_t mcrypto_keymat_len(const struct mcrypto_suite_info *si)
{
	return (size_t)si->key_len + si->salt_len + si->auth_key_len;
}

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
 * Seal in place: protect `len` bytes at `data` (ESP payload, padding, Pad Length, Next Header)
 * and write the ICV to `icv`.
 *
 * - `aad` is the RFC 4106 §5 AAD: SPI || SN (8 bytes), or SPI || SN high || SN low with ESN
 *   (12 bytes).
 * - `iv` is the explicit IV (the suite's iv_len bytes, none for NULL encryption); the engine
 *   builds the nonce salt || iv itself.
 * - AEAD (GCM, RFC 4106): encrypts data, authenticates aad and data.
 * - AUTH_ONLY (GMAC, RFC 4543 §3.3): data stays in clear; the ICV covers SPI || [SN high ||]
 *   SN || iv || data.
 * - ETM (RFC 4303 §2.2.1, §3.3.2.1): encrypts data, then the MAC covers the packet's bytes
 *   SPI || SN || iv || data, with the SN high half appended when aad_len is 12.
 * AUTH_ONLY and ETM read the packet itself: they need the ESP header (SPI, SN) in the 8 bytes
 * before `iv`, `data` = iv + iv_len and `icv` = data + len, as in an ESP packet, and take from
 * `aad` only its length (8 or 12) and the SN high half. ETM uses the 4 bytes at `icv` as
 * scratch for the SN high half before writing the ICV there; AUTH_ONLY with ESN rearranges
 * the ESP header in place for the call and borrows the 4 bytes before it (in a packet, the end
 * of the outer IP header), putting both back before it returns.
 */
typedef void (*mcrypto_seal_t)(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv);

/**
 * Open in place: verify the ICV in constant time, then (suites that encrypt) decrypt. The
 * arguments are those of mcrypto_seal_t, with the received ICV at `icv`. ETM suites verify
 * before they decrypt and may overwrite the 4 bytes at `icv` (the SN high half, see seal).
 * @return 0 when the ICV is good, -EBADMSG otherwise (the data is then undefined and must not
 *   be used).
 */
typedef int (*mcrypto_open_t)(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len,
		uint8_t *icv);

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
	uint8_t iv_len;
	uint8_t salt[MCRYPTO_SALT_LEN];
	const void *engine;      /**< engine-private per-process state (e.g. the IMB_MGR) */
	uint32_t ctx_size;       /**< bytes of key schedule after this header */
	uint8_t ctx[] __attribute__((aligned(64))); /**< engine key schedule */
};

/**
 * Create a session for `suite` with KEYMAT = cipher key || salt || integrity key: RFC 4106 §8.1
 * and RFC 4543 §5.4 (key || salt), RFC 3686 §5.1 (key || nonce), followed by the HMAC key for
 * the suites with a separate integrity algorithm (encryption key first, as RFC 7296 §2.17
 * orders them). NULL encryption has neither key nor salt: KEYMAT is the HMAC key alone.
 * @param engine "ipsec_mb" or NULL for the default.
 * @param keymat copied and expanded, the caller wipes its copy.
 * @param keymat_len must equal mcrypto_keymat_len() of the suite.
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

/**
 * Prepare the calling thread for sessions of every suite: the ipsec_mb engine's cipher plus
 * MAC suites run through the IPsec-MB job API, whose manager holds per-thread job state.
 * Workers call this once before their loop so that no packet pays the allocation; a thread that
 * did not is prepared on its first such packet. Idempotent.
 * @return 0, -ENOMEM, -ENOTSUP.
 */
int mcrypto_thread_init(void);

/* ------------------------------------------------------------------ TESLA MACs */

/**
 * MAC functions for TESLA source authentication (doc/wire-format.md §7.4). The values are the
 * MAC ids of our wire profile and of the configuration; they are never sent in a packet.
 */
enum mcrypto_mac {
	MCRYPTO_MAC_NONE = 0,
	MCRYPTO_MAC_HMAC_SHA256_128 = 1, /**< HMAC-SHA-256 (RFC 2104) under the 32-byte key, the
					  *   leftmost 16 bytes (RFC 5776 §1.3.1); no nonce */
	MCRYPTO_MAC_AES_GMAC_128 = 2,    /**< AES-128-GCM (SP 800-38D) under the key's first 16
					  *   bytes, 12-byte nonce, AAD = the data, empty
					  *   plaintext: the full 16-byte tag */
	MCRYPTO_MAC_MAX
};

#define MCRYPTO_MAC_KEY_LEN 32    /**< bytes of a MAC key as given (K'_i) */
#define MCRYPTO_MAC_LEN 16        /**< bytes of a MAC */
#define MCRYPTO_MAC_NONCE_LEN 12  /**< bytes of the AES-GMAC nonce */
#define MCRYPTO_MAC_CTX_SIZE 1024 /**< bytes of engine key schedule in a MAC key */

struct mcrypto_mac_key;

/**
 * Compute a MAC over `len` bytes at `data` into `out` (MCRYPTO_MAC_LEN bytes). `nonce`
 * (MCRYPTO_MAC_NONCE_LEN bytes) is read by AES-GMAC only and may be NULL for HMAC. `data` may
 * be NULL when `len` is 0.
 * @return 0, or -EINVAL (NULL nonce for GMAC, NULL data with a length), -EIO.
 */
typedef int (*mcrypto_mac_t)(const struct mcrypto_mac_key *k, const uint8_t *nonce,
		const uint8_t *data, size_t len, uint8_t *out);

/**
 * An expanded MAC key, held by value (no allocation: a worker sets one up per TESLA interval).
 * For HMAC the inner and outer hash states (and the key, for an empty message), for AES-GMAC
 * the AES key schedule and GHASH powers. Wipe with mcrypto_mac_key_wipe().
 */
struct mcrypto_mac_key {
	mcrypto_mac_t mac;
	const void *engine;
	enum mcrypto_mac alg;
	uint8_t ctx[MCRYPTO_MAC_CTX_SIZE] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

/**
 * Expand a 32-byte key for `alg` into `k`. Any thread; no allocation except the engine's
 * per-thread state on a thread's first HMAC (mcrypto_thread_init() avoids even that).
 * On failure `k` is left wiped (all zero, no key from a previous use) and must not be used.
 * @param engine "ipsec_mb" or NULL for the default.
 * @return 0, -EINVAL (alg, NULL key or k), -ENOTSUP (engine), -EIO.
 */
int mcrypto_mac_key_init(const char *engine, enum mcrypto_mac alg,
		const uint8_t key[MCRYPTO_MAC_KEY_LEN], struct mcrypto_mac_key *k);

/** Wipe an expanded MAC key (NULL is allowed). */
void mcrypto_mac_key_wipe(struct mcrypto_mac_key *k);

/** Compute a MAC with an expanded key, see mcrypto_mac_t. */
static inline int mcrypto_mac(const struct mcrypto_mac_key *k, const uint8_t *nonce,
		const uint8_t *data, size_t len, uint8_t *out)
{
	return k->mac(k, nonce, data, len, out);
}

/**
 * Check a MAC in constant time (the comparison does not depend on where bytes differ).
 * @return 0 when it matches, -EBADMSG when not, another negative errno when it could not be
 *   computed (-EINVAL: NULL k, mac, or a wiped or failed key, and as mcrypto_mac_t).
 */
int mcrypto_mac_verify(const struct mcrypto_mac_key *k, const uint8_t *nonce,
		const uint8_t *data, size_t len, const uint8_t *mac);

/** Configuration name of a MAC ("hmac-sha256-128", "aes-gmac-128"), NULL if unknown. */
const char *mcrypto_mac_name(enum mcrypto_mac alg);

/** MAC by configuration name; MCRYPTO_MAC_NONE when unknown. */
enum mcrypto_mac mcrypto_mac_by_name(const char *name);

/** Name of the engine used when none is given. */
const char *mcrypto_default_engine(void);

/**
 * @internal
 * Engine interface, for the engines in drivers/crypto only. mcrypto_session_create() validates
 * the suite and the KEYMAT length, allocates the session with ctx_size() bytes of key schedule,
 * fills suite, icv_len, iv_len and salt, then calls session_init().
 */
struct mcrypto_engine {
	const char *name;
	/** Bytes of key schedule the engine needs for `suite`; 0 if it does not offer the suite. */
	uint32_t (*ctx_size)(enum mcrypto_suite suite);
	/**
	 * Expand `key` (key_len bytes, salt excluded) and `auth_key` (auth_key_len bytes, NULL
	 * when 0) into s->ctx and set s->seal, s->open and s->engine.
	 * @return 0 or a negative errno; s is wiped and freed by the caller on error.
	 */
	int (*session_init)(struct mcrypto_session *s, const uint8_t *key, size_t key_len,
			const uint8_t *auth_key, size_t auth_key_len);
	/** Per-thread preparation (mcrypto_thread_init()); NULL when the engine needs none. */
	int (*thread_init)(void);
	/**
	 * Expand `key` for `alg` into k->ctx and set k->mac and k->engine (mcrypto_mac_key_init()
	 * has checked alg and cleared k). NULL when the engine offers no TESLA MACs.
	 */
	int (*mac_init)(struct mcrypto_mac_key *k, enum mcrypto_mac alg,
			const uint8_t key[MCRYPTO_MAC_KEY_LEN]);
};

/** @internal The Intel IPsec-MB engine ("ipsec_mb"). */
extern const struct mcrypto_engine mcrypto_engine_ipsec_mb;

#endif /* MCRYPTO_H */
