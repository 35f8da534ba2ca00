/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Departure (RFC 4535 §5.3.2.3; doc/key-management.md §3 item 6): Request to Depart,
 * Departure Response, Departure Ack, then the SAs go; without an answer within
 * GM_DEPART_TIMEOUT_MS the member leaves anyway.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gm_pvt.h"

/*
 * Leave a group for good (departure, destruction): every SA goes through the data plane,
 * every key is wiped, the registration is forgotten. What refuses older policy tokens
 * (pstate) stays.
 */
void gm_pvt_leave(struct gm *gm, struct gm_group *g, enum gm_state st)
{
	gm_pvt_remove_all(gm, g);
	gm_pvt_forget_keys(g);
	gsakmp_kex_free(g->kex);
	g->kex = NULL;
	OPENSSL_cleanse(g->nonce_i, sizeof(g->nonce_i));
	OPENSSL_cleanse(g->dep_nonce, sizeof(g->dep_nonce));
	g->cookie_len = 0;
	g->nb_cookies = 0;
	g->tries = 0;
	g->reg_at = 0;
	free(g->rtj);
	g->rtj = NULL;
	free(g->ack);
	g->ack = NULL;
	free(g->rtd);
	g->rtd = NULL;
	g->dep_resend_at = 0;
	g->dep_deadline = 0;
	X509_free(g->ks_cert);
	g->ks_cert = NULL;
	g->ks_dn_len = 0;
	g->seq_any = false;
	g->seq_top = 0;
	memset(g->seq_map, 0, sizeof(g->seq_map));
	g->last_heard = 0;
	gm_pvt_set_state(gm, g, st);
}

/* Request to Depart: ID of the key server (its subject), Nonce_I, Leave Group. */
static int build_rtd(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	struct gsakmp_enc *e;
	size_t len;
	int rc;

	rc = gsakmp_random(g->dep_nonce, sizeof(g->dep_nonce));
	if (rc == 0)
		rc = gm_pvt_enc_start(g, GSAKMP_EXCH_RTD, gm->out, sizeof(gm->out), &e);
	if (rc != 0)
		return rc;
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING, g->ks_dn, g->ks_dn_len);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, g->dep_nonce, sizeof(g->dep_nonce));
	gsakmp_enc_payload_notify(e, GSAKMP_N_LEAVE_GROUP, NULL, 0);
	rc = gm_pvt_enc_sign(gm, e, now_ms, &len);
	if (rc == 0)
		rc = gm_pvt_keep(&g->rtd, &g->rtd_len, gm->out, len);
	return rc;
}

int gm_pvt_depart(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	struct policy_registration reg;

	switch (g->state) {
	case GM_ST_IDLE:
	case GM_ST_DESTROYED:
		return -ENOTCONN;
	case GM_ST_DEPARTING:
		return -EALREADY;
	default:
		break;
	}
	/* nothing to tell a key server we never registered with, or one the token says not
	 * to (registration.deregistration false): leave without notice (RFC 4535 §5.3.2.2) */
	if (g->ks_cert == NULL || !g->have_keys || (g->tok != NULL &&
			policy_token_registration(g->tok, &reg) == 0 && !reg.deregistration) ||
			build_rtd(gm, g, now_ms) != 0) {
		gm_pvt_leave(gm, g, GM_ST_IDLE);
		return 0;
	}
	gsakmp_kex_free(g->kex);
	g->kex = NULL;
	g->reg_at = 0;
	gm_pvt_send(gm, g, g->rtd, g->rtd_len);
	gm_pvt_event(gm, g, GM_EV_RTD_SENT);
	g->dep_resend_at = now_ms + GM_DEPART_RESEND_MS;
	g->dep_deadline = now_ms + GM_DEPART_TIMEOUT_MS;
	gm_pvt_set_state(gm, g, GM_ST_DEPARTING);
	return 0;
}

/* A sub-GC/KS's request that its key server remove a member it serves (RFC 4535 §4.4.7;
 * doc/key-management.md §8): a Request to Depart whose Leave Group notification carries the
 * member's identity. Nothing of ours changes: the answer is a new epoch in a Rekey Event. */
