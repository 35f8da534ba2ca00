/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration (RFC 4535 §5.2.1, Terse mode; doc/key-management.md §2, §3): Request to Join
 * with back-off and fresh attempts, cookies (§5.2.2), the Key Download's checks in the order
 * of §5.2.1.2, Ack or Nack, and Lack of Ack.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gm_pvt.h"

/* Request to Join: KC, Nonce_I, Mechanism Choices, [Cookie], VID, Sig, Cert. */
static int build_rtj(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	const struct gsakmp_mech mech[] = {
		{ GSAKMP_MECH_KEY_CREATION, GSAKMP_MECH_KC_X25519 },
		{ GSAKMP_MECH_ENCRYPTION, gm->conf.enc_mech },
		{ GSAKMP_MECH_NONCE_HASH, GSAKMP_MECH_NONCE_SHA256 },
		{ GSAKMP_MECH_SENDER_IDS, g->conf.sids },
	};
	struct gsakmp_enc *e;
	uint8_t mb[3 * 4];
	size_t mbl, len;
	int rc;

	rc = gsakmp_mech_build(mech, 4, mb, sizeof(mb), &mbl);
	if (rc == 0)
		rc = gm_pvt_enc_start(g, GSAKMP_EXCH_RTJ, gm->out, sizeof(gm->out), &e);
	if (rc != 0)
		return rc;
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, g->pub, sizeof(g->pub));
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, g->nonce_i, sizeof(g->nonce_i));
	gsakmp_enc_payload_notify(e, GSAKMP_N_MECH_CHOICES, mb, mbl);
	if (g->cookie_len != 0)
		gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE, g->cookie, g->cookie_len);
	rc = gm_pvt_enc_sign(gm, e, now_ms, &len);
	if (rc == 0)
		rc = gm_pvt_keep(&g->rtj, &g->rtj_len, gm->out, len);
	return rc;
}

static void drop_attempt(struct gm_group *g)
{
	gsakmp_kex_free(g->kex);
	g->kex = NULL;
	OPENSSL_cleanse(g->nonce_i, sizeof(g->nonce_i));
	g->cookie_len = 0;
	g->nb_cookies = 0;
	g->tries = 0;
}

/*
 * A fresh attempt: new X25519 pair and Nonce_I (RFC 4535 §5.2.1.1), Request to Join now.
 * On failure the next attempt is scheduled after a jittered pause.
 */
int gm_pvt_attempt(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	int rc;

	drop_attempt(g);
	rc = gsakmp_kex_x25519_new(&g->kex);
	if (rc == 0)
		rc = gsakmp_kex_x25519_public(g->kex, g->pub);
	if (rc == 0)
		rc = gsakmp_random(g->nonce_i, sizeof(g->nonce_i));
	if (rc == 0)
		rc = build_rtj(gm, g, now_ms);
	if (rc != 0) {
		drop_attempt(g);
		g->reg_at = now_ms + gm_pvt_jitter(gm);
		return rc;
	}
	gm_pvt_send(gm, g, g->rtj, g->rtj_len);
	gm_pvt_event(gm, g, GM_EV_RTJ_SENT);
	g->reg_at = now_ms + GM_RTJ_BACKOFF_MS;
	return 0;
}

/* A missed rekey (§3 item 5): register again, keeping the SAs until the Key Download. */
void gm_pvt_rereg(struct gm *gm, struct gm_group *g, int64_t now_ms, enum gm_ev why)
{
	gm_pvt_event(gm, g, why);
	gm_pvt_set_state(gm, g, GM_ST_REGISTERING);
	gm_pvt_attempt(gm, g, now_ms);
}

/*
 * The same Request to Join after 1 s, 2 s, 4 s (RFC 4535's "up to three times"); a jittered
 * pause after the third, during which a Key Download for it is still taken; then a fresh
 * attempt. An attempt dropped after a Nack starts afresh at reg_at.
 */
void gm_pvt_reg_timer(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	if (g->reg_at == 0 || g->reg_at > now_ms)
		return;
	if (g->kex != NULL && g->tries < GM_RTJ_RETRIES) {
		gm_pvt_send(gm, g, g->rtj, g->rtj_len);
		gm_pvt_event(gm, g, GM_EV_RTJ_RETRANSMIT);
		g->tries++;
		g->reg_at = now_ms + (g->tries < GM_RTJ_RETRIES ?
			(int64_t)GM_RTJ_BACKOFF_MS << g->tries : gm_pvt_jitter(gm));
		return;
	}
	gm_pvt_event(gm, g, GM_EV_RTJ_RESTART);
	gm_pvt_attempt(gm, g, now_ms);
}

