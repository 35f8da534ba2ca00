/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the inbound group ESP path (lib/mesp esp_inb.c).
 *
 * Input byte 0 picks a mode and a suite:
 *   bit 0 even: the rest is an outer IP packet fed as is (header parsing, lengths, replay, ICV);
 *   bit 0 odd:  the rest is the plaintext of an ESP payload (inner packet || trailer), sealed
 *         with the SA's key behind a valid outer header, so the fuzzer reaches everything after
 *         the ICV (trailer, inner header, address and ECN checks);
 *   bits 1-2: the SA's suite, aes-gcm-128, aes-gmac-128, aes-ctr-128-hmac-sha256-128 or
 *         null-hmac-sha256-128 (with and without IV, encrypted or not);
 *   bit 3: the same suite "+tesla" (doc/wire-format.md §7): the plaintext mode then reaches
 *         the TESLA trailer parse, the time tests, key verification against the chain, the
 *         store and its expiry; the clock advances 1 ms per input, byte 0 bit 4 says whether
 *         the receiver is synced, bit 5 picks the fail-open SA.
 * Every outcome must be a counted drop, a packet held within the caps, or a delivered packet
 * with consistent lengths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>

#include "mesp.h"

#define NB_SUITES 4

#define TL_T_INT 10000000ull    /* 10 ms */
#define TL_CAP_PKTS 16

static struct rte_mempool *pool;
static struct mesp_sa *sa[NB_SUITES];
static struct mesp_sa *tl_sa[2][NB_SUITES];     /* [fail-open][suite] */
static struct mcrypto_session *cs[NB_SUITES];
static struct mesp_lcore lc;
static uint64_t seq[NB_SUITES];

static const enum mcrypto_suite suites[NB_SUITES] = {
	MCRYPTO_SUITE_AES_GCM_128, MCRYPTO_SUITE_AES_GMAC_128,
	MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256, MCRYPTO_SUITE_NULL_HMAC_SHA256,
};

/* KEYMAT of every suite is a prefix of this or starts at its front (mcrypto_keymat_len()) */
static const uint8_t keymat[52] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a,
	0x8f, 0x94, 0x67, 0x30, 0x83, 0x08, 0xca, 0xfe, 0xba, 0xbe,
	0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef,
	0xf0, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2,
	0xe1, 0xf0,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* What the TESLA store releases: an inner packet, never longer than any input. */
