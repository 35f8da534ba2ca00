/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the inbound group ESP path (lib/mesp esp_inb.c).
 *
 * Input byte 0 picks a mode:
 *   even: the rest is an outer IP packet fed as is (header parsing, lengths, replay, ICV);
 *   odd:  the rest is the plaintext of an ESP payload (inner packet || trailer), sealed with the
 *         SA's key behind a valid outer header, so the fuzzer reaches everything after the ICV
 *         (trailer, inner header, address and ECN checks).
 * Every outcome must be a counted drop or a delivered packet with consistent lengths.
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

static struct rte_mempool *pool;
static struct mesp_sa *sa;
static struct mcrypto_session *cs;
static struct mesp_lcore lc;
static uint64_t seq;

static const uint8_t keymat[20] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a,
	0x8f, 0x94, 0x67, 0x30, 0x83, 0x08, 0xca, 0xfe, 0xba, 0xbe,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

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
	pool = rte_pktmbuf_pool_create("fuzz", 256, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
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
	if (pool == NULL || lc.sa_ctr == NULL || mesp_sa_create(&c, NULL, &sa) != 0 ||
			mcrypto_session_create(NULL, c.suite, keymat, sizeof(keymat), &cs) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rte_mbuf *m;
	struct mesp_sa *sas[1] = { sa };
	uint8_t *p;

	if (len < 1 || len > 1800)
		return 0;
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
		/* a valid outer header, ESP header and IV, then the fuzz bytes sealed with the
		 * SA's key through our own session of the same keys */
		size_t pl = (len - 1 + 3) & ~(size_t)3;
		struct rte_ipv4_hdr *ip;

		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(20 + 16 + pl + 16));
		ip = (struct rte_ipv4_hdr *)p;
		memset(ip, 0, 20);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 16 + pl + 16));
		ip->time_to_live = 8;
		ip->next_proto_id = IPPROTO_ESP;
		memcpy(&ip->src_addr, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
		memcpy(&ip->dst_addr, (const uint8_t[]){ 232, 1, 1, 1 }, 4);
		memset(p + 20 + 16, 0, pl);
		memcpy(p + 20 + 16, data + 1, len - 1);
		seq++;
		uint32_t *esp = (uint32_t *)(p + 20);
		esp[0] = rte_cpu_to_be_32(0x1001);
		esp[1] = rte_cpu_to_be_32((uint32_t)seq);
		uint64_t iv = rte_cpu_to_be_64((UINT64_C(1) << 56) | seq);
		memcpy(p + 28, &iv, 8);
		uint32_t aad[3] = { esp[0], rte_cpu_to_be_32((uint32_t)(seq >> 32)), esp[1] };
		cs->seal(cs, (const uint8_t *)&iv, (const uint8_t *)aad, 12, p + 36,
				(uint32_t)pl, p + 36 + pl);
		m->l3_len = 20;
	}
	uint16_t good = mesp_inb_burst(&lc, sas, &m, 1);
	if (good == 1 && rte_pktmbuf_pkt_len(m) > len + 64)
		abort();
	rte_pktmbuf_free(m);
	return 0;
}