/*
 * Cookie Download (RFC 4535 §5.2.2): the same Request to Join (same Nonce_I and KC) with the
 * cookie, unmodified. It is unsigned, so it is only taken while our attempt is in flight and
 * a few times per attempt.
 */
int gm_pvt_cookie(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms)
{
	const struct gsakmp_payload *pl = gsakmp_msg_find(m, GSAKMP_PL_NOTIFICATION, 0);
	const struct gsakmp_notify *n;
	int rc;

	if (g->state != GM_ST_REGISTERING || g->kex == NULL ||
			g->nb_cookies >= GM_COOKIES_PER_ATTEMPT)
		return -GM_R_UNSOLICITED;
	if (pl == NULL || pl->u.notify.type != GSAKMP_N_COOKIE_REQUIRED ||
			pl->u.notify.len == 0 || pl->u.notify.len > GM_COOKIE_MAX)
		return -GSAKMP_E_NOTIFY;
	n = &pl->u.notify;
	memcpy(g->cookie, n->data, n->len);
	g->cookie_len = (uint8_t)n->len;
	g->nb_cookies++;
	rc = build_rtj(gm, g, now_ms);
	if (rc != 0)
		return rc;
	gm_pvt_event(gm, g, GM_EV_COOKIE);
	gm_pvt_send(gm, g, g->rtj, g->rtj_len);
	g->tries = 0;
	g->reg_at = now_ms + GM_RTJ_BACKOFF_MS;
	return 0;
}

/* Key Download - Ack/Failure (exchange 4): [Nonce_C], Ack (type 0) or Nack. */
static int build_kdaf(struct gm *gm, struct gm_group *g, const uint8_t *nonce_c, bool ack,
		int64_t now_ms, size_t *len)
{
	static const uint8_t simple = GSAKMP_ACK_SIMPLE;
	struct gsakmp_enc *e;
	int rc;

	rc = gm_pvt_enc_start(g, GSAKMP_EXCH_KEYDL_ACK, gm->out, sizeof(gm->out), &e);
	if (rc != 0)
		return rc;
	if (nonce_c != NULL)
		gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nonce_c, GSAKMP_NONCE_C_LEN);
	if (ack)
		gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, &simple, 1);
	else
		gsakmp_enc_payload_notify(e, GSAKMP_N_NACK, NULL, 0);
	return gm_pvt_enc_sign(gm, e, now_ms, len);
}

/*
 * The Key Download's contents (doc/key-management.md §2): one Rekey-LKH item whose path is
 * root first, AES-256 KEKs with distinct node numbers; every traffic key with exactly one
 * data SA item, for an index of the token, of the suite's key type, with the token's
 * parameters; every key unexpired; every data SA of the token keyed. Staged in gm->pend.
 */
