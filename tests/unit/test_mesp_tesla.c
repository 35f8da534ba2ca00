/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TESLA in group ESP (lib/mesp/tesla_dp.c) on real mbufs, with a simulated clock: the test
 * sets mesp_lcore.now_ns for every call, so interval boundaries, disclosure delays and expiry
 * are exact. One symmetric SA sends and receives; an "insider" SA holds the same group key but
 * another key chain (a member that knows the group key and not the sender's chain).
 *
 * The receiver's chain is bootstrapped from the commitment computed here with lib/tesla's F
 * (doc/tesla.md KATs cover F itself), never from the sender object.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mesp.h"
#include "tesla.h"
#include "test_common.h"

#define T0 UINT64_C(1800000000000000000)  /* ns, any fixed time */
#define TINT UINT64_C(10000000)           /* 10 ms */
#define D 2
#define CHAIN 100                         /* N + 1: short, to cross chain switches */
#define NEWKCC 5
#define LASTKEY 2
#define CAP_PKTS 16
#define CAP_BYTES 8192
#define MAX_OUT 512

static struct rte_mempool *pool;
static struct mesp_lcore lc;
static struct mesp_sa_ctr ctr[4];
static struct rte_mbuf *out[MAX_OUT];   /* delivered by the store, in order */
static unsigned int nb_out;

static const uint8_t G4[16] = { 232, 1, 1, 1 };
static const uint8_t S4[16] = { 192, 0, 2, 10 };
static const uint8_t K128[20] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
	0x83, 0x08, 0xca, 0xfe, 0xba, 0xbe,
};
static uint8_t chain_key[32], other_key[32], commitment[32], other_commitment[32];

static void collect(void *arg, struct rte_mbuf *m)
{
	(void)arg;
	ck_assert_uint_lt(nb_out, MAX_OUT);
	out[nb_out++] = m;
}

/* F^(N+1)(K_N) = F(K_0): what receivers are configured with */
static void commit_of(const uint8_t kn[32], uint8_t c[32])
{
	memcpy(c, kn, 32);
	for (int i = 0; i < CHAIN; i++)
		ck_assert_int_eq(tesla_f(c, c), 0);
}

static void setup(void)
{
	if (pool == NULL)
		pool = test_eal_pool("test_mesp_tesla");
	memset(&lc, 0, sizeof(lc));
	memset(ctr, 0, sizeof(ctr));
	lc.sa_ctr = ctr;
	lc.max_sas = RTE_DIM(ctr);
	lc.pool = pool;
	lc.deliver = collect;
	lc.clock_synced = true;
	nb_out = 0;
	memset(chain_key, 0x11, sizeof(chain_key));
	memset(other_key, 0x22, sizeof(other_key));
	commit_of(chain_key, commitment);
	commit_of(other_key, other_commitment);
}

static void teardown(void)
{
	for (unsigned int i = 0; i < nb_out; i++)
		rte_pktmbuf_free(out[i]);
	nb_out = 0;
}

struct opts {
	enum mcrypto_mac mac;
	uint8_t dir;
	const uint16_t *sids;
	uint16_t nb_sids;
	const uint8_t *kn;
	bool fail_open;
	bool no_bound;
	uint32_t stats_id;
	uint64_t now_ns;                /* creation time (0: before T_0) */
	uint32_t chain;                 /* chain of kn, and of the receiver's commitment */
	const uint8_t *commit;          /* receiver's commitment of sender 0, NULL: commitment */
};

/*
 * Receiver senders: 0 = the genuine sender (SIDs 1 and 2: 2 is what the insider uses), 1 =
 * another sender (SID 7) whose commitment nobody here can match.
 */
