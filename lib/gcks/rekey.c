/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rekeying on the key server (doc/key-management.md §4): batches of membership changes (LKH
 * commit), new epochs of the traffic keys, Rekey Event messages split so that each member
 * needs one, their copies, heartbeats, scheduled rekeys and group destruction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gcks_pvt.h"

#define WRAP_BLOCK_MAX 128          /* octets of one LKH wrap block on the wire, at most */
#define TEN_YEARS (10 * 365 * 86400LL)

/* A Rekey Event message built in memory, sent once the batch is durable. */
struct out_msg {
	struct out_msg *next;
	uint32_t first_member, last_member;   /* the members it serves (0, 0: all) */
	size_t len;
	uint8_t buf[];
};

void gcks_stage(struct group *g, int64_t now)
{
	if (g->batch_due == 0)
		g->batch_due = now + g->conf.batch_ms;
}

static uint32_t copies(const struct group *g)
{
	return 1 + (g->rk.reliability == POLICY_REL_RESEND ? g->rk.resend_count : 0);
}

/* A fresh SPI: random, non-zero, above the reserved range 1..255 (RFC 4303 §2.1), never given
 * out in this group before. */
static int new_spi(struct group *g, uint32_t *spi)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t s;
		int rc = gsakmp_random((uint8_t *)&s, sizeof(s));

		if (rc != 0)
			return rc;
		if (s < 256)
			continue;
		rc = gstore_spi_used(g->k->conf.store, g->name, s);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			*spi = s;
			return gstore_spi_add(g->k->conf.store, g->name, s);
		}
	}
	return -EAGAIN;
}

/* Make t the current epoch of data SA i; the current one retires DTD from now, the one before
 * it goes. Inside the caller's transaction; t is wiped. */
int gcks_epoch_install(struct group *g, uint32_t i, struct tek *t, int64_t now)
{
	struct gstore *st = g->k->conf.store;
	struct data_sa *d = &g->data[i];
	int rc;

	rc = gstore_tek_put(st, g->name, &t->s);
	if (rc == 0 && d->prev.live)
		rc = gstore_tek_del(st, g->name, i, d->prev.s.epoch);
	if (rc == 0 && d->cur.live) {
		d->cur.s.retire_at = now + d->p.deactivation_delay_ms;
		rc = gstore_tek_put(st, g->name, &d->cur.s);
	}
	if (rc != 0) {
		OPENSSL_cleanse(t, sizeof(*t));
		return rc;
	}
	OPENSSL_cleanse(&d->prev, sizeof(d->prev));
	d->prev = d->cur;
	d->cur = *t;
	d->next_rekey_ms = 0;
	OPENSSL_cleanse(t, sizeof(*t));
	return 0;
}

/* A fresh epoch of data SA i, made here (a top-level GC/KS: only it creates traffic keys,
 * RFC 4535 §4.1.4). */
int gcks_new_epoch(struct group *g, uint32_t i, int64_t now)
{
	struct data_sa *d = &g->data[i];
	struct tek t;
	int rc;

	memset(&t, 0, sizeof(t));
	t.s.index = i;
	t.s.epoch = d->cur.live ? d->cur.s.epoch + 1 : 1;
	t.s.key_type = gsakmp_suite_key_type((uint16_t)d->p.suite);
	t.s.key_len = (uint8_t)gsakmp_key_type_len(t.s.key_type);
	if (t.s.key_len == 0 || t.s.key_len > sizeof(t.s.key))
		return -EINVAL;
	t.s.created = now / 1000;
	t.s.expires = t.s.created + (d->p.lifetime_seconds != 0 ? d->p.lifetime_seconds :
			TEN_YEARS);
	t.live = true;
	rc = gsakmp_random(t.s.key, t.s.key_len);
	if (rc == 0)
		rc = new_spi(g, &t.s.spi);
	if (rc != 0) {
		OPENSSL_cleanse(&t, sizeof(t));
		return rc;
	}
	return gcks_epoch_install(g, i, &t, now);
}

