/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread as a GSAKMP group member (lib/gm; doc/key-management.md §3): one UDP
 * socket (port 3761) for registration and Rekey Events, the key server's multicast rekey
 * groups joined on it, and the member engine's SAs installed through the same path as static
 * SAs (gw_sa_apply(): gsad, RCU, make-before-break with the activation and deactivation delays
 * the key server gives).
 *
 * Called from the control thread only, under gw->lock for everything that touches gsad.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gm.h"
#include "gw.h"

#define GKM_RX_MAX 65536
#define GKM_MAX_INDEX 16                 /* data SAs per group */
#define GKM_MAX_EPOCHS 4                 /* installed epochs per data SA */

struct gkm_sa {
	uint32_t epoch, spi;
};

struct gkm_group {
	int cidx;                            /* index in gw->conf->groups */
	uint32_t gid;                        /* gsad group id */
	enum gm_state state;
	uint32_t installs, removes, install_failures;
	struct gkm_sa sa[GKM_MAX_INDEX][GKM_MAX_EPOCHS];
};

struct gw_gkm {
	struct gw *gw;
	struct gm *gm;
	struct gsakmp_key *key;
	struct gsakmp_trust *trust;
	X509_STORE *go;
	int fd;
	uint16_t nb_groups;
	struct gkm_group *g;                 /* one per key-server group */
	uint8_t *rx;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct gkm_group *find(struct gw_gkm *k, const char *name)
{
	for (uint16_t i = 0; i < k->nb_groups; i++)
		if (strcmp(k->gw->conf->groups[k->g[i].cidx].name, name) == 0)
			return &k->g[i];
	return NULL;
}

static int cb_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	struct gw_gkm *k = arg;

	return sendto(k->fd, msg, len, 0, to, tolen) == (ssize_t)len ? 0 : -errno;
}

/* The SA of an epoch as a configuration object, so it takes the static SAs' one path. */
static void to_conf(const struct gm_sa *sa, const struct gkm_sa *prev, struct gwconf_sa *cs,
		int64_t now)
{
	const struct gsakmp_sa_attrs *a = sa->attrs;

	memset(cs, 0, sizeof(*cs));
	cs->spi = sa->spi;
	cs->dir = sa->send ? GWCONF_DIR_SYMMETRIC : GWCONF_DIR_RECEIVER;
	/* gsakmp_suite and mcrypto_suite share their values (doc/gsakmp-profile.md §9) */
	cs->suite = (enum mcrypto_suite)a->suite;
	cs->keymat_len = (uint8_t)RTE_MIN(sa->key_len, (uint16_t)sizeof(cs->keymat));
	memcpy(cs->keymat, sa->key, cs->keymat_len);
	cs->sid_bits = a->sid_bits;
	cs->nb_sids = (uint16_t)RTE_MIN(sa->nb_sids, (uint16_t)GWCONF_MAX_SIDS);
	memcpy(cs->sids, sa->sids, cs->nb_sids * sizeof(cs->sids[0]));
	cs->replay_window = a->replay_window;
	cs->esn = (a->flags & GSAKMP_SAF_ESN) != 0;
	cs->ttl = GWCONF_COPY;
	cs->dscp = GWCONF_COPY;
	if (sa->expires_ms > now)
		cs->life.hard_seconds = (uint64_t)(sa->expires_ms - now) / 1000 + 1;
	if (prev != NULL) {
		/* make-before-break (RFC 5374 §4.2.1): send on it after ATD, the old one goes
		 * after DTD; gsad keeps the timing */
		cs->has_replaces = true;
		cs->replaces = prev->spi;
		cs->activation_delay_ms = a->act_delay_ms;
		cs->deactivation_delay_ms = RTE_MAX(a->deact_delay_ms, a->act_delay_ms);
	}
}

