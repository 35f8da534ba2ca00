/* SPDX-License-Identifier: BSD-3-Clause */
/* The key server engine's private state (gcks.h). */
#ifndef GCKS_PVT_H
#define GCKS_PVT_H

#include <stdint.h>

#include "gcks.h"
#include "gm.h"
#include "lkh.h"
#include "policy.h"

#define GCKS_TEK_BASE 0x80000000u      /* Key ID of data SA i's traffic key: base + i */
#define GCKS_MAX_DATA POLICY_MAX_DATA
#define GCKS_MSG_MAX 65535             /* largest datagram the engine builds */
#define GCKS_SIG_SKEW 300              /* signature timestamp skew (RFC 4535 §3.1 item 4) */
#define GCKS_COOKIE_ROTATE_MS 30000
#define GCKS_SRC_SLOTS 256             /* per-source rate table */
#define GCKS_HISTORY_REASON "batch"
#define GCKS_PROXY_RESEND_MS 1000

/* One registration exchange in progress; memory only (a member whose Key Download was lost in
 * a crash simply asks again). */
struct reg_ctx {
	uint8_t nonce_i[GSAKMP_NONCE_MAX];
	uint16_t nonce_i_len;
	uint8_t nonce_r[GSAKMP_NONCE_LEN];
	uint8_t nonce_c[GSAKMP_NONCE_C_LEN];
	uint8_t pub_gm[GSAKMP_X25519_LEN];
	uint8_t pub_ks[GSAKMP_X25519_LEN];
	uint8_t kek[GSAKMP_KEK_LEN];
	uint16_t kek_alg;
	X509 *cert;                  /* the member's verified certificate */
	uint8_t *keydl;              /* the Key Download sent, for repeated Requests to Join */
	size_t keydl_len;
	int64_t deadline;            /* Ack due */
	uint8_t loa;                 /* Lacks of Ack sent */
};

struct member {
	struct gstore_member s;
	struct reg_ctx *reg;
	struct member *hnext;
	uint16_t sids_wanted;
	bool staged;                 /* a change to it waits for the next batch */
	X509 *cert;                  /* verifies its Acks and Requests to Depart */
	/* departure exchange */
	uint8_t dep_nonce_r[GSAKMP_NONCE_LEN];
	uint8_t dep_nonce_c[GSAKMP_NONCE_C_LEN];
	bool departing;
	uint32_t proxy_gen;          /* a sub-GC/KS's removal of it is answered by this epoch
				      * generation (memory only) */
};

struct tek {
	struct gstore_tek s;
	bool live;
};

struct data_sa {
	struct policy_data_sa p;
	struct tek cur;
	struct tek prev;             /* the superseded epoch until its retire time */
	int64_t next_rekey_ms;
};

struct txq {
	struct txq *next;
	int64_t at;
	uint32_t left;               /* copies still to send */
	uint32_t len;
	struct sockaddr_storage to;
	socklen_t tolen;
	uint8_t msg[];
};

struct src_rate {
	uint8_t addr[16];
	uint8_t family;
	uint32_t count;
	int64_t window;              /* start of the one-second window */
};

struct sid_slot {
	struct member *owner;
	uint32_t free_gen;           /* free for reuse once the oldest live epoch generation is
				      * at least this */
};