/* ------------------------------------------------------------------ messages */

struct root_ctx {
	uint32_t handle;
	uint8_t key[LKH_KEY_LEN];
	bool found;
};

static int root_cb(const struct lkh_node_info *n, void *arg)
{
	struct root_ctx *r = arg;

	if (n->id != 1)
		return 1;
	if (n->key != NULL) {
		r->handle = n->handle;
		memcpy(r->key, n->key, LKH_KEY_LEN);
		r->found = true;
	}
	return 1;
}

/* The traffic-key block: every data SA's current epoch, under the root key. */
static int tek_block(struct group *g, struct gsakmp_enc *e, const struct root_ctx *root)
{
	struct gsakmp_kd *p = calloc(1, sizeof(*p));
	int rc = 0;

	if (p == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->nb_data && rc == 0; i++) {
		if (p->nb_items + 2 > GSAKMP_KD_MAX_ITEMS) {
			rc = -E2BIG;
			break;
		}
		p->items[p->nb_items].type = GSAKMP_KDD_GTPK;
		gcks_datum_tek(g, &g->data[i].cur, &p->items[p->nb_items].u.datum);
		p->items[p->nb_items + 1].type = GSAKMP_KDD_DATA_SA;
		gcks_sa_attrs(g, i, &g->data[i].cur, NULL, &p->items[p->nb_items + 1].u.sa);
		p->nb_items += 2;
	}
	if (rc == 0)
		rc = gsakmp_enc_rekey_data_sealed(e, 1, root->handle, p, g->rekey_alg,
				root->key);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
	return rc;
}

static int wrap_block(struct group *g, struct gsakmp_enc *e, const struct lkh_wrap *w,
		int64_t now)
{
	struct gsakmp_kd p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.nb_items = 1;
	p.items[0].type = GSAKMP_KDD_REKEY_LKH;
	p.items[0].u.datum = (struct gsakmp_key_datum){ .type = GSAKMP_KEY_AES_256_KEK,
		.key_len = LKH_KEY_LEN, .id = w->id, .handle = w->handle,
		.created = now / 1000, .expires = now / 1000 + TEN_YEARS, .key = w->key };
	/* node keys are AES-256 KEKs used as they are (doc/gsakmp-profile.md §7.3) */
	rc = gsakmp_enc_rekey_data_sealed(e, w->kek_id, w->kek_handle, &p, g->rekey_alg,
			w->kek);
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}

/* One Rekey Event message: the given wraps, then the traffic-key block. Rekey Events carry
 * no certificate: members verify them with the key server certificate they pinned at
 * registration (doc/key-management.md §4.2), which keeps them within one datagram. */
