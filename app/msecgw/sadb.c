/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From configuration objects to the data plane. Static configuration at start-up and msecctl at
 * run time both end in gw_sa_apply(), which calls gsad; GSAKMP will call the same function.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_cycles.h>

#include "gw.h"

static const char *gsad_err(int rc)
{
	switch (rc) {
	case -EEXIST:
		return "the group already has an SA with this SPI";
	case -ENOENT:
		return "no such SA (or the SA named by \"replaces\" does not exist)";
	case -ENOSPC:
		return "no free SA slot (raise \"max_sas\")";
	case -EINVAL:
		return "invalid SA parameters";
	case -ENOTSUP:
		return "crypto engine does not offer this suite";
	case -EKEYREJECTED:
		return "key refused: another SA this gateway sends on uses it, this gateway has sent "
			"with it before, or a replace kept the key but changed sender IDs, SID "
			"length, ESN or replay window (an IV or replay window would repeat): give "
			"the SA a new key";
	case -ENOMEM:
		return "out of memory";
	case -ESTALE:
		return "TESLA: the chain of \"chain_key\" has ended (all its keys are disclosed): "
			"give the key of a later chain with its index in \"chain\", or no chain_key "
			"for a random chain";
	default:
		return strerror(-rc);
	}
}

int gw_sa_params(const struct gw *gw, const struct gwconf_sa *cs, uint32_t group,
		const char *origin, struct gsad_sa_params *p)
{
	memset(p, 0, sizeof(*p));
	p->group = group;
	p->sa.spi = cs->spi;
	p->sa.dir = (cs->dir & GWCONF_DIR_SENDER ? MESP_SA_OUT : 0) |
		(cs->dir & GWCONF_DIR_RECEIVER ? MESP_SA_IN : 0);
	p->sa.esn = cs->esn;
	p->sa.suite = cs->suite;
	p->sa.keymat = cs->keymat;
	p->sa.keymat_len = cs->keymat_len;
	p->sa.sid_bits = cs->sid_bits;
	p->sa.nb_sids = cs->nb_sids;
	p->sa.sids = cs->sids;
	p->sa.replay_window = cs->replay_window;
	p->sa.ttl = cs->ttl == GWCONF_COPY ? MESP_COPY : cs->ttl;
	p->sa.dscp = cs->dscp == GWCONF_COPY ? MESP_COPY : cs->dscp;
	p->replaces = cs->has_replaces;
	p->replaces_spi = cs->replaces;
	p->activation_delay_ms = cs->activation_delay_ms;
	p->deactivation_delay_ms = cs->deactivation_delay_ms;
	p->life.soft_seconds = cs->life.soft_seconds;
	p->life.hard_seconds = cs->life.hard_seconds;
	p->life.soft_bytes = cs->life.soft_bytes;
	p->life.hard_bytes = cs->life.hard_bytes;
	p->origin = origin;
	/* one sender ID per sending worker, so no two cores share an IV counter (RFC 6054 §4,
	 * RFC 6407 §3.5 "one SID per encryption module") */
	if ((p->sa.dir & MESP_SA_OUT) && cs->nb_sids < gw->nb_workers)
		return -ERANGE;
	return 0;
}

/* The TESLA part of an SA, pointing into the configuration object (used only during the call). */
struct tesla_buf {
	struct mesp_tesla_conf tc;
	struct mesp_tesla_sender_conf snd[GWCONF_TESLA_MAX_SENDERS];
};

static void tesla_conf(const struct gw *gw, const struct gwconf_sa *cs, struct tesla_buf *b)
{
	const struct gwconf_tesla *t = &cs->tl;

	memset(b, 0, sizeof(*b));
	b->tc.t0_ns = t->t0_ns;
	b->tc.interval_ns = t->interval_ns;
	b->tc.d = t->d;
	b->tc.chain_length = t->chain_length;
	b->tc.max_walk = t->max_walk;
	b->tc.newkcc = t->newkcc;
	b->tc.lastkey = t->lastkey;
	b->tc.mac = t->mac;
	b->tc.chain_key = t->has_chain_key ? t->chain_key : NULL;
	b->tc.chain = t->chain;
	b->tc.now_ns = gw_clock_ns(gw);
	b->tc.nb_senders = t->nb_senders;
	b->tc.senders = b->snd;
	b->tc.bucket_bytes = t->bucket_bytes;
	b->tc.bucket_packets = t->bucket_packets;
	b->tc.copy_max = t->copy_max;
	b->tc.fail_open = t->fail_open;
	b->tc.nb_workers = gw->nb_workers;
	for (uint16_t s = 0; s < t->nb_senders; s++) {
		b->snd[s].nb_sids = t->senders[s].nb_sids;
		b->snd[s].sids = t->senders[s].sids;
		b->snd[s].chain = t->senders[s].chain;
		b->snd[s].commitment = t->senders[s].commitment;
		b->snd[s].has_clock_bound = t->senders[s].has_clock_bound;
		b->snd[s].clock_bound_ns = t->senders[s].clock_bound_ns;
	}
}

