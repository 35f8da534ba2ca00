/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/gsad: inbound longest-match lookup (RFC 4301 §4.1, RFC 5374 §5.2), outbound policy,
 * make-before-break (RFC 5374 §4.2.1), lifetimes, views, and SA changes under traffic with QSBR
 * RCU reclamation.
 *
 * Time: lookups take `now` (TSC) from the caller, so activation and expiry are checked by
 * passing future times; gsad_add/gsad_tick read the TSC themselves, so the tests that need the
 * control thread to act on time (removal after the deactivation delay) sleep for short delays.
 *
 * EAL is initialised once per process from an unchecked fixture (see test_mesp.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <check.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "gsad.h"
#include "test_common.h"

#define MAX_SAS 64
#define NB_LC 2
#define QS_THREADS 4

static struct rte_mempool *pool;
static struct rte_rcu_qsbr *qsv;
static struct mesp_lcore lcs[NB_LC];
static struct mesp_sa_ctr ctrs[NB_LC][MAX_SAS];
static struct mesp_lcore *const lcps[NB_LC] = { &lcs[0], &lcs[1] };

static const uint8_t G4[16] = { 232, 1, 1, 1 };
static const uint8_t G4B[16] = { 232, 1, 1, 2 };
static const uint8_t G4C[16] = { 239, 1, 2, 3 };
static const uint8_t S4[16] = { 192, 0, 2, 10 };
static const uint8_t S4B[16] = { 192, 0, 2, 11 };
static const uint8_t G6[16] = { 0xff, 0x3e, [12] = 0x80, [15] = 0x01 };
static const uint8_t G6B[16] = { 0xff, 0x3e, [12] = 0x80, [15] = 0x02 };
static const uint8_t G6C[16] = { 0xff, 0x3e, [12] = 0x80, [15] = 0x03 };
static const uint8_t S6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t S6B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x11 };
static const uint16_t SIDS[] = { 1, 2 };

/* ------------------------------------------------------------------ fixtures */

static void eal_setup(void)
{
	if (pool == NULL)
		pool = test_eal_pool("test_gsad");
}

static void ctx_setup(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(QS_THREADS);

	qsv = rte_zmalloc("test_gsad_qsv", sz, RTE_CACHE_LINE_SIZE);
	ck_assert_ptr_nonnull(qsv);
	ck_assert_int_eq(rte_rcu_qsbr_init(qsv, QS_THREADS), 0);
	memset(lcs, 0, sizeof(lcs));
	memset(ctrs, 0, sizeof(ctrs));
	for (int i = 0; i < NB_LC; i++) {
		lcs[i].sa_ctr = ctrs[i];
		lcs[i].max_sas = MAX_SAS;
		lcs[i].tx_slot = (uint16_t)i;
	}
}

static void ctx_teardown(void)
{
	rte_free(qsv);
	qsv = NULL;
}

/* ------------------------------------------------------------------ helpers */

static struct gsad *db_new(uint32_t max_sas)
{
	struct gsad_params p = {
		.max_sas = max_sas,
		.max_senders = 4,
		.qsv = qsv,
		.nb_lcores = NB_LC,
		.lcores = lcps,
	};
	struct gsad *db = NULL;

	ck_assert_uint_le(max_sas, MAX_SAS);
	ck_assert_int_eq(gsad_create(&p, &db), 0);
	ck_assert_ptr_nonnull(db);
	return db;
}

static uint32_t grp_add(struct gsad *db, const char *name, uint8_t family, const uint8_t *dst,
		const uint8_t *src, uint16_t prot_port)
{
	struct gsad_group_params g;
	uint32_t id = UINT32_MAX;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.family = family;
	memcpy(g.dst, dst, 16);
	g.has_src = src != NULL;
	if (src != NULL)
		memcpy(g.src, src, 16);
	g.prot_port = prot_port;
	g.unprot_port = (uint16_t)(prot_port + 100);
	ck_assert_int_eq(gsad_group_add(db, &g, &id), 0);
	return id;
}

/* Key material derived from the SPI, so that every SPI has its own key. */
static uint8_t keys[256][20];

/* One key per SPI (gsad refuses a key that two sending SAs share): the SPI is in the key. */
static const uint8_t *key_for(uint32_t spi)
{
	uint8_t *k = keys[spi & 0xff];

	for (int i = 0; i < 20; i++)
		k[i] = (uint8_t)(spi * 31 + (uint32_t)i * 17 + (spi >> 8));
	memcpy(k, &spi, sizeof(spi));
	return k;
}

static void sa_params(struct gsad_sa_params *p, uint32_t group, uint32_t spi, uint8_t dir,
		enum gsad_match match)
{
	memset(p, 0, sizeof(*p));
	p->group = group;
	p->sa.spi = spi;
	p->sa.dir = dir;
	p->sa.esn = true;
	p->sa.suite = MCRYPTO_SUITE_AES_GCM_128;
	p->sa.keymat = key_for(spi);
	p->sa.keymat_len = 20;
	p->sa.sid_bits = 8;
	p->sa.nb_sids = (dir & MESP_SA_OUT) ? 2 : 0;
	p->sa.sids = (dir & MESP_SA_OUT) ? SIDS : NULL;
	p->sa.replay_window = 64;
	p->sa.ttl = MESP_COPY;
	p->sa.dscp = MESP_COPY;
	p->match = match;
	p->origin = "test";
}

static void sa_add(struct gsad *db, uint32_t group, uint32_t spi, uint8_t dir,
		enum gsad_match match)
{
	struct gsad_sa_params p;

	sa_params(&p, group, spi, dir, match);
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
}

static uint64_t ms(uint64_t n)
{
	return n * (rte_get_tsc_hz() / 1000);
}

static uint64_t tsc(void)
{
	return rte_get_tsc_cycles();
}