static struct out_msg *build_msg(struct group *g, uint32_t seq, const struct lkh_wrap *wraps,
		const uint32_t *idx, uint32_t n, const struct root_ctx *root, int64_t now, int *rc)
{
	static const uint8_t vid[] = GSAKMP_PROFILE_VID;
	struct out_msg *o = malloc(sizeof(*o) + GCKS_MSG_MAX);
	struct gsakmp_enc *e;

	if (o == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	o->next = NULL;
	o->first_member = o->last_member = 0;
	e = gcks_msg_start(g, GSAKMP_EXCH_REKEY, seq, o->buf, GCKS_MSG_MAX);
	if (e == NULL) {
		free(o);
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, now / 1000);
	for (uint32_t i = 0; *rc == 0 && i < n; i++)
		*rc = wrap_block(g, e, &wraps[idx != NULL ? idx[i] : i], now);
	if (*rc == 0)
		*rc = tek_block(g, e, root);
	if (*rc == 0)
		*rc = gsakmp_enc_rekey_end(e);
	if (*rc == 0)
		*rc = gsakmp_enc_payload_vid(e, vid, GSAKMP_PROFILE_VID_LEN);
	if (*rc == 0)
		*rc = gsakmp_enc_payload_sig(e, g->k->conf.key, GSAKMP_ID_DN_STRING, now / 1000);
	if (*rc != 0) {
		gsakmp_enc_abort(e);
		OPENSSL_cleanse(o->buf, GCKS_MSG_MAX);
		free(o);
		return NULL;
	}
	*rc = gsakmp_enc_finish(e, &o->len);
	if (*rc != 0) {
		free(o);
		return NULL;
	}
	return o;
}

static void free_msgs(struct out_msg *o)
{
	while (o != NULL) {
		struct out_msg *n = o->next;

		free(o);
		o = n;
	}
}

/* How many wraps fit one datagram beside the fixed parts of a message. */
static uint32_t wraps_per_msg(const struct group *g, size_t fixed)
{
	uint32_t h = lkh_height(g->tree);
	uint32_t n = fixed < g->conf.mtu ? (uint32_t)((g->conf.mtu - fixed) / WRAP_BLOCK_MAX) : 0;

	return n < h ? h : n;
}

/* Build the messages of a rekey: parts of the LKH wraps, each with the traffic keys. */
static int build_rekey(struct group *g, const struct lkh_rekey *rk, const struct root_ctx *root,
		int64_t now, struct out_msg **out, uint32_t *nb, uint64_t *bytes)
{
	struct out_msg *head = NULL, **tail = &head, *o;
	const struct lkh_wrap *w;
	struct lkh_parts *parts = NULL;
	uint32_t nw = 0, np;
	int rc = 0;

	*nb = 0;
	*bytes = 0;
	w = rk != NULL ? lkh_rekey_wraps(rk, &nw) : NULL;
	/* the message without wraps gives the fixed size */
	o = build_msg(g, g->seq + 1, NULL, NULL, 0, root, now, &rc);
	if (o == NULL)
		return rc;
	if (nw == 0) {
		*out = o;
		*nb = 1;
		*bytes = o->len;
		return 0;
	}
	size_t fixed = o->len;

	free(o);
	rc = lkh_rekey_parts(rk, wraps_per_msg(g, fixed), &parts);
	if (rc != 0)
		return rc;
	np = lkh_parts_count(parts);
	for (uint32_t i = 0; i < np && rc == 0; i++) {
		struct lkh_part p;

		rc = lkh_parts_get(parts, i, &p);
		if (rc != 0)
			break;
		o = build_msg(g, g->seq + 1 + *nb, w, p.wraps, p.nb_wraps, root, now, &rc);
		if (o == NULL)
			break;
		o->first_member = p.first_member;
		o->last_member = p.last_member;
		*tail = o;
		tail = &o->next;
		(*nb)++;
		*bytes += o->len;
	}
	lkh_parts_free(parts);
	if (rc != 0) {
		free_msgs(head);
		return rc;
	}
	*out = head;
	return 0;
}

/* Multicast to the rekey address and/or unicast to each member the part that serves it. */
static void send_msgs(struct group *g, const struct out_msg *msgs, int64_t now)
{
	uint32_t n = copies(g);

	if ((g->conf.rekey_transport & GCKS_RT_MULTICAST) && g->conf.rekey_addr.ss_family != 0)
		for (const struct out_msg *o = msgs; o != NULL; o = o->next)
			gcks_send(g, o->buf, o->len, (const struct sockaddr *)&g->conf.rekey_addr,
					g->conf.rekey_addr_len, n, now);
	if (!(g->conf.rekey_transport & GCKS_RT_UNICAST))
		return;
	GCKS_FOREACH_MEMBER(g, m) {
		if ((m->s.state != GCKS_MS_ACTIVE && m->s.state != GCKS_MS_PENDING) ||
				m->s.member_id == 0 || m->s.addr_len == 0)
			continue;
		for (const struct out_msg *o = msgs; o != NULL; o = o->next) {
			if (o->first_member != 0 && (m->s.member_id < o->first_member ||
					m->s.member_id > o->last_member))
				continue;
			gcks_send(g, o->buf, o->len, (const struct sockaddr *)&m->s.addr,
					m->s.addr_len, n, now);
			break;
		}
	}
}

struct node_ctx {
	struct group *g;
	int rc;
};

static int store_node(const struct lkh_node_info *n, void *arg)
{
	struct node_ctx *c = arg;
	struct gstore_node row = { .id = n->id, .handle = n->handle, .has_key = n->key != NULL };

	if (n->key != NULL)
		memcpy(row.key, n->key, LKH_KEY_LEN);
	c->rc = gstore_node_put(c->g->k->conf.store, c->g->name, &row);
	OPENSSL_cleanse(&row, sizeof(row));
	if (n->id == 1)
		c->g->root_handle = n->key != NULL ? n->handle : 0;
	return c->rc != 0;
}

/* Sequence IDs: reserve before use, in blocks, so a crash never lets one be used twice
 * (doc/key-management.md §4.3). */
static int reserve_seq(struct group *g, uint32_t n)
{
	struct gstore_group row;
	int rc;

	if ((uint64_t)g->seq + n >= GSAKMP_SEQ_DESTROY)
		return -EOVERFLOW;
	if (g->seq + n <= g->seq_hwm)
		return 0;
	rc = gstore_group_get(g->k->conf.store, g->name, &row);
	if (rc != 0)
		return rc;
	row.seq_hwm = g->seq + n + 64 < GSAKMP_SEQ_DESTROY ? g->seq + n + 64 : g->seq + n;
	rc = gstore_group_put(g->k->conf.store, &row);
	if (rc == 0)
		g->seq_hwm = row.seq_hwm;
	return rc;
}

static bool roll_epoch(const struct group *g)
{
	if (g->sub)
		return false;   /* the parent makes the traffic keys (doc/key-management.md §8) */
	if (g->force_epoch || g->leaves > 0 || g->evictions > 0)
		return true;
	return g->rk.events > 0 && g->changes + g->joins >= g->rk.events;
}

/* Commit the staged batch (doc/key-management.md §4.1). */
int gcks_batch(struct group *g, int64_t now)
{
	struct gstore *st = g->k->conf.store;
	struct lkh_rekey *rk = NULL;
	struct lkh_rekey_stats stats;
	struct out_msg *msgs = NULL;
	struct root_ctx root = { 0 };
	struct node_ctx nc = { .g = g };
	uint32_t nmsg = 0;
	uint64_t bytes = 0;
	bool roll = roll_epoch(g);
	int rc;

	rc = gstore_begin(st);
	if (rc != 0)
		return rc;
	/* leaving members release their leaves and (later) their SIDs */
	GCKS_FOREACH_MEMBER(g, m) {
		if (!m->staged || m->s.member_id == 0)
			continue;
		if (m->s.state == GCKS_MS_LEAVING || m->s.state == GCKS_MS_EVICTED) {
			rc = lkh_leave(g->tree, m->s.member_id);
			if (rc != 0 && rc != -ENOENT)
				goto fail;
		}
	}
	rc = lkh_commit(g->tree, &rk);
	if (rc != 0)
		goto fail_tree;
	lkh_rekey_stats(rk, &stats);
	rc = lkh_foreach_changed(g->tree, store_node, &nc);
	if (rc == 0)
		rc = nc.rc;
	if (rc != 0)
		goto fail_tree;
	if (roll) {
		for (uint32_t i = 0; i < g->nb_data && rc == 0; i++)
			rc = gcks_new_epoch(g, i, now);
		if (rc != 0)
			goto fail_tree;
		g->gen++;
	}
	/* member rows: leavers go, evicted ones stay (refused later), joiners are written */
	GCKS_FOREACH_MEMBER(g, m) {
		if (!m->staged)
			continue;
		if (g->sub && (m->s.state == GCKS_MS_LEAVING ||
				m->s.state == GCKS_MS_EVICTED) && g->proxy[0] == '\0') {
			/* the member knows the parent's current keys: ask the parent for
			 * new ones (RFC 4535 §4.4.7); until they come, resent from tick */
			snprintf(g->proxy, sizeof(g->proxy), "%s", m->s.subject);
			g->proxy_epoch = g->data[0].cur.s.epoch;
			g->proxy_next = now;
		}
		if (m->s.state == GCKS_MS_LEAVING) {
			gcks_sid_release(g, m);
			rc = gstore_member_del(st, g->name, m->s.subject);
			if (rc == -ENOENT)
				rc = 0;
		} else if (m->s.state == GCKS_MS_EVICTED) {
			gcks_sid_release(g, m);
			m->s.member_id = 0;
			rc = gcks_store_member(g, m);
		} else {
			rc = gcks_store_member(g, m);
		}
		if (rc != 0)
			goto fail_tree;
	}
	lkh_foreach_node(g->tree, root_cb, &root);
	if (root.found) {
		rc = build_rekey(g, stats.wraps > 0 ? rk : NULL, &root, now, &msgs, &nmsg, &bytes);
		if (rc == 0)
			rc = reserve_seq(g, nmsg);
		if (rc != 0)
			goto fail_tree;
	}
	struct gstore_rekey hist = { .at = now, .seq_first = nmsg > 0 ? g->seq + 1 : 0,
		.seq_last = g->seq + nmsg, .joins = stats.joined, .leaves = g->leaves,
		.evictions = g->evictions, .wraps = stats.wraps, .messages = nmsg,
		.bytes = bytes };

	snprintf(hist.reason, sizeof(hist.reason), "%s", g->reason != NULL ? g->reason :
			GCKS_HISTORY_REASON);
	rc = gstore_rekey_add(st, g->name, &hist);
	if (rc == 0)
		rc = gstore_commit(st);
	if (rc != 0)
		goto fail_tree;
	/* durable: now the messages may leave */
	g->seq += nmsg;
	g->ctr[GCKS_C_REKEY]++;
	g->ctr[GCKS_C_REKEY_MSG] += nmsg;
	send_msgs(g, msgs, now);
	GCKS_FOREACH_MEMBER(g, m) {
		if (!m->staged)
			continue;
		m->staged = false;
		if (m->s.state == GCKS_MS_LEAVING)
			gcks_member_drop(g, m);
		else if (m->s.state == GCKS_MS_JOINING)
			gcks_reg_send_keydl(g, m, now);
	}
	g->changes = roll ? 0 : g->changes + g->joins;
	g->joins = g->leaves = g->evictions = 0;
	g->force_epoch = false;
	g->reason = NULL;
	g->batch_due = 0;
	g->next_heartbeat = now + (int64_t)g->conf.heartbeat_s * 1000;
	free_msgs(msgs);
	lkh_rekey_free(rk);
	OPENSSL_cleanse(&root, sizeof(root));
	return 0;
fail_tree:
	/* the tree committed in memory but the store did not: the state on disk is the truth,
	 * and this process can no longer vouch for its memory */
	gstore_rollback(st);
	free_msgs(msgs);
	lkh_rekey_free(rk);
	OPENSSL_cleanse(&root, sizeof(root));
	g->batch_due = now + 1000;
	return rc == 0 ? -EIO : rc;
fail:
	gstore_rollback(st);
	g->batch_due = now + 1000;
	return rc;
}

int gcks_heartbeat(struct group *g, int64_t now)
{
	struct root_ctx root = { 0 };
	struct out_msg *o;
	int rc;

	lkh_foreach_node(g->tree, root_cb, &root);
	if (!root.found)
		return 0;            /* no member: nobody to tell */
	rc = reserve_seq(g, 1);
	if (rc == 0) {
		o = build_msg(g, g->seq + 1, NULL, NULL, 0, &root, now, &rc);
		if (o != NULL) {
			g->seq++;
			g->ctr[GCKS_C_REKEY_MSG]++;
			send_msgs(g, o, now);
			free_msgs(o);
		}
	}
	OPENSSL_cleanse(&root, sizeof(root));
	return rc;
}

int gcks_send_destroy(struct group *g, int64_t now)
{
	static const uint8_t vid[] = GSAKMP_PROFILE_VID;
	uint8_t buf[1024];
	struct gsakmp_enc *e;
	size_t len;
	int rc;

	e = gcks_msg_start(g, GSAKMP_EXCH_REKEY, GSAKMP_SEQ_DESTROY, buf, sizeof(buf));
	if (e == NULL)
		return -ENOMEM;
	rc = gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_NONE, 0, now / 1000);
	if (rc == 0)
		rc = gsakmp_enc_rekey_end(e);
	if (rc == 0)
		rc = gsakmp_enc_payload_vid(e, vid, GSAKMP_PROFILE_VID_LEN);
	if (rc == 0)
		rc = gsakmp_enc_payload_sig(e, g->k->conf.key, GSAKMP_ID_DN_STRING, now / 1000);
	if (rc != 0) {
		gsakmp_enc_abort(e);
		return rc;
	}
	rc = gsakmp_enc_finish(e, &len);
	if (rc != 0)
		return rc;
	struct out_msg *o = malloc(sizeof(*o) + len);

	if (o == NULL)
		return -ENOMEM;
	o->next = NULL;
	o->first_member = o->last_member = 0;
	o->len = len;
	memcpy(o->buf, buf, len);
	send_msgs(g, o, now);
	free(o);
	return 0;
}

