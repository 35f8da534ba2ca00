/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The member's keys (its LKH path and the traffic key epochs) and the data plane contract of
 * RFC 5374 §4.2.1: an epoch is installed on receipt, sent on ATD later, removed DTD later.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "gm_pvt.h"

#define HAS(sa, a) (((sa)->present >> (a)) & 1u)
#define SET(sa, a) ((sa)->present |= 1u << (a))

/* An epoch's key and dates from its Key Datum (key_len already checked against GM_KEY_MAX). */
void gm_pvt_epoch_key(struct gm_epoch *e, uint32_t index, const struct gsakmp_key_datum *d)
{
	e->index = index;
	e->epoch = d->handle;
	e->key_type = d->type;
	e->key_len = d->key_len;
	memcpy(e->key, d->key, d->key_len);
	e->created = d->created;
	e->expires = d->expires;
}

/*
 * A data SA item (Key Download) or Key Package 193 (Rekey Event) against the policy token's
 * data SA of the same index (doc/key-management.md §2, "every SA's parameters those of the
 * token's data SA"). What the key server left out is filled in from the token, so the data
 * plane gets every parameter. In a Key Download the send flag must be one the token allows;
 * a Rekey Event carries neither direction bits nor SIDs (the member keeps its own, RFC 6054
 * §4), so they are cleared here and set by the caller.
 */
int gm_pvt_sa_check(const struct gm *gm, const struct policy_token *tok, bool keydl,
		struct gsakmp_sa_attrs *sa, uint32_t *index)
{
	const uint32_t shape = GSAKMP_SAF_PRESERVE_SRC | GSAKMP_SAF_PRESERVE_DST | GSAKMP_SAF_ESN;
	struct policy_data_sa d;
	uint32_t want = 0, dir = 0, i;
	uint8_t alen;

	if (sa->key_id < GM_GTPK_ID_BASE)
		return -GM_R_SA_ITEM;
	i = sa->key_id - GM_GTPK_ID_BASE;
	if (i >= policy_token_data_count(tok) || policy_token_data(tok, i, &d) != 0)
		return -GM_R_SA_ITEM;
	if (sa->suite != (uint16_t)d.suite)
		return -GM_R_SA_MISMATCH;
	if (d.ap == POLICY_AP_SRC || d.ap == POLICY_AP_SRC_DST)
		want |= GSAKMP_SAF_PRESERVE_SRC;
	if (d.ap == POLICY_AP_DST || d.ap == POLICY_AP_SRC_DST)
		want |= GSAKMP_SAF_PRESERVE_DST;
	if (d.esn)
		want |= GSAKMP_SAF_ESN;
	if (HAS(sa, GSAKMP_ATTR_FLAGS) && (sa->flags & shape) != want)
		return -GM_R_SA_MISMATCH;
	if (keydl) {
		dir = HAS(sa, GSAKMP_ATTR_FLAGS) ?
			sa->flags & (GSAKMP_SAF_SEND | GSAKMP_SAF_RECEIVE) : GSAKMP_SAF_RECEIVE;
		/* a sub-GC/KS's SIDs are the pool it hands its own senders (RFC 4535 §4.1.4:
		 * every GC/KS authority but creating the traffic keys) */
		if ((dir & GSAKMP_SAF_SEND) && d.direction != POLICY_DIR_SYMMETRIC &&
				policy_authorize(tok, POLICY_ROLE_SENDER, gm->cert) != 0 &&
				policy_authorize(tok, POLICY_ROLE_SUBGCKS, gm->cert) != 0)
			return -GM_R_SA_MISMATCH;
	} else {
		sa->present &= ~(1u << GSAKMP_ATTR_SIDS);
		sa->nb_sids = 0;
	}
	sa->flags = want | dir;
	SET(sa, GSAKMP_ATTR_FLAGS);
	if (HAS(sa, GSAKMP_ATTR_SID_BITS) && sa->sid_bits != d.sid_bits)
		return -GM_R_SA_MISMATCH;
	sa->sid_bits = d.sid_bits;
	SET(sa, GSAKMP_ATTR_SID_BITS);
	if (HAS(sa, GSAKMP_ATTR_ACT_DELAY) && sa->act_delay_ms != d.activation_delay_ms)
		return -GM_R_SA_MISMATCH;
	sa->act_delay_ms = d.activation_delay_ms;
	SET(sa, GSAKMP_ATTR_ACT_DELAY);
	if (HAS(sa, GSAKMP_ATTR_DEACT_DELAY) && sa->deact_delay_ms != d.deactivation_delay_ms)
		return -GM_R_SA_MISMATCH;
	sa->deact_delay_ms = d.deactivation_delay_ms;
	SET(sa, GSAKMP_ATTR_DEACT_DELAY);
	if (HAS(sa, GSAKMP_ATTR_REPLAY_WINDOW) && sa->replay_window != d.replay_window)
		return -GM_R_SA_MISMATCH;
	sa->replay_window = d.replay_window;
	SET(sa, GSAKMP_ATTR_REPLAY_WINDOW);
	alen = d.family == AF_INET ? 4 : 16;
	if (HAS(sa, GSAKMP_ATTR_GROUP_ADDR) &&
			(sa->addr_len != alen || memcmp(sa->group_addr, d.group, alen) != 0))
		return -GM_R_SA_MISMATCH;
	if (HAS(sa, GSAKMP_ATTR_SOURCE_ADDR) && (!d.has_source || sa->addr_len != alen ||
			memcmp(sa->source_addr, d.source, alen) != 0))
		return -GM_R_SA_MISMATCH;
	sa->addr_len = alen;
	memcpy(sa->group_addr, d.group, alen);
	SET(sa, GSAKMP_ATTR_GROUP_ADDR);
	if (d.has_source) {
		memcpy(sa->source_addr, d.source, alen);
		SET(sa, GSAKMP_ATTR_SOURCE_ADDR);
	}
	if (HAS(sa, GSAKMP_ATTR_TESLA) != d.tesla)
		return -GM_R_SA_MISMATCH;
	*index = i;
	return 0;
}