static void deliver(void *arg, struct rte_mbuf *m)
{
	(void)arg;
	if (rte_pktmbuf_pkt_len(m) > 1800)
		abort();
	rte_pktmbuf_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "--no-shconf", "--no-pci", "-m", "128", "-l", "0",
		"--log-level", "lib.eal:error", "--no-telemetry", NULL };
	static const uint16_t sids[] = { 1 };
	struct mesp_sa_conf c;

	(void)argc;
	(void)argv;
	if (rte_eal_init(11, eal) < 0)
		abort();
	/* room for what the TESLA stores may hold as mbufs besides the packet in flight */
	pool = rte_pktmbuf_pool_create("fuzz", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	lc.sa_ctr = rte_zmalloc(NULL, sizeof(struct mesp_sa_ctr), 0);
	lc.max_sas = 1;
	memset(&c, 0, sizeof(c));
	c.spi = 0x1001;
	c.family = AF_INET;
	c.dir = MESP_SA_IN | MESP_SA_OUT;
	c.esn = true;
	c.dst[0] = 232, c.dst[1] = 1, c.dst[2] = 1, c.dst[3] = 1;
	c.src[0] = 192, c.src[1] = 0, c.src[2] = 2, c.src[3] = 10;
	c.has_src = true;
	c.suite = MCRYPTO_SUITE_AES_GCM_128;
	c.keymat = keymat;
	c.keymat_len = sizeof(keymat);
	c.sid_bits = 8;
	c.nb_sids = 1;
	c.sids = sids;
	c.replay_window = 64;
	c.max_senders = 4;
	c.ttl = MESP_COPY;
	c.dscp = MESP_COPY;
	if (pool == NULL || lc.sa_ctr == NULL)
		abort();
	for (int i = 0; i < NB_SUITES; i++) {
		c.suite = suites[i];
		c.keymat_len = (uint8_t)mcrypto_keymat_len(mcrypto_suite_info(c.suite));
		if (mesp_sa_create(&c, NULL, &sa[i]) != 0 ||
				mcrypto_session_create(NULL, c.suite, keymat, c.keymat_len,
					&cs[i]) != 0)
			abort();
	}
	/* the same SAs with TESLA, receiving only: one sender (SID 1, or 0 without IV) whose
	 * commitment nobody knows, so disclosed keys fail unless they walk to it */
	static const uint16_t sid0[] = { 0 };
	static const uint8_t commit[32] = { 0x5a };
	struct mesp_tesla_sender_conf snd = { .nb_sids = 1, .sids = sids, .commitment = commit,
		.has_clock_bound = true, .clock_bound_ns = 1000000 };
	struct mesp_tesla_conf tc = { .t0_ns = 0, .interval_ns = TL_T_INT, .d = 2,
		.chain_length = 1000, .max_walk = 16, .newkcc = 10, .lastkey = 2,
		.nb_senders = 1, .senders = &snd, .bucket_bytes = 8192,
		.bucket_packets = TL_CAP_PKTS, .copy_max = 512, .nb_workers = 1 };

	c.dir = MESP_SA_IN;
	c.nb_sids = 0;
	c.sids = NULL;
	c.tesla = &tc;
	for (int o = 0; o < 2; o++)
		for (int i = 0; i < NB_SUITES; i++) {
			c.suite = suites[i];
			c.keymat_len = (uint8_t)mcrypto_keymat_len(mcrypto_suite_info(c.suite));
			snd.sids = mcrypto_suite_info(c.suite)->iv_len != 0 ? sids : sid0;
			tc.mac = mcrypto_suite_info(c.suite)->iv_len != 0 ?
				MCRYPTO_MAC_AES_GMAC_128 : MCRYPTO_MAC_HMAC_SHA256_128;
			tc.fail_open = o != 0;
			if (mesp_sa_create(&c, NULL, &tl_sa[o][i]) != 0)
				abort();
		}
	lc.pool = pool;
	lc.deliver = deliver;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rte_mbuf *m;
	struct mesp_sa *sas[1];
	uint8_t *p;
	int k;

	if (len < 1 || len > 1800)
		return 0;
	k = (data[0] >> 1) & (NB_SUITES - 1);
	sas[0] = (data[0] & 8) ? tl_sa[(data[0] >> 5) & 1][k] : sa[k];
	lc.now_ns += 1000000;   /* 1 ms per input: intervals pass, held packets expire */
	lc.clock_synced = (data[0] & 16) == 0;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		abort();
	if ((data[0] & 1) == 0) {
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(len - 1));
		memcpy(p, data + 1, len - 1);
		m->l3_len = len > 1 && (data[1] >> 4) == 6 ? 40 : 20;
		if (len - 1 < m->l3_len) {
			rte_pktmbuf_free(m);
			return 0;
		}
	} else {
		/* a valid outer header, ESP header and IV (none for NULL), then the fuzz bytes
		 * sealed with the SA's key through our own session of the same keys */
		size_t pl = (len - 1 + 3) & ~(size_t)3;
		uint32_t ivl = mcrypto_suite_info(suites[k])->iv_len, hdr = 20 + 8 + ivl;
		struct rte_ipv4_hdr *ip;

		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hdr + pl + 16));
		ip = (struct rte_ipv4_hdr *)p;
		memset(ip, 0, 20);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(hdr + pl + 16));
		ip->time_to_live = 8;
		ip->next_proto_id = IPPROTO_ESP;
		memcpy(&ip->src_addr, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
		memcpy(&ip->dst_addr, (const uint8_t[]){ 232, 1, 1, 1 }, 4);
		memset(p + hdr, 0, pl);
		memcpy(p + hdr, data + 1, len - 1);
		seq[k]++;
		uint32_t spi = rte_cpu_to_be_32(0x1001), sn = rte_cpu_to_be_32((uint32_t)seq[k]);
		memcpy(p + 20, &spi, 4);
		memcpy(p + 24, &sn, 4);
		if (ivl != 0) {
			uint64_t iv = rte_cpu_to_be_64((UINT64_C(1) << 56) | seq[k]);
			memcpy(p + 28, &iv, 8);
		}
		uint32_t aad[3] = { spi, rte_cpu_to_be_32((uint32_t)(seq[k] >> 32)), sn };
		/* the session reads IV and ESP header in the packet (mcrypto_seal_t) */
		cs[k]->seal(cs[k], p + 28, (const uint8_t *)aad, 12, p + hdr, (uint32_t)pl,
				p + hdr + pl);
		m->l3_len = 20;
	}
	uint16_t good = mesp_inb_burst(&lc, sas, &m, 1);
	if (good == 1 && rte_pktmbuf_pkt_len(m) > len + 64)
		abort();
	rte_pktmbuf_free(m);    /* NULL when the TESLA store took it */
	if (data[0] & 8) {
		mesp_tesla_poll(&lc, sas[0]);
		/* no store holds more than its caps, d + 2 buckets of TL_CAP_PKTS (the 8 TESLA
		 * SAs share counter set 0) */
		if (lc.sa_ctr[0].tl_held > 2 * NB_SUITES * 4 * TL_CAP_PKTS)
			abort();
	}
	return 0;
}