static struct mesp_sa *sa_make(const struct opts *o)
{
	static const uint16_t s0[] = { 1, 2 }, s1[] = { 7 };
	struct mesp_tesla_sender_conf snd[2] = {
		{ .nb_sids = 2, .sids = s0, .commitment = o->commit ? o->commit : commitment,
			.chain = o->chain,
			.has_clock_bound = !o->no_bound, .clock_bound_ns = 1000000 },
		{ .nb_sids = 1, .sids = s1, .commitment = other_commitment,
			.has_clock_bound = true, .clock_bound_ns = 1000000 },
	};
	struct mesp_tesla_conf tc = {
		.t0_ns = T0, .interval_ns = TINT, .d = D, .chain_length = CHAIN,
		.max_walk = CHAIN, .newkcc = NEWKCC, .lastkey = LASTKEY, .mac = o->mac,
		.chain_key = o->kn, .chain = o->chain, .now_ns = o->now_ns, .nb_senders = 2,
		.senders = snd,
		.bucket_bytes = CAP_BYTES, .bucket_packets = CAP_PKTS, .copy_max = 512,
		.fail_open = o->fail_open, .nb_workers = 1,
	};
	struct mesp_sa_conf c = {
		.spi = 0x3003, .family = AF_INET, .dir = o->dir, .has_src = true, .esn = true,
		.suite = MCRYPTO_SUITE_AES_GCM_128, .keymat = K128, .keymat_len = sizeof(K128),
		.sid_bits = 8, .nb_sids = o->nb_sids, .sids = o->sids, .replay_window = 64,
		.max_senders = 8, .ttl = MESP_COPY, .dscp = MESP_COPY, .stats_id = o->stats_id,
		.tesla = &tc,
	};
	struct mesp_sa *sa = NULL;

	memcpy(c.dst, G4, 4);
	memcpy(c.src, S4, 4);
	if (o->kn != NULL && o->now_ns >= T0 && (o->now_ns - T0) / TINT / CHAIN > o->chain) {
		/* the configured chain has ended */
		ck_assert_int_eq(mesp_sa_create(&c, NULL, &sa), -ESTALE);
		return NULL;
	}
	ck_assert_int_eq(mesp_sa_create(&c, NULL, &sa), 0);
	ck_assert(mesp_sa_has_tesla(sa));
	return sa;
}

static struct mesp_sa *genuine(enum mcrypto_mac mac)
{
	static const uint16_t sid1[] = { 1 };
	struct opts o = { .mac = mac, .dir = MESP_SA_OUT | MESP_SA_IN, .sids = sid1,
		.nb_sids = 1, .kn = chain_key };

	return sa_make(&o);
}

/* A member with the group key but its own chain, sending with SID 2 (genuine sender's entry). */
static struct mesp_sa *insider(enum mcrypto_mac mac, uint16_t sid)
{
	uint16_t s[1] = { sid };
	struct opts o = { .mac = mac, .dir = MESP_SA_OUT, .sids = s, .nb_sids = 1,
		.kn = other_key, .stats_id = 1 };

	return sa_make(&o);
}

static uint64_t at(uint32_t i, uint64_t into)
{
	return T0 + i * TINT + into;
}

/* An IPv4/UDP packet to the group, payload bytes = its number. */
static struct rte_mbuf *plain(uint32_t tag, uint16_t plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t len = 28u + plen;
	uint8_t *b;

	ck_assert_ptr_nonnull(m);
	b = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	ck_assert_ptr_nonnull(b);
	memset(b, (int)(tag & 0xff), len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)tag);
	ip->time_to_live = 32;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, S4, 4);
	memcpy(&ip->dst_addr, G4, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

/* Seal one packet at sender time t (the control thread's tick first, as msecgw runs it). */
static struct rte_mbuf *send_at(struct mesp_sa *sa, uint64_t t, uint32_t tag, uint16_t plen)
{
	struct rte_mbuf *m = plain(tag, plen);
	struct mesp_sa *v[1] = { sa };

	ck_assert_int_eq(mesp_tesla_tick(sa, t), 0);
	lc.now_ns = t;
	ck_assert_uint_eq(mesp_outb_burst(&lc, v, &m, 1, 9000), 1);
	m->l3_len = 20;
	return m;
}

/* Receive at time t: 1 = delivered at once, 0 = held or dropped (see counters). */
static uint16_t recv_at(struct mesp_sa *sa, struct rte_mbuf *m, uint64_t t)
{
	struct mesp_sa *v[1] = { sa };
	uint16_t k;

	lc.now_ns = t;
	k = mesp_inb_burst(&lc, v, &m, 1);
	if (k == 1 || m != NULL)
		rte_pktmbuf_free(m);
	return k;
}

static uint64_t dropped(enum mesp_drop r)
{
	return lc.drops[r];
}

static uint16_t out_tag(unsigned int k)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(out[k], const struct rte_ipv4_hdr *);

	return rte_be_to_cpu_16(ip->packet_id);
}

