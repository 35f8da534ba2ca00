/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TESLA in group ESP (doc/wire-format.md §7, doc/tesla.md): the sender's trailer and key
 * material per interval, the receiver's time tests, key verification, store of held packets
 * and release after the TESLA MAC.
 *
 * Who runs what. The control thread owns each sender's key chains (lib/tesla) and prepares,
 * ahead of time, one record per interval that the sending workers only read. Each receiving
 * worker owns its own store and its own copy of every sender's chain: nothing on the receive
 * path is shared between workers, so there are no locks (RSS normally keeps one SA's packets on
 * one queue anyway). Memory is reserved when the SA is created and never grows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "mesp_pvt.h"

#define TL_VERSION_MASK 0xf0   /* version (bits 7-6) and reserved (5-4): all zero */

bool mesp_sa_has_tesla(const struct mesp_sa *sa)
{
	return sa != NULL && (sa->flags & SAF_TESLA) != 0;
}

uint64_t mesp_tesla_drain_ns(const struct mesp_sa *sa)
{
	if (!mesp_sa_has_tesla(sa) || sa->tl->tx == NULL)
		return 0;
	return (uint64_t)(sa->tl->p.d + 1) * sa->tl->p.t_int;
}

/* ------------------------------------------------------------------ set-up */

static void tl_rx_free(struct tl_rx *rx)
{
	if (rx == NULL)
		return;
	for (uint16_t w = 0; w < rx->nb_workers; w++) {
		struct tl_rxw *rw = rx->w[w];

		if (rw == NULL)
			continue;
		for (uint16_t s = 0; s < rx->nb_senders; s++) {
			tesla_rx_free(rw->s[s].chain);
			OPENSSL_cleanse(rw->s[s].newest_key, TL_KEY_LEN);
		}
		if (rw->b != NULL)
			for (uint32_t k = 0; k < rx->nb_buckets; k++) {
				struct tl_bucket *b = &rw->b[k];

				for (uint32_t j = 0; b->e != NULL && j < b->n; j++)
					if (!b->e[j].done && b->e[j].m != NULL)
						rte_pktmbuf_free(b->e[j].m);
				rte_free(b->e);
				rte_free(b->arena);
			}
		rte_free(rw->b);
		rte_free(rw);
	}
	rte_free(rx->sid_map);
	rte_free(rx);
}

void tl_free(struct tl_sa *tl)
{
	if (tl == NULL)
		return;
	if (tl->tx != NULL) {
		tesla_sender_free(tl->tx->ts);
		OPENSSL_cleanse(tl->tx, sizeof(*tl->tx));
		rte_free(tl->tx);
	}
	tl_rx_free(tl->rx);
	OPENSSL_cleanse(tl, sizeof(*tl));
	rte_free(tl);
}

