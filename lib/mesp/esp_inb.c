/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound group ESP: ICV first (RFC 4303 §3.4.4), per-sender anti-replay (RFC 4303 §3.4.3 with
 * one window per RFC 6054 sender ID), trailer checks (§2.4-2.6), address-preservation check
 * (RFC 5374 §5.2 item 6), ECN decapsulation (RFC 6040 §4.2), tunnel decapsulation.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "mesp_pvt.h"


/* Find the replay window of a sender ID; -1 if none was claimed yet. */
static int rx_find(const struct rx_state *rx, uint32_t sid)
{
	uint32_t key = sid + 1;
	uint32_t i = (sid * 0x9E3779B1u) >> 16;

	for (uint32_t n = 0; n <= rx->mask; n++, i++) {
		uint32_t k = __atomic_load_n(&rx->slot[i & rx->mask].key, __ATOMIC_ACQUIRE);

		if (k == key)
			return (int)(i & rx->mask);
		if (k == 0)
			return -1;
	}
	return -1;
}

/*
 * Claim a window for a new sender after its first packet authenticated. Lock-free: the slot key
 * is set with a compare-and-swap, so two workers that see different new senders at once cannot
 * take the same slot; `used` bounds the table at max_senders so it never fills up.
 */
static int rx_claim(struct rx_state *rx, uint32_t sid)
{
	uint32_t key = sid + 1;
	uint32_t i = (sid * 0x9E3779B1u) >> 16;

	if (__atomic_fetch_add(&rx->used, 1, __ATOMIC_RELAXED) >= rx->max_used) {
		__atomic_fetch_sub(&rx->used, 1, __ATOMIC_RELAXED);
		return -1;
	}
	for (uint32_t n = 0; n <= rx->mask; n++, i++) {
		uint32_t *kp = &rx->slot[i & rx->mask].key;
		uint32_t k = __atomic_load_n(kp, __ATOMIC_ACQUIRE);

		if (k == 0) {
			uint32_t expect = 0;

			if (__atomic_compare_exchange_n(kp, &expect, key, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
				return (int)(i & rx->mask);
			k = expect;
		}
		if (k == key) {
			/* claimed concurrently by another worker: give our reservation back */
			__atomic_fetch_sub(&rx->used, 1, __ATOMIC_RELAXED);
			return (int)(i & rx->mask);
		}
	}
	__atomic_fetch_sub(&rx->used, 1, __ATOMIC_RELAXED);
	return -1;
}

/*
 * The 64-bit sequence number as our senders carry it: the SSIV part of the IV is the whole
 * sequence number (doc/wire-format.md §3). When its low half matches the ESP header's, take it:
 * a receiver that joins late learns the high half, and a packet from far behind the window is
 * recognised as a replay before any crypto instead of being read as the next 2^32 block (RFC 4303
 * A2.2). The ICV covers the high half, so a forged IV only fails authentication. Senders that do
 * not follow the convention get RFC 4303 Appendix A reconstruction (from_iv false).
 */
static inline uint64_t seq_from_iv(const struct mesp_sa *sa, uint64_t iv, uint32_t seq_lo,
		bool *from_iv)
{
	uint64_t ssiv = iv & (UINT64_MAX >> sa->sid_bits);

	*from_iv = (sa->flags & SAF_ESN_IV) && (uint32_t)ssiv == seq_lo;
	return *from_iv ? ssiv : seq_lo;
}

static inline bool addr_eq_v4(const struct rte_ipv4_hdr *o, const struct rte_ipv4_hdr *i)
{
	return o->src_addr == i->src_addr && o->dst_addr == i->dst_addr;
}

/*
 * The decrypted inner header (RFC 4303 §2.6 next header, RFC 5374 §5.2 item 6 addresses,
 * RFC 6040 §4.2 ECN): its length, and the ECN codepoint it must leave with (0: as it is).
 */
static inline enum mesp_drop inner_check(const struct mesp_sa *sa, const uint8_t *head,
		const uint8_t *pt, uint8_t nh, uint32_t payload_len, uint32_t *len, uint8_t *ecn)
{
	uint32_t inner_len;
	int e;

	if (unlikely(nh != ((sa->flags & SAF_V6) ? NH_IPV6 : NH_IPV4)))
		return MESP_DROP_BAD_NEXT_HDR;
	if (sa->flags & SAF_V6) {
		const struct rte_ipv6_hdr *in = (const struct rte_ipv6_hdr *)pt;
		const struct rte_ipv6_hdr *out = (const struct rte_ipv6_hdr *)head;

		if (unlikely(payload_len < sizeof(*in) || (pt[0] >> 4) != 6))
			return MESP_DROP_BAD_INNER;
		inner_len = sizeof(*in) + rte_be_to_cpu_16(in->payload_len);
		if (unlikely(inner_len > payload_len || in->payload_len == 0))
			return MESP_DROP_BAD_INNER;
		if (unlikely(memcmp(in->src_addr, out->src_addr, 16) != 0 ||
				memcmp(in->dst_addr, out->dst_addr, 16) != 0))
			return MESP_DROP_ADDR_MISMATCH;
		e = mesp_ecn_decap((rte_be_to_cpu_32(out->vtc_flow) >> 20) & ECN_MASK,
				(rte_be_to_cpu_32(in->vtc_flow) >> 20) & ECN_MASK);
	} else {
		const struct rte_ipv4_hdr *in = (const struct rte_ipv4_hdr *)pt;
		const struct rte_ipv4_hdr *out = (const struct rte_ipv4_hdr *)head;

		if (unlikely(payload_len < sizeof(*in) || (in->version_ihl >> 4) != 4 ||
				(in->version_ihl & 0xf) < 5))
			return MESP_DROP_BAD_INNER;
		inner_len = rte_be_to_cpu_16(in->total_length);
		if (unlikely(inner_len > payload_len || inner_len < (in->version_ihl & 0xfu) * 4))
			return MESP_DROP_BAD_INNER;
		if (unlikely(!addr_eq_v4(out, in)))
			return MESP_DROP_ADDR_MISMATCH;
		e = mesp_ecn_decap(out->type_of_service & ECN_MASK, in->type_of_service & ECN_MASK);
	}
	if (unlikely(e < 0))
		return MESP_DROP_ECN;
	*ecn = (uint8_t)e;
	*len = inner_len;
	return MESP_DROP_MAX;
}

static enum mesp_drop inb_one(struct mesp_lcore *lc, struct mesp_sa *sa, struct rte_mbuf *m)
{
	uint8_t *head = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t hl = m->l3_len;
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	uint32_t ct_len, pad, payload_len, inner_len;
	struct esp_hdr_iv *esp;
	uint64_t seq64, iv;
	uint32_t seq_lo, sid;
	int widx = -1;

	if (unlikely(m->nb_segs != 1))
		return MESP_DROP_NO_ROOM;
	if (unlikely(plen < hl + sa->esp_len + 4u + sa->icv_len))
		return MESP_DROP_MALFORMED;
	ct_len = plen - hl - sa->esp_len - sa->icv_len;
	/* RFC 4303 §2.4: the ciphertext (payload, padding, Pad Length, Next Header) ends on a
	 * 4-byte boundary */
	if (unlikely(ct_len & 3))
		return MESP_DROP_MALFORMED;

	esp = (struct esp_hdr_iv *)(head + hl);
	seq_lo = rte_be_to_cpu_32(esp->seq);
	/* NULL encryption has no IV: these are payload bytes, sid_mask 0 makes every packet
	 * sender 0 (one window per SA) and SAF_ESN_IV is off, so they are not read as a
	 * sequence number. Read at a fixed offset: an offset from the SA would add a dependent
	 * load before the window lookup (measured: about 3 cycles per packet with AES-GCM) */
	iv = rte_be_to_cpu_64(esp->iv);
	sid = (uint32_t)(iv >> (64 - sa->sid_bits)) & sa->sid_mask;

	/* preliminary replay check, before spending the ICV (RFC 4303 §3.4.3) */
	bool from_iv;
	seq64 = seq_from_iv(sa, iv, seq_lo, &from_iv);
	if (sa->flags & SAF_REPLAY) {
		widx = rx_find(sa->rx, sid);
		if (widx >= 0) {
			const struct mesp_replay *rw = rx_window(sa->rx, widx);
			int rc = from_iv ? mesp_replay_check64(rw, seq64) :
				mesp_replay_check(rw, seq_lo, &seq64);

			if (rc != 0)
				return MESP_DROP_REPLAY;
		} else if (seq64 == 0) {
			return MESP_DROP_REPLAY;
		}
	}

	uint32_t aad[3];
	uint32_t aad_len;
	aad[0] = sa->spi_be;
	if (sa->flags & SAF_ESN) {
		aad[1] = rte_cpu_to_be_32((uint32_t)(seq64 >> 32));
		aad[2] = esp->seq;
		aad_len = 12;
	} else {
		aad[1] = esp->seq;
		aad_len = 8;
	}
	uint8_t *pt = head + hl + sa->esp_len;
	if (sa->cs->open(sa->cs, (const uint8_t *)&esp->iv, (const uint8_t *)aad, aad_len, pt,
			ct_len, pt + ct_len) != 0)
		return MESP_DROP_AUTH_FAIL;

	/* authenticated: now the window may move (RFC 4303 §3.4.3) */
	if (sa->flags & SAF_REPLAY) {
		if (widx < 0) {
			widx = rx_claim(sa->rx, sid);
			if (widx < 0)
				return MESP_DROP_SENDERS_FULL;
		}
		if (mesp_replay_update(rx_window(sa->rx, widx), seq64) != 0)
			return MESP_DROP_REPLAY;
	} else {
		lc->sa_ctr[sa->stats_id].replay_disabled++;
	}

	/* trailer (RFC 4303 §2.4-2.6) */
	uint8_t nh = pt[ct_len - 1];
	pad = pt[ct_len - 2];
	if (unlikely(pad + ESP_TRAILER_MIN > ct_len))
		return MESP_DROP_BAD_PAD;
	payload_len = ct_len - ESP_TRAILER_MIN - pad;
	for (uint32_t i = 0; i < pad; i++)
		if (unlikely(pt[payload_len + i] != (uint8_t)(i + 1)))
			return MESP_DROP_BAD_PAD;
	bool tesla = (sa->flags & SAF_TESLA) != 0;
	uint8_t ecn = 0;
	enum mesp_drop r;

	if (likely(nh != NH_NONE)) {
		r = inner_check(sa, head, pt, nh, payload_len, &inner_len, &ecn);
		if (unlikely(r != MESP_DROP_MAX))
			return r;
	} else if (tesla) {
		inner_len = 0;      /* a TESLA key beacon (doc/wire-format.md §7.5) */
	} else {
		return MESP_DROP_DUMMY;
	}
	if (tesla) {
		/* the TESLA MAC covers the inner packet as sent: ECN is rewritten when it leaves */
		r = tl_rx_one(lc, sa, m, hl, sid, payload_len, inner_len, ecn);
		if (r != MESP_DROP_MAX)
			return r;
	}
	if (ecn != 0)
		mesp_set_ecn(pt, (sa->flags & SAF_V6) != 0, ecn);

	/* strip outer header, ESP header and IV in front; trailer, TFC padding and ICV behind */
	rte_pktmbuf_adj(m, (uint16_t)(hl + sa->esp_len));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - inner_len));
	m->l3_len = 0;

	struct mesp_sa_ctr *c = &lc->sa_ctr[sa->stats_id];
	c->in_pkts++;
	c->in_bytes += inner_len;
	return MESP_DROP_MAX;
}

uint16_t mesp_inb_burst(struct mesp_lcore *lc, struct mesp_sa *const sa[],
		struct rte_mbuf *mb[], uint16_t n)
{
	struct rte_mbuf *bad[MESP_MAX_BURST];
	uint16_t k = 0, nb = 0;

	RTE_ASSERT(n <= MESP_MAX_BURST);
	for (uint16_t i = 0; i < n; i++) {
		enum mesp_drop r = inb_one(lc, sa[i], mb[i]);

		if (likely(r == MESP_DROP_MAX)) {
			mb[k++] = mb[i];
		} else if (r == MESP_HELD) {
			continue;       /* the TESLA store has it */
		} else {
			mesp_count_drop(lc, sa[i], r);
			bad[nb++] = mb[i];
		}
	}
	memcpy(&mb[k], bad, nb * sizeof(bad[0]));
	/* what the TESLA store took leaves NULL entries at the end (rte_pktmbuf_free(NULL) is
	 * a no-op) */
	for (uint16_t i = k + nb; i < n; i++)
		mb[i] = NULL;
	return k;
}
