/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rekey Events (RFC 4535 §5.3.1; doc/key-management.md §4): the Sequence ID window, the key
 * server's signature, the Rekey Event Data blocks we hold a key for (LKH node keys on our
 * path, new traffic key epochs), a new policy token, group destruction, and the missed-rekey
 * triggers of §3 item 5.
 *
 * All-or-nothing: what a message teaches is staged in gm->pend and committed only when the
 * whole message passed; a message refused for any reason changes nothing, not even the
 * Sequence ID window.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "gm_pvt.h"

/* ------------------------------------------------------------------ Sequence IDs (§4.3) */

/*
 * Like ESP anti-replay (RFC 4303 §3.4.3): accept a Sequence ID above the highest, or at most
 * GM_SEQ_WINDOW below it and not seen; the messages of one split rekey arrive in any order.
 */
static int seq_check(const struct gm_group *g, uint32_t seq)
{
	uint32_t d;

	if (!g->seq_any || seq > g->seq_top)
		return 0;
	d = g->seq_top - seq;
	if (d > GM_SEQ_WINDOW)
		return -GM_R_SEQ_WINDOW;
	if (g->seq_map[d / 64] & (UINT64_C(1) << (d % 64)))
		return -GSAKMP_E_REPLAY;
	return 0;
}

static void seq_record(struct gm_group *g, uint32_t seq)
{
	uint32_t s, ws, bs, d;

	if (!g->seq_any) {
		memset(g->seq_map, 0, sizeof(g->seq_map));
		g->seq_any = true;
		g->seq_top = seq;
	} else if (seq > g->seq_top) {
		/* bit i (seq_top - i) becomes bit i + s */
		s = seq - g->seq_top;
		if (s > GM_SEQ_WINDOW) {
			memset(g->seq_map, 0, sizeof(g->seq_map));
		} else {
			ws = s / 64;
			bs = s % 64;
			for (unsigned int w = GM_SEQ_WORDS; w-- > 0;) {
				uint64_t v = 0;

				if (w >= ws)
					v = g->seq_map[w - ws] << bs;
				if (bs != 0 && w >= ws + 1)
					v |= g->seq_map[w - ws - 1] >> (64 - bs);
				g->seq_map[w] = v;
			}
		}
		g->seq_top = seq;
	}
	d = g->seq_top - seq;
	g->seq_map[d / 64] |= UINT64_C(1) << (d % 64);
}

/* ------------------------------------------------------------------ staged keys */

static struct gm_node *pend_node(struct gm_pending *p, uint32_t id)
{
	for (unsigned int i = 0; i < p->nb_nodes; i++)
		if (p->nodes[i].id == id)
			return &p->nodes[i];
	return NULL;
}

static struct gm_epoch *pend_epoch(struct gm_pending *p, uint32_t index, uint32_t epoch)
{
	for (unsigned int i = 0; i < p->nb_epochs; i++)
		if (p->ep[i].index == index && p->ep[i].epoch == epoch)
			return &p->ep[i];
	return NULL;
}

/*
 * The key a block is wrapped under, if we hold it: an LKH node key (held, or learned from an
 * earlier block of this message), or a traffic key (doc/gsakmp-profile.md §7.3).
 */
static bool wrap_key(struct gm_group *g, struct gm_pending *p, uint32_t id, uint32_t handle,
		struct gsakmp_key_datum *d)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->handle = handle;
	if (id < GM_GTPK_ID_BASE) {
		struct gm_node *n = pend_node(p, id);

		if (n == NULL || n->handle != handle)
			n = gm_pvt_node(g, id);
		if (n == NULL || n->handle != handle)
			return false;
		d->type = GSAKMP_KEY_AES_256_KEK;
		d->key = n->key;
		d->key_len = GSAKMP_KEK_LEN;
	} else {
		struct gm_epoch *e = pend_epoch(p, id - GM_GTPK_ID_BASE, handle);

		if (e == NULL)
			e = gm_pvt_epoch(g, id - GM_GTPK_ID_BASE, handle);
		if (e == NULL)
			return false;
		d->type = e->key_type;
		d->key = e->key;
		d->key_len = e->key_len;
	}
	return true;
}