static int cb_install(void *arg, const struct gm_sa *sa)
{
	struct gw_gkm *k = arg;
	struct gkm_group *g = find(k, sa->group);
	struct gkm_sa *slot = NULL, *prev = NULL;
	struct gwconf_sa cs;
	char err[256];
	int rc;

	if (g == NULL || sa->index >= GKM_MAX_INDEX)
		return -ENOENT;
	for (int e = 0; e < GKM_MAX_EPOCHS; e++) {
		struct gkm_sa *s = &g->sa[sa->index][e];

		if (s->epoch == sa->epoch)
			return 0;                /* installed already (a Key Download repeated) */
		if (s->epoch != 0 && s->epoch < sa->epoch && (prev == NULL || s->epoch > prev->epoch))
			prev = s;
		if (s->epoch == 0 && slot == NULL)
			slot = s;
	}
	if (slot == NULL) {
		/* four epochs installed: the oldest has long been replaced; forget it */
		slot = &g->sa[sa->index][0];
		for (int e = 1; e < GKM_MAX_EPOCHS; e++)
			if (g->sa[sa->index][e].epoch < slot->epoch)
				slot = &g->sa[sa->index][e];
	}
	to_conf(sa, prev, &cs, wall_ms());
	pthread_mutex_lock(&k->gw->lock);
	rc = gw_sa_apply(k->gw, "add", &cs, (int)g->gid, "gkm", err, sizeof(err));
	if (rc != 0 && prev != NULL) {
		/* the epoch it replaces is gone already (expired, or removed at DTD) */
		cs.has_replaces = false;
		cs.activation_delay_ms = 0;
		cs.deactivation_delay_ms = 0;
		rc = gw_sa_apply(k->gw, "add", &cs, (int)g->gid, "gkm", err, sizeof(err));
	}
	pthread_mutex_unlock(&k->gw->lock);
	OPENSSL_cleanse(&cs, sizeof(cs));
	if (rc != 0) {
		g->install_failures++;
		GW_LOG(ERR, "group %s: SA 0x%08x (epoch %u) not installed: %s\n", sa->group,
				sa->spi, sa->epoch, err);
		return rc;
	}
	slot->epoch = sa->epoch;
	slot->spi = sa->spi;
	g->installs++;
	GW_LOG(INFO, "group %s: SA 0x%08x (data SA %u, epoch %u) installed%s\n", sa->group,
			sa->spi, sa->index, sa->epoch, sa->send ? ", sends" : "");
	return 0;
}

/* gsad activates the sender at ATD on its own (cb_install's activation delay). */
static int cb_send_on(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	(void)arg;
	(void)group;
	(void)index;
	(void)epoch;
	return 0;
}

static int cb_remove(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	struct gw_gkm *k = arg;
	struct gkm_group *g = find(k, group);

	if (g == NULL || index >= GKM_MAX_INDEX)
		return -ENOENT;
	for (int e = 0; e < GKM_MAX_EPOCHS; e++) {
		struct gkm_sa *s = &g->sa[index][e];

		if (s->epoch != epoch)
			continue;
		pthread_mutex_lock(&k->gw->lock);
		/* gone already when the replacing SA retired it at DTD: not an error */
		if (gsad_sa_delete(k->gw->db, g->gid, s->spi) == 0)
			gsad_commit(k->gw->db);
		pthread_mutex_unlock(&k->gw->lock);
		GW_LOG(INFO, "group %s: SA 0x%08x (epoch %u) removed\n", group, s->spi, epoch);
		memset(s, 0, sizeof(*s));
		g->removes++;
		return 0;
	}
	return 0;
}

static void cb_state(void *arg, const char *group, enum gm_state st)
{
	struct gkm_group *g = find(arg, group);

	if (g == NULL)
		return;
	if (g->state != st)
		GW_LOG(INFO, "group %s: %s\n", group, gm_state_name(st));
	g->state = st;
}

static int sock_addr(const struct gwconf_addr *a, uint16_t port, struct sockaddr_storage *ss,
		socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->a, 16);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (a->family == AF_INET)
			memcpy(&s4->sin_addr, a->a, 4);
		*len = sizeof(*s4);
	}
	return 0;
}