/* ------------------------------------------------------------------ tests */

/* Held until K_i is disclosed d intervals later, then delivered intact, in order. */
static void hold_release(enum mcrypto_mac mac)
{
	struct mesp_sa *sa = genuine(mac);
	struct rte_mbuf *m;

	for (uint32_t k = 0; k < 3; k++) {
		m = send_at(sa, at(5, 1000000 + k), 50 + k, 100 + (uint16_t)k * 300);
		ck_assert_uint_eq(recv_at(sa, m, at(5, 2000000 + k)), 0);
	}
	ck_assert_uint_eq(ctr[0].tl_held, 3);
	ck_assert_uint_eq(nb_out, 0);
	/* interval 6 discloses K_4 (nothing held there); interval 7 discloses K_5 */
	m = send_at(sa, at(6, 1000000), 60, 100);
	ck_assert_uint_eq(recv_at(sa, m, at(6, 2000000)), 0);
	ck_assert_uint_eq(nb_out, 0);
	m = send_at(sa, at(7, 1000000), 70, 100);
	ck_assert_uint_eq(recv_at(sa, m, at(7, 2000000)), 0);
	ck_assert_uint_eq(nb_out, 3);
	for (unsigned int k = 0; k < 3; k++) {
		ck_assert_uint_eq(out_tag(k), 50 + k);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(out[k]), 28 + 100 + k * 300);
		/* the payload arrives as it was sent, trailer gone */
		ck_assert_uint_eq(rte_pktmbuf_mtod(out[k], uint8_t *)[40], 50 + k);
	}
	ck_assert_uint_eq(ctr[0].tl_verified, 3);
	ck_assert_uint_eq(ctr[0].in_pkts, 3);
	ck_assert_uint_eq(ctr[0].tl_held, 2);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_BAD_MAC), 0);
	mesp_sa_free(sa);
}

START_TEST(hold_release_hmac)
{
	hold_release(MCRYPTO_MAC_HMAC_SHA256_128);
}
END_TEST

START_TEST(hold_release_gmac)
{
	hold_release(MCRYPTO_MAC_AES_GMAC_128);
}
END_TEST

/* Disclosures of two intervals lost: a later key releases the older buckets, in order. */
START_TEST(lost_disclosures)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);

	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(3, 1000000), 3, 64), at(3, 1500000)), 0);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(4, 1000000), 4, 64), at(4, 1500000)), 0);
	/* intervals 5 and 6 are lost; interval 8's packet discloses K_6 */
	struct rte_mbuf *lost = send_at(sa, at(5, 0), 5, 64);
	rte_pktmbuf_free(lost);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(8, 1000000), 8, 64), at(8, 1500000)), 0);
	ck_assert_uint_eq(nb_out, 2);
	ck_assert_uint_eq(out_tag(0), 3);
	ck_assert_uint_eq(out_tag(1), 4);
	mesp_sa_free(sa);
}
END_TEST

/* Interval boundaries of the time tests, D_t = 1 ms. */
START_TEST(time_tests)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);
	struct rte_mbuf *m;

	/* the receiver 1 ms or more behind the start of interval 5: future */
	m = send_at(sa, at(5, 100), 1, 64);
	ck_assert_uint_eq(recv_at(sa, m, at(5, 0) - 1000000 - 1), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_FUTURE), 1);
	/* just inside: x = 5 */
	m = send_at(sa, at(5, 200), 2, 64);
	ck_assert_uint_eq(recv_at(sa, m, at(5, 0) - 1000000), 0);
	ck_assert_uint_eq(ctr[0].tl_held, 1);
	/* x = i + d - 1: still safe */
	m = send_at(sa, at(5, 300), 3, 64);
	ck_assert_uint_eq(recv_at(sa, m, at(7, 0) - 1000000 - 1), 0);
	ck_assert_uint_eq(ctr[0].tl_held, 2);
	/* x = i + d: unsafe, K_5 may be out */
	m = send_at(sa, at(5, 400), 4, 64);
	ck_assert_uint_eq(recv_at(sa, m, at(7, 0) - 1000000), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_UNSAFE), 1);
	ck_assert_uint_eq(ctr[0].tl_drops[MESP_DROP_TESLA_UNSAFE - MESP_DROP_TESLA_MALFORMED], 1);
	mesp_sa_free(sa);
}
END_TEST