/* Handle of the newest key of node id we hold or learned, 0 when it is not on our path. */
static uint32_t held_handle(struct gm_group *g, struct gm_pending *p, uint32_t id)
{
	struct gm_node *n = gm_pvt_node(g, id), *q = pend_node(p, id);

	if (n == NULL)
		return 0;
	return q != NULL && q->handle > n->handle ? q->handle : n->handle;
}

/* Key Package type 1: a new key for a node of our path, with a greater handle. */
static int pkg_node(struct gm_group *g, struct gm_pending *p, const struct gsakmp_key_datum *d,
		int64_t now_ms, bool *learned)
{
	struct gm_node *n = gm_pvt_node(g, d->id), *q = pend_node(p, d->id);
	const struct gm_node *cur;

	if (d->type != GSAKMP_KEY_AES_256_KEK || d->key_len != GSAKMP_KEK_LEN)
		return -GM_R_LKH_ITEMS;
	if (n == NULL)
		return -GM_R_NOT_ON_PATH;
	cur = q != NULL ? q : n;
	if (d->handle < cur->handle)
		return 0;                /* an older key (a late message): nothing to learn */
	if (d->handle == cur->handle)
		return CRYPTO_memcmp(d->key, cur->key, GSAKMP_KEK_LEN) == 0 ? 0 :
			-GM_R_KEY_MISMATCH;
	if (d->expires * 1000 <= now_ms)
		return -GM_R_STALE_KEY;
	if (q == NULL) {
		if (p->nb_nodes == GM_MAX_PATH)
			return -GSAKMP_E_LIMIT;
		q = &p->nodes[p->nb_nodes++];
		q->id = d->id;
	}
	q->handle = d->handle;
	q->created = d->created;
	q->expires = d->expires;
	memcpy(q->key, d->key, GSAKMP_KEK_LEN);
	*learned = true;
	return 0;
}

/*
 * A GTPK package and its data SA package: a new epoch when its handle is above every held
 * epoch of that data SA, it has not expired and it is not older than the newest held; a key
 * we hold already must be the same (a heartbeat, §4.4); an older one is ignored.
 */
static int pkg_epoch(struct gm_group *g, struct gm_pending *p, const struct gsakmp_key_datum *d,
		const struct gsakmp_sa_attrs *sa, int64_t now_ms, bool *learned)
{
	uint32_t index = d->id - GM_GTPK_ID_BASE;
	struct gm_epoch *e = pend_epoch(p, index, d->handle), *n;

	if (e == NULL)
		e = gm_pvt_epoch(g, index, d->handle);
	if (e != NULL)
		return e->key_len == d->key_len && e->attrs.spi == sa->spi &&
			CRYPTO_memcmp(e->key, d->key, d->key_len) == 0 ? 0 : -GM_R_KEY_MISMATCH;
	n = gm_pvt_newest(g, index);
	if (n != NULL && d->handle <= n->epoch)
		return 0;
	if (d->expires * 1000 <= now_ms || (n != NULL && d->created < n->created))
		return -GM_R_STALE_KEY;
	if (p->nb_epochs == GM_MAX_EPOCHS || d->key_len > GM_KEY_MAX)
		return -GSAKMP_E_LIMIT;
	e = &p->ep[p->nb_epochs++];
	memset(e, 0, sizeof(*e));
	gm_pvt_epoch_key(e, index, d);
	memcpy(&e->attrs, sa, sizeof(*sa));
	*learned = true;
	return 0;
}

