/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * GSAKMP group member engine (RFC 4535, member side, msecgw profile): registration, Key
 * Download checks, Rekey Events with LKH, missed-rekey detection, departure
 * (doc/key-management.md §2-§4; the bytes are doc/gsakmp-profile.md).
 *
 * The engine has no transport and no clock. The caller hands it datagrams (gm_input()) and
 * the time (every `now_ms` is milliseconds since the Unix epoch, UTC: the engine compares it
 * with key expiration dates, signature timestamps and policy token validity), runs its timers
 * (gm_tick()) no later than the deadline gm_tick() returned, and receives what the engine does
 * through struct gm_ops: datagrams to send and data SAs to install, start sending on, and
 * remove (RFC 5374 §4.2.1: install at once, send after ATD, remove after DTD).
 *
 * Everything received is checked before anything changes: a message that is malformed,
 * truncated, forged, replayed, out of the sequence window, for another group or not expected
 * in the group's state is refused, counted under a stable reason name and changes nothing.
 * Group-management messages (Rekey Events) never get a reply.
 *
 * Not thread-safe: one control thread owns an engine. Callbacks must not call back into the
 * engine. Keys are wiped when the engine is done with them and on gm_free(); the key material
 * handed to gm_ops.sa_install is valid during the call only. Nothing is logged.
 */
#ifndef GM_H
#define GM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/x509.h>

#include "gsakmp.h"
#include "gsakmp_crypto.h"

/** Longest group name, NUL included (the policy token's limit). */
#define GM_NAME_MAX 64
/** Most traffic key epochs one group holds at a time (every data SA together). */
#define GM_MAX_EPOCHS 64
/** Most LKH keys on a member's path, root and leaf included. */
#define GM_MAX_PATH GSAKMP_KD_MAX_KEYS
/** How far below the highest accepted Sequence ID a Rekey Event may be (§4.3). */
#define GM_SEQ_WINDOW 1024
/** Request to Join retransmissions before a fresh attempt (RFC 4535 §5.2.1: three). */
#define GM_RTJ_RETRIES 3
/** First retransmission delay, doubled after each retransmission (1 s, 2 s, 4 s). */
#define GM_RTJ_BACKOFF_MS 1000
/** Shortest pause before a fresh attempt (after three retransmissions, or a Nack). */
#define GM_JITTER_MIN_MS 1000
/** The pause is GM_JITTER_MIN_MS plus a random 0..GM_JITTER_SPAN_MS (1-5 s in all). */
#define GM_JITTER_SPAN_MS 4000
/** A Request to Depart is sent again after this long without a Departure Response. */
#define GM_DEPART_RESEND_MS 1000
/** Without a Departure Response the member leaves this long after gm_depart(). */
#define GM_DEPART_TIMEOUT_MS 2000

/** An engine (opaque; gm_new(), gm_free()). */
struct gm;

/** What a member is, once for every group. Pointers are borrowed and must outlive the engine. */
struct gm_conf {
	const struct gsakmp_key *key;      /**< member signing key and certificate */
	const struct gsakmp_trust *ks_trust; /**< anchors for key servers' certificates */
	X509_STORE *go_trust;              /**< anchors for the Group Owner's token signature */
	uint16_t enc_mech;                 /**< KEK protection asked for in the Request to Join:
					    *   GSAKMP_MECH_ENC_AES256_GCM (0 = that) or
					    *   GSAKMP_MECH_ENC_AES256_KWP */
	uint32_t max_skew;                 /**< seconds a signature timestamp may differ from
					    *   now; 0 = POLICY_CLOCK_SKEW (300) */
	uint64_t seed;                     /**< seed of the jitter RNG (tests); 0 = random */
};

/** One group the member may join. */
struct gm_group_conf {
	char name[GM_NAME_MAX];            /**< group name, 1..63 characters */
	uint8_t gid[GSAKMP_GID_RANDOM_LEN]; /**< GroupID random part; GroupID Value =
					     *   gid || name (Octet String) */
	struct sockaddr_storage server;    /**< the key server, where our messages go */
	socklen_t server_len;
	uint16_t sids;                     /**< sender IDs asked for (mechanism 193);
					    *   0 = receive only: the member never sends */
};

/** A group's state (doc/key-management.md §3). */
enum gm_state {
	GM_ST_IDLE = 0,          /**< not joined (initial, after departure) */
	GM_ST_REGISTERING,       /**< Request to Join out; SAs of an earlier registration stay */
	GM_ST_MEMBER,            /**< keys held, following Rekey Events */
	GM_ST_DEPARTING,         /**< Request to Depart out */
	GM_ST_DESTROYED,         /**< the key server destroyed the group (Sequence ID 0xFFFFFFFF) */
};

