/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lkh: the d-ary logical key hierarchy of the key server (lib/lkh).
 *
 * The library is checked against a model kept here, independent of its code:
 * - an oracle of membership (before and after each batch, who left, who joined) that derives
 *   the changed nodes and the exact list of wraps a batch must produce, in order, from the
 *   rule "new K_p under K_c for each changed non-empty p and each child c holding a member
 *   from before the batch";
 * - simulated members, each holding the (id, handle, key) of its path, that read a rekey once
 *   in order and take every wrap whose wrapping (id, handle) they hold, checking the bytes;
 *   after each commit every remaining member must hold exactly lkh_path(), and must get there
 *   from its own part of a split alone;
 * - a coalition of every member ever removed, holding every key each of them ever held: it
 *   must never be able to open a later wrap nor hold a key of the tree (forward secrecy);
 * - joiners, given their path after the commit: no key of theirs existed before nor wrapped
 *   anything before (backward secrecy);
 * - every key ever made, to check that none repeats and that handles count up by one.
 * Scenarios run for degrees 2, 3, 4, 8 and several sizes: leaves, joins, mixed batches with
 * cancellations and re-used leaves, evicting half, emptying, filling; plus the RFC 4535
 * Appendix A.3.2 example wrap by wrap, the d*h-1 formula, the parts of that example, errors,
 * export and restore, and the memory of a small group in a large tree.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "lkh.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KL LKH_KEY_LEN
#define PATH_MAX_KEYS (LKH_MAX_HEIGHT + 1)

/*
 * Check's ck_assert_*() record every passing assertion through its IPC channel, a write(2)
 * each: the model's inner loops use these instead, which cost nothing when they pass.
 */
#define REQ(x) do { \
	if (!(x)) \
		ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
} while (0)
#define REQ_EQ(a, b) do { \
	unsigned long long a_ = (a), b_ = (b); \
	if (a_ != b_) \
		ck_abort_msg("%s:%d: %s == %s (%llu != %llu)", __FILE__, __LINE__, #a, #b, \
				a_, b_); \
} while (0)
#define REQ_MEM(a, b, n) REQ(memcmp((a), (b), (n)) == 0)

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

/* A set of non-zero 64-bit values (open addressing, grows at half load). */
struct set {
	uint64_t *v;
	size_t cap;
	size_t n;
};