struct gm_node *gm_pvt_node(struct gm_group *g, uint32_t id)
{
	for (unsigned int i = 0; i < g->nb_nodes; i++)
		if (g->nodes[i].id == id)
			return &g->nodes[i];
	return NULL;
}

struct gm_epoch *gm_pvt_epoch(struct gm_group *g, uint32_t index, uint32_t epoch)
{
	for (unsigned int i = 0; i < g->nb_epochs; i++)
		if (g->ep[i]->index == index && g->ep[i]->epoch == epoch)
			return g->ep[i];
	return NULL;
}

struct gm_epoch *gm_pvt_newest(const struct gm_group *g, uint32_t index)
{
	struct gm_epoch *best = NULL;

	for (unsigned int i = 0; i < g->nb_epochs; i++)
		if (g->ep[i]->index == index && (best == NULL || g->ep[i]->epoch > best->epoch))
			best = g->ep[i];
	return best;
}

int gm_pvt_epoch_add(struct gm_group *g, const struct gm_epoch *src, struct gm_epoch **out)
{
	struct gm_epoch *e;

	if (g->nb_epochs == GM_MAX_EPOCHS)
		return -GSAKMP_E_LIMIT;
	e = malloc(sizeof(*e));
	if (e == NULL)
		return -GSAKMP_E_NOMEM;
	memcpy(e, src, sizeof(*e));
	e->installed = false;
	e->sending = false;
	e->send_at = 0;
	e->remove_at = 0;
	g->ep[g->nb_epochs++] = e;
	*out = e;
	return 0;
}

int gm_pvt_install(struct gm *gm, struct gm_group *g, struct gm_epoch *e)
{
	struct gm_sa sa = {
		.group = g->conf.name,
		.index = e->index,
		.epoch = e->epoch,
		.spi = e->attrs.spi,
		.attrs = &e->attrs,
		.key_type = e->key_type,
		.key = e->key,
		.key_len = e->key_len,
		.expires_ms = e->expires * 1000,
		.send = e->send,
		.sids = e->attrs.sids,
		.nb_sids = e->attrs.nb_sids,
	};

	if (gm->ops.sa_install(gm->arg, &sa) < 0)
		return -GM_R_INSTALL;
	e->installed = true;
	gm_pvt_event(gm, g, GM_EV_EPOCH_INSTALLED);
	return 0;
}

