/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sender key chains with sqrt checkpoints (doc/tesla.md, "Key chains").
 *
 * A chain of N+1 keys is generated once from a random K_N, walking F down to K_0 and keeping
 * every C-th key (C = ceil(sqrt(N+1))): checkpoint m is K_{mC}. Keys are handed out from
 * segments of C keys, [mC, mC+C-1], regenerated from the checkpoint above (K_{(m+1)C}, or K_N
 * for the top segment) in C-1 or C PRF calls. Two segments are cached because a sender asks
 * for K_i (MAC key) and K_{i-d} (disclosure) every interval, and the two straddle a segment
 * boundary for d intervals out of C. Walking indices upwards therefore costs about one PRF per
 * key on top of the N of generation, in O(sqrt N) memory.
 *
 * Chain switching (RFC 5776 §3.1.2.2): indices continue across chains, chain c starting at
 * c(N+1). The next chain is generated ahead (tesla_sender_prepare_next(), or on demand) so its
 * commitment F(K_0) can ride in the last n_newkcc intervals of the current one. When the first
 * index of the next chain is asked for, it becomes current and the old one shrinks to its last
 * d keys: those are still disclosed (K_{i-d}) during the first d intervals of the new chain and
 * include K_N, which RFC 5776 §3.1.2.3 re-sends for receivers that lost it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "tesla_pvt.h"

struct seg {
	bool valid;
	uint32_t m;                     /* holds positions mC .. min(mC + C - 1, N) */
	uint64_t used;                  /* LRU stamp */
	uint8_t (*key)[TESLA_KEY_LEN];  /* C keys, key[k] = K_{mC + k} */
};

struct chain {
	uint32_t id;                    /* c: the chain's first index is c(N+1) */
	uint8_t top[TESLA_KEY_LEN];     /* K_N */
	uint8_t commit[TESLA_KEY_LEN];  /* F(K_0) */
	uint8_t (*cp)[TESLA_KEY_LEN];   /* cp[m] = K_{mC}, m = 0 .. N / C */
};

struct tesla_sender {
	struct tesla_params p;
	uint32_t n_newkcc;
	uint32_t every;                 /* C */
	uint32_t nb_cp;                 /* N / C + 1 */
	bool has_next;
	bool has_tail;
	struct chain cur;
	struct chain next;
	uint32_t tail_chain;            /* the chain before cur, when has_tail */
	uint8_t (*tail)[TESLA_KEY_LEN]; /* tail[k] = K_{N+1-d+k} of tail_chain, k < d */
	struct seg seg[2];
	uint64_t stamp;
	struct tesla_prf prf;
	tesla_rng_fn rng;
	void *rng_arg;
};

