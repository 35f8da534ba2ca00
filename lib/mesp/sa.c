/* SPDX-License-Identifier: BSD-3-Clause */
/* Runtime SA records: creation, sharing of sender state across a key-preserving replace, info. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "mesp_pvt.h"

static_assert(sizeof(struct mesp_sa_ctr) == 256, "per-SA counters: 256 bytes, indexed by shift");

static const char *const drop_names[MESP_DROP_MAX] = {
	[MESP_DROP_NOT_IP] = "not_ip",
	[MESP_DROP_MALFORMED] = "malformed",
	[MESP_DROP_NOT_MULTICAST] = "not_multicast",
	[MESP_DROP_IPV6_EXT] = "ipv6_ext_hdr",
	[MESP_DROP_FRAGMENT] = "fragment",
	[MESP_DROP_POLICY_DISCARD] = "policy_discard",
	[MESP_DROP_NO_SA] = "no_sa",
	[MESP_DROP_SA_EXPIRED] = "sa_expired",
	[MESP_DROP_NO_SID] = "no_sid",
	[MESP_DROP_SEQ_EXHAUSTED] = "seq_exhausted",
	[MESP_DROP_MTU] = "mtu_exceeded",
	[MESP_DROP_NO_ROOM] = "no_room",
	[MESP_DROP_REPLAY] = "replay",
	[MESP_DROP_AUTH_FAIL] = "auth_fail",
	[MESP_DROP_SENDERS_FULL] = "senders_full",
	[MESP_DROP_BAD_PAD] = "bad_pad",
	[MESP_DROP_BAD_NEXT_HDR] = "bad_next_header",
	[MESP_DROP_DUMMY] = "dummy",
	[MESP_DROP_BAD_INNER] = "bad_inner",
	[MESP_DROP_ADDR_MISMATCH] = "addr_mismatch",
	[MESP_DROP_ECN] = "ecn",
	[MESP_DROP_TX_FULL] = "tx_full",
	[MESP_DROP_TESLA_MALFORMED] = "tesla_malformed",
	[MESP_DROP_TESLA_UNKNOWN_SENDER] = "tesla_unknown_sender",
	[MESP_DROP_TESLA_FUTURE] = "tesla_future",
	[MESP_DROP_TESLA_UNSAFE] = "tesla_unsafe",
	[MESP_DROP_TESLA_BAD_KEY] = "tesla_bad_key",
	[MESP_DROP_TESLA_BAD_MAC] = "tesla_bad_mac",
	[MESP_DROP_TESLA_BUFFER_FULL] = "tesla_buffer_full",
	[MESP_DROP_TESLA_NO_KEY] = "tesla_no_key",
	[MESP_DROP_TESLA_UNSYNCED] = "tesla_unsynced",
	[MESP_DROP_TESLA_BEACON] = "tesla_beacon",
};

const char *mesp_drop_name(enum mesp_drop r)
{
	return (unsigned int)r < MESP_DROP_MAX ? drop_names[r] : "unknown";
}

void mesp_count_drop(struct mesp_lcore *lc, struct mesp_sa *sa, enum mesp_drop r)
{
	lc->drops[r]++;
	if (sa == NULL || sa->stats_id >= lc->max_sas)
		return;
	struct mesp_sa_ctr *c = &lc->sa_ctr[sa->stats_id];
	if (r == MESP_DROP_AUTH_FAIL)
		c->auth_fail++;
	else if (r == MESP_DROP_REPLAY)
		c->replay++;
	else
		c->other_drops++;
	if (r >= MESP_DROP_TESLA_MALFORMED && r < MESP_DROP_MAX)
		c->tl_drops[r - MESP_DROP_TESLA_MALFORMED]++;
}

/* A digest of suite and keymat: lets a replace recognise unchanged keys without a key copy. */
void mesp_conf_keyid(const struct mesp_sa_conf *conf, uint8_t out[MESP_KEYID_LEN])
{
	uint8_t buf[1 + MCRYPTO_MAX_KEYMAT_LEN];
	size_t n = conf->keymat_len < sizeof(buf) - 1 ? conf->keymat_len : sizeof(buf) - 1;

	buf[0] = (uint8_t)conf->suite;
	memcpy(buf + 1, conf->keymat, n);
	EVP_Digest(buf, n + 1, out, NULL, EVP_sha256(), NULL);
	OPENSSL_cleanse(buf, sizeof(buf));
}

