/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound group ESP: tunnel mode with address preservation (RFC 5374 §3.1, §5.1), ESP with
 * ESN (RFC 4303 §2.2.1), IV = SID || SSIV (RFC 6054 §3), AES-GCM AAD (RFC 4106 §5).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "mesp_pvt.h"

#define IPV4_DF 0x4000
#define ECN_MASK 0x3

/* Outer traffic class: DSCP copied or set, ECN copied (RFC 6040 §4.1 normal mode). */
static inline uint8_t outer_tc(const struct mesp_sa *sa, uint8_t inner_tc)
{
	uint8_t dscp = sa->dscp == MESP_COPY ? (inner_tc >> 2) : (uint8_t)sa->dscp;

	return (uint8_t)(dscp << 2) | (inner_tc & ECN_MASK);
}

static inline uint8_t outer_ttl(const struct mesp_sa *sa, uint8_t inner_ttl)
{
	return sa->ttl == MESP_COPY ? inner_ttl : (uint8_t)sa->ttl;
}

static void build_outer_v4(const struct mesp_sa *sa, struct rte_ipv4_hdr *o,
		const struct rte_ipv4_hdr *in, uint32_t outer_len)
{
	o->version_ihl = 0x45;
	o->type_of_service = outer_tc(sa, in->type_of_service);
	o->total_length = rte_cpu_to_be_16((uint16_t)outer_len);
	/* RFC 4301 §8.1: copy DF from the inner header; the ID is the inner one (unique per source
	 * because the source is preserved). */
	o->packet_id = in->packet_id;
	o->fragment_offset = in->fragment_offset & rte_cpu_to_be_16(IPV4_DF);
	o->time_to_live = outer_ttl(sa, in->time_to_live);
	o->next_proto_id = IPPROTO_ESP;
	o->hdr_checksum = 0;
	/* address preservation: AP-L and AP-R, both copied from the inner header */
	o->src_addr = in->src_addr;
	o->dst_addr = in->dst_addr;
	o->hdr_checksum = rte_ipv4_cksum(o);
}

static void build_outer_v6(const struct mesp_sa *sa, struct rte_ipv6_hdr *o,
		const struct rte_ipv6_hdr *in, uint32_t outer_len)
{
	uint32_t vtc = rte_be_to_cpu_32(in->vtc_flow);
	uint8_t tc = outer_tc(sa, (uint8_t)(vtc >> 20));

	/* flow label copied so that ECMP keeps a flow together (RFC 6437 §5 permits either) */
	o->vtc_flow = rte_cpu_to_be_32((6u << 28) | ((uint32_t)tc << 20) | (vtc & 0xfffff));
	o->payload_len = rte_cpu_to_be_16((uint16_t)(outer_len - sizeof(*o)));
	o->proto = IPPROTO_ESP;
	o->hop_limits = outer_ttl(sa, in->hop_limits);
	memcpy(o->src_addr, in->src_addr, 16);
	memcpy(o->dst_addr, in->dst_addr, 16);
}

static enum mesp_drop outb_one(struct mesp_lcore *lc, struct mesp_sa *sa, struct rte_mbuf *m,
		uint16_t mtu)
{
	uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	uint32_t ct_len = RTE_ALIGN_CEIL(inner_len + ESP_TRAILER_MIN, 4u);
	uint32_t pad = ct_len - inner_len - ESP_TRAILER_MIN;
	uint32_t outer_len = sa->hdr_len + ESP_HDR_IV_LEN + ct_len + sa->icv_len;
	struct tx_sender *snd;
	uint8_t *tail, *head;
	uint64_t seq;

	if (unlikely(sa->tx == NULL || lc->tx_slot >= sa->tx->nb))
		return MESP_DROP_NO_SID;
	if (unlikely(outer_len > mtu))
		return MESP_DROP_MTU;
	if (unlikely(m->nb_segs != 1))
		return MESP_DROP_NO_ROOM;
	snd = &sa->tx->s[lc->tx_slot];
	seq = snd->seq + 1;
	/* RFC 6054 §5 / RFC 4303 §3.3.3: stop before the IV or sequence space wraps */
	if (unlikely(seq > sa->seq_limit))
		return MESP_DROP_SEQ_EXHAUSTED;

	tail = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(pad + ESP_TRAILER_MIN + sa->icv_len));
	if (unlikely(tail == NULL))
		return MESP_DROP_NO_ROOM;
	head = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(sa->hdr_len + ESP_HDR_IV_LEN));
	if (unlikely(head == NULL)) {
		rte_pktmbuf_trim(m, (uint16_t)(pad + ESP_TRAILER_MIN + sa->icv_len));
		return MESP_DROP_NO_ROOM;
	}
	snd->seq = seq;

	/* trailer: monotonic padding 1, 2, 3 (RFC 4303 §2.4), Pad Length, Next Header */
	for (uint32_t i = 0; i < pad; i++)
		tail[i] = (uint8_t)(i + 1);
	tail[pad] = (uint8_t)pad;
	tail[pad + 1] = (sa->flags & SAF_V6) ? NH_IPV6 : NH_IPV4;

	uint8_t *inner = head + sa->hdr_len + ESP_HDR_IV_LEN;
	if (sa->flags & SAF_V6)
		build_outer_v6(sa, (struct rte_ipv6_hdr *)head,
				(const struct rte_ipv6_hdr *)inner, outer_len);
	else
		build_outer_v4(sa, (struct rte_ipv4_hdr *)head,
				(const struct rte_ipv4_hdr *)inner, outer_len);

	struct esp_hdr_iv *esp = (struct esp_hdr_iv *)(head + sa->hdr_len);
	esp->spi = sa->spi_be;
	esp->seq = rte_cpu_to_be_32((uint32_t)seq);
	esp->iv = rte_cpu_to_be_64(snd->sid_hi | seq);

	/* AAD = SPI || SN (RFC 4106 §5); with ESN the 64-bit number, high half first */
	uint32_t aad[3];
	uint32_t aad_len;
	aad[0] = sa->spi_be;
	if (sa->flags & SAF_ESN) {
		aad[1] = rte_cpu_to_be_32((uint32_t)(seq >> 32));
		aad[2] = esp->seq;
		aad_len = 12;
	} else {
		aad[1] = esp->seq;
		aad_len = 8;
	}
	sa->cs->seal(sa->cs, (const uint8_t *)&esp->iv, (const uint8_t *)aad, aad_len, inner,
			ct_len, inner + ct_len);

	struct mesp_sa_ctr *c = &lc->sa_ctr[sa->stats_id];
	c->out_pkts++;
	c->out_bytes += inner_len;
	return MESP_DROP_MAX;
}

uint16_t mesp_outb_burst(struct mesp_lcore *lc, struct mesp_sa *const sa[],
		struct rte_mbuf *mb[], uint16_t n, uint16_t mtu)
{
	struct rte_mbuf *bad[MESP_MAX_BURST];
	uint16_t k = 0, nb = 0;

	RTE_ASSERT(n <= MESP_MAX_BURST);
	for (uint16_t i = 0; i < n; i++) {
		enum mesp_drop r = outb_one(lc, sa[i], mb[i], mtu);

		if (likely(r == MESP_DROP_MAX)) {
			mb[k++] = mb[i];
		} else {
			mesp_count_drop(lc, sa[i], r);
			bad[nb++] = mb[i];
		}
	}
	memcpy(&mb[k], bad, nb * sizeof(bad[0]));
	return k;
}
