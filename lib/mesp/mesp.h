/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * MESP: group ESP transforms for the data plane.
 *
 * Tunnel mode with address preservation (RFC 5374 §3.1), ESP (RFC 4303) with 64-bit extended
 * sequence numbers, IV = sender ID || per-sender counter (RFC 6054), and the suites of
 * mcrypto.h: AES-GCM (RFC 4106), AES-GMAC (RFC 4543), AES-CTR (RFC 3686) or NULL (RFC 2410)
 * with HMAC-SHA-256-128 (RFC 4868).
 *
 * An SA exists twice: the caller keeps the control record (keys as configured, names, lifetimes);
 * this library builds the compact runtime record (struct mesp_sa, opaque) that workers read.
 * Runtime records are immutable once published, except for the per-sender sequence counters and
 * replay windows, which each have a single writer (the worker that owns the sender ID, and the
 * worker that receives a given sender).
 *
 * Burst functions follow DPDK's lib/ipsec: they return how many packets succeeded, move the
 * failed ones behind the good ones, never free, and count each failure under a named reason.
 */
#ifndef MESP_H
#define MESP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "mcrypto.h"

/**
 * Drop reasons. Every packet the data plane does not forward lands in exactly one of these.
 * Names (mesp_drop_name()) are stable: they appear in counters, telemetry and docs.
 */
enum mesp_drop {
	MESP_DROP_NOT_IP,          /**< not IPv4/IPv6 and the port's default is discard */
	MESP_DROP_MALFORMED,       /**< truncated or inconsistent outer/plain headers */
	MESP_DROP_NOT_MULTICAST,   /**< destination is not a multicast group */
	MESP_DROP_IPV6_EXT,        /**< IPv6 extension headers before ESP (not supported) */
	MESP_DROP_FRAGMENT,        /**< fragmented ESP packet (gateway does not reassemble) */
	MESP_DROP_POLICY_DISCARD,  /**< outbound policy or port default said discard */
	MESP_DROP_NO_SA,           /**< inbound: no SA for (SPI, dst[, src]); outbound: group has
				    *   no active sender SA */
	MESP_DROP_SA_EXPIRED,      /**< SA past its hard lifetime */
	MESP_DROP_NO_SID,          /**< this worker holds no sender ID for the SA */
	MESP_DROP_SEQ_EXHAUSTED,   /**< sender's IV/ESN space used up: never reuse an IV */
	MESP_DROP_MTU,             /**< encapsulated packet would exceed the port MTU */
	MESP_DROP_NO_ROOM,         /**< mbuf lacks headroom/tailroom or is multi-segment */
	MESP_DROP_REPLAY,          /**< duplicate or behind the anti-replay window */
	MESP_DROP_AUTH_FAIL,       /**< ICV verification failed */
	MESP_DROP_SENDERS_FULL,    /**< inbound SA already tracks max_senders sender IDs */
	MESP_DROP_BAD_PAD,         /**< padding bytes or pad length invalid (RFC 4303 §2.4) */
	MESP_DROP_BAD_NEXT_HDR,    /**< next header not the SA's inner IP version */
	MESP_DROP_DUMMY,           /**< dummy packet, next header 59 (RFC 4303 §2.6) */
	MESP_DROP_BAD_INNER,       /**< decrypted inner header invalid */
	MESP_DROP_ADDR_MISMATCH,   /**< outer addresses differ from inner (RFC 5374 §5.2 item 6) */
	MESP_DROP_ECN,             /**< outer CE on a not-ECT inner packet (RFC 6040 §4.2) */
	MESP_DROP_TX_FULL,         /**< TX queue did not accept the packet */
	/* TESLA source authentication (doc/wire-format.md §7.6) */
	MESP_DROP_TESLA_MALFORMED, /**< TESLA trailer missing, wrong length, type or version */
	MESP_DROP_TESLA_UNKNOWN_SENDER, /**< sender ID without a TESLA sender entry */
	MESP_DROP_TESLA_FUTURE,    /**< interval after the latest the sender can be in */
	MESP_DROP_TESLA_UNSAFE,    /**< the interval's key may already be disclosed */
	MESP_DROP_TESLA_BAD_KEY,   /**< disclosed key or commitment refused by the chain */
	MESP_DROP_TESLA_BAD_MAC,   /**< TESLA MAC wrong under the verified key */
	MESP_DROP_TESLA_BUFFER_FULL, /**< the interval's hold caps are reached */
	MESP_DROP_TESLA_NO_KEY,    /**< receiver: no key came in time for held packets; sender:
				    *   no key material for the current interval (the control
				    *   thread is late, or the session has not started) */
	MESP_DROP_TESLA_UNSYNCED,  /**< sender unsynced and the SA fails closed */
	MESP_DROP_TESLA_BEACON,    /**< key beacon: processed, never forwarded */
	MESP_DROP_MAX
};