static void sleep_ms(unsigned int n)
{
	struct timespec ts = { n / 1000, (long)(n % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void sleep_until(uint64_t t)
{
	while (tsc() < t)
		sleep_ms(1);
}

/* Inbound lookup at `now`: the SPI of the SA found and the port, or 0 and *why. */
static uint32_t in_spi(const struct gsad *db, uint8_t family, uint32_t spi, const uint8_t *dst,
		const uint8_t *src, uint64_t now, uint16_t *port, enum mesp_drop *why)
{
	struct mesp_sa_info info;
	struct mesp_sa *sa;
	uint16_t p = UINT16_MAX;
	enum mesp_drop w = MESP_DROP_MAX;

	sa = gsad_inb_lookup(gsad_snap_get(db), family, rte_cpu_to_be_32(spi), dst, src, now, &p,
			&w);
	if (port != NULL)
		*port = p;
	if (why != NULL)
		*why = w;
	if (sa == NULL)
		return 0;
	mesp_sa_get_info(sa, &info);
	return info.spi;
}

/* The SPI the group of (family, dst, src) sends on at `now`, 0 with *why when none. */
static uint32_t tx_spi(const struct gsad *db, uint8_t family, const uint8_t *dst,
		const uint8_t *src, uint64_t now, enum mesp_drop *why)
{
	const struct gsad_group_rt *g = NULL;
	struct mesp_sa_info info;
	struct mesp_sa *sa;
	uint16_t port;
	enum mesp_drop w = MESP_DROP_MAX;

	ck_assert_int_eq(gsad_outb_lookup(gsad_snap_get(db), family, dst, src, -1, &g),
			GSAD_PROTECT);
	ck_assert_ptr_nonnull(g);
	sa = gsad_group_tx_sa(g, now, &port, &w);
	if (why != NULL)
		*why = w;
	if (sa == NULL)
		return 0;
	mesp_sa_get_info(sa, &info);
	return info.spi;
}

static int view_of(const struct gsad *db, uint32_t spi, struct gsad_sa_view *v)
{
	for (uint32_t i = 0; i < gsad_sa_count(db); i++) {
		ck_assert_int_eq(gsad_sa_view(db, i, v), 0);
		if (v->info.spi == spi)
			return 0;
	}
	return -ENOENT;
}

static void heap_stats(size_t *bytes, unsigned int *count)
{
	*bytes = 0;
	*count = 0;
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(s, &st) != 0)
			continue;
		*bytes += st.heap_allocsz_bytes;
		*count += st.alloc_count;
	}
}

/* ------------------------------------------------------------------ inbound lookup */

/*
 * Three SAs share an SPI: SPI only, (SPI, G), (SPI, G, S). The most specific one that matches
 * wins whatever the order they were added in (RFC 4301 §4.1).
 */
START_TEST(lookup_longest_match)
{
	uint8_t f = _i & 1 ? AF_INET6 : AF_INET;
	const uint8_t *g = f == AF_INET ? G4 : G6, *gb = f == AF_INET ? G4B : G6B;
	const uint8_t *gc = f == AF_INET ? G4C : G6C;
	const uint8_t *s = f == AF_INET ? S4 : S6, *sb = f == AF_INET ? S4B : S6B;
	uint8_t other = f == AF_INET ? AF_INET6 : AF_INET;
	struct gsad *db = db_new(8);
	uint32_t ga, gasm, gssm;
	enum mesp_drop why;
	uint16_t port;
	uint64_t now;

	ga = grp_add(db, "spi-only", f, gc, NULL, 1);
	gasm = grp_add(db, "asm", f, g, NULL, 2);
	gssm = grp_add(db, "ssm", f, g, s, 3);
	if (_i & 2) {
		sa_add(db, gssm, 0x5000, MESP_SA_IN, GSAD_MATCH_DEFAULT);
		sa_add(db, ga, 0x5000, MESP_SA_IN, GSAD_MATCH_SPI);
		sa_add(db, gasm, 0x5000, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	} else {
		sa_add(db, ga, 0x5000, MESP_SA_IN, GSAD_MATCH_SPI);
		sa_add(db, gasm, 0x5000, MESP_SA_IN, GSAD_MATCH_DEFAULT);
		sa_add(db, gssm, 0x5000, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	}
	ck_assert_int_eq(gsad_commit(db), 0);
	now = tsc();

	ck_assert_uint_eq(in_spi(db, f, 0x5000, g, s, now, &port, NULL), 0x5000);
	ck_assert_uint_eq(port, 3);
	ck_assert_uint_eq(in_spi(db, f, 0x5000, g, sb, now, &port, NULL), 0x5000);
	ck_assert_uint_eq(port, 2);
	ck_assert_uint_eq(in_spi(db, f, 0x5000, gb, s, now, &port, NULL), 0x5000);
	ck_assert_uint_eq(port, 1);
	ck_assert_uint_eq(in_spi(db, f, 0x5000, gc, sb, now, &port, NULL), 0x5000);
	ck_assert_uint_eq(port, 1);
	/* an SA of one IP version never matches the other */
	ck_assert_uint_eq(in_spi(db, other, 0x5000, g, s, now, &port, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);
	/* other SPIs miss */
	ck_assert_uint_eq(in_spi(db, f, 0x5001, g, s, now, &port, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);
	ck_assert_uint_eq(in_spi(db, f, 0, g, s, now, &port, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);

	/* removing the most specific SA exposes the next one */
	ck_assert_int_eq(gsad_sa_delete(db, gssm, 0x5000), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(in_spi(db, f, 0x5000, g, s, now, &port, NULL), 0x5000);
	ck_assert_uint_eq(port, 2);
	ck_assert_int_eq(gsad_sa_delete(db, gasm, 0x5000), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(in_spi(db, f, 0x5000, g, s, now, &port, NULL), 0x5000);
	ck_assert_uint_eq(port, 1);
	ck_assert_int_eq(gsad_sa_delete(db, ga, 0x5000), 0);
	ck_assert_int_eq(gsad_sa_delete(db, ga, 0x5000), -ENOENT);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(in_spi(db, f, 0x5000, g, s, now, &port, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);
	gsad_free(db);
}
END_TEST

/* Groups with the same SPI are told apart by destination; many SPIs share the hash table. */
START_TEST(lookup_demux_by_group)
{
	struct gsad *db = db_new(MAX_SAS);
	uint32_t ids[40];
	enum mesp_drop why;
	uint16_t port;
	uint64_t now;
	uint8_t dst[16] = { 232, 7, 0, 0 }, dst6[16] = { 0xff, 0x3e, [15] = 0x42 };
	uint32_t v6;

	for (uint32_t i = 0; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof(name), "g%u", i);
		dst[3] = (uint8_t)i;
		ids[i] = grp_add(db, name, AF_INET, dst, NULL, (uint16_t)i);
		/* half share SPI 0x7000, the rest have their own */
		sa_add(db, ids[i], i & 1 ? 0x7000 : 0x8000 + i, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	}
	v6 = grp_add(db, "v6", AF_INET6, dst6, NULL, 77);
	sa_add(db, v6, 0x7000, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_commit(db), 0);
	now = tsc();
	for (uint32_t i = 0; i < 40; i++) {
		uint32_t spi = i & 1 ? 0x7000 : 0x8000 + i;

		dst[3] = (uint8_t)i;
		ck_assert_uint_eq(in_spi(db, AF_INET, spi, dst, S4, now, &port, NULL), spi);
		ck_assert_uint_eq(port, i);
		/* the right SPI to the wrong group misses */
		dst[3] = (uint8_t)(i + 100);
		ck_assert_uint_eq(in_spi(db, AF_INET, spi, dst, S4, now, &port, &why), 0);
		ck_assert_int_eq(why, MESP_DROP_NO_SA);
	}
	ck_assert_uint_eq(in_spi(db, AF_INET6, 0x7000, dst6, S6, now, &port, NULL), 0x7000);
	ck_assert_uint_eq(port, 77);
	ck_assert_uint_eq(in_spi(db, AF_INET6, 0x7000, G6, S6, now, &port, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);
	ck_assert_uint_eq(gsad_sa_count(db), 41);
	ck_assert_uint_eq(gsad_group_count(db), 41);
	gsad_free(db);
}
END_TEST

/* Hard lifetime in seconds: workers compare the TSC, so past it the SA is refused at once. */
START_TEST(lookup_expired)
{
	struct gsad *db = db_new(8);
	struct gsad_sa_params p;
	struct gsad_sa_view v;
	enum mesp_drop why;
	uint32_t g = grp_add(db, "g", AF_INET, G4, S4, 1);
	uint64_t t0 = tsc(), t1;

	sa_params(&p, g, 0x1234, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.life.soft_seconds = 1;
	p.life.hard_seconds = 2;
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	t1 = tsc();
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, g), 0);
	ck_assert_int_eq(gsad_commit(db), 0);

	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1234, G4, S4, t1, NULL, NULL), 0x1234);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t1, NULL), 0x1234);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1234, G4, S4, t0 + 2 * rte_get_tsc_hz() - ms(1),
			NULL, NULL), 0x1234);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1234, G4, S4, t1 + 2 * rte_get_tsc_hz(), NULL,
			&why), 0);
	ck_assert_int_eq(why, MESP_DROP_SA_EXPIRED);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t1 + 2 * rte_get_tsc_hz(), &why), 0);
	ck_assert_int_eq(why, MESP_DROP_SA_EXPIRED);

	ck_assert_int_eq(view_of(db, 0x1234, &v), 0);
	ck_assert_int_le(v.expires_in_ms, 2000);
	ck_assert_int_gt(v.expires_in_ms, 1000);
	ck_assert(!v.soft_expired);
	ck_assert_int_eq(gsad_tick(db), 0);             /* not yet */
	ck_assert_uint_eq(gsad_sa_count(db), 1);
	gsad_free(db);
}
END_TEST

