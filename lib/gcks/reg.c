/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration and departure on the key server (RFC 4535 §5.2.1, §5.3.2.3;
 * doc/key-management.md §2, §4.5, §5): Request to Join, cookies and rate limits, Key Download,
 * Ack and Lack of Ack, Request to Depart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gcks_pvt.h"

#define KEYDL_MAX GCKS_MSG_MAX
#define LOA_MAX 2                   /* Lacks of Ack before the member is removed */

static const struct gsakmp_payload *find(const struct gsakmp_msg *m, uint8_t type)
{
	return gsakmp_msg_find(m, type, 0);
}

static const struct gsakmp_notify *find_notify(const struct gsakmp_msg *m, uint16_t type)
{
	const struct gsakmp_payload *p;

	for (unsigned int i = 0; (p = gsakmp_msg_find(m, GSAKMP_PL_NOTIFICATION, i)) != NULL; i++)
		if (p->u.notify.type == type)
			return &p->u.notify;
	return NULL;
}

static const struct gsakmp_nonce *find_nonce(const struct gsakmp_msg *m, uint8_t type)
{
	const struct gsakmp_payload *p;

	for (unsigned int i = 0; (p = gsakmp_msg_find(m, GSAKMP_PL_NONCE, i)) != NULL; i++)
		if (p->u.nonce.type == type)
			return &p->u.nonce;
	return NULL;
}

/* The address a cookie and the rate limits are bound to: the IPValue notification's when
 * present (a member behind NAT), else the datagram's source. */
static size_t peer_ip(const struct gsakmp_msg *m, const struct sockaddr *from, uint8_t ip[16])
{
	const struct gsakmp_notify *n = find_notify(m, GSAKMP_N_IPV4_VALUE);

	if (n == NULL)
		n = find_notify(m, GSAKMP_N_IPV6_VALUE);
	if (n != NULL) {
		memcpy(ip, n->data, n->len);
		return n->len;
	}
	if (from->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)from)->sin_addr, 4);
		return 4;
	}
	if (from->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* doc/key-management.md §5: per-source and global Request to Join rates. */
static bool rate_ok(struct group *g, const uint8_t *ip, size_t ip_len, int64_t now)
{
	uint32_t h = 2166136261u;

	if (now - g->rtj_window >= 1000) {
		g->rtj_window = now;
		g->rtj_second = 0;
	}
	g->rtj_second++;
	for (size_t i = 0; i < ip_len; i++)
		h = (h ^ ip[i]) * 16777619u;
	struct src_rate *s = &g->src[h % GCKS_SRC_SLOTS];

	if (s->family != ip_len || memcmp(s->addr, ip, ip_len) != 0 || now - s->window >= 1000) {
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, ip, ip_len);
		s->family = (uint8_t)ip_len;
		s->window = now;
	}
	return ++s->count <= g->conf.join_rate_per_source;
}

static bool cookie_mode(const struct group *g)
{
	return g->nb_pending >= g->conf.cookie_pending || g->rtj_second > g->conf.cookie_rate;
}

static void send_cookie(struct group *g, const struct gsakmp_cookie_in *in,
		const struct sockaddr *from, socklen_t fromlen, int64_t now)
{
	static const uint8_t vid[] = GSAKMP_PROFILE_VID;
	uint8_t cookie[GSAKMP_COOKIE_LEN], buf[256];
	struct gsakmp_enc *e;
	size_t len;

	if (gsakmp_cookie_make(g->cookie, in, cookie) != 0)
		return;
	e = gcks_msg_start(g, GSAKMP_EXCH_COOKIE_DL, 0, buf, sizeof(buf));
	if (e == NULL)
		return;
	if (gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, cookie, sizeof(cookie)) != 0 ||
			gsakmp_enc_payload_vid(e, vid, GSAKMP_PROFILE_VID_LEN) != 0) {
		gsakmp_enc_abort(e);
		return;
	}
	if (gsakmp_enc_finish(e, &len) == 0) {
		g->ctr[GCKS_C_COOKIE_SENT]++;
		gcks_send(g, buf, len, from, fromlen, 1, now);
	}
}

