/* SPDX-License-Identifier: BSD-3-Clause */
/* Private layout of the group member engine and the helpers its sources share. */
#ifndef GM_PVT_H
#define GM_PVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gm.h"
#include "gsakmp.h"
#include "gsakmp_crypto.h"
#include "policy.h"

/* Longest message the member builds (its certificate is the bulk of it). */
#define GM_MSG_MAX 8192
/* Largest plaintext of a Key Download or Rekey Event Data block (a Payload Length). */
#define GM_PLAIN_MAX 65536
/* Longest RFC 4514 subject we compare. */
#define GM_DN_MAX 1024
/* Longest traffic key (the Key Types of doc/gsakmp-profile.md §8.2 are at most 52 octets). */
#define GM_KEY_MAX 64
/* Most Rekey Event Data blocks in one message. */
#define GM_MAX_BLOCKS 256
/* Longest cookie (doc/gsakmp-profile.md §11). */
#define GM_COOKIE_MAX 64
/* Cookie Downloads followed per attempt: more are ignored, so forged ones cannot stall us. */
#define GM_COOKIES_PER_ATTEMPT 4
/* Words of the sequence bitmap: Sequence IDs top - 0 .. top - GM_SEQ_WINDOW. */
#define GM_SEQ_WORDS ((GM_SEQ_WINDOW + 1 + 63) / 64)
/* First Key ID of the traffic keys (doc/key-management.md §1). */
#define GM_GTPK_ID_BASE 0x80000000u
/* A Nack for a Key Download we could not authenticate goes out at most this often. */
#define GM_NACK_INTERVAL_MS 1000

/* Events counted besides refusals. */
enum gm_ev {
	GM_EV_RTJ_SENT,
	GM_EV_RTJ_RETRANSMIT,
	GM_EV_RTJ_RESTART,
	GM_EV_COOKIE,
	GM_EV_KEYDL,
	GM_EV_ACK_RESENT,
	GM_EV_NACK,
	GM_EV_REKEY,
	GM_EV_HEARTBEAT,
	GM_EV_NOT_HELD,
	GM_EV_NODE,
	GM_EV_EPOCH_INSTALLED,
	GM_EV_EPOCH_ACTIVATED,
	GM_EV_EPOCH_REMOVED,
	GM_EV_EPOCH_EXPIRED,
	GM_EV_TOKEN,
	GM_EV_MISSED_ROOT,
	GM_EV_MISSED_SILENCE,
	GM_EV_MISSED_EXPIRY,
	GM_EV_DESTROYED,
	GM_EV_RTD_SENT,
	GM_EV_DEPARTED,
	GM_EV_DEPART_TIMEOUT,
	GM_EV_DEPART_ERROR,
	GM_EV_RTJ_ERROR,
	GM_EV_LOA,
	GM_EV_SEND_FAILED,
	GM_EV__MAX
};

/* Counter slots: gsakmp errors by value, then gm reasons, then events. */
#define GM_NB_REASONS (GM_R__END - GM_R_BASE)
#define GM_CNT_REASON(r) (GSAKMP_E__MAX + ((r) - GM_R_BASE))
#define GM_CNT_EV(e) (GSAKMP_E__MAX + GM_NB_REASONS + (e))
#define GM_CNT_MAX GM_CNT_EV(GM_EV__MAX)

/* One LKH key of the member's path. */
struct gm_node {
	uint32_t id;
	uint32_t handle;
	int64_t created;                 /* seconds since the epoch */
	int64_t expires;
	uint8_t key[GSAKMP_KEK_LEN];
};

/* One traffic key epoch of a data SA, with what the data plane needs. */
struct gm_epoch {
	uint32_t index;
	uint32_t epoch;
	uint16_t key_type;
	uint16_t key_len;
	uint8_t key[GM_KEY_MAX];
	int64_t created;                 /* seconds since the epoch */
	int64_t expires;
	bool send;                       /* the member may send on it */
	bool installed;
	bool sending;
	bool rereg_done;                 /* the expiry trigger fired for it */
	int64_t send_at;                 /* ms; 0 = no sa_send pending */
	int64_t remove_at;               /* ms; 0 = no sa_remove pending */
	struct gsakmp_sa_attrs attrs;
};