/** Returned by the inbound path for a packet the TESLA store took over (not a drop). */
#define MESP_HELD ((enum mesp_drop)(MESP_DROP_MAX + 1))

/** Stable name of a drop reason ("auth_fail", ...). */
const char *mesp_drop_name(enum mesp_drop r);

/** Per-SA counters, one set per worker lcore; summed on read. */
struct mesp_sa_ctr {
	uint64_t out_pkts;
	uint64_t out_bytes;     /**< plaintext (inner packet) bytes protected */
	uint64_t in_pkts;
	uint64_t in_bytes;      /**< plaintext bytes delivered */
	uint64_t auth_fail;
	uint64_t replay;
	uint64_t other_drops;
	uint64_t replay_disabled; /**< packets accepted without a replay check (window 0) */
	/* TESLA (zero on other SAs); the drops are also in other_drops */
	uint64_t tl_verified;     /**< delivered after a good TESLA MAC */
	uint64_t tl_unverified;   /**< delivered without TESLA while unsynced (fail-open) */
	uint64_t tl_beacons_tx;   /**< key beacons sent */
	uint64_t tl_held;         /**< packets held now (this worker: + on hold, - on release) */
	uint64_t tl_held_bytes;   /**< bytes held now, as counted against the caps */
	uint64_t tl_drops[MESP_DROP_MAX - MESP_DROP_TESLA_MALFORMED]; /**< per TESLA reason,
				   *   index r - MESP_DROP_TESLA_MALFORMED */
	/* to 256 bytes: a power of two, so the per-packet index is a shift (no alignment
	 * beyond the cache line's is required of the arrays) */
	uint64_t pad_[32 - 13 - (MESP_DROP_MAX - MESP_DROP_TESLA_MALFORMED)];
};

/**
 * Per-worker context: counters and the worker's identity. One per worker lcore, written only
 * by that worker; the control thread reads with relaxed loads.
 */
struct mesp_lcore {
	uint64_t drops[MESP_DROP_MAX];
	struct mesp_sa_ctr *sa_ctr;  /**< array of max_sas counter sets */
	uint32_t max_sas;
	uint16_t tx_slot;            /**< which of an SA's sender IDs this worker uses */
	uint16_t idx;                /**< worker index (TESLA receive state per worker) */
	/* TESLA: set by the worker per burst, read by the SAs that use TESLA */
	uint64_t now_ns;             /**< the TESLA clock (Unix ns) at this burst's arrival */
	bool clock_synced;           /**< the local clock is within its error budget */
	struct rte_mempool *pool;    /**< for copies of held packets leaving the store */
	/** Hands over a packet the TESLA store released (data at the inner IP header, port
	 *  in m->port); the callee owns it. */
	void (*deliver)(void *arg, struct rte_mbuf *m);
	void *deliver_arg;
} __rte_cache_aligned;

/** Largest burst the burst functions accept. */
#define MESP_MAX_BURST 256

/** Direction flags of an SA. */
#define MESP_SA_OUT 0x1   /**< this node sends on it */
#define MESP_SA_IN  0x2   /**< this node receives on it */

/** Largest number of sender IDs one node may hold for an SA (one per sending worker). */
#define MESP_MAX_TX_SIDS 64

/** "copy from the inner header" for ttl and dscp. */
#define MESP_COPY (-1)

/** A TESLA sender as a receiving SA knows it. */
struct mesp_tesla_sender_conf {
	uint16_t nb_sids;               /**< the sender IDs it sends with */
	const uint16_t *sids;
	uint32_t chain;                 /**< chain index of `commitment` */
	const uint8_t *commitment;      /**< F(K_0) of that chain, TESLA_KEY_LEN bytes */
	bool has_clock_bound;           /**< false: the sender stays unsynced */
	int64_t clock_bound_ns;         /**< D_t towards this sender */
};

/** TESLA on an SA (doc/wire-format.md §7, doc/tesla.md). */
struct mesp_tesla_conf {
	uint64_t t0_ns;                 /**< start of interval 0 on the TESLA clock (Unix ns) */
	uint64_t interval_ns;           /**< T_int */
	uint32_t d;                     /**< disclosure delay */
	uint32_t chain_length;          /**< N + 1 */
	uint32_t max_walk;              /**< g */
	uint32_t newkcc, lastkey;       /**< sender: commitment and last-key windows */
	enum mcrypto_mac mac;           /**< the TESLA MAC */
	const uint8_t *chain_key;       /**< sender: K_N of chain `chain`, NULL = random */
	uint32_t chain;                 /**< sender: the chain chain_key ends */
	uint64_t now_ns;                /**< sender: the TESLA clock at creation; a random
					 *   chain starts with the interval of this time */
	uint16_t nb_senders;            /**< receiver: the senders it accepts */
	const struct mesp_tesla_sender_conf *senders;
	uint32_t bucket_bytes;          /**< receiver caps per interval (and worker) */
	uint32_t bucket_packets;
	uint32_t copy_max;              /**< held packets up to this size are copied */
	bool fail_open;                 /**< unsynced: forward unverified instead of dropping */
	uint16_t nb_workers;            /**< receiving workers (one store each) */
};