static int subject_of(X509 *cert, char *out, size_t cap)
{
	size_t n;
	int rc = gsakmp_signer_id(cert, GSAKMP_ID_DN_STRING, (uint8_t *)out, cap - 1, &n);

	if (rc != 0)
		return rc;
	out[n] = '\0';
	return memchr(out, '\0', n) == NULL ? 0 : -GSAKMP_E_SIGNER_ID;
}

/* Which role the token gives this certificate (doc/key-management.md §2 step 4). */
static int role_of(const struct group *g, X509 *cert, uint16_t sids_wanted, uint8_t *role)
{
	int rc;

	if (policy_authorize(g->tok, POLICY_ROLE_SUBGCKS, cert) == 0) {
		*role = POLICY_ROLE_SUBGCKS;
		return 0;
	}
	if (sids_wanted > 0 && policy_authorize(g->tok, POLICY_ROLE_SENDER, cert) == 0) {
		*role = POLICY_ROLE_SENDER;
		return 0;
	}
	rc = policy_authorize(g->tok, POLICY_ROLE_MEMBER, cert);
	if (rc == 0) {
		*role = POLICY_ROLE_MEMBER;
		return 0;
	}
	return rc;
}

static uint16_t sids_requested(const struct gsakmp_msg *m)
{
	const struct gsakmp_notify *n = find_notify(m, GSAKMP_N_MECH_CHOICES);
	struct gsakmp_mech mech[16];
	int nb;

	if (n == NULL)
		return 0;
	nb = gsakmp_mech_parse(n, mech, 16);
	for (int i = 0; i < nb; i++)
		if (mech[i].type == GSAKMP_MECH_SENDER_IDS)
			return mech[i].choice;
	return 0;
}

/* Mechanism Choices must name the profile's key creation and nonce hash; the encryption the
 * member names is the one its Key Download uses (both are the profile's). */
static int mech_check(const struct gsakmp_msg *m, uint16_t *kek_alg)
{
	const struct gsakmp_notify *n = find_notify(m, GSAKMP_N_MECH_CHOICES);
	struct gsakmp_mech mech[16];
	int nb;

	if (n == NULL)
		return 0;
	nb = gsakmp_mech_parse(n, mech, 16);
	if (nb < 0)
		return nb;
	for (int i = 0; i < nb; i++) {
		switch (mech[i].type) {
		case GSAKMP_MECH_KEY_CREATION:
			if (mech[i].choice != GSAKMP_MECH_KC_X25519)
				return -GSAKMP_E_KC;
			break;
		case GSAKMP_MECH_ENCRYPTION:
			if (mech[i].choice != GSAKMP_KEK_AES256_GCM &&
					mech[i].choice != GSAKMP_KEK_AES256_KWP)
				return -GSAKMP_E_INVALID;
			*kek_alg = mech[i].choice;
			break;
		case GSAKMP_MECH_NONCE_HASH:
			if (mech[i].choice != GSAKMP_MECH_NONCE_SHA256)
				return -GSAKMP_E_NONCE;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* What a restarted key server checks a member's certificate against (signed_by()). */
static void cert_digest(X509 *cert, struct member *m)
{
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), m->s.cert_sha256, &n) != 1)
		memset(m->s.cert_sha256, 0, sizeof(m->s.cert_sha256));
}

static void set_addr(struct member *m, const struct sockaddr *from, socklen_t fromlen)
{
	memset(&m->s.addr, 0, sizeof(m->s.addr));
	if (fromlen > sizeof(m->s.addr))
		fromlen = sizeof(m->s.addr);
	memcpy(&m->s.addr, from, fromlen);
	m->s.addr_len = fromlen;
}

static struct reg_ctx *reg_new(const struct gsakmp_nonce *ni, const struct gsakmp_kc *kc,
		uint16_t kek_alg, X509 *cert)
{
	struct reg_ctx *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	memcpy(r->nonce_i, ni->data, ni->len);
	r->nonce_i_len = ni->len;
	memcpy(r->pub_gm, kc->data, GSAKMP_X25519_LEN);
	r->kek_alg = kek_alg;
	X509_up_ref(cert);
	r->cert = cert;
	return r;
}

