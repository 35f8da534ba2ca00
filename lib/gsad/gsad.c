/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Group SA/policy database: control-side records, immutable lookup snapshots published with
 * QSBR RCU, make-before-break timing and lifetimes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "gsad.h"

RTE_LOG_REGISTER(gsad_logtype, msecgw.gsad, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_ ## level, gsad_logtype, "gsad: " __VA_ARGS__)

/* ------------------------------------------------------------------ snapshot layout */

struct in_ent {                 /* open-addressed by SPI; spi_be 0 marks a free slot */
	uint32_t spi_be;
	uint16_t first;
	uint16_t count;
};

struct in_cand {                /* one inbound SA; candidates of an SPI sorted longest first */
	uint8_t kind;           /* enum gsad_match, never DEFAULT */
	uint8_t family;
	uint16_t out_port;      /* protected port for the plaintext */
	uint32_t pad;
	uint64_t t_end;         /* TSC after which the SA must not be used */
	struct mesp_sa *sa;
	uint8_t dst[16];
	uint8_t src[16];
};

struct gsad_group_rt {
	uint16_t out_port;
	uint8_t nb;
	uint8_t fail_open;      /* no usable SA: bypass instead of drop */
	struct {
		struct mesp_sa *sa;
		uint64_t t_start;
		uint64_t t_end;
	} tx[GSAD_MAX_LIVE];    /* sorted by t_start, newest first */
};

struct pol_ent {                /* open-addressed by (family, dst); count 0 marks a free slot */
	uint8_t family;
	uint8_t pad[3];
	uint16_t first;
	uint16_t count;
	uint8_t dst[16];
};

struct pol_rule {               /* rules of one destination, most specific first */
	uint8_t has_src;
	uint8_t action;
	uint16_t lo, hi;
	uint8_t src[16];
	const struct gsad_group_rt *grp;
};

struct gsad_snap {
	uint64_t generation;
	uint64_t bytes;                 /* size of this allocation, for gsad_memory() */
	uint32_t in_mask;
	uint32_t pol_mask;
	struct in_ent *in;
	struct in_cand *cand;
	struct pol_ent *pol;
	struct pol_rule *rule;
	struct gsad_group_rt *grp;
	uint32_t nb_tl;
	struct gsad_tesla_sa *tl;       /* SAs with TESLA: beacons and store expiry */
};

/* ------------------------------------------------------------------ control records */

enum slot_state { SLOT_FREE = 0, SLOT_USED, SLOT_DEAD };

struct sa_rec {
	enum slot_state state;
	uint32_t group;
	uint32_t spi;
	uint8_t dir;
	enum gsad_match match;       /* resolved, never DEFAULT */
	struct mesp_sa *rt;
	struct gsad_lifetime life;
	uint64_t t_install, t_start, t_hard, t_soft, t_retire;  /* TSC; 0 = never */
	uint64_t t_drain;            /* deleted TESLA sender: beacons only until then (TSC) */
	bool soft_expired;
	char origin[16];
};

struct grp_rec {
	struct gsad_group_params p;
};

struct pol_rec {
	uint8_t family;
	bool has_src;
	uint8_t dst[16], src[16];
	uint16_t lo, hi;
	enum gsad_action action;
	uint32_t group;
};

/* Objects retired by one commit, freed together after the grace period. */
struct garbage {
	struct gsad_snap *snap;
	uint32_t nb_rt, nb_ids;
	struct mesp_sa **rt;
	uint32_t *ids;
};

struct gsad {
	const struct gsad_snap *snap;   /* published; workers load with acquire */
	struct gsad_params p;
	struct rte_rcu_qsbr_dq *dq;
	uint64_t hz;
	uint64_t generation;
	bool dirty;

	struct sa_rec *sa;              /* p.max_sas slots; slot index = stats id */
	uint32_t nb_sa;
	struct grp_rec *grp;
	uint32_t nb_grp, cap_grp;
	struct pol_rec *pol;
	uint32_t nb_pol, cap_pol;

	/* keys this node has sent with and no longer holds (ring, oldest overwritten) */
	uint8_t (*burnt)[MESP_KEYID_LEN];
	uint32_t nb_burnt, cap_burnt, next_burnt;

	/* retired since the last commit */
	struct mesp_sa **dead_rt;
	uint32_t nb_dead_rt;
	uint32_t *dead_id;
	uint32_t nb_dead_id;
};

#define ADDR_LEN(f) ((f) == AF_INET ? 4u : 16u)

static uint64_t ms_to_tsc(const struct gsad *db, uint64_t ms)
{
	return ms * (db->hz / 1000);
}

/* ------------------------------------------------------------------ reclamation */

static void zero_counters(struct gsad *db, uint32_t id)
{
	for (uint16_t l = 0; l < db->p.nb_lcores; l++)
		memset(&db->p.lcores[l]->sa_ctr[id], 0, sizeof(struct mesp_sa_ctr));
}

static void garbage_free(struct gsad *db, struct garbage *g)
{
	rte_free(g->snap);
	for (uint32_t i = 0; i < g->nb_rt; i++)
		mesp_sa_free(g->rt[i]);
	for (uint32_t i = 0; i < g->nb_ids; i++) {
		/* no worker can still count into this slot: clear it for the next SA */
		zero_counters(db, g->ids[i]);
		db->sa[g->ids[i]].state = SLOT_FREE;
	}
	free(g->rt);
	free(g->ids);
	free(g);
}

static void dq_free(void *p, void *e, unsigned int n)
{
	struct garbage **gp = e;

	for (unsigned int i = 0; i < n; i++)
		garbage_free(p, gp[i]);
}

/* ------------------------------------------------------------------ create / free */

int gsad_create(const struct gsad_params *p, struct gsad **out)
{
	struct rte_rcu_qsbr_dq_parameters dqp;
	char name[RTE_RCU_QSBR_DQ_NAMESIZE];
	static unsigned int seq;
	struct gsad *db;
	int rc;

	if (p->max_sas == 0 || p->max_senders == 0 || p->qsv == NULL ||
			(p->nb_lcores != 0 && p->lcores == NULL))
		return -EINVAL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return -ENOMEM;
	db->p = *p;
	db->hz = rte_get_tsc_hz();
	db->sa = calloc(p->max_sas, sizeof(*db->sa));
	db->dead_rt = calloc(2 * (size_t)p->max_sas, sizeof(*db->dead_rt));
	db->dead_id = calloc(p->max_sas, sizeof(*db->dead_id));
	db->cap_burnt = 4 * p->max_sas;
	db->burnt = calloc(db->cap_burnt, sizeof(*db->burnt));
	if (db->sa == NULL || db->dead_rt == NULL || db->dead_id == NULL || db->burnt == NULL)
		goto nomem;

	snprintf(name, sizeof(name), "gsad%u", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	memset(&dqp, 0, sizeof(dqp));
	dqp.name = name;
	dqp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;   /* the control thread alone enqueues/reclaims */
	dqp.size = 1024;
	dqp.esize = sizeof(struct garbage *);
	dqp.trigger_reclaim_limit = 1;
	dqp.max_reclaim_size = 1024;
	dqp.free_fn = dq_free;
	dqp.p = db;
	dqp.v = p->qsv;
	db->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (db->dq == NULL)
		goto nomem;
	/* the first (empty) snapshot: without it the workers would have nothing to read */
	rc = gsad_commit(db);
	if (rc != 0) {
		gsad_free(db);
		return rc;
	}
	*out = db;
	return 0;
nomem:
	free(db->sa);
	free(db->dead_rt);
	free(db->dead_id);
	free(db->burnt);
	free(db);
	return -ENOMEM;
}

void gsad_free(struct gsad *db)
{
	if (db == NULL)
		return;
	gsad_quiesce(db);
	rte_rcu_qsbr_dq_delete(db->dq);
	rte_free((void *)(uintptr_t)db->snap);
	for (uint32_t i = 0; i < db->p.max_sas; i++)
		if (db->sa[i].state == SLOT_USED)
			mesp_sa_free(db->sa[i].rt);
	for (uint32_t i = 0; i < db->nb_dead_rt; i++)
		mesp_sa_free(db->dead_rt[i]);
	free(db->sa);
	free(db->dead_rt);
	free(db->dead_id);
	free(db->burnt);
	free(db->grp);
	free(db->pol);
	free(db);
}

const struct gsad_snap *gsad_snap_get(const struct gsad *db)
{
	/* acquire: pairs with the release store in gsad_commit(), so the tables the pointer
	 * leads to are fully written before a worker reads them */
	return __atomic_load_n(&db->snap, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ groups, policies */

int gsad_group_add(struct gsad *db, const struct gsad_group_params *p, uint32_t *id)
{
	if ((p->family != AF_INET && p->family != AF_INET6) || p->name[0] == '\0' ||
			memchr(p->name, '\0', sizeof(p->name)) == NULL)
		return -EINVAL;
	for (uint32_t i = 0; i < db->nb_grp; i++) {
		const struct gsad_group_params *g = &db->grp[i].p;

		if (strcmp(g->name, p->name) == 0)
			return -EEXIST;
		if (g->family == p->family && g->has_src == p->has_src &&
				memcmp(g->dst, p->dst, ADDR_LEN(p->family)) == 0 &&
				(!p->has_src || memcmp(g->src, p->src, ADDR_LEN(p->family)) == 0))
			return -EEXIST;
	}
	if (db->nb_grp == UINT16_MAX)
		return -ENOSPC;
	if (db->nb_grp == db->cap_grp) {
		uint32_t cap = db->cap_grp ? 2 * db->cap_grp : 16;
		struct grp_rec *n = realloc(db->grp, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		db->grp = n;
		db->cap_grp = cap;
	}
	memset(&db->grp[db->nb_grp], 0, sizeof(db->grp[0]));
	db->grp[db->nb_grp].p = *p;
	*id = db->nb_grp++;
	db->dirty = true;
	return 0;
}

int gsad_group_find(const struct gsad *db, const char *name, uint32_t *id)
{
	for (uint32_t i = 0; i < db->nb_grp; i++)
		if (strcmp(db->grp[i].p.name, name) == 0) {
			*id = i;
			return 0;
		}
	return -ENOENT;
}

int gsad_group_get(const struct gsad *db, uint32_t id, struct gsad_group_params *p)
{
	if (id >= db->nb_grp)
		return -ENOENT;
	*p = db->grp[id].p;
	return 0;
}

uint32_t gsad_group_count(const struct gsad *db)
{
	return db->nb_grp;
}

int gsad_policy_add(struct gsad *db, uint8_t family, const uint8_t dst[16], const uint8_t *src,
		uint16_t dport_lo, uint16_t dport_hi, enum gsad_action action, uint32_t group)
{
	struct pol_rec r;

	if ((family != AF_INET && family != AF_INET6) || dport_lo > dport_hi ||
			action < GSAD_BYPASS || action > GSAD_PROTECT)
		return -EINVAL;
	if (action == GSAD_PROTECT && (group >= db->nb_grp || db->grp[group].p.family != family))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.family = family;
	memcpy(r.dst, dst, ADDR_LEN(family));
	r.has_src = src != NULL;
	if (src != NULL)
		memcpy(r.src, src, ADDR_LEN(family));
	r.lo = dport_lo;
	r.hi = dport_hi;
	r.action = action;
	r.group = group;
	for (uint32_t i = 0; i < db->nb_pol; i++) {
		const struct pol_rec *o = &db->pol[i];

		if (o->family == r.family && o->has_src == r.has_src && o->lo == r.lo &&
				o->hi == r.hi && memcmp(o->dst, r.dst, 16) == 0 &&
				memcmp(o->src, r.src, 16) == 0)
			return -EEXIST;
	}
	if (db->nb_pol == db->cap_pol) {
		uint32_t cap = db->cap_pol ? 2 * db->cap_pol : 16;
		struct pol_rec *n = realloc(db->pol, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		db->pol = n;
		db->cap_pol = cap;
	}
	db->pol[db->nb_pol++] = r;
	db->dirty = true;
	return 0;
}

/* ------------------------------------------------------------------ SAs */

static struct sa_rec *sa_find(struct gsad *db, uint32_t group, uint32_t spi)
{
	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		struct sa_rec *r = &db->sa[i];

		if (r->state == SLOT_USED && r->group == group && r->spi == spi)
			return r;
	}
	return NULL;
}

/* Remember the key of a record that leaves for good if this node may have sent with it. */
static void burn_key(struct gsad *db, const struct mesp_sa *rt)
{
	struct mesp_sa_info info;

	mesp_sa_get_info(rt, &info);
	if (!info.has_tx)
		return;
	mesp_sa_keyid(rt, db->burnt[db->next_burnt]);
	db->next_burnt = (db->next_burnt + 1) % db->cap_burnt;
	if (db->nb_burnt < db->cap_burnt)
		db->nb_burnt++;
}

/*
 * One key, one set of sender counters (RFC 6054 §3, RFC 4106 §3.1: an IV never twice under a
 * key) and one set of replay windows. Refused with -EKEYREJECTED:
 * - a replace that keeps the key but changes what the counters and windows depend on (sender
 *   IDs, SID length, ESN, replay window): it would restart them;
 * - a sending SA whose key another SA of this node sends with, or that this node has sent with
 *   before (a deleted SA's counters are gone; re-adding its key would restart them).
 */
static int key_guard(struct gsad *db, const struct mesp_sa_conf *c, const struct sa_rec *self)
{
	uint8_t id[MESP_KEYID_LEN], other[MESP_KEYID_LEN];
	int rc = 0;

	mesp_conf_keyid(c, id);
	if (self != NULL) {
		mesp_sa_keyid(self->rt, other);
		if (CRYPTO_memcmp(id, other, sizeof(id)) == 0 && !mesp_sa_same_keys(self->rt, c))
			rc = -EKEYREJECTED;
	}
	if (rc == 0 && (c->dir & MESP_SA_OUT)) {
		for (uint32_t i = 0; i < db->p.max_sas && rc == 0; i++) {
			const struct sa_rec *r = &db->sa[i];

			if (r->state != SLOT_USED || r == self || !(r->dir & MESP_SA_OUT))
				continue;
			mesp_sa_keyid(r->rt, other);
			if (CRYPTO_memcmp(id, other, sizeof(id)) == 0)
				rc = -EKEYREJECTED;
		}
		for (uint32_t i = 0; i < db->nb_burnt && rc == 0; i++)
			if (CRYPTO_memcmp(id, db->burnt[i], sizeof(id)) == 0)
				rc = -EKEYREJECTED;
	}
	OPENSSL_cleanse(id, sizeof(id));
	OPENSSL_cleanse(other, sizeof(other));
	return rc;
}

static void retire_rt(struct gsad *db, struct mesp_sa *rt)
{
	/* dead_rt holds 2 * max_sas: at most max_sas replaced records (gsad_sa_replace() commits
	 * first beyond that) and one removed record per slot (a removed slot stays dead until the
	 * commit's grace period ends) between commits */
	db->dead_rt[db->nb_dead_rt++] = rt;
}

static int fill_conf(struct gsad *db, const struct gsad_sa_params *p, struct mesp_sa_conf *c,
		enum gsad_match *match)
{
	const struct gsad_group_params *g;

	if (p->group >= db->nb_grp)
		return -ENOENT;
	g = &db->grp[p->group].p;
	*c = p->sa;
	c->family = g->family;
	memset(c->dst, 0, sizeof(c->dst));
	memset(c->src, 0, sizeof(c->src));
	memcpy(c->dst, g->dst, ADDR_LEN(g->family));
	c->has_src = g->has_src;
	if (g->has_src)
		memcpy(c->src, g->src, ADDR_LEN(g->family));
	c->max_senders = db->p.max_senders;
	if (c->engine == NULL)
		c->engine = db->p.engine;
	if (p->sa.spi < 256)
		return -EINVAL;       /* RFC 4303 §2.1: 1..255 reserved, 0 never used */
	if (p->activation_delay_ms > p->deactivation_delay_ms && p->replaces)
		return -EINVAL;
	if (p->life.soft_seconds && p->life.hard_seconds &&
			p->life.soft_seconds >= p->life.hard_seconds)
		return -EINVAL;
	if (p->life.soft_bytes && p->life.hard_bytes && p->life.soft_bytes >= p->life.hard_bytes)
		return -EINVAL;
	*match = p->match;
	if (*match == GSAD_MATCH_DEFAULT)
		*match = g->has_src ? GSAD_MATCH_SPI_DST_SRC : GSAD_MATCH_SPI_DST;
	if (*match == GSAD_MATCH_SPI_DST_SRC && !g->has_src)
		return -EINVAL;
	if (*match > GSAD_MATCH_SPI_DST_SRC)
		return -EINVAL;
	return 0;
}

static void rec_times(struct gsad *db, struct sa_rec *r, const struct gsad_sa_params *p,
		uint64_t now)
{
	r->life = p->life;
	r->t_install = now;
	r->t_start = now + ms_to_tsc(db, p->activation_delay_ms);
	r->t_hard = p->life.hard_seconds ? now + p->life.hard_seconds * db->hz : 0;
	r->t_soft = p->life.soft_seconds ? now + p->life.soft_seconds * db->hz : 0;
	r->t_retire = 0;
	r->t_drain = 0;
	r->soft_expired = false;
	snprintf(r->origin, sizeof(r->origin), "%s", p->origin ? p->origin : "unknown");
}

int gsad_sa_add(struct gsad *db, const struct gsad_sa_params *p)
{
	struct mesp_sa_conf c;
	enum gsad_match match;
	struct sa_rec *old = NULL, *r = NULL;
	uint64_t now = rte_get_tsc_cycles();
	int rc;

	rc = fill_conf(db, p, &c, &match);
	if (rc != 0)
		return rc;
	if (sa_find(db, p->group, p->sa.spi) != NULL)
		return -EEXIST;
	rc = key_guard(db, &c, NULL);
	if (rc != 0)
		return rc;
	if (p->replaces) {
		old = sa_find(db, p->group, p->replaces_spi);
		if (old == NULL)
			return -ENOENT;
	}
	for (uint32_t i = 0; i < db->p.max_sas; i++)
		if (db->sa[i].state == SLOT_FREE) {
			r = &db->sa[i];
			c.stats_id = i;
			break;
		}
	if (r == NULL)
		return -ENOSPC;
	rc = mesp_sa_create(&c, NULL, &r->rt);
	if (rc != 0)
		return rc;
	r->state = SLOT_USED;
	r->group = p->group;
	r->spi = p->sa.spi;
	r->dir = c.dir;
	r->match = match;
	rec_times(db, r, p, now);
	if (old != NULL) {
		/* RFC 5374 §4.2.1: the trailing-edge SA goes DTD after the rekey event */
		uint64_t t = now + ms_to_tsc(db, p->deactivation_delay_ms);

		if (old->t_retire == 0 || t < old->t_retire)
			old->t_retire = t;
	}
	db->nb_sa++;
	db->dirty = true;
	return 0;
}

int gsad_sa_replace(struct gsad *db, const struct gsad_sa_params *p)
{
	struct mesp_sa_conf c;
	enum gsad_match match;
	struct mesp_sa *rt;
	struct sa_rec *r;
	bool share;
	int rc;

	rc = fill_conf(db, p, &c, &match);
	if (rc != 0)
		return rc;
	if (p->replaces)
		return -EINVAL;       /* a replace keeps its SPI; make-before-break is an add */
	r = sa_find(db, p->group, p->sa.spi);
	if (r == NULL)
		return -ENOENT;
	if (db->nb_dead_rt >= db->p.max_sas) {
		rc = gsad_commit(db);
		if (rc != 0)
			return rc;
	}
	rc = key_guard(db, &c, r);
	if (rc != 0)
		return rc;
	c.stats_id = (uint32_t)(r - db->sa);
	share = mesp_sa_same_keys(r->rt, &c);
	rc = mesp_sa_create(&c, share ? r->rt : NULL, &rt);
	if (rc != 0)
		return rc;
	if (!share)
		burn_key(db, r->rt);
	retire_rt(db, r->rt);
	r->rt = rt;
	r->dir = c.dir;
	r->match = match;
	uint64_t start = r->t_start, retire = r->t_retire;
	rec_times(db, r, p, rte_get_tsc_cycles());
	/* same SPI, same place in the make-before-break order: an active SA stays active without
	 * becoming newer than its successor, a pending one keeps its activation time */
	r->t_start = start;
	r->t_retire = retire;
	db->dirty = true;
	return 0;
}

static void rec_remove(struct gsad *db, struct sa_rec *r)
{
	burn_key(db, r->rt);
	retire_rt(db, r->rt);
	r->rt = NULL;
	r->state = SLOT_DEAD;
	db->dead_id[db->nb_dead_id++] = (uint32_t)(r - db->sa);
	db->nb_sa--;
	db->dirty = true;
}

int gsad_sa_delete(struct gsad *db, uint32_t group, uint32_t spi)
{
	struct sa_rec *r = sa_find(db, group, spi);

	if (r == NULL)
		return -ENOENT;
	/* a TESLA sender keeps disclosing keys after its last packet, so that receivers can
	 * verify the packets they still hold (doc/wire-format.md §7.5); a second delete is final */
	uint64_t ns = r->t_drain == 0 ? mesp_tesla_drain_ns(r->rt) : 0;
	if (ns != 0) {
		r->t_drain = rte_get_tsc_cycles() + (uint64_t)((double)ns * db->hz / 1e9);
		db->dirty = true;
		LOG(INFO, "SA spi 0x%08x group %s: no more traffic, key beacons for %" PRIu64
				" ms before removal (TESLA)\n", r->spi, db->grp[r->group].p.name,
				ns / 1000000);
		return 0;
	}
	rec_remove(db, r);
	return 0;
}

/* ------------------------------------------------------------------ snapshot build */

static uint32_t spi_hash(uint32_t spi_be)
{
	return rte_hash_crc_4byte(spi_be, 0x5a5a5a5a);
}

static uint32_t dst_hash(uint8_t family, const uint8_t *dst)
{
	uint64_t a[2];

	/* rte_hash_crc() loads 8 and 4 bytes at a time, and addresses in packets or in control
	 * records are not aligned: hash an aligned copy */
	memcpy(a, dst, ADDR_LEN(family));
	return rte_hash_crc(a, ADDR_LEN(family), family);
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t s = 16;

	while (s < 2 * n)
		s <<= 1;
	return s;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct in_cand *x = a, *y = b;

	if (x->pad != y->pad)           /* pad holds the SPI while sorting */
		return x->pad < y->pad ? -1 : 1;
	return (int)y->kind - (int)x->kind;   /* longest match first */
}

static int rule_cmp(const void *a, const void *b)
{
	const struct pol_rule *x = a, *y = b;
	int xs = x->has_src * 2 + (x->lo != 0 || x->hi != 0);
	int ys = y->has_src * 2 + (y->lo != 0 || y->hi != 0);

	return ys - xs;                 /* (S,G,port), (S,G), (*,G,port), (*,G) */
}

static uint64_t rec_end(const struct sa_rec *r)
{
	uint64_t e = UINT64_MAX;

	if (r->t_hard)
		e = r->t_hard;
	if (r->t_retire && r->t_retire < e)
		e = r->t_retire;
	return e;
}

static int pol_idx_cmp_family_dst(const struct pol_rec *a, const struct pol_rec *b)
{
	return a->family == b->family && memcmp(a->dst, b->dst, 16) == 0;
}

static struct gsad_snap *snap_build(struct gsad *db)
{
	uint32_t nb_in = 0, nb_dst = 0, nb_tl = 0;
	uint32_t in_slots, pol_slots;
	size_t sz;
	struct gsad_snap *s;
	uint8_t *m;

	for (uint32_t i = 0; i < db->p.max_sas; i++)
		if (db->sa[i].state == SLOT_USED) {
			nb_in += (db->sa[i].dir & MESP_SA_IN) != 0;
			nb_tl += mesp_sa_has_tesla(db->sa[i].rt);
		}
	nb_dst = db->nb_pol;        /* upper bound of distinct destinations */
	in_slots = pow2_at_least(nb_in);
	pol_slots = pow2_at_least(nb_dst);

	sz = RTE_ALIGN_CEIL(sizeof(*s), RTE_CACHE_LINE_SIZE);
	size_t off_in = sz;
	sz += RTE_ALIGN_CEIL(in_slots * sizeof(struct in_ent), RTE_CACHE_LINE_SIZE);
	size_t off_cand = sz;
	sz += RTE_ALIGN_CEIL((nb_in + 1) * sizeof(struct in_cand), RTE_CACHE_LINE_SIZE);
	size_t off_pol = sz;
	sz += RTE_ALIGN_CEIL(pol_slots * sizeof(struct pol_ent), RTE_CACHE_LINE_SIZE);
	size_t off_rule = sz;
	sz += RTE_ALIGN_CEIL((db->nb_pol + 1) * sizeof(struct pol_rule), RTE_CACHE_LINE_SIZE);
	size_t off_tl = sz;
	sz += RTE_ALIGN_CEIL((nb_tl + 1) * sizeof(struct gsad_tesla_sa), RTE_CACHE_LINE_SIZE);
	size_t off_grp = sz;
	sz += (db->nb_grp + 1) * sizeof(struct gsad_group_rt);

	m = rte_zmalloc("gsad_snap", sz, RTE_CACHE_LINE_SIZE);
	if (m == NULL)
		return NULL;
	s = (struct gsad_snap *)m;
	s->generation = db->generation + 1;
	s->bytes = sz;
	s->in_mask = in_slots - 1;
	s->pol_mask = pol_slots - 1;
	s->in = (struct in_ent *)(m + off_in);
	s->cand = (struct in_cand *)(m + off_cand);
	s->pol = (struct pol_ent *)(m + off_pol);
	s->rule = (struct pol_rule *)(m + off_rule);
	s->grp = (struct gsad_group_rt *)(m + off_grp);
	s->tl = (struct gsad_tesla_sa *)(m + off_tl);
	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		const struct sa_rec *r = &db->sa[i];

		if (r->state != SLOT_USED || !mesp_sa_has_tesla(r->rt))
			continue;
		s->tl[s->nb_tl].sa = r->rt;
		s->tl[s->nb_tl].out_port = db->grp[r->group].p.unprot_port;
		s->nb_tl++;
	}

	/* groups: live outbound SAs, newest activation first */
	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		const struct sa_rec *r = &db->sa[i];
		struct gsad_group_rt *g;

		if (r->state != SLOT_USED || !(r->dir & MESP_SA_OUT) || r->t_drain != 0)
			continue;
		g = &s->grp[r->group];
		uint8_t k = g->nb;
		if (k == GSAD_MAX_LIVE) {
			/* keep the newest GSAD_MAX_LIVE; an older one cannot be the active one
			 * unless the newer ones are all pending */
			if (r->t_start <= g->tx[k - 1].t_start)
				continue;
			k--;
		} else {
			g->nb++;
		}
		while (k > 0 && g->tx[k - 1].t_start < r->t_start) {
			g->tx[k] = g->tx[k - 1];
			k--;
		}
		g->tx[k].sa = r->rt;
		g->tx[k].t_start = r->t_start;
		g->tx[k].t_end = rec_end(r);
	}
	for (uint32_t i = 0; i < db->nb_grp; i++) {
		s->grp[i].out_port = db->grp[i].p.unprot_port;
		s->grp[i].fail_open = db->grp[i].p.fail_open;
	}

	/* inbound candidates, grouped by SPI and sorted longest match first */
	uint32_t n = 0;
	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		const struct sa_rec *r = &db->sa[i];
		const struct gsad_group_params *g;
		struct in_cand *c;

		if (r->state != SLOT_USED || !(r->dir & MESP_SA_IN) || r->t_drain != 0)
			continue;
		g = &db->grp[r->group].p;
		c = &s->cand[n++];
		c->kind = (uint8_t)r->match;
		c->family = g->family;
		c->out_port = g->prot_port;
		c->pad = r->spi;
		c->t_end = rec_end(r);
		c->sa = r->rt;
		memcpy(c->dst, g->dst, 16);
		if (g->has_src)
			memcpy(c->src, g->src, 16);
	}
	qsort(s->cand, n, sizeof(*s->cand), cand_cmp);
	for (uint32_t i = 0; i < n;) {
		uint32_t spi = s->cand[i].pad, j = i;
		uint32_t spi_be = rte_cpu_to_be_32(spi);

		while (j < n && s->cand[j].pad == spi)
			j++;
		uint32_t h = spi_hash(spi_be) & s->in_mask;
		while (s->in[h].spi_be != 0)
			h = (h + 1) & s->in_mask;
		s->in[h].spi_be = spi_be;
		s->in[h].first = (uint16_t)i;
		s->in[h].count = (uint16_t)(j - i);
		i = j;
	}

	/* policies grouped by destination */
	uint32_t nr = 0;
	bool *done = calloc(db->nb_pol + 1, sizeof(bool));
	if (done == NULL) {
		rte_free(m);
		return NULL;
	}
	for (uint32_t i = 0; i < db->nb_pol; i++) {
		if (done[i])
			continue;
		uint32_t first = nr;
		for (uint32_t j = i; j < db->nb_pol; j++) {
			const struct pol_rec *p = &db->pol[j];
			struct pol_rule *ru;

			if (done[j] || !pol_idx_cmp_family_dst(&db->pol[i], p))
				continue;
			done[j] = true;
			ru = &s->rule[nr++];
			ru->has_src = p->has_src;
			ru->action = (uint8_t)p->action;
			ru->lo = p->lo;
			ru->hi = p->hi;
			memcpy(ru->src, p->src, 16);
			ru->grp = p->action == GSAD_PROTECT ? &s->grp[p->group] : NULL;
		}
		qsort(&s->rule[first], nr - first, sizeof(struct pol_rule), rule_cmp);
		uint32_t h = dst_hash(db->pol[i].family, db->pol[i].dst) & s->pol_mask;
		while (s->pol[h].count != 0)
			h = (h + 1) & s->pol_mask;
		s->pol[h].family = db->pol[i].family;
		memcpy(s->pol[h].dst, db->pol[i].dst, 16);
		s->pol[h].first = (uint16_t)first;
		s->pol[h].count = (uint16_t)(nr - first);
	}
	free(done);
	return s;
}

int gsad_commit(struct gsad *db)
{
	struct gsad_snap *s;
	struct garbage *g;

	s = snap_build(db);
	if (s == NULL)
		return -ENOMEM;
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		rte_free(s);
		return -ENOMEM;
	}
	g->snap = (struct gsad_snap *)(uintptr_t)db->snap;
	g->nb_rt = db->nb_dead_rt;
	g->nb_ids = db->nb_dead_id;
	g->rt = g->nb_rt ? malloc(g->nb_rt * sizeof(*g->rt)) : NULL;
	g->ids = g->nb_ids ? malloc(g->nb_ids * sizeof(*g->ids)) : NULL;
	if ((g->nb_rt && g->rt == NULL) || (g->nb_ids && g->ids == NULL)) {
		free(g->rt);
		free(g->ids);
		free(g);
		rte_free(s);
		return -ENOMEM;
	}
	if (g->nb_rt)
		memcpy(g->rt, db->dead_rt, g->nb_rt * sizeof(*g->rt));
	if (g->nb_ids)
		memcpy(g->ids, db->dead_id, g->nb_ids * sizeof(*g->ids));

	/* release: every table of s is written before workers can see the pointer */
	__atomic_store_n(&db->snap, s, __ATOMIC_RELEASE);
	db->generation = s->generation;
	db->nb_dead_rt = 0;
	db->nb_dead_id = 0;
	db->dirty = false;

	if (g->snap == NULL && g->nb_rt == 0 && g->nb_ids == 0) {
		free(g);
		return 0;
	}
	if (rte_rcu_qsbr_dq_enqueue(db->dq, &g) != 0) {
		/* defer queue full: wait for the grace period here instead */
		rte_rcu_qsbr_synchronize(db->p.qsv, RTE_QSBR_THRID_INVALID);
		garbage_free(db, g);
	}
	return 0;
}

/* ------------------------------------------------------------------ housekeeping */

static uint64_t sa_bytes(const struct gsad *db, uint32_t id)
{
	uint64_t b = 0;

	for (uint16_t l = 0; l < db->p.nb_lcores; l++) {
		const struct mesp_sa_ctr *c = &db->p.lcores[l]->sa_ctr[id];

		b += __atomic_load_n(&c->in_bytes, __ATOMIC_RELAXED) +
			__atomic_load_n(&c->out_bytes, __ATOMIC_RELAXED);
	}
	return b;
}

int gsad_tick(struct gsad *db)
{
	uint64_t now = rte_get_tsc_cycles();
	int removed = 0;

	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		struct sa_rec *r = &db->sa[i];
		const char *why = NULL;

		if (r->state != SLOT_USED)
			continue;
		uint64_t bytes = (r->life.hard_bytes || r->life.soft_bytes) ? sa_bytes(db, i) : 0;
		if (r->t_drain && now >= r->t_drain)
			why = "deleted, last TESLA keys disclosed";
		else if (r->t_retire && now >= r->t_retire)
			why = "deactivated (superseded)";
		else if (r->t_hard && now >= r->t_hard)
			why = "hard lifetime (seconds) reached";
		else if (r->life.hard_bytes && bytes >= r->life.hard_bytes)
			why = "hard lifetime (bytes) reached";
		if (why != NULL) {
			LOG(INFO, "SA spi 0x%08x group %s removed: %s\n", r->spi,
					db->grp[r->group].p.name, why);
			rec_remove(db, r);
			removed++;
			continue;
		}
		if (!r->soft_expired && ((r->t_soft && now >= r->t_soft) ||
				(r->life.soft_bytes && bytes >= r->life.soft_bytes))) {
			r->soft_expired = true;
			LOG(NOTICE, "SA spi 0x%08x group %s: soft lifetime reached, rekey due\n",
					r->spi, db->grp[r->group].p.name);
		}
	}
	if (db->dirty)
		gsad_commit(db);
	rte_rcu_qsbr_dq_reclaim(db->dq, 1024, NULL, NULL, NULL);
	return removed;
}