void mesp_sa_keyid(const struct mesp_sa *sa, uint8_t id[MESP_KEYID_LEN])
{
	memcpy(id, sa->keyhash, MESP_KEYID_LEN);
}

bool mesp_sa_same_keys(const struct mesp_sa *sa, const struct mesp_sa_conf *conf)
{
	uint8_t h[MESP_KEYID_LEN];
	bool same;

	if (sa->suite != conf->suite || sa->nb_sids != conf->nb_sids ||
			sa->sid_bits != conf->sid_bits || !!(sa->flags & SAF_ESN) != conf->esn ||
			sa->family != conf->family || sa->replay_window != conf->replay_window)
		return false;
	if (conf->nb_sids != 0 && memcmp(sa->sids, conf->sids, conf->nb_sids * sizeof(uint16_t)))
		return false;
	mesp_conf_keyid(conf, h);
	same = CRYPTO_memcmp(h, sa->keyhash, sizeof(h)) == 0;
	OPENSSL_cleanse(h, sizeof(h));
	return same;
}

static struct tx_state *tx_state_new(const struct mesp_sa_conf *conf)
{
	struct tx_state *tx;

	tx = rte_zmalloc("mesp_tx", sizeof(*tx) + conf->nb_sids * sizeof(struct tx_sender),
			RTE_CACHE_LINE_SIZE);
	if (tx == NULL)
		return NULL;
	tx->refcnt = 1;
	tx->nb = conf->nb_sids;
	for (uint16_t i = 0; i < conf->nb_sids; i++)
		tx->s[i].sid_hi = (uint64_t)conf->sids[i] << (64 - conf->sid_bits);
	return tx;
}

static struct rx_state *rx_state_new(const struct mesp_sa_conf *conf)
{
	struct rx_state *rx;
	uint32_t slots = 1;
	size_t wsz;

	wsz = mesp_replay_size(conf->replay_window);
	if (wsz == 0 || conf->max_senders == 0)
		return NULL;
	while (slots < 2u * conf->max_senders)
		slots <<= 1;
	rx = rte_zmalloc("mesp_rx", sizeof(*rx), RTE_CACHE_LINE_SIZE);
	if (rx == NULL)
		return NULL;
	rx->slot = rte_zmalloc("mesp_rx_slot", slots * sizeof(struct rx_slot), RTE_CACHE_LINE_SIZE);
	rx->win = rte_zmalloc("mesp_rx_win", slots * wsz, RTE_CACHE_LINE_SIZE);
	if (rx->slot == NULL || rx->win == NULL) {
		rte_free(rx->slot);
		rte_free(rx->win);
		rte_free(rx);
		return NULL;
	}
	rx->refcnt = 1;
	rx->mask = slots - 1;
	rx->max_used = conf->max_senders;
	rx->win_size = (uint32_t)wsz;
	for (uint32_t i = 0; i < slots; i++)
		mesp_replay_init(rx_window(rx, i), conf->replay_window, conf->esn);
	return rx;
}

static void tx_state_put(struct tx_state *tx)
{
	if (tx != NULL && --tx->refcnt == 0)
		rte_free(tx);
}

static void rx_state_put(struct rx_state *rx)
{
	if (rx == NULL || --rx->refcnt != 0)
		return;
	rte_free(rx->slot);
	rte_free(rx->win);
	rte_free(rx);
}