static int tl_rx_new(const struct mesp_sa_conf *conf, const struct tesla_params *p,
		uint8_t sid_bits, struct tl_rx **out)
{
	const struct mesp_tesla_conf *tc = conf->tesla;
	uint32_t nsid = 1u << sid_bits;
	struct tl_rx *rx;
	int rc = -ENOMEM;

	if (tc->nb_senders == 0 || tc->nb_senders > TL_MAX_SENDERS || tc->nb_workers == 0 ||
			tc->senders == NULL || tc->bucket_packets == 0 || tc->bucket_bytes == 0)
		return -EINVAL;
	rx = rte_zmalloc("mesp_tl_rx", sizeof(*rx) + tc->nb_workers * sizeof(rx->w[0]),
			RTE_CACHE_LINE_SIZE);
	if (rx == NULL)
		return -ENOMEM;
	rx->nb_senders = tc->nb_senders;
	rx->nb_workers = tc->nb_workers;
	rx->nb_buckets = p->d + 2;
	rx->bucket_bytes = tc->bucket_bytes;
	rx->bucket_packets = tc->bucket_packets;
	rx->copy_max = tc->copy_max;
	rx->fail_open = tc->fail_open;
	rx->sid_map = rte_malloc("mesp_tl_sid", nsid, 0);
	if (rx->sid_map == NULL)
		goto fail;
	memset(rx->sid_map, 0xff, nsid);
	for (uint16_t s = 0; s < tc->nb_senders; s++) {
		const struct mesp_tesla_sender_conf *sc = &tc->senders[s];

		rc = -EINVAL;
		if (sc->nb_sids == 0 || sc->sids == NULL || sc->commitment == NULL)
			goto fail;
		for (uint16_t j = 0; j < sc->nb_sids; j++) {
			if (sc->sids[j] >= nsid || rx->sid_map[sc->sids[j]] != 0xff)
				goto fail;
			rx->sid_map[sc->sids[j]] = (uint8_t)s;
		}
		rx->snd[s].has_d_t = sc->has_clock_bound;
		rx->snd[s].d_t = sc->clock_bound_ns;
	}
	for (uint16_t w = 0; w < tc->nb_workers; w++) {
		struct tl_rxw *rw;

		rc = -ENOMEM;
		rw = rte_zmalloc("mesp_tl_rxw", sizeof(*rw) + tc->nb_senders * sizeof(rw->s[0]),
				RTE_CACHE_LINE_SIZE);
		if (rw == NULL)
			goto fail;
		rx->w[w] = rw;
		rw->b = rte_zmalloc("mesp_tl_b", rx->nb_buckets * sizeof(*rw->b),
				RTE_CACHE_LINE_SIZE);
		if (rw->b == NULL)
			goto fail;
		for (uint32_t k = 0; k < rx->nb_buckets; k++) {
			rw->b[k].i = TL_NEVER;
			rw->b[k].e = rte_malloc("mesp_tl_e", (size_t)tc->bucket_packets *
					tc->nb_senders * sizeof(struct tl_entry),
					RTE_CACHE_LINE_SIZE);
			rw->b[k].arena = rte_malloc("mesp_tl_arena", (size_t)tc->bucket_bytes *
					tc->nb_senders, RTE_CACHE_LINE_SIZE);
			if (rw->b[k].e == NULL || rw->b[k].arena == NULL)
				goto fail;
		}
		for (uint16_t s = 0; s < tc->nb_senders; s++) {
			struct tesla_params ps = *p;

			ps.d_t = tc->senders[s].has_clock_bound ? tc->senders[s].clock_bound_ns : 0;
			rc = tesla_rx_create(&ps, tc->senders[s].chain, tc->senders[s].commitment,
					&rw->s[s].chain);
			if (rc != 0)
				goto fail;
		}
	}
	*out = rx;
	return 0;
fail:
	tl_rx_free(rx);
	return rc;
}

int tl_create(const struct mesp_sa_conf *conf, uint8_t sid_bits, struct tl_sa **out)
{
	const struct mesp_tesla_conf *tc = conf->tesla;
	struct tl_sa *tl;
	int rc;

	if (tc->mac <= MCRYPTO_MAC_NONE || tc->mac >= MCRYPTO_MAC_MAX || tc->chain_length < 2)
		return -EINVAL;
	tl = rte_zmalloc("mesp_tl", sizeof(*tl), RTE_CACHE_LINE_SIZE);
	if (tl == NULL)
		return -ENOMEM;
	tl->p.t0 = tc->t0_ns;
	tl->p.t_int = tc->interval_ns;
	tl->p.n = tc->chain_length - 1;
	tl->p.d = tc->d;
	tl->p.max_walk = tc->max_walk;
	tl->mac = tc->mac;
	tl->newkcc = tc->newkcc;
	tl->lastkey = tc->lastkey;
	rc = tesla_params_check(&tl->p, NULL);
	if (rc == 0 && (uint64_t)tc->d + tc->newkcc + tc->lastkey > tc->chain_length)
		rc = -EINVAL;
	if (rc != 0)
		goto fail;
	if (conf->dir & MESP_SA_OUT) {
		rc = -EINVAL;
		if (!conf->has_src)
			goto fail;
		rc = -ENOMEM;
		tl->tx = rte_zmalloc("mesp_tl_tx", sizeof(*tl->tx), RTE_CACHE_LINE_SIZE);
		if (tl->tx == NULL)
			goto fail;
		memcpy(tl->tx->src, conf->src, 16);
		memcpy(tl->tx->dst, conf->dst, 16);
		for (int k = 0; k < TL_TX_RING; k++)
			tl->tx->rec[k].i = TL_NEVER;
		/* the chain to start with: the configured one, or the one holding the current
		 * interval (a sender restarted hours after T_0 must not start at chain 0: it
		 * could never catch up, a sender never skips a chain) */
		uint32_t now_i = 0, first;

		if (tc->now_ns >= tl->p.t0 && tesla_interval(&tl->p, tc->now_ns, &now_i) != 0)
			goto fail;      /* beyond the 32-bit index space */
		if (tc->chain_key != NULL) {
			rc = -ESTALE;   /* that chain has ended: its keys are all disclosed */
			if (tesla_chain_of(&tl->p, now_i) > tc->chain ||
					tesla_chain_start(&tl->p, tc->chain, &first) != 0)
				goto fail;
			rc = tesla_sender_create_key(&tl->p, first, tc->newkcc, tc->chain_key,
					&tl->tx->ts);
		} else {
			rc = tesla_sender_create(&tl->p, now_i, tc->newkcc, &tl->tx->ts);
		}
		if (rc != 0)
			goto fail;
	}
	if (conf->dir & MESP_SA_IN) {
		rc = tl_rx_new(conf, &tl->p, sid_bits, &tl->rx);
		if (rc != 0)
			goto fail;
	}
	*out = tl;
	return 0;
fail:
	tl_free(tl);
	return rc;
}