static int rtj(struct gcks *k, struct group *g, const struct gsakmp_msg *msg,
		const struct sockaddr *from, socklen_t fromlen, int64_t now)
{
	const struct gsakmp_payload *kc = find(msg, GSAKMP_PL_KEY_CREATION);
	const struct gsakmp_nonce *ni = find_nonce(msg, GSAKMP_NONCE_I);
	const struct gsakmp_notify *ck = find_notify(msg, GSAKMP_N_COOKIE);
	char subject[GSTORE_SUBJECT_MAX];
	uint16_t kek_alg = k->conf.kek_alg;
	uint8_t ip[16], role;
	uint16_t want;
	X509 *signer = NULL;
	struct member *m;
	size_t ip_len;
	int rc;

	if (kc == NULL || ni == NULL || kc->u.kc.type != GSAKMP_KC_X25519 ||
			kc->u.kc.len != GSAKMP_X25519_LEN) {
		g->ctr[GCKS_C_BAD_MSG]++;
		return -GSAKMP_E_KC;
	}
	if (g->sub && !g->data[0].cur.live) {
		/* a sub-GC/KS without its parent's keys has nothing to give yet */
		g->ctr[GCKS_C_NOT_READY]++;
		return -EAGAIN;
	}
	ip_len = peer_ip(msg, from, ip);
	struct gsakmp_cookie_in cin = { .nonce_i = ni->data, .nonce_i_len = ni->len, .ip = ip,
		.ip_len = ip_len, .gid = g->gidv, .gid_len = g->gidv_len };

	/* cheapest first (doc/key-management.md §5): cookie, then rates, then signatures */
	if (ck != NULL) {
		if (gsakmp_cookie_check(g->cookie, &cin, ck->data, ck->len) != 0) {
			g->ctr[GCKS_C_BAD_COOKIE]++;
			return -GSAKMP_E_COOKIE;
		}
	} else if (cookie_mode(g)) {
		g->rtj_second++;
		send_cookie(g, &cin, from, fromlen, now);
		return 0;
	}
	if (!rate_ok(g, ip, ip_len, now) || g->nb_pending >= g->conf.max_pending) {
		g->ctr[GCKS_C_RATE_LIMITED]++;
		return -EAGAIN;
	}
	rc = mech_check(msg, &kek_alg);
	if (rc != 0) {
		g->ctr[GCKS_C_BAD_MSG]++;
		return rc;
	}
	rc = gsakmp_verify(msg, NULL, k->conf.trust, now / 1000, GCKS_SIG_SKEW, &signer);
	if (rc != 0) {
		g->ctr[GCKS_C_BAD_SIG]++;
		return rc;
	}
	rc = subject_of(signer, subject, sizeof(subject));
	if (rc != 0) {
		g->ctr[GCKS_C_BAD_SIG]++;
		goto out;
	}
	want = sids_requested(msg);
	rc = role_of(g, signer, want, &role);
	if (rc != 0) {
		g->ctr[GCKS_C_UNAUTHORIZED]++;
		rc = -EPERM;
		goto out;
	}
	m = gcks_member_find(g, subject);
	if (m != NULL) {
		if (m->s.state == GCKS_MS_EVICTED) {
			g->ctr[GCKS_C_EVICTED]++;
			rc = -EPERM;
			goto out;
		}
		if (m->reg != NULL && m->reg->nonce_i_len == ni->len &&
				CRYPTO_memcmp(m->reg->nonce_i, ni->data, ni->len) == 0) {
			/* a repeat: the same answer, or still waiting for the batch */
			g->ctr[GCKS_C_RTJ_RETRANSMIT]++;
			if (m->reg->keydl != NULL)
				gcks_send(g, m->reg->keydl, m->reg->keydl_len, from, fromlen, 1,
						now);
			rc = 0;
			goto out;
		}
		if (m->staged || m->s.member_id == 0) {
			/* a change to it is waiting for the batch: ask again after it */
			g->ctr[GCKS_C_UNEXPECTED]++;
			rc = -EAGAIN;
			goto out;
		}
		/* re-registration (a missed rekey, a restart): same leaf and SIDs, fresh
		 * registration keys, the current path */
		if (m->reg == NULL)
			g->nb_pending++;
		gcks_reg_free(m->reg);
		m->reg = reg_new(ni, &kc->u.kc, kek_alg, signer);
		if (m->reg == NULL) {
			g->nb_pending--;
			rc = -ENOMEM;
			goto out;
		}
		X509_free(m->cert);
		X509_up_ref(signer);
		m->cert = signer;
		cert_digest(signer, m);
		set_addr(m, from, fromlen);
		g->ctr[GCKS_C_RTJ]++;
		rc = gcks_reg_send_keydl(g, m, now);
		goto out;
	}
	/* a new member */
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(m->s.subject, sizeof(m->s.subject), "%s", subject);
	m->s.role = role;
	m->s.state = GCKS_MS_JOINING;
	m->s.joined = now;
	set_addr(m, from, fromlen);
	m->sids_wanted = role == POLICY_ROLE_MEMBER ? 0 : want;
	m->reg = reg_new(ni, &kc->u.kc, kek_alg, signer);
	X509_up_ref(signer);
	m->cert = signer;
	cert_digest(signer, m);
	if (m->reg == NULL) {
		rc = -ENOMEM;
		goto free_m;
	}
	if (m->sids_wanted > 0) {
		rc = gcks_sid_alloc(g, m, m->sids_wanted);
		if (rc != 0) {
			g->ctr[GCKS_C_SIDS_EXHAUSTED]++;
			goto free_m;
		}
	}
	rc = lkh_join(g->tree, &m->s.member_id);
	if (rc != 0) {
		g->ctr[rc == -ENOSPC ? GCKS_C_FULL : GCKS_C_BAD_MSG]++;
		goto free_sids;
	}
	rc = gcks_member_add(g, m);
	if (rc != 0) {
		lkh_leave(g->tree, m->s.member_id);
		goto free_sids;
	}
	g->nb_pending++;
	m->staged = true;
	g->joins++;
	g->ctr[GCKS_C_RTJ]++;
	gcks_stage(g, now);
	rc = 0;
	goto out;
free_sids:
	for (uint16_t i = 0; i < m->s.nb_sids; i++)
		g->sids[m->s.sids[i]].owner = NULL;
free_m:
	gcks_reg_free(m->reg);
	X509_free(m->cert);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
out:
	X509_free(signer);
	return rc;
}