void gsad_quiesce(struct gsad *db)
{
	unsigned int pending = 1;

	if (db->dirty)
		gsad_commit(db);
	while (pending != 0) {
		rte_rcu_qsbr_synchronize(db->p.qsv, RTE_QSBR_THRID_INVALID);
		if (rte_rcu_qsbr_dq_reclaim(db->dq, 1024, NULL, &pending, NULL) != 0)
			break;
	}
}

/* ------------------------------------------------------------------ worker lookups */

static inline bool addr_eq(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	if (family == AF_INET)
		return memcmp(a, b, 4) == 0;
	return memcmp(a, b, 16) == 0;
}

static inline const struct in_ent *in_find(const struct gsad_snap *s, uint32_t h,
		uint32_t spi_be)
{
	for (;;) {
		const struct in_ent *e = &s->in[h];

		if (e->spi_be == spi_be)
			return e;
		if (e->spi_be == 0)
			return NULL;
		h = (h + 1) & s->in_mask;
	}
}

static inline struct mesp_sa *in_match(const struct gsad_snap *s, const struct in_ent *e,
		uint8_t family, const uint8_t *dst, const uint8_t *src, uint64_t now,
		uint16_t *out_port, enum mesp_drop *why)
{
	*why = MESP_DROP_NO_SA;
	if (e == NULL)
		return NULL;
	for (uint16_t i = 0; i < e->count; i++) {
		const struct in_cand *c = &s->cand[e->first + i];

		if (c->family != family)
			continue;
		if (c->kind >= GSAD_MATCH_SPI_DST && !addr_eq(family, c->dst, dst))
			continue;
		if (c->kind == GSAD_MATCH_SPI_DST_SRC && !addr_eq(family, c->src, src))
			continue;
		if (unlikely(now >= c->t_end)) {
			*why = MESP_DROP_SA_EXPIRED;
			return NULL;
		}
		*out_port = c->out_port;
		return c->sa;
	}
	return NULL;
}