static int kd_stage(struct gm *gm, struct gm_group *g, const struct policy_token *tok,
		int64_t now_ms)
{
	const struct gsakmp_kd *kd = &gm->kd;
	struct gm_pending *p = &gm->pend;
	const struct gsakmp_rekey_array *ra = NULL;
	uint32_t nb_sa = policy_token_data_count(tok);
	uint64_t keyed = 0;
	unsigned int nb_dsa = 0;
	int rc;

	for (unsigned int i = 0; i < kd->nb_items; i++) {
		if (kd->items[i].type != GSAKMP_KDD_REKEY_LKH)
			continue;
		if (ra != NULL)
			return -GM_R_LKH_ITEMS;
		ra = &kd->items[i].u.ra;
	}
	if (ra == NULL || ra->nb_keys == 0 || ra->member_id == 0)
		return -GM_R_LKH_ITEMS;
	for (unsigned int k = 0; k < ra->nb_keys; k++) {
		const struct gsakmp_key_datum *d = &kd->keys[ra->first_key + k];
		struct gm_node *n = &p->nodes[k];

		if (d->type != GSAKMP_KEY_AES_256_KEK || d->id == 0 || d->id >= GM_GTPK_ID_BASE ||
				(k == 0) != (d->id == 1) || d->key_len != GSAKMP_KEK_LEN)
			return -GM_R_LKH_ITEMS;
		for (unsigned int j = 0; j < k; j++)
			if (p->nodes[j].id == d->id)
				return -GM_R_LKH_ITEMS;
		if (d->expires * 1000 <= now_ms)
			return -GM_R_STALE_KEY;
		n->id = d->id;
		n->handle = d->handle;
		n->created = d->created;
		n->expires = d->expires;
		memcpy(n->key, d->key, GSAKMP_KEK_LEN);
		p->nb_nodes++;
	}
	p->member_id = ra->member_id;

	for (unsigned int i = 0; i < kd->nb_items; i++) {
		const struct gsakmp_key_datum *d = &kd->items[i].u.datum;
		const struct gsakmp_sa_attrs *sa = NULL;
		struct gm_epoch *e;
		uint32_t index;

		if (kd->items[i].type == GSAKMP_KDD_DATA_SA)
			nb_dsa++;
		if (kd->items[i].type != GSAKMP_KDD_GTPK)
			continue;
		if (d->id < GM_GTPK_ID_BASE)
			return -GM_R_SA_ITEM;
		for (unsigned int j = 0; j < kd->nb_items; j++) {
			const struct gsakmp_sa_attrs *s = &kd->items[j].u.sa;

			if (kd->items[j].type != GSAKMP_KDD_DATA_SA || s->key_id != d->id ||
					s->key_handle != d->handle)
				continue;
			if (sa != NULL)
				return -GM_R_SA_ITEM;
			sa = s;
		}
		if (sa == NULL)
			return -GM_R_SA_ITEM;
		for (unsigned int j = 0; j < p->nb_epochs; j++)
			if (p->ep[j].index == d->id - GM_GTPK_ID_BASE &&
					p->ep[j].epoch == d->handle)
				return -GM_R_SA_ITEM;
		if (d->expires * 1000 <= now_ms)
			return -GM_R_STALE_KEY;
		if (p->nb_epochs == GM_MAX_EPOCHS || d->key_len > GM_KEY_MAX)
			return -GSAKMP_E_LIMIT;
		e = &p->ep[p->nb_epochs];
		memset(e, 0, sizeof(*e));
		/* byte for byte (padding too): a repeated epoch compares equal (kd_install) */
		memcpy(&e->attrs, sa, sizeof(*sa));
		rc = gm_pvt_sa_check(gm, tok, true, &e->attrs, &index);
		if (rc != 0)
			return rc;
		if (d->type != gsakmp_suite_key_type(e->attrs.suite))
			return -GM_R_SA_MISMATCH;
		gm_pvt_epoch_key(e, index, d);
		e->send = (e->attrs.flags & GSAKMP_SAF_SEND) && g->conf.sids != 0;
		p->nb_epochs++;
		if (index < 64)
			keyed |= UINT64_C(1) << index;
	}
	/* every data SA item names a traffic key (each key found exactly one above) */
	if (nb_dsa != p->nb_epochs)
		return -GM_R_SA_ITEM;
	for (uint32_t i = 0; i < nb_sa && i < 64; i++)
		if (!(keyed & (UINT64_C(1) << i)))
			return -GM_R_SA_ITEM;
	return 0;
}

static bool in_pending(const struct gm_pending *p, uint32_t index, uint32_t epoch)
{
	for (unsigned int i = 0; i < p->nb_epochs; i++)
		if (p->ep[i].index == index && p->ep[i].epoch == epoch)
			return true;
	return false;
}

/* Is held epoch h one the Key Download carries again, key and SPI unchanged? */
static bool kd_same(const struct gm_pending *p, const struct gm_epoch *h)
{
	for (unsigned int i = 0; i < p->nb_epochs; i++) {
		const struct gm_epoch *e = &p->ep[i];

		if (e->index == h->index && e->epoch == h->epoch && e->key_len == h->key_len &&
				e->attrs.spi == h->attrs.spi &&
				CRYPTO_memcmp(e->key, h->key, h->key_len) == 0)
			return true;
	}
	return false;
}