/* Byte lifetimes are enforced by the control thread from the counters summed over workers. */
START_TEST(lifetime_bytes)
{
	struct gsad *db = db_new(8);
	struct gsad_sa_params p;
	struct gsad_sa_view v;
	enum mesp_drop why;
	uint32_t g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	uint32_t id;

	sa_params(&p, g, 0x4321, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.life.soft_bytes = 500;
	p.life.hard_bytes = 1000;
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_int_eq(view_of(db, 0x4321, &v), 0);
	id = v.info.stats_id;

	ctrs[0][id].in_bytes = 300;
	ck_assert_int_eq(gsad_tick(db), 0);
	ck_assert_int_eq(view_of(db, 0x4321, &v), 0);
	ck_assert(!v.soft_expired);
	ctrs[1][id].out_bytes = 200;                    /* 500: soft limit */
	ck_assert_int_eq(gsad_tick(db), 0);
	ck_assert_int_eq(view_of(db, 0x4321, &v), 0);
	ck_assert(v.soft_expired);
	ctrs[1][id].in_bytes = 499;
	ck_assert_int_eq(gsad_tick(db), 0);
	ctrs[1][id].in_bytes = 500;                     /* 1000: hard limit */
	ck_assert_int_eq(gsad_tick(db), 1);
	ck_assert_uint_eq(gsad_sa_count(db), 0);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x4321, G4, S4, tsc(), NULL, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);

	/* after the grace period the slot's counters are cleared for the next SA */
	gsad_quiesce(db);
	ck_assert_uint_eq(ctrs[0][id].in_bytes + ctrs[1][id].in_bytes + ctrs[1][id].out_bytes, 0);
	sa_add(db, g, 0x4322, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(view_of(db, 0x4322, &v), 0);
	ck_assert_uint_eq(v.info.stats_id, id);
	ck_assert_uint_eq(v.ctr.in_bytes + v.ctr.out_bytes, 0);
	gsad_free(db);
}
END_TEST

/* ------------------------------------------------------------------ outbound policy */

START_TEST(policy_lookup)
{
	struct gsad *db = db_new(8);
	const struct gsad_group_rt *g = NULL, *g_any, *g_ssm;
	uint32_t any, ssm, v6;
	const struct gsad_snap *s;

	any = grp_add(db, "any", AF_INET, G4, NULL, 1);
	ssm = grp_add(db, "ssm", AF_INET, G4, S4, 2);
	v6 = grp_add(db, "v6", AF_INET6, G6, NULL, 3);
	sa_add(db, any, 0x1001, MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	sa_add(db, ssm, 0x1002, MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	sa_add(db, v6, 0x1003, MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	/* added least specific first, so the order must come from sorting */
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, any), 0);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 5000, 5001, GSAD_BYPASS, 0), 0);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, S4, 0, 0, GSAD_PROTECT, ssm), 0);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, S4, 6000, 6000, GSAD_DISCARD, 0), 0);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4B, NULL, 0, 0, GSAD_DISCARD, 0), 0);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET6, G6, NULL, 0, 0, GSAD_PROTECT, v6), 0);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET6, G6, S6, 0, 0, GSAD_BYPASS, 0), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	s = gsad_snap_get(db);

	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4B, 7000, &g_any), GSAD_PROTECT);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4, 7000, &g_ssm), GSAD_PROTECT);
	ck_assert_ptr_ne(g_any, g_ssm);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4B, tsc(), NULL), 0x1001);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), NULL), 0x1002);
	/* (S,G,port) before (S,G) before (*,G,port) before (*,G) */
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4, 6000, &g), GSAD_DISCARD);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4, 5000, &g), GSAD_PROTECT);
	ck_assert_ptr_eq(g, g_ssm);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4B, 5000, &g), GSAD_BYPASS);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4B, 5001, &g), GSAD_BYPASS);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4B, 5002, &g), GSAD_PROTECT);
	ck_assert_ptr_eq(g, g_any);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4B, 4999, &g), GSAD_PROTECT);
	/* without a known port only port-less rules match (RFC 4301 §4.4.1.3) */
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4B, -1, &g), GSAD_PROTECT);
	ck_assert_ptr_eq(g, g_any);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4, S4, -1, &g), GSAD_PROTECT);
	ck_assert_ptr_eq(g, g_ssm);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4B, S4, 5000, &g), GSAD_DISCARD);
	/* no rule: 0, the port default applies */
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET, G4C, S4, 5000, &g), 0);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET6, G4, S4, 5000, &g), 0);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET6, G6, S6, 5000, &g), GSAD_BYPASS);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET6, G6, S6B, 5000, &g), GSAD_PROTECT);
	ck_assert_uint_eq(tx_spi(db, AF_INET6, G6, S6B, tsc(), NULL), 0x1003);
	ck_assert_int_eq(gsad_outb_lookup(s, AF_INET6, G6B, S6B, 5000, &g), 0);

	ck_assert(gsad_is_protected(s, AF_INET, G4, S4));
	ck_assert(gsad_is_protected(s, AF_INET, G4, S4B));
	ck_assert(!gsad_is_protected(s, AF_INET, G4B, S4));
	ck_assert(!gsad_is_protected(s, AF_INET, G4C, S4));
	ck_assert(gsad_is_protected(s, AF_INET6, G6, S6));

	/* errors */
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, S4, 0, 0, GSAD_BYPASS, 0), -EEXIST);
	ck_assert_int_eq(gsad_policy_add(db, AF_UNIX, G4, S4, 0, 0, GSAD_BYPASS, 0), -EINVAL);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, S4, 9, 8, GSAD_BYPASS, 0), -EINVAL);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4C, S4, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4C, S4, 0, 0, 4, 0), -EINVAL);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4C, S4, 0, 0, GSAD_PROTECT, 9), -EINVAL);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4C, S4, 0, 0, GSAD_PROTECT, v6), -EINVAL);
	gsad_free(db);
}
END_TEST

