/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * User-oriented key assignment (Zhang, Lam, Lee, Yang, IEEE/ACM ToN 2003, §IV): cut a rekey
 * into parts such that each member needs exactly one, so that a lost datagram only costs its
 * own members a resend.
 *
 * The wraps form a forest through up[]: the members needing wrap w need up[w], up[up[w]], ...
 * to the root. A wrap whose wrapping node did not change ("terminal") is the deepest wrap of
 * every member below that node, and those members need exactly its chain; the terminals'
 * subtrees are disjoint leaf ranges that together hold every member from before the batch.
 * Taking the terminals in leaf order and adding each one's chain to the current part (only the
 * wraps the part lacks: part_of[] says which part took a wrap last, and a part holds whole
 * chains, so the walk stops at the first wrap it has), a new part is started when the chain
 * would not fit. Work: O(W log W) for W wraps, whatever the group size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkh_pvt.h"

struct term {
	uint32_t first;   /* first leaf index below the wrapping node */
	uint32_t last;    /* last leaf index, capped to the capacity */
	uint32_t w;
};

static int cmp_term(const void *a, const void *b)
{
	uint32_t x = ((const struct term *)a)->first, y = ((const struct term *)b)->first;

	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The parts being built. */
struct build {
	struct lkh_parts *p;
	uint32_t pcap;    /* room in first[] and last[]; off[] has one more */
	uint32_t icap;    /* room in idx[] */
	uint32_t ni;      /* wraps in idx[] */
};

static int grow_idx(struct build *b, uint32_t need)
{
	uint32_t ncap = b->icap;
	uint32_t *p;

	if (need <= b->icap)
		return 0;
	while (ncap < need)
		ncap = ncap != 0 ? ncap * 2 : 256;
	p = realloc(b->p->idx, (size_t)ncap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	b->p->idx = p;
	b->icap = ncap;
	return 0;
}

static int grow_u32(uint32_t **a, uint32_t n)
{
	uint32_t *p = realloc(*a, (size_t)n * sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	*a = p;
	return 0;
}

static int part_open(struct build *b, uint32_t first)
{
	struct lkh_parts *p = b->p;
	uint32_t ncap;

	if (p->nb == b->pcap) {
		ncap = b->pcap != 0 ? b->pcap * 2 : 16;
		if (grow_u32(&p->first, ncap) != 0 || grow_u32(&p->last, ncap) != 0 ||
				grow_u32(&p->off, ncap + 1) != 0)
			return -ENOMEM;
		b->pcap = ncap;
	}
	p->first[p->nb] = first;
	p->off[p->nb] = b->ni;
	p->nb++;
	return 0;
}

static void part_close(struct build *b)
{
	struct lkh_parts *p = b->p;
	uint32_t o = p->off[p->nb - 1];

	/* global order is children before parents: keep it inside the part */
	qsort(p->idx + o, b->ni - o, sizeof(*p->idx), cmp_u32);
	p->off[p->nb] = b->ni;
}

int lkh_rekey_parts(const struct lkh_rekey *rk, uint32_t max_wraps, struct lkh_parts **out)
{
	struct build b = { 0 };
	struct term *tm = NULL;
	uint32_t *part_of = NULL;
	uint32_t nw, nt = 0, i, j, x, need, cur = 0;
	int rc;

	if (rk == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	if (max_wraps < rk->h)
		return -EINVAL;
	nw = rk->st.wraps;
	b.p = calloc(1, sizeof(*b.p));
	if (b.p == NULL)
		return -ENOMEM;
	if (nw == 0) {
		*out = b.p;
		return 0;
	}
	tm = malloc((size_t)nw * sizeof(*tm));
	part_of = malloc((size_t)nw * sizeof(*part_of));
	if (tm == NULL || part_of == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < nw; i++) {
		uint32_t c, k, span;

		part_of[i] = NO_WRAP;
		if (!rk->terminal[i])
			continue;
		c = rk->wraps[i].kek_id;
		k = depth_of(rk->level_first, rk->h, c);
		for (span = 1; k < rk->h; k++, span *= rk->d)
			c = first_child(rk->d, c);
		tm[nt].first = c - rk->first_leaf;
		/* a terminal has members, so its first leaf is below the capacity */
		tm[nt].last = tm[nt].first + (span - 1 < rk->cap - 1 - tm[nt].first ?
				span - 1 : rk->cap - 1 - tm[nt].first);
		tm[nt].w = i;
		nt++;
	}
	qsort(tm, nt, sizeof(*tm), cmp_term);

	for (i = 0; i < nt; i++) {
		need = 0;
		for (x = tm[i].w; x != NO_WRAP && part_of[x] != cur; x = rk->up[x])
			need++;
		if (b.p->nb == 0 || b.ni - b.p->off[cur] + need > max_wraps) {
			if (b.p->nb != 0) {
				part_close(&b);
				cur++;
			}
			rc = part_open(&b, tm[i].first + 1);
			if (rc != 0)
				goto fail;
			/* a fresh part lacks the whole chain: at most h <= max_wraps wraps */
			for (need = 0, x = tm[i].w; x != NO_WRAP; x = rk->up[x])
				need++;
		}
		rc = grow_idx(&b, b.ni + need);
		if (rc != 0)
			goto fail;
		for (x = tm[i].w, j = 0; j < need; j++, x = rk->up[x]) {
			part_of[x] = cur;
			b.p->idx[b.ni++] = x;
		}
		b.p->last[cur] = tm[i].last + 1;
	}
	part_close(&b);
	free(tm);
	free(part_of);
	*out = b.p;
	return 0;
fail:
	free(tm);
	free(part_of);
	lkh_parts_free(b.p);
	return rc;
}

uint32_t lkh_parts_count(const struct lkh_parts *parts)
{
	return parts->nb;
}

int lkh_parts_get(const struct lkh_parts *parts, uint32_t i, struct lkh_part *out)
{
	if (parts == NULL || out == NULL || i >= parts->nb)
		return -EINVAL;
	out->first_member = parts->first[i];
	out->last_member = parts->last[i];
	out->nb_wraps = parts->off[i + 1] - parts->off[i];
	out->wraps = parts->idx + parts->off[i];
	return 0;
}

int lkh_parts_find(const struct lkh_parts *parts, uint32_t member_id, uint32_t *i)
{
	uint32_t lo = 0, hi, mid;

	if (parts == NULL || i == NULL)
		return -EINVAL;
	hi = parts->nb;
	/* the last part whose first Member ID is <= member_id */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (parts->first[mid] <= member_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || member_id > parts->last[lo - 1])
		return -ENOENT;
	*i = lo - 1;
	return 0;
}

void lkh_parts_free(struct lkh_parts *parts)
{
	if (parts == NULL)
		return;
	free(parts->first);
	free(parts->last);
	free(parts->off);
	free(parts->idx);
	free(parts);
}