static int check_conf(const struct mesp_sa_conf *conf)
{
	const struct mcrypto_suite_info *si = mcrypto_suite_info(conf->suite);

	if (si == NULL || conf->keymat == NULL || conf->keymat_len != mcrypto_keymat_len(si))
		return -EINVAL;
	/* no IV, so no sender ID on the wire: one sender per SA (doc/wire-format.md §3) */
	if (si->iv_len == 0 && conf->nb_sids > 1)
		return -EINVAL;
	if (conf->family != AF_INET && conf->family != AF_INET6)
		return -EINVAL;
	if ((conf->dir & (MESP_SA_OUT | MESP_SA_IN)) == 0 ||
			(conf->dir & ~(MESP_SA_OUT | MESP_SA_IN)) != 0)
		return -EINVAL;
	if (conf->sid_bits != 8 && conf->sid_bits != 12 && conf->sid_bits != 16)
		return -EINVAL;
	if ((conf->dir & MESP_SA_OUT) && conf->nb_sids == 0)
		return -EINVAL;
	if (conf->nb_sids != 0 && conf->sids == NULL)
		return -EINVAL;
	if (conf->nb_sids > MESP_MAX_TX_SIDS)
		return -EINVAL;
	for (uint16_t i = 0; i < conf->nb_sids; i++) {
		if (conf->sids[i] >> conf->sid_bits)
			return -EINVAL;
		/* one counter per SID: a SID in two slots would repeat IVs (RFC 6054 §3) */
		for (uint16_t j = 0; j < i; j++)
			if (conf->sids[j] == conf->sids[i])
				return -EINVAL;
	}
	if (conf->replay_window != 0 && mesp_replay_size(conf->replay_window) == 0)
		return -EINVAL;
	if ((conf->dir & MESP_SA_IN) && conf->max_senders == 0)
		return -EINVAL;
	if (conf->ttl != MESP_COPY && (conf->ttl < 1 || conf->ttl > 255))
		return -EINVAL;
	if (conf->dscp != MESP_COPY && (conf->dscp < 0 || conf->dscp > 63))
		return -EINVAL;
	return 0;
}

