/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * TESLA source authentication (RFC 4082, with the chain-switching rules of RFC 5776 §3.1.2):
 * one-way key chains for a sender, disclosed-key verification for a receiver, the safe-packet
 * test and the interval arithmetic both sides share. doc/tesla.md, "Key chains", gives the byte
 * encoding and the formulas.
 *
 * PRF: HMAC-SHA-256 with 32-octet keys. F(k) = HMAC-SHA-256(k, 0x00) steps down a chain
 * (K_{i-1} = F(K_i)); F'(k) = HMAC-SHA-256(k, 0x01) derives the MAC key K'_i = F'(K_i); the
 * message of each is that single octet. The TESLA MAC is HMAC-SHA-256 under K'_i truncated to
 * its leftmost 16 octets.
 *
 * Interval indices are 32-bit and continue across chains: chain c holds K_0..K_N of its own and
 * covers the indices c(N+1) .. c(N+1)+N. A chain's commitment is F(K_0), the key one step below
 * its first one, which a receiver is bootstrapped with (chain 0) or learns in band (later ones).
 *
 * Times are nanoseconds on a clock the caller chooses (the same on both sides up to D_t).
 *
 * No DPDK dependency, only OpenSSL libcrypto. A sender or receiver object has one writer and no
 * locks; the free functions are thread-safe. Key material is wiped when objects are freed.
 *
 * Control functions return 0 or a negative errno (-EIO: OpenSSL failed); where the outcome is
 * richer than success or failure they return a verdict enum instead.
 */
#ifndef TESLA_H
#define TESLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TESLA_KEY_LEN 32          /**< octets of a chain key, a MAC key and a commitment */
#define TESLA_MAC_LEN 16          /**< octets of a TESLA MAC (truncated HMAC-SHA-256) */
#define TESLA_D_MIN 2             /**< smallest disclosure delay (RFC 4082 §3.6, 5776 §3.4.1) */
#define TESLA_D_MAX 255           /**< largest disclosure delay (8-bit field of RFC 5776 §3.4.1) */

/* ------------------------------------------------------------------ parameters and time */

/**
 * Session parameters, the same at the sender and every receiver and never changed in band
 * (RFC 4082 §5). Plain data.
 */
struct tesla_params {
	uint64_t t0;              /**< T_0: start of interval 0, ns */
	uint64_t t_int;           /**< T_int: interval length, ns (>= 1) */
	int64_t d_t;              /**< D_t: upper bound of (sender clock - receiver clock), ns;
				   *   negative when the receiver's clock is known to be ahead */
	uint32_t n;               /**< N: a chain holds K_0..K_N (N+1 intervals); 1..UINT32_MAX-1 */
	uint32_t d;               /**< disclosure delay (intervals), 2..TESLA_D_MAX and <= N */
	uint32_t max_walk;        /**< g: most F steps spent verifying one disclosed key (>= 1) */
};

/** What tesla_params_check() found wrong. */
enum tesla_param_error {
	TESLA_PARAM_OK = 0,
	TESLA_PARAM_T_INT,        /**< T_int is 0 */
	TESLA_PARAM_D_SMALL,      /**< d < 2: the key of an interval would be out while it runs */
	TESLA_PARAM_D_LARGE,      /**< d > TESLA_D_MAX */
	TESLA_PARAM_N,            /**< N is 0, or N+1 does not fit 32 bits */
	TESLA_PARAM_D_N,          /**< d > N: a chain must outlast the disclosure delay
				   *   (RFC 5776 §3.1.2.2: d + n_lastkey + n_newkcc <= N + 1) */
	TESLA_PARAM_WALK,         /**< max_walk is 0 */
	TESLA_PARAM_D_T,          /**< D_t >= d * T_int: no packet could ever be safe */
};

/**
 * Check parameters before any other use.
 * @param why optional: which rule failed (TESLA_PARAM_OK on success).
 * @return 0, or -EINVAL with *why set.
 */
