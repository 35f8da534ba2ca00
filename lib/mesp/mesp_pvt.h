/* SPDX-License-Identifier: BSD-3-Clause */
/* Private layout of MESP runtime records. Workers read these; the control thread builds them. */
#ifndef MESP_PVT_H
#define MESP_PVT_H

#include <assert.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "mesp.h"
#include "mesp_replay.h"
#include "tesla.h"

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
	/* TESLA: the last interval in which this SID sent a key-bearing packet, a type-3 and a
	 * type-4 trailer (TL_NEVER: none yet) */
	uint32_t tl_kb, tl_t3, tl_t4;
	uint32_t tl_i;              /* interval of tl_now: one division per burst, not per packet */
	uint64_t tl_now;
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
#define SAF_TESLA     0x40     /* TESLA trailer on every packet (sa->tl) */

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
	struct tl_sa *tl;           /* TESLA state (SAF_TESLA), else NULL */
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
	uint32_t spi;               /* host order, for the control plane */
	uint32_t replay_window;
	enum mcrypto_suite suite;
	uint8_t keyhash[MESP_KEYID_LEN]; /* key identifier: compare keys without keeping a copy */
	uint16_t nb_sids;
	uint16_t sids[MESP_MAX_TX_SIDS];
} __rte_cache_aligned;

static_assert(offsetof(struct mesp_sa, cs_own) <= RTE_CACHE_LINE_SIZE,
	"the per-packet part of struct mesp_sa must fit one cache line");

/* ------------------------------------------------------------------ TESLA */

/* Trailer layout (doc/wire-format.md §7.3) */
#define TL_T_KEY 1             /* with K_{i-d} */
#define TL_T_NOKEY 2           /* without key (intervals 0..d-1 of chain 0) */
#define TL_T_COMMIT 3          /* next chain's commitment */
#define TL_T_LASTKEY 4         /* K_N of the previous chain */
#define TL_HDR_LEN 5           /* type/flags + interval index */
#define TL_KEY_LEN 32
#define TL_MAC_LEN 16
#define TL_LEN_KEY (TL_HDR_LEN + TL_KEY_LEN + TL_MAC_LEN)   /* 53 */
#define TL_LEN_NOKEY (TL_HDR_LEN + TL_MAC_LEN)             /* 21 */
#define TL_NEVER UINT32_MAX
#define TL_TX_RING 64          /* interval records: the current one and those prepared ahead */
#define TL_TX_AHEAD_NS (50 * 1000000ull) /* how far ahead the control thread prepares them */

static inline uint32_t tl_len_of(uint8_t type)
{
	return type == TL_T_NOKEY ? TL_LEN_NOKEY : TL_LEN_KEY;
}

/*
 * What a sender's workers need for one interval, prepared by the control thread
 * (mesp_tesla_tick). `i` is written last with release order and read first with acquire
 * order; a record is rewritten only for an interval TL_TX_RING later, long after any worker
 * has stopped using it.
 */
struct tl_tx_rec {
	uint32_t i;                 /* interval, TL_NEVER while being written */
	uint8_t kb_type;            /* TL_T_KEY, or TL_T_NOKEY when no K_{i-d} exists */
	uint8_t extra_type;         /* 0, TL_T_COMMIT or TL_T_LASTKEY: each SID's first packet */
	uint8_t key[TL_KEY_LEN];    /* K_{i-d} */
	uint8_t extra[TL_KEY_LEN];  /* the commitment or the previous chain's K_N */
	struct mcrypto_mac_key mk;  /* K'_i, expanded */
} __rte_cache_aligned;

struct tl_tx {
	struct tesla_sender *ts;    /* control thread only */
	uint8_t src[16], dst[16];   /* beacons: the group's source and address */
	struct tl_tx_rec rec[TL_TX_RING];
};

/* One held packet. */
struct tl_entry {
	struct rte_mbuf *m;         /* the packet, or NULL when copied to the arena */
	uint32_t off;               /* arena offset of the copy, or offset of the SPI in m */
	uint16_t m_len;             /* bytes of M (SPI .. before the MAC); the MAC follows */
	uint16_t inner_off;         /* inner packet, from the SPI */
	uint16_t inner_len;         /* 0 for a beacon */
	uint16_t port;
	uint8_t sender;
	uint8_t type;
	uint8_t ecn;                /* ECN codepoint for the inner header when delivering, 0: as it is */
	uint8_t done;
};

#define TL_MAX_SENDERS 8

/* The packets of one interval (all senders), in arrival order. The caps apply per sender, so
 * that a member flooding under one sender's IDs cannot crowd out another sender. */
struct tl_bucket {
	uint32_t i;
	uint32_t n;                 /* entries used */
	uint32_t pending;           /* entries not done */
	uint32_t s_n[TL_MAX_SENDERS];     /* entries per sender, against bucket_packets */
	uint32_t s_bytes[TL_MAX_SENDERS]; /* bytes per sender, against bucket_bytes */
	uint32_t arena_used;
	struct tl_entry *e;
	uint8_t *arena;
};

