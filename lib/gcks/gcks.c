/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key server engine: groups, members, sender IDs, the store, timers and the views operators
 * see. Registration is in reg.c, rekeying in rekey.c (doc/key-management.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gcks_pvt.h"

static const char *const counter_names[GCKS_C_MAX] = {
	[GCKS_C_RX] = "rx",
	[GCKS_C_RTJ] = "rtj",
	[GCKS_C_RTJ_RETRANSMIT] = "rtj_retransmit",
	[GCKS_C_KEYDL] = "keydl",
	[GCKS_C_ACK] = "ack",
	[GCKS_C_NACK] = "nack",
	[GCKS_C_COOKIE_SENT] = "cookie_sent",
	[GCKS_C_DEPART] = "depart",
	[GCKS_C_LOA_EVICT] = "loa_evict",
	[GCKS_C_EVICT] = "evict",
	[GCKS_C_REKEY] = "rekey",
	[GCKS_C_REKEY_MSG] = "rekey_msg",
	[GCKS_C_TX] = "tx",
	[GCKS_C_TX_FAIL] = "tx_fail",
	[GCKS_C_BAD_MSG] = "bad_msg",
	[GCKS_C_BAD_SIG] = "bad_sig",
	[GCKS_C_UNAUTHORIZED] = "unauthorized",
	[GCKS_C_EVICTED] = "evicted",
	[GCKS_C_BAD_COOKIE] = "bad_cookie",
	[GCKS_C_RATE_LIMITED] = "rate_limited",
	[GCKS_C_FULL] = "full",
	[GCKS_C_SIDS_EXHAUSTED] = "sids_exhausted",
	[GCKS_C_UNEXPECTED] = "unexpected",
	[GCKS_C_NOT_READY] = "not_ready",
	[GCKS_C_PROXY_EVICT] = "proxy_evict",
	[GCKS_C_PARENT_EPOCH] = "parent_epoch",
};

const char *gcks_counter_name(enum gcks_counter c)
{
	return (unsigned int)c < GCKS_C_MAX ? counter_names[c] : "unknown";
}

const char *gcks_member_state_name(enum gcks_member_state s)
{
	switch (s) {
	case GCKS_MS_JOINING:
		return "joining";
	case GCKS_MS_PENDING:
		return "pending_ack";
	case GCKS_MS_ACTIVE:
		return "active";
	case GCKS_MS_LEAVING:
		return "leaving";
	case GCKS_MS_EVICTED:
		return "evicted";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ lookups */

struct group *gcks_group_find(const struct gcks *k, const char *name)
{
	for (struct group *g = k->groups; g != NULL; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

struct group *gcks_group_by_gid(const struct gcks *k, const uint8_t *gidv, uint8_t len)
{
	for (struct group *g = k->groups; g != NULL; g = g->next)
		if (g->gidv_len == len && memcmp(g->gidv, gidv, len) == 0)
			return g;
	return NULL;
}

static uint32_t subject_hash(const char *s)
{
	uint32_t h = 2166136261u;        /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

struct member *gcks_member_find(const struct group *g, const char *subject)
{
	struct member *m = g->hash[subject_hash(subject) & g->hash_mask];

	for (; m != NULL; m = m->hnext)
		if (strcmp(m->s.subject, subject) == 0)
			return m;
	return NULL;
}

static int hash_grow(struct group *g)
{
	uint32_t n = (g->hash_mask + 1) * 2;
	struct member **h = calloc(n, sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i <= g->hash_mask; i++) {
		struct member *m = g->hash[i], *nx;

		for (; m != NULL; m = nx) {
			uint32_t b = subject_hash(m->s.subject) & (n - 1);

			nx = m->hnext;
			m->hnext = h[b];
			h[b] = m;
		}
	}
	free(g->hash);
	g->hash = h;
	g->hash_mask = n - 1;
	return 0;
}

int gcks_member_add(struct group *g, struct member *m)
{
	uint32_t b;

	if (g->nb_records + 1 > (g->hash_mask + 1) * 2 && hash_grow(g) != 0)
		return -ENOMEM;
	b = subject_hash(m->s.subject) & g->hash_mask;
	m->hnext = g->hash[b];
	g->hash[b] = m;
	g->nb_records++;
	return 0;
}

void gcks_reg_free(struct reg_ctx *r)
{
	if (r == NULL)
		return;
	X509_free(r->cert);
	free(r->keydl);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

/* Unlink and free a member record (its leaf and SIDs must already be released). */
void gcks_member_drop(struct group *g, struct member *m)
{
	struct member **pp = &g->hash[subject_hash(m->s.subject) & g->hash_mask];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	}
	if (m->reg != NULL)
		g->nb_pending--;
	gcks_reg_free(m->reg);
	X509_free(m->cert);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
	g->nb_records--;
}

/* ------------------------------------------------------------------ sender IDs */

static uint32_t oldest_gen(const struct group *g)
{
	bool prev = false;

	for (uint32_t i = 0; i < g->nb_data; i++)
		prev |= g->data[i].prev.live;
	return prev ? g->gen - 1 : g->gen;
}

/* doc/key-management.md §6: never 0; a SID freed under a key is reused only once every live
 * key is newer than that key. */
int gcks_sid_alloc(struct group *g, struct member *m, uint16_t n)
{
	uint32_t old = oldest_gen(g);
	uint16_t got = 0;

	if (n > g->conf.max_sids_per_member)
		n = g->conf.max_sids_per_member;
	/* a sub-GC/KS hands out only the SIDs its parent gave it */
	uint32_t nb = g->sub ? g->pool_n : g->sid_space - 1;

	for (uint32_t j = 0; j < nb && got < n; j++) {
		uint32_t s = g->sub ? g->pool[j] : j + 1;
		struct sid_slot *sl = &g->sids[s];

		if (s != 0 && s < g->sid_space && sl->owner == NULL && sl->free_gen <= old) {
			sl->owner = m;
			m->s.sids[got++] = (uint16_t)s;
		}
	}
	if (got < n) {
		for (uint16_t i = 0; i < got; i++)
			g->sids[m->s.sids[i]].owner = NULL;
		return -ENOSPC;
	}
	m->s.nb_sids = got;
	return 0;
}

void gcks_sid_release(struct group *g, struct member *m)
{
	for (uint16_t i = 0; i < m->s.nb_sids; i++) {
		struct sid_slot *sl = &g->sids[m->s.sids[i]];

		sl->owner = NULL;
		sl->free_gen = g->gen + 1;
		struct gstore_sid row = { .sid = m->s.sids[i], .free_epoch = sl->free_gen };

		gstore_sid_put(g->k->conf.store, g->name, &row);
	}
	m->s.nb_sids = 0;
}

/* ------------------------------------------------------------------ store */

int gcks_store_member(struct group *g, const struct member *m)
{
	int rc = gstore_member_put(g->k->conf.store, g->name, &m->s);

	for (uint16_t i = 0; rc == 0 && i < m->s.nb_sids; i++) {
		struct gstore_sid row = { .sid = m->s.sids[i] };

		snprintf(row.subject, sizeof(row.subject), "%s", m->s.subject);
		rc = gstore_sid_put(g->k->conf.store, g->name, &row);
	}
	return rc;
}

/* ------------------------------------------------------------------ messages */

void gcks_send(struct group *g, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen, uint32_t copies, int64_t now)
{
	struct gcks *k = g->k;

	if (copies == 0)
		return;
	if (k->ops.send(k->arg, msg, len, to, tolen) == 0)
		g->ctr[GCKS_C_TX]++;
	else
		g->ctr[GCKS_C_TX_FAIL]++;
	if (copies == 1 || tolen > sizeof(struct sockaddr_storage))
		return;
	struct txq *q = malloc(sizeof(*q) + len);

	if (q == NULL) {
		g->ctr[GCKS_C_TX_FAIL]++;
		return;
	}
	q->at = now + g->conf.resend_interval_ms;
	q->left = copies - 1;
	q->len = (uint32_t)len;
	memset(&q->to, 0, sizeof(q->to));
	memcpy(&q->to, to, tolen);
	q->tolen = tolen;
	memcpy(q->msg, msg, len);
	q->next = g->txq;
	g->txq = q;
}

static void txq_tick(struct group *g, int64_t now, int64_t *next)
{
	struct txq **pp = &g->txq;

	while (*pp != NULL) {
		struct txq *q = *pp;

		if (q->at <= now) {
			if (g->k->ops.send(g->k->arg, q->msg, q->len, (struct sockaddr *)&q->to,
					q->tolen) == 0)
				g->ctr[GCKS_C_TX]++;
			else
				g->ctr[GCKS_C_TX_FAIL]++;
			if (--q->left == 0) {
				*pp = q->next;
				free(q);
				continue;
			}
			q->at = now + g->conf.resend_interval_ms;
		}
		if (q->at < *next)
			*next = q->at;
		pp = &q->next;
	}
}

static void txq_free(struct group *g)
{
	while (g->txq != NULL) {
		struct txq *q = g->txq;

		g->txq = q->next;
		free(q);
	}
}

struct gsakmp_enc *gcks_msg_start(const struct group *g, uint8_t exch, uint32_t seq,
		uint8_t *buf, size_t cap)
{
	struct gsakmp_hdr h = { .gid_type = GSAKMP_GID_OCTETS, .gid_len = g->gidv_len,
		.version = GSAKMP_VERSION, .exch = exch, .seq = seq };
	struct gsakmp_enc *e;

	memcpy(h.gid, g->gidv, g->gidv_len);
	if (gsakmp_enc_init(&e, buf, cap, &h) != 0)
		return NULL;
	return e;
}

/* Vendor ID, Signature, our certificate; then the lengths and the signature. */
int gcks_msg_sign_finish(struct gcks *k, struct gsakmp_enc *e, int64_t now_ms, size_t *len)
{
	static const uint8_t vid[] = GSAKMP_PROFILE_VID;
	const uint8_t *der;
	size_t n;
	int rc;

	gsakmp_key_cert_der(k->conf.key, &der, &n);
	rc = gsakmp_enc_payload_vid(e, vid, GSAKMP_PROFILE_VID_LEN);
	if (rc == 0)
		rc = gsakmp_enc_payload_sig(e, k->conf.key, GSAKMP_ID_DN_STRING, now_ms / 1000);
	if (rc == 0)
		rc = gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, der, n);
	if (rc != 0) {
		gsakmp_enc_abort(e);
		return rc;
	}
	return gsakmp_enc_finish(e, len);
}

void gcks_datum_tek(const struct group *g, const struct tek *t, struct gsakmp_key_datum *d)
{
	(void)g;
	memset(d, 0, sizeof(*d));
	d->type = t->s.key_type;
	d->key_len = t->s.key_len;
	d->id = GCKS_TEK_BASE + t->s.index;
	d->handle = t->s.epoch;
	d->created = t->s.created;
	d->expires = t->s.expires;
	d->key = t->s.key;
}

/* The data SA item (doc/gsakmp-profile.md §9) for epoch t of SA i; m = NULL in a Rekey Event
 * (no SIDs, no send/receive flags: members keep theirs). */
void gcks_sa_attrs(const struct group *g, uint32_t i, const struct tek *t,
		const struct member *m, struct gsakmp_sa_attrs *a)
{
	const struct policy_data_sa *p = &g->data[i].p;

	memset(a, 0, sizeof(*a));
	a->key_id = GCKS_TEK_BASE + i;
	a->key_handle = t->s.epoch;
	a->present = (1u << GSAKMP_ATTR_SPI) | (1u << GSAKMP_ATTR_SUITE) |
		(1u << GSAKMP_ATTR_FLAGS) | (1u << GSAKMP_ATTR_SID_BITS) |
		(1u << GSAKMP_ATTR_ACT_DELAY) | (1u << GSAKMP_ATTR_DEACT_DELAY) |
		(1u << GSAKMP_ATTR_REPLAY_WINDOW) | (1u << GSAKMP_ATTR_GROUP_ADDR);
	a->spi = t->s.spi;
	a->suite = (uint16_t)p->suite;
	if (p->ap == POLICY_AP_SRC || p->ap == POLICY_AP_SRC_DST)
		a->flags |= GSAKMP_SAF_PRESERVE_SRC;
	if (p->ap == POLICY_AP_DST || p->ap == POLICY_AP_SRC_DST)
		a->flags |= GSAKMP_SAF_PRESERVE_DST;
	if (p->esn)
		a->flags |= GSAKMP_SAF_ESN;
	a->sid_bits = p->sid_bits;
	if (m != NULL) {
		a->flags |= GSAKMP_SAF_RECEIVE;
		if (m->s.nb_sids > 0) {
			a->flags |= GSAKMP_SAF_SEND;
			a->present |= 1u << GSAKMP_ATTR_SIDS;
			a->nb_sids = (uint8_t)m->s.nb_sids;
			memcpy(a->sids, m->s.sids, m->s.nb_sids * sizeof(a->sids[0]));
		}
	}
	a->act_delay_ms = p->activation_delay_ms;
	a->deact_delay_ms = p->deactivation_delay_ms;
	a->replay_window = p->replay_window;
	a->addr_len = p->family == AF_INET6 ? 16 : 4;
	memcpy(a->group_addr, p->group, a->addr_len);
	if (p->has_source) {
		a->present |= 1u << GSAKMP_ATTR_SOURCE_ADDR;
		memcpy(a->source_addr, p->source, a->addr_len);
	}
}

/* ------------------------------------------------------------------ engine */

int gcks_new(const struct gcks_conf *conf, const struct gcks_ops *ops, void *arg,
		struct gcks **out)
{
	struct gcks *k;
	const uint8_t *der;
	size_t n;
	X509 *cert;
	int rc;

	if (conf == NULL || conf->key == NULL || conf->trust == NULL || conf->go_trust == NULL ||
			conf->store == NULL || ops == NULL || ops->send == NULL || out == NULL)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	k->conf = *conf;
	if (k->conf.kek_alg == 0)
		k->conf.kek_alg = GSAKMP_KEK_AES256_GCM;
	k->ops = *ops;
	k->arg = arg;
	gsakmp_key_cert_der(conf->key, &der, &n);
	cert = d2i_X509(NULL, &der, (long)n);
	if (cert == NULL) {
		free(k);
		return -EINVAL;
	}
	rc = gsakmp_signer_id(cert, GSAKMP_ID_DN_STRING, k->id, sizeof(k->id) - 1, &k->id_len);
	X509_free(cert);
	if (rc != 0) {
		free(k);
		return -EINVAL;
	}
	*out = k;
	return 0;
}

static void group_free(struct group *g)
{
	if (g == NULL)
		return;
	if (g->hash != NULL) {
		GCKS_FOREACH_MEMBER(g, m) {
			gcks_reg_free(m->reg);
			X509_free(m->cert);
			OPENSSL_cleanse(m, sizeof(*m));
			free(m);
		}
	}
	free(g->hash);
	txq_free(g);
	lkh_free(g->tree);
	policy_token_free(g->tok);
	free(g->tok_der);
	free(g->sids);
	gsakmp_cookie_ctx_free(g->cookie);
	OPENSSL_cleanse(g->data, sizeof(g->data));
	free(g);
}

void gcks_free(struct gcks *k)
{
	if (k == NULL)
		return;
	gm_free(k->gm);
	while (k->groups != NULL) {
		struct group *g = k->groups;

		k->groups = g->next;
		group_free(g);
	}
	free(k);
}

static void conf_defaults(struct gcks_group_conf *c)
{
	if (c->max_members == 0)
		c->max_members = 65536;
	if (c->batch_ms == 0)
		c->batch_ms = 100;
	if (c->mtu == 0)
		c->mtu = 1400;
	if (c->rekey_transport == 0)
		c->rekey_transport = c->rekey_addr.ss_family != 0 ? GCKS_RT_MULTICAST :
			GCKS_RT_UNICAST;
	if (c->resend_interval_ms == 0)
		c->resend_interval_ms = 500;
	if (c->max_sids_per_member == 0)
		c->max_sids_per_member = 16;
	if (c->cookie_pending == 0)
		c->cookie_pending = 64;
	if (c->cookie_rate == 0)
		c->cookie_rate = 200;
	if (c->join_rate_per_source == 0)
		c->join_rate_per_source = 20;
	if (c->max_pending == 0)
		c->max_pending = 4096;
	if (c->parent_sids == 0)
		c->parent_sids = 16;
}

/* Verify the token and take the group's parameters from it. */
static int group_from_token(struct gcks *k, struct group *g, int64_t now_ms, char *err)
{
	char perr[POLICY_ERR_MAX];
	const uint8_t *der;
	size_t n;
	X509 *self;
	int rc;

	rc = policy_token_verify(g->tok_der, g->tok_len, k->conf.go_trust, NULL,
			(time_t)(now_ms / 1000), &g->tok, perr);
	if (rc != 0) {
		snprintf(err, GCKS_ERR_MAX, "token: %s: %.200s", policy_strerror(rc), perr);
		return -EINVAL;
	}
	gsakmp_key_cert_der(k->conf.key, &der, &n);
	self = d2i_X509(NULL, &der, (long)n);
	rc = self == NULL ? -EINVAL : policy_authorize(g->tok, POLICY_ROLE_GCKS, self);
	if (rc != 0 && self != NULL && g->sub)
		rc = policy_authorize(g->tok, POLICY_ROLE_SUBGCKS, self);
	X509_free(self);
	if (rc != 0) {
		snprintf(err, GCKS_ERR_MAX, "token: this key server is not one of the group's "
				"%s (%s)", g->sub ? "GC/KSs or sub-GC/KSs" : "GC/KSs",
				rc < 0 ? policy_strerror(rc) : "refused");
		return -EINVAL;
	}
	snprintf(g->name, sizeof(g->name), "%s", policy_token_group_name(g->tok));
	policy_token_group_id(g->tok, g->gid);
	if (policy_token_registration(g->tok, &g->reg) != 0) {
		snprintf(err, GCKS_ERR_MAX, "token: no GSAKMP registration policy");
		return -EINVAL;
	}
	if (policy_token_rekey(g->tok, &g->rk) != 0 || g->rk.method != POLICY_REKEY_LKH) {
		snprintf(err, GCKS_ERR_MAX, "token: the rekey policy is not LKH");
		return -EINVAL;
	}
	/* the token's key_wrap seals Rekey Event Data (doc/key-management.md §4.2): RFC 3394
	 * wrapping is done with its padded form, RFC 5649 (doc/gsakmp-profile.md §7.1) */
	g->rekey_alg = g->rk.key_wrap == POLICY_WRAP_AES256_GCM ? GSAKMP_KEK_AES256_GCM :
		GSAKMP_KEK_AES256_KWP;
	g->nb_data = policy_token_data_count(g->tok);
	if (g->nb_data == 0 || g->nb_data > GCKS_MAX_DATA) {
		snprintf(err, GCKS_ERR_MAX, "token: %u data SAs (expected 1..%u)", g->nb_data,
				GCKS_MAX_DATA);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < g->nb_data; i++) {
		if (policy_token_data(g->tok, i, &g->data[i].p) != 0 ||
				/* policy_suite and gsakmp_suite share their values */
				gsakmp_suite_key_type((uint16_t)g->data[i].p.suite) == 0) {
			snprintf(err, GCKS_ERR_MAX, "token: data[%u]: unsupported data SA", i);
			return -EINVAL;
		}
		if (g->data[i].p.tesla) {
			snprintf(err, GCKS_ERR_MAX, "token: data[%u]: TESLA SAs are not distributed "
					"by the key server yet", i);
			return -EINVAL;
		}
		if (g->data[i].p.sid_bits != g->data[0].p.sid_bits) {
			snprintf(err, GCKS_ERR_MAX, "token: data[%u].sid_bits: every data SA of a "
					"group must use the same SID length (one SID per member "
					"across its SAs, RFC 6054 §4)", i);
			return -EINVAL;
		}
		/* doc/key-management.md §4.4: the copies of a rekey go out before senders switch */
		uint64_t span = (uint64_t)g->conf.resend_interval_ms *
			(g->rk.reliability == POLICY_REL_RESEND ? g->rk.resend_count : 0);

		if (g->data[i].p.activation_delay_ms <= span) {
			snprintf(err, GCKS_ERR_MAX, "data[%u].activation_delay_ms: %u ms does not "
					"exceed the rekey retransmission span (%llu ms: resend "
					"count x resend_interval_ms)", i,
					g->data[i].p.activation_delay_ms, (unsigned long long)span);
			return -EINVAL;
		}
	}
	if (g->conf.heartbeat_s == 0)
		g->conf.heartbeat_s = g->rk.max_silence_seconds >= 8 ?
			g->rk.max_silence_seconds / 4 : 60;
	g->gidv_len = (uint8_t)(8 + strlen(g->name));
	memcpy(g->gidv, g->gid, 8);
	memcpy(g->gidv + 8, g->name, strlen(g->name));
	return 0;
}

/* ---- loading a stored group */

struct load_ctx {
	struct group *g;
	int rc;
	int64_t now;
};

static int load_member(void *arg, const struct gstore_member *s)
{
	struct load_ctx *c = arg;
	struct group *g = c->g;
	struct member *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		c->rc = -ENOMEM;
		return 1;
	}
	m->s = *s;
	if (m->s.member_id != 0 && !lkh_is_member(g->tree, m->s.member_id) &&
			m->s.state != GCKS_MS_EVICTED) {
		/* the tree and the member rows are written in one transaction */
		free(m);
		c->rc = -EIO;
		return 1;
	}
	for (uint16_t i = 0; i < m->s.nb_sids; i++) {
		if (m->s.sids[i] == 0 || m->s.sids[i] >= g->sid_space) {
			free(m);
			c->rc = -EIO;
			return 1;
		}
		g->sids[m->s.sids[i]].owner = m;
	}
	if (m->s.state == GCKS_MS_PENDING || m->s.state == GCKS_MS_JOINING) {
		/* the exchange died with the process: the member asks again, or leaves */
		m->s.state = GCKS_MS_PENDING;
		m->reg = calloc(1, sizeof(*m->reg));
		if (m->reg != NULL) {
			m->reg->deadline = c->now + (int64_t)g->reg.timeout_seconds * 1000;
			g->nb_pending++;
		}
	}
	if (m->s.state == GCKS_MS_LEAVING) {
		m->staged = true;
		g->leaves++;
	}
	if (gcks_member_add(g, m) != 0) {
		free(m);
		c->rc = -ENOMEM;
		return 1;
	}
	return 0;
}

static int load_node(void *arg, const struct gstore_node *n)
{
	struct load_ctx *c = arg;

	if (n->id == 1)
		c->g->root_handle = n->has_key ? n->handle : 0;
	if (lkh_restore_node(c->g->tree, n->id, n->handle, n->has_key ? n->key : NULL) != 0) {
		c->rc = -EIO;
		return 1;
	}
	return 0;
}

static int load_tek(void *arg, const struct gstore_tek *t)
{
	struct load_ctx *c = arg;
	struct group *g = c->g;
	struct data_sa *d;

	if (t->index >= g->nb_data) {
		gstore_tek_del(g->k->conf.store, g->name, t->index, t->epoch);
		return 0;
	}
	d = &g->data[t->index];
	/* ascending epochs: the newest becomes current, the one before it retiring */
	if (d->cur.live) {
		d->prev = d->cur;
		if (d->prev.s.retire_at == 0)
			d->prev.s.retire_at = c->now + d->p.deactivation_delay_ms;
	}
	d->cur.s = *t;
	d->cur.live = true;
	return 0;
}

static int load_sid(void *arg, const struct gstore_sid *s)
{
	struct load_ctx *c = arg;

	if (s->sid < c->g->sid_space && s->subject[0] == '\0')
		c->g->sids[s->sid].free_gen = s->free_epoch;
	return 0;
}

static int group_load(struct group *g, const struct gstore_group *row, int64_t now, char *err)
{
	struct gstore *st = g->k->conf.store;
	struct load_ctx c = { .g = g, .now = now };
	int rc;

	if (memcmp(row->gid, g->gid, 8) != 0) {
		snprintf(err, GCKS_ERR_MAX, "group %s: the stored group has another GroupID than "
				"the token: a new group of the same name needs the old one "
				"destroyed first", g->name);
		return -EINVAL;
	}
	/* a sequence number may have been used up to the reserved mark: continue above it */
	g->seq = row->seq_hwm;
	g->seq_hwm = row->seq_hwm;
	/* the listings return a callback's non-zero value: the reason is in c.rc */
	rc = gstore_nodes(st, g->name, load_node, &c);
	if (rc > 0)
		rc = c.rc;
	if (rc == 0)
		rc = lkh_restore_finish(g->tree) == 0 ? 0 : -EIO;
	if (rc == 0)
		rc = gstore_teks(st, g->name, load_tek, &c);
	if (rc == 0)
		rc = gstore_sids(st, g->name, load_sid, &c);
	if (rc == 0)
		rc = gstore_members(st, g->name, load_member, &c);
	if (rc > 0)
		rc = c.rc;
	if (rc != 0) {
		snprintf(err, GCKS_ERR_MAX, "group %s: stored state unreadable (%s)", g->name,
				rc == -EIO ? gstore_errmsg(st) : strerror(-rc));
		return rc;
	}
	for (uint32_t i = 0; i < g->nb_data; i++) {
		struct data_sa *d = &g->data[i];

		if (!d->cur.live) {
			if (g->sub)
				continue;       /* the parent has not given us keys yet */
			snprintf(err, GCKS_ERR_MAX, "group %s: no stored key for data SA %u", g->name,
					i);
			return -EIO;
		}
		if (d->cur.s.epoch > g->gen)
			g->gen = d->cur.s.epoch;
	}
	if (g->leaves > 0)
		gcks_stage(g, now);
	return 0;
}

static int group_create(struct group *g, int64_t now, char *err)
{
	struct gstore *st = g->k->conf.store;
	struct gstore_group row = { .created = now / 1000 };
	int rc;

	snprintf(row.name, sizeof(row.name), "%s", g->name);
	memcpy(row.gid, g->gid, 8);
	rc = gstore_begin(st);
	if (rc == 0)
		rc = gstore_group_put(st, &row);
	/* a sub-GC/KS gets its traffic keys from the parent (sub_install()) */
	for (uint32_t i = 0; rc == 0 && !g->sub && i < g->nb_data; i++)
		rc = gcks_new_epoch(g, i, now);
	if (rc == 0 && !g->sub)
		g->gen = 1;
	if (rc == 0)
		rc = gstore_commit(st);
	if (rc != 0) {
		gstore_rollback(st);
		snprintf(err, GCKS_ERR_MAX, "group %s: cannot store the new group (%s)", g->name,
				gstore_errmsg(st));
	}
	return rc;
}

/* ---- sub-GC/KS: this key server as a member of its parent (doc/key-management.md §8) */

static int parent_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	struct gcks *k = arg;

	return k->ops.send(k->arg, msg, len, to, tolen);
}

/* An epoch from the parent becomes ours: stored, then sent to our members under our root
 * (the next batch carries it); our SID pool is the parent's SIDs for us. */
static int sub_install(void *arg, const struct gm_sa *sa)
{
	struct gcks *k = arg;
	struct group *g = gcks_group_find(k, sa->group);
	struct gstore *st = k->conf.store;
	struct tek t;
	int64_t now = k->now;          /* the time of the input or tick being run */
	int rc;

	if (g == NULL || !g->sub || sa->index >= g->nb_data)
		return -ENOENT;
	if (sa->nb_sids > 0 && g->pool_n == 0) {
		g->pool_n = (uint16_t)(sa->nb_sids < GSTORE_MAX_SIDS ? sa->nb_sids : GSTORE_MAX_SIDS);
		memcpy(g->pool, sa->sids, g->pool_n * sizeof(g->pool[0]));
	}
	struct data_sa *d = &g->data[sa->index];

	if (d->cur.live && d->cur.s.epoch >= sa->epoch)
		return 0;               /* ours already (a repeated Key Download) */
	if (sa->key_len > sizeof(t.s.key))
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	t.s.index = sa->index;
	t.s.epoch = sa->epoch;
	t.s.spi = sa->spi;
	t.s.key_type = sa->key_type;
	t.s.key_len = (uint8_t)sa->key_len;
	memcpy(t.s.key, sa->key, sa->key_len);
	t.s.created = now / 1000;
	t.s.expires = sa->expires_ms / 1000;
	t.live = true;
	rc = gstore_begin(st);
	if (rc == 0)
		rc = gcks_epoch_install(g, sa->index, &t, now);
	else
		OPENSSL_cleanse(&t, sizeof(t));
	if (rc == 0)
		rc = gstore_commit(st);
	if (rc != 0) {
		gstore_rollback(st);
		return rc;
	}
	if (sa->index == 0)
		g->gen = sa->epoch;
	g->ctr[GCKS_C_PARENT_EPOCH]++;
	if (g->proxy[0] != '\0' && sa->index == 0 && sa->epoch > g->proxy_epoch)
		g->proxy[0] = '\0';    /* the removal we asked for is done */
	g->force_epoch = true;          /* the batch sends the traffic-key block */
	g->reason = "parent";
	if (g->batch_due == 0 || g->batch_due > now)
		g->batch_due = now;
	return 0;
}

static int sub_nop(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	(void)arg;
	(void)group;
	(void)index;
	(void)epoch;
	return 0;
}

static void sub_state(void *arg, const char *group, enum gm_state st)
{
	struct group *g = gcks_group_find(arg, group);

	if (g != NULL)
		g->parent_state = st;
}

static int parent_join(struct gcks *k, struct group *g, int64_t now, char *err)
{
	static const struct gm_ops ops = { .send = parent_send, .sa_install = sub_install,
		.sa_send = sub_nop, .sa_remove = sub_nop, .state = sub_state };
	struct gm_group_conf gc;
	int rc;

	if (k->gm == NULL) {
		struct gm_conf mc = { .key = k->conf.key, .ks_trust = k->conf.trust,
			.go_trust = k->conf.go_trust, .enc_mech = k->conf.kek_alg };

		rc = gm_new(&mc, &ops, k, &k->gm);
		if (rc != 0) {
			snprintf(err, GCKS_ERR_MAX, "group %s: parent: %s", g->name, strerror(-rc));
			return rc;
		}
	}
	memset(&gc, 0, sizeof(gc));
	snprintf(gc.name, sizeof(gc.name), "%s", g->name);
	memcpy(gc.gid, g->gid, sizeof(gc.gid));
	memcpy(&gc.server, &g->conf.parent, sizeof(gc.server));
	gc.server_len = g->conf.parent_len;
	gc.sids = g->conf.parent_sids;
	rc = gm_group_add(k->gm, &gc);
	if (rc == 0)
		rc = gm_join(k->gm, g->name, now);
	if (rc != 0)
		snprintf(err, GCKS_ERR_MAX, "group %s: registering with the parent: %s", g->name,
				strerror(-rc));
	return rc;
}

static void proxy_tick(struct gcks *k, struct group *g, int64_t now, int64_t *next)
{
	if (!g->sub || g->proxy[0] == '\0')
		return;
	if (g->proxy_next <= now) {
		if (gm_proxy_depart(k->gm, g->name, g->proxy, now) == 0)
			g->ctr[GCKS_C_PROXY_EVICT]++;
		g->proxy_next = now + GCKS_PROXY_RESEND_MS;
	}
	if (g->proxy_next < *next)
		*next = g->proxy_next;
}

int gcks_group_add(struct gcks *k, const struct gcks_group_conf *conf, int64_t now_ms,
		char err[GCKS_ERR_MAX])
{
	struct gstore_group row;
	struct group *g;
	int rc;

	err[0] = '\0';
	if (k == NULL || conf == NULL || conf->token == NULL || conf->token_len == 0)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->k = k;
	g->conf = *conf;
	g->conf.token = NULL;
	g->sub = conf->parent.ss_family != 0;
	conf_defaults(&g->conf);
	g->tok_der = malloc(conf->token_len);
	g->hash_mask = 63;
	g->hash = calloc(g->hash_mask + 1, sizeof(*g->hash));
	if (g->tok_der == NULL || g->hash == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(g->tok_der, conf->token, conf->token_len);
	g->tok_len = conf->token_len;
	rc = group_from_token(k, g, now_ms, err);
	if (rc != 0)
		goto fail;
	if (gcks_group_find(k, g->name) != NULL) {
		snprintf(err, GCKS_ERR_MAX, "group %s: already served", g->name);
		rc = -EEXIST;
		goto fail;
	}
	struct lkh_params lp = { .degree = g->rk.degree,
		.max_members = g->conf.max_members };

	rc = lkh_create(&lp, &g->tree);
	if (rc != 0) {
		snprintf(err, GCKS_ERR_MAX, "group %s: max_members %u with degree %u: %s", g->name,
				lp.max_members, lp.degree, strerror(-rc));
		goto fail;
	}
	g->sid_space = 1u << g->data[0].p.sid_bits;
	g->sids = calloc(g->sid_space, sizeof(*g->sids));
	rc = gsakmp_cookie_ctx_new(&g->cookie);
	if (g->sids == NULL || rc != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	g->cookie_rotated = now_ms;
	rc = gstore_group_get(k->conf.store, g->name, &row);
	if (rc == 0)
		rc = group_load(g, &row, now_ms, err);
	else if (rc == -ENOENT)
		rc = group_create(g, now_ms, err);
	else
		snprintf(err, GCKS_ERR_MAX, "group %s: store: %s", g->name,
				gstore_errmsg(k->conf.store));
	if (rc != 0)
		goto fail;
	for (uint32_t i = 0; i < g->nb_data; i++)
		g->data[i].next_rekey_ms = 0;   /* rekey.c computes it at the first tick */
	g->next_heartbeat = now_ms;
	if (g->sub) {
		rc = parent_join(k, g, now_ms, err);
		if (rc != 0)
			goto fail;
	}
	g->next = k->groups;
	k->groups = g;
	return 0;
fail:
	group_free(g);
	return rc;
}

/* ------------------------------------------------------------------ input and timers */

int gcks_input(struct gcks *k, const uint8_t *buf, size_t len, const struct sockaddr *from,
		socklen_t fromlen, int64_t now_ms)
{
	struct gsakmp_msg *msg;
	struct group *g;
	int rc;

	if (k == NULL || buf == NULL || from == NULL)
		return -EINVAL;
	k->now = now_ms;
	/* the group first, from the header alone: a datagram for no group of ours is dropped
	 * before any payload is looked at */
	if (len < GSAKMP_HDR_FIXED || buf[0] != GSAKMP_GID_OCTETS || buf[1] == 0 ||
			len < GSAKMP_HDR_FIXED + (size_t)buf[1])
		return -GSAKMP_E_TRUNCATED;
	g = gcks_group_by_gid(k, buf + 2, buf[1]);
	if (g == NULL)
		return -GSAKMP_E_GROUP_ID;
	g->ctr[GCKS_C_RX]++;
	/* a sub-GC/KS hears its parent as a member does: Key Downloads, Rekey Events and the
	 * like go to the member engine, which checks they are the parent's */
	uint8_t exch = len > 4u + buf[1] ? buf[4 + buf[1]] : 0;

	if (g->sub && exch != GSAKMP_EXCH_RTJ && exch != GSAKMP_EXCH_KEYDL_ACK &&
			exch != GSAKMP_EXCH_RTD && exch != GSAKMP_EXCH_DA)
		return gm_input(k->gm, buf, len, from, fromlen, now_ms);
	msg = malloc(sizeof(*msg));
	if (msg == NULL)
		return -ENOMEM;
	struct gsakmp_dec_ctx ctx = { .gid = g->gidv, .gid_type = GSAKMP_GID_OCTETS,
		.gid_len = g->gidv_len,
		.exch_mask = GSAKMP_EXCH_BIT(GSAKMP_EXCH_RTJ) |
			GSAKMP_EXCH_BIT(GSAKMP_EXCH_KEYDL_ACK) | GSAKMP_EXCH_BIT(GSAKMP_EXCH_RTD) |
			GSAKMP_EXCH_BIT(GSAKMP_EXCH_DA) };

	rc = gsakmp_decode(buf, len, msg, &ctx);
	if (rc != 0)
		g->ctr[GCKS_C_BAD_MSG]++;
	else
		rc = gcks_reg_input(k, g, msg, from, fromlen, now_ms);
	free(msg);
	return rc;
}

int64_t gcks_tick(struct gcks *k, int64_t now_ms)
{
	int64_t next = INT64_MAX;

	k->now = now_ms;
	for (struct group *g = k->groups; g != NULL; g = g->next) {
		if (now_ms - g->cookie_rotated >= GCKS_COOKIE_ROTATE_MS) {
			gsakmp_cookie_rotate(g->cookie, NULL);
			g->cookie_rotated = now_ms;
		}
		if (g->cookie_rotated + GCKS_COOKIE_ROTATE_MS < next)
			next = g->cookie_rotated + GCKS_COOKIE_ROTATE_MS;
		gcks_reg_tick(g, now_ms, &next);
		gcks_rekey_tick(g, now_ms, &next);
		proxy_tick(k, g, now_ms, &next);
		txq_tick(g, now_ms, &next);
	}
	if (k->gm != NULL) {
		int64_t n = gm_tick(k->gm, now_ms);

		if (n < next)
			next = n;
	}
	return next;
}

/* ------------------------------------------------------------------ operator actions */

int gcks_evict(struct gcks *k, const char *group, const char *subject, int64_t now_ms)
{
	struct group *g = gcks_group_find(k, group);
	struct member *m;

	if (g == NULL)
		return -ENOENT;
	m = gcks_member_find(g, subject);
	if (m == NULL)
		return -ENOENT;
	if (m->s.state == GCKS_MS_EVICTED)
		return 0;
	g->ctr[GCKS_C_EVICT]++;
	if (m->s.member_id != 0 && !(m->staged && m->s.state == GCKS_MS_LEAVING)) {
		g->evictions++;
		m->staged = true;
	}
	if (m->reg != NULL) {
		gcks_reg_free(m->reg);
		m->reg = NULL;
		g->nb_pending--;
	}
	m->s.state = GCKS_MS_EVICTED;
	if (m->s.member_id == 0) {
		/* never reached the tree: nothing to rekey */
		gcks_sid_release(g, m);
		m->staged = false;
		return gcks_store_member(g, m);
	}
	gcks_stage(g, now_ms);
	return 0;
}

int gcks_readmit(struct gcks *k, const char *group, const char *subject)
{
	struct group *g = gcks_group_find(k, group);
	struct member *m;

	if (g == NULL)
		return -ENOENT;
	m = gcks_member_find(g, subject);
	if (m == NULL || m->s.state != GCKS_MS_EVICTED)
		return -ENOENT;
	if (m->staged)
		return -EBUSY;   /* its eviction has not been committed yet */
	gstore_member_del(k->conf.store, g->name, m->s.subject);
	gcks_member_drop(g, m);
	return 0;
}

int gcks_rekey(struct gcks *k, const char *group, int64_t now_ms)
{
	struct group *g = gcks_group_find(k, group);

	if (g == NULL)
		return -ENOENT;
	g->force_epoch = true;
	g->reason = "manual";
	return gcks_batch(g, now_ms);
}

int gcks_destroy(struct gcks *k, const char *group, int64_t now_ms)
{
	struct group **pp = &k->groups;
	int rc;

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, group) == 0)
			break;
	if (*pp == NULL)
		return -ENOENT;
	struct group *g = *pp;

	rc = gcks_send_destroy(g, now_ms);
	if (rc != 0)
		return rc;
	rc = gstore_group_del(k->conf.store, g->name);
	*pp = g->next;
	group_free(g);
	return rc;
}

/* ------------------------------------------------------------------ views */

int gcks_group_info(const struct gcks *k, const char *group, struct gcks_group_info *o)
{
	const struct group *g = gcks_group_find(k, group);

	if (g == NULL || o == NULL)
		return -ENOENT;
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", g->name);
	memcpy(o->gid, g->gid, 8);
	o->members = lkh_members(g->tree);
	o->pending = g->nb_pending;
	o->capacity = lkh_capacity(g->tree);
	o->degree = (uint8_t)lkh_degree(g->tree);
	o->height = (uint8_t)lkh_height(g->tree);
	o->root_handle = g->root_handle;
	o->seq = g->seq;
	o->nb_data = g->nb_data;
	for (uint32_t i = 0; i < g->nb_data; i++) {
		o->data[i].epoch = g->data[i].cur.s.epoch;
		o->data[i].spi = g->data[i].cur.s.spi;
		o->data[i].expires = g->data[i].cur.s.expires;
		o->data[i].next_rekey_ms = g->data[i].next_rekey_ms;
		o->data[i].prev_epoch = g->data[i].prev.live ? g->data[i].prev.s.epoch : 0;
	}
	if (g->sub)
		for (uint16_t j = 0; j < g->pool_n; j++)
			o->sids_free += g->sids[g->pool[j]].owner == NULL;
	else
		for (uint32_t s = 1; s < g->sid_space; s++)
			o->sids_free += g->sids[s].owner == NULL;
	o->sub = g->sub;
	o->parent_state = g->sub ? gm_state_name(g->parent_state) : NULL;
	memcpy(o->ctr, g->ctr, sizeof(o->ctr));
	return 0;
}

int gcks_groups(const struct gcks *k, int (*cb)(void *arg, const char *name), void *arg)
{
	for (const struct group *g = k->groups; g != NULL; g = g->next)
		if (cb(arg, g->name) != 0)
			break;
	return 0;
}

int gcks_members(const struct gcks *k, const char *group,
		int (*cb)(void *arg, const struct gcks_member_info *m), void *arg)
{
	const struct group *g = gcks_group_find(k, group);
	struct gcks_member_info mi;

	if (g == NULL)
		return -ENOENT;
	GCKS_FOREACH_MEMBER(g, m) {
		memset(&mi, 0, sizeof(mi));
		snprintf(mi.subject, sizeof(mi.subject), "%s", m->s.subject);
		mi.member_id = m->s.member_id;
		mi.role = m->s.role;
		mi.state = (enum gcks_member_state)m->s.state;
		mi.nb_sids = m->s.nb_sids;
		memcpy(mi.sids, m->s.sids, sizeof(mi.sids));
		mi.addr = m->s.addr;
		mi.addr_len = m->s.addr_len;
		mi.joined_ms = m->s.joined;
		mi.acked_ms = m->s.acked;
		if (cb(arg, &mi) != 0)
			return 0;
	}
	return 0;
}