static size_t set_slot(const struct set *s, uint64_t x)
{
	size_t i = (size_t)((x * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & (s->cap - 1);

	while (s->v[i] != 0 && s->v[i] != x)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static bool set_has(const struct set *s, uint64_t x)
{
	return s->cap != 0 && s->v[set_slot(s, x)] == x;
}

static void set_add(struct set *s, uint64_t x)
{
	if (2 * (s->n + 1) > s->cap) {
		struct set g = { calloc(s->cap ? s->cap * 2 : 1024, sizeof(uint64_t)),
			s->cap ? s->cap * 2 : 1024, 0 };

		REQ(g.v != NULL);
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				g.v[set_slot(&g, s->v[i])] = s->v[i];
		g.n = s->n;
		free(s->v);
		*s = g;
	}
	size_t i = set_slot(s, x);

	if (s->v[i] == 0) {
		s->v[i] = x;
		s->n++;
	}
}

static void set_free(struct set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static uint64_t idh(uint32_t id, uint32_t handle)
{
	return (uint64_t)id << 32 | handle;
}

/* 64 random bits of a key (never 0 in practice; 1 stands for 0). */
static uint64_t kbits(const uint8_t *k)
{
	uint64_t x;

	memcpy(&x, k, sizeof(x));
	return x != 0 ? x : 1;
}

static struct lkh_tree *mk(uint32_t d, uint32_t max)
{
	struct lkh_params p = { .degree = d, .max_members = max };
	struct lkh_tree *t = NULL;

	ck_assert_int_eq(lkh_create(&p, &t), 0);
	ck_assert_ptr_nonnull(t);
	return t;
}

static struct lkh_rekey *commit(struct lkh_tree *t)
{
	struct lkh_rekey *rk = NULL;

	ck_assert_int_eq(lkh_commit(t, &rk), 0);
	ck_assert_ptr_nonnull(rk);
	return rk;
}

static uint32_t nwraps(const struct lkh_rekey *rk)
{
	uint32_t n;

	lkh_rekey_wraps(rk, &n);
	return n;
}

/* ------------------------------------------------------------------ model */

struct sim {
	struct lkh_key path[PATH_MAX_KEYS];   /* path[k]: the node at depth k */
	uint64_t *hist;                       /* (id, handle) of every key it ever held */
	size_t nh;
	size_t hcap;
};

struct model {
	struct lkh_tree *t;
	uint32_t d, h, cap, last, first_leaf;
	uint32_t lf[LKH_MAX_HEIGHT + 2];      /* first id at each depth, computed here */
	uint8_t *in;                          /* committed membership, by Member ID */
	uint8_t *now;                         /* membership with staged changes */
	uint8_t *lefted;                      /* the member from before the batch left */
	uint8_t *joined;                      /* a member joined in the batch and is there */
	uint32_t *handle;                     /* node handles, by node id */
	uint8_t (*key)[KL];                   /* node keys (valid where has[]) */
	uint8_t *has;
	struct sim *sim;                      /* by Member ID */
	/* oracle scratch, by node id */
	uint32_t *cnt;
	uint8_t *old;
	uint8_t *chg;
	struct set ever;                      /* (id, handle) of every key the tree ever had */
	struct set bytes;                     /* kbits() of every key ever made */
	struct set coal;                      /* everything removed members ever held */
	struct set keks;                      /* (id, handle) of every wrapping key used */
	uint32_t commits;
};

static void sim_learn(struct sim *s, uint32_t k, uint32_t id, uint32_t handle, const uint8_t *key)
{
	s->path[k].id = id;
	s->path[k].handle = handle;
	memcpy(s->path[k].key, key, KL);
	if (s->nh == s->hcap) {
		s->hcap = s->hcap ? 2 * s->hcap : 32;
		s->hist = realloc(s->hist, s->hcap * sizeof(*s->hist));
		REQ(s->hist != NULL);
	}
	s->hist[s->nh++] = idh(id, handle);
}

static uint32_t depth(const struct model *m, uint32_t id)
{
	uint32_t k = m->h;

	while (id < m->lf[k])
		k--;
	return k;
}

/*
 * A member reads wraps once in order (all of them, or those of one part) and takes every wrap
 * under a key it holds: the wrapping node is on its path and the handle is the one it holds.
 */
static void member_read(const struct model *m, struct lkh_key *path, struct sim *s,
		const struct lkh_wrap *w, uint32_t nw, const uint32_t *idx)
{
	for (uint32_t i = 0; i < nw; i++) {
		const struct lkh_wrap *x = &w[idx != NULL ? idx[i] : i];
		uint32_t k = depth(m, x->kek_id);

		if (k == 0 || path[k].id != x->kek_id || path[k].handle != x->kek_handle)
			continue;
		REQ_MEM(path[k].key, x->kek, KL);
		REQ_EQ(x->id, path[k - 1].id);
		if (s != NULL) {
			sim_learn(s, k - 1, x->id, x->handle, x->key);
		} else {
			path[k - 1].handle = x->handle;
			memcpy(path[k - 1].key, x->key, KL);
		}
	}
}

static void path_eq(const struct model *m, uint32_t mid, const struct lkh_key *got)
{
	struct lkh_key want[PATH_MAX_KEYS];
	uint32_t n;

	REQ_EQ(lkh_path(m->t, mid, want, PATH_MAX_KEYS, &n), 0);
	REQ_EQ(n, m->h + 1);
	for (uint32_t k = 0; k <= m->h; k++) {
		REQ_EQ(got[k].id, want[k].id);
		REQ_EQ(got[k].handle, want[k].handle);
		REQ_MEM(got[k].key, want[k].key, KL);
	}
	lkh_keys_wipe(want, PATH_MAX_KEYS);
}

static void model_init(struct model *m, uint32_t d, uint32_t max)
{
	uint64_t pw = 1;

	memset(m, 0, sizeof(*m));
	m->t = mk(d, max);
	m->d = d;
	m->cap = max;
	m->h = lkh_height(m->t);
	for (uint32_t k = 0; k <= m->h + 1; k++, pw *= d)
		m->lf[k] = (uint32_t)((pw - 1) / (d - 1) + 1);
	m->last = m->lf[m->h + 1] - 1;
	m->first_leaf = m->lf[m->h];
	ck_assert_uint_eq(lkh_last_node(m->t), m->last);
	ck_assert_uint_eq(lkh_leaf_node(m->t, 1), m->first_leaf);
	m->in = calloc(max + 1, 1);
	m->now = calloc(max + 1, 1);
	m->lefted = calloc(max + 1, 1);
	m->joined = calloc(max + 1, 1);
	m->sim = calloc(max + 1, sizeof(*m->sim));
	m->handle = calloc(m->last + 1, sizeof(*m->handle));
	m->key = calloc(m->last + 1, KL);
	m->has = calloc(m->last + 1, 1);
	m->cnt = calloc(m->last + 1, sizeof(*m->cnt));
	m->old = calloc(m->last + 1, 1);
	m->chg = calloc(m->last + 1, 1);
	ck_assert(m->in && m->now && m->lefted && m->joined && m->sim && m->handle && m->key &&
			m->has && m->cnt && m->old && m->chg);
}

static void model_free(struct model *m)
{
	lkh_free(m->t);
	for (uint32_t i = 0; i <= m->cap; i++)
		free(m->sim[i].hist);
	free(m->in);
	free(m->now);
	free(m->lefted);
	free(m->joined);
	free(m->sim);
	free(m->handle);
	free(m->key);
	free(m->has);
	free(m->cnt);
	free(m->old);
	free(m->chg);
	set_free(&m->ever);
	set_free(&m->bytes);
	set_free(&m->coal);
	set_free(&m->keks);
}

static uint32_t lowest_free(const struct model *m)
{
	for (uint32_t i = 1; i <= m->cap; i++)
		if (!m->now[i])
			return i;
	return 0;
}

static void m_joined(struct model *m, uint32_t mid)
{
	m->now[mid] = 1;
	m->joined[mid] = 1;
	REQ(lkh_is_member(m->t, mid));
}

static uint32_t m_join(struct model *m)
{
	uint32_t want = lowest_free(m), mid = 0;

	if (want == 0) {
		REQ_EQ(lkh_join(m->t, &mid), -ENOSPC);
		return 0;
	}
	REQ_EQ(lkh_join(m->t, &mid), 0);
	REQ_EQ(mid, want);
	m_joined(m, mid);
	return mid;
}

static void m_join_at(struct model *m, uint32_t mid)
{
	if (m->now[mid]) {
		REQ_EQ(lkh_join_at(m->t, mid), -EEXIST);
		return;
	}
	REQ_EQ(lkh_join_at(m->t, mid), 0);
	m_joined(m, mid);
}

static void m_leave(struct model *m, uint32_t mid)
{
	if (!m->now[mid]) {
		REQ_EQ(lkh_leave(m->t, mid), -ENOENT);
		return;
	}
	REQ_EQ(lkh_leave(m->t, mid), 0);
	m->now[mid] = 0;
	if (m->joined[mid])
		m->joined[mid] = 0;
	else
		m->lefted[mid] = 1;
	REQ(!lkh_is_member(m->t, mid));
}

/* The oracle: changed nodes, members after, members from before after, by node. */
static void oracle(struct model *m)
{
	memset(m->cnt, 0, (m->last + 1) * sizeof(*m->cnt));
	memset(m->old, 0, m->last + 1);
	memset(m->chg, 0, m->last + 1);
	for (uint32_t mid = 1; mid <= m->cap; mid++) {
		bool old = m->in[mid] && !m->lefted[mid];
		bool chg = m->lefted[mid] || m->joined[mid];

		for (uint32_t id = m->first_leaf + mid - 1;; id = (id - 2) / m->d + 1) {
			m->cnt[id] += m->now[mid];
			m->old[id] |= old;
			m->chg[id] |= chg;
			if (id == 1)
				break;
		}
	}
}

struct changed_ctx {
	struct model *m;
	uint32_t n;
};

static int on_changed(const struct lkh_node_info *ni, void *arg)
{
	struct changed_ctx *c = arg;
	struct model *m = c->m;

	REQ(ni->id >= 1 && ni->id <= m->last);
	REQ(m->chg[ni->id]);
	REQ_EQ(ni->count, m->cnt[ni->id]);
	if (m->cnt[ni->id] == 0) {
		/* emptied: key wiped, handle kept */
		REQ(ni->key == NULL);
		REQ_EQ(ni->handle, m->handle[ni->id]);
		m->has[ni->id] = 0;
	} else {
		REQ(ni->key != NULL);
		REQ_EQ(ni->handle, m->handle[ni->id] + 1);
		REQ(!set_has(&m->bytes, kbits(ni->key)));
		REQ(!set_has(&m->ever, idh(ni->id, ni->handle)));
		set_add(&m->bytes, kbits(ni->key));
		set_add(&m->ever, idh(ni->id, ni->handle));
		m->handle[ni->id] = ni->handle;
		memcpy(m->key[ni->id], ni->key, KL);
		m->has[ni->id] = 1;
	}
	c->n++;
	return 0;
}

/* Parts: structure, and each member from before gets its new path from its part alone. */
static void check_parts(struct model *m, const struct lkh_rekey *rk, uint32_t max,
		const struct lkh_key (*before)[PATH_MAX_KEYS])
{
	struct lkh_parts *parts = NULL;
	const struct lkh_wrap *w;
	struct lkh_part p, q;
	uint32_t nw, np, i, j;

	w = lkh_rekey_wraps(rk, &nw);
	REQ_EQ(lkh_rekey_parts(rk, max, &parts), 0);
	np = lkh_parts_count(parts);
	REQ(nw == 0 ? np == 0 : np >= 1);
	for (i = 0; i < np; i++) {
		REQ_EQ(lkh_parts_get(parts, i, &p), 0);
		REQ(p.nb_wraps >= 1);
		REQ(p.nb_wraps <= max);
		REQ(p.first_member >= 1);
		REQ(p.first_member <= p.last_member);
		REQ(p.last_member <= m->cap);
		for (j = 0; j < p.nb_wraps; j++) {
			REQ(p.wraps[j] < nw);
			if (j > 0)
				REQ(p.wraps[j - 1] < p.wraps[j]);
		}
		if (i > 0) {
			REQ_EQ(lkh_parts_get(parts, i - 1, &q), 0);
			REQ(q.last_member < p.first_member);
		}
	}
	REQ_EQ(lkh_parts_get(parts, np, &p), -EINVAL);
	for (uint32_t mid = 1; mid <= m->cap; mid++) {
		struct lkh_key path[PATH_MAX_KEYS];

		if (!(m->in[mid] && !m->lefted[mid]))
			continue;
		/* every member from before needs a part (the root changed) and finds one */
		REQ_EQ(lkh_parts_find(parts, mid, &i), 0);
		REQ_EQ(lkh_parts_get(parts, i, &p), 0);
		REQ(p.first_member <= mid && mid <= p.last_member);
		memcpy(path, before[mid], sizeof(path));
		member_read(m, path, NULL, w, p.nb_wraps, p.wraps);
		path_eq(m, mid, path);
		lkh_keys_wipe(path, PATH_MAX_KEYS);
	}
	lkh_parts_free(parts);
}

/* Commit the staged batch and check everything the model can. */
static struct lkh_rekey_stats m_commit(struct model *m)
{
	struct lkh_key (*before)[PATH_MAX_KEYS];
	struct lkh_rekey_stats st;
	const struct lkh_wrap *w;
	struct lkh_rekey *rk;
	uint32_t nw, i, k, mid, c, want_rekeyed = 0, want_emptied = 0, want_j = 0, want_l = 0;
	uint32_t want_n = 0;

	oracle(m);
	for (mid = 1; mid <= m->cap; mid++) {
		want_j += m->joined[mid];
		want_l += m->lefted[mid];
	}
	REQ_EQ(lkh_pending(m->t), want_j + want_l);
	for (uint32_t id = 1; id <= m->last; id++) {
		if (!m->chg[id])
			continue;
		if (m->cnt[id] != 0)
			want_rekeyed++;
		else
			want_emptied++;
	}
	rk = commit(m->t);
	m->commits++;
	lkh_rekey_stats(rk, &st);
	w = lkh_rekey_wraps(rk, &nw);
	REQ_EQ(st.wraps, nw);
	REQ_EQ(st.joined, want_j);
	REQ_EQ(st.left, want_l);
	REQ_EQ(st.rekeyed, want_rekeyed);
	REQ_EQ(st.emptied, want_emptied);
	REQ_EQ(st.members, m->cnt[1]);
	REQ_EQ(lkh_members(m->t), m->cnt[1]);
	REQ_EQ(lkh_pending(m->t), 0);

	/* the exact wraps, in order: parents deepest first, then by id, children by id */
	i = 0;
	for (k = m->h; k-- > 0;) {
		for (uint32_t p = m->lf[k]; p < m->lf[k + 1]; p++) {
			if (!m->chg[p] || m->cnt[p] == 0)
				continue;
			for (c = m->d * (p - 1) + 2; c < m->d * (p - 1) + 2 + m->d; c++) {
				if (m->cnt[c] == 0 || (m->chg[c] && !m->old[c]))
					continue;
				REQ(i < nw);
				REQ_EQ(w[i].id, p);
				REQ_EQ(w[i].kek_id, c);
				i++;
			}
		}
	}
	REQ_EQ(i, nw);

	/* backward secrecy: joiners' keys are new and never wrapped anything */
	for (mid = 1; mid <= m->cap; mid++) {
		struct lkh_key path[PATH_MAX_KEYS];
		uint32_t n;

		if (!m->joined[mid])
			continue;
		REQ_EQ(lkh_path(m->t, mid, path, PATH_MAX_KEYS, &n), 0);
		for (k = 0; k <= m->h; k++) {
			REQ(!set_has(&m->ever, idh(path[k].id, path[k].handle)));
			REQ(!set_has(&m->keks, idh(path[k].id, path[k].handle)));
			REQ(!set_has(&m->bytes, kbits(path[k].key)));
		}
		lkh_keys_wipe(path, PATH_MAX_KEYS);
	}

	/* fresh keys, handles + 1, exactly the changed nodes */
	struct changed_ctx cc = { m, 0 };

	REQ_EQ(lkh_foreach_changed(m->t, on_changed, &cc), 0);
	REQ_EQ(cc.n, want_rekeyed + want_emptied);
	for (i = 0; i < nw; i++) {
		REQ(m->has[w[i].id] && m->has[w[i].kek_id]);
		REQ_EQ(w[i].handle, m->handle[w[i].id]);
		REQ_EQ(w[i].kek_handle, m->handle[w[i].kek_id]);
		REQ_MEM(w[i].key, m->key[w[i].id], KL);
		REQ_MEM(w[i].kek, m->key[w[i].kek_id], KL);
	}

	/* forward secrecy: the coalition of everyone removed, including this batch's */
	for (mid = 1; mid <= m->cap; mid++) {
		if (!m->lefted[mid])
			continue;
		for (size_t j = 0; j < m->sim[mid].nh; j++)
			set_add(&m->coal, m->sim[mid].hist[j]);
		m->sim[mid].nh = 0;
	}
	for (i = 0; i < nw; i++)
		if (set_has(&m->coal, idh(w[i].kek_id, w[i].kek_handle)))
			ck_abort_msg("a removed member opens wrap %u", i);
	for (uint32_t id = 1; id <= m->last; id++)
		if (m->has[id])
			REQ(!set_has(&m->coal, idh(id, m->handle[id])));

	/* members from before: from their part alone, then from the whole rekey */
	before = calloc(m->cap + 1, sizeof(*before));
	REQ(before != NULL);
	for (mid = 1; mid <= m->cap; mid++)
		if (m->in[mid] && !m->lefted[mid])
			memcpy(before[mid], m->sim[mid].path, sizeof(before[mid]));
	if (nw != 0) {
		check_parts(m, rk, m->h, (const struct lkh_key (*)[PATH_MAX_KEYS])before);
		check_parts(m, rk, m->h + 2, (const struct lkh_key (*)[PATH_MAX_KEYS])before);
		check_parts(m, rk, 4 * m->h + 8, (const struct lkh_key (*)[PATH_MAX_KEYS])before);
	}
	memset(before, 0, (m->cap + 1) * sizeof(*before));
	free(before);
	for (mid = 1; mid <= m->cap; mid++) {
		if (!(m->in[mid] && !m->lefted[mid]))
			continue;
		member_read(m, m->sim[mid].path, &m->sim[mid], w, nw, NULL);
		path_eq(m, mid, m->sim[mid].path);
	}
	for (i = 0; i < nw; i++)
		set_add(&m->keks, idh(w[i].kek_id, w[i].kek_handle));

	/* joiners take their path by unicast */
	for (mid = 1; mid <= m->cap; mid++) {
		struct lkh_key path[PATH_MAX_KEYS];
		uint32_t n;

		if (m->joined[mid]) {
			REQ_EQ(lkh_path(m->t, mid, path, PATH_MAX_KEYS, &n), 0);
			m->sim[mid].nh = 0;
			for (k = 0; k <= m->h; k++)
				sim_learn(&m->sim[mid], k, path[k].id, path[k].handle,
						path[k].key);
			lkh_keys_wipe(path, PATH_MAX_KEYS);
		}
		if (!m->now[mid])
			memset(m->sim[mid].path, 0, sizeof(m->sim[mid].path));
		m->in[mid] = m->now[mid];
		want_n += m->now[mid];
	}
	REQ_EQ(want_n, st.members);
	memset(m->lefted, 0, m->cap + 1);
	memset(m->joined, 0, m->cap + 1);
	lkh_rekey_free(rk);
	return st;
}

static uint32_t random_member(struct model *m, uint64_t *rs)
{
	uint32_t n = 0, pick;

	for (uint32_t i = 1; i <= m->cap; i++)
		n += m->now[i];
	if (n == 0)
		return 0;
	pick = rng_below(rs, n);
	for (uint32_t i = 1; i <= m->cap; i++)
		if (m->now[i] && pick-- == 0)
			return i;
	return 0;
}

static uint32_t random_free(struct model *m, uint64_t *rs)
{
	uint32_t n = 0, pick;

	for (uint32_t i = 1; i <= m->cap; i++)
		n += !m->now[i];
	if (n == 0)
		return 0;
	pick = rng_below(rs, n);
	for (uint32_t i = 1; i <= m->cap; i++)
		if (!m->now[i] && pick-- == 0)
			return i;
	return 0;
}

/* ------------------------------------------------------------------ scenarios */

static const struct {
	uint32_t d;
	uint32_t max;
} cfg[] = {
	{ 2, 1 }, { 2, 64 }, { 2, 100 }, { 3, 2 }, { 3, 100 }, { 4, 5 }, { 4, 256 },
	{ 4, 1500 }, { 8, 300 }, { 8, 512 },
};

/* Joins, leaves, mixed batches, eviction of half, emptying and filling, each checked. */
START_TEST(scenario)
{
	struct lkh_rekey_stats st;
	struct model m;
	uint64_t rs = 0x1c4b + (uint64_t)_i;
	uint32_t i, n, mid, root_handle;

	model_init(&m, cfg[_i].d, cfg[_i].max);

	/* a first batch of joins: nobody from before, so no wrap at all */
	n = m.cap * 3 / 5 + 1;
	for (i = 0; i < n; i++)
		m_join(&m);
	st = m_commit(&m);
	ck_assert_uint_eq(st.wraps, 0);
	ck_assert_uint_eq(st.joined, n);

	/* one leave */
	mid = random_member(&m, &rs);
	m_leave(&m, mid);
	m_commit(&m);

	/* one join (the leaf just freed is the lowest free one) */
	ck_assert_uint_eq(m_join(&m), mid);
	m_commit(&m);

	/* one join at a chosen Member ID */
	mid = random_free(&m, &rs);
	if (mid != 0) {
		m_join_at(&m, mid);
		m_commit(&m);
	}

	/* a mixed batch: leaves, joins, cancelled joins, a leaf left and taken again */
	for (i = 0; i < m.cap / 3 + 2; i++) {
		switch (rng_below(&rs, 6)) {
		case 0:
		case 1:
			mid = random_member(&m, &rs);
			if (mid != 0)
				m_leave(&m, mid);
			break;
		case 2:
			m_join(&m);
			break;
		case 3:
			mid = random_free(&m, &rs);
			if (mid != 0)
				m_join_at(&m, mid);
			break;
		case 4:
			mid = m_join(&m);
			if (mid != 0)
				m_leave(&m, mid);
			break;
		default:
			mid = random_member(&m, &rs);
			if (mid != 0 && !m.joined[mid]) {
				m_leave(&m, mid);
				m_join_at(&m, mid);
			}
			break;
		}
	}
	mid = random_member(&m, &rs);
	if (mid != 0)
		m_join_at(&m, mid);   /* -EEXIST */
	mid = random_free(&m, &rs);
	if (mid != 0)
		m_leave(&m, mid);     /* -ENOENT */
	m_commit(&m);

	/* evict every other member */
	for (i = 1, n = 0; i <= m.cap; i++)
		if (m.now[i] && n++ % 2 == 0)
			m_leave(&m, i);
	m_commit(&m);

	/* nothing staged: an empty rekey, no key changes */
	root_handle = m.handle[1];
	st = m_commit(&m);
	ck_assert_uint_eq(st.wraps + st.rekeyed + st.emptied + st.joined + st.left, 0);
	ck_assert_uint_eq(m.handle[1], root_handle);

	/* a join cancelled by its leave is nothing either */
	mid = m_join(&m);
	if (mid != 0) {
		m_leave(&m, mid);
		st = m_commit(&m);
		ck_assert_uint_eq(st.wraps + st.rekeyed + st.emptied, 0);
	}

	/* fill the tree completely */
	while (m_join(&m) != 0)
		;
	ck_assert_uint_eq(lkh_members(m.t), m.cap);
	m_commit(&m);

	/* a few small random batches */
	for (int b = 0; b < 4; b++) {
		for (i = 0; i < 3; i++) {
			mid = random_member(&m, &rs);
			if (mid != 0)
				m_leave(&m, mid);
		}
		mid = random_free(&m, &rs);
		if (mid != 0)
			m_join_at(&m, mid);
		m_commit(&m);
	}

	/* empty the group: nothing to send, every key wiped */
	for (i = 1; i <= m.cap; i++)
		if (m.now[i])
			m_leave(&m, i);
	st = m_commit(&m);
	ck_assert_uint_eq(st.wraps, 0);
	ck_assert_uint_eq(st.members, 0);
	for (i = 1; i <= m.last; i++)
		ck_assert(!m.has[i]);

	/* and again: the handles go on from where they were */
	for (i = 0; i < (m.cap + 1) / 2; i++)
		m_join(&m);
	m_commit(&m);
	mid = random_member(&m, &rs);
	m_leave(&m, mid);
	m_commit(&m);
	model_free(&m);
}
END_TEST

static const struct {
	uint32_t d;
	uint32_t max;
} full_cfg[] = {
	{ 2, 8 }, { 2, 128 }, { 3, 27 }, { 4, 64 }, { 4, 256 }, { 8, 512 },
};

/* In a full tree a single leave, and the join that fills it again, cost d * h - 1 wraps. */
START_TEST(single_leave_join_full)
{
	struct lkh_rekey_stats st;
	struct model m;
	uint64_t rs = 77 + (uint64_t)_i;
	uint32_t i, mid, dh;

	model_init(&m, full_cfg[_i].d, full_cfg[_i].max);
	dh = m.d * m.h;
	for (i = 0; i < m.cap; i++)
		m_join(&m);
	m_commit(&m);
	for (int r = 0; r < 3; r++) {
		mid = random_member(&m, &rs);
		m_leave(&m, mid);
		st = m_commit(&m);
		ck_assert_uint_eq(st.wraps, dh - 1);
		ck_assert_uint_eq(st.rekeyed, m.h);
		ck_assert_uint_eq(st.emptied, 1);
		ck_assert_uint_eq(st.left, 1);
		ck_assert_uint_eq(m_join(&m), mid);
		st = m_commit(&m);
		ck_assert_uint_eq(st.wraps, dh - 1);
		ck_assert_uint_eq(st.rekeyed, m.h + 1);
		ck_assert_uint_eq(st.emptied, 0);
		ck_assert_uint_eq(st.joined, 1);
	}
	model_free(&m);
}
END_TEST

/* RFC 4535 Appendix A.3.2: member 6 (leaf 13) leaves a binary tree of 8 members. */
START_TEST(rfc4535_leave)
{
	static const struct {
		uint32_t kek_id, kek_handle, id, handle;
	} want[] = {
		{ 12, 1, 6, 2 },   /* 6' under member 5's leaf */
		{ 6, 2, 3, 2 },    /* 3' under 6' */
		{ 7, 1, 3, 2 },    /* 3' under 7 */
		{ 2, 1, 1, 2 },    /* the root under 2 */
		{ 3, 2, 1, 2 },    /* the root under 3' */
	};
	/* user-oriented parts for max 3, 4 and 5 wraps: Member ID ranges and wrap indices */
	static const struct {
		uint32_t max, nb;
		struct {
			uint32_t first, last, n, w[5];
		} p[3];
	} parts_want[] = {
		{ 3, 3, { { 1, 4, 1, { 3 } }, { 5, 5, 3, { 0, 1, 4 } }, { 7, 8, 2, { 2, 4 } } } },
		{ 4, 2, { { 1, 5, 4, { 0, 1, 3, 4 } }, { 7, 8, 2, { 2, 4 } } } },
		{ 5, 1, { { 1, 8, 5, { 0, 1, 2, 3, 4 } } } },
	};
	struct lkh_tree *t = mk(2, 8);
	struct lkh_rekey_stats st;
	struct lkh_parts *parts;
	const struct lkh_wrap *w;
	struct lkh_rekey *rk;
	struct lkh_part p;
	uint32_t i, j, nw, mid, idx;

	ck_assert_uint_eq(lkh_height(t), 3);
	ck_assert_uint_eq(lkh_last_node(t), 15);
	for (i = 1; i <= 8; i++) {
		ck_assert_int_eq(lkh_join(t, &mid), 0);
		ck_assert_uint_eq(mid, i);
		ck_assert_uint_eq(lkh_leaf_node(t, mid), 7 + i);
	}
	rk = commit(t);
	ck_assert_uint_eq(nwraps(rk), 0);
	lkh_rekey_free(rk);

	ck_assert_int_eq(lkh_leave(t, 6), 0);
	rk = commit(t);
	lkh_rekey_stats(rk, &st);
	ck_assert_uint_eq(st.left, 1);
	ck_assert_uint_eq(st.rekeyed, 3);
	ck_assert_uint_eq(st.emptied, 1);
	ck_assert_uint_eq(st.members, 7);
	w = lkh_rekey_wraps(rk, &nw);
	ck_assert_uint_eq(nw, ARRAY_LEN(want));
	for (i = 0; i < nw; i++) {
		ck_assert_uint_eq(w[i].kek_id, want[i].kek_id);
		ck_assert_uint_eq(w[i].kek_handle, want[i].kek_handle);
		ck_assert_uint_eq(w[i].id, want[i].id);
		ck_assert_uint_eq(w[i].handle, want[i].handle);
	}
	ck_assert_mem_eq(w[1].kek, w[0].key, KL);   /* 6' wraps 3' */
	ck_assert_mem_eq(w[4].kek, w[1].key, KL);   /* 3' wraps the root */
	ck_assert_mem_eq(w[3].key, w[4].key, KL);

	ck_assert_int_eq(lkh_rekey_parts(rk, 2, &parts), -EINVAL);   /* h = 3 */
	for (i = 0; i < ARRAY_LEN(parts_want); i++) {
		ck_assert_int_eq(lkh_rekey_parts(rk, parts_want[i].max, &parts), 0);
		ck_assert_uint_eq(lkh_parts_count(parts), parts_want[i].nb);
		for (j = 0; j < parts_want[i].nb; j++) {
			ck_assert_int_eq(lkh_parts_get(parts, j, &p), 0);
			ck_assert_uint_eq(p.first_member, parts_want[i].p[j].first);
			ck_assert_uint_eq(p.last_member, parts_want[i].p[j].last);
			ck_assert_uint_eq(p.nb_wraps, parts_want[i].p[j].n);
			ck_assert_mem_eq(p.wraps, parts_want[i].p[j].w, p.nb_wraps * 4);
		}
		ck_assert_int_eq(lkh_parts_find(parts, 0, &idx), -ENOENT);
		ck_assert_int_eq(lkh_parts_find(parts, 9, &idx), -ENOENT);
		ck_assert_int_eq(lkh_parts_find(parts, 8, &idx), 0);
		ck_assert_uint_eq(idx, parts_want[i].nb - 1);
		ck_assert_int_eq(lkh_parts_find(parts, 6, &idx),
				parts_want[i].max == 5 ? 0 : -ENOENT);
		lkh_parts_free(parts);
	}
	lkh_rekey_free(rk);
	lkh_free(t);
}
END_TEST

/* ------------------------------------------------------------------ shape and errors */

static const struct {
	uint32_t d, max, h, last;
} shapes[] = {
	{ 2, 1, 1, 3 }, { 2, 2, 1, 3 }, { 2, 3, 2, 7 }, { 2, 8, 3, 15 }, { 2, 9, 4, 31 },
	{ 0, 1000, 5, 1365 }, { 3, 10, 3, 40 }, { 4, 1000000, 10, 1398101 },
	{ 8, 1000000, 7, 2396745 }, { 16, 1u << 24, 6, 17895697 },
	{ 2, 1u << 24, 24, (1u << 25) - 1 }, { 2, 1000000, 20, (1u << 21) - 1 },
	{ 15, 1u << 24, 7, 183063616 },
};

START_TEST(shape)
{
	struct lkh_tree *t = mk(shapes[_i].d, shapes[_i].max);

	ck_assert_uint_eq(lkh_degree(t), shapes[_i].d ? shapes[_i].d : LKH_DEGREE_DEFAULT);
	ck_assert_uint_eq(lkh_height(t), shapes[_i].h);
	ck_assert_uint_eq(lkh_last_node(t), shapes[_i].last);
	ck_assert_uint_eq(lkh_capacity(t), shapes[_i].max);
	ck_assert_uint_eq(lkh_members(t), 0);
	ck_assert_uint_eq(lkh_leaf_node(t, 0), 0);
	ck_assert_uint_eq(lkh_leaf_node(t, shapes[_i].max + 1), 0);
	/* the last Member ID sits d^h - max leaves before the last node */
	ck_assert_uint_le(lkh_leaf_node(t, shapes[_i].max), shapes[_i].last);
	/* an empty tree of any size costs its page table and the root's page: < 3 MiB */
	ck_assert_uint_lt(lkh_memory(t), 3u << 20);
	lkh_free(t);
}
END_TEST

START_TEST(create_errors)
{
	static const struct lkh_params bad[] = {
		{ 1, 10 }, { 17, 10 }, { 2, 0 }, { 4, LKH_MAX_MEMBERS + 1 }, { 16, UINT32_MAX },
	};
	struct lkh_params ok = { 4, 10 };
	struct lkh_tree *t = (struct lkh_tree *)&ok;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		ck_assert_int_eq(lkh_create(&bad[i], &t), -EINVAL);
		ck_assert_ptr_null(t);
	}
	ck_assert_int_eq(lkh_create(NULL, &t), -EINVAL);
	ck_assert_int_eq(lkh_create(&ok, NULL), -EINVAL);
	lkh_free(NULL);
	lkh_rekey_free(NULL);
	lkh_parts_free(NULL);
	lkh_keys_wipe(NULL, 3);
}
END_TEST

static int count_nodes(const struct lkh_node_info *ni, void *arg)
{
	(void)ni;
	(*(uint32_t *)arg)++;
	return 0;
}

START_TEST(membership_errors)
{
	struct lkh_tree *t = mk(3, 4);
	struct lkh_key path[PATH_MAX_KEYS];
	struct lkh_rekey *rk = NULL;
	struct lkh_parts *parts = NULL;
	uint32_t mid, n;

	ck_assert_int_eq(lkh_join(NULL, &mid), -EINVAL);
	ck_assert_int_eq(lkh_join(t, NULL), -EINVAL);
	ck_assert_int_eq(lkh_join_at(t, 0), -EINVAL);
	ck_assert_int_eq(lkh_join_at(t, 5), -EINVAL);   /* capacity 4 of 9 leaves */
	ck_assert_int_eq(lkh_leave(t, 0), -EINVAL);
	ck_assert_int_eq(lkh_leave(t, 5), -EINVAL);
	ck_assert_int_eq(lkh_leave(t, 1), -ENOENT);
	ck_assert_int_eq(lkh_commit(t, NULL), -EINVAL);
	ck_assert_int_eq(lkh_commit(NULL, &rk), -EINVAL);

	ck_assert_int_eq(lkh_join_at(t, 3), 0);
	ck_assert_int_eq(lkh_join_at(t, 3), -EEXIST);     /* staged */
	ck_assert_int_eq(lkh_join(t, &mid), 0);
	ck_assert_uint_eq(mid, 1);
	ck_assert_int_eq(lkh_path(t, 1, path, PATH_MAX_KEYS, &n), -EAGAIN);
	ck_assert_int_eq(lkh_path(t, 2, path, PATH_MAX_KEYS, &n), -ENOENT);
	ck_assert_int_eq(lkh_path(t, 0, path, PATH_MAX_KEYS, &n), -EINVAL);
	ck_assert_int_eq(lkh_foreach_node(t, NULL, NULL), -EINVAL);
	ck_assert_uint_eq(lkh_pending(t), 2);
	rk = commit(t);
	ck_assert_int_eq(lkh_rekey_parts(rk, 1, &parts), -EINVAL);
	ck_assert_int_eq(lkh_rekey_parts(rk, 2, NULL), -EINVAL);
	ck_assert_int_eq(lkh_rekey_parts(rk, 2, &parts), 0);      /* no wrap, no part */
	ck_assert_uint_eq(lkh_parts_count(parts), 0);
	ck_assert_int_eq(lkh_parts_find(parts, 1, &n), -ENOENT);
	lkh_parts_free(parts);
	lkh_rekey_free(rk);
	ck_assert_int_eq(lkh_join_at(t, 3), -EEXIST);     /* committed */
	ck_assert_int_eq(lkh_path(t, 1, path, 2, &n), -ENOSPC);
	ck_assert_int_eq(lkh_path(t, 1, path, 3, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(path[0].id, 1);
	ck_assert_uint_eq(path[1].id, 2);
	ck_assert_uint_eq(path[2].id, lkh_leaf_node(t, 1));
	ck_assert_uint_eq(path[2].handle, 1);
	lkh_keys_wipe(path, PATH_MAX_KEYS);

	ck_assert_int_eq(lkh_join(t, &mid), 0);
	ck_assert_uint_eq(mid, 2);
	ck_assert_int_eq(lkh_join(t, &mid), 0);
	ck_assert_uint_eq(mid, 4);
	ck_assert_int_eq(lkh_join(t, &mid), -ENOSPC);
	ck_assert_int_eq(lkh_leave(t, 4), 0);             /* cancels the join */
	ck_assert_int_eq(lkh_leave(t, 4), -ENOENT);
	ck_assert_int_eq(lkh_leave(t, 3), 0);
	ck_assert_int_eq(lkh_leave(t, 3), -ENOENT);
	ck_assert(!lkh_is_member(t, 3));
	ck_assert_int_eq(lkh_path(t, 3, path, PATH_MAX_KEYS, &n), -ENOENT);
	ck_assert_int_eq(lkh_foreach_node(t, count_nodes, &n), -EBUSY);
	ck_assert_int_eq(lkh_foreach_changed(t, count_nodes, &n), -EBUSY);
	ck_assert_uint_eq(lkh_pending(t), 2);
	lkh_free(t);
}
END_TEST

/* ------------------------------------------------------------------ persistence */

struct rec {
	uint32_t id, handle, count;
	bool has;
	uint8_t key[KL];
};

struct export {
	struct rec *r;
	uint32_t n;
	uint32_t cap;
};

static int on_export(const struct lkh_node_info *ni, void *arg)
{
	struct export *e = arg;
	struct rec *r;

	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 64;
		e->r = realloc(e->r, e->cap * sizeof(*e->r));
		REQ(e->r != NULL);
	}
	r = &e->r[e->n++];
	memset(r, 0, sizeof(*r));
	r->id = ni->id;
	r->handle = ni->handle;
	r->count = ni->count;
	r->has = ni->key != NULL;
	if (r->has)
		memcpy(r->key, ni->key, KL);
	if (e->n > 1)
		REQ(e->r[e->n - 2].id < r->id);
	return 0;
}

static void export_free(struct export *e)
{
	if (e->r != NULL)
		memset(e->r, 0, e->cap * sizeof(*e->r));
	free(e->r);
	memset(e, 0, sizeof(*e));
}

static void export_eq(const struct export *a, const struct export *b)
{
	REQ_EQ(a->n, b->n);
	for (uint32_t i = 0; i < a->n; i++) {
		REQ_EQ(a->r[i].id, b->r[i].id);
		REQ_EQ(a->r[i].handle, b->r[i].handle);
		REQ_EQ(a->r[i].count, b->r[i].count);
		REQ_EQ(a->r[i].has, b->r[i].has);
		REQ_MEM(a->r[i].key, b->r[i].key, KL);
	}
}

static const struct rec *export_find(const struct export *e, uint32_t id)
{
	for (uint32_t i = 0; i < e->n; i++)
		if (e->r[i].id == id)
			return &e->r[i];
	return NULL;
}

static const uint32_t restore_degrees[] = { 2, 3, 4, 8 };

/* Export after commits, rebuild, compare; then the same batch on both trees. */
START_TEST(restore)
{
	struct export e = { 0 }, e2 = { 0 };
	struct lkh_rekey_stats s1, s2;
	struct lkh_rekey *r1, *r2;
	const struct lkh_wrap *w1, *w2;
	struct lkh_tree *t2;
	struct model m;
	uint64_t rs = 99 + (uint64_t)_i;
	uint32_t i, n1, n2, mid, mid2;

	model_init(&m, restore_degrees[_i], 60);
	for (i = 0; i < 45; i++)
		m_join(&m);
	m_commit(&m);
	for (i = 0; i < 10; i++)
		m_leave(&m, random_member(&m, &rs));
	for (i = 0; i < 3; i++)
		m_join_at(&m, random_free(&m, &rs));
	m_commit(&m);
	for (i = 1; i <= 60; i += 7)
		if (m.now[i])
			m_leave(&m, i);
	m_commit(&m);

	ck_assert_int_eq(lkh_foreach_node(m.t, on_export, &e), 0);
	t2 = mk(m.d, m.cap);
	for (i = e.n; i-- > 0;)
		ck_assert_int_eq(lkh_restore_node(t2, e.r[i].id, e.r[i].handle,
				e.r[i].has ? e.r[i].key : NULL), 0);
	ck_assert_int_eq(lkh_restore_node(t2, e.r[0].id, e.r[0].handle, NULL), -EEXIST);
	ck_assert_int_eq(lkh_restore_finish(t2), 0);
	ck_assert_int_eq(lkh_restore_finish(t2), 0);
	ck_assert_int_eq(lkh_restore_node(t2, e.r[0].id, e.r[0].handle, NULL), -EBUSY);
	ck_assert_int_eq(lkh_foreach_node(t2, on_export, &e2), 0);
	export_eq(&e, &e2);
	ck_assert_uint_eq(lkh_members(t2), lkh_members(m.t));
	for (mid = 1; mid <= m.cap; mid++) {
		struct lkh_key p[PATH_MAX_KEYS];
		uint32_t n;

		ck_assert_int_eq(lkh_is_member(t2, mid), m.now[mid]);
		if (!m.now[mid])
			continue;
		ck_assert_int_eq(lkh_path(t2, mid, p, PATH_MAX_KEYS, &n), 0);
		path_eq(&m, mid, p);
		lkh_keys_wipe(p, PATH_MAX_KEYS);
	}

	/* the same batch on both */
	for (i = 0; i < 6; i++) {
		mid = random_member(&m, &rs);
		m.now[mid] = 0;
		ck_assert_int_eq(lkh_leave(m.t, mid), 0);
		ck_assert_int_eq(lkh_leave(t2, mid), 0);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(lkh_join(m.t, &mid), 0);
		ck_assert_int_eq(lkh_join(t2, &mid2), 0);
		ck_assert_uint_eq(mid, mid2);
		m.now[mid] = 1;
	}
	mid = random_free(&m, &rs);
	ck_assert_int_eq(lkh_join_at(m.t, mid), 0);
	ck_assert_int_eq(lkh_join_at(t2, mid), 0);
	ck_assert_int_eq(lkh_commit(m.t, &r1), 0);
	ck_assert_int_eq(lkh_commit(t2, &r2), 0);
	lkh_rekey_stats(r1, &s1);
	lkh_rekey_stats(r2, &s2);
	ck_assert_mem_eq(&s1, &s2, sizeof(s1));
	w1 = lkh_rekey_wraps(r1, &n1);
	w2 = lkh_rekey_wraps(r2, &n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_uint_gt(n1, 0);
	for (i = 0; i < n1; i++) {
		const struct rec *old = export_find(&e, w1[i].kek_id);

		ck_assert_uint_eq(w1[i].kek_id, w2[i].kek_id);
		ck_assert_uint_eq(w1[i].kek_handle, w2[i].kek_handle);
		ck_assert_uint_eq(w1[i].id, w2[i].id);
		ck_assert_uint_eq(w1[i].handle, w2[i].handle);
		ck_assert_ptr_nonnull(old);
		if (old->handle == w1[i].kek_handle) {
			/* an unchanged wrapping key: the one both trees had */
			ck_assert_mem_eq(w1[i].kek, old->key, KL);
			ck_assert_mem_eq(w2[i].kek, old->key, KL);
		}
	}
	lkh_rekey_free(r1);
	lkh_rekey_free(r2);
	export_free(&e);
	export_free(&e2);
	ck_assert_int_eq(lkh_foreach_node(m.t, on_export, &e), 0);
	ck_assert_int_eq(lkh_foreach_node(t2, on_export, &e2), 0);
	ck_assert_uint_eq(e.n, e2.n);
	for (i = 0; i < e.n; i++) {
		ck_assert_uint_eq(e.r[i].id, e2.r[i].id);
		ck_assert_uint_eq(e.r[i].handle, e2.r[i].handle);
		ck_assert_uint_eq(e.r[i].count, e2.r[i].count);
	}
	export_free(&e);
	export_free(&e2);
	lkh_free(t2);
	model_free(&m);
}
END_TEST

START_TEST(restore_errors)
{
	static const uint8_t k[KL] = { 1 };
	struct lkh_tree *t = mk(2, 3);      /* h = 2: nodes 1..7, leaves 4..7, Member IDs 1..3 */
	struct lkh_key p[PATH_MAX_KEYS];
	struct lkh_rekey *rk;
	uint32_t mid, n;

	ck_assert_int_eq(lkh_restore_node(NULL, 1, 1, k), -EINVAL);
	ck_assert_int_eq(lkh_restore_node(t, 0, 1, k), -EINVAL);
	ck_assert_int_eq(lkh_restore_node(t, 8, 1, k), -EINVAL);
	ck_assert_int_eq(lkh_restore_node(t, 1, 0, k), -EINVAL);
	ck_assert_int_eq(lkh_restore_node(t, 7, 1, k), -EINVAL);   /* Member ID 4 > 3 */
	ck_assert_int_eq(lkh_restore_finish(t), 0);                 /* nothing restored */
	ck_assert_int_eq(lkh_restore_finish(NULL), -EINVAL);

	/* a member whose parent has no key */
	ck_assert_int_eq(lkh_restore_node(t, 4, 3, k), 0);
	ck_assert_int_eq(lkh_restore_node(t, 1, 5, k), 0);
	ck_assert(lkh_is_member(t, 1));
	ck_assert_int_eq(lkh_join(t, &mid), -EBUSY);
	ck_assert_int_eq(lkh_join_at(t, 2), -EBUSY);
	ck_assert_int_eq(lkh_leave(t, 1), -EBUSY);
	ck_assert_int_eq(lkh_commit(t, &rk), -EBUSY);
	ck_assert_int_eq(lkh_path(t, 1, p, PATH_MAX_KEYS, &n), -EBUSY);
	ck_assert_int_eq(lkh_foreach_node(t, count_nodes, &n), -EBUSY);
	ck_assert_int_eq(lkh_restore_finish(t), -EBADMSG);
	ck_assert_int_eq(lkh_restore_node(t, 2, 2, k), 0);
	ck_assert_int_eq(lkh_restore_finish(t), 0);
	ck_assert_int_eq(lkh_path(t, 1, p, PATH_MAX_KEYS, &n), 0);
	ck_assert_uint_eq(p[0].handle, 5);
	ck_assert_uint_eq(p[1].handle, 2);
	ck_assert_uint_eq(p[2].handle, 3);
	lkh_free(t);

	/* an inner key with nobody below */
	t = mk(2, 3);
	ck_assert_int_eq(lkh_restore_node(t, 3, 1, k), 0);
	ck_assert_int_eq(lkh_restore_finish(t), -EBADMSG);
	lkh_free(t);

	/* a used tree cannot be restored into */
	t = mk(2, 3);
	ck_assert_int_eq(lkh_join(t, &mid), 0);
	ck_assert_int_eq(lkh_restore_node(t, 1, 1, k), -EBUSY);
	lkh_free(t);

	/* emptied nodes keep their handles through a restore */
	t = mk(2, 3);
	ck_assert_int_eq(lkh_restore_node(t, 1, 9, NULL), 0);
	ck_assert_int_eq(lkh_restore_node(t, 2, 4, NULL), 0);
	ck_assert_int_eq(lkh_restore_node(t, 4, 4, NULL), 0);
	ck_assert_int_eq(lkh_restore_finish(t), 0);
	ck_assert_uint_eq(lkh_members(t), 0);
	ck_assert_int_eq(lkh_join(t, &mid), 0);
	ck_assert_uint_eq(mid, 1);
	rk = commit(t);
	lkh_rekey_free(rk);
	ck_assert_int_eq(lkh_path(t, 1, p, PATH_MAX_KEYS, &n), 0);
	ck_assert_uint_eq(p[0].handle, 10);
	ck_assert_uint_eq(p[1].handle, 5);
	ck_assert_uint_eq(p[2].handle, 5);
	lkh_keys_wipe(p, PATH_MAX_KEYS);
	lkh_free(t);
}
END_TEST

/* A commit that cannot complete (a handle would wrap) changes nothing. */
START_TEST(commit_overflow)
{
	static const uint8_t k1[KL] = { 0x11 }, k2[KL] = { 0x22 };
	struct lkh_tree *t = mk(2, 2);
	struct lkh_key p[PATH_MAX_KEYS];
	struct lkh_rekey *rk = NULL;
	uint32_t mid, n;

	ck_assert_int_eq(lkh_restore_node(t, 1, UINT32_MAX, k1), 0);
	ck_assert_int_eq(lkh_restore_node(t, 2, 1, k2), 0);
	ck_assert_int_eq(lkh_restore_finish(t), 0);
	ck_assert_int_eq(lkh_join(t, &mid), 0);
	ck_assert_uint_eq(mid, 2);
	ck_assert_int_eq(lkh_commit(t, &rk), -EOVERFLOW);
	ck_assert_ptr_null(rk);
	ck_assert_uint_eq(lkh_pending(t), 1);
	ck_assert(lkh_is_member(t, 2));
	ck_assert_int_eq(lkh_path(t, 2, p, PATH_MAX_KEYS, &n), -EAGAIN);
	ck_assert_int_eq(lkh_path(t, 1, p, PATH_MAX_KEYS, &n), 0);
	ck_assert_uint_eq(p[0].handle, UINT32_MAX);
	ck_assert_mem_eq(p[0].key, k1, KL);
	ck_assert_mem_eq(p[1].key, k2, KL);
	ck_assert_int_eq(lkh_leave(t, 2), 0);
	rk = commit(t);
	ck_assert_uint_eq(nwraps(rk), 0);
	lkh_rekey_free(rk);
	ck_assert_int_eq(lkh_path(t, 1, p, PATH_MAX_KEYS, &n), 0);
	ck_assert_mem_eq(p[0].key, k1, KL);
	lkh_keys_wipe(p, PATH_MAX_KEYS);
	lkh_free(t);
}
END_TEST

/* ------------------------------------------------------------------ memory */

START_TEST(memory)
{
	struct lkh_tree *t = mk(2, LKH_MAX_MEMBERS);
	struct lkh_rekey *rk;
	size_t empty = lkh_memory(t);
	uint32_t mid;

	/* ten members in a tree for 2^24: the page table and one page per depth or so */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(lkh_join(t, &mid), 0);
	rk = commit(t);
	lkh_rekey_free(rk);
	ck_assert_uint_lt(lkh_memory(t), empty + 25 * 512 * 44 + 4096);
	ck_assert_uint_lt(lkh_memory(t), 2u << 20);
	lkh_free(t);

	/* 5000 members of a tree for 2^20: about 4/3 nodes each, plus partial pages */
	t = mk(4, 1u << 20);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(lkh_join(t, &mid), 0);
	rk = commit(t);
	ck_assert_uint_eq(nwraps(rk), 0);
	lkh_rekey_free(rk);
	ck_assert_uint_lt(lkh_memory(t), 5000 * 2 * 44 + 11 * 512 * 44 + (64u << 10));
	lkh_free(t);
}
END_TEST

Suite *lkh_suite(void);

Suite *lkh_suite(void)
{
	Suite *s = suite_create("lkh");
	TCase *tc;

	tc = tcase_create("shape");
	tcase_add_loop_test(tc, shape, 0, (int)ARRAY_LEN(shapes));
	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, membership_errors);
	tcase_add_test(tc, memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("rekey");
	tcase_add_test(tc, rfc4535_leave);
	tcase_add_loop_test(tc, single_leave_join_full, 0, (int)ARRAY_LEN(full_cfg));
	tcase_add_loop_test(tc, scenario, 0, (int)ARRAY_LEN(cfg));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("restore");
	tcase_add_loop_test(tc, restore, 0, (int)ARRAY_LEN(restore_degrees));
	tcase_add_test(tc, restore_errors);
	tcase_add_test(tc, commit_overflow);
	suite_add_tcase(s, tc);
	return s;
}
