/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The GSAKMP key server's protocol engine (GC/KS, RFC 4535; doc/key-management.md).
 *
 * Transport-free and clock-free: the caller feeds each received datagram to gcks_input() with
 * the current time, runs gcks_tick() no later than the deadline it returns, and sends what the
 * engine hands to ops->send. The engine verifies members against the policy token, keeps one
 * LKH tree per group (lib/lkh), generates traffic keys and sender IDs, commits every change
 * to the durable store (gcks_store.h) before the messages that depend on it leave, and
 * rekeys in batches.
 *
 * Not thread-safe: one control thread owns an engine. Keys are never logged; every buffer
 * that held one is wiped.
 */
#ifndef GCKS_H
#define GCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/x509.h>

#include "gcks_store.h"
#include "gsakmp.h"
#include "gsakmp_crypto.h"

#define GCKS_ERR_MAX 256

struct gcks;

/** How Rekey Events reach members (doc/key-management.md §4.4). */
enum gcks_rekey_transport {
	GCKS_RT_MULTICAST = 1,
	GCKS_RT_UNICAST = 2,
	GCKS_RT_BOTH = 3,
};

/** The engine's own identity and trust. Objects are borrowed: they must outlive the engine. */
struct gcks_conf {
	const struct gsakmp_key *key;        /**< signing key and certificate */
	const struct gsakmp_trust *trust;    /**< anchors for members' certificates */
	X509_STORE *go_trust;                /**< anchors for the Group Owner's token signature */
	struct gstore *store;                /**< durable state */
	uint16_t kek_alg;                    /**< enum gsakmp_kek_alg; 0 = AES-256-GCM */
};

/** One group this key server serves. */
struct gcks_group_conf {
	const uint8_t *token;                /**< the Group Owner's signed policy token (DER) */
	size_t token_len;
	uint32_t max_members;                /**< LKH capacity (default 65536) */
	uint32_t batch_ms;                   /**< membership changes wait this long (default 100) */
	uint32_t mtu;                        /**< largest Rekey Event datagram (default 1400) */
	struct sockaddr_storage rekey_addr;  /**< multicast destination; family 0 = none */
	socklen_t rekey_addr_len;
	enum gcks_rekey_transport rekey_transport; /**< 0 = multicast when rekey_addr is set,
						    *   else unicast */
	uint32_t resend_interval_ms;         /**< between copies of a Rekey Event (default 500) */
	uint32_t heartbeat_s;                /**< 0 = a quarter of the token's max silence */
	uint16_t max_sids_per_member;        /**< default 16 */
	uint32_t cookie_pending;             /**< cookies above this many pending (default 64) */
	uint32_t cookie_rate;                /**< or above this many RTJ per second (default 200) */
	uint32_t join_rate_per_source;       /**< RTJ per second per address (default 20) */
	uint32_t max_pending;                /**< registrations in progress (default 4096) */
	/* sub-GC/KS (doc/key-management.md §8): parent.ss_family 0 = this key server creates
	 * the group's traffic keys itself */
	struct sockaddr_storage parent;      /**< the parent key server */
	socklen_t parent_len;
	uint16_t parent_sids;                /**< sender IDs to ask the parent for: the pool
					      *   this sub-GC/KS hands its senders (default 16) */
};

/** What the engine needs from its owner. */
struct gcks_ops {
	/** Send one datagram; failures are counted, not retried beyond the resend schedule. */
	int (*send)(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
			socklen_t tolen);
};

/** Member states (doc/key-management.md §2). */
enum gcks_member_state {
	GCKS_MS_JOINING = 0,     /**< admitted, waiting for the batch that adds it */
	GCKS_MS_PENDING = 1,     /**< Key Download sent, no Ack yet */
	GCKS_MS_ACTIVE = 2,
	GCKS_MS_LEAVING = 3,     /**< departed or Ack missing: leaves in the next batch */
	GCKS_MS_EVICTED = 4,     /**< removed by the operator; refused until readmitted */
};