/*
 * A member with the group key but not the chain: its packets pass the ICV; with a wrong
 * disclosed key they are refused at once, without one (intervals < d) they are held and fail
 * their MAC when the genuine key comes; the genuine packets of the same intervals get through.
 */
START_TEST(insider_forgery)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_AES_GMAC_128);
	struct mesp_sa *bad = insider(MCRYPTO_MAC_AES_GMAC_128, 2);

	/* intervals 0 and 1: type 2, no key to check */
	ck_assert_uint_eq(recv_at(sa, send_at(bad, at(0, 100000), 900, 64), at(0, 200000)), 0);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(0, 300000), 1, 64), at(0, 400000)), 0);
	ck_assert_uint_eq(recv_at(sa, send_at(bad, at(1, 100000), 901, 600), at(1, 200000)), 0);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(1, 300000), 2, 600), at(1, 400000)), 0);
	ck_assert_uint_eq(ctr[0].tl_held, 4);
	/* interval 2: the insider's K_0 is not the sender's */
	ck_assert_uint_eq(recv_at(sa, send_at(bad, at(2, 100000), 902, 64), at(2, 200000)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_BAD_KEY), 1);
	ck_assert_uint_eq(nb_out, 0);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(2, 300000), 3, 64), at(2, 400000)), 0);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(3, 300000), 4, 64), at(3, 400000)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_BAD_MAC), 2);
	ck_assert_uint_eq(nb_out, 2);
	ck_assert_uint_eq(out_tag(0), 1);
	ck_assert_uint_eq(out_tag(1), 2);
	mesp_sa_free(bad);
	mesp_sa_free(sa);
}
END_TEST

/* Caps per sender and interval: a flood under another sender's ID fills only its own share;
 * memory never passes the caps; the genuine sender's packets are still held and delivered. */
START_TEST(flood_caps)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);
	struct mesp_sa *bad = insider(MCRYPTO_MAC_HMAC_SHA256_128, 7);

	for (uint32_t k = 0; k < 200; k++) {
		ck_assert_uint_eq(recv_at(sa, send_at(bad, at(0, 1000 + k), 1000 + k, 200),
				at(0, 5000 + k)), 0);
		ck_assert_uint_le(ctr[0].tl_held, CAP_PKTS);
		ck_assert_uint_le(ctr[0].tl_held_bytes, CAP_BYTES);
	}
	ck_assert_uint_gt(dropped(MESP_DROP_TESLA_BUFFER_FULL), 150);
	uint64_t held = ctr[0].tl_held;
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(0, 900000), 1, 200), at(0, 950000)), 0);
	ck_assert_uint_eq(ctr[0].tl_held, held + 1);
	/* unsafe and future packets are never held */
	for (uint32_t k = 0; k < 50; k++)
		ck_assert_uint_eq(recv_at(sa, send_at(bad, at(0, 2000 + k), 2000 + k, 200),
				at(3, 0)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_UNSAFE), 50);
	ck_assert_uint_eq(ctr[0].tl_held, held + 1);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(2, 900000), 2, 200), at(2, 950000)), 0);
	ck_assert_uint_eq(nb_out, 1);
	ck_assert_uint_eq(out_tag(0), 1);
	mesp_sa_free(bad);
	mesp_sa_free(sa);
}
END_TEST

/* No key within d + 2 intervals: the held packets go as tesla_no_key. */
START_TEST(expiry)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);

	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(5, 1000), 5, 64), at(5, 2000)), 0);
	lc.now_ns = at(8, TINT - 1);
	mesp_tesla_poll(&lc, sa);
	ck_assert_uint_eq(ctr[0].tl_held, 1);
	lc.now_ns = at(9, 0);
	mesp_tesla_poll(&lc, sa);
	ck_assert_uint_eq(ctr[0].tl_held, 0);
	ck_assert_uint_eq(ctr[0].tl_held_bytes, 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_NO_KEY), 1);
	mesp_sa_free(sa);
}
END_TEST