int tesla_params_check(const struct tesla_params *p, enum tesla_param_error *why);

/** @return a one-line description of a parameter error, e.g. "d < 2 ...". */
const char *tesla_param_strerror(enum tesla_param_error why);

/**
 * Interval of time t: floor((t - T_0) / T_int).
 * @return 0 with *i set; -ERANGE when t < T_0; -EOVERFLOW when the index exceeds 32 bits.
 */
int tesla_interval(const struct tesla_params *p, uint64_t t, uint32_t *i);

/**
 * Start of interval i: T_0 + i * T_int.
 * @return 0 with *t set, or -EOVERFLOW when it does not fit 64 bits.
 */
int tesla_interval_start(const struct tesla_params *p, uint32_t i, uint64_t *t);

/**
 * The latest interval the sender can be in when a packet arrives at receiver time t:
 * x = floor((t + D_t - T_0) / T_int) (RFC 4082 §3.5 step 1), computed without overflow
 * (t + D_t saturates).
 * @return x, -1 when t + D_t < T_0 (the session has not started at the sender); may exceed
 *   UINT32_MAX.
 */
int64_t tesla_latest_interval(const struct tesla_params *p, uint64_t t);

/** Outcome of the time checks on a packet of interval i. */
enum tesla_safety {
	TESLA_SAFE = 0,           /**< i <= x < i + d: K_i cannot have been disclosed yet */
	TESLA_UNSAFE,             /**< x >= i + d: K_i may be public, the MAC proves nothing */
	TESLA_FUTURE,             /**< i > x: the sender cannot be in interval i yet */
};

/** Safe-packet and not-in-future tests for interval i against x = tesla_latest_interval(). */
enum tesla_safety tesla_safety_x(const struct tesla_params *p, int64_t x, uint32_t i);

/** tesla_safety_x() for a packet of interval i that arrived at receiver time t. */
enum tesla_safety tesla_safety(const struct tesla_params *p, uint64_t t, uint32_t i);

/** Chain of interval index i: i / (N + 1). */
uint32_t tesla_chain_of(const struct tesla_params *p, uint32_t i);

/** Position of i in its chain: i mod (N + 1), the j of K_j within that chain. */
uint32_t tesla_chain_pos(const struct tesla_params *p, uint32_t i);

/**
 * First index of chain c: c * (N + 1).
 * @return 0 with *i set, or -ERANGE when the chain starts beyond the 32-bit index space.
 */
int tesla_chain_start(const struct tesla_params *p, uint32_t c, uint32_t *i);

/* ------------------------------------------------------------------ PRF and MAC */

/**
 * HMAC-SHA-256 (RFC 2104, FIPS 180-4), the one primitive under F, F' and the MAC.
 * @return 0, -EINVAL (NULL key or data with a non-zero length), -EIO.
 */
int tesla_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
		uint8_t out[32]);

/** F(k) = HMAC-SHA-256(k, 0x00): the next key down a chain. out may equal k. */
int tesla_f(const uint8_t k[TESLA_KEY_LEN], uint8_t out[TESLA_KEY_LEN]);

/** F'(k) = HMAC-SHA-256(k, 0x01): the MAC key K'_i of chain key K_i. out may equal k. */
int tesla_f_prime(const uint8_t k[TESLA_KEY_LEN], uint8_t out[TESLA_KEY_LEN]);

/**
 * Reference TESLA MAC: the leftmost TESLA_MAC_LEN octets of HMAC-SHA-256(K'_i, data)
 * (RFC 5776 §1.3.1). An oracle for the data plane, not a fast path.
 */
int tesla_mac(const uint8_t kprime[TESLA_KEY_LEN], const void *data, size_t len,
		uint8_t out[TESLA_MAC_LEN]);

/**
 * Check a TESLA MAC in constant time.
 * @return 0 when it matches, -EBADMSG when not, other negative errno on error.
 */