int gm_pvt_proxy_depart(struct gm *gm, struct gm_group *g, const char *subject,
		int64_t now_ms)
{
	uint8_t nonce[GSAKMP_NONCE_LEN];
	struct gsakmp_enc *e;
	size_t len, sl = strlen(subject);
	int rc;

	if (g->state != GM_ST_MEMBER || g->ks_cert == NULL)
		return -ENOTCONN;
	if (sl == 0 || sl > GSAKMP_GID_MAX)
		return -EINVAL;
	rc = gsakmp_random(nonce, sizeof(nonce));
	if (rc == 0)
		rc = gm_pvt_enc_start(g, GSAKMP_EXCH_RTD, gm->out, sizeof(gm->out), &e);
	if (rc != 0)
		return rc;
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING, g->ks_dn, g->ks_dn_len);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_I, nonce, sizeof(nonce));
	gsakmp_enc_payload_notify(e, GSAKMP_N_LEAVE_GROUP, (const uint8_t *)subject, sl);
	rc = gm_pvt_enc_sign(gm, e, now_ms, &len);
	if (rc == 0)
		gm_pvt_send(gm, g, gm->out, len);
	return rc;
}

/*
 * Departure Response: from our key server, naming us, [Nonce_C of our Nonce_I]; Departure
 * Accepted gets a Departure Ack, Request to Depart Error none; the member leaves either way.
 * A retransmitted Response after we left gets the same Ack.
 */
int gm_pvt_dr(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		const uint8_t *buf, size_t len, int64_t now_ms)
{
	static const uint8_t simple = GSAKMP_ACK_SIMPLE;
	const struct gsakmp_payload *n;
	const struct gsakmp_nonce *nr, *nc;
	struct gsakmp_enc *e;
	uint8_t h[32];
	size_t out_len;
	int rc;

	rc = gm_pvt_sha256(buf, len, h);
	if (rc != 0)
		return rc;
	if (g->state == GM_ST_IDLE) {
		if (g->da == NULL || memcmp(h, g->dr_hash, sizeof(h)) != 0)
			return -GSAKMP_E_UNEXPECTED_EXCH;
		gm_pvt_send(gm, g, g->da, g->da_len);
		return 0;
	}
	if (g->state != GM_ST_DEPARTING)
		return -GSAKMP_E_UNEXPECTED_EXCH;
	rc = gm_pvt_ks_verify(gm, g, m, now_ms);
	if (rc != 0)
		return rc;
	if (!gm_pvt_id_is_me(gm, m))
		return -GM_R_WRONG_MEMBER;
	nr = gm_pvt_nonce(m, GSAKMP_NONCE_R);
	nc = gm_pvt_nonce(m, GSAKMP_NONCE_C);
	if (nr != NULL && nc != NULL) {
		rc = gsakmp_nonce_c_check(g->dep_nonce, sizeof(g->dep_nonce), nr->data, nr->len,
				nc->data, nc->len);
		if (rc != 0)
			return rc;
	}
	n = gsakmp_msg_find(m, GSAKMP_PL_NOTIFICATION, 0);
	if (n != NULL && n->u.notify.type == GSAKMP_N_DEPARTURE_ACCEPTED) {
		rc = gm_pvt_enc_start(g, GSAKMP_EXCH_DA, gm->out, sizeof(gm->out), &e);
		if (rc != 0)
			return rc;
		if (nc != NULL)
			gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc->data, nc->len);
		gsakmp_enc_payload_notify(e, GSAKMP_N_ACK, &simple, 1);
		rc = gm_pvt_enc_sign(gm, e, now_ms, &out_len);
		if (rc == 0)
			rc = gm_pvt_keep(&g->da, &g->da_len, gm->out, out_len);
		if (rc != 0)
			return rc;
		memcpy(g->dr_hash, h, sizeof(h));
		gm_pvt_send(gm, g, g->da, g->da_len);
		gm_pvt_event(gm, g, GM_EV_DEPARTED);
	} else {
		gm_pvt_event(gm, g, GM_EV_DEPART_ERROR);
	}
	gm_pvt_leave(gm, g, GM_ST_IDLE);
	return 0;
}

void gm_pvt_depart_timer(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	if (g->dep_deadline != 0 && g->dep_deadline <= now_ms) {
		gm_pvt_event(gm, g, GM_EV_DEPART_TIMEOUT);
		gm_pvt_leave(gm, g, GM_ST_IDLE);
		return;
	}
	if (g->dep_resend_at != 0 && g->dep_resend_at <= now_ms) {
		gm_pvt_send(gm, g, g->rtd, g->rtd_len);
		g->dep_resend_at = 0;
	}
}