/* ATD reached: the data plane sends on e from now on, and no longer on its predecessors. */
void gm_pvt_activate(struct gm *gm, struct gm_group *g, struct gm_epoch *e)
{
	e->send_at = 0;
	if (!e->installed || !e->send)
		return;
	gm->ops.sa_send(gm->arg, g->conf.name, e->index, e->epoch);
	for (unsigned int i = 0; i < g->nb_epochs; i++)
		if (g->ep[i]->index == e->index)
			g->ep[i]->sending = false;
	e->sending = true;
	gm_pvt_event(gm, g, GM_EV_EPOCH_ACTIVATED);
}

void gm_pvt_remove(struct gm *gm, struct gm_group *g, unsigned int i)
{
	struct gm_epoch *e = g->ep[i];

	if (e->installed) {
		gm->ops.sa_remove(gm->arg, g->conf.name, e->index, e->epoch);
		gm_pvt_event(gm, g, GM_EV_EPOCH_REMOVED);
	}
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
	memmove(&g->ep[i], &g->ep[i + 1], (g->nb_epochs - i - 1) * sizeof(g->ep[0]));
	g->nb_epochs--;
}

void gm_pvt_remove_all(struct gm *gm, struct gm_group *g)
{
	while (g->nb_epochs > 0)
		gm_pvt_remove(gm, g, g->nb_epochs - 1u);
}

/* Make-before-break: the predecessors of a new epoch go at `at` (now + DTD) at the latest. */
void gm_pvt_retire_older(struct gm_group *g, uint32_t index, uint32_t epoch, int64_t at)
{
	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		struct gm_epoch *e = g->ep[i];

		if (e->index != index || e->epoch >= epoch)
			continue;
		e->send_at = 0;
		if (e->remove_at == 0 || e->remove_at > at)
			e->remove_at = at;
	}
}

/* Forget the LKH path (the epochs are removed separately, through the data plane). */
void gm_pvt_forget_keys(struct gm_group *g)
{
	OPENSSL_cleanse(g->nodes, sizeof(g->nodes));
	g->nb_nodes = 0;
	g->member_id = 0;
	g->have_keys = false;
}

void gm_pvt_pending_clear(struct gm *gm)
{
	struct gm_pending *p = &gm->pend;

	OPENSSL_cleanse(p->nodes, p->nb_nodes * sizeof(p->nodes[0]));
	OPENSSL_cleanse(p->ep, p->nb_epochs * sizeof(p->ep[0]));
	p->nb_nodes = 0;
	p->nb_epochs = 0;
	p->nb_blk = 0;
	p->member_id = 0;
	policy_token_free(p->tok);
	p->tok = NULL;
}

void gm_pvt_epoch_timers(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		struct gm_epoch *e = g->ep[i];

		if (e->send_at != 0 && e->send_at <= now_ms)
			gm_pvt_activate(gm, g, e);
	}
	for (unsigned int i = g->nb_epochs; i-- > 0;) {
		struct gm_epoch *e = g->ep[i];

		if (e->expires * 1000 <= now_ms) {
			gm_pvt_event(gm, g, GM_EV_EPOCH_EXPIRED);
			gm_pvt_remove(gm, g, i);
		} else if (e->remove_at != 0 && e->remove_at <= now_ms) {
			gm_pvt_remove(gm, g, i);
		}
	}
}

/* Adopt a verified token: its state refuses older ones, its rekey policy sets our timers. */
void gm_pvt_set_token(struct gm_group *g, struct policy_token *tok, const uint8_t hash[32])
{
	struct policy_rekey rk;

	policy_token_free(g->tok);
	g->tok = tok;
	memcpy(g->tok_hash, hash, 32);
	policy_token_state(tok, &g->pstate);
	/*
	 * Rekey Event Data is protected as the token's LKH key_wrap says: RFC 3394 key wrap is
	 * carried as the profile's RFC 5649 form (mechanism 49154), GCM as 49153.
	 */
	if (policy_token_rekey(tok, &rk) == 0 && rk.method == POLICY_REKEY_LKH) {
		g->rekey_alg = rk.key_wrap == POLICY_WRAP_AES256_GCM ? GSAKMP_KEK_AES256_GCM :
			GSAKMP_KEK_AES256_KWP;
		g->max_silence_ms = (int64_t)rk.max_silence_seconds * 1000;
	} else {
		g->rekey_alg = GSAKMP_KEK_AES256_GCM;
		g->max_silence_ms = 0;
	}
}