/** A data SA epoch handed to gm_ops.sa_install. Valid during the call only. */
struct gm_sa {
	const char *group;                 /**< the group's name */
	uint32_t index;                    /**< data SA index in the policy token (Key ID -
					    *   0x80000000) */
	uint32_t epoch;                    /**< Key Handle of the traffic key */
	uint32_t spi;                      /**< attrs->spi */
	const struct gsakmp_sa_attrs *attrs; /**< every attribute, the ones the key server left
					      *   out filled in from the policy token */
	uint16_t key_type;                 /**< enum gsakmp_key_type */
	const uint8_t *key;                /**< key data (wiped after the call: copy it) */
	uint16_t key_len;                  /**< octets of key (the Key Type's length) */
	int64_t expires_ms;                /**< Key Expiration Date, ms since the epoch */
	bool send;                         /**< this member may send on the data SA */
	const uint16_t *sids;              /**< this member's sender IDs */
	uint16_t nb_sids;                  /**< entries of sids (0: none given) */
};

/**
 * What the engine asks of its caller. Every callback gets `arg` as given to gm_new(); send and
 * sa_install may fail with a negative errno (counted: send_failed, install_failed).
 */
struct gm_ops {
	/** Send one datagram. */
	int (*send)(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
			socklen_t tolen);
	/**
	 * Install an epoch for receiving now (and prepare the sender state, not yet sending).
	 * Called again for an installed epoch when a new Key Download changes its attributes
	 * (new sender IDs after a re-registration): replace it then.
	 */
	int (*sa_install)(void *arg, const struct gm_sa *sa);
	/** ATD reached: send on this epoch of the data SA from now on. */
	int (*sa_send)(void *arg, const char *group, uint32_t index, uint32_t epoch);
	/** Remove an epoch (DTD reached, expiry, destruction, departure, replaced by a Key
	 *  Download). */
	int (*sa_remove)(void *arg, const char *group, uint32_t index, uint32_t epoch);
	/** The group's state changed. May be NULL. */
	void (*state)(void *arg, const char *group, enum gm_state st);
};

/**
 * Reasons of refusal the member adds to enum gsakmp_err. gm_input() returns either kind,
 * negated; the values never overlap. Names (gm_strreason()) are the counter names.
 */
enum gm_reason {
	GM_R_BASE = 256,         /**< first value, above every enum gsakmp_err */
	GM_R_WRONG_MEMBER = GM_R_BASE, /**< "wrong_member": Member ID is not our subject */
	GM_R_WRONG_SIGNER,       /**< "wrong_signer": not the key server we registered with */
	GM_R_UNAUTHORIZED_GCKS,  /**< "unauthorized_gcks": the token does not name the signer as
				  *   GC/KS or sub-GC/KS */
	GM_R_TOKEN_UNTRUSTED,    /**< "token_untrusted": not signed by a Group Owner we trust */
	GM_R_TOKEN_STALE,        /**< "token_stale": edition or signing time older than the last
				  *   token accepted */
	GM_R_TOKEN_EXPIRED,      /**< "token_expired": outside its validity period */
	GM_R_TOKEN_GROUP,        /**< "token_group": a token of another group */
	GM_R_TOKEN_INVALID,      /**< "token_invalid": any other token failure */
	GM_R_LKH_ITEMS,          /**< "lkh_items": not exactly one Rekey-LKH item, or a path that
				  *   is not root first, AES-256 KEKs, distinct node numbers */
	GM_R_SA_ITEM,            /**< "sa_item": a traffic key without its data SA item (or the
				  *   reverse), an index the token lacks, a data SA left out */
	GM_R_SA_MISMATCH,        /**< "sa_mismatch": data SA parameters not the token's */
	GM_R_STALE_KEY,          /**< "stale_key": a key expired, or created before the one held */
	GM_R_KEY_MISMATCH,       /**< "key_mismatch": a held Key ID and Handle with other bytes */
	GM_R_NOT_ON_PATH,        /**< "not_on_path": an LKH key for a node off our path */
	GM_R_SEQ_WINDOW,         /**< "seq_window": Sequence ID more than 1024 below the highest */
	GM_R_UNSOLICITED,        /**< "unsolicited": a Cookie Download while not registering */
	GM_R_INSTALL,            /**< "install_failed": gm_ops.sa_install failed */
	GM_R__END                /**< one past the last reason */
};

/** Stable name of a gm_input() result (enum gsakmp_err or enum gm_reason, e or -e). */
const char *gm_strreason(int rc);

/**
 * Create an engine.
 * @param ops copied; send, sa_install, sa_send and sa_remove are required.
 * @return 0, -EINVAL, -ENOMEM, or -EIO (the member certificate cannot be read).
 */
int gm_new(const struct gm_conf *conf, const struct gm_ops *ops, void *arg, struct gm **out);

/** Free an engine, wiping every key it holds; SAs are not removed. NULL is allowed. */
void gm_free(struct gm *gm);

/** Add a group (state idle). @return 0, -EINVAL, -EEXIST (name or GroupID) or -ENOMEM. */
int gm_group_add(struct gm *gm, const struct gm_group_conf *gconf);

/**
 * Start registering (Request to Join now).
 * @return 0, -ENOENT, -EALREADY (registering or member), -EBUSY (departing) or an
 *   allocation/crypto failure (-ENOMEM, -EIO).
 */