struct gm_group {
	struct gm_group_conf conf;
	uint8_t gid_value[GSAKMP_GID_MAX];
	uint8_t gid_len;
	enum gm_state state;

	/* The registration attempt in flight: kex != NULL. */
	struct gsakmp_kex *kex;
	uint8_t pub[GSAKMP_X25519_LEN];
	uint8_t nonce_i[GSAKMP_NONCE_LEN];
	uint8_t cookie[GM_COOKIE_MAX];
	uint8_t cookie_len;
	uint8_t nb_cookies;
	uint8_t *rtj;
	size_t rtj_len;
	unsigned int tries;
	int64_t reg_at;                  /* retransmission or fresh attempt; 0 = none */
	int64_t last_nack;

	/* What the accepted registration established. */
	X509 *ks_cert;                   /* the key server that signed the Key Download */
	uint8_t ks_dn[GM_DN_MAX];
	size_t ks_dn_len;
	struct policy_token *tok;
	uint8_t tok_hash[32];
	struct policy_state pstate;      /* zero before the first token */
	uint16_t rekey_alg;              /* KEK protection of Rekey Event Data */
	int64_t max_silence_ms;          /* 0 = the token has no rekey policy */
	uint8_t nonce_c[GSAKMP_NONCE_C_LEN];
	uint8_t kd_hash[32];             /* of the Key Download we acknowledged */
	uint8_t *ack;
	size_t ack_len;
	bool have_keys;
	uint32_t member_id;
	uint16_t nb_nodes;
	struct gm_node nodes[GM_MAX_PATH];  /* root first */
	uint16_t nb_epochs;
	struct gm_epoch *ep[GM_MAX_EPOCHS];

	/* Rekey Event Sequence IDs (§4.3): bit i of seq_map = seq_top - i seen. */
	bool seq_any;
	uint32_t seq_top;
	uint64_t seq_map[GM_SEQ_WORDS];
	int64_t last_heard;

	/* Departure. */
	uint8_t dep_nonce[GSAKMP_NONCE_LEN];
	uint8_t *rtd;
	size_t rtd_len;
	int64_t dep_resend_at;
	int64_t dep_deadline;
	uint8_t dr_hash[32];
	uint8_t *da;
	size_t da_len;

	uint32_t registrations;
	uint64_t cnt[GM_CNT_MAX];
};

/* One Rekey Event Data block of the message being processed. */
struct gm_blk {
	struct gsakmp_red red;
	bool done;
};

/*
 * What one message would change, built aside and committed only when the whole message
 * passed (all-or-nothing): new LKH keys, new epochs, and for a Key Download the new path.
 */
struct gm_pending {
	uint32_t member_id;
	uint16_t nb_nodes;
	struct gm_node nodes[GM_MAX_PATH];
	uint16_t nb_epochs;
	struct gm_epoch ep[GM_MAX_EPOCHS];
	uint16_t nb_blk;
	struct gm_blk blk[GM_MAX_BLOCKS];
	struct policy_token *tok;        /* a new token, owned until committed */
	uint8_t tok_hash[32];
};

struct gm {
	struct gm_conf conf;
	struct gm_ops ops;
	void *arg;
	X509 *cert;                      /* ours, parsed from the key's DER */
	uint8_t dn[GM_DN_MAX];           /* our subject, the Member ID we expect */
	size_t dn_len;
	uint64_t rng;
	struct gm_group **groups;
	unsigned int nb_groups;
	unsigned int cap_groups;
	uint64_t cnt[GM_CNT_MAX];

	/* Scratch for the message in hand (one at a time); secrets in it are wiped after use. */
	struct gsakmp_msg msg;
	struct gsakmp_kd kd;
	struct gsakmp_kd pkgs;
	struct gm_pending pend;
	uint8_t out[GM_MSG_MAX];
	uint8_t plain[GM_PLAIN_MAX];
	uint8_t pt[POLICY_TOKEN_MAX];
};