/*
 * Install the staged epochs. A held epoch the Key Download repeats stays (re-installed if its
 * attributes changed, e.g. new SIDs); one with the same Key ID and Handle but another key or
 * SPI goes first (the Key Download is authoritative); held epochs it does not carry stay
 * until they are retired. On a failed install the epochs installed here are removed again.
 */
static int kd_install(struct gm *gm, struct gm_group *g)
{
	struct gm_pending *p = &gm->pend;
	unsigned int first_new, unmatched = 0;
	int rc;

	for (unsigned int i = 0; i < g->nb_epochs; i++)
		unmatched += !in_pending(p, g->ep[i]->index, g->ep[i]->epoch);
	if (unmatched + p->nb_epochs > GM_MAX_EPOCHS)
		return -GSAKMP_E_LIMIT;
	for (unsigned int i = g->nb_epochs; i-- > 0;)
		if (in_pending(p, g->ep[i]->index, g->ep[i]->epoch) && !kd_same(p, g->ep[i]))
			gm_pvt_remove(gm, g, i);
	first_new = g->nb_epochs;
	for (unsigned int i = 0; i < p->nb_epochs; i++) {
		struct gm_epoch *e = &p->ep[i], *h = gm_pvt_epoch(g, e->index, e->epoch);

		if (h != NULL) {
			if (!h->installed || h->send != e->send ||
					memcmp(&h->attrs, &e->attrs, sizeof(h->attrs)) != 0) {
				h->send = e->send;
				memcpy(&h->attrs, &e->attrs, sizeof(h->attrs));
				gm_pvt_install(gm, g, h);
			}
			continue;
		}
		rc = gm_pvt_epoch_add(g, e, &h);
		if (rc == 0)
			rc = gm_pvt_install(gm, g, h);
		if (rc != 0) {
			while (g->nb_epochs > first_new)
				gm_pvt_remove(gm, g, g->nb_epochs - 1u);
			return rc;
		}
	}
	return 0;
}

/*
 * The Key Download passed: keep what it established. Held epochs it did not carry go DTD
 * from now (make-before-break after a re-registration); the newest epoch of each data SA we
 * send on is sent on at once when we were not sending on that data SA, else ATD from now.
 */
static void kd_commit(struct gm *gm, struct gm_group *g, struct policy_token *tok,
		const uint8_t tok_hash[32], X509 *signer, const uint8_t nonce_c[32],
		int64_t now_ms)
{
	struct gm_pending *p = &gm->pend;
	uint8_t dn[GM_DN_MAX];
	size_t dn_len = 0;

	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		struct gm_epoch *h = g->ep[i];
		int64_t at = now_ms + h->attrs.deact_delay_ms;

		if (in_pending(p, h->index, h->epoch))
			continue;
		h->send_at = 0;
		if (h->remove_at == 0 || h->remove_at > at)
			h->remove_at = at;
	}
	gm_pvt_forget_keys(g);
	memcpy(g->nodes, p->nodes, p->nb_nodes * sizeof(p->nodes[0]));
	g->nb_nodes = p->nb_nodes;
	g->member_id = p->member_id;
	g->have_keys = true;

	if (gsakmp_signer_id(signer, GSAKMP_ID_DN_STRING, dn, sizeof(dn), &dn_len) != 0)
		dn_len = 0;
	/* another key server may number its Rekey Events afresh */
	if (dn_len != g->ks_dn_len || memcmp(dn, g->ks_dn, dn_len) != 0) {
		g->seq_any = false;
		g->seq_top = 0;
		memset(g->seq_map, 0, sizeof(g->seq_map));
	}
	memcpy(g->ks_dn, dn, dn_len);
	g->ks_dn_len = dn_len;
	X509_free(g->ks_cert);
	g->ks_cert = signer;
	gm_pvt_set_token(g, tok, tok_hash);
	memcpy(g->nonce_c, nonce_c, GSAKMP_NONCE_C_LEN);
	g->last_heard = now_ms;
	g->registrations++;
	drop_attempt(g);
	g->reg_at = 0;

	for (unsigned int i = 0; i < p->nb_epochs; i++) {
		struct gm_epoch *n;
		uint32_t newest = p->ep[i].epoch;
		bool sending = false;

		for (unsigned int j = 0; j < p->nb_epochs; j++)
			if (p->ep[j].index == p->ep[i].index && p->ep[j].epoch > newest)
				newest = p->ep[j].epoch;
		n = gm_pvt_epoch(g, p->ep[i].index, newest);
		if (n == NULL || !n->send || n->sending || n->send_at != 0)
			continue;
		for (unsigned int j = 0; j < g->nb_epochs; j++)
			sending |= g->ep[j]->index == n->index && g->ep[j]->sending;
		if (!sending || n->attrs.act_delay_ms == 0)
			gm_pvt_activate(gm, g, n);
		else
			n->send_at = now_ms + n->attrs.act_delay_ms;
	}
	gm_pvt_event(gm, g, GM_EV_KEYDL);
	gm_pvt_set_state(gm, g, GM_ST_MEMBER);
}

