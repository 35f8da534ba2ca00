/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound group ESP: tunnel mode with address preservation (RFC 5374 §3.1, §5.1), ESP with
 * ESN (RFC 4303 §2.2.1), IV = SID || SSIV (RFC 6054 §3), AAD as RFC 4106 §5 (the crypto session
 * turns it into what its own RFC authenticates: mcrypto_seal_t).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "mesp_pvt.h"

#define IPV4_DF 0x4000

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

/*
 * The outer IPv4 header is assembled in registers (two 64-bit words and a 32-bit one) and its
 * checksum summed from those registers. Reading the header back after writing it field by field
 * (rte_ipv4_cksum()) waits for the small stores to reach the cache, because a wide load cannot be
 * forwarded from several narrower stores: perf put a quarter of this function's time at 64 bytes
 * on that load. Little-endian layout (x86, little-endian Arm).
 */
static __rte_always_inline void build_outer_v4(const struct mesp_sa *sa, struct rte_ipv4_hdr *o,
		const struct rte_ipv4_hdr *in, uint32_t outer_len)
{
	uint16_t len_be = rte_cpu_to_be_16((uint16_t)outer_len);
	/* RFC 4301 §8.1: copy DF from the inner header; the ID is the inner one (unique per source
	 * because the source is preserved) */
	uint16_t frag = in->fragment_offset & rte_cpu_to_be_16(IPV4_DF);
	uint64_t q0, q1, s;
	uint32_t w4;

	RTE_BUILD_BUG_ON(RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN);
	/* bytes 0-7: version/IHL, TOS, total length, ID, flags/fragment offset */
	q0 = 0x45 | (uint64_t)outer_tc(sa, in->type_of_service) << 8 | (uint64_t)len_be << 16 |
		(uint64_t)in->packet_id << 32 | (uint64_t)frag << 48;
	/* bytes 8-15: TTL, protocol, checksum (0 for now), source; address preservation:
	 * source and destination copied from the inner header (RFC 5374 §3.1) */
	q1 = outer_ttl(sa, in->time_to_live) | (uint64_t)IPPROTO_ESP << 8 |
		(uint64_t)in->src_addr << 32;
	w4 = in->dst_addr;
	/* RFC 1071 sum of the ten 16-bit words, taken as 32-bit halves and folded */
	s = (q0 & 0xffffffff) + (q0 >> 32) + (q1 & 0xffffffff) + (q1 >> 32) + w4;
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	q1 |= (uint64_t)(uint16_t)~s << 16;
	memcpy(o, &q0, 8);
	memcpy((uint8_t *)o + 8, &q1, 8);
	memcpy(&o->dst_addr, &w4, 4);
}

