/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Group member engine: objects, counters, the input dispatcher and the timer loop. The
 * protocol lives in gm_reg.c (registration), gm_rekey.c (Rekey Events), gm_depart.c
 * (departure) and gm_keys.c (keys and the data plane).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "gm_pvt.h"

static const char *const reason_names[GM_NB_REASONS] = {
	[GM_R_WRONG_MEMBER - GM_R_BASE] = "wrong_member",
	[GM_R_WRONG_SIGNER - GM_R_BASE] = "wrong_signer",
	[GM_R_UNAUTHORIZED_GCKS - GM_R_BASE] = "unauthorized_gcks",
	[GM_R_TOKEN_UNTRUSTED - GM_R_BASE] = "token_untrusted",
	[GM_R_TOKEN_STALE - GM_R_BASE] = "token_stale",
	[GM_R_TOKEN_EXPIRED - GM_R_BASE] = "token_expired",
	[GM_R_TOKEN_GROUP - GM_R_BASE] = "token_group",
	[GM_R_TOKEN_INVALID - GM_R_BASE] = "token_invalid",
	[GM_R_LKH_ITEMS - GM_R_BASE] = "lkh_items",
	[GM_R_SA_ITEM - GM_R_BASE] = "sa_item",
	[GM_R_SA_MISMATCH - GM_R_BASE] = "sa_mismatch",
	[GM_R_STALE_KEY - GM_R_BASE] = "stale_key",
	[GM_R_KEY_MISMATCH - GM_R_BASE] = "key_mismatch",
	[GM_R_NOT_ON_PATH - GM_R_BASE] = "not_on_path",
	[GM_R_SEQ_WINDOW - GM_R_BASE] = "seq_window",
	[GM_R_UNSOLICITED - GM_R_BASE] = "unsolicited",
	[GM_R_INSTALL - GM_R_BASE] = "install_failed",
};

static const char *const event_names[GM_EV__MAX] = {
	[GM_EV_RTJ_SENT] = "rtj_sent",
	[GM_EV_RTJ_RETRANSMIT] = "rtj_retransmit",
	[GM_EV_RTJ_RESTART] = "rtj_restart",
	[GM_EV_COOKIE] = "cookie_received",
	[GM_EV_KEYDL] = "keydl_accepted",
	[GM_EV_ACK_RESENT] = "ack_resent",
	[GM_EV_NACK] = "nack_sent",
	[GM_EV_REKEY] = "rekey_accepted",
	[GM_EV_HEARTBEAT] = "heartbeat",
	[GM_EV_NOT_HELD] = "not_held",
	[GM_EV_NODE] = "lkh_key_updated",
	[GM_EV_EPOCH_INSTALLED] = "epoch_installed",
	[GM_EV_EPOCH_ACTIVATED] = "epoch_activated",
	[GM_EV_EPOCH_REMOVED] = "epoch_removed",
	[GM_EV_EPOCH_EXPIRED] = "epoch_expired",
	[GM_EV_TOKEN] = "token_updated",
	[GM_EV_MISSED_ROOT] = "missed_rekey",
	[GM_EV_MISSED_SILENCE] = "missed_silence",
	[GM_EV_MISSED_EXPIRY] = "missed_expiry",
	[GM_EV_DESTROYED] = "destroyed",
	[GM_EV_RTD_SENT] = "rtd_sent",
	[GM_EV_DEPARTED] = "departed",
	[GM_EV_DEPART_TIMEOUT] = "depart_timeout",
	[GM_EV_DEPART_ERROR] = "depart_error",
	[GM_EV_RTJ_ERROR] = "rtj_error",
	[GM_EV_LOA] = "lack_of_ack",
	[GM_EV_SEND_FAILED] = "send_failed",
};

static const char *const state_names[] = {
	[GM_ST_IDLE] = "idle",
	[GM_ST_REGISTERING] = "registering",
	[GM_ST_MEMBER] = "member",
	[GM_ST_DEPARTING] = "departing",
	[GM_ST_DESTROYED] = "destroyed",
};