/* A protected group without a usable SA: no_sa for the sender. */
START_TEST(policy_no_tx_sa)
{
	struct gsad *db = db_new(8);
	uint32_t g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	enum mesp_drop why;

	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, g), 0);
	sa_add(db, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);     /* receive only */
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);
	gsad_free(db);
}
END_TEST

/* ------------------------------------------------------------------ make-before-break */

START_TEST(make_before_break)
{
	struct gsad *db = db_new(8);
	struct gsad_sa_params p;
	struct gsad_sa_view v;
	enum mesp_drop why;
	uint32_t g = grp_add(db, "g", AF_INET, G4, S4, 1);
	uint64_t t0, t1, gen;

	sa_add(db, g, 0x1001, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, g), 0);
	ck_assert_int_eq(gsad_commit(db), 0);

	sa_params(&p, g, 0x1002, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.replaces = true;
	p.replaces_spi = 0x1001;
	p.activation_delay_ms = 40;
	p.deactivation_delay_ms = 30;
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);   /* would lose packets */
	p.deactivation_delay_ms = 120;
	p.replaces_spi = 0x1003;
	ck_assert_int_eq(gsad_sa_add(db, &p), -ENOENT);
	p.replaces_spi = 0x1001;
	gen = gsad_generation(db);
	t0 = tsc();
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	t1 = tsc();
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(gsad_generation(db), gen + 1);

	/* both accepted inbound at once */
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1001, G4, S4, t1, NULL, NULL), 0x1001);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1002, G4, S4, t1, NULL, NULL), 0x1002);
	/* the sender switches only after the activation delay */
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t1, NULL), 0x1001);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t0 + ms(40) - 1, NULL), 0x1001);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t1 + ms(40), NULL), 0x1002);
	/* the old SA ends deactivation_delay after the add; the new one goes on */
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1001, G4, S4, t0 + ms(120) - 1, NULL, NULL),
			0x1001);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1001, G4, S4, t1 + ms(120), NULL, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_SA_EXPIRED);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t1 + ms(120), NULL), 0x1002);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1002, G4, S4, t1 + ms(120), NULL, NULL), 0x1002);

	ck_assert_int_eq(view_of(db, 0x1001, &v), 0);
	ck_assert_str_eq(v.state, "retiring");
	ck_assert_int_le(v.expires_in_ms, 120);
	ck_assert_int_eq(view_of(db, 0x1002, &v), 0);
	ck_assert_str_eq(v.state, "pending");
	ck_assert_int_gt(v.activates_in_ms, 0);
	ck_assert_int_le(v.activates_in_ms, 40);
	ck_assert_int_eq(v.expires_in_ms, -1);

	/* the control thread acts on the real clock */
	ck_assert_int_eq(gsad_tick(db), 0);
	ck_assert_uint_eq(gsad_sa_count(db), 2);
	sleep_until(t1 + ms(45));
	ck_assert_int_eq(gsad_tick(db), 0);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), NULL), 0x1002);
	ck_assert_int_eq(view_of(db, 0x1002, &v), 0);
	ck_assert_str_eq(v.state, "active");
	ck_assert_int_le(v.activates_in_ms, 0);
	sleep_until(t1 + ms(125));
	ck_assert_int_eq(gsad_tick(db), 1);
	ck_assert_uint_eq(gsad_sa_count(db), 1);
	ck_assert_int_eq(view_of(db, 0x1001, &v), -ENOENT);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1001, G4, S4, tsc(), NULL, &why), 0);
	ck_assert_int_eq(why, MESP_DROP_NO_SA);
	ck_assert_uint_eq(in_spi(db, AF_INET, 0x1002, G4, S4, tsc(), NULL, NULL), 0x1002);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), NULL), 0x1002);
	gsad_free(db);
}
END_TEST

/*
 * A replace (same SPI, new parameters) must not move the SA in the make-before-break order:
 * replacing the retiring SA must not make it the sender again, and replacing a pending SA must
 * not activate it before its time.
 */
START_TEST(replace_keeps_activation)
{
	struct gsad *db = db_new(8);
	struct gsad_sa_params p;
	uint32_t g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	uint64_t t;

	sa_add(db, g, 0x1001, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, g), 0);
	sa_params(&p, g, 0x1002, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.replaces = true;
	p.replaces_spi = 0x1001;
	p.deactivation_delay_ms = 1000;
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	sleep_ms(2);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), NULL), 0x1002);

	/* replace the retiring SA (say a new TTL) */
	sa_params(&p, g, 0x1001, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.sa.ttl = 9;
	ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), NULL), 0x1002);

	/* a pending SA replaced stays pending */
	sa_params(&p, g, 0x1003, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.replaces = true;
	p.replaces_spi = 0x1002;
	p.activation_delay_ms = 500;
	p.deactivation_delay_ms = 1000;
	t = tsc();
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	p.replaces = false;
	p.activation_delay_ms = 0;
	p.sa.ttl = 9;
	ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, tsc(), NULL), 0x1002);
	ck_assert_uint_eq(tx_spi(db, AF_INET, G4, S4, t + ms(501) + ms(20), NULL), 0x1003);
	gsad_free(db);
}
END_TEST

/* Encrypt one packet on the group's current sender SA, from worker slot 0. */
static uint64_t send_seq(struct gsad *db)
{
	const struct gsad_group_rt *g = NULL;
	struct mesp_sa *sa;
	struct rte_mbuf *m;
	enum mesp_drop why;
	uint16_t port;
	uint32_t seq;
	uint8_t *p;

	ck_assert_int_eq(gsad_outb_lookup(gsad_snap_get(db), AF_INET, G4, S4, 5000, &g),
			GSAD_PROTECT);
	sa = gsad_group_tx_sa(g, tsc(), &port, &why);
	ck_assert_ptr_nonnull(sa);
	m = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(m);
	p = (uint8_t *)rte_pktmbuf_append(m, 28);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 9;
	p[9] = IPPROTO_UDP;
	memcpy(p + 12, S4, 4);
	memcpy(p + 16, G4, 4);
	ck_assert_uint_eq(mesp_outb_burst(&lcs[0], &sa, &m, 1, 1500), 1);
	memcpy(&seq, rte_pktmbuf_mtod_offset(m, uint8_t *, 24), 4);
	rte_pktmbuf_free(m);
	return rte_be_to_cpu_32(seq);
}