size_t tl_mem_size(const struct tl_sa *tl)
{
	size_t n;

	if (tl == NULL)
		return 0;
	n = sizeof(*tl);
	if (tl->tx != NULL)
		n += sizeof(*tl->tx) + tesla_sender_mem(tl->tx->ts);
	if (tl->rx != NULL) {
		const struct tl_rx *rx = tl->rx;
		size_t per_b = ((size_t)rx->bucket_packets * sizeof(struct tl_entry) +
				rx->bucket_bytes) * rx->nb_senders;

		n += sizeof(*rx) + rx->nb_workers * sizeof(rx->w[0]);
		for (uint16_t w = 0; w < rx->nb_workers; w++) {
			n += sizeof(struct tl_rxw) + rx->nb_senders * sizeof(struct tl_rxs) +
				rx->nb_buckets * (sizeof(struct tl_bucket) + per_b);
			for (uint16_t s = 0; s < rx->nb_senders; s++)
				n += tesla_rx_mem(rx->w[w]->s[s].chain);
		}
	}
	return n;
}

/* ------------------------------------------------------------------ sender */

/* First index of the chain holding i. */
static uint32_t chain_first(const struct tesla_params *p, uint32_t i)
{
	return i - tesla_chain_pos(p, i);
}

/* Prepare the record of interval i (control thread). */
static int tx_fill(struct tl_sa *tl, uint32_t i)
{
	struct tl_tx_rec *rec = &tl->tx->rec[i % TL_TX_RING];
	struct tesla_sender *ts = tl->tx->ts;
	const struct tesla_params *p = &tl->p;
	uint8_t kp[TESLA_KEY_LEN];
	uint32_t first = chain_first(p, i);
	int rc;

	__atomic_store_n(&rec->i, TL_NEVER, __ATOMIC_RELEASE);
	/* K'_i first: for an index of the next chain, this call makes that chain current */
	rc = tesla_sender_mac_key(ts, i, kp);
	if (rc == 0)
		rc = mcrypto_mac_key_init(NULL, tl->mac, kp, &rec->mk);
	OPENSSL_cleanse(kp, sizeof(kp));
	if (rc != 0)
		return rc;
	/* no K_{i-d}: the first d intervals of chain 0, or of the first chain of a sender that
	 * started later (it never had the previous chain): type 2 */
	rec->kb_type = TL_T_NOKEY;
	if (i >= p->d) {
		rc = tesla_sender_key(ts, i - p->d, rec->key);
		if (rc == 0)
			rec->kb_type = TL_T_KEY;
		else if (rc != -ENOENT)
			return rc;
	}
	rec->extra_type = 0;
	rc = tesla_sender_newkcc(ts, i, rec->extra);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		rec->extra_type = TL_T_COMMIT;
	} else if (first != 0 && i - first >= p->d && i - first < p->d + tl->lastkey) {
		/* RFC 5776 §3.1.2.3: K_N of the previous chain again, after its normal disclosure
		 * (none when this sender started with the current chain) */
		rc = tesla_sender_key(ts, first - 1, rec->extra);
		if (rc == 0)
			rec->extra_type = TL_T_LASTKEY;
		else if (rc != -ENOENT)
			return rc;
	}
	__atomic_store_n(&rec->i, i, __ATOMIC_RELEASE);
	return 0;
}