/* The Key Download for m after its join committed (or at its re-registration). */
int gcks_reg_send_keydl(struct group *g, struct member *m, int64_t now)
{
	struct gcks *k = g->k;
	struct reg_ctx *r = m->reg;
	struct lkh_key path[LKH_MAX_HEIGHT + 1];
	struct gsakmp_kex *kex = NULL;
	struct gsakmp_kd *kd = NULL;
	uint8_t shared[GSAKMP_X25519_LEN];
	uint8_t *buf = NULL;
	struct gsakmp_enc *e;
	uint32_t np = 0;
	size_t len;
	int rc;

	if (r == NULL)
		return -EINVAL;
	rc = lkh_path(g->tree, m->s.member_id, path, LKH_MAX_HEIGHT + 1, &np);
	if (rc != 0)
		return rc;
	kd = calloc(1, sizeof(*kd));
	buf = malloc(KEYDL_MAX);
	if (kd == NULL || buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* registration keys (doc/gsakmp-profile.md §6) */
	rc = gsakmp_kex_x25519_new(&kex);
	if (rc == 0)
		rc = gsakmp_kex_x25519_public(kex, r->pub_ks);
	if (rc == 0)
		rc = gsakmp_kex_x25519_derive(kex, r->pub_gm, shared);
	if (rc == 0)
		rc = gsakmp_random(r->nonce_r, sizeof(r->nonce_r));
	if (rc == 0)
		rc = gsakmp_nonce_c(r->nonce_i, r->nonce_i_len, r->nonce_r, sizeof(r->nonce_r),
				r->nonce_c);
	struct gsakmp_kek_info ki = { .gid = g->gidv, .gid_len = g->gidv_len,
		.pub_gm = r->pub_gm, .pub_ks = r->pub_ks, .nonce_i = r->nonce_i,
		.nonce_i_len = r->nonce_i_len, .nonce_r = r->nonce_r,
		.nonce_r_len = sizeof(r->nonce_r) };

	if (rc == 0)
		rc = gsakmp_kek_derive(shared, &ki, r->kek);
	if (rc != 0)
		goto out;
	/* contents (doc/key-management.md §2): the path, then each live epoch and its SA */
	kd->items[0].type = GSAKMP_KDD_REKEY_LKH;
	kd->items[0].u.ra = (struct gsakmp_rekey_array){ .version = 1,
		.member_id = m->s.member_id, .nb_keys = (uint16_t)np, .first_key = 0 };
	kd->nb_items = 1;
	kd->nb_keys = (uint16_t)np;
	for (uint32_t i = 0; i < np; i++) {
		struct gsakmp_key_datum *d = &kd->keys[i];

		d->type = GSAKMP_KEY_AES_256_KEK;
		d->key_len = LKH_KEY_LEN;
		d->id = path[i].id;
		d->handle = path[i].handle;
		d->created = now / 1000;
		d->expires = now / 1000 + 10 * 365 * 86400LL;
		d->key = path[i].key;
	}
	for (uint32_t i = 0; i < g->nb_data; i++) {
		const struct tek *t[2] = { &g->data[i].prev, &g->data[i].cur };

		for (int j = 0; j < 2; j++) {
			if (!t[j]->live)
				continue;
			if (kd->nb_items + 2 > GSAKMP_KD_MAX_ITEMS) {
				rc = -E2BIG;
				goto out;
			}
			kd->items[kd->nb_items].type = GSAKMP_KDD_GTPK;
			gcks_datum_tek(g, t[j], &kd->items[kd->nb_items].u.datum);
			kd->items[kd->nb_items + 1].type = GSAKMP_KDD_DATA_SA;
			gcks_sa_attrs(g, i, t[j], m, &kd->items[kd->nb_items + 1].u.sa);
			kd->nb_items += 2;
		}
	}
	uint8_t idb[GSTORE_SUBJECT_MAX];
	size_t idl = strlen(m->s.subject);

	memcpy(idb, m->s.subject, idl);
	e = gcks_msg_start(g, GSAKMP_EXCH_KEYDL, 0, buf, KEYDL_MAX);
	if (e == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING, idb, idl);
	if (rc == 0)
		rc = gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, r->nonce_r, sizeof(r->nonce_r));
	if (rc == 0)
		rc = gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, r->nonce_c, sizeof(r->nonce_c));
	if (rc == 0)
		rc = gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, r->pub_ks, GSAKMP_X25519_LEN);
	if (rc == 0)
		rc = gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, g->tok_der, g->tok_len,
				r->kek_alg, r->kek);
	if (rc == 0)
		rc = gsakmp_enc_payload_kdl_sealed(e, kd, r->kek_alg, r->kek);
	if (rc != 0) {
		gsakmp_enc_abort(e);
		goto out;
	}
	rc = gcks_msg_sign_finish(k, e, now, &len);
	if (rc != 0)
		goto out;
	free(r->keydl);
	r->keydl = malloc(len);
	if (r->keydl == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(r->keydl, buf, len);
	r->keydl_len = len;
	r->deadline = now + (int64_t)(g->reg.timeout_seconds != 0 ? g->reg.timeout_seconds : 30) *
		1000;
	if (m->s.state == GCKS_MS_JOINING)
		m->s.state = GCKS_MS_PENDING;
	g->ctr[GCKS_C_KEYDL]++;
	gcks_send(g, buf, len, (const struct sockaddr *)&m->s.addr, m->s.addr_len, 1, now);
out:
	lkh_keys_wipe(path, np);
	OPENSSL_cleanse(shared, sizeof(shared));
	if (kd != NULL) {
		OPENSSL_cleanse(kd, sizeof(*kd));
		free(kd);
	}
	if (buf != NULL) {
		OPENSSL_cleanse(buf, KEYDL_MAX);
		free(buf);
	}
	gsakmp_kex_free(kex);
	return rc;
}