/*
 * Key Download (RFC 4535 §5.2.1.2), checked in the RFC's order, cheapest first: Member ID,
 * Nonce_C, the key server's signature and chain, the KEK, the policy token (Group Owner's
 * signature, not older than the last), the key server's authorization in it, the Key
 * Download's contents. A retransmitted Key Download we acknowledged gets the same Ack.
 *
 * Any failure: a Nack, and nothing kept. A failure after the key server's signature verified
 * drops the attempt (a fresh one follows a jittered pause); before it, the message may be
 * anyone's, so the attempt goes on and the Nack is rate-limited.
 */
int gm_pvt_keydl(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		const uint8_t *buf, size_t len, int64_t now_ms)
{
	uint8_t h[32], shared[GSAKMP_X25519_LEN], kek[GSAKMP_KEK_LEN], nc_mine[32], tok_hash[32];
	const struct gsakmp_payload *pt, *kc, *kdl;
	const struct gsakmp_nonce *nr, *nc;
	struct policy_token *tok = NULL;
	bool verified = false, nonce_ok = false;
	size_t pt_len = 0, out_len, ack_len = 0;
	uint8_t *ack = NULL;
	X509 *signer = NULL;
	int rc;

	rc = gm_pvt_sha256(buf, len, h);
	if (rc != 0)
		return rc;
	if (g->ack != NULL && memcmp(h, g->kd_hash, sizeof(h)) == 0) {
		gm_pvt_send(gm, g, g->ack, g->ack_len);
		gm_pvt_event(gm, g, GM_EV_ACK_RESENT);
		return 0;
	}
	if (g->state != GM_ST_REGISTERING || g->kex == NULL)
		return -GSAKMP_E_UNEXPECTED_EXCH;
	if (!gm_pvt_id_is_me(gm, m)) {
		rc = -GM_R_WRONG_MEMBER;
		goto nack;
	}
	nr = gm_pvt_nonce(m, GSAKMP_NONCE_R);
	nc = gm_pvt_nonce(m, GSAKMP_NONCE_C);
	if (nr == NULL || nc == NULL) {
		rc = -GSAKMP_E_NONCE;
		goto nack;
	}
	rc = gsakmp_nonce_c_check(g->nonce_i, sizeof(g->nonce_i), nr->data, nr->len, nc->data,
			nc->len);
	if (rc == 0)
		rc = gsakmp_nonce_c(g->nonce_i, sizeof(g->nonce_i), nr->data, nr->len, nc_mine);
	if (rc != 0)
		goto nack;
	nonce_ok = true;
	rc = gsakmp_verify(m, NULL, gm->conf.ks_trust, now_ms / 1000, gm->conf.max_skew, &signer);
	if (rc != 0)
		goto nack;
	verified = true;

	kc = gsakmp_msg_find(m, GSAKMP_PL_KEY_CREATION, 0);
	if (kc == NULL || kc->u.kc.type != GSAKMP_KC_X25519 || kc->u.kc.len != GSAKMP_X25519_LEN) {
		rc = -GSAKMP_E_KC;
		goto nack;
	}
	rc = gsakmp_kex_x25519_derive(g->kex, kc->u.kc.data, shared);
	if (rc == 0) {
		struct gsakmp_kek_info ki = {
			.gid = g->gid_value, .gid_len = g->gid_len, .pub_gm = g->pub,
			.pub_ks = kc->u.kc.data, .nonce_i = g->nonce_i,
			.nonce_i_len = sizeof(g->nonce_i), .nonce_r = nr->data,
			.nonce_r_len = nr->len,
		};

		rc = gsakmp_kek_derive(shared, &ki, kek);
	}
	if (rc != 0)
		goto nack;

	pt = gsakmp_msg_find(m, GSAKMP_PL_POLICY_TOKEN, 0);
	if (pt == NULL || pt->u.pt.type != GSAKMP_PT_ASN1_V1) {
		rc = -GSAKMP_E_PT_TYPE;
		goto nack;
	}
	rc = gsakmp_pt_open(m, &pt->u.pt, gm->conf.enc_mech, kek, gm->pt, sizeof(gm->pt),
			&pt_len);
	if (rc == 0)
		rc = gm_pvt_token(gm, g, gm->pt, pt_len, now_ms, &tok, tok_hash);
	if (rc != 0)
		goto nack;
	/* RFC 4535 §5.2.1.2 step 7: the token must authorize the key server */
	if (policy_authorize(tok, POLICY_ROLE_GCKS, signer) != 0 &&
			policy_authorize(tok, POLICY_ROLE_SUBGCKS, signer) != 0) {
		rc = -GM_R_UNAUTHORIZED_GCKS;
		goto nack;
	}
	kdl = gsakmp_msg_find(m, GSAKMP_PL_KEY_DOWNLOAD, 0);
	if (kdl == NULL) {
		rc = -GSAKMP_E_MISSING_PAYLOAD;
		goto nack;
	}
	rc = gsakmp_kdl_open(m, &kdl->u.kdl, gm->conf.enc_mech, kek, gm->plain,
			sizeof(gm->plain), &gm->kd);
	if (rc == 0)
		rc = kd_stage(gm, g, tok, now_ms);
	/* the Ack is built before anything is installed, so a failure leaves nothing */
	if (rc == 0)
		rc = build_kdaf(gm, g, nc_mine, true, now_ms, &out_len);
	if (rc == 0)
		rc = gm_pvt_keep(&ack, &ack_len, gm->out, out_len);
	if (rc == 0)
		rc = kd_install(gm, g);
	if (rc != 0)
		goto nack;
	free(g->ack);
	g->ack = ack;
	g->ack_len = ack_len;
	ack = NULL;
	memcpy(g->kd_hash, h, sizeof(h));
	gm_pvt_send(gm, g, g->ack, g->ack_len);
	kd_commit(gm, g, tok, tok_hash, signer, nc_mine, now_ms);
	tok = NULL;
	signer = NULL;
	goto out;

nack:
	if (verified || g->last_nack == 0 || now_ms - g->last_nack >= GM_NACK_INTERVAL_MS) {
		g->last_nack = now_ms;
		if (build_kdaf(gm, g, nonce_ok ? nc_mine : NULL, false, now_ms, &out_len) == 0) {
			gm_pvt_send(gm, g, gm->out, out_len);
			gm_pvt_event(gm, g, GM_EV_NACK);
		}
	}
	if (verified) {
		drop_attempt(g);
		g->reg_at = now_ms + gm_pvt_jitter(gm);
	}
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(gm->plain, sizeof(gm->plain));
	OPENSSL_cleanse(&gm->kd, sizeof(gm->kd));
	OPENSSL_cleanse(gm->pt, pt_len);
	gm_pvt_pending_clear(gm);
	policy_token_free(tok);
	X509_free(signer);
	free(ack);
	return rc;
}

/* Lack of Ack (RFC 4535 §5.2.1.5, Verbose mode): send our Ack again. */
int gm_pvt_loa(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m, int64_t now_ms)
{
	const struct gsakmp_nonce *nc;
	int rc;

	if (g->ack == NULL)
		return -GSAKMP_E_UNEXPECTED_EXCH;
	rc = gm_pvt_ks_verify(gm, g, m, now_ms);
	if (rc != 0)
		return rc;
	if (!gm_pvt_id_is_me(gm, m))
		return -GM_R_WRONG_MEMBER;
	nc = gm_pvt_nonce(m, GSAKMP_NONCE_C);
	if (nc != NULL && (nc->len != GSAKMP_NONCE_C_LEN ||
			CRYPTO_memcmp(nc->data, g->nonce_c, GSAKMP_NONCE_C_LEN) != 0))
		return -GSAKMP_E_NONCE_C;
	gm_pvt_send(gm, g, g->ack, g->ack_len);
	gm_pvt_event(gm, g, GM_EV_LOA);
	return 0;
}