static __rte_always_inline void build_outer_v6(const struct mesp_sa *sa, struct rte_ipv6_hdr *o,
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

/*
 * Trailer bytes for 0..3 bytes of padding, little-endian: the monotonic padding 1, 2, 3
 * (RFC 4303 §2.4) followed by the Pad Length; the Next Header goes in the byte after.
 */
static const uint32_t trailer_pad[4] = { 0x00, 0x0101, 0x020201, 0x03030201 };

/*
 * Protect one packet whose data starts at the inner packet (inner_len bytes, 0 for a beacon).
 * `ref` is the IP header the outer header copies its fields from: the inner one, or for a
 * beacon one made up from the group. `want` is 0 for data, or the trailer type of a beacon.
 * `tesla` is a constant at each call: the path without TESLA is compiled without any of it
 * (measured: a shared path with a run-time test cost about 20 cycles per packet at 64 bytes,
 * mostly because the outer-header builders stopped being inlined).
 */
static __rte_always_inline enum mesp_drop outb_one(struct mesp_lcore *lc, struct mesp_sa *sa,
		struct rte_mbuf *m, uint16_t mtu, const void *ref, uint8_t nh, uint8_t want,
		const bool tesla)
{
	uint32_t inner_len = rte_pktmbuf_pkt_len(m);
	const struct tl_tx_rec *rec = NULL;
	uint8_t ttype = 0;
	uint32_t tl_len = 0;
	struct tx_sender *snd;
	uint8_t *head, *inner, *tail;
	uint64_t seq;

	if (unlikely(lc->tx_slot >= sa->nb_tx))
		return MESP_DROP_NO_SID;
	if (tesla) {
		enum mesp_drop r = tl_tx_pick(lc, sa->tl, &sa->tx->s[lc->tx_slot], want, &rec,
				&ttype);

		if (unlikely(r != MESP_DROP_MAX))
			return r;
		tl_len = tl_len_of(ttype);
	}

	uint32_t ct_len = RTE_ALIGN_CEIL(inner_len + tl_len + ESP_TRAILER_MIN, 4u);
	uint32_t pad = ct_len - inner_len - tl_len - ESP_TRAILER_MIN;
	uint32_t head_len = sa->hdr_len + sa->esp_len;
	uint32_t tail_len = tl_len + pad + ESP_TRAILER_MIN + sa->icv_len;
	uint32_t outer_len = head_len + ct_len + sa->icv_len;

	if (unlikely(outer_len > mtu))
		return MESP_DROP_MTU;
	/* one segment, room in front and behind: then prepend and append are plain arithmetic */
	if (unlikely(m->nb_segs != 1 || rte_pktmbuf_headroom(m) < head_len ||
			rte_pktmbuf_tailroom(m) < tail_len))
		return MESP_DROP_NO_ROOM;
	snd = &sa->tx->s[lc->tx_slot];
	seq = snd->seq + 1;
	/* RFC 6054 §5 / RFC 4303 §3.3.3: stop before the IV or sequence space wraps */
	if (unlikely(seq > sa->seq_limit))
		return MESP_DROP_SEQ_EXHAUSTED;
	snd->seq = seq;

	inner = rte_pktmbuf_mtod(m, uint8_t *);
	head = inner - head_len;
	tail = inner + inner_len + tl_len;
	m->data_off = (uint16_t)(m->data_off - head_len);
	m->data_len = (uint16_t)outer_len;
	m->pkt_len = outer_len;

	/* trailer (RFC 4303 §2.4-2.5): padding, Pad Length, Next Header, in one 8-byte store
	 * into the trailer and ICV room that the seal below overwrites behind them */
	uint64_t t = trailer_pad[pad] | (uint64_t)nh << (8 * (pad + 1));
	t = rte_cpu_to_le_64(t);
	memcpy(tail, &t, sizeof(t));

	if (sa->flags & SAF_V6)
		build_outer_v6(sa, (struct rte_ipv6_hdr *)head, ref, outer_len);
	else
		build_outer_v4(sa, (struct rte_ipv4_hdr *)head, ref, outer_len);

	/* the IV first: without an IV (NULL encryption) iv_off is 0 and SPI and SN overwrite it */
	struct esp_hdr_iv *esp = (struct esp_hdr_iv *)(head + sa->hdr_len);
	uint64_t iv_be = rte_cpu_to_be_64(snd->sid_hi | seq);
	memcpy((uint8_t *)esp + sa->iv_off, &iv_be, sizeof(iv_be));
	esp->spi = sa->spi_be;
	esp->seq = rte_cpu_to_be_32((uint32_t)seq);

	/* TESLA (doc/wire-format.md §7): the MAC over SPI .. trailer, then the suite over all */
	if (tesla)
		tl_tx_write(sa->tl, rec, ttype, snd, (const uint8_t *)esp, inner + inner_len);

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
	if (!tesla || want == 0) {
		c->out_pkts++;
		c->out_bytes += inner_len;
	} else {
		c->tl_beacons_tx++;
	}
	return MESP_DROP_MAX;
}

/* A data packet or a beacon on a TESLA SA: out of line, the common path stays small. */
static __rte_noinline enum mesp_drop outb_tesla(struct mesp_lcore *lc, struct mesp_sa *sa,
		struct rte_mbuf *m, uint16_t mtu, const void *ref, uint8_t nh, uint8_t want)
{
	return outb_one(lc, sa, m, mtu, ref, nh, want, true);
}

/*
 * Key beacons (doc/wire-format.md §7.5): RFC 4303 §2.6 dummy packets, next header 59, whose
 * outer header comes from the group's source and address.
 */
uint16_t mesp_tesla_beacons(struct mesp_lcore *lc, struct mesp_sa *sa, struct rte_mempool *mp,
		struct rte_mbuf *out[2])
{
	const struct tl_sa *tl = sa->tl;
	const struct tx_sender *snd;
	uint8_t want[2];
	uint16_t nw = 0, k = 0;

	if (!(sa->flags & SAF_TESLA) || tl->tx == NULL || lc->tx_slot != 0 || sa->nb_tx == 0)
		return 0;
	snd = &sa->tx->s[0];
	if (lc->now_ns < tl->p.t0)
		return 0;
	uint64_t rel = lc->now_ns - tl->p.t0;
	uint64_t i64 = rel / tl->p.t_int;
	/* T_int / 8 into the interval: time for the interval's own traffic to carry the key */
	if (i64 > UINT32_MAX || rel - i64 * tl->p.t_int < tl->p.t_int / 8)
		return 0;
	uint32_t i = (uint32_t)i64;
	const struct tl_tx_rec *rec = &tl->tx->rec[i % TL_TX_RING];

	if (__atomic_load_n(&rec->i, __ATOMIC_ACQUIRE) != i)
		return 0;
	if (rec->extra_type == TL_T_COMMIT && snd->tl_t3 != i)
		want[nw++] = TL_T_COMMIT;
	if (rec->extra_type == TL_T_LASTKEY && snd->tl_t4 != i)
		want[nw++] = TL_T_LASTKEY;
	else if (snd->tl_kb != i)
		want[nw++] = rec->kb_type;
	for (uint16_t j = 0; j < nw; j++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		enum mesp_drop r;

		if (m == NULL) {
			mesp_count_drop(lc, sa, MESP_DROP_NO_ROOM);
			break;
		}
		/* the header the outer one is built from: the group's source and address */
		union {
			struct rte_ipv4_hdr v4;
			struct rte_ipv6_hdr v6;
		} ref;

		memset(&ref, 0, sizeof(ref));
		if (sa->flags & SAF_V6) {
			ref.v6.vtc_flow = rte_cpu_to_be_32(6u << 28);
			ref.v6.hop_limits = 64;
			memcpy(ref.v6.src_addr, tl->tx->src, 16);
			memcpy(ref.v6.dst_addr, tl->tx->dst, 16);
		} else {
			ref.v4.version_ihl = 0x45;
			ref.v4.time_to_live = 64;
			ref.v4.fragment_offset = rte_cpu_to_be_16(0x4000);
			memcpy(&ref.v4.src_addr, tl->tx->src, 4);
			memcpy(&ref.v4.dst_addr, tl->tx->dst, 4);
		}
		r = outb_tesla(lc, sa, m, UINT16_MAX, &ref, NH_NONE, want[j]);
		if (r != MESP_DROP_MAX) {
			mesp_count_drop(lc, sa, r);
			rte_pktmbuf_free(m);
			continue;
		}
		out[k++] = m;
	}
	return k;
}

uint16_t mesp_outb_burst(struct mesp_lcore *lc, struct mesp_sa *const sa[],
		struct rte_mbuf *mb[], uint16_t n, uint16_t mtu)
{
	struct rte_mbuf *bad[MESP_MAX_BURST];
	uint16_t k = 0, nb = 0;

	RTE_ASSERT(n <= MESP_MAX_BURST);
	for (uint16_t i = 0; i < n; i++) {
		struct mesp_sa *s = sa[i];
		const void *in = rte_pktmbuf_mtod(mb[i], void *);
		uint8_t nh = (s->flags & SAF_V6) ? NH_IPV6 : NH_IPV4;
		enum mesp_drop r = likely(!(s->flags & SAF_TESLA)) ?
			outb_one(lc, s, mb[i], mtu, in, nh, 0, false) :
			outb_tesla(lc, s, mb[i], mtu, in, nh, 0);

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