/* The member a signed message comes from: by its Signer ID, then verified with the
 * certificate it registered with. */
static struct member *signed_by(struct gcks *k, struct group *g, const struct gsakmp_msg *msg,
		int64_t now, int *rc)
{
	const struct gsakmp_sig *sig;
	char subject[GSTORE_SUBJECT_MAX];
	struct member *m;

	if (msg->sig_index < 0) {
		*rc = -GSAKMP_E_NO_SIGNATURE;
		return NULL;
	}
	sig = &msg->pl[msg->sig_index].u.sig;
	if (sig->id_type != GSAKMP_ID_DN_STRING || sig->signer_len >= sizeof(subject)) {
		*rc = -GSAKMP_E_SIGNER_ID;
		return NULL;
	}
	memcpy(subject, sig->signer, sig->signer_len);
	subject[sig->signer_len] = '\0';
	m = gcks_member_find(g, subject);
	if (m == NULL) {
		*rc = -GSAKMP_E_SIGNER_ID;
		return NULL;
	}
	if (m->cert != NULL) {
		*rc = gsakmp_verify(msg, m->cert, k->conf.trust, now / 1000, GCKS_SIG_SKEW, NULL);
		return *rc == 0 ? m : NULL;
	}
	/* a member loaded from the store after a restart: its certificate comes with the
	 * message, chains to the trust anchors, and must be the one it registered with */
	X509 *signer = NULL;
	uint8_t md[32];
	unsigned int mdl = 0;

	*rc = gsakmp_verify(msg, NULL, k->conf.trust, now / 1000, GCKS_SIG_SKEW, &signer);
	if (*rc != 0)
		return NULL;
	if (X509_digest(signer, EVP_sha256(), md, &mdl) != 1 || mdl != sizeof(md) ||
			CRYPTO_memcmp(md, m->s.cert_sha256, sizeof(md)) != 0) {
		X509_free(signer);
		*rc = -GSAKMP_E_SIGNER_ID;
		return NULL;
	}
	m->cert = signer;
	return m;
}