struct group {
	struct group *next;
	struct gcks *k;
	struct gcks_group_conf conf;
	char name[GSTORE_NAME_MAX];
	uint8_t gid[8];
	uint8_t gidv[GSAKMP_GID_MAX];  /* GroupID Value: gid || name */
	uint8_t gidv_len;
	uint8_t *tok_der;
	size_t tok_len;
	struct policy_token *tok;
	struct policy_registration reg;
	struct policy_rekey rk;
	uint16_t rekey_alg;           /* Rekey Event Data protection: the token's key_wrap */
	uint32_t nb_data;
	struct data_sa data[GCKS_MAX_DATA];
	uint32_t gen;                /* epoch generation: +1 at each new epoch of every SA */
	struct lkh_tree *tree;
	uint32_t root_handle;         /* the group KEK's handle (0 = no member yet) */
	struct member **hash;
	uint32_t hash_mask;
	uint32_t nb_records;
	uint32_t nb_pending;
	uint32_t seq;                /* last Sequence ID used */
	uint32_t seq_hwm;            /* reserved in the store */
	/* the batch being gathered */
	uint32_t joins, leaves, evictions;
	uint32_t changes;            /* since the last new epoch */
	bool force_epoch;
	const char *reason;
	int64_t batch_due;           /* 0 = nothing staged */
	int64_t next_heartbeat;
	struct txq *txq;
	uint32_t sid_space;          /* 1 << sid_bits of data SA 0 */
	struct sid_slot *sids;
	struct gsakmp_cookie_ctx *cookie;
	int64_t cookie_rotated;
	uint32_t rtj_second;         /* Requests to Join in the current second */
	int64_t rtj_window;
	struct src_rate src[GCKS_SRC_SLOTS];
	/* sub-GC/KS (doc/key-management.md §8) */
	bool sub;
	enum gm_state parent_state;
	uint16_t pool_n;             /* SIDs the parent gave us to hand out */
	uint16_t pool[GSTORE_MAX_SIDS];
	char proxy[GSTORE_SUBJECT_MAX]; /* a removal the parent has not answered yet, or "" */
	uint32_t proxy_epoch;        /* data SA 0's epoch when it was asked for */
	int64_t proxy_next;
	uint64_t ctr[GCKS_C_MAX];
};

struct gcks {
	struct gcks_conf conf;
	struct gcks_ops ops;
	void *arg;
	struct group *groups;
	uint8_t id[GSTORE_SUBJECT_MAX]; /* our ID_DN_STRING */
	size_t id_len;
	struct gm *gm;               /* member of parent key servers (sub-GC/KS groups), or NULL */
	int64_t now;                 /* time of the gcks_input() or gcks_tick() being run */
};

/*
 * Every member record of g, in table order. The next record is taken before the body runs, so
 * the body may unlink and free m (gcks_member_drop()); it must not add members.
 */
#define GCKS_FOREACH_MEMBER(g, m) \
	for (uint32_t m##_b = 0; m##_b <= (g)->hash_mask; m##_b++) \
		for (struct member *m = (g)->hash[m##_b], *m##_nx = m != NULL ? m->hnext : NULL; \
				m != NULL; m = m##_nx, m##_nx = m != NULL ? m->hnext : NULL)

/* gcks.c */
struct group *gcks_group_find(const struct gcks *k, const char *name);
struct group *gcks_group_by_gid(const struct gcks *k, const uint8_t *gidv, uint8_t len);
struct member *gcks_member_find(const struct group *g, const char *subject);
int gcks_member_add(struct group *g, struct member *m);
void gcks_member_drop(struct group *g, struct member *m);
void gcks_reg_free(struct reg_ctx *r);
void gcks_send(struct group *g, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen, uint32_t copies, int64_t now);
int gcks_store_member(struct group *g, const struct member *m);
int gcks_sid_alloc(struct group *g, struct member *m, uint16_t n);
void gcks_sid_release(struct group *g, struct member *m);
struct gsakmp_enc *gcks_msg_start(const struct group *g, uint8_t exch, uint32_t seq,
		uint8_t *buf, size_t cap);
int gcks_msg_sign_finish(struct gcks *k, struct gsakmp_enc *e, int64_t now_ms, size_t *len);
void gcks_datum_tek(const struct group *g, const struct tek *t, struct gsakmp_key_datum *d);
void gcks_sa_attrs(const struct group *g, uint32_t i, const struct tek *t,
		const struct member *m, struct gsakmp_sa_attrs *a);

/* reg.c */
int gcks_reg_input(struct gcks *k, struct group *g, const struct gsakmp_msg *msg,
		const struct sockaddr *from, socklen_t fromlen, int64_t now);
int gcks_reg_send_keydl(struct group *g, struct member *m, int64_t now);
void gcks_reg_tick(struct group *g, int64_t now, int64_t *next);

/* rekey.c */
int gcks_epoch_install(struct group *g, uint32_t i, struct tek *t, int64_t now);
void gcks_stage(struct group *g, int64_t now);
int gcks_new_epoch(struct group *g, uint32_t i, int64_t now);
int gcks_batch(struct group *g, int64_t now);
int gcks_heartbeat(struct group *g, int64_t now);
void gcks_rekey_tick(struct group *g, int64_t now, int64_t *next);
int gcks_send_destroy(struct group *g, int64_t now);

#endif