/* gm.c: counting, state, time, sending */
int gm_pvt_refuse(struct gm *gm, struct gm_group *g, int rc);
void gm_pvt_event(struct gm *gm, struct gm_group *g, enum gm_ev ev);
void gm_pvt_set_state(struct gm *gm, struct gm_group *g, enum gm_state st);
int64_t gm_pvt_jitter(struct gm *gm);
void gm_pvt_send(struct gm *gm, struct gm_group *g, const uint8_t *msg, size_t len);
int gm_pvt_proxy_depart(struct gm *gm, struct gm_group *g, const char *subject,
		int64_t now_ms);
int gm_pvt_keep(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len);
int gm_pvt_sha256(const uint8_t *buf, size_t len, uint8_t out[32]);
/* Wipe every key of every group (gm_free() does it before freeing; tests look). */
void gm_pvt_wipe(struct gm *gm);

/* gm_msg.c: building and checking messages */
int gm_pvt_enc_start(struct gm_group *g, uint8_t exch, uint8_t *buf, size_t cap,
		struct gsakmp_enc **enc);
int gm_pvt_enc_sign(struct gm *gm, struct gsakmp_enc *enc, int64_t now_ms, size_t *len);
int gm_pvt_ks_verify(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms);
int gm_pvt_id_is_me(const struct gm *gm, const struct gsakmp_msg *m);
const struct gsakmp_nonce *gm_pvt_nonce(const struct gsakmp_msg *m, uint8_t type);
int gm_pvt_token(struct gm *gm, struct gm_group *g, const uint8_t *der, size_t len,
		int64_t now_ms, struct policy_token **out, uint8_t hash[32]);

/* gm_keys.c: keys, epochs and the data plane */
int gm_pvt_sa_check(const struct gm *gm, const struct policy_token *tok, bool keydl,
		struct gsakmp_sa_attrs *sa, uint32_t *index);
struct gm_node *gm_pvt_node(struct gm_group *g, uint32_t id);
void gm_pvt_epoch_key(struct gm_epoch *e, uint32_t index, const struct gsakmp_key_datum *d);
struct gm_epoch *gm_pvt_epoch(struct gm_group *g, uint32_t index, uint32_t epoch);
struct gm_epoch *gm_pvt_newest(const struct gm_group *g, uint32_t index);
int gm_pvt_install(struct gm *gm, struct gm_group *g, struct gm_epoch *e);
void gm_pvt_activate(struct gm *gm, struct gm_group *g, struct gm_epoch *e);
void gm_pvt_remove(struct gm *gm, struct gm_group *g, unsigned int i);
void gm_pvt_remove_all(struct gm *gm, struct gm_group *g);
int gm_pvt_epoch_add(struct gm_group *g, const struct gm_epoch *src, struct gm_epoch **out);
void gm_pvt_retire_older(struct gm_group *g, uint32_t index, uint32_t epoch, int64_t at);
void gm_pvt_forget_keys(struct gm_group *g);
void gm_pvt_pending_clear(struct gm *gm);
void gm_pvt_epoch_timers(struct gm *gm, struct gm_group *g, int64_t now_ms);
void gm_pvt_set_token(struct gm_group *g, struct policy_token *tok, const uint8_t hash[32]);

/* gm_reg.c: registration */
int gm_pvt_attempt(struct gm *gm, struct gm_group *g, int64_t now_ms);
void gm_pvt_rereg(struct gm *gm, struct gm_group *g, int64_t now_ms, enum gm_ev why);
void gm_pvt_reg_timer(struct gm *gm, struct gm_group *g, int64_t now_ms);
int gm_pvt_cookie(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms);
int gm_pvt_keydl(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		const uint8_t *buf, size_t len, int64_t now_ms);
int gm_pvt_loa(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m, int64_t now_ms);

/* gm_rekey.c: Rekey Events */
int gm_pvt_rekey(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms);
void gm_pvt_missed_check(struct gm *gm, struct gm_group *g, int64_t now_ms);
int64_t gm_pvt_missed_deadline(const struct gm_group *g);

/* gm_depart.c: departure */
int gm_pvt_depart(struct gm *gm, struct gm_group *g, int64_t now_ms);
int gm_pvt_dr(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		const uint8_t *buf, size_t len, int64_t now_ms);
void gm_pvt_depart_timer(struct gm *gm, struct gm_group *g, int64_t now_ms);
void gm_pvt_leave(struct gm *gm, struct gm_group *g, enum gm_state st);

#endif /* GM_PVT_H */
