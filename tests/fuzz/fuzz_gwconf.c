/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the JSON configuration parser (lib/gwconf).
 *
 * Each input is parsed twice: as a whole configuration (gwconf_load_buffer) and as an msecctl SA
 * file (gwconf_parse_sa_json) against a fixed configuration. Besides the sanitizers' own checks,
 * every outcome must keep the library's promises: a failure leaves one non-empty line in err and
 * no result; a success holds only what the validator allows (indices in range, key lengths that
 * fit the suite, sender IDs below 2^sid_bits, policies that point at real groups).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gwconf.h"

static struct gwconf *base;

static const char base_json[] =
	"{\"ports\": [{\"name\": \"p\", \"device\": \"d0\", \"role\": \"protected\"},"
	" {\"name\": \"u\", \"device\": \"d1\", \"role\": \"unprotected\"}],"
	" \"groups\": [{\"name\": \"g\", \"address\": \"232.1.1.1\", \"source\": \"192.0.2.1\","
	" \"sas\": [{\"spi\": 4096, \"direction\": \"receiver\", \"suite\": \"aes-gcm-128\","
	" \"key\": \"000102030405060708090a0b0c0d0e0f10111213\"}]},"
	" {\"name\": \"h\", \"address\": \"ff3e::1\","
	" \"sas\": [{\"spi\": 4096, \"direction\": \"receiver\", \"suite\": \"aes-gcm-256\","
	" \"key\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"20212223\"}]}]}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[GWCONF_ERR_MAX];

	(void)argc;
	(void)argv;
	if (gwconf_load_buffer("base", base_json, sizeof(base_json) - 1, &base, err) != 0)
		abort();
	return 0;
}

static void check_err(int rc, const char *err)
{
	if (rc != -EINVAL && rc != -ENOMEM)
		abort();
	if (err[0] == '\0' || strlen(err) >= GWCONF_ERR_MAX || strchr(err, '\n') != NULL)
		abort();
}

static void check_sa(const struct gwconf_sa *sa)
{
	const struct mcrypto_suite_info *si = mcrypto_suite_info(sa->suite);

	if (si == NULL || sa->keymat_len != mcrypto_keymat_len(si) || sa->spi < 256)
		abort();
	if (sa->dir < GWCONF_DIR_SENDER || sa->dir > GWCONF_DIR_SYMMETRIC)
		abort();
	if (sa->sid_bits != 8 && sa->sid_bits != 12 && sa->sid_bits != 16)
		abort();
	if ((sa->dir & GWCONF_DIR_SENDER) ? sa->nb_sids == 0 : sa->nb_sids != 0)
		abort();
	if (sa->nb_sids > GWCONF_MAX_SIDS)
		abort();
	for (uint16_t i = 0; i < sa->nb_sids; i++)
		if (sa->sids[i] >> sa->sid_bits)
			abort();
	if (sa->replay_window > 65536 || (sa->ttl != GWCONF_COPY && (sa->ttl < 1 || sa->ttl > 255)))
		abort();
	if (sa->dscp != GWCONF_COPY && (sa->dscp < 0 || sa->dscp > 63))
		abort();
	/* TESLA: the ranges the data plane relies on (gwconf.h) */
	if (sa->tesla && (sa->tl.d < 2 || sa->tl.d > 255 || sa->tl.interval_ns == 0 ||
			sa->tl.nb_senders > GWCONF_TESLA_MAX_SENDERS ||
			(uint64_t)sa->tl.d + sa->tl.newkcc + sa->tl.lastkey > sa->tl.chain_length ||
			((sa->dir & GWCONF_DIR_RECEIVER) != 0) != (sa->tl.nb_senders != 0)))
		abort();
	if (sa->has_replaces && (sa->replaces == sa->spi ||
			sa->deactivation_delay_ms < sa->activation_delay_ms))
		abort();
}

static void check_conf(const struct gwconf *c)
{
	if (c->nb_ports < 2 || c->nb_ports > GWCONF_MAX_PORTS || c->burst < 1 || c->burst > 256)
		abort();
	for (uint16_t i = 0; i < c->nb_groups; i++) {
		const struct gwconf_group *g = &c->groups[i];

		if (g->protected_port < 0 || g->protected_port >= c->nb_ports ||
				g->unprotected_port < 0 || g->unprotected_port >= c->nb_ports)
			abort();
		if (c->ports[g->protected_port].role != GWCONF_ROLE_PROTECTED ||
				c->ports[g->unprotected_port].role != GWCONF_ROLE_UNPROTECTED)
			abort();
		/* static keys, or keys from a key server (then no static SA, and "gkm" given) */
		if ((g->gkm ? (g->nb_sas != 0 || g->sas != NULL || !c->gkm.enabled) :
				g->nb_sas == 0) || (g->source.family != 0 &&
				g->source.family != g->group.family))
			abort();
		for (uint16_t j = 0; j < g->nb_sas; j++)
			check_sa(&g->sas[j]);
	}
	for (uint16_t i = 0; i < c->nb_policies; i++) {
		const struct gwconf_policy *p = &c->policies[i];

		if (p->dst.family != AF_INET && p->dst.family != AF_INET6)
			abort();
		if (p->dport_lo > p->dport_hi)
			abort();
		if (p->action == GWCONF_ACT_PROTECT &&
				(p->group < 0 || p->group >= c->nb_groups ||
				memcmp(&p->dst, &c->groups[p->group].group, sizeof(p->dst)) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *text = (const char *)data;
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	struct gwconf_sa sa;
	int rc, g;

	rc = gwconf_load_buffer("fuzz.json", text, len, &c, err);
	if (rc == 0) {
		check_conf(c);
		gwconf_free(c);
	} else {
		check_err(rc, err);
		if (c != NULL)
			abort();
	}

	rc = gwconf_parse_sa_json(base, "fuzz-sa.json", text, len, &sa, &g, err);
	if (rc == 0) {
		check_sa(&sa);
		if (g < 0 || g >= base->nb_groups)
			abort();
	} else {
		check_err(rc, err);
		if (g != -1)
			abort();
	}
	return 0;
}