struct mesp_sa *gsad_inb_lookup(const struct gsad_snap *s, uint8_t family, uint32_t spi_be,
		const uint8_t *dst, const uint8_t *src, uint64_t now, uint16_t *out_port,
		enum mesp_drop *why)
{
	*why = MESP_DROP_NO_SA;
	if (spi_be == 0)
		return NULL;
	return in_match(s, in_find(s, spi_hash(spi_be) & s->in_mask, spi_be), family, dst, src,
			now, out_port, why);
}

/*
 * Bulk lookups walk the burst once per level of the tables (hash slot, candidates or rules,
 * group sender slots, SA record) and prefetch the next level's line for every packet before
 * reading any of them. With a thousand groups each level is a cache miss; done packet by
 * packet they follow one another (slot, then rule, then group, then record), done level by
 * level the misses of a whole burst overlap.
 */
void gsad_inb_lookup_bulk(const struct gsad_snap *s, const struct gsad_inb_key *k, uint16_t n,
		uint64_t now, struct gsad_result *r)
{
	const struct in_ent *e[GSAD_BULK_MAX];
	uint32_t h[GSAD_BULK_MAX];

	RTE_ASSERT(n <= GSAD_BULK_MAX);
	for (uint16_t i = 0; i < n; i++) {
		h[i] = spi_hash(k[i].spi_be) & s->in_mask;
		rte_prefetch0(&s->in[h[i]]);
	}
	for (uint16_t i = 0; i < n; i++) {
		e[i] = k[i].spi_be != 0 ? in_find(s, h[i], k[i].spi_be) : NULL;
		if (e[i] != NULL)
			rte_prefetch0(&s->cand[e[i]->first]);
	}
	for (uint16_t i = 0; i < n; i++) {
		r[i].action = 0;
		r[i].sa = in_match(s, e[i], k[i].family, k[i].dst, k[i].src, now, &r[i].out_port,
				&r[i].why);
		if (r[i].sa != NULL)
			rte_prefetch0(r[i].sa);
	}
}