int mesp_tesla_tick(struct mesp_sa *sa, uint64_t now_ns)
{
	struct tl_sa *tl = sa->tl;
	uint32_t cur = 0;
	int rc;

	if (!(sa->flags & SAF_TESLA) || tl->tx == NULL)
		return 0;
	/* before T_0: prepare interval 0 ahead */
	if (now_ns >= tl->p.t0) {
		rc = tesla_interval(&tl->p, now_ns, &cur);
		if (rc != 0)
			return rc;
	}
	/* cover the control thread's longest pause (its loop runs every 10 ms) with margin;
	 * a record is rewritten only TL_TX_RING intervals later */
	uint64_t ahead = 2 + TL_TX_AHEAD_NS / tl->p.t_int;

	if (ahead > TL_TX_RING / 2)
		ahead = TL_TX_RING / 2;
	for (uint32_t k = 0; k <= ahead; k++) {
		uint32_t i = cur + k;

		if (i < cur)
			break;          /* end of the index space */
		if (__atomic_load_n(&tl->tx->rec[i % TL_TX_RING].i, __ATOMIC_ACQUIRE) == i)
			continue;
		rc = tx_fill(tl, i);
		if (rc != 0)
			return rc;
	}
	/* the chain after the current one, in good time (chain_length PRF calls, here and not
	 * in the interval where it is first needed) */
	if (tesla_chain_pos(&tl->p, cur) + tl->newkcc + ahead >= tl->p.n + 1) {
		rc = tesla_sender_prepare_next(tl->tx->ts);
		if (rc != 0 && rc != -ERANGE)
			return rc;
	}
	return 0;
}

enum mesp_drop tl_tx_pick(const struct mesp_lcore *lc, const struct tl_sa *tl,
		struct tx_sender *snd, uint8_t want, const struct tl_tx_rec **recp,
		uint8_t *type)
{
	const struct tl_tx_rec *rec;
	uint32_t i;

	if (unlikely(tl->tx == NULL || lc->now_ns < tl->p.t0))
		return MESP_DROP_TESLA_NO_KEY;
	if (lc->now_ns != snd->tl_now) {
		uint64_t i64 = (lc->now_ns - tl->p.t0) / tl->p.t_int;

		if (unlikely(i64 > UINT32_MAX))
			return MESP_DROP_TESLA_NO_KEY;
		snd->tl_i = (uint32_t)i64;
		snd->tl_now = lc->now_ns;
	}
	i = snd->tl_i;
	rec = &tl->tx->rec[i % TL_TX_RING];
	if (unlikely(__atomic_load_n(&rec->i, __ATOMIC_ACQUIRE) != i))
		return MESP_DROP_TESLA_NO_KEY;
	if (want != 0)
		*type = want;
	else if (rec->extra_type == TL_T_COMMIT && snd->tl_t3 != i)
		*type = TL_T_COMMIT;
	else if (rec->extra_type == TL_T_LASTKEY && snd->tl_t4 != i)
		*type = TL_T_LASTKEY;
	else
		*type = rec->kb_type;
	*recp = rec;
	return MESP_DROP_MAX;
}

void tl_tx_write(const struct tl_sa *tl, const struct tl_tx_rec *rec, uint8_t type,
		struct tx_sender *snd, const uint8_t *esp, uint8_t *trailer)
{
	uint32_t i = rec->i;
	uint32_t i_be = rte_cpu_to_be_32(i);
	uint32_t m_len;
	uint8_t nonce[MCRYPTO_MAC_NONCE_LEN];

	trailer[0] = type;
	memcpy(trailer + 1, &i_be, 4);
	switch (type) {
	case TL_T_KEY:
		memcpy(trailer + TL_HDR_LEN, rec->key, TL_KEY_LEN);
		snd->tl_kb = i;
		break;
	case TL_T_COMMIT:
		memcpy(trailer + TL_HDR_LEN, rec->extra, TL_KEY_LEN);
		snd->tl_t3 = i;
		break;
	case TL_T_LASTKEY:
		memcpy(trailer + TL_HDR_LEN, rec->extra, TL_KEY_LEN);
		snd->tl_t4 = i;
		snd->tl_kb = i;
		break;
	default:
		/* type 2: no key exists to disclose yet; counts as this interval's disclosure */
		snd->tl_kb = i;
		break;
	}
	/* M = SPI .. the byte before the MAC (§7.4); GMAC nonce = i || IV */
	m_len = (uint32_t)(trailer - esp) + tl_len_of(type) - TL_MAC_LEN;
	memcpy(nonce, &i_be, 4);
	if (tl->mac == MCRYPTO_MAC_AES_GMAC_128)
		memcpy(nonce + 4, esp + ESP_HDR_LEN, MCRYPTO_IV_LEN);
	else
		memset(nonce + 4, 0, MCRYPTO_IV_LEN);
	if (mcrypto_mac(&rec->mk, nonce, esp, m_len, trailer + tl_len_of(type) - TL_MAC_LEN) != 0)
		memset(trailer + tl_len_of(type) - TL_MAC_LEN, 0, TL_MAC_LEN);
}