/** Per-group counters (names: gcks_counter_name()). */
enum gcks_counter {
	GCKS_C_RX,               /**< datagrams received for the group */
	GCKS_C_RTJ,              /**< valid Requests to Join */
	GCKS_C_RTJ_RETRANSMIT,   /**< repeated Requests to Join answered from the cache */
	GCKS_C_KEYDL,            /**< Key Downloads sent */
	GCKS_C_ACK,              /**< valid Acks */
	GCKS_C_NACK,             /**< Nacks received */
	GCKS_C_COOKIE_SENT,      /**< Cookie Downloads sent */
	GCKS_C_DEPART,           /**< valid Requests to Depart */
	GCKS_C_LOA_EVICT,        /**< members removed for a missing Ack */
	GCKS_C_EVICT,            /**< operator evictions */
	GCKS_C_REKEY,            /**< rekeys (batches, scheduled, manual) */
	GCKS_C_REKEY_MSG,        /**< Rekey Event messages sent (heartbeats included; each
				  *   message once, whatever its copies) */
	GCKS_C_TX,               /**< datagrams sent, copies included */
	GCKS_C_TX_FAIL,          /**< send failures */
	/* refusals: each valid-looking input that changed nothing */
	GCKS_C_BAD_MSG,          /**< failed to decode (gsakmp_errname() in the log) */
	GCKS_C_BAD_SIG,          /**< signature or certificate refused */
	GCKS_C_UNAUTHORIZED,     /**< the policy token does not admit the signer */
	GCKS_C_EVICTED,          /**< Request to Join from an evicted member */
	GCKS_C_BAD_COOKIE,       /**< cookie missing, wrong or stale in cookie mode */
	GCKS_C_RATE_LIMITED,     /**< over a join rate or the pending limit */
	GCKS_C_FULL,             /**< no leaf left in the tree */
	GCKS_C_SIDS_EXHAUSTED,   /**< no sender IDs left */
	GCKS_C_UNEXPECTED,       /**< an exchange the member's state does not expect */
	GCKS_C_NOT_READY,        /**< sub-GC/KS: a Request to Join before the parent's keys */
	GCKS_C_PROXY_EVICT,      /**< parent: removals asked for by a sub-GC/KS; sub-GC/KS: such
				  *   requests sent */
	GCKS_C_PARENT_EPOCH,     /**< sub-GC/KS: traffic-key epochs received from the parent */
	GCKS_C_MAX
};

/** Stable name of a counter ("rtj", "bad_sig", ...). */
const char *gcks_counter_name(enum gcks_counter c);

/**
 * Create an engine. @return 0, -EINVAL, -ENOMEM.
 */
int gcks_new(const struct gcks_conf *conf, const struct gcks_ops *ops, void *arg,
		struct gcks **out);

/** Free an engine, wiping every key. NULL is allowed. */
void gcks_free(struct gcks *k);

/**
 * Serve a group: verify its policy token (signed by a Group Owner of go_trust; this key server
 * must be one of its GC/KSs), then load its state from the store, or create it (a new tree,
 * first traffic keys) and store it.
 * @param err what was wrong, e.g. "token: POLICY_E_EXPIRED: ..." or "group: ..."
 * @return 0, -EINVAL (token or configuration), -EEXIST, -EIO (store), -ENOMEM.
 */
int gcks_group_add(struct gcks *k, const struct gcks_group_conf *conf, int64_t now_ms,
		char err[GCKS_ERR_MAX]);

/**
 * Process one received datagram from `from`.
 * @return 0 when it was acted on, or a negative gsakmp_err / errno for a refusal (counted).
 */
int gcks_input(struct gcks *k, const uint8_t *buf, size_t len, const struct sockaddr *from,
		socklen_t fromlen, int64_t now_ms);

/** Run the timers due at now_ms. @return the next deadline (ms), INT64_MAX when none. */
int64_t gcks_tick(struct gcks *k, int64_t now_ms);

/** Evict a member (by certificate subject): it leaves in the next batch and is refused after. */
int gcks_evict(struct gcks *k, const char *group, const char *subject, int64_t now_ms);

/** Readmit an evicted member (it may register again). */
int gcks_readmit(struct gcks *k, const char *group, const char *subject);

/** Start a new epoch of every data SA now (reason "manual"). */
int gcks_rekey(struct gcks *k, const char *group, int64_t now_ms);

/** Destroy a group: Rekey Event with Sequence ID 0xFFFFFFFF, then forget it. */
int gcks_destroy(struct gcks *k, const char *group, int64_t now_ms);

/** A group's public state (no key material). */
struct gcks_group_info {
	char name[GSTORE_NAME_MAX];
	uint8_t gid[8];
	uint32_t members;            /**< in the tree */
	uint32_t pending;            /**< registrations waiting for a batch or an Ack */
	uint32_t capacity;
	uint8_t degree, height;
	uint32_t root_handle;
	uint32_t seq;                /**< last Sequence ID used */
	uint32_t nb_data;
	struct {
		uint32_t epoch, spi;
		int64_t expires;     /**< s */
		int64_t next_rekey_ms;
		uint32_t prev_epoch; /**< retiring epoch, 0 = none */
	} data[16];
	uint32_t sids_free;
	bool sub;                    /**< a sub-GC/KS of this group */
	const char *parent_state;    /**< sub-GC/KS: its membership of the parent (gm states) */
	uint64_t ctr[GCKS_C_MAX];
};

int gcks_group_info(const struct gcks *k, const char *group, struct gcks_group_info *out);

/** Names of the groups served: cb once per group, stops on a non-zero return. */
int gcks_groups(const struct gcks *k, int (*cb)(void *arg, const char *name), void *arg);

/** One member as shown to operators. */
struct gcks_member_info {
	char subject[GSTORE_SUBJECT_MAX];
	uint32_t member_id;
	uint8_t role;                /**< enum policy_role */
	enum gcks_member_state state;
	uint16_t nb_sids;
	uint16_t sids[GSTORE_MAX_SIDS];
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int64_t joined_ms, acked_ms;
};

int gcks_members(const struct gcks *k, const char *group,
		int (*cb)(void *arg, const struct gcks_member_info *m), void *arg);

/** Stable name of a member state. */
const char *gcks_member_state_name(enum gcks_member_state s);

#endif