/** Parameters of a runtime SA. Addresses: IPv4 in the first 4 bytes. */
struct mesp_sa_conf {
	uint32_t spi;
	uint8_t family;                 /**< AF_INET or AF_INET6 (inner = outer version) */
	uint8_t dir;                    /**< MESP_SA_OUT | MESP_SA_IN */
	bool has_src;                   /**< SSM: source is part of the SA selector */
	bool esn;                       /**< 64-bit extended sequence numbers */
	uint8_t dst[16];                /**< group address */
	uint8_t src[16];                /**< SSM source */
	enum mcrypto_suite suite;
	const uint8_t *keymat;          /**< KEYMAT as mcrypto_session_create() takes it:
					 *   key || salt || integrity key; copied into the session */
	uint8_t keymat_len;
	const char *engine;             /**< crypto engine name, NULL = default */
	uint8_t sid_bits;               /**< 8, 12 or 16 (RFC 6054 §3) */
	uint16_t nb_sids;               /**< this node's sender IDs (outbound); at most one for a
					 *   suite without IV (NULL encryption: no SID on the wire) */
	const uint16_t *sids;
	uint32_t replay_window;         /**< 0 = disabled */
	uint16_t max_senders;           /**< replay windows kept per inbound SA */
	int16_t ttl;                    /**< outer TTL/hop limit, MESP_COPY or 1..255 */
	int16_t dscp;                   /**< outer DSCP, MESP_COPY or 0..63 */
	uint32_t stats_id;              /**< index into mesp_lcore.sa_ctr */
	const struct mesp_tesla_conf *tesla; /**< TESLA source authentication, NULL = none;
					 *   sending needs has_src (beacons come from the source) */
};

struct mesp_sa;

/**
 * Build a runtime record. Control thread only.
 * @param share optional record whose key material equals conf's (a replace that keeps the
 *   keys): the new record then shares its sequence counters and replay windows, so no IV is
 *   reused and no replay window reopens across the swap. NULL for fresh state.
 * @return 0, -EINVAL (bad parameters), -ENOTSUP (crypto), -ENOMEM.
 */
int mesp_sa_create(const struct mesp_sa_conf *conf, struct mesp_sa *share, struct mesp_sa **out);

/**
 * Free a runtime record (wiping key material). Only after no worker can still hold it, that is
 * after an RCU grace period following its removal from every published table.
 */
void mesp_sa_free(struct mesp_sa *sa);

/**
 * True when conf carries the same suite, keys, sender IDs, SID length, sequence mode and replay
 * window as sa: a replace with such a conf continues sa's sender counters and replay windows.
 */
bool mesp_sa_same_keys(const struct mesp_sa *sa, const struct mesp_sa_conf *conf);

/** Bytes of a key identifier. */
#define MESP_KEYID_LEN 32

/**
 * Key identifier of a configuration: a one-way digest of suite and key material, never the key.
 * Lets the control plane recognise a key it has sent with, so that no IV is used twice under
 * one key (RFC 4106 §3.1, RFC 6054 §3), without keeping a copy of the key.
 */
void mesp_conf_keyid(const struct mesp_sa_conf *conf, uint8_t id[MESP_KEYID_LEN]);

/** Key identifier of a runtime record: mesp_conf_keyid() of the conf it was built from. */
void mesp_sa_keyid(const struct mesp_sa *sa, uint8_t id[MESP_KEYID_LEN]);

/** Read-only facts for the control plane and telemetry (never key material). */
struct mesp_sa_info {
	uint32_t spi;
	uint8_t family, dir, sid_bits;
	bool esn;
	enum mcrypto_suite suite;
	uint32_t replay_window;
	uint32_t stats_id;
	uint16_t nb_sids;
	uint16_t nb_senders;          /**< senders seen inbound (replay windows in use) */
	bool has_tx;                  /**< holds sender counters (sends, or did under this key) */
	uint64_t tx_seq_max;          /**< highest sequence number sent by any of our SIDs */
	uint64_t seq_limit;           /**< last usable sequence number (IV space, ESN) */
};

void mesp_sa_get_info(const struct mesp_sa *sa, struct mesp_sa_info *info);