static inline const struct pol_ent *pol_find_at(const struct gsad_snap *s, uint32_t h,
		uint8_t family, const uint8_t *dst)
{
	for (;;) {
		const struct pol_ent *e = &s->pol[h];

		if (e->count == 0)
			return NULL;
		if (e->family == family && addr_eq(family, e->dst, dst))
			return e;
		h = (h + 1) & s->pol_mask;
	}
}

static const struct pol_ent *pol_find(const struct gsad_snap *s, uint8_t family,
		const uint8_t *dst)
{
	return pol_find_at(s, dst_hash(family, dst) & s->pol_mask, family, dst);
}

static inline int rules_match(const struct gsad_snap *s, const struct pol_ent *e, uint8_t family,
		const uint8_t *src, int dport, const struct gsad_group_rt **grp)
{
	if (e == NULL)
		return 0;
	for (uint16_t i = 0; i < e->count; i++) {
		const struct pol_rule *r = &s->rule[e->first + i];

		if (r->has_src && !addr_eq(family, r->src, src))
			continue;
		if (r->lo != 0 || r->hi != 0) {
			/* RFC 4301 §4.4.1.3: a packet without a known port matches only rules
			 * without ports */
			if (dport < 0 || dport < r->lo || dport > r->hi)
				continue;
		}
		*grp = r->grp;
		return r->action;
	}
	return 0;
}