/* ------------------------------------------------------------------ receiver */

static inline struct mesp_sa_ctr *ctr(struct mesp_lcore *lc, const struct mesp_sa *sa)
{
	return &lc->sa_ctr[sa->stats_id];
}

/* Hand a verified packet on: data at the inner header, port set. */
static void deliver(struct mesp_lcore *lc, struct mesp_sa *sa, const struct tl_entry *e,
		const uint8_t *m_start)
{
	struct rte_mbuf *m = e->m;
	uint8_t *inner;

	if (m == NULL) {
		m = lc->pool != NULL ? rte_pktmbuf_alloc(lc->pool) : NULL;
		if (m == NULL || rte_pktmbuf_append(m, e->inner_len) == NULL) {
			rte_pktmbuf_free(m);
			mesp_count_drop(lc, sa, MESP_DROP_NO_ROOM);
			return;
		}
		inner = rte_pktmbuf_mtod(m, uint8_t *);
		memcpy(inner, m_start + e->inner_off, e->inner_len);
	} else {
		rte_pktmbuf_adj(m, (uint16_t)(e->off + e->inner_off));
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - e->inner_len));
		inner = rte_pktmbuf_mtod(m, uint8_t *);
	}
	m->port = e->port;
	m->l3_len = 0;
	if (e->ecn != 0)
		mesp_set_ecn(inner, (sa->flags & SAF_V6) != 0, e->ecn);
	struct mesp_sa_ctr *c = ctr(lc, sa);
	c->in_pkts++;
	c->in_bytes += e->inner_len;
	c->tl_verified++;
	if (lc->deliver != NULL)
		lc->deliver(lc->deliver_arg, m);
	else
		rte_pktmbuf_free(m);
}

/* An entry leaves the store: bookkeeping common to release and expiry. */
static void entry_done(struct mesp_lcore *lc, const struct mesp_sa *sa, struct tl_bucket *b,
		struct tl_entry *e)
{
	struct mesp_sa_ctr *c = ctr(lc, sa);

	e->done = 1;
	b->pending--;
	c->tl_held--;
	c->tl_held_bytes -= e->m != NULL ? rte_pktmbuf_pkt_len(e->m) : (uint32_t)e->m_len +
		TL_MAC_LEN;
}

static inline const uint8_t *entry_data(const struct tl_bucket *b, const struct tl_entry *e)
{
	return e->m != NULL ? rte_pktmbuf_mtod_offset(e->m, const uint8_t *, e->off) :
		b->arena + e->off;
}

static void bucket_reset(struct tl_bucket *b, uint32_t i)
{
	b->i = i;
	b->n = 0;
	b->pending = 0;
	memset(b->s_n, 0, sizeof(b->s_n));
	memset(b->s_bytes, 0, sizeof(b->s_bytes));
	b->arena_used = 0;
}

/* Drop whatever is still pending in a bucket (tesla_no_key) and empty it. */
static void bucket_expire(struct mesp_lcore *lc, struct mesp_sa *sa, struct tl_bucket *b)
{
	for (uint32_t j = 0; j < b->n && b->pending != 0; j++) {
		struct tl_entry *e = &b->e[j];

		if (e->done)
			continue;
		struct rte_mbuf *m = e->m;
		entry_done(lc, sa, b, e);
		rte_pktmbuf_free(m);
		mesp_count_drop(lc, sa, MESP_DROP_TESLA_NO_KEY);
	}
	bucket_reset(b, TL_NEVER);
}

/*
 * Verify and release sender s's held packets of bucket b, whose key K_i is known: K'_i =
 * F'(K_i), each packet's MAC in arrival order, a verified commitment handed to the chain.
 */
static void bucket_release(struct mesp_lcore *lc, struct mesp_sa *sa, struct tl_rxs *rs,
		struct tl_bucket *b, uint8_t s)
{
	const struct tl_sa *tl = sa->tl;
	struct mcrypto_mac_key mk;
	uint8_t kp[TESLA_KEY_LEN];
	uint32_t i_be = rte_cpu_to_be_32(b->i);
	int rc;

