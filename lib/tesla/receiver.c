/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiver side: disclosed-key verification with a bounded chain walk, derivation of lost keys,
 * and the chain switch through an authenticated commitment (doc/tesla.md, "Key chains").
 *
 * State per chain is one anchor, the newest verified key of that chain (or its commitment
 * F(K_0) at position -1 before any key verified). Three chains at most: the previous one (late
 * disclosures of its tail, RFC 5776 §3.1.2.3), the current one, and the next one once its
 * commitment was accepted. Besides the anchors a ring of TESLA_RX_CACHE recent verified keys
 * shortens derivations. Memory is fixed at creation whatever arrives.
 *
 * Nothing changes before a key has verified: a walk keeps its intermediate keys on the stack
 * and commits them only after the last F matched the anchor (RFC 4082 §3.5 step 3). A walk
 * longer than max_walk is refused before the first F (RFC 4082 §3.7 "reasonable misordering
 * test", with a fixed g).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tesla_pvt.h"

struct anchor {
	bool valid;
	uint32_t chain;
	int64_t pos;                    /* -1: key is the chain's commitment F(K_0) */
	uint8_t key[TESLA_KEY_LEN];
};

struct cached {
	bool valid;
	uint32_t idx;                   /* global index */
	uint8_t key[TESLA_KEY_LEN];
};

struct tesla_rx {
	struct tesla_params p;
	struct anchor prev;
	struct anchor cur;
	struct anchor next;             /* commitment of cur.chain + 1, once accepted */
	struct cached cache[TESLA_RX_CACHE];
	uint32_t cache_next;            /* ring slot of the next insert */
	struct tesla_prf prf;
};

/*
 * Keys computed by one walk, K_{j-1} downwards, before they are known to be genuine: at most
 * one less than the cache holds, so that with K_j they all fit.
 */
struct walk {
	uint32_t nb;
	uint8_t key[TESLA_RX_CACHE - 1][TESLA_KEY_LEN];
};

static struct anchor *find_anchor(struct tesla_rx *r, uint32_t c)
{
	if (r->cur.valid && r->cur.chain == c)
		return &r->cur;
	if (r->prev.valid && r->prev.chain == c)
		return &r->prev;
	if (r->next.valid && r->next.chain == c)
		return &r->next;
	return NULL;
}

static uint32_t index_of(const struct tesla_rx *r, uint32_t c, int64_t pos)
{
	return (uint32_t)((uint64_t)c * ((uint64_t)r->p.n + 1) + (uint64_t)pos);
}

static void cache_put(struct tesla_rx *r, uint32_t idx, const uint8_t key[TESLA_KEY_LEN])
{
	struct cached *e = &r->cache[r->cache_next];

	e->valid = true;
	e->idx = idx;
	memcpy(e->key, key, TESLA_KEY_LEN);
	r->cache_next = (r->cache_next + 1) % TESLA_RX_CACHE;
}

static void cache_drop_chain(struct tesla_rx *r, uint32_t c)
{
	for (uint32_t k = 0; k < TESLA_RX_CACHE; k++)
		if (r->cache[k].valid && tesla_chain_of(&r->p, r->cache[k].idx) == c)
			OPENSSL_cleanse(&r->cache[k], sizeof(r->cache[k]));
}

/* Apply F `steps` times to k in place; keep the first results in w (NULL: keep none). */
static int walk_down(struct tesla_rx *r, uint8_t k[TESLA_KEY_LEN], uint64_t steps,
		struct walk *w)
{
	int rc = 0;

	for (uint64_t s = 1; rc == 0 && s <= steps; s++) {
		rc = tesla_prf_f(&r->prf, k, k);
		if (w != NULL && s < steps && w->nb < TESLA_RX_CACHE - 1)
			memcpy(w->key[w->nb++], k, TESLA_KEY_LEN);
	}
	return rc;
}

/*
 * K_w for w at or below the anchor of its chain, from the nearest kept key at or above it.
 * -ENOENT: above the anchor; -ERANGE: more than max_walk steps away.
 */
static int derive(struct tesla_rx *r, const struct anchor *a, uint32_t w,
		uint8_t out[TESLA_KEY_LEN])
{
	int64_t pos = tesla_chain_pos(&r->p, w);
	uint32_t base = 0;
	const uint8_t *from = NULL;

	if (pos > a->pos)
		return -ENOENT;
	base = index_of(r, a->chain, a->pos);
	from = a->key;
	for (uint32_t k = 0; k < TESLA_RX_CACHE; k++) {
		const struct cached *e = &r->cache[k];

		if (e->valid && e->idx >= w && e->idx < base &&
		    tesla_chain_of(&r->p, e->idx) == a->chain) {
			base = e->idx;
			from = e->key;
		}
	}
	if (base - w > r->p.max_walk)
		return -ERANGE;
	memcpy(out, from, TESLA_KEY_LEN);
	return walk_down(r, out, base - w, NULL);
}

static enum tesla_key_verdict check_known(struct tesla_rx *r, const struct anchor *a,
		uint32_t j, const uint8_t key[TESLA_KEY_LEN])
{
	uint8_t want[TESLA_KEY_LEN];
	enum tesla_key_verdict v;
	int rc;

	rc = derive(r, a, j, want);
	if (rc == -ERANGE)
		v = TESLA_KEY_TOO_OLD;
	else if (rc == 0 && CRYPTO_memcmp(want, key, TESLA_KEY_LEN) == 0)
		v = TESLA_KEY_KNOWN;
	else
		v = TESLA_KEY_MISMATCH;
	OPENSSL_cleanse(want, sizeof(want));
	return v;
}

/* The next chain's first key verified: it becomes current, the one before last is dropped. */
static struct anchor *switch_chain(struct tesla_rx *r)
{
	if (r->prev.valid)
		cache_drop_chain(r, r->prev.chain);
	r->prev = r->cur;
	r->cur = r->next;
	OPENSSL_cleanse(&r->next, sizeof(r->next));
	return &r->cur;
}

/* Record K_j (position pos) and the walk's keys below it, lowest first so K_j is newest. */
static void commit_walk(struct tesla_rx *r, struct anchor *a, uint32_t j, int64_t pos,
		const uint8_t key[TESLA_KEY_LEN], const struct walk *w)
{
	for (uint32_t k = w->nb; k > 0; k--)
		cache_put(r, j - k, w->key[k - 1]);
	cache_put(r, j, key);
	a->pos = pos;
	memcpy(a->key, key, TESLA_KEY_LEN);
}

enum tesla_key_verdict tesla_rx_verify_key(struct tesla_rx *r, uint32_t j,
		const uint8_t key[TESLA_KEY_LEN], uint32_t *first_new)
{
	enum tesla_key_verdict v = TESLA_KEY_MISMATCH;
	uint8_t k[TESLA_KEY_LEN];
	struct anchor *a;
	struct walk w;
	uint64_t steps;
	uint32_t first;
	int64_t pos;

	if (r == NULL || key == NULL)
		return TESLA_KEY_MISMATCH;
	pos = tesla_chain_pos(&r->p, j);
	a = find_anchor(r, tesla_chain_of(&r->p, j));
	if (a == NULL)
		return TESLA_KEY_UNKNOWN_CHAIN;
	if (pos <= a->pos)
		return check_known(r, a, j, key);
	steps = (uint64_t)(pos - a->pos);
	if (steps > r->p.max_walk)
		return TESLA_KEY_WALK_TOO_LONG;
	w.nb = 0;
	memcpy(k, key, TESLA_KEY_LEN);
	if (walk_down(r, k, steps, &w) != 0 || CRYPTO_memcmp(k, a->key, TESLA_KEY_LEN) != 0)
		goto out;
	first = index_of(r, a->chain, a->pos + 1);
	if (a == &r->next)
		a = switch_chain(r);
	commit_walk(r, a, j, pos, key, &w);
	if (first_new != NULL)
		*first_new = first;
	v = TESLA_KEY_NEW;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(&w, sizeof(w));
	return v;
}

int tesla_rx_set_next_commitment(struct tesla_rx *r, uint32_t c,
		const uint8_t commitment[TESLA_KEY_LEN])
{
	uint32_t first;

	if (r == NULL || commitment == NULL)
		return -EINVAL;
	if (c != (uint64_t)r->cur.chain + 1 || tesla_chain_start(&r->p, c, &first) != 0)
		return -ERANGE;
	if (r->next.valid)
		return CRYPTO_memcmp(r->next.key, commitment, TESLA_KEY_LEN) == 0 ? 0 : -EEXIST;
	r->next.valid = true;
	r->next.chain = c;
	r->next.pos = -1;
	memcpy(r->next.key, commitment, TESLA_KEY_LEN);
	return 0;
}

int tesla_rx_key(struct tesla_rx *r, uint32_t w, uint8_t key[TESLA_KEY_LEN])
{
	struct anchor *a;

	if (r == NULL || key == NULL)
		return -EINVAL;
	a = find_anchor(r, tesla_chain_of(&r->p, w));
	if (a == NULL)
		return -ENOENT;
	return derive(r, a, w, key);
}

int tesla_rx_mac_key(struct tesla_rx *r, uint32_t w, uint8_t kprime[TESLA_KEY_LEN])
{
	uint8_t k[TESLA_KEY_LEN];
	int rc;

	if (kprime == NULL)
		return -EINVAL;
	rc = tesla_rx_key(r, w, k);
	if (rc == 0)
		rc = tesla_prf_fp(&r->prf, k, kprime);
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

int tesla_rx_newest(const struct tesla_rx *r, uint32_t *v)
{
	if (r == NULL || v == NULL)
		return -EINVAL;
	if (r->cur.pos < 0)
		return -ENOENT;
	*v = index_of(r, r->cur.chain, r->cur.pos);
	return 0;
}

uint32_t tesla_rx_chain(const struct tesla_rx *r)
{
	return r->cur.chain;
}

size_t tesla_rx_mem(const struct tesla_rx *r)
{
	(void)r;
	return sizeof(struct tesla_rx);
}

static int rx_new(const struct tesla_params *p, uint32_t c, int64_t pos,
		const uint8_t key[TESLA_KEY_LEN], struct tesla_rx **out)
{
	struct tesla_rx *r;
	uint32_t first;
	int rc;

	if (out == NULL || key == NULL || tesla_params_check(p, NULL) != 0)
		return -EINVAL;
	if (tesla_chain_start(p, c, &first) != 0)
		return -ERANGE;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	rc = tesla_prf_open(&r->prf);
	if (rc != 0) {
		free(r);
		return rc;
	}
	r->p = *p;
	r->cur.valid = true;
	r->cur.chain = c;
	r->cur.pos = pos;
	memcpy(r->cur.key, key, TESLA_KEY_LEN);
	if (pos >= 0)
		cache_put(r, first + (uint32_t)pos, key);
	*out = r;
	return 0;
}

int tesla_rx_create(const struct tesla_params *p, uint32_t c,
		const uint8_t commitment[TESLA_KEY_LEN], struct tesla_rx **out)
{
	return rx_new(p, c, -1, commitment, out);
}

int tesla_rx_create_key(const struct tesla_params *p, uint32_t i,
		const uint8_t key[TESLA_KEY_LEN], struct tesla_rx **out)
{
	if (p == NULL || tesla_params_check(p, NULL) != 0)
		return -EINVAL;
	return rx_new(p, tesla_chain_of(p, i), tesla_chain_pos(p, i), key, out);
}

void tesla_rx_free(struct tesla_rx *r)
{
	if (r == NULL)
		return;
	tesla_prf_close(&r->prf);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}