int mesp_sa_create(const struct mesp_sa_conf *conf, struct mesp_sa *share, struct mesp_sa **out)
{
	const struct mcrypto_suite_info *si;
	struct mesp_sa *sa;
	int rc;

	rc = check_conf(conf);
	if (rc != 0)
		return rc;
	if (share != NULL && !mesp_sa_same_keys(share, conf))
		return -EINVAL;
	si = mcrypto_suite_info(conf->suite);

	sa = rte_zmalloc("mesp_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);
	if (sa == NULL)
		return -ENOMEM;
	sa->spi = conf->spi;
	sa->spi_be = rte_cpu_to_be_32(conf->spi);
	sa->family = conf->family;
	sa->dir = conf->dir;
	sa->flags = (conf->dir & MESP_SA_OUT ? SAF_OUT : 0) | (conf->dir & MESP_SA_IN ? SAF_IN : 0) |
		(conf->esn ? SAF_ESN : 0) | (conf->replay_window != 0 ? SAF_REPLAY : 0) |
		(conf->family == AF_INET6 ? SAF_V6 : 0) |
		(conf->esn && si->iv_len != 0 ? SAF_ESN_IV : 0);
	sa->esp_len = (uint8_t)(ESP_HDR_LEN + si->iv_len);
	sa->iv_off = si->iv_len != 0 ? ESP_HDR_LEN : 0;
	sa->sid_mask = si->iv_len != 0 ? (uint16_t)((1u << conf->sid_bits) - 1) : 0;
	sa->sid_bits = conf->sid_bits;
	sa->hdr_len = conf->family == AF_INET6 ? 40 : 20;
	sa->ttl = conf->ttl;
	sa->dscp = conf->dscp;
	sa->stats_id = conf->stats_id;
	sa->replay_window = conf->replay_window;
	sa->suite = conf->suite;
	/*
	 * The sequence number doubles as the sender-specific IV part (RFC 6054 §3), so it must fit
	 * in 64 - sid_bits bits; without ESN the 32-bit counter must not cycle (RFC 4303 §3.3.3).
	 * Without an IV (NULL encryption) only ESP's own limit applies, less one so that the
	 * sender's "last + 1" cannot wrap to 0.
	 */
	sa->seq_limit = si->iv_len != 0 ? (UINT64_C(1) << (64 - conf->sid_bits)) - 1 :
		UINT64_MAX - 1;
	if (!conf->esn)
		sa->seq_limit = UINT32_MAX;
	sa->nb_sids = conf->nb_sids;
	if (conf->nb_sids != 0)
		memcpy(sa->sids, conf->sids, conf->nb_sids * sizeof(uint16_t));
	mesp_conf_keyid(conf, sa->keyhash);

	rc = mcrypto_session_create(conf->engine, conf->suite, conf->keymat, conf->keymat_len,
			&sa->cs_own);
	if (rc != 0)
		goto fail;
	sa->cs = sa->cs_own;
	sa->icv_len = sa->cs->icv_len;

	/*
	 * Sender counters follow the key even through a record that does not send: a later
	 * replace back to sending must continue them, never restart them (no IV twice).
	 */
	if (share != NULL && share->tx != NULL) {
		sa->tx = share->tx;
		sa->tx->refcnt++;
	} else if (conf->dir & MESP_SA_OUT) {
		sa->tx = tx_state_new(conf);
		if (sa->tx == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	sa->nb_tx = sa->tx != NULL ? sa->tx->nb : 0;
	if (sa->tx != NULL && share == NULL)
		for (uint16_t i = 0; i < sa->tx->nb; i++) {
			sa->tx->s[i].tl_kb = TL_NEVER;
			sa->tx->s[i].tl_t3 = TL_NEVER;
			sa->tx->s[i].tl_t4 = TL_NEVER;
		}
	/* TESLA state is never shared: a replace starts its own chains and store */
	if (conf->tesla != NULL) {
		rc = tl_create(conf, conf->sid_bits, &sa->tl);
		if (rc != 0)
			goto fail;
		sa->flags |= SAF_TESLA;
	}
	if ((conf->dir & MESP_SA_IN) && conf->replay_window != 0) {
		if (share != NULL && share->rx != NULL) {
			sa->rx = share->rx;
			sa->rx->refcnt++;
		} else {
			sa->rx = rx_state_new(conf);
			if (sa->rx == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
		}
	}
	*out = sa;
	return 0;
fail:
	mesp_sa_free(sa);
	return rc;
}

void mesp_sa_free(struct mesp_sa *sa)
{
	if (sa == NULL)
		return;
	tx_state_put(sa->tx);
	rx_state_put(sa->rx);
	tl_free(sa->tl);
	mcrypto_session_free(sa->cs_own);
	OPENSSL_cleanse(sa, sizeof(*sa));
	rte_free(sa);
}

void mesp_sa_get_info(const struct mesp_sa *sa, struct mesp_sa_info *info)
{
	memset(info, 0, sizeof(*info));
	info->spi = sa->spi;
	info->family = sa->family;
	info->dir = sa->dir;
	info->sid_bits = sa->sid_bits;
	info->esn = (sa->flags & SAF_ESN) != 0;
	info->suite = sa->suite;
	info->replay_window = sa->replay_window;
	info->stats_id = sa->stats_id;
	info->nb_sids = sa->nb_sids;
	info->seq_limit = sa->seq_limit;
	info->has_tx = sa->tx != NULL;
	if (sa->tx != NULL)
		for (uint16_t i = 0; i < sa->tx->nb; i++) {
			uint64_t s = __atomic_load_n(&sa->tx->s[i].seq, __ATOMIC_RELAXED);
			if (s > info->tx_seq_max)
				info->tx_seq_max = s;
		}
	if (sa->rx != NULL)
		info->nb_senders = (uint16_t)__atomic_load_n(&sa->rx->used, __ATOMIC_RELAXED);
}

int mesp_sa_set_tx_seq(struct mesp_sa *sa, uint16_t slot, uint64_t last_sent)
{
	if (sa->tx == NULL || slot >= sa->tx->nb || last_sent > sa->seq_limit)
		return -EINVAL;
	sa->tx->s[slot].seq = last_sent;
	return 0;
}

size_t mesp_sa_mem_size(const struct mesp_sa *sa)
{
	size_t n = sizeof(*sa) + mcrypto_session_size(sa->cs_own);

	if (sa->tx != NULL)
		n += (sizeof(*sa->tx) + sa->tx->nb * sizeof(struct tx_sender)) /
			(sa->tx->refcnt ? sa->tx->refcnt : 1);
	if (sa->rx != NULL)
		n += (sizeof(*sa->rx) + ((size_t)sa->rx->mask + 1) *
				(sizeof(struct rx_slot) + sa->rx->win_size)) /
			(sa->rx->refcnt ? sa->rx->refcnt : 1);
	return n + tl_mem_size(sa->tl);
}

uint32_t mesp_sa_overhead(const struct mesp_sa *sa, uint32_t len)
{
	uint32_t tl = (sa->flags & SAF_TESLA) ? TL_LEN_KEY : 0;
	uint32_t ct = RTE_ALIGN_CEIL(len + tl + ESP_TRAILER_MIN, 4u);

	return sa->hdr_len + sa->esp_len + (ct - len) + sa->icv_len;
}