static int ack(struct gcks *k, struct group *g, const struct gsakmp_msg *msg, int64_t now)
{
	const struct gsakmp_nonce *nc = find_nonce(msg, GSAKMP_NONCE_C);
	const struct gsakmp_notify *n;
	struct member *m;
	int rc;

	m = signed_by(k, g, msg, now, &rc);
	if (m == NULL) {
		g->ctr[GCKS_C_BAD_SIG]++;
		return rc;
	}
	if (m->reg == NULL || m->reg->keydl == NULL) {
		g->ctr[GCKS_C_UNEXPECTED]++;
		return -GSAKMP_E_UNEXPECTED_EXCH;
	}
	/* the Ack answers this Key Download: Nonce_C binds it (RFC 4535 §5.2.1.4) */
	if (nc == NULL || nc->len != sizeof(m->reg->nonce_c) ||
			CRYPTO_memcmp(nc->data, m->reg->nonce_c, nc->len) != 0) {
		g->ctr[GCKS_C_BAD_MSG]++;
		return -GSAKMP_E_NONCE_C;
	}
	n = find_notify(msg, GSAKMP_N_ACK);
	if (n == NULL) {
		/* a Nack: the member refused the Key Download; it will ask again */
		g->ctr[GCKS_C_NACK]++;
		return 0;
	}
	g->ctr[GCKS_C_ACK]++;
	m->s.state = GCKS_MS_ACTIVE;
	m->s.acked = now;
	gcks_reg_free(m->reg);
	m->reg = NULL;
	g->nb_pending--;
	rc = gcks_store_member(g, m);
	return rc;
}

static void send_dr(struct gcks *k, struct group *g, struct member *m,
		const struct gsakmp_nonce *ni, int64_t now)
{
	uint8_t buf[2048];
	struct gsakmp_enc *e;
	size_t len;
	int rc;

	if (gsakmp_random(m->dep_nonce_r, sizeof(m->dep_nonce_r)) != 0)
		return;
	e = gcks_msg_start(g, GSAKMP_EXCH_DR, 0, buf, sizeof(buf));
	if (e == NULL)
		return;
	rc = gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING,
			(const uint8_t *)m->s.subject, strlen(m->s.subject));
	if (rc == 0 && ni != NULL) {
		rc = gsakmp_nonce_c(ni->data, ni->len, m->dep_nonce_r, sizeof(m->dep_nonce_r),
				m->dep_nonce_c);
		if (rc == 0)
			rc = gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, m->dep_nonce_r,
					sizeof(m->dep_nonce_r));
		if (rc == 0)
			rc = gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, m->dep_nonce_c,
					sizeof(m->dep_nonce_c));
	}
	if (rc == 0)
		rc = gsakmp_enc_payload_notify(e, GSAKMP_N_DEPARTURE_ACCEPTED, NULL, 0);
	if (rc != 0) {
		gsakmp_enc_abort(e);
		return;
	}
	if (gcks_msg_sign_finish(k, e, now, &len) == 0)
		gcks_send(g, buf, len, (const struct sockaddr *)&m->s.addr, m->s.addr_len, 1, now);
}