int tesla_mac_check(const uint8_t kprime[TESLA_KEY_LEN], const void *data, size_t len,
		const uint8_t mac[TESLA_MAC_LEN]);

/* ------------------------------------------------------------------ sender */

/**
 * A sender's key chains (opaque). Holds the current chain as checkpoints every C ~ sqrt(N+1)
 * keys plus two cached segments of C keys, the next chain once prepared, and the last d keys of
 * the previous chain: O(sqrt(N)) memory, about one PRF per key delivered in increasing order.
 */
struct tesla_sender;

/**
 * Create a sender whose current chain is the one holding first_index, with a random K_N
 * (RAND_bytes). Generating a chain costs N PRF calls: do it on a control thread.
 * @param n_newkcc how many of the last intervals of each chain carry the next chain's
 *   commitment (RFC 5776 §3.1.2.2): 1..N+1-d.
 * @return 0, -EINVAL (parameters, n_newkcc), -ENOMEM, -EIO.
 */
int tesla_sender_create(const struct tesla_params *p, uint32_t first_index, uint32_t n_newkcc,
		struct tesla_sender **out);

/**
 * tesla_sender_create() with a given K_N for the first chain (a provisioned chain whose
 * commitment receivers were configured with); later chains get random ones. kn is copied.
 */
int tesla_sender_create_key(const struct tesla_params *p, uint32_t first_index,
		uint32_t n_newkcc, const uint8_t kn[TESLA_KEY_LEN], struct tesla_sender **out);

/** Wipe and free a sender (NULL is allowed). */
void tesla_sender_free(struct tesla_sender *s);

/**
 * K_i by global index. An index of the next chain makes it current (generating it first if
 * tesla_sender_prepare_next() was not called); the previous chain then keeps only its last d
 * keys.
 * @return 0; -ENOENT for a chain before the current one (or below its kept tail); -ERANGE for a
 *   chain after the next one (a sender never skips a chain: receivers could not follow).
 */
int tesla_sender_key(struct tesla_sender *s, uint32_t i, uint8_t key[TESLA_KEY_LEN]);

/** K'_i = F'(K_i) by global index; errors as tesla_sender_key(). */
int tesla_sender_mac_key(struct tesla_sender *s, uint32_t i, uint8_t kprime[TESLA_KEY_LEN]);

/** Index of the current chain. */
uint32_t tesla_sender_chain(const struct tesla_sender *s);

/**
 * Commitment F(K_0) of chain c, which must be the current chain or the prepared next one.
 * @return 0, or -ENOENT.
 */
int tesla_sender_commitment(const struct tesla_sender *s, uint32_t c,
		uint8_t commitment[TESLA_KEY_LEN]);

/**
 * Generate the next chain now (N PRF calls) unless it exists.
 * @return 0, -ERANGE (no next chain: the 32-bit index space ends), -ENOMEM, -EIO.
 */
int tesla_sender_prepare_next(struct tesla_sender *s);

/**
 * Whether a packet of interval i carries the next chain's commitment: i in the current chain's
 * last n_newkcc intervals. Prepares the next chain if needed.
 * @return 1 with the commitment written; 0 when i is not in that window; -ENOENT when i is not
 *   in the current chain; errors of tesla_sender_prepare_next().
 */
int tesla_sender_newkcc(struct tesla_sender *s, uint32_t i, uint8_t commitment[TESLA_KEY_LEN]);

/** Bytes the sender holds (object, checkpoints, segments, tail), for memory reports. */
size_t tesla_sender_mem(const struct tesla_sender *s);

/* ------------------------------------------------------------------ receiver */

/** A receiver's verified keys (opaque): per chain the newest verified key, a few recent ones. */
struct tesla_rx;