int gm_join(struct gm *gm, const char *group, int64_t now_ms);

/**
 * Process one datagram (one GSAKMP message) from `from`.
 * @return 0 when accepted (also when valid but of no use to us, e.g. a rekey for another
 *   subtree), or a negative enum gsakmp_err / enum gm_reason, counted under its name.
 */
int gm_input(struct gm *gm, const uint8_t *buf, size_t len, const struct sockaddr *from,
		socklen_t fromlen, int64_t now_ms);

/**
 * Run the timers due at now_ms: retransmission and fresh attempts, activation (ATD) and
 * deactivation (DTD) of epochs, expiry, missed-rekey checks, departure timeout.
 * @return the next deadline (ms since the epoch), or INT64_MAX when none.
 */
int64_t gm_tick(struct gm *gm, int64_t now_ms);

/**
 * Leave the group: Request to Depart now (RFC 4535 §5.3.2.3); the SAs are removed when the
 * Departure Response arrives, or GM_DEPART_TIMEOUT_MS later. A group still registering for
 * the first time stops at once.
 * @return 0, -ENOENT, -ENOTCONN (idle or destroyed) or -EALREADY (departing).
 */
int gm_depart(struct gm *gm, const char *group, int64_t now_ms);

/**
 * A sub-GC/KS asks its key server to remove a member it serves (RFC 4535 §4.4.7, the proxied
 * Request to Depart; doc/key-management.md §8): a signed Request to Depart whose Leave Group
 * notification carries the member's certificate subject. Our own membership is unchanged; the
 * key server answers with a new epoch in a Rekey Event. Sent once: the caller repeats it until
 * that epoch arrives.
 * @return 0; -ENOENT (no such group); -ENOTCONN (not a member); -EINVAL.
 */
int gm_proxy_depart(struct gm *gm, const char *group, const char *subject, int64_t now_ms);

/** One held epoch, as gm_group_info() shows it (no key material). */
struct gm_epoch_info {
	uint32_t index;          /**< data SA index in the policy token */
	uint32_t epoch;          /**< Key Handle of the traffic key */
	uint32_t spi;            /**< the epoch's SPI */
	int64_t created_ms;      /**< Key Creation Date, ms since the epoch */
	int64_t expires_ms;      /**< Key Expiration Date, ms since the epoch */
	bool send;               /**< the member may send on this data SA */
	bool sending;            /**< sa_send was called for this epoch */
	int64_t send_at_ms;      /**< pending sa_send, 0 = none */
	int64_t remove_at_ms;    /**< pending sa_remove (DTD), 0 = none */
};

/** A group's state, for msecctl and telemetry. */
struct gm_group_info {
	enum gm_state state;     /**< where the group is in its life cycle */
	uint32_t member_id;      /**< LKH leaf, 0 before the first Key Download */
	uint32_t root_handle;    /**< Key Handle of the root (group KEK), 0 = none */
	uint16_t nb_path;        /**< LKH keys held, root and leaf included */
	uint16_t nb_epochs;      /**< entries of epochs[] */
	struct gm_epoch_info epochs[GM_MAX_EPOCHS]; /**< every epoch held, any data SA */
	bool seq_any;            /**< a Rekey Event was accepted since the registration */
	uint32_t seq_highest;    /**< highest Sequence ID accepted */
	int64_t last_heard_ms;   /**< last Key Download or valid Rekey Event, 0 = never */
	int64_t silence_deadline_ms; /**< re-registration if nothing is heard by then;
				      *   INT64_MAX = no rekey policy */
	int64_t next_expiry_ms;  /**< earliest expiry of a data SA's newest epoch, INT64_MAX */
	uint32_t registrations;  /**< Key Downloads accepted */
	uint64_t edition;        /**< the policy token's edition, 0 = none */
	int64_t next_timer_ms;   /**< the group's next deadline, INT64_MAX = none */
};

/** A group's state (its counters: gm_counters()). @return 0, -EINVAL or -ENOENT. */
int gm_group_info(const struct gm *gm, const char *group, struct gm_group_info *info);

/**
 * Visit every counter of a group (refusal reasons: gsakmp_errname() names and gm_strreason()
 * names; events such as "rtj_sent", "rekey_accepted", "missed_silence"), or with group NULL
 * the engine's totals (which include messages no group could be found for). The set of names
 * is fixed; zero counters are visited too. A non-zero return of cb stops the walk and is
 * returned.
 * @return 0, the callback's value, or -ENOENT.
 */
int gm_counters(const struct gm *gm, const char *group,
		int (*cb)(void *arg, const char *name, uint64_t value), void *arg);

/** One counter by name (see gm_counters()); 0 for an unknown name or group. */
uint64_t gm_counter(const struct gm *gm, const char *group, const char *name);

/** Name of a state: "idle", "registering", "member", "departing", "destroyed". */
const char *gm_state_name(enum gm_state st);

#endif /* GM_H */