static int rand_key(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

static void wipe_keys(uint8_t (*k)[TESLA_KEY_LEN], size_t nb)
{
	if (k != NULL)
		OPENSSL_cleanse(k, nb * TESLA_KEY_LEN);
}

static void chain_clear(struct tesla_sender *s, struct chain *ch)
{
	wipe_keys(ch->cp, s->nb_cp);
	free(ch->cp);
	OPENSSL_cleanse(ch, sizeof(*ch));
}

/* Generate chain `id` into ch: N PRF calls down from a fresh K_N, plus F(K_0). */
static int chain_gen(struct tesla_sender *s, struct chain *ch, uint32_t id)
{
	uint8_t k[TESLA_KEY_LEN];
	uint32_t pos;
	int rc;

	ch->id = id;
	ch->cp = calloc(s->nb_cp, TESLA_KEY_LEN);
	if (ch->cp == NULL)
		return -ENOMEM;
	rc = s->rng(ch->top, TESLA_KEY_LEN, s->rng_arg);
	if (rc != 0)
		goto fail;
	memcpy(k, ch->top, TESLA_KEY_LEN);
	for (pos = s->p.n;; pos--) {
		if (pos % s->every == 0)
			memcpy(ch->cp[pos / s->every], k, TESLA_KEY_LEN);
		if (pos == 0)
			break;
		rc = tesla_prf_f(&s->prf, k, k);
		if (rc != 0)
			goto fail;
	}
	rc = tesla_prf_f(&s->prf, k, ch->commit);
	OPENSSL_cleanse(k, sizeof(k));
	if (rc == 0)
		return 0;
fail:
	OPENSSL_cleanse(k, sizeof(k));
	chain_clear(s, ch);
	return rc;
}

/* Regenerate segment m of the current chain from the checkpoint (or K_N) above it. */
static int seg_fill(struct tesla_sender *s, struct seg *sg, uint32_t m)
{
	uint64_t lo = (uint64_t)m * s->every;
	uint64_t hi = lo + s->every - 1;
	uint64_t pos;
	int rc = 0;

	sg->valid = false;
	if (hi >= s->p.n) {
		hi = s->p.n;
		memcpy(sg->key[hi - lo], s->cur.top, TESLA_KEY_LEN);
	} else {
		rc = tesla_prf_f(&s->prf, s->cur.cp[m + 1], sg->key[hi - lo]);
	}
	for (pos = hi; rc == 0 && pos > lo; pos--)
		rc = tesla_prf_f(&s->prf, sg->key[pos - lo], sg->key[pos - lo - 1]);
	if (rc != 0) {
		wipe_keys(sg->key, s->every);
		return rc;
	}
	sg->m = m;
	sg->valid = true;
	return 0;
}

static int cur_key(struct tesla_sender *s, uint32_t pos, uint8_t *key)
{
	uint32_t m = pos / s->every;
	struct seg *sg = NULL;
	int rc;

	for (int k = 0; k < 2; k++)
		if (s->seg[k].valid && s->seg[k].m == m)
			sg = &s->seg[k];
	if (sg == NULL) {
		sg = s->seg[0].used <= s->seg[1].used ? &s->seg[0] : &s->seg[1];
		rc = seg_fill(s, sg, m);
		if (rc != 0)
			return rc;
	}
	sg->used = ++s->stamp;
	memcpy(key, sg->key[pos - (uint64_t)m * s->every], TESLA_KEY_LEN);
	return 0;
}

int tesla_sender_prepare_next(struct tesla_sender *s)
{
	uint32_t first;
	int rc;

	if (s == NULL)
		return -EINVAL;
	if (s->has_next)
		return 0;
	if (s->cur.id == UINT32_MAX || tesla_chain_start(&s->p, s->cur.id + 1, &first) != 0)
		return -ERANGE;
	rc = chain_gen(s, &s->next, s->cur.id + 1);
	if (rc == 0)
		s->has_next = true;
	return rc;
}

/* Make the next chain current; keep the last d keys of the old one. */
static int rotate(struct tesla_sender *s)
{
	uint32_t d = s->p.d;
	int rc = 0;

	memcpy(s->tail[d - 1], s->cur.top, TESLA_KEY_LEN);
	for (uint32_t k = d - 1; rc == 0 && k > 0; k--)
		rc = tesla_prf_f(&s->prf, s->tail[k], s->tail[k - 1]);
	if (rc != 0) {
		wipe_keys(s->tail, d);
		s->has_tail = false;
		return rc;
	}
	s->tail_chain = s->cur.id;
	s->has_tail = true;
	chain_clear(s, &s->cur);
	s->cur = s->next;
	memset(&s->next, 0, sizeof(s->next));
	s->has_next = false;
	for (int k = 0; k < 2; k++) {
		wipe_keys(s->seg[k].key, s->every);
		s->seg[k].valid = false;
		s->seg[k].used = 0;
	}
	return 0;
}

int tesla_sender_key(struct tesla_sender *s, uint32_t i, uint8_t key[TESLA_KEY_LEN])
{
	uint32_t c, pos;
	int rc;

	if (s == NULL || key == NULL)
		return -EINVAL;
	c = tesla_chain_of(&s->p, i);
	pos = tesla_chain_pos(&s->p, i);
	if (c == s->cur.id)
		return cur_key(s, pos, key);
	if (c > s->cur.id) {
		if (c - s->cur.id > 1)
			return -ERANGE;
		rc = tesla_sender_prepare_next(s);
		if (rc == 0)
			rc = rotate(s);
		return rc != 0 ? rc : cur_key(s, pos, key);
	}
	if (!s->has_tail || c != s->tail_chain || (uint64_t)pos + s->p.d < (uint64_t)s->p.n + 1)
		return -ENOENT;
	memcpy(key, s->tail[pos - (s->p.n + 1 - s->p.d)], TESLA_KEY_LEN);
	return 0;
}

int tesla_sender_mac_key(struct tesla_sender *s, uint32_t i, uint8_t kprime[TESLA_KEY_LEN])
{
	uint8_t k[TESLA_KEY_LEN];
	int rc;

	if (kprime == NULL)
		return -EINVAL;
	rc = tesla_sender_key(s, i, k);
	if (rc == 0)
		rc = tesla_prf_fp(&s->prf, k, kprime);
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

uint32_t tesla_sender_chain(const struct tesla_sender *s)
{
	return s->cur.id;
}

int tesla_sender_commitment(const struct tesla_sender *s, uint32_t c,
		uint8_t commitment[TESLA_KEY_LEN])
{
	const struct chain *ch;

	if (s == NULL || commitment == NULL)
		return -EINVAL;
	if (c == s->cur.id)
		ch = &s->cur;
	else if (s->has_next && c == s->next.id)
		ch = &s->next;
	else
		return -ENOENT;
	memcpy(commitment, ch->commit, TESLA_KEY_LEN);
	return 0;
}

/* RFC 5776 §3.1.2.2: the commitment goes out in the last n_tx_newkcc intervals of a chain. */
int tesla_sender_newkcc(struct tesla_sender *s, uint32_t i, uint8_t commitment[TESLA_KEY_LEN])
{
	int rc;

	if (s == NULL || commitment == NULL)
		return -EINVAL;
	if (tesla_chain_of(&s->p, i) != s->cur.id)
		return -ENOENT;
	if ((uint64_t)tesla_chain_pos(&s->p, i) + s->n_newkcc < (uint64_t)s->p.n + 1)
		return 0;
	rc = tesla_sender_prepare_next(s);
	if (rc != 0)
		return rc;
	memcpy(commitment, s->next.commit, TESLA_KEY_LEN);
	return 1;
}

size_t tesla_sender_mem(const struct tesla_sender *s)
{
	size_t cp = (size_t)s->nb_cp * TESLA_KEY_LEN;
	size_t mem = sizeof(*s) + cp + (size_t)s->p.d * TESLA_KEY_LEN;

	mem += 2 * (size_t)s->every * TESLA_KEY_LEN;
	if (s->has_next)
		mem += cp;
	return mem;
}

int tesla_sender_create_rng(const struct tesla_params *p, uint32_t first_index,
		uint32_t n_newkcc, tesla_rng_fn rng, void *rng_arg, struct tesla_sender **out)
{
	struct tesla_sender *s;
	int rc;

	if (out == NULL || rng == NULL || tesla_params_check(p, NULL) != 0)
		return -EINVAL;
	if (n_newkcc == 0 || (uint64_t)n_newkcc + p->d > (uint64_t)p->n + 1)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->p = *p;
	s->n_newkcc = n_newkcc;
	s->every = tesla_cp_every(p->n);
	s->nb_cp = p->n / s->every + 1;
	s->rng = rng;
	s->rng_arg = rng_arg;
	rc = tesla_prf_open(&s->prf);
	if (rc != 0)
		goto fail_free;
	rc = -ENOMEM;
	s->tail = calloc(p->d, TESLA_KEY_LEN);
	s->seg[0].key = calloc(s->every, TESLA_KEY_LEN);
	s->seg[1].key = calloc(s->every, TESLA_KEY_LEN);
	if (s->tail == NULL || s->seg[0].key == NULL || s->seg[1].key == NULL)
		goto fail_prf;
	rc = chain_gen(s, &s->cur, tesla_chain_of(p, first_index));
	if (rc != 0)
		goto fail_prf;
	*out = s;
	return 0;

fail_prf:
	free(s->seg[1].key);
	free(s->seg[0].key);
	free(s->tail);
	tesla_prf_close(&s->prf);
fail_free:
	free(s);
	return rc;
}

int tesla_sender_create(const struct tesla_params *p, uint32_t first_index, uint32_t n_newkcc,
		struct tesla_sender **out)
{
	return tesla_sender_create_rng(p, first_index, n_newkcc, rand_key, NULL, out);
}

/* The configured K_N for the first chain, then random ones for every later chain. */
static int given_key(uint8_t *buf, size_t len, void *arg)
{
	memcpy(buf, arg, len);
	return 0;
}

int tesla_sender_create_key(const struct tesla_params *p, uint32_t first_index,
		uint32_t n_newkcc, const uint8_t kn[TESLA_KEY_LEN], struct tesla_sender **out)
{
	int rc;

	if (kn == NULL)
		return -EINVAL;
	rc = tesla_sender_create_rng(p, first_index, n_newkcc, given_key, (void *)(uintptr_t)kn,
			out);
	if (rc == 0) {
		(*out)->rng = rand_key;
		(*out)->rng_arg = NULL;
	}
	return rc;
}

void tesla_sender_free(struct tesla_sender *s)
{
	if (s == NULL)
		return;
	chain_clear(s, &s->cur);
	if (s->has_next)
		chain_clear(s, &s->next);
	wipe_keys(s->tail, s->p.d);
	free(s->tail);
	for (int k = 0; k < 2; k++) {
		wipe_keys(s->seg[k].key, s->every);
		free(s->seg[k].key);
	}
	tesla_prf_close(&s->prf);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