/* A sub-GC/KS removed one of its members (RFC 4535 §4.4.7): that member knows the current
 * traffic keys, so every member needs new ones. The member is refused here too from now on.
 * No Departure Response: the answer is the new epoch (doc/key-management.md §8). */
static int proxy_evict(struct group *g, struct member *sub, const struct gsakmp_notify *lg,
		int64_t now)
{
	char subject[GSTORE_SUBJECT_MAX];
	struct member *m;

	if (sub->s.role != POLICY_ROLE_SUBGCKS || lg->len >= sizeof(subject)) {
		g->ctr[GCKS_C_UNAUTHORIZED]++;
		return -EPERM;
	}
	memcpy(subject, lg->data, lg->len);
	subject[lg->len] = '\0';
	if (memchr(subject, '\0', lg->len) != NULL) {
		g->ctr[GCKS_C_BAD_MSG]++;
		return -GSAKMP_E_NOTIFY;
	}
	g->ctr[GCKS_C_PROXY_EVICT]++;
	m = gcks_member_find(g, subject);
	if (m == NULL) {
		m = calloc(1, sizeof(*m));
		if (m == NULL)
			return -ENOMEM;
		snprintf(m->s.subject, sizeof(m->s.subject), "%s", subject);
		m->s.state = GCKS_MS_EVICTED;
		m->s.joined = now;
		if (gcks_member_add(g, m) != 0) {
			free(m);
			return -ENOMEM;
		}
		gcks_store_member(g, m);
	}
	/* the sub-GC/KS repeats its request until the new epoch reaches it: one epoch answers
	 * them all */
	if (m->proxy_gen != 0 && g->gen + (g->force_epoch ? 1 : 0) >= m->proxy_gen)
		return 0;
	m->proxy_gen = g->gen + 1;
	g->force_epoch = true;
	g->reason = "sub-gcks-evict";
	gcks_stage(g, now);
	return 0;
}

/* Request to Depart: accepted at once (the member stops using the keys whatever we say);
 * it leaves the tree in the next batch. The Departure Ack only confirms. */
static int rtd(struct gcks *k, struct group *g, const struct gsakmp_msg *msg,
		const struct sockaddr *from, socklen_t fromlen, int64_t now)
{
	const struct gsakmp_payload *id = find(msg, GSAKMP_PL_ID);
	struct member *m;
	int rc;

	/* the RTD names the key server it is meant for */
	if (id == NULL || id->u.id.type != GSAKMP_ID_DN_STRING || id->u.id.len != k->id_len ||
			memcmp(id->u.id.data, k->id, k->id_len) != 0) {
		g->ctr[GCKS_C_BAD_MSG]++;
		return -GSAKMP_E_ID_TYPE;
	}
	m = signed_by(k, g, msg, now, &rc);
	if (m == NULL) {
		g->ctr[GCKS_C_BAD_SIG]++;
		return rc;
	}
	if (!g->reg.deregistration) {
		/* the token does not offer de-registration (RFC 4534 B.3) */
		g->ctr[GCKS_C_UNEXPECTED]++;
		return -EPERM;
	}
	if (m->s.state == GCKS_MS_EVICTED) {
		g->ctr[GCKS_C_EVICTED]++;
		return -EPERM;
	}
	const struct gsakmp_notify *lg = find_notify(msg, GSAKMP_N_LEAVE_GROUP);

	if (lg != NULL && lg->len > 0)
		return proxy_evict(g, m, lg, now);
	g->ctr[GCKS_C_DEPART]++;
	set_addr(m, from, fromlen);
	if (!m->departing) {
		m->departing = true;
		if (m->reg != NULL) {
			gcks_reg_free(m->reg);
			m->reg = NULL;
			g->nb_pending--;
		}
		if (m->s.state == GCKS_MS_JOINING) {
			/* never committed: cancel the staged join */
			lkh_leave(g->tree, m->s.member_id);
			g->joins--;
		} else if (!m->staged) {
			g->leaves++;
		}
		m->staged = true;
		m->s.state = GCKS_MS_LEAVING;
		gcks_stage(g, now);
	}
	send_dr(k, g, m, find_nonce(msg, GSAKMP_NONCE_I), now);
	return 0;
}