/* A key beacon per interval when there is no traffic; received, it releases what waits. */
START_TEST(beacons)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);
	struct rte_mbuf *b[2];

	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(5, 1000), 5, 64), at(5, 2000)), 0);
	/* interval 5 had a key-bearing packet: no beacon */
	lc.now_ns = at(5, TINT / 2);
	ck_assert_uint_eq(mesp_tesla_beacons(&lc, sa, pool, b), 0);
	for (uint32_t i = 6; i <= 7; i++) {
		ck_assert_int_eq(mesp_tesla_tick(sa, at(i, 0)), 0);
		lc.now_ns = at(i, TINT / 8 - 1);
		ck_assert_uint_eq(mesp_tesla_beacons(&lc, sa, pool, b), 0);
		lc.now_ns = at(i, TINT / 8);
		ck_assert_uint_eq(mesp_tesla_beacons(&lc, sa, pool, b), 1);
		ck_assert_uint_eq(mesp_tesla_beacons(&lc, sa, pool, b), 0);
		b[0]->l3_len = 20;
		ck_assert_uint_eq(recv_at(sa, b[0], at(i, TINT / 8 + 1000)), 0);
	}
	ck_assert_uint_eq(ctr[0].tl_beacons_tx, 2);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_BEACON), 2);
	ck_assert_uint_eq(nb_out, 1);
	ck_assert_uint_eq(out_tag(0), 5);
	mesp_sa_free(sa);
}
END_TEST

/*
 * Across two chain switches (chains of 100 intervals), one packet and the due beacons per
 * interval as msecgw sends them: commitments in type-3 trailers, the old chain's K_N again
 * in type 4; every packet verified.
 */
START_TEST(chain_switch)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_AES_GMAC_128);
	struct rte_mbuf *b[2];
	uint32_t sent = 0;

	for (uint32_t i = 90; i < 215; i++) {
		ck_assert_uint_eq(recv_at(sa, send_at(sa, at(i, 1000), (uint16_t)i, 64),
				at(i, 2000)), 0);
		sent++;
		lc.now_ns = at(i, TINT / 4);
		for (uint16_t k = mesp_tesla_beacons(&lc, sa, pool, b), j = 0; j < k; j++) {
			b[j]->l3_len = 20;
			ck_assert_uint_eq(recv_at(sa, b[j], at(i, TINT / 4 + 1000)), 0);
		}
	}
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_NO_KEY), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_BAD_KEY), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_BAD_MAC), 0);
	ck_assert_uint_eq(nb_out, sent - D);
	ck_assert_uint_eq(ctr[0].tl_verified, sent - D);
	for (unsigned int k = 0; k < nb_out; k++)
		ck_assert_uint_eq(out_tag(k), 90 + k);
	mesp_sa_free(sa);
}
END_TEST

/* Unsynced: fail-close drops, fail-open delivers unverified; keys are still taken. */
START_TEST(unsynced)
{
	static const uint16_t sid1[] = { 1 };
	struct opts o = { .mac = MCRYPTO_MAC_HMAC_SHA256_128, .dir = MESP_SA_OUT | MESP_SA_IN,
		.sids = sid1, .nb_sids = 1, .kn = chain_key };
	struct mesp_sa *sa = sa_make(&o);

	lc.clock_synced = false;
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(5, 1000), 5, 64), at(5, 2000)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_UNSYNCED), 1);
	mesp_sa_free(sa);

	o.fail_open = true;
	sa = sa_make(&o);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(5, 1000), 5, 64), at(5, 2000)), 1);
	ck_assert_uint_eq(ctr[0].tl_unverified, 1);
	mesp_sa_free(sa);

	/* synced clock but no bound configured for the sender: unsynced too */
	lc.clock_synced = true;
	o.fail_open = false;
	o.no_bound = true;
	sa = sa_make(&o);
	ck_assert_uint_eq(recv_at(sa, send_at(sa, at(5, 1000), 5, 64), at(5, 2000)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_UNSYNCED), 2);
	mesp_sa_free(sa);
}
END_TEST