void gw_tesla_tick(struct gw *gw)
{
	int rc = gsad_tesla_tick(gw->db, gw_clock_ns(gw));

	/* once per failure streak: the workers count every packet it costs (tesla_no_key) */
	if (rc != 0 && !gw->tesla_err)
		GW_LOG(ERR, "TESLA key preparation failed: %s; packets on the SA are dropped "
				"as tesla_no_key\n", strerror(-rc));
	gw->tesla_err = rc != 0;
}

int gw_sa_apply(struct gw *gw, const char *op, const struct gwconf_sa *cs, int group,
		const char *origin, char *err, size_t errlen)
{
	struct gsad_sa_params p;
	struct tesla_buf tb;
	int rc;

	rc = gw_sa_params(gw, cs, (uint32_t)group, origin, &p);
	if (rc == 0 && cs->tesla) {
		tesla_conf(gw, cs, &tb);
		p.sa.tesla = &tb.tc;
	}
	if (rc == -ERANGE) {
		snprintf(err, errlen, "SA 0x%08x sends but has %u sender IDs for %u workers: "
				"give one SID per worker in \"sids\"", cs->spi, cs->nb_sids,
				gw->nb_workers);
		return -EINVAL;
	}
	if (strcmp(op, "add") == 0)
		rc = gsad_sa_add(gw->db, &p);
	else if (strcmp(op, "replace") == 0)
		rc = gsad_sa_replace(gw->db, &p);
	else
		rc = -EINVAL;
	if (cs->tesla)
		OPENSSL_cleanse(&tb, sizeof(tb));
	if (rc != 0) {
		snprintf(err, errlen, "SA 0x%08x: %s", cs->spi, gsad_err(rc));
		return rc;
	}
	/* the new SA's first intervals of TESLA keys before the workers can see it */
	gw_tesla_tick(gw);
	rc = gsad_commit(gw->db);
	if (rc != 0)
		snprintf(err, errlen, "SA 0x%08x: publish failed: %s", cs->spi, gsad_err(rc));
	return rc;
}

static void copy_addr(uint8_t dst[16], const struct gwconf_addr *a)
{
	memset(dst, 0, 16);
	memcpy(dst, a->a, 16);
}

int gw_install_config(struct gw *gw, char *err, size_t errlen)
{
	const struct gwconf *c = gw->conf;
	int rc;

	for (uint16_t i = 0; i < c->nb_groups; i++) {
		const struct gwconf_group *g = &c->groups[i];
		struct gsad_group_params gp;
		uint32_t id;

		memset(&gp, 0, sizeof(gp));
		snprintf(gp.name, sizeof(gp.name), "%s", g->name);
		gp.family = g->group.family;
		copy_addr(gp.dst, &g->group);
		gp.has_src = g->source.family != 0;
		if (gp.has_src)
			copy_addr(gp.src, &g->source);
		gp.prot_port = (uint16_t)g->protected_port;
		gp.unprot_port = (uint16_t)g->unprotected_port;
		gp.fail_open = g->gkm && g->fail_open;
		rc = gsad_group_add(gw->db, &gp, &id);
		if (rc != 0) {
			snprintf(err, errlen, "%s: groups[%u]: cannot add group: %s", c->file, i,
					strerror(-rc));
			return rc;
		}
		for (uint16_t j = 0; j < g->nb_sas; j++) {
			char e[256];

			rc = gw_sa_apply(gw, "add", &g->sas[j], (int)id, "config", e, sizeof(e));
			if (rc != 0) {
				snprintf(err, errlen, "%s: groups[%u].sas[%u]: %s", c->file, i, j, e);
				return rc;
			}
		}
	}
	for (uint16_t i = 0; i < c->nb_policies; i++) {
		const struct gwconf_policy *pc = &c->policies[i];
		uint8_t dst[16], src[16];
		static const enum gsad_action act[] = {
			[GWCONF_ACT_BYPASS] = GSAD_BYPASS,
			[GWCONF_ACT_DISCARD] = GSAD_DISCARD,
			[GWCONF_ACT_PROTECT] = GSAD_PROTECT,
		};

		copy_addr(dst, &pc->dst);
		copy_addr(src, &pc->src);
		rc = gsad_policy_add(gw->db, pc->dst.family, dst,
				pc->src.family != 0 ? src : NULL, pc->dport_lo, pc->dport_hi,
				act[pc->action], pc->action == GWCONF_ACT_PROTECT ?
				(uint32_t)pc->group : 0);
		if (rc != 0) {
			snprintf(err, errlen, "%s: policies[%u]: cannot add policy: %s", c->file,
					i, strerror(-rc));
			return rc;
		}
	}
	return gsad_commit(gw->db);
}