static int da(struct gcks *k, struct group *g, const struct gsakmp_msg *msg, int64_t now)
{
	struct member *m;
	int rc;

	m = signed_by(k, g, msg, now, &rc);
	if (m == NULL) {
		g->ctr[GCKS_C_BAD_SIG]++;
		return rc;
	}
	if (!m->departing) {
		g->ctr[GCKS_C_UNEXPECTED]++;
		return -GSAKMP_E_UNEXPECTED_EXCH;
	}
	return 0;
}

int gcks_reg_input(struct gcks *k, struct group *g, const struct gsakmp_msg *msg,
		const struct sockaddr *from, socklen_t fromlen, int64_t now)
{
	switch (msg->hdr.exch) {
	case GSAKMP_EXCH_RTJ:
		return rtj(k, g, msg, from, fromlen, now);
	case GSAKMP_EXCH_KEYDL_ACK:
		return ack(k, g, msg, now);
	case GSAKMP_EXCH_RTD:
		return rtd(k, g, msg, from, fromlen, now);
	case GSAKMP_EXCH_DA:
		return da(k, g, msg, now);
	}
	g->ctr[GCKS_C_UNEXPECTED]++;
	return -GSAKMP_E_UNEXPECTED_EXCH;
}

static void send_loa(struct gcks *k, struct group *g, struct member *m, int64_t now)
{
	uint8_t buf[2048];
	struct gsakmp_enc *e;
	size_t len;
	int rc;

	e = gcks_msg_start(g, GSAKMP_EXCH_LOA, 0, buf, sizeof(buf));
	if (e == NULL)
		return;
	rc = gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING,
			(const uint8_t *)m->s.subject, strlen(m->s.subject));
	if (rc == 0)
		rc = gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, m->reg->nonce_r,
				sizeof(m->reg->nonce_r));
	if (rc == 0)
		rc = gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, m->reg->nonce_c,
				sizeof(m->reg->nonce_c));
	if (rc == 0)
		rc = gsakmp_enc_payload_notify(e, GSAKMP_N_NACK, NULL, 0);
	if (rc != 0) {
		gsakmp_enc_abort(e);
		return;
	}
	if (gcks_msg_sign_finish(k, e, now, &len) == 0)
		gcks_send(g, buf, len, (const struct sockaddr *)&m->s.addr, m->s.addr_len, 1, now);
}

/* Ack deadlines: Lack of Ack twice in Verbose mode, then (or at once in Terse mode) the
 * member leaves in the next batch (RFC 4535 §5.2.1.5). */
void gcks_reg_tick(struct group *g, int64_t now, int64_t *next)
{
	if (g->nb_pending == 0)
		return;
	GCKS_FOREACH_MEMBER(g, m) {
		struct reg_ctx *r = m->reg;

		if (r == NULL || m->s.state == GCKS_MS_JOINING)
			continue;
		if (r->deadline > now) {
			if (r->deadline < *next)
				*next = r->deadline;
			continue;
		}
		if (r->loa < LOA_MAX && r->keydl != NULL) {
			r->loa++;
			send_loa(g->k, g, m, now);
			r->deadline = now + (int64_t)(g->reg.timeout_seconds != 0 ?
					g->reg.timeout_seconds : 30) * 1000;
			if (r->deadline < *next)
				*next = r->deadline;
			continue;
		}
		g->ctr[GCKS_C_LOA_EVICT]++;
		gcks_reg_free(m->reg);
		m->reg = NULL;
		g->nb_pending--;
		if (!m->staged) {
			g->leaves++;
			m->staged = true;
		}
		m->s.state = GCKS_MS_LEAVING;
		gcks_stage(g, now);
	}
}