/** Outcome of tesla_rx_verify_key(). Only TESLA_KEY_NEW changes the receiver's state. */
enum tesla_key_verdict {
	TESLA_KEY_NEW = 0,        /**< verified, newer than any key of its chain: recorded */
	TESLA_KEY_KNOWN,          /**< equals a key verified (or derivable) before */
	TESLA_KEY_MISMATCH,       /**< does not lead to a verified key: forged or wrong index */
	TESLA_KEY_WALK_TOO_LONG,  /**< more than max_walk F steps above the newest verified key */
	TESLA_KEY_TOO_OLD,        /**< older than the kept keys by more than max_walk steps */
	TESLA_KEY_UNKNOWN_CHAIN,  /**< a chain without commitment here: next one not announced
				   *   yet, two or more ahead, or dropped */
};

/**
 * Create a receiver bootstrapped with the commitment F(K_0) of chain c (chain 0 at the start
 * of a session), received over an authenticated channel.
 * @return 0, -EINVAL, -ERANGE (chain beyond the index space), -ENOMEM, -EIO.
 */
int tesla_rx_create(const struct tesla_params *p, uint32_t c,
		const uint8_t commitment[TESLA_KEY_LEN], struct tesla_rx **out);

/** Create a receiver bootstrapped with an authenticated key K_i and its index i. */
int tesla_rx_create_key(const struct tesla_params *p, uint32_t i,
		const uint8_t key[TESLA_KEY_LEN], struct tesla_rx **out);

/** Wipe and free a receiver (NULL is allowed). */
void tesla_rx_free(struct tesla_rx *r);

/**
 * Verify a disclosed key K_j (RFC 4082 §3.5 steps 2-3, RFC 5776 §4.3 step 4).
 *
 * At or below the newest verified key of its chain: compared (CRYPTO_memcmp) with the key
 * derived from the nearest kept one. Above it: F is applied at most max_walk times down to that
 * key (or to the chain's commitment); a longer walk is refused before any hashing. A key of the
 * next chain is checked against the commitment given to tesla_rx_set_next_commitment() and,
 * once verified, makes that chain current.
 *
 * @param first_new optional: on TESLA_KEY_NEW, the lowest newly verified index; K_w for every
 *   w in [*first_new, j] is then available through tesla_rx_key() (lost disclosures).
 * @return the verdict (TESLA_KEY_MISMATCH for a NULL receiver or key); the receiver is
 *   unchanged unless it is TESLA_KEY_NEW.
 */
enum tesla_key_verdict tesla_rx_verify_key(struct tesla_rx *r, uint32_t j,
		const uint8_t key[TESLA_KEY_LEN], uint32_t *first_new);

/**
 * Accept the commitment F(K_0) of chain c, which must be the current chain + 1. Call it only
 * after the packet that carried it has been authenticated.
 * @return 0 (also when the same commitment is already held); -ERANGE when c is not the next
 *   chain or lies beyond the index space; -EEXIST when a different one is held.
 */
int tesla_rx_set_next_commitment(struct tesla_rx *r, uint32_t c,
		const uint8_t commitment[TESLA_KEY_LEN]);

/**
 * K_w of a verified chain, derived from the nearest kept key above it.
 * @return 0; -ENOENT when w is above the newest verified key of its chain or its chain is not
 *   held; -ERANGE when more than max_walk steps below the nearest kept key.
 */
int tesla_rx_key(struct tesla_rx *r, uint32_t w, uint8_t key[TESLA_KEY_LEN]);

/** K'_w = F'(K_w); errors as tesla_rx_key(). */
int tesla_rx_mac_key(struct tesla_rx *r, uint32_t w, uint8_t kprime[TESLA_KEY_LEN]);

/**
 * Newest verified index of the current chain.
 * @return 0 with *v set, or -ENOENT when only its commitment is known.
 */
int tesla_rx_newest(const struct tesla_rx *r, uint32_t *v);

/** Index of the current chain. */
uint32_t tesla_rx_chain(const struct tesla_rx *r);

/** Bytes the receiver holds. */
size_t tesla_rx_mem(const struct tesla_rx *r);

#endif /* TESLA_H */