/* How many packages of `type` name Key ID id, handle h (a traffic key and its data SA). */
static unsigned int pairs(const struct gsakmp_kd *pk, uint8_t type, uint32_t id, uint32_t h,
		const struct gsakmp_sa_attrs **sa)
{
	unsigned int n = 0;

	for (unsigned int j = 0; j < pk->nb_items; j++) {
		const struct gsakmp_kd_item *o = &pk->items[j];

		if (o->type != type)
			continue;
		if (type == GSAKMP_KDD_DATA_SA && o->u.sa.key_id == id && o->u.sa.key_handle == h) {
			*sa = &o->u.sa;
			n++;
		} else if (type == GSAKMP_KDD_GTPK && o->u.datum.id == id &&
				o->u.datum.handle == h) {
			n++;
		}
	}
	return n;
}

/* The Key Packages of one block. Traffic keys and data SA packages come in pairs. */
static int apply_pkgs(struct gm_group *g, struct gm_pending *p, const struct gsakmp_kd *pk,
		int64_t now_ms, bool *learned)
{
	int rc = 0;

	for (unsigned int i = 0; i < pk->nb_items && rc == 0; i++) {
		const struct gsakmp_kd_item *it = &pk->items[i];
		const struct gsakmp_sa_attrs *sa = NULL;

		switch (it->type) {
		case GSAKMP_KDD_REKEY_LKH:
			rc = pkg_node(g, p, &it->u.datum, now_ms, learned);
			break;
		case GSAKMP_KDD_GTPK:
			if (it->u.datum.id < GM_GTPK_ID_BASE || pairs(pk, GSAKMP_KDD_DATA_SA,
					it->u.datum.id, it->u.datum.handle, &sa) != 1)
				rc = -GM_R_SA_ITEM;
			else
				rc = pkg_epoch(g, p, &it->u.datum, sa, now_ms, learned);
			break;
		case GSAKMP_KDD_DATA_SA:
			if (pairs(pk, GSAKMP_KDD_GTPK, it->u.sa.key_id, it->u.sa.key_handle,
					&sa) != 1)
				rc = -GM_R_SA_ITEM;
			break;
		default:
			rc = -GSAKMP_E_ITEM_TYPE;
			break;
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ a Rekey Event */

/*
 * Neither document fixes which KEK protection a Rekey Event uses (a multicast message cannot
 * follow each member's Mechanism Choices). The token's LKH key_wrap is tried first, then the
 * other profile mechanism: both authenticate under the same KEK inside a message whose
 * signature has verified, so accepting either opens nothing an attacker could forge.
 */
static uint16_t other_alg(uint16_t alg)
{
	return alg == GSAKMP_KEK_AES256_GCM ? GSAKMP_KEK_AES256_KWP : GSAKMP_KEK_AES256_GCM;
}

static int red_open(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		const struct gsakmp_red *red, const uint8_t kek[GSAKMP_KEK_LEN])
{
	int rc = gsakmp_red_open(m, red, g->rekey_alg, kek, gm->plain, sizeof(gm->plain),
			&gm->pkgs);

	if (rc == -GSAKMP_E_DECRYPT)
		rc = gsakmp_red_open(m, red, other_alg(g->rekey_alg), kek, gm->plain,
				sizeof(gm->plain), &gm->pkgs);
	return rc;
}

struct outcome {
	unsigned int opened;     /* blocks opened */
	bool learned;            /* new node keys or epochs */
	bool missed;             /* a block under a newer key of our path: we missed a rekey */
};

/*
 * Open every block we hold the wrapping key for, in passes until a pass learns nothing
 * (children come before parents, but a key learned late opens blocks seen early too).
 */
static int apply_blocks(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms, struct outcome *o)
{
	struct gm_pending *p = &gm->pend;
	struct gsakmp_key_datum wk;
	uint8_t kek[GSAKMP_KEK_LEN];
	bool progress;
	int rc;

	for (uint16_t i = 0; i < m->nb_payloads; i++) {
		struct gsakmp_red_iter it;
		struct gsakmp_red red;

		if (m->pl[i].type != GSAKMP_PL_REKEY_EVENT)
			continue;
		gsakmp_red_iter_init(&it, &m->pl[i].u.rekey);
		while (gsakmp_red_next(&it, &red)) {
			if (p->nb_blk == GM_MAX_BLOCKS)
				return -GSAKMP_E_LIMIT;
			p->blk[p->nb_blk].red = red;
			p->blk[p->nb_blk++].done = false;
		}
	}
	do {
		progress = false;
		for (unsigned int i = 0; i < p->nb_blk; i++) {
			struct gm_blk *b = &p->blk[i];
			bool learned = false;

			if (b->done || !wrap_key(g, p, b->red.wrap_id, b->red.wrap_handle, &wk))
				continue;
			rc = gsakmp_key_kek(&wk, kek);
			if (rc == 0)
				rc = red_open(gm, g, m, &b->red, kek);
			OPENSSL_cleanse(kek, sizeof(kek));
			if (rc == 0)
				rc = apply_pkgs(g, p, &gm->pkgs, now_ms, &learned);
			OPENSSL_cleanse(gm->plain, b->red.len);
			OPENSSL_cleanse(&gm->pkgs, sizeof(gm->pkgs));
			if (rc != 0)
				return rc;
			b->done = true;
			o->opened++;
			o->learned |= learned;
			progress |= learned;
		}
	} while (progress);
	for (unsigned int i = 0; i < p->nb_blk; i++) {
		const struct gm_blk *b = &p->blk[i];
		uint32_t h;

		if (b->done || b->red.wrap_id >= GM_GTPK_ID_BASE)
			continue;
		h = held_handle(g, p, b->red.wrap_id);
		if (h != 0 && b->red.wrap_handle > h)
			o->missed = true;
	}
	return 0;
}

/*
 * A new policy token (RFC 4535 §5.3.1.1), processed after the rest of the message: sealed
 * under the old root key (this profile's "old GTPK", doc/key-management.md §4.2), verified
 * against the last token, still authorizing our key server. The token we hold is ignored.
 */
static int apply_token(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms)
{
	const struct gsakmp_payload *pt = gsakmp_msg_find(m, GSAKMP_PL_POLICY_TOKEN, 0);
	struct gm_pending *p = &gm->pend;
	const struct gm_node *r = gm_pvt_node(g, 1);
	struct gsakmp_key_datum root = { .type = GSAKMP_KEY_AES_256_KEK, .id = 1 };
	uint8_t kek[GSAKMP_KEK_LEN];
	size_t len = 0;
	int rc;

	if (pt == NULL)
		return 0;
	if (pt->u.pt.type != GSAKMP_PT_ASN1_V1)
		return -GSAKMP_E_PT_TYPE;
	if (r == NULL)
		return -GSAKMP_E_DECRYPT;
	root.handle = r->handle;
	root.key = r->key;
	root.key_len = GSAKMP_KEK_LEN;
	rc = gsakmp_key_kek(&root, kek);
	if (rc == 0)
		rc = gsakmp_pt_open(m, &pt->u.pt, g->rekey_alg, kek, gm->pt, sizeof(gm->pt), &len);
	if (rc == -GSAKMP_E_DECRYPT)
		rc = gsakmp_pt_open(m, &pt->u.pt, other_alg(g->rekey_alg), kek, gm->pt,
				sizeof(gm->pt), &len);
	OPENSSL_cleanse(kek, sizeof(kek));
	if (rc == 0)
		rc = gm_pvt_token(gm, g, gm->pt, len, now_ms, &p->tok, p->tok_hash);
	if (rc != 0)
		return rc;
	if (memcmp(p->tok_hash, g->tok_hash, sizeof(p->tok_hash)) == 0) {
		policy_token_free(p->tok);
		p->tok = NULL;
		return 0;
	}
	if (policy_authorize(p->tok, POLICY_ROLE_GCKS, g->ks_cert) != 0 &&
			policy_authorize(p->tok, POLICY_ROLE_SUBGCKS, g->ks_cert) != 0)
		return -GM_R_UNAUTHORIZED_GCKS;
	return 0;
}

/*
 * New epochs against the token (the new one if the message brought one). They inherit the
 * member's direction and SIDs from the newest held epoch of their data SA (RFC 6054 §4); a
 * data SA we hold nothing of yet is received only.
 */
static int check_epochs(struct gm *gm, struct gm_group *g)
{
	struct gm_pending *p = &gm->pend;
	const struct policy_token *tok = p->tok != NULL ? p->tok : g->tok;
	uint32_t index;
	int rc;

	for (unsigned int i = 0; i < p->nb_epochs; i++) {
		struct gm_epoch *e = &p->ep[i];
		const struct gm_epoch *h = gm_pvt_newest(g, e->index);

		rc = gm_pvt_sa_check(gm, tok, false, &e->attrs, &index);
		if (rc != 0)
			return rc;
		if (index != e->index)
			return -GM_R_SA_ITEM;
		if (e->key_type != gsakmp_suite_key_type(e->attrs.suite))
			return -GM_R_SA_MISMATCH;
		e->send = h != NULL && h->send;
		e->attrs.flags |= GSAKMP_SAF_RECEIVE | (e->send ? GSAKMP_SAF_SEND : 0);
		if (h != NULL && (h->attrs.present & (1u << GSAKMP_ATTR_SIDS))) {
			e->attrs.nb_sids = h->attrs.nb_sids;
			memcpy(e->attrs.sids, h->attrs.sids, sizeof(e->attrs.sids));
			e->attrs.present |= 1u << GSAKMP_ATTR_SIDS;
		}
	}
	return g->nb_epochs + p->nb_epochs > GM_MAX_EPOCHS ? -GSAKMP_E_LIMIT : 0;
}

/* Commit what the message taught: node keys, token, epochs (install now, send ATD later,
 * predecessors removed DTD later). */
static void commit(struct gm *gm, struct gm_group *g, int64_t now_ms, bool *install_failed)
{
	struct gm_pending *p = &gm->pend;

	for (unsigned int i = 0; i < p->nb_nodes; i++) {
		struct gm_node *n = gm_pvt_node(g, p->nodes[i].id);

		*n = p->nodes[i];
		gm_pvt_event(gm, g, GM_EV_NODE);
	}
	if (p->tok != NULL) {
		gm_pvt_set_token(g, p->tok, p->tok_hash);
		p->tok = NULL;
		gm_pvt_event(gm, g, GM_EV_TOKEN);
	}
	for (unsigned int i = 0; i < p->nb_epochs; i++) {
		struct gm_epoch *e;

		if (gm_pvt_epoch_add(g, &p->ep[i], &e) != 0 || gm_pvt_install(gm, g, e) != 0) {
			gm_pvt_refuse(gm, g, -GM_R_INSTALL);
			*install_failed = true;
		}
	}
	for (unsigned int i = 0; i < p->nb_epochs; i++) {
		struct gm_epoch *e = gm_pvt_epoch(g, p->ep[i].index, p->ep[i].epoch);

		if (e == NULL || gm_pvt_newest(g, e->index) != e)
			continue;
		gm_pvt_retire_older(g, e->index, e->epoch, now_ms + e->attrs.deact_delay_ms);
		if (e->send && e->installed)
			e->send_at = now_ms + e->attrs.act_delay_ms;
	}
}

static void destroy(struct gm *gm, struct gm_group *g)
{
	gm_pvt_event(gm, g, GM_EV_DESTROYED);
	gm_pvt_leave(gm, g, GM_ST_DESTROYED);
}

int gm_pvt_rekey(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms)
{
	struct outcome o = { 0 };
	bool install_failed = false, new_tok;
	uint32_t seq = m->hdr.seq;
	unsigned int nb_blk;
	int rc;

	if (!g->have_keys)
		return -GSAKMP_E_UNEXPECTED_EXCH;
	if (seq != GSAKMP_SEQ_DESTROY) {
		rc = seq_check(g, seq);
		if (rc != 0)
			return rc;
	}
	rc = gm_pvt_ks_verify(gm, g, m, now_ms);
	if (rc != 0)
		return rc;
	/* RFC 4535 §5.3.1.3: Sequence ID 0xFFFFFFFF, once signed, ends the group */
	if (seq == GSAKMP_SEQ_DESTROY) {
		destroy(gm, g);
		return 0;
	}
	rc = apply_blocks(gm, g, m, now_ms, &o);
	if (rc == 0)
		rc = apply_token(gm, g, m, now_ms);
	if (rc == 0)
		rc = check_epochs(gm, g);
	if (rc != 0) {
		gm_pvt_pending_clear(gm);
		return rc;
	}
	nb_blk = gm->pend.nb_blk;
	new_tok = gm->pend.tok != NULL;
	commit(gm, g, now_ms, &install_failed);
	gm_pvt_pending_clear(gm);
	seq_record(g, seq);
	/* a key server that reaches us: anything we could open, or a message without blocks */
	if (o.opened != 0 || nb_blk == 0)
		g->last_heard = now_ms;
	if (o.learned || new_tok)
		gm_pvt_event(gm, g, GM_EV_REKEY);
	else if (o.opened != 0 || nb_blk == 0)
		gm_pvt_event(gm, g, GM_EV_HEARTBEAT);
	else if (!o.missed)
		gm_pvt_event(gm, g, GM_EV_NOT_HELD);
	gm_pvt_epoch_timers(gm, g, now_ms);
	/* an epoch the data plane refused is asked for again with the whole Key Download */
	if (o.missed && g->state == GM_ST_MEMBER)
		gm_pvt_rereg(gm, g, now_ms, GM_EV_MISSED_ROOT);
	else if (install_failed && g->state == GM_ST_MEMBER)
		gm_pvt_rereg(gm, g, now_ms, GM_EV__MAX);
	return 0;
}

/* ------------------------------------------------------------------ missed rekeys (§3) */

/* When the member must have heard from the key server, or its newest keys run out. */
int64_t gm_pvt_missed_deadline(const struct gm_group *g)
{
	int64_t t = INT64_MAX;

	if (!g->have_keys)
		return t;
	if (g->max_silence_ms != 0)
		t = g->last_heard + g->max_silence_ms;
	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		const struct gm_epoch *e = g->ep[i];
		int64_t at;

		if (gm_pvt_newest(g, e->index) != e || e->rereg_done)
			continue;
		at = e->expires * 1000 - 2 * (int64_t)e->attrs.act_delay_ms;
		if (at < t)
			t = at;
	}
	return t;
}

/*
 * Silence longer than the token's max_silence_seconds, or a data SA's newest key within
 * 2 x ATD of its expiry with no successor (doc/key-management.md §3 item 5): register again.
 * The expiry trigger fires once per epoch, so a key server that has not rolled the key yet
 * is not asked again and again.
 */
void gm_pvt_missed_check(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	if (!g->have_keys || g->state != GM_ST_MEMBER)
		return;
	if (g->max_silence_ms != 0 && now_ms >= g->last_heard + g->max_silence_ms) {
		gm_pvt_rereg(gm, g, now_ms, GM_EV_MISSED_SILENCE);
		return;
	}
	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		struct gm_epoch *e = g->ep[i];

		if (gm_pvt_newest(g, e->index) != e || e->rereg_done ||
				now_ms < e->expires * 1000 - 2 * (int64_t)e->attrs.act_delay_ms)
			continue;
		e->rereg_done = true;
		gm_pvt_rereg(gm, g, now_ms, GM_EV_MISSED_EXPIRY);
		return;
	}
}