const char *gm_state_name(enum gm_state st)
{
	if ((unsigned int)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[st];
}

const char *gm_strreason(int rc)
{
	int r = rc < 0 ? -rc : rc;

	if (r >= GM_R_BASE && r < GM_R__END)
		return reason_names[r - GM_R_BASE];
	return gsakmp_errname(r);
}

/* Name of counter slot i, NULL for the unused slot 0. */
static const char *cnt_name(unsigned int i)
{
	if (i == 0)
		return NULL;
	if (i < GSAKMP_E__MAX)
		return gsakmp_errname((int)i);
	if (i < GSAKMP_E__MAX + GM_NB_REASONS)
		return reason_names[i - GSAKMP_E__MAX];
	return event_names[i - GSAKMP_E__MAX - GM_NB_REASONS];
}

/* ------------------------------------------------------------------ counting and helpers */

static void count(struct gm *gm, struct gm_group *g, unsigned int slot)
{
	if (slot >= GM_CNT_MAX)
		return;
	gm->cnt[slot]++;
	if (g != NULL)
		g->cnt[slot]++;
}

int gm_pvt_refuse(struct gm *gm, struct gm_group *g, int rc)
{
	int r = rc < 0 ? -rc : rc;

	if (r >= GM_R_BASE && r < GM_R__END)
		count(gm, g, (unsigned int)GM_CNT_REASON(r));
	else if (r > 0 && r < GSAKMP_E__MAX)
		count(gm, g, (unsigned int)r);
	return rc;
}

void gm_pvt_event(struct gm *gm, struct gm_group *g, enum gm_ev ev)
{
	count(gm, g, (unsigned int)GM_CNT_EV(ev));
}

void gm_pvt_set_state(struct gm *gm, struct gm_group *g, enum gm_state st)
{
	if (g->state == st)
		return;
	g->state = st;
	if (gm->ops.state != NULL)
		gm->ops.state(gm->arg, g->conf.name, st);
}

/* splitmix64: the jitter only has to be spread, not secret. */
int64_t gm_pvt_jitter(struct gm *gm)
{
	uint64_t z = (gm->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return GM_JITTER_MIN_MS + (int64_t)(z % (GM_JITTER_SPAN_MS + 1));
}

void gm_pvt_send(struct gm *gm, struct gm_group *g, const uint8_t *msg, size_t len)
{
	if (gm->ops.send(gm->arg, msg, len, (const struct sockaddr *)&g->conf.server,
			g->conf.server_len) < 0)
		gm_pvt_event(gm, g, GM_EV_SEND_FAILED);
}

int gm_pvt_keep(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len);

	if (p == NULL)
		return -GSAKMP_E_NOMEM;
	memcpy(p, src, len);
	free(*dst);
	*dst = p;
	*dst_len = len;
	return 0;
}

int gm_pvt_sha256(const uint8_t *buf, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -GSAKMP_E_CRYPTO;
	return 0;
}

static struct gm_group *find_name(const struct gm *gm, const char *name)
{
	for (unsigned int i = 0; i < gm->nb_groups; i++)
		if (strcmp(gm->groups[i]->conf.name, name) == 0)
			return gm->groups[i];
	return NULL;
}

static struct gm_group *find_gid(const struct gm *gm, const uint8_t *gid, size_t len)
{
	for (unsigned int i = 0; i < gm->nb_groups; i++) {
		struct gm_group *g = gm->groups[i];

		if (g->gid_len == len && memcmp(g->gid_value, gid, len) == 0)
			return g;
	}
	return NULL;
}

/* ------------------------------------------------------------------ life cycle */

int gm_new(const struct gm_conf *conf, const struct gm_ops *ops, void *arg, struct gm **out)
{
	const uint8_t *der;
	const unsigned char *p;
	struct gm *gm;
	size_t der_len;
	int rc = -EINVAL;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (conf == NULL || ops == NULL || conf->key == NULL || conf->ks_trust == NULL ||
			conf->go_trust == NULL || ops->send == NULL || ops->sa_install == NULL ||
			ops->sa_send == NULL || ops->sa_remove == NULL)
		return -EINVAL;
	if (conf->enc_mech != 0 && conf->enc_mech != GSAKMP_MECH_ENC_AES256_GCM &&
			conf->enc_mech != GSAKMP_MECH_ENC_AES256_KWP)
		return -EINVAL;
	gm = calloc(1, sizeof(*gm));
	if (gm == NULL)
		return -ENOMEM;
	gm->conf = *conf;
	if (gm->conf.enc_mech == 0)
		gm->conf.enc_mech = GSAKMP_MECH_ENC_AES256_GCM;
	if (gm->conf.max_skew == 0)
		gm->conf.max_skew = POLICY_CLOCK_SKEW;
	gm->ops = *ops;
	gm->arg = arg;
	gm->rng = conf->seed;
	if (gm->rng == 0 && RAND_bytes((unsigned char *)&gm->rng, sizeof(gm->rng)) != 1) {
		rc = -EIO;
		goto fail;
	}
	/* our subject is the Member ID a Key Download must carry (RFC 4535 §5.2.1.2 step 2) */
	gsakmp_key_cert_der(conf->key, &der, &der_len);
	p = der;
	gm->cert = d2i_X509(NULL, &p, (long)der_len);
	if (gm->cert == NULL || gsakmp_signer_id(gm->cert, GSAKMP_ID_DN_STRING, gm->dn,
			sizeof(gm->dn), &gm->dn_len) != 0) {
		rc = -EIO;
		goto fail;
	}
	*out = gm;
	return 0;
fail:
	X509_free(gm->cert);
	free(gm);
	return rc;
}

static void group_wipe(struct gm_group *g)
{
	for (unsigned int i = 0; i < g->nb_epochs; i++)
		OPENSSL_cleanse(g->ep[i], sizeof(*g->ep[i]));
	OPENSSL_cleanse(g->nodes, sizeof(g->nodes));
	gsakmp_kex_free(g->kex);
	g->kex = NULL;
	OPENSSL_cleanse(g->nonce_i, sizeof(g->nonce_i));
	OPENSSL_cleanse(g->dep_nonce, sizeof(g->dep_nonce));
}

void gm_pvt_wipe(struct gm *gm)
{
	for (unsigned int i = 0; i < gm->nb_groups; i++)
		group_wipe(gm->groups[i]);
	gm_pvt_pending_clear(gm);
	OPENSSL_cleanse(gm->plain, sizeof(gm->plain));
	OPENSSL_cleanse(&gm->kd, sizeof(gm->kd));
	OPENSSL_cleanse(&gm->pkgs, sizeof(gm->pkgs));
}

static void group_free(struct gm_group *g)
{
	group_wipe(g);
	for (unsigned int i = 0; i < g->nb_epochs; i++)
		free(g->ep[i]);
	free(g->rtj);
	free(g->ack);
	free(g->rtd);
	free(g->da);
	X509_free(g->ks_cert);
	policy_token_free(g->tok);
	free(g);
}

void gm_free(struct gm *gm)
{
	if (gm == NULL)
		return;
	gm_pvt_wipe(gm);
	for (unsigned int i = 0; i < gm->nb_groups; i++)
		group_free(gm->groups[i]);
	free(gm->groups);
	X509_free(gm->cert);
	free(gm);
}

int gm_group_add(struct gm *gm, const struct gm_group_conf *gconf)
{
	struct gm_group *g, **grown;
	size_t nlen;

	if (gm == NULL || gconf == NULL)
		return -EINVAL;
	nlen = strnlen(gconf->name, GM_NAME_MAX);
	if (nlen == 0 || nlen == GM_NAME_MAX || gconf->server_len == 0 ||
			gconf->server_len > sizeof(gconf->server))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->conf = *gconf;
	memcpy(g->gid_value, gconf->gid, GSAKMP_GID_RANDOM_LEN);
	memcpy(g->gid_value + GSAKMP_GID_RANDOM_LEN, gconf->name, nlen);
	g->gid_len = (uint8_t)(GSAKMP_GID_RANDOM_LEN + nlen);
	if (find_name(gm, g->conf.name) != NULL || find_gid(gm, g->gid_value, g->gid_len)) {
		free(g);
		return -EEXIST;
	}
	if (gm->nb_groups == gm->cap_groups) {
		unsigned int cap = gm->cap_groups == 0 ? 8 : 2 * gm->cap_groups;

		grown = realloc(gm->groups, cap * sizeof(*grown));
		if (grown == NULL) {
			free(g);
			return -ENOMEM;
		}
		gm->groups = grown;
		gm->cap_groups = cap;
	}
	gm->groups[gm->nb_groups++] = g;
	return 0;
}

int gm_join(struct gm *gm, const char *group, int64_t now_ms)
{
	struct gm_group *g;
	int rc;

	if (gm == NULL || group == NULL)
		return -EINVAL;
	g = find_name(gm, group);
	if (g == NULL)
		return -ENOENT;
	switch (g->state) {
	case GM_ST_REGISTERING:
	case GM_ST_MEMBER:
		return -EALREADY;
	case GM_ST_DEPARTING:
		return -EBUSY;
	default:
		break;
	}
	rc = gm_pvt_attempt(gm, g, now_ms);
	if (rc != 0) {
		g->reg_at = 0;
		return rc == -GSAKMP_E_NOMEM ? -ENOMEM : -EIO;
	}
	gm_pvt_set_state(gm, g, GM_ST_REGISTERING);
	return 0;
}

int gm_depart(struct gm *gm, const char *group, int64_t now_ms)
{
	struct gm_group *g;

	if (gm == NULL || group == NULL)
		return -EINVAL;
	g = find_name(gm, group);
	if (g == NULL)
		return -ENOENT;
	return gm_pvt_depart(gm, g, now_ms);
}

int gm_proxy_depart(struct gm *gm, const char *group, const char *subject, int64_t now_ms)
{
	struct gm_group *g;

	if (gm == NULL || group == NULL || subject == NULL)
		return -EINVAL;
	g = find_name(gm, group);
	if (g == NULL)
		return -ENOENT;
	return gm_pvt_proxy_depart(gm, g, subject, now_ms);
}

/* ------------------------------------------------------------------ input */

/* The exchanges a group's state lets in (RFC 4535 §5; doc/gsakmp-profile.md §4). */
static uint32_t expected(const struct gm_group *g)
{
	switch (g->state) {
	case GM_ST_IDLE:
		/* a retransmitted Departure Response gets its Departure Ack again */
		return g->da != NULL ? GSAKMP_EXCH_BIT(GSAKMP_EXCH_DR) : 0;
	case GM_ST_REGISTERING:
		return GSAKMP_EXCH_BIT(GSAKMP_EXCH_COOKIE_DL) | GSAKMP_EXCH_BIT(GSAKMP_EXCH_KEYDL) |
			GSAKMP_EXCH_BIT(GSAKMP_EXCH_RTJ_ERR) |
			(g->have_keys ? GSAKMP_EXCH_BIT(GSAKMP_EXCH_REKEY) : 0);
	case GM_ST_MEMBER:
		return GSAKMP_EXCH_BIT(GSAKMP_EXCH_REKEY) | GSAKMP_EXCH_BIT(GSAKMP_EXCH_KEYDL) |
			GSAKMP_EXCH_BIT(GSAKMP_EXCH_LOA);
	case GM_ST_DEPARTING:
		return GSAKMP_EXCH_BIT(GSAKMP_EXCH_DR);
	default:
		return 0;
	}
}

int gm_input(struct gm *gm, const uint8_t *buf, size_t len, const struct sockaddr *from,
		socklen_t fromlen, int64_t now_ms)
{
	struct gsakmp_dec_ctx ctx = { 0 };
	struct gsakmp_msg *m;
	struct gm_group *g = NULL;
	int rc;

	(void)from;     /* every message that changes state is signed, or bound to our nonce */
	(void)fromlen;
	if (gm == NULL || buf == NULL)
		return -GSAKMP_E_INVALID;
	m = &gm->msg;
	/* The GroupID picks the group before anything else is read (its header is 2 + L). */
	if (len >= 2 && buf[0] == GSAKMP_GID_OCTETS && len >= 2u + buf[1])
		g = find_gid(gm, buf + 2, buf[1]);
	if (g == NULL) {
		rc = gsakmp_decode(buf, len, m, NULL);
		return gm_pvt_refuse(gm, NULL, rc != 0 ? rc : -GSAKMP_E_GROUP_ID);
	}
	ctx.gid = g->gid_value;
	ctx.gid_type = GSAKMP_GID_OCTETS;
	ctx.gid_len = g->gid_len;
	ctx.exch_mask = expected(g);
	if (ctx.exch_mask == 0)
		return gm_pvt_refuse(gm, g, -GSAKMP_E_UNEXPECTED_EXCH);
	rc = gsakmp_decode(buf, len, m, &ctx);
	if (rc != 0)
		return gm_pvt_refuse(gm, g, rc);
	switch (m->hdr.exch) {
	case GSAKMP_EXCH_KEYDL:
		rc = gm_pvt_keydl(gm, g, m, buf, len, now_ms);
		break;
	case GSAKMP_EXCH_COOKIE_DL:
		rc = gm_pvt_cookie(gm, g, m, now_ms);
		break;
	case GSAKMP_EXCH_REKEY:
		rc = gm_pvt_rekey(gm, g, m, now_ms);
		break;
	case GSAKMP_EXCH_LOA:
		rc = gm_pvt_loa(gm, g, m, now_ms);
		break;
	case GSAKMP_EXCH_DR:
		rc = gm_pvt_dr(gm, g, m, buf, len, now_ms);
		break;
	case GSAKMP_EXCH_RTJ_ERR:
		/*
		 * Verbose mode's error is unsigned: anyone could send it, so it is counted and
		 * the registration goes on (retransmission, then a fresh attempt).
		 */
		gm_pvt_event(gm, g, GM_EV_RTJ_ERROR);
		rc = 0;
		break;
	default:
		rc = -GSAKMP_E_UNEXPECTED_EXCH;
		break;
	}
	return rc < 0 ? gm_pvt_refuse(gm, g, rc) : 0;
}

/* ------------------------------------------------------------------ timers */

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The group's next deadline, from its fields alone. */
static int64_t group_next(const struct gm_group *g)
{
	int64_t t = INT64_MAX;

	if (g->state == GM_ST_REGISTERING && g->reg_at != 0)
		t = g->reg_at;
	if (g->state == GM_ST_DEPARTING) {
		t = min64(t, g->dep_deadline);
		if (g->dep_resend_at != 0)
			t = min64(t, g->dep_resend_at);
	}
	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		const struct gm_epoch *e = g->ep[i];

		if (e->send_at != 0)
			t = min64(t, e->send_at);
		if (e->remove_at != 0)
			t = min64(t, e->remove_at);
		t = min64(t, e->expires * 1000);
	}
	if (g->state == GM_ST_MEMBER)
		t = min64(t, gm_pvt_missed_deadline(g));
	return t;
}

