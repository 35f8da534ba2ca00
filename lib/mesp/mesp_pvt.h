/* SPDX-License-Identifier: BSD-3-Clause */
/* Private layout of MESP runtime records. Workers read these; the control thread builds them. */
#ifndef MESP_PVT_H
#define MESP_PVT_H

#include <assert.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "mesp.h"
#include "mesp_replay.h"

/* ESP header (RFC 4303 §2) followed by the explicit IV of the counter-mode suites. */
struct esp_hdr_iv {
	uint32_t spi;
	uint32_t seq;
	uint64_t iv;
} __rte_packed;

#define ESP_HDR_LEN 8u         /* SPI + sequence number */
#define ESP_HDR_IV_LEN 16u     /* ... + the 8-byte IV of the counter-mode suites */
#define ESP_TRAILER_MIN 2u     /* Pad Length + Next Header */
#define NH_IPV4 4
#define NH_IPV6 41
#define NH_NONE 59

/*
 * One of our sender IDs: its counter lives on its own cache line because each is written by a
 * different worker. `seq` is the last sequence number sent; the next is seq + 1. The explicit IV
 * is sid_hi | seq (RFC 6054 §3: SID in the leftmost bits), which is unique per key as long as
 * seq never exceeds the SA's seq_limit.
 */
struct tx_sender {
	uint64_t seq;
	uint64_t sid_hi;
} __rte_cache_aligned;

/* Sender counters, shared by the records of one key (see mesp_sa_create `share`). */
struct tx_state {
	uint32_t refcnt;            /* control thread only */
	uint16_t nb;
	struct tx_sender s[];
};

/*
 * Inbound per-sender replay windows: an open-addressed table keyed by SID, 2 * max_senders
 * slots, each with its window. A worker claims a slot with a compare-and-swap on `key` only after
 * a packet from that SID passed the ICV, so only holders of the group key can fill the table;
 * `used` caps the claims at max_senders.
 */
struct rx_slot {
	uint32_t key;               /* SID + 1; 0 = free */
	uint32_t pad;
};

struct rx_state {
	uint32_t refcnt;            /* control thread only */
	uint32_t mask;              /* slots - 1 */
	uint32_t used;              /* claimed slots (atomic) */
	uint32_t max_used;
	uint32_t win_size;          /* bytes of one window, multiple of 8 */
	uint32_t pad;
	struct rx_slot *slot;
	uint8_t *win;               /* slots * win_size bytes */
};

/* Flags in mesp_sa.flags */
#define SAF_OUT       0x01
#define SAF_IN        0x02
#define SAF_ESN       0x04
#define SAF_REPLAY    0x08
#define SAF_V6        0x10
#define SAF_ESN_IV    0x20     /* ESN, and the IV carries the 64-bit sequence number */

/*
 * The runtime record. The first cache line holds everything a packet touches apart from the
 * crypto session and the sender state.
 */
struct mesp_sa {
	uint32_t spi_be;            /* SPI in network order, as on the wire */
	uint8_t flags;
	uint8_t sid_bits;
	uint8_t icv_len;
	uint8_t hdr_len;            /* outer IP header: 20 or 40 */
	int16_t ttl;                /* MESP_COPY or value */
	int16_t dscp;               /* MESP_COPY or value */
	uint32_t stats_id;
	uint64_t seq_limit;         /* last usable sequence number */
	const struct mcrypto_session *cs;
	struct tx_state *tx;
	struct rx_state *rx;
	uint32_t spi;               /* host order, for the control plane */
	uint32_t replay_window;
	uint8_t family;
	uint8_t dir;
	uint16_t nb_tx;             /* tx->nb (0 without tx): no load of tx's header per packet */
	/*
	 * The suite's layout, so that one packet path serves every suite without a branch:
	 * esp_len = ESP header + IV (16, or 8 for NULL encryption); iv_off = where the sender
	 * writes the 8-byte IV word (8, or 0 for NULL: the ESP header's own place, which SPI and
	 * sequence number then overwrite); sid_mask = which bits of the IV's top sid_bits are the
	 * sender ID (all, or none for NULL: no IV, one sender, one replay window per SA).
	 */
	uint8_t esp_len;
	uint8_t iv_off;
	uint16_t sid_mask;
	/* second cache line: control-plane facts kept for info and share decisions */
	struct mcrypto_session *cs_own;
	enum mcrypto_suite suite;
	uint8_t keyhash[MESP_KEYID_LEN]; /* key identifier: compare keys without keeping a copy */
	uint16_t nb_sids;
	uint16_t sids[MESP_MAX_TX_SIDS];
} __rte_cache_aligned;

static_assert(offsetof(struct mesp_sa, cs_own) <= RTE_CACHE_LINE_SIZE,
	"the per-packet part of struct mesp_sa must fit one cache line");

static inline struct mesp_replay *rx_window(const struct rx_state *rx, uint32_t idx)
{
	return (struct mesp_replay *)(rx->win + (size_t)idx * rx->win_size);
}

void mesp_count_drop(struct mesp_lcore *lc, struct mesp_sa *sa, enum mesp_drop r);

#endif /* MESP_PVT_H */