/* When data SA i needs its next epoch (doc/key-management.md §4.1). */
static int64_t rekey_due(const struct group *g, const struct data_sa *d)
{
	int64_t created = d->cur.s.created * 1000, expires = d->cur.s.expires * 1000;
	int64_t life = expires - created;
	int64_t margin = 4 * (int64_t)d->p.activation_delay_ms;
	int64_t due = expires - (margin > life / 10 ? margin : life / 10);

	if (g->rk.period_seconds != 0 && created + g->rk.period_seconds * 1000LL < due)
		due = created + g->rk.period_seconds * 1000LL;
	return due;
}

void gcks_rekey_tick(struct group *g, int64_t now, int64_t *next)
{
	bool scheduled = false;

	for (uint32_t i = 0; i < g->nb_data; i++) {
		struct data_sa *d = &g->data[i];

		if (d->prev.live && d->prev.s.retire_at <= now) {
			gstore_tek_del(g->k->conf.store, g->name, i, d->prev.s.epoch);
			OPENSSL_cleanse(&d->prev, sizeof(d->prev));
		}
		if (d->prev.live && d->prev.s.retire_at < *next)
			*next = d->prev.s.retire_at;
		if (g->sub || !d->cur.live)
			continue;       /* a sub-GC/KS follows its parent's epochs */
		if (d->next_rekey_ms == 0)
			d->next_rekey_ms = rekey_due(g, d);
		if (d->next_rekey_ms <= now)
			scheduled = true;
	}
	if (scheduled) {
		g->force_epoch = true;
		if (g->reason == NULL)
			g->reason = "scheduled";
		if (g->batch_due == 0 || g->batch_due > now)
			g->batch_due = now;
	}
	if (g->batch_due != 0 && g->batch_due <= now)
		gcks_batch(g, now);
	if (g->batch_due != 0 && g->batch_due < *next)
		*next = g->batch_due;
	for (uint32_t i = 0; i < g->nb_data; i++)
		if (g->data[i].next_rekey_ms != 0 && g->data[i].next_rekey_ms < *next)
			*next = g->data[i].next_rekey_ms;
	if (now >= g->next_heartbeat) {
		if (g->next_heartbeat != 0)
			gcks_heartbeat(g, now);
		g->next_heartbeat = now + (int64_t)g->conf.heartbeat_s * 1000;
	}
	if (g->next_heartbeat < *next)
		*next = g->next_heartbeat;
}