	rc = tesla_rx_mac_key(rs->chain, b->i, kp);
	if (rc == 0)
		rc = mcrypto_mac_key_init(NULL, tl->mac, kp, &mk);
	OPENSSL_cleanse(kp, sizeof(kp));
	if (rc != 0)
		return;         /* not derivable (yet): stays held until it is, or expires */
	for (uint32_t j = 0; j < b->n; j++) {
		struct tl_entry *e = &b->e[j];
		uint8_t nonce[MCRYPTO_MAC_NONCE_LEN];

		if (e->done || e->sender != s)
			continue;
		const uint8_t *d = entry_data(b, e);
		memcpy(nonce, &i_be, 4);
		memcpy(nonce + 4, d + ESP_HDR_LEN, MCRYPTO_IV_LEN);
		rc = mcrypto_mac_verify(&mk, nonce, d, e->m_len, d + e->m_len);
		struct rte_mbuf *m = e->m;
		entry_done(lc, sa, b, e);
		if (rc != 0) {
			rte_pktmbuf_free(m);
			mesp_count_drop(lc, sa, MESP_DROP_TESLA_BAD_MAC);
			continue;
		}
		if (e->type == TL_T_COMMIT) {
			/* authenticated now: the next chain's commitment may be taken */
			(void)tesla_rx_set_next_commitment(rs->chain,
					tesla_chain_of(&tl->p, b->i) + 1,
					d + e->m_len - TL_KEY_LEN);
		}
		if (e->inner_len == 0) {
			rte_pktmbuf_free(m);
			mesp_count_drop(lc, sa, MESP_DROP_TESLA_BEACON);
			continue;
		}
		deliver(lc, sa, e, d);
	}
	mcrypto_mac_key_wipe(&mk);
	if (b->pending == 0)
		bucket_reset(b, TL_NEVER);
}

/* Release, in interval order, sender s's buckets up to interval v (its keys are known). */
static void release_upto(struct mesp_lcore *lc, struct mesp_sa *sa, struct tl_rxw *rw,
		uint8_t s, uint32_t v)
{
	const struct tl_rx *rx = sa->tl->rx;
	uint32_t order[TESLA_D_MAX + 2], n = 0;

	for (uint32_t k = 0; k < rx->nb_buckets; k++) {
		const struct tl_bucket *b = &rw->b[k];
		uint32_t j;

		if (b->i == TL_NEVER || b->pending == 0 || b->i > v)
			continue;
		/* insertion by interval: at most d + 2 buckets */
		for (j = n; j > 0 && rw->b[order[j - 1]].i > b->i; j--)
			order[j] = order[j - 1];
		order[j] = k;
		n++;
	}
	for (uint32_t j = 0; j < n; j++)
		bucket_release(lc, sa, &rw->s[s], &rw->b[order[j]], s);
}

/* The latest interval the sender can be in, from this burst's time and D_t (RFC 4082 §3.5). */
static int64_t latest_interval(const struct tesla_params *p, uint64_t now, int64_t d_t)
{
	uint64_t t;

	if (d_t >= 0)
		t = now + (uint64_t)d_t < now ? UINT64_MAX : now + (uint64_t)d_t;
	else
		t = now < (uint64_t)-d_t ? 0 : now - (uint64_t)-d_t;
	if (t < p->t0)
		return -1;
	return (int64_t)((t - p->t0) / p->t_int);
}

/* A disclosed key: verify against the chain and release what it unlocks. */
static enum mesp_drop take_key(struct mesp_lcore *lc, struct mesp_sa *sa, struct tl_rxw *rw,
		uint8_t s, uint32_t j, const uint8_t *key)
{
	struct tl_rxs *rs = &rw->s[s];
	enum tesla_key_verdict v;
	uint32_t first_new;

	/* the common case: the key every packet of this interval repeats */
	if (rs->has_newest && j == rs->newest && CRYPTO_memcmp(key, rs->newest_key,
			TL_KEY_LEN) == 0)
		return MESP_DROP_MAX;
	v = tesla_rx_verify_key(rs->chain, j, key, &first_new);
	switch (v) {
	case TESLA_KEY_NEW:
		if (!rs->has_newest || j > rs->newest ||
				tesla_chain_of(&sa->tl->p, j) != tesla_chain_of(&sa->tl->p,
					rs->newest)) {
			rs->newest = j;
			rs->has_newest = true;
			memcpy(rs->newest_key, key, TL_KEY_LEN);
		}
		release_upto(lc, sa, rw, s, j);
		return MESP_DROP_MAX;
	case TESLA_KEY_KNOWN:
		return MESP_DROP_MAX;
	default:
		return MESP_DROP_TESLA_BAD_KEY;
	}
}