static int open_socket(struct gw_gkm *k, char *err, size_t errlen)
{
	const struct gwconf_gkm *c = &k->gw->conf->gkm;
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	sock_addr(&c->listen, c->port, &ss, &len);
	k->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0 || setsockopt(k->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			bind(k->fd, (struct sockaddr *)&ss, len) != 0) {
		snprintf(err, errlen, "gkm: UDP port %u: %s", c->port, strerror(errno));
		return -errno;
	}
	/* the key servers' rekey groups */
	for (uint16_t i = 0; i < k->gw->conf->nb_groups; i++) {
		const struct gwconf_group *g = &k->gw->conf->groups[i];

		if (!g->gkm || g->rekey_group.family == 0)
			continue;
		if (g->rekey_group.family == AF_INET && ss.ss_family == AF_INET) {
			struct ip_mreqn mr;

			memset(&mr, 0, sizeof(mr));
			memcpy(&mr.imr_multiaddr, g->rekey_group.a, 4);
			if (c->interface.family == AF_INET)
				memcpy(&mr.imr_address, c->interface.a, 4);
			if (setsockopt(k->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
				snprintf(err, errlen, "gkm: groups[%u]: joining the rekey group: %s",
						i, strerror(errno));
				return -errno;
			}
		} else if (g->rekey_group.family == AF_INET6 && ss.ss_family == AF_INET6) {
			struct ipv6_mreq mr;

			memset(&mr, 0, sizeof(mr));
			memcpy(&mr.ipv6mr_multiaddr, g->rekey_group.a, 16);
			if (setsockopt(k->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) != 0) {
				snprintf(err, errlen, "gkm: groups[%u]: joining the rekey group: %s",
						i, strerror(errno));
				return -errno;
			}
		} else {
			snprintf(err, errlen, "gkm: groups[%u].key_server.rekey_address: not of the "
					"family of gkm.listen.address", i);
			return -EINVAL;
		}
	}
	return 0;
}

int gw_gkm_start(struct gw *gw, char *err, size_t errlen)
{
	const struct gwconf *c = gw->conf;
	struct gw_gkm *k;
	struct gm_conf mc;
	static const struct gm_ops ops = { .send = cb_send, .sa_install = cb_install,
		.sa_send = cb_send_on, .sa_remove = cb_remove, .state = cb_state };
	int64_t now = wall_ms();
	int rc;

	if (!c->gkm.enabled)
		return 0;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	k->gw = gw;
	k->fd = -1;
	gw->gkm = k;
	k->rx = malloc(GKM_RX_MAX);
	k->g = calloc(c->nb_groups, sizeof(*k->g));
	if (k->rx == NULL || k->g == NULL)
		return -ENOMEM;
	rc = gsakmp_key_load(c->gkm.key, c->gkm.cert, &k->key);
	if (rc != 0) {
		snprintf(err, errlen, "gkm.identity: %.300s / %.300s: %s", c->gkm.key, c->gkm.cert,
				gsakmp_strerror(rc));
		return -EINVAL;
	}
	rc = gsakmp_trust_new(&k->trust);
	if (rc == 0)
		rc = gsakmp_trust_load(k->trust, c->gkm.gcks_ca);
	if (rc != 0) {
		snprintf(err, errlen, "gkm.trust.gcks_ca: %.300s: %s", c->gkm.gcks_ca,
				gsakmp_strerror(rc));
		return -EINVAL;
	}
	k->go = X509_STORE_new();
	if (k->go == NULL || X509_STORE_load_file(k->go, c->gkm.go_ca) != 1) {
		snprintf(err, errlen, "gkm.trust.group_owner_ca: %.300s: no certificate could be "
				"read", c->gkm.go_ca);
		return -EINVAL;
	}
	rc = open_socket(k, err, errlen);
	if (rc != 0)
		return rc;
	mc = (struct gm_conf){ .key = k->key, .ks_trust = k->trust, .go_trust = k->go };
	rc = gm_new(&mc, &ops, k, &k->gm);
	if (rc != 0) {
		snprintf(err, errlen, "gkm: member engine: %s", strerror(-rc));
		return rc;
	}
	for (uint16_t i = 0; i < c->nb_groups; i++) {
		const struct gwconf_group *cg = &c->groups[i];
		struct gkm_group *g = &k->g[k->nb_groups];
		struct gm_group_conf gc;

		if (!cg->gkm)
			continue;
		memset(&gc, 0, sizeof(gc));
		snprintf(gc.name, sizeof(gc.name), "%s", cg->name);
		memcpy(gc.gid, cg->gid, sizeof(gc.gid));
		sock_addr(&cg->ks, cg->ks_port, &gc.server, &gc.server_len);
		/* one SID per sending worker (RFC 6054 §4: no two cores share an IV counter) */
		gc.sids = cg->sids >= 0 ? (uint16_t)cg->sids : gw->nb_workers;
		g->cidx = i;
		if (gsad_group_find(gw->db, cg->name, &g->gid) != 0) {
			snprintf(err, errlen, "gkm: groups[%u]: no data-plane group", i);
			return -ENOENT;
		}
		k->nb_groups++;
		rc = gm_group_add(k->gm, &gc);
		if (rc == 0)
			rc = gm_join(k->gm, cg->name, now);
		if (rc != 0) {
			snprintf(err, errlen, "gkm: groups[%u]: %s", i, strerror(-rc));
			return rc;
		}
	}
	GW_LOG(INFO, "gkm: member of %u group(s) through their key servers\n", k->nb_groups);
	return 0;
}

/* Every control-loop iteration: the datagrams that arrived, then the engine's timers. */
void gw_gkm_poll(struct gw *gw)
{
	struct gw_gkm *k = gw->gkm;

	if (k == NULL || k->gm == NULL)
		return;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(k->fd, k->rx, GKM_RX_MAX, 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		gm_input(k->gm, k->rx, (size_t)n, (struct sockaddr *)&from, fl, wall_ms());
	}
	gm_tick(k->gm, wall_ms());
}

/* Shutdown: Request to Depart for every group, and a short wait for the answers. */
void gw_gkm_stop(struct gw *gw)
{
	struct gw_gkm *k = gw->gkm;

	if (k == NULL)
		return;
	if (k->gm != NULL) {
		int64_t end = wall_ms() + 2500;
		bool waiting = false;

		for (uint16_t i = 0; i < k->nb_groups; i++)
			waiting |= gm_depart(k->gm, k->gw->conf->groups[k->g[i].cidx].name,
					wall_ms()) == 0;
		while (waiting && wall_ms() < end) {
			waiting = false;
			gw_gkm_poll(gw);
			for (uint16_t i = 0; i < k->nb_groups; i++)
				waiting |= k->g[i].state == GM_ST_DEPARTING;
			if (waiting)
				usleep(10000);
		}
		gm_free(k->gm);
	}
	if (k->fd >= 0)
		close(k->fd);
	gsakmp_key_free(k->key);
	gsakmp_trust_free(k->trust);
	X509_STORE_free(k->go);
	free(k->rx);
	free(k->g);
	free(k);
	gw->gkm = NULL;
}

static int ctr_cb(void *arg, const char *name, uint64_t value)
{
	if (value != 0)
		json_object_set_new(arg, name, json_integer((json_int_t)value));
	return 0;
}

/* The member state of every key-server group, for msecctl ("gkm"); no key material. */
json_t *gw_gkm_json(const struct gw *gw)
{
	const struct gw_gkm *k = gw->gkm;
	json_t *out = json_array();
	struct gm_group_info *gi;

	if (k == NULL)
		return out;
	gi = malloc(sizeof(*gi));
	if (gi == NULL)
		return out;
	for (uint16_t i = 0; i < k->nb_groups; i++) {
		const char *name = gw->conf->groups[k->g[i].cidx].name;
		json_t *epochs = json_array(), *ctr = json_object();

		if (gm_group_info(k->gm, name, gi) != 0)
			continue;
		for (uint16_t e = 0; e < gi->nb_epochs; e++) {
			char spi[11];

			snprintf(spi, sizeof(spi), "0x%08x", gi->epochs[e].spi);
			json_array_append_new(epochs, json_pack("{s:i, s:i, s:s, s:I, s:b, s:b}",
					"index", gi->epochs[e].index, "epoch", gi->epochs[e].epoch,
					"spi", spi, "expires_ms", (json_int_t)gi->epochs[e].expires_ms,
					"may_send", gi->epochs[e].send, "sending",
					gi->epochs[e].sending));
		}
		gm_counters(k->gm, name, ctr_cb, ctr);
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, "
				"s:i, s:i, s:o, s:o}", "group", name,
				"state", gm_state_name(gi->state),
				"fail", gw->conf->groups[k->g[i].cidx].fail_open ? "open" : "close",
				"member_id", gi->member_id, "root_handle", gi->root_handle,
				"sequence_id", gi->seq_highest,
				"last_heard_ms", (json_int_t)gi->last_heard_ms,
				"silence_deadline_ms", (json_int_t)gi->silence_deadline_ms,
				"next_expiry_ms", (json_int_t)(gi->next_expiry_ms == INT64_MAX ? 0 :
						gi->next_expiry_ms),
				"registrations", gi->registrations, "sa_installs", k->g[i].installs,
				"epochs", epochs, "counters", ctr));
	}
	free(gi);
	return out;
}