/* A receiving worker's view of one sender. */
struct tl_rxs {
	struct tesla_rx *chain;
	uint64_t x_now;             /* x (RFC 4082 §3.5) for the burst at time x_now */
	int64_t x;
	uint32_t newest;            /* newest verified index (valid when has_newest) */
	bool has_newest;
	uint8_t newest_key[TL_KEY_LEN];
};

/* One receiving worker's store and chains. */
struct tl_rxw {
	struct tl_bucket *b;        /* nb_buckets, slot i % nb_buckets */
	struct tl_rxs s[];          /* nb_senders */
};

struct tl_rx {
	uint16_t nb_senders;
	uint16_t nb_workers;
	uint32_t nb_buckets;        /* d + 2 */
	uint32_t bucket_bytes, bucket_packets, copy_max;
	bool fail_open;
	uint8_t *sid_map;           /* sender index per SID (1 << sid_bits), 0xff: none */
	struct {
		bool has_d_t;
		int64_t d_t;
	} snd[TL_MAX_SENDERS];
	struct tl_rxw *w[];         /* nb_workers */
};

struct tl_sa {
	struct tesla_params p;      /* d_t unused: it is per sender */
	enum mcrypto_mac mac;
	uint32_t newkcc, lastkey;
	struct tl_tx *tx;           /* when sending */
	struct tl_rx *rx;           /* when receiving */
};

int tl_create(const struct mesp_sa_conf *conf, uint8_t sid_bits, struct tl_sa **out);
void tl_free(struct tl_sa *tl);
size_t tl_mem_size(const struct tl_sa *tl);

/* Sender: pick the trailer for a data packet (type 0) or a beacon, and write it once SPI, SN
 * and IV are in place. */
enum mesp_drop tl_tx_pick(const struct mesp_lcore *lc, const struct tl_sa *tl,
		struct tx_sender *snd, uint8_t want, const struct tl_tx_rec **rec,
		uint8_t *type);
void tl_tx_write(const struct tl_sa *tl, const struct tl_tx_rec *rec, uint8_t type,
		struct tx_sender *snd, const uint8_t *esp, uint8_t *trailer);

/* Receiver: after ICV, replay window and inner checks. Returns MESP_DROP_MAX to deliver the
 * packet now (fail-open), MESP_HELD when the store took it (and freed it if copied), or a drop. */
enum mesp_drop tl_rx_one(struct mesp_lcore *lc, struct mesp_sa *sa, struct rte_mbuf *m,
		uint32_t hl, uint32_t sid, uint32_t payload_len, uint32_t inner_len, uint8_t ecn);

#define ECN_MASK 0x3
#define ECN_ECT1 0x1
#define ECN_ECT0 0x2
#define ECN_CE 0x3

/*
 * RFC 6040 §4.2 decapsulation (normal and compatibility modes alike): the codepoint the inner
 * header leaves with, from the arriving outer and inner ones. Returns 0 when the inner header
 * stays as it is, ECN_ECT1 or ECN_CE when it must be rewritten, and -1 for the one combination
 * that is dropped: CE outside a Not-ECT packet (the congestion signal cannot be passed on).
 * Outer CE makes any ECT inner packet CE; outer ECT(1) makes an ECT(0) one ECT(1); every other
 * combination leaves the inner codepoint alone.
 */
static inline int mesp_ecn_decap(uint8_t outer, uint8_t inner)
{
	/* one load instead of a chain of tests, indexed outer << 2 | inner */
	static const int8_t fig4[16] = {
		/* inner:           Not-ECT ECT(1) ECT(0)    CE */
		/* outer Not-ECT */ 0,      0,     0,        0,
		/* outer ECT(1)  */ 0,      0,     ECN_ECT1, 0,
		/* outer ECT(0)  */ 0,      0,     0,        0,
		/* outer CE      */ -1,     ECN_CE, ECN_CE,  0,
	};

	return fig4[(outer & ECN_MASK) << 2 | (inner & ECN_MASK)];
}

/* Give the inner header the codepoint mesp_ecn_decap() chose (IPv4: with a new checksum). */
static inline void mesp_set_ecn(uint8_t *inner, bool v6, uint8_t ecn)
{
	if (v6) {
		struct rte_ipv6_hdr *in = (struct rte_ipv6_hdr *)inner;

		in->vtc_flow = (in->vtc_flow & ~rte_cpu_to_be_32((uint32_t)ECN_MASK << 20)) |
			rte_cpu_to_be_32((uint32_t)ecn << 20);
	} else {
		struct rte_ipv4_hdr *in = (struct rte_ipv4_hdr *)inner;

		in->type_of_service = (uint8_t)((in->type_of_service & ~ECN_MASK) | ecn);
		in->hdr_checksum = 0;
		in->hdr_checksum = rte_ipv4_cksum(in);
	}
}

static inline struct mesp_replay *rx_window(const struct rx_state *rx, uint32_t idx)
{
	return (struct mesp_replay *)(rx->win + (size_t)idx * rx->win_size);
}

void mesp_count_drop(struct mesp_lcore *lc, struct mesp_sa *sa, enum mesp_drop r);

#endif /* MESP_PVT_H */