int gsad_outb_lookup(const struct gsad_snap *s, uint8_t family, const uint8_t *dst,
		const uint8_t *src, int dport, const struct gsad_group_rt **grp)
{
	return rules_match(s, pol_find(s, family, dst), family, src, dport, grp);
}

void gsad_outb_lookup_bulk(const struct gsad_snap *s, const struct gsad_outb_key *k, uint16_t n,
		uint64_t now, struct gsad_result *r)
{
	const struct gsad_group_rt *g[GSAD_BULK_MAX];
	const struct pol_ent *e[GSAD_BULK_MAX];
	uint32_t h[GSAD_BULK_MAX];

	RTE_ASSERT(n <= GSAD_BULK_MAX);
	for (uint16_t i = 0; i < n; i++) {
		h[i] = dst_hash(k[i].family, k[i].dst) & s->pol_mask;
		rte_prefetch0(&s->pol[h[i]]);
	}
	for (uint16_t i = 0; i < n; i++) {
		e[i] = pol_find_at(s, h[i], k[i].family, k[i].dst);
		if (e[i] != NULL)
			rte_prefetch0(&s->rule[e[i]->first]);
	}
	for (uint16_t i = 0; i < n; i++) {
		g[i] = NULL;
		r[i].action = rules_match(s, e[i], k[i].family, k[i].src, k[i].dport, &g[i]);
		if (r[i].action == GSAD_PROTECT && g[i] != NULL) {
			/* a group's sender slots span two lines */
			rte_prefetch0(g[i]);
			rte_prefetch0((const char *)g[i] + RTE_CACHE_LINE_SIZE);
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		r[i].sa = NULL;
		r[i].why = MESP_DROP_NO_SA;
		if (r[i].action != GSAD_PROTECT || g[i] == NULL)
			continue;
		r[i].sa = gsad_group_tx_sa(g[i], now, &r[i].out_port, &r[i].why);
		if (r[i].sa != NULL)
			rte_prefetch0(r[i].sa);
		else if (g[i]->fail_open)
			r[i].action = GSAD_BYPASS;   /* no keys yet: the group fails open */
	}
}

const struct gsad_tesla_sa *gsad_snap_tesla(const struct gsad_snap *s, uint32_t *n)
{
	*n = s->nb_tl;
	return s->tl;
}

int gsad_tesla_tick(struct gsad *db, uint64_t now_ns)
{
	int err = 0;

	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		const struct sa_rec *r = &db->sa[i];

		if (r->state == SLOT_USED && mesp_sa_has_tesla(r->rt)) {
			int rc = mesp_tesla_tick(r->rt, now_ns);

			if (rc != 0 && err == 0)
				err = rc;
		}
	}
	return err;
}