/* gsad_sa_replace with the same keys continues counters and stats slot; new keys start over. */
START_TEST(replace_counters)
{
	struct gsad *db = db_new(8);
	struct gsad_sa_params p;
	struct gsad_sa_view v;
	uint32_t g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	uint32_t id;
	uint8_t k2[20];

	sa_add(db, g, 0x1001, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_policy_add(db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, g), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	for (uint32_t i = 1; i <= 3; i++)
		ck_assert_uint_eq(send_seq(db), i);
	ck_assert_int_eq(view_of(db, 0x1001, &v), 0);
	id = v.info.stats_id;
	ck_assert_uint_eq(v.ctr.out_pkts, 3);

	sa_params(&p, g, 0x1001, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.sa.ttl = 5;
	p.origin = "msecctl";
	ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(send_seq(db), 4);
	ck_assert_int_eq(view_of(db, 0x1001, &v), 0);
	ck_assert_uint_eq(v.info.stats_id, id);
	ck_assert_uint_eq(v.info.tx_seq_max, 4);
	ck_assert_uint_eq(v.ctr.out_pkts, 4);
	ck_assert_str_eq(v.origin, "msecctl");

	/* new keys: fresh counters are safe (a new key, a new IV space) */
	memcpy(k2, key_for(0x1001), sizeof(k2));
	k2[0] ^= 0xff;
	p.sa.keymat = k2;
	ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(send_seq(db), 1);

	/* errors */
	p.replaces = true;
	p.replaces_spi = 0x1001;
	ck_assert_int_eq(gsad_sa_replace(db, &p), -EINVAL);
	p.replaces = false;
	p.sa.spi = 0x1009;
	ck_assert_int_eq(gsad_sa_replace(db, &p), -ENOENT);
	gsad_quiesce(db);
	gsad_free(db);
}
END_TEST

/*
 * Many replaces between two commits, then a removal: the list of records waiting for the grace
 * period must not overflow (gsad_sa_replace commits early; ASan checks the bounds).
 */
START_TEST(replace_churn)
{
	struct gsad *db = db_new(2);
	struct gsad_sa_params p;
	uint32_t g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	size_t b0, b1;
	unsigned int c0, c1;

	sa_add(db, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_commit(db), 0);
	gsad_quiesce(db);
	heap_stats(&b0, &c0);
	sa_add(db, g, 0x1002, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	/* 8 = 2 * max_sas replaced records waiting, then two removals on top */
	for (int i = 0; i < 8; i++) {
		sa_params(&p, g, i & 1 ? 0x1001 : 0x1002, MESP_SA_IN, GSAD_MATCH_DEFAULT);
		p.sa.ttl = (int16_t)(1 + (i & 1));
		ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	}
	ck_assert_int_eq(gsad_sa_delete(db, g, 0x1001), 0);
	ck_assert_int_eq(gsad_sa_delete(db, g, 0x1002), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(gsad_sa_count(db), 0);
	gsad_quiesce(db);                               /* the slots come back */
	sa_add(db, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_commit(db), 0);
	gsad_quiesce(db);
	heap_stats(&b1, &c1);
	ck_assert_uint_eq(c1, c0);
	gsad_free(db);
}
END_TEST

/* ------------------------------------------------------------------ control errors */

/*
 * One key, one set of sender counters: a key two sending SAs would share, a key this node has
 * sent with before, and a same-key replace that would restart counters or windows are refused.
 */
START_TEST(key_reuse_refused)
{
	struct gsad *db = db_new(8);
	uint32_t g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	uint32_t g2 = grp_add(db, "g2", AF_INET, G4B, NULL, 1);
	static const uint16_t other_sids[] = { 7, 8 };
	struct gsad_sa_params p;

	sa_add(db, g, 0x1001, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	/* another sending SA (here in another group) with the same key */
	sa_params(&p, g2, 0x2001, MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.sa.keymat = key_for(0x1001);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EKEYREJECTED);
	/* make-before-break onto the same key would restart the counters */
	sa_params(&p, g, 0x1002, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.keymat = key_for(0x1001);
	p.replaces = true;
	p.replaces_spi = 0x1001;
	ck_assert_int_eq(gsad_sa_add(db, &p), -EKEYREJECTED);
	/* receive-only SAs may share a key: this node sends nothing with it */
	sa_params(&p, g2, 0x2002, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.keymat = key_for(0x1001);
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	/* same-key replace: other SIDs, SID length, ESN or replay window are refused */
	sa_params(&p, g, 0x1001, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.sids = other_sids;
	ck_assert_int_eq(gsad_sa_replace(db, &p), -EKEYREJECTED);
	sa_params(&p, g, 0x1001, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.sid_bits = 16;
	ck_assert_int_eq(gsad_sa_replace(db, &p), -EKEYREJECTED);
	sa_params(&p, g, 0x1001, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.esn = false;
	ck_assert_int_eq(gsad_sa_replace(db, &p), -EKEYREJECTED);
	sa_params(&p, g, 0x1001, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.replay_window = 128;
	ck_assert_int_eq(gsad_sa_replace(db, &p), -EKEYREJECTED);
	/* ... but direction, TTL and lifetimes may change under the same key */
	sa_params(&p, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.nb_sids = 2;
	p.sa.sids = SIDS;
	p.sa.ttl = 5;
	ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	/* a new key is always fine */
	sa_params(&p, g, 0x1001, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.keymat = key_for(0x1003);
	ck_assert_int_eq(gsad_sa_replace(db, &p), 0);
	/* the key it replaced has been sent with: it cannot come back */
	sa_params(&p, g2, 0x2003, MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.sa.keymat = key_for(0x1001);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EKEYREJECTED);
	/* nor can the key of a deleted sending SA */
	ck_assert_int_eq(gsad_sa_delete(db, g, 0x1001), 0);
	sa_params(&p, g, 0x1004, MESP_SA_OUT | MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.keymat = key_for(0x1003);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EKEYREJECTED);
	ck_assert_int_eq(gsad_commit(db), 0);
	gsad_quiesce(db);
	gsad_free(db);
}
END_TEST

START_TEST(control_errors)
{
	struct gsad_params bad = { .max_sas = 4, .max_senders = 4, .qsv = qsv };
	struct gsad_group_params gp;
	struct gsad_sa_params p;
	struct gsad *db = NULL;
	uint32_t g, id;

	bad.max_sas = 0;
	ck_assert_int_eq(gsad_create(&bad, &db), -EINVAL);
	bad.max_sas = 4;
	bad.max_senders = 0;
	ck_assert_int_eq(gsad_create(&bad, &db), -EINVAL);
	bad.max_senders = 4;
	bad.qsv = NULL;
	ck_assert_int_eq(gsad_create(&bad, &db), -EINVAL);
	bad.qsv = qsv;
	bad.nb_lcores = 2;
	ck_assert_int_eq(gsad_create(&bad, &db), -EINVAL);
	ck_assert_ptr_null(db);

	db = db_new(2);
	g = grp_add(db, "g", AF_INET, G4, NULL, 1);
	memset(&gp, 0, sizeof(gp));
	snprintf(gp.name, sizeof(gp.name), "g");
	gp.family = AF_INET;
	memcpy(gp.dst, G4B, 16);
	ck_assert_int_eq(gsad_group_add(db, &gp, &id), -EEXIST);          /* name */
	snprintf(gp.name, sizeof(gp.name), "h");
	memcpy(gp.dst, G4, 16);
	ck_assert_int_eq(gsad_group_add(db, &gp, &id), -EEXIST);          /* address */
	gp.has_src = true;
	memcpy(gp.src, S4, 16);
	ck_assert_int_eq(gsad_group_add(db, &gp, &id), 0);                /* (S,G) is another */
	gp.name[0] = '\0';
	ck_assert_int_eq(gsad_group_add(db, &gp, &id), -EINVAL);
	snprintf(gp.name, sizeof(gp.name), "i");
	gp.family = AF_UNIX;
	ck_assert_int_eq(gsad_group_add(db, &gp, &id), -EINVAL);
	memset(gp.name, 'x', sizeof(gp.name));                           /* not terminated */
	gp.family = AF_INET;
	ck_assert_int_eq(gsad_group_add(db, &gp, &id), -EINVAL);
	ck_assert_int_eq(gsad_group_find(db, "h", &id), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(gsad_group_find(db, "nope", &id), -ENOENT);
	ck_assert_int_eq(gsad_group_get(db, 1, &gp), 0);
	ck_assert_str_eq(gp.name, "h");
	ck_assert(gp.has_src);
	ck_assert_int_eq(gsad_group_get(db, 2, &gp), -ENOENT);
	ck_assert_uint_eq(gsad_group_count(db), 2);

	sa_params(&p, 7, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_sa_add(db, &p), -ENOENT);
	sa_params(&p, g, 255, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);                   /* reserved SPI */
	sa_params(&p, g, 0x1001, MESP_SA_IN, GSAD_MATCH_SPI_DST_SRC);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);                   /* ASM group */
	sa_params(&p, g, 0x1001, MESP_SA_IN, (enum gsad_match)4);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);
	sa_params(&p, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.life.soft_seconds = 10;
	p.life.hard_seconds = 10;
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);
	sa_params(&p, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.life.soft_bytes = 11;
	p.life.hard_bytes = 10;
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);
	sa_params(&p, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.sid_bits = 5;                                                /* mesp refuses */
	ck_assert_int_eq(gsad_sa_add(db, &p), -EINVAL);
	ck_assert_uint_eq(gsad_sa_count(db), 0);
	sa_add(db, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	sa_params(&p, g, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_sa_add(db, &p), -EEXIST);
	sa_add(db, 1, 0x1001, MESP_SA_IN, GSAD_MATCH_DEFAULT);             /* other group: fine */
	sa_params(&p, g, 0x1002, MESP_SA_IN, GSAD_MATCH_DEFAULT);
	ck_assert_int_eq(gsad_sa_add(db, &p), -ENOSPC);
	ck_assert_int_eq(gsad_sa_delete(db, g, 0x1002), -ENOENT);
	ck_assert_int_eq(gsad_sa_view(db, 2, &(struct gsad_sa_view){ 0 }), -ENOENT);
	/* a deleted SA's slot is reusable only after the grace period */
	ck_assert_int_eq(gsad_sa_delete(db, g, 0x1001), 0);
	ck_assert_int_eq(gsad_sa_add(db, &p), -ENOSPC);
	ck_assert_int_eq(gsad_commit(db), 0);
	gsad_quiesce(db);
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	gsad_free(db);
}
END_TEST

/* ------------------------------------------------------------------ views */

START_TEST(views_and_totals)
{
	struct gsad *db = db_new(8);
	struct gsad_sa_params p;
	struct gsad_sa_view v;
	uint32_t g = grp_add(db, "video", AF_INET, G4, S4, 1);
	uint32_t id;

	sa_params(&p, g, 0xabcd, MESP_SA_IN | MESP_SA_OUT, GSAD_MATCH_DEFAULT);
	p.sa.replay_window = 128;
	p.origin = "config";
	ck_assert_int_eq(gsad_sa_add(db, &p), 0);
	ck_assert_int_eq(gsad_commit(db), 0);
	ck_assert_uint_eq(gsad_sa_count(db), 1);
	ck_assert_int_eq(gsad_sa_view(db, 0, &v), 0);
	ck_assert_str_eq(v.group, "video");
	ck_assert_uint_eq(v.group_id, g);
	ck_assert_str_eq(v.origin, "config");
	ck_assert_str_eq(v.state, "active");
	ck_assert_int_eq(v.match, GSAD_MATCH_SPI_DST_SRC);
	ck_assert_int_le(v.activates_in_ms, 0);
	ck_assert_int_eq(v.expires_in_ms, -1);
	ck_assert(!v.soft_expired);
	ck_assert_uint_eq(v.info.spi, 0xabcd);
	ck_assert_uint_eq(v.info.family, AF_INET);
	ck_assert_uint_eq(v.info.dir, MESP_SA_IN | MESP_SA_OUT);
	ck_assert_int_eq(v.info.suite, MCRYPTO_SUITE_AES_GCM_128);
	ck_assert_uint_eq(v.info.sid_bits, 8);
	ck_assert(v.info.esn);
	ck_assert_uint_eq(v.info.replay_window, 128);
	ck_assert_uint_eq(v.info.nb_sids, 2);
	ck_assert_uint_eq(v.info.seq_limit, (UINT64_C(1) << 56) - 1);
	id = v.info.stats_id;

	/* every counter is the sum over workers */
	uint64_t *a = (uint64_t *)&ctrs[0][id], *b = (uint64_t *)&ctrs[1][id];
	const uint64_t *sum = (const uint64_t *)&v.ctr;
	for (size_t f = 0; f < sizeof(struct mesp_sa_ctr) / sizeof(uint64_t); f++) {
		a[f] = 1000 * (f + 1);
		b[f] = f + 1;
	}
	ck_assert_int_eq(gsad_sa_view(db, 0, &v), 0);
	for (size_t f = 0; f < sizeof(struct mesp_sa_ctr) / sizeof(uint64_t); f++)
		ck_assert_uint_eq(sum[f], 1001 * (f + 1));
	ck_assert_uint_eq(v.ctr.out_pkts, 1001);
	ck_assert_uint_eq(v.ctr.replay_disabled, 8008);
	ck_assert_int_eq(gsad_sa_view(db, 1, &v), -ENOENT);

	for (int r = 0; r < MESP_DROP_MAX; r++) {
		lcs[0].drops[r] = (uint64_t)r;
		lcs[1].drops[r] = 100;
	}
	for (int r = 0; r < MESP_DROP_MAX; r++)
		ck_assert_uint_eq(gsad_drop_total(db, r), 100u + (uint64_t)r);
	gsad_free(db);
}
END_TEST

/* ------------------------------------------------------------------ RCU under traffic */

#define NB_WORKERS 2
#define BURST 8
#define UDP_LEN 24
/*
 * Receivers keep a superseded SA this long after the rekey; senders stop using it 5 ms after.
 * The margin covers a worker descheduled between loading the sender and receiver snapshots.
 */
#define RX_DEACT_MS 100
#define TRY(x) do { int rc_ = (x); if (rc_ != 0 && err == 0) err = rc_; } while (0)

struct worker {
	pthread_t th;
	unsigned int id;                /* QSBR thread id and sender slot */
	struct gsad *tx_db, *rx_db;
	uint64_t sent, received, lost_tx, lost_rx, bad, loops;
	uint32_t next;                  /* tag of the next packet */
};

static struct worker workers[NB_WORKERS];
static struct mesp_lcore wlc_tx[NB_WORKERS], wlc_rx[NB_WORKERS];
static struct mesp_sa_ctr wctr_tx[NB_WORKERS][MAX_SAS], wctr_rx[NB_WORKERS][MAX_SAS];
static struct mesp_lcore *const wlcp_tx[NB_WORKERS] = { &wlc_tx[0], &wlc_tx[1] };
static struct mesp_lcore *const wlcp_rx[NB_WORKERS] = { &wlc_rx[0], &wlc_rx[1] };
static bool stop_workers;

static bool build_inner(struct rte_mbuf *m, uint32_t worker, uint32_t tag)
{
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 20 + 8 + UDP_LEN);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	if (p == NULL)
		return false;
	memset(p, 0, 20 + 8 + UDP_LEN);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + UDP_LEN);
	ip->time_to_live = 8;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, S4, 4);
	memcpy(&ip->dst_addr, G4, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(p + 28, &worker, 4);
	memcpy(p + 32, &tag, 4);
	return true;
}

/*
 * One worker: snapshots loaded once per loop (sender side first: the receiver side is always
 * committed first, so the receiver snapshot is never older), then the clock, then one burst
 * through policy lookup, mesp_outb_burst, SA lookup and mesp_inb_burst; quiescent at the end.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	rte_rcu_qsbr_thread_register(qsv, w->id);
	rte_rcu_qsbr_thread_online(qsv, w->id);
	while (!__atomic_load_n(&stop_workers, __ATOMIC_ACQUIRE)) {
		const struct gsad_snap *st = gsad_snap_get(w->tx_db);
		const struct gsad_snap *sr = gsad_snap_get(w->rx_db);
		uint64_t now = rte_get_tsc_cycles();
		const struct gsad_group_rt *g = NULL;
		struct mesp_sa *sas[BURST], *rsas[BURST];
		struct rte_mbuf *mb[BURST], *rmb[BURST];
		enum mesp_drop why;
		uint16_t port, k, nr = 0, good;
		struct mesp_sa *tx;

		__atomic_fetch_add(&w->loops, 1, __ATOMIC_RELAXED);
		if (gsad_outb_lookup(st, AF_INET, G4, S4, 5000, &g) != GSAD_PROTECT) {
			w->bad++;
			goto next;
		}
		tx = gsad_group_tx_sa(g, now, &port, &why);
		if (tx == NULL) {
			w->lost_tx += BURST;
			goto next;
		}
		if (rte_pktmbuf_alloc_bulk(pool, mb, BURST) != 0) {
			w->bad++;
			goto next;
		}
		for (int i = 0; i < BURST; i++) {
			if (!build_inner(mb[i], w->id, w->next + (uint32_t)i))
				w->bad++;
			sas[i] = tx;
		}
		k = mesp_outb_burst(&wlc_tx[w->id], sas, mb, BURST, 1500);
		w->sent += BURST;
		w->lost_tx += BURST - k;
		for (uint16_t i = 0; i < k; i++) {
			uint32_t spi_be;
			struct mesp_sa *rx;

			memcpy(&spi_be, rte_pktmbuf_mtod_offset(mb[i], uint8_t *, 20), 4);
			rx = gsad_inb_lookup(sr, AF_INET, spi_be, G4, S4, now, &port, &why);
			if (rx == NULL) {
				w->lost_rx++;
				continue;
			}
			mb[i]->l3_len = 20;
			rsas[nr] = rx;
			rmb[nr++] = mb[i];
		}
		good = mesp_inb_burst(&wlc_rx[w->id], rsas, rmb, nr);
		w->lost_rx += nr - good;
		for (uint16_t i = 0; i < good; i++) {
			uint32_t id, tag;

			memcpy(&id, rte_pktmbuf_mtod_offset(rmb[i], uint8_t *, 28), 4);
			memcpy(&tag, rte_pktmbuf_mtod_offset(rmb[i], uint8_t *, 32), 4);
			if (rte_pktmbuf_pkt_len(rmb[i]) != 20 + 8 + UDP_LEN || id != w->id ||
					tag != w->next + i)
				w->bad++;
		}
		w->received += good;
		w->next += BURST;
		rte_pktmbuf_free_bulk(mb, BURST);
next:
		rte_rcu_qsbr_quiescent(qsv, w->id);
	}
	rte_rcu_qsbr_thread_offline(qsv, w->id);
	rte_rcu_qsbr_thread_unregister(qsv, w->id);
	return NULL;
}

static struct gsad *rcu_db(struct mesp_lcore *const *lcp, uint32_t *grp, uint32_t *other)
{
	struct gsad_params p = {
		.max_sas = MAX_SAS,
		.max_senders = 4,
		.qsv = qsv,
		.nb_lcores = NB_WORKERS,
		.lcores = lcp,
	};
	struct gsad *db = NULL;

	ck_assert_int_eq(gsad_create(&p, &db), 0);
	*grp = grp_add(db, "g", AF_INET, G4, S4, 1);
	*other = grp_add(db, "other", AF_INET, G4C, NULL, 2);
	return db;
}

/* The same SA on both sides: sender records OUT with two SIDs, receiver records IN. */
static int rcu_sa(struct gsad *db, bool sender, uint32_t grp, uint32_t spi, bool mbb,
		uint32_t replaces, bool replace, uint8_t ttl)
{
	struct gsad_sa_params p;

	sa_params(&p, grp, spi, sender ? MESP_SA_OUT : MESP_SA_IN, GSAD_MATCH_DEFAULT);
	p.sa.nb_sids = 2;
	p.sa.sids = SIDS;
	p.sa.ttl = ttl;
	if (mbb) {
		p.replaces = true;
		p.replaces_spi = replaces;
		/* the receivers keep the old SA well past the senders' switch */
		p.activation_delay_ms = sender ? 5 : 0;
		p.deactivation_delay_ms = sender ? 10 : RX_DEACT_MS;
	}
	return replace ? gsad_sa_replace(db, &p) : gsad_sa_add(db, &p);
}

START_TEST(rcu_under_traffic)
{
	struct gsad *tx_db, *rx_db;
	uint32_t tg, to, rg, ro, cur = 0x10000, next_spi = 0x10001;
	uint64_t loops0 = 0, loops1 = 0, sent = 0, received = 0;
	unsigned int rekeys = 0, replaces = 0, churns = 0;
	size_t b0, b1;
	unsigned int c0, c1;
	int err = 0;

	memset(workers, 0, sizeof(workers));
	memset(wlc_tx, 0, sizeof(wlc_tx));
	memset(wlc_rx, 0, sizeof(wlc_rx));
	memset(wctr_tx, 0, sizeof(wctr_tx));
	memset(wctr_rx, 0, sizeof(wctr_rx));
	for (int i = 0; i < NB_WORKERS; i++) {
		wlc_tx[i].sa_ctr = wctr_tx[i];
		wlc_tx[i].max_sas = MAX_SAS;
		wlc_tx[i].tx_slot = (uint16_t)i;
		wlc_rx[i].sa_ctr = wctr_rx[i];
		wlc_rx[i].max_sas = MAX_SAS;
	}
	tx_db = rcu_db(wlcp_tx, &tg, &to);
	rx_db = rcu_db(wlcp_rx, &rg, &ro);
	ck_assert_int_eq(gsad_policy_add(tx_db, AF_INET, G4, NULL, 0, 0, GSAD_PROTECT, tg), 0);
	ck_assert_int_eq(rcu_sa(rx_db, false, rg, cur, false, 0, false, 64), 0);
	ck_assert_int_eq(rcu_sa(tx_db, true, tg, cur, false, 0, false, 64), 0);
	ck_assert_int_eq(gsad_commit(rx_db), 0);
	ck_assert_int_eq(gsad_commit(tx_db), 0);
	gsad_quiesce(rx_db);
	gsad_quiesce(tx_db);
	heap_stats(&b0, &c0);

	__atomic_store_n(&stop_workers, false, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < NB_WORKERS; i++) {
		workers[i].id = i;
		workers[i].tx_db = tx_db;
		workers[i].rx_db = rx_db;
		ck_assert_int_eq(pthread_create(&workers[i].th, NULL, worker_main, &workers[i]), 0);
	}
	sleep_ms(5);
	for (int i = 0; i < NB_WORKERS; i++)
		loops0 += __atomic_load_n(&workers[i].loops, __ATOMIC_RELAXED);

	/* no ck_assert while the workers run: a failure must not leave them behind */
	for (unsigned int c = 0; c < 90 && err == 0; c++) {
		switch (c % 3) {
		case 0:
			/* make-before-break rekey: receivers first, then the senders */
			TRY(rcu_sa(rx_db, false, rg, next_spi, true, cur, false, 64));
			TRY(gsad_commit(rx_db));
			TRY(rcu_sa(tx_db, true, tg, next_spi, true, cur, false, 64));
			TRY(gsad_commit(tx_db));
			cur = next_spi++;
			rekeys++;
			break;
		case 1:
			/* same keys, new parameters: counters and windows carry over */
			TRY(rcu_sa(rx_db, false, rg, cur, false, 0, true, 64));
			TRY(gsad_commit(rx_db));
			TRY(rcu_sa(tx_db, true, tg, cur, false, 0, true, (uint8_t)(1 + c)));
			TRY(gsad_commit(tx_db));
			replaces++;
			break;
		default:
			/* an unrelated SA comes and goes */
			TRY(rcu_sa(rx_db, false, ro, 0x900 + c, false, 0, false, 64));
			TRY(rcu_sa(tx_db, true, to, 0x900 + c, false, 0, false, 64));
			TRY(gsad_commit(rx_db));
			TRY(gsad_commit(tx_db));
			TRY(gsad_sa_delete(rx_db, ro, 0x900 + c));
			TRY(gsad_sa_delete(tx_db, to, 0x900 + c));
			TRY(gsad_commit(rx_db));
			TRY(gsad_commit(tx_db));
			churns++;
			break;
		}
		gsad_tick(rx_db);
		gsad_tick(tx_db);
		sleep_ms(2);
		gsad_tick(rx_db);
		gsad_tick(tx_db);
	}
	/* let the last make-before-break run out */
	sleep_until(tsc() + ms(RX_DEACT_MS + 30));
	gsad_tick(rx_db);
	gsad_tick(tx_db);
	for (int i = 0; i < NB_WORKERS; i++)
		loops1 += __atomic_load_n(&workers[i].loops, __ATOMIC_RELAXED);
	__atomic_store_n(&stop_workers, true, __ATOMIC_RELEASE);
	for (int i = 0; i < NB_WORKERS; i++)
		ck_assert_int_eq(pthread_join(workers[i].th, NULL), 0);
	ck_assert_int_eq(err, 0);

	for (int i = 0; i < NB_WORKERS; i++) {
		const struct worker *w = &workers[i];

		ck_assert_msg(w->lost_tx == 0 && w->lost_rx == 0 && w->bad == 0,
				"worker %d: sent %" PRIu64 " received %" PRIu64 " lost tx %"
				PRIu64 " lost rx %" PRIu64 " bad %" PRIu64, i, w->sent,
				w->received, w->lost_tx, w->lost_rx, w->bad);
		ck_assert_uint_eq(w->received, w->sent);
		sent += w->sent;
		received += w->received;
	}
	ck_assert_uint_gt(sent, 0);
	ck_assert_uint_eq(received, sent);
	/* the workers really ran while the tables changed */
	ck_assert_uint_gt(loops1 - loops0, 100);
	ck_assert_uint_eq(rekeys + replaces + churns, 90);
	for (int r = 0; r < MESP_DROP_MAX; r++) {
		ck_assert_msg(gsad_drop_total(tx_db, r) == 0, "tx %s", mesp_drop_name(r));
		ck_assert_msg(gsad_drop_total(rx_db, r) == 0, "rx %s", mesp_drop_name(r));
	}

	/* every superseded SA is gone and every retired object reclaimed */
	ck_assert_uint_eq(gsad_sa_count(tx_db), 1);
	ck_assert_uint_eq(gsad_sa_count(rx_db), 1);
	gsad_quiesce(rx_db);
	gsad_quiesce(tx_db);
	heap_stats(&b1, &c1);
	ck_assert_msg(c1 == c0, "heap: %zu bytes in %u objects, was %zu in %u", b1, c1, b0, c0);
	gsad_free(tx_db);
	gsad_free(rx_db);
}
END_TEST

Suite *gsad_suite(void);

Suite *gsad_suite(void)
{
	Suite *s = suite_create("gsad");
	TCase *tc;

	tc = tcase_create("lookup");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, ctx_teardown);
	tcase_add_loop_test(tc, lookup_longest_match, 0, 4);
	tcase_add_test(tc, lookup_demux_by_group);
	tcase_add_test(tc, lookup_expired);
	tcase_add_test(tc, lifetime_bytes);
	tcase_add_test(tc, policy_lookup);
	tcase_add_test(tc, policy_no_tx_sa);
	suite_add_tcase(s, tc);

	tc = tcase_create("control");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, ctx_teardown);
	tcase_add_test(tc, make_before_break);
	tcase_add_test(tc, replace_keeps_activation);
	tcase_add_test(tc, replace_counters);
	tcase_add_test(tc, replace_churn);
	tcase_add_test(tc, control_errors);
	tcase_add_test(tc, key_reuse_refused);
	tcase_add_test(tc, views_and_totals);
	suite_add_tcase(s, tc);

	tc = tcase_create("rcu");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, ctx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rcu_under_traffic);
	suite_add_tcase(s, tc);
	return s;
}