/* Is K_i already known to this worker (disclosed, or derivable from a later key)? */
static bool key_known(struct tl_rxs *rs, uint32_t i)
{
	uint8_t k[TESLA_KEY_LEN];
	bool known = tesla_rx_key(rs->chain, i, k) == 0;

	OPENSSL_cleanse(k, sizeof(k));
	return known;
}

enum mesp_drop tl_rx_one(struct mesp_lcore *lc, struct mesp_sa *sa, struct rte_mbuf *m,
		uint32_t hl, uint32_t sid, uint32_t payload_len, uint32_t inner_len, uint8_t ecn)
{
	const struct tl_sa *tl = sa->tl;
	const struct tl_rx *rx = tl->rx;
	uint8_t *esp = rte_pktmbuf_mtod_offset(m, uint8_t *, hl);
	uint8_t *tr = esp + sa->esp_len + inner_len;
	uint32_t tlen = payload_len - inner_len;
	uint32_t i, i_be;
	uint8_t type, s;
	const uint8_t *key = NULL;

	if (rx == NULL || lc->idx >= rx->nb_workers)
		return MESP_DROP_TESLA_UNKNOWN_SENDER;
	struct tl_rxw *rw = rx->w[lc->idx];

	/* §7.3: the trailer's own length must match where the inner packet ends */
	if (tlen < TL_LEN_NOKEY)
		return MESP_DROP_TESLA_MALFORMED;
	type = tr[0];
	if ((type & TL_VERSION_MASK) != 0 || type < TL_T_KEY || type > TL_T_LASTKEY ||
			tlen != tl_len_of(type))
		return MESP_DROP_TESLA_MALFORMED;
	memcpy(&i_be, tr + 1, 4);
	i = rte_be_to_cpu_32(i_be);
	/* the first index of i's chain: only type 4 needs it (a division) */
	uint32_t first = type == TL_T_LASTKEY ? i - tesla_chain_pos(&tl->p, i) : 0;
	if ((type == TL_T_KEY && i < tl->p.d) || (type == TL_T_LASTKEY && first == 0))
		return MESP_DROP_TESLA_MALFORMED;
	if (type == TL_T_KEY || type == TL_T_LASTKEY)
		key = tr + TL_HDR_LEN;

	s = rx->sid_map[sid];
	if (s == 0xff)
		return MESP_DROP_TESLA_UNKNOWN_SENDER;
	struct tl_rxs *rs = &rw->s[s];
	bool synced = rx->snd[s].has_d_t && lc->clock_synced;

	if (synced) {
		/* §7.6 step 9: time tests before any key work */
		/* once per burst and sender (a division) */
		if (rs->x_now != lc->now_ns) {
			rs->x = latest_interval(&tl->p, lc->now_ns, rx->snd[s].d_t);
			rs->x_now = lc->now_ns;
		}
		int64_t x = rs->x;

		if ((int64_t)i > x)
			return MESP_DROP_TESLA_FUTURE;
		if (x >= (int64_t)i + tl->p.d)
			return MESP_DROP_TESLA_UNSAFE;
	}
	/* step 10: a disclosed key proves itself, whatever the clock says */
	if (key != NULL) {
		uint32_t j = type == TL_T_KEY ? i - tl->p.d : first - 1;
		enum mesp_drop r = take_key(lc, sa, rw, s, j, key);

		if (r != MESP_DROP_MAX)
			return r;
	}
	if (!synced) {
		if (inner_len == 0)
			return MESP_DROP_TESLA_BEACON;
		if (!rx->fail_open)
			return MESP_DROP_TESLA_UNSYNCED;
		ctr(lc, sa)->tl_unverified++;
		return MESP_DROP_MAX;   /* delivered as it is, the trailer stripped */
	}
	/* a key-bearing beacon has done its work; a commitment must wait for its MAC */
	if (inner_len == 0 && type != TL_T_COMMIT)
		return MESP_DROP_TESLA_BEACON;

	/* step 11: hold */
	struct tl_bucket *b = &rw->b[i % rx->nb_buckets];
	if (unlikely(b->i != TL_NEVER && b->i > i))
		return MESP_DROP_TESLA_UNSAFE;  /* its slot already serves a later interval */
	if (b->i != i) {
		if (b->i != TL_NEVER && b->pending != 0)
			bucket_expire(lc, sa, b);
		bucket_reset(b, i);
	}
	uint32_t m_len = sa->esp_len + inner_len + tl_len_of(type) - TL_MAC_LEN;
	uint32_t held = m_len + TL_MAC_LEN;
	bool copy = held <= rx->copy_max;
	uint32_t cost = copy ? held : rte_pktmbuf_pkt_len(m);

	if (b->s_n[s] >= rx->bucket_packets ||
			(uint64_t)b->s_bytes[s] + cost > rx->bucket_bytes)
		return MESP_DROP_TESLA_BUFFER_FULL;
	struct tl_entry *e = &b->e[b->n];
	e->m_len = (uint16_t)m_len;
	e->inner_off = sa->esp_len;
	e->inner_len = (uint16_t)inner_len;
	e->port = m->port;
	e->sender = s;
	e->type = type;
	e->ecn = ecn;
	e->done = 0;
	if (copy) {
		e->m = NULL;
		e->off = b->arena_used;
		memcpy(b->arena + b->arena_used, esp, held);
		b->arena_used += held;
	} else {
		e->m = m;
		e->off = hl;
	}
	b->n++;
	b->pending++;
	b->s_n[s]++;
	b->s_bytes[s] += cost;
	struct mesp_sa_ctr *c = ctr(lc, sa);
	c->tl_held++;
	c->tl_held_bytes += cost;
	if (copy)
		rte_pktmbuf_free(m);
	/* K_i already known (only if the sender's clock ran ahead of D_t): verify now */
	if (rs->has_newest && i <= rs->newest && key_known(rs, i))
		release_upto(lc, sa, rw, s, i);
	return MESP_HELD;
}