/* A packet without trailer on a TESLA SA, and a SID no sender owns. */
START_TEST(malformed_unknown)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);
	static const uint16_t sid9[] = { 9 };
	struct mesp_sa_conf c = {
		.spi = 0x3003, .family = AF_INET, .dir = MESP_SA_OUT, .has_src = true, .esn = true,
		.suite = MCRYPTO_SUITE_AES_GCM_128, .keymat = K128, .keymat_len = sizeof(K128),
		.sid_bits = 8, .nb_sids = 1, .sids = sid9, .ttl = MESP_COPY, .dscp = MESP_COPY,
		.stats_id = 2,
	};
	struct mesp_sa *plain_sa;

	ck_assert_int_eq(mesp_sa_create(&c, NULL, &plain_sa), 0);
	ck_assert_uint_eq(recv_at(sa, send_at(plain_sa, at(5, 1000), 1, 64), at(5, 2000)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_MALFORMED), 1);
	mesp_sa_free(plain_sa);
	plain_sa = insider(MCRYPTO_MAC_HMAC_SHA256_128, 10);  /* 9's window has seen seq 1 */
	ck_assert_uint_eq(recv_at(sa, send_at(plain_sa, at(5, 1000), 1, 64), at(5, 2000)), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_UNKNOWN_SENDER), 1);
	mesp_sa_free(plain_sa);
	mesp_sa_free(sa);
}
END_TEST

/*
 * A sender started long after T_0 starts with the chain of the current interval (a random
 * one, shown by mesp_tesla_get_info), not chain 0, which it could never catch up from; a
 * receiver given that chain's index and commitment verifies it. A configured chain key whose
 * chain has ended is refused.
 */
START_TEST(late_start)
{
	static const uint16_t sid1[] = { 1 };
	struct opts o = { .mac = MCRYPTO_MAC_AES_GMAC_128, .dir = MESP_SA_OUT,
		.sids = sid1, .nb_sids = 1, .now_ns = at(250, 0) };
	struct mesp_tesla_info info;
	struct mesp_sa *tx, *rx;

	tx = sa_make(&o);
	mesp_tesla_get_info(tx, &info);
	ck_assert(info.sends);
	ck_assert_uint_eq(info.tx_chain, 2);
	o.dir = MESP_SA_IN;
	o.nb_sids = 0;
	o.sids = NULL;
	o.chain = 2;
	o.commit = info.tx_commitment;
	rx = sa_make(&o);
	/* chain 2 holds intervals 200..299; the receiver walks 49 keys to the first one */
	for (uint32_t i = 250; i < 256; i++)
		ck_assert_uint_eq(recv_at(rx, send_at(tx, at(i, 1000), (uint16_t)i, 64),
				at(i, 2000)), 0);
	ck_assert_uint_eq(nb_out, 6 - D);
	ck_assert_uint_eq(out_tag(0), 250);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_NO_KEY), 0);
	mesp_sa_free(rx);
	mesp_sa_free(tx);

	/* chain_key of chain 0 configured, the clock already in chain 2 */
	o.dir = MESP_SA_OUT;
	o.sids = sid1;
	o.nb_sids = 1;
	o.kn = chain_key;
	o.chain = 0;
	ck_assert_ptr_null(sa_make(&o));
	o.chain = 2;            /* the key as K_N of chain 2: fine */
	tx = sa_make(&o);
	ck_assert_ptr_nonnull(tx);
	mesp_sa_free(tx);
}
END_TEST

/* The sender before T_0 or without prepared keys drops with tesla_no_key, never unkeyed. */
START_TEST(sender_no_key)
{
	struct mesp_sa *sa = genuine(MCRYPTO_MAC_HMAC_SHA256_128);
	struct mesp_sa *v[1] = { sa };
	struct rte_mbuf *m = plain(1, 64);

	lc.now_ns = at(500, 0);         /* far past what the last tick prepared */
	ck_assert_uint_eq(mesp_outb_burst(&lc, v, &m, 1, 9000), 0);
	ck_assert_uint_eq(dropped(MESP_DROP_TESLA_NO_KEY), 1);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
}
END_TEST

Suite *mesp_tesla_suite(void);

Suite *mesp_tesla_suite(void)
{
	Suite *s = suite_create("mesp_tesla");
	TCase *tc = tcase_create("tesla");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hold_release_hmac);
	tcase_add_test(tc, hold_release_gmac);
	tcase_add_test(tc, lost_disclosures);
	tcase_add_test(tc, time_tests);
	tcase_add_test(tc, insider_forgery);
	tcase_add_test(tc, flood_caps);
	tcase_add_test(tc, expiry);
	tcase_add_test(tc, beacons);
	tcase_add_test(tc, chain_switch);
	tcase_add_test(tc, unsynced);
	tcase_add_test(tc, malformed_unknown);
	tcase_add_test(tc, sender_no_key);
	tcase_add_test(tc, late_start);
	suite_add_tcase(s, tc);
	return s;
}