bool gsad_is_protected(const struct gsad_snap *s, uint8_t family, const uint8_t *dst,
		const uint8_t *src)
{
	const struct pol_ent *e = pol_find(s, family, dst);

	if (e == NULL)
		return false;
	for (uint16_t i = 0; i < e->count; i++) {
		const struct pol_rule *r = &s->rule[e->first + i];

		if (r->action == GSAD_PROTECT && (!r->has_src || addr_eq(family, r->src, src)))
			return true;
	}
	return false;
}

struct mesp_sa *gsad_group_tx_sa(const struct gsad_group_rt *g, uint64_t now,
		uint16_t *out_port, enum mesp_drop *why)
{
	for (uint8_t i = 0; i < g->nb; i++) {
		if (g->tx[i].t_start > now)
			continue;         /* leading edge, not active yet */
		if (unlikely(now >= g->tx[i].t_end)) {
			*why = MESP_DROP_SA_EXPIRED;
			return NULL;
		}
		*out_port = g->out_port;
		return g->tx[i].sa;
	}
	*why = MESP_DROP_NO_SA;
	return NULL;
}

/* ------------------------------------------------------------------ views */

uint32_t gsad_sa_count(const struct gsad *db)
{
	return db->nb_sa;
}

static const char *match_state(const struct sa_rec *r, uint64_t now)
{
	if (r->t_drain)
		return "draining";
	if (r->t_retire)
		return "retiring";
	if (now < r->t_start)
		return "pending";
	return "active";
}