/**
 * Set the next sequence number of one of our sender IDs (RFC 6054 §5: a device that keeps keys
 * across a restart must resume its counter). Control thread only, before the record is published.
 * @return 0 or -EINVAL.
 */
int mesp_sa_set_tx_seq(struct mesp_sa *sa, uint16_t slot, uint64_t last_sent);

/**
 * Memory a runtime record holds: the record, its crypto session, and its sender counters and
 * replay windows (shared between the records of one key during a key-preserving replace: each
 * sharer is charged its share). Bytes as requested from the allocators, their own overhead
 * excluded.
 */
size_t mesp_sa_mem_size(const struct mesp_sa *sa);

/** Bytes the SA adds to an inner packet of `len` bytes (outer header, ESP, IV, trailer, ICV). */
uint32_t mesp_sa_overhead(const struct mesp_sa *sa, uint32_t len);

/**
 * Outbound: protect plaintext packets. mb[i]'s data starts at the inner IP header (L2 removed)
 * and sa[i] is the SA chosen by policy. On success the data starts at the outer IP header.
 * @param mtu the outgoing port's MTU (largest outer IP packet).
 * @param n at most MESP_MAX_BURST.
 * @return number of good packets, at the front of mb[]; failures follow, already counted.
 */
uint16_t mesp_outb_burst(struct mesp_lcore *lc, struct mesp_sa *const sa[],
		struct rte_mbuf *mb[], uint16_t n, uint16_t mtu);

/**
 * Inbound: verify and decapsulate. mb[i]'s data starts at the outer IP header, whose header
 * length is in mb[i]->l3_len and which the caller has checked for length and found to carry
 * ESP; sa[i] is the SA the lookup found. On success the data starts at the inner IP header.
 * On a TESLA SA a good packet may be taken over by the TESLA store instead (held until its
 * key is disclosed, then handed to mesp_lcore.deliver): such entries are NULL, at the end.
 * @param n at most MESP_MAX_BURST.
 * @return number of good packets, at the front of mb[]; failures follow, already counted;
 *   then NULL for the held ones.
 */
uint16_t mesp_inb_burst(struct mesp_lcore *lc, struct mesp_sa *const sa[],
		struct rte_mbuf *mb[], uint16_t n);

/* ------------------------------------------------------------------ TESLA */

/** True when the SA carries TESLA. */
bool mesp_sa_has_tesla(const struct mesp_sa *sa);

/**
 * How long a TESLA sender must keep sending key beacons after its last data packet, so that
 * receivers get the keys of everything it sent: (d + 1) * T_int in ns; 0 when the SA does not
 * send with TESLA.
 */
uint64_t mesp_tesla_drain_ns(const struct mesp_sa *sa);

/**
 * Control thread, a few times per interval for every TESLA SA it sends on: prepare the key
 * material of the current and the next two intervals for the workers (chain keys, MAC keys,
 * commitments). Generating a new chain (chain_length PRF calls) happens here too, ahead of
 * time. Also run once right after mesp_sa_create(), before publishing.
 * @return 0, or a negative errno (the workers then drop with tesla_no_key).
 */
int mesp_tesla_tick(struct mesp_sa *sa, uint64_t now_ns);

/**
 * Worker with the SA's first sender ID, a few times per interval: the key beacons due now
 * (doc/wire-format.md §7.5), built in mbufs from `mp`, data at the outer IP header.
 * @return how many were written to out (at most 2).
 */
uint16_t mesp_tesla_beacons(struct mesp_lcore *lc, struct mesp_sa *sa, struct rte_mempool *mp,
		struct rte_mbuf *out[2]);

/**
 * Worker, a few times per interval for every TESLA SA it receives on: drop held packets whose
 * key did not come in time (tesla_no_key).
 */
void mesp_tesla_poll(struct mesp_lcore *lc, struct mesp_sa *sa);

/** What the control plane may show of an SA's TESLA state (no key material). */
struct mesp_tesla_info {
	bool sends, receives;
	uint64_t t0_ns, interval_ns;
	uint32_t d, chain_length;
	enum mcrypto_mac mac;
	uint32_t tx_chain;              /**< sender: current chain */
	uint8_t tx_commitment[32];      /**< sender: F(K_0) of the current chain (public) */
	uint16_t nb_senders;
	struct {
		bool synced_cfg;        /**< has a clock bound */
		bool has_key;           /**< some key of this sender verified (any worker) */
		uint32_t newest;        /**< newest verified index (highest over workers) */
	} rx[8];
	uint64_t store_bytes;           /**< memory reserved for held packets */
};

void mesp_tesla_get_info(const struct mesp_sa *sa, struct mesp_tesla_info *info);

#endif /* MESP_H */