void mesp_tesla_poll(struct mesp_lcore *lc, struct mesp_sa *sa)
{
	const struct tl_sa *tl = sa->tl;

	if (!(sa->flags & SAF_TESLA) || tl->rx == NULL || lc->idx >= tl->rx->nb_workers)
		return;
	struct tl_rxw *rw = tl->rx->w[lc->idx];
	/* §7.6 step 13, on this receiver's own clock */
	int64_t x = latest_interval(&tl->p, lc->now_ns, 0);

	for (uint32_t k = 0; k < tl->rx->nb_buckets; k++) {
		struct tl_bucket *b = &rw->b[k];

		if (b->i != TL_NEVER && b->pending != 0 && x >= (int64_t)b->i + tl->p.d + 2)
			bucket_expire(lc, sa, b);
	}
}

/* ------------------------------------------------------------------ views */

void mesp_tesla_get_info(const struct mesp_sa *sa, struct mesp_tesla_info *info)
{
	const struct tl_sa *tl = sa->tl;

	memset(info, 0, sizeof(*info));
	if (!(sa->flags & SAF_TESLA))
		return;
	info->sends = tl->tx != NULL;
	info->receives = tl->rx != NULL;
	info->t0_ns = tl->p.t0;
	info->interval_ns = tl->p.t_int;
	info->d = tl->p.d;
	info->chain_length = tl->p.n + 1;
	info->mac = tl->mac;
	if (tl->tx != NULL) {
		info->tx_chain = tesla_sender_chain(tl->tx->ts);
		(void)tesla_sender_commitment(tl->tx->ts, info->tx_chain, info->tx_commitment);
	}
	if (tl->rx != NULL) {
		const struct tl_rx *rx = tl->rx;

		info->nb_senders = rx->nb_senders;
		for (uint16_t s = 0; s < rx->nb_senders && s < RTE_DIM(info->rx); s++) {
			info->rx[s].synced_cfg = rx->snd[s].has_d_t;
			for (uint16_t w = 0; w < rx->nb_workers; w++) {
				const struct tl_rxs *rs = &rx->w[w]->s[s];

				if (!__atomic_load_n(&rs->has_newest, __ATOMIC_RELAXED))
					continue;
				uint32_t v = __atomic_load_n(&rs->newest, __ATOMIC_RELAXED);
				if (!info->rx[s].has_key || v > info->rx[s].newest)
					info->rx[s].newest = v;
				info->rx[s].has_key = true;
			}
		}
		info->store_bytes = tl_mem_size(tl);
	}
}