static int64_t group_tick(struct gm *gm, struct gm_group *g, int64_t now_ms)
{
	int64_t next = INT64_MAX;

	/* a timer may schedule another one at now (ATD or DTD of 0): a few rounds settle it */
	for (int round = 0; round < 4; round++) {
		if (g->state == GM_ST_REGISTERING)
			gm_pvt_reg_timer(gm, g, now_ms);
		if (g->state == GM_ST_DEPARTING)
			gm_pvt_depart_timer(gm, g, now_ms);
		gm_pvt_epoch_timers(gm, g, now_ms);
		if (g->state == GM_ST_MEMBER)
			gm_pvt_missed_check(gm, g, now_ms);
		next = group_next(g);
		if (next > now_ms)
			break;
	}
	return next;
}

int64_t gm_tick(struct gm *gm, int64_t now_ms)
{
	int64_t next = INT64_MAX;

	if (gm == NULL)
		return INT64_MAX;
	for (unsigned int i = 0; i < gm->nb_groups; i++)
		next = min64(next, group_tick(gm, gm->groups[i], now_ms));
	return next;
}

/* ------------------------------------------------------------------ introspection */

int gm_group_info(const struct gm *gm, const char *group, struct gm_group_info *info)
{
	const struct gm_group *g;
	const struct gm_node *root = NULL;

	if (gm == NULL || group == NULL || info == NULL)
		return -EINVAL;
	g = find_name(gm, group);
	if (g == NULL)
		return -ENOENT;
	memset(info, 0, sizeof(*info));
	info->state = g->state;
	info->member_id = g->member_id;
	for (unsigned int i = 0; i < g->nb_nodes; i++)
		if (g->nodes[i].id == 1)
			root = &g->nodes[i];
	info->root_handle = root != NULL ? root->handle : 0;
	info->nb_path = g->nb_nodes;
	info->next_expiry_ms = INT64_MAX;
	for (unsigned int i = 0; i < g->nb_epochs; i++) {
		const struct gm_epoch *e = g->ep[i];
		struct gm_epoch_info *o = &info->epochs[info->nb_epochs++];

		o->index = e->index;
		o->epoch = e->epoch;
		o->spi = e->attrs.spi;
		o->created_ms = e->created * 1000;
		o->expires_ms = e->expires * 1000;
		o->send = e->send;
		o->sending = e->sending;
		o->send_at_ms = e->send_at;
		o->remove_at_ms = e->remove_at;
		if (gm_pvt_newest(g, e->index) == e)
			info->next_expiry_ms = min64(info->next_expiry_ms, o->expires_ms);
	}
	info->seq_any = g->seq_any;
	info->seq_highest = g->seq_top;
	info->last_heard_ms = g->last_heard;
	info->silence_deadline_ms = g->have_keys && g->max_silence_ms != 0 ?
		g->last_heard + g->max_silence_ms : INT64_MAX;
	info->registrations = g->registrations;
	info->edition = g->pstate.edition;
	info->next_timer_ms = group_next(g);
	return 0;
}

int gm_counters(const struct gm *gm, const char *group,
		int (*cb)(void *arg, const char *name, uint64_t value), void *arg)
{
	const uint64_t *c;
	int rc;

	if (gm == NULL || cb == NULL)
		return -EINVAL;
	if (group != NULL) {
		const struct gm_group *g = find_name(gm, group);

		if (g == NULL)
			return -ENOENT;
		c = g->cnt;
	} else {
		c = gm->cnt;
	}
	for (unsigned int i = 1; i < GM_CNT_MAX; i++) {
		const char *n = cnt_name(i);

		if (n == NULL)
			continue;
		rc = cb(arg, n, c[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

uint64_t gm_counter(const struct gm *gm, const char *group, const char *name)
{
	const uint64_t *c;

	if (gm == NULL || name == NULL)
		return 0;
	if (group != NULL) {
		const struct gm_group *g = find_name(gm, group);

		if (g == NULL)
			return 0;
		c = g->cnt;
	} else {
		c = gm->cnt;
	}
	for (unsigned int i = 1; i < GM_CNT_MAX; i++) {
		const char *n = cnt_name(i);

		if (n != NULL && strcmp(n, name) == 0)
			return c[i];
	}
	return 0;
}