int gsad_sa_view(const struct gsad *db, uint32_t idx, struct gsad_sa_view *v)
{
	uint64_t now = rte_get_tsc_cycles();
	uint32_t k = 0;

	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		const struct sa_rec *r = &db->sa[i];

		if (r->state != SLOT_USED)
			continue;
		if (k++ != idx)
			continue;
		memset(v, 0, sizeof(*v));
		snprintf(v->group, sizeof(v->group), "%s", db->grp[r->group].p.name);
		v->group_id = r->group;
		mesp_sa_get_info(r->rt, &v->info);
		mesp_tesla_get_info(r->rt, &v->tesla);
		v->origin = r->origin;
		v->state = match_state(r, now);
		v->match = r->match;
		v->activates_in_ms = (int64_t)(r->t_start - now) / (int64_t)(db->hz / 1000);
		uint64_t end = rec_end(r);
		v->expires_in_ms = end == UINT64_MAX ? -1 :
			(end > now ? (int64_t)((end - now) / (db->hz / 1000)) : 0);
		v->soft_expired = r->soft_expired;
		for (uint16_t l = 0; l < db->p.nb_lcores; l++) {
			const uint64_t *src = (const uint64_t *)&db->p.lcores[l]->sa_ctr[i];
			uint64_t *dst = (uint64_t *)&v->ctr;

			for (size_t f = 0; f < sizeof(v->ctr) / sizeof(uint64_t); f++)
				dst[f] += __atomic_load_n(&src[f], __ATOMIC_RELAXED);
		}
		return 0;
	}
	return -ENOENT;
}

uint64_t gsad_drop_total(const struct gsad *db, enum mesp_drop r)
{
	uint64_t t = 0;

	for (uint16_t l = 0; l < db->p.nb_lcores; l++)
		t += __atomic_load_n(&db->p.lcores[l]->drops[r], __ATOMIC_RELAXED);
	return t;
}

void gsad_memory(const struct gsad *db, struct gsad_mem *m)
{
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < db->p.max_sas; i++) {
		if (db->sa[i].state != SLOT_USED)
			continue;
		m->nb_sas++;
		m->sa_runtime += mesp_sa_mem_size(db->sa[i].rt);
	}
	if (db->snap != NULL)
		m->lookup = db->snap->bytes;
	m->control = sizeof(*db) + (uint64_t)db->p.max_sas * (sizeof(*db->sa) +
			2 * sizeof(*db->dead_rt) + sizeof(*db->dead_id)) +
		(uint64_t)db->cap_grp * sizeof(*db->grp) + (uint64_t)db->cap_pol * sizeof(*db->pol) +
		(uint64_t)db->cap_burnt * sizeof(*db->burnt);
}

uint64_t gsad_generation(const struct gsad *db)
{
	return db->generation;
}
