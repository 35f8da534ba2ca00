/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Batch rekey (RFC 2627 §5.4; the marking algorithm of Li, Yang, Gouda, Lam, "Batch rekeying
 * for secure group communications", WWW 2001, with the individual rekey as a batch of one).
 *
 * 1. Mark: walk up from every leaf whose member joined or left, stopping at a marked node.
 *    The staged leaves are sorted first; since parent_of() is monotone, the nodes marked at
 *    each depth then come in ascending id order, and a stable counting sort by depth gives the
 *    changed nodes deepest first, each depth ascending, without comparing ids.
 * 2. Count, deepest first: a changed leaf has a member from before the batch never (it left,
 *    or its member just joined); a changed inner node has one when a child that needs a wrap
 *    does. A child needs wrap(new K_p under K_c) when it has members and is unchanged, or is
 *    changed with a member from before the batch. Sizes are then known.
 * 3. Allocate everything and draw every new key; any failure so far unmarks and returns with
 *    the tree as it was.
 * 4. Apply (cannot fail): install new keys (handle + 1) and wipe emptied nodes, then emit the
 *    wraps depth by depth from the leaves' parents up, which is the order members need.
 *
 * Work is O(changed nodes x d) plus the sort of the staged leaves, whatever the group size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lkh_pvt.h"

/* Octets drawn from RAND_priv_bytes() per call (its length is an int). */
#define RAND_CHUNK (1u << 20)

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void sort_staged(struct lkh_tree *t)
{
	uint32_t i;

	/* lkh_join() fills from the left: the list is often sorted already */
	for (i = 1; i < t->nb_staged; i++)
		if (t->staged[i - 1] > t->staged[i])
			break;
	if (i < t->nb_staged)
		qsort(t->staged, t->nb_staged, sizeof(*t->staged), cmp_u32);
}

static int rand_keys(uint8_t *buf, size_t len)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < RAND_CHUNK ? len - off : RAND_CHUNK;
		if (RAND_priv_bytes(buf + off, (int)n) != 1)
			return -EIO;
	}
	return 0;
}

/* Whether child c of a changed node gets a wrap of its parent's new key. */
static bool needs_wrap(const struct lkh_node *c)
{
	if (c == NULL || c->count == 0)
		return false;
	return !(c->flags & NF_MARK) || (c->flags & NF_OLD);
}

/* Step 1: mark the changed nodes into *chg (visit order); cnt[k] gets how many at depth k. */
static int mark(struct lkh_tree *t, uint32_t **chg, uint32_t *nb, uint32_t *cnt)
{
	uint32_t i, id, k, cap = 0, n = 0;
	uint32_t *a = NULL, *p;

	for (i = 0; i < t->nb_staged; i++) {
		struct lkh_node *leaf = node_get(t, t->staged[i]);

		if (!(leaf->flags & (NF_JOINED | NF_LEFT)))
			continue;   /* a join cancelled by a leave */
		for (id = t->staged[i], k = t->h;; id = parent_of(t->d, id), k--) {
			struct lkh_node *nd = node_get(t, id);

			if (nd->flags & NF_MARK)
				break;
			if (n == cap) {
				cap = cap != 0 ? cap * 2 : 256;
				p = realloc(a, (size_t)cap * sizeof(*a));
				if (p == NULL) {
					*chg = a;
					*nb = n;
					return -ENOMEM;
				}
				a = p;
			}
			nd->flags |= NF_MARK;
			a[n++] = id;
			cnt[k]++;
			if (id == 1)
				break;
		}
	}
	*chg = a;
	*nb = n;
	return 0;
}

int lkh_commit(struct lkh_tree *t, struct lkh_rekey **out)
{
	uint32_t cnt[LKH_MAX_HEIGHT + 1] = { 0 };
	uint32_t start[LKH_MAX_HEIGHT + 2], fill[LKH_MAX_HEIGHT + 1];
	uint32_t *chg = NULL, *ord = NULL, *wfirst = NULL, *wend = NULL;
	uint32_t nchg = 0, nnew = 0, nempty = 0, nwraps = 0, i, j, k, c, wi, cur;
	uint8_t *keys = NULL;
	struct lkh_rekey *rk = NULL;
	int rc;

	if (t == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	if (t->restoring)
		return -EBUSY;
	sort_staged(t);
	rc = mark(t, &chg, &nchg, cnt);
	if (rc != 0)
		goto fail;

	/* depth h first, then h - 1, ...: start[k] is where depth k begins in ord */
	start[t->h] = 0;
	for (k = t->h; k > 0; k--)
		start[k - 1] = start[k] + cnt[k];
	start[t->h + 1] = nchg;   /* unused sentinel */
	if (nchg != 0) {
		ord = malloc((size_t)nchg * sizeof(*ord));
		if (ord == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	memcpy(fill, start, sizeof(fill));
	for (i = 0; i < nchg; i++) {
		k = depth_of(t->level_first, t->h, chg[i]);
		ord[fill[k]++] = chg[i];
	}

	/* step 2 */
	for (i = 0; i < nchg; i++) {
		struct lkh_node *p = node_get(t, ord[i]);

		if (ord[i] >= t->first_leaf) {
			/* a changed leaf never keeps a member from before the batch */
		} else if (p->count != 0) {
			uint32_t w = 0, c0 = first_child(t->d, ord[i]);

			for (c = c0; c < c0 + t->d; c++)
				w += needs_wrap(node_get(t, c));
			if (w != 0)
				p->flags |= NF_OLD;
			nwraps += w;
		}
		if (p->count == 0) {
			nempty++;
			continue;
		}
		if (p->handle == UINT32_MAX) {
			rc = -EOVERFLOW;
			goto fail;
		}
		nnew++;
	}

	/* step 3 */
	rk = calloc(1, sizeof(*rk));
	if (rk == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (nwraps != 0) {
		rk->wraps = malloc((size_t)nwraps * sizeof(*rk->wraps));
		rk->up = malloc((size_t)nwraps * sizeof(*rk->up));
		rk->terminal = malloc(nwraps);
		rk->st.wraps = nwraps;   /* for lkh_rekey_free() */
		if (rk->wraps == NULL || rk->up == NULL || rk->terminal == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (nchg != 0) {
		wfirst = malloc((size_t)nchg * sizeof(*wfirst));
		wend = malloc((size_t)nchg * sizeof(*wend));
		if (wfirst == NULL || wend == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (nnew != 0) {
		keys = malloc((size_t)nnew * LKH_KEY_LEN);
		if (keys == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = rand_keys(keys, (size_t)nnew * LKH_KEY_LEN);
		if (rc != 0)
			goto fail;
	}

	/* step 4: keys; the old ones are overwritten in place */
	for (i = 0, j = 0; i < nchg; i++) {
		struct lkh_node *p = node_get(t, ord[i]);

		if (p->count == 0) {
			OPENSSL_cleanse(p->key, LKH_KEY_LEN);
			p->flags &= ~NF_KEY;
			continue;
		}
		memcpy(p->key, keys + (size_t)j * LKH_KEY_LEN, LKH_KEY_LEN);
		j++;
		p->handle++;
		p->flags |= NF_KEY;
	}
	if (keys != NULL)
		OPENSSL_clear_free(keys, (size_t)nnew * LKH_KEY_LEN);
	keys = NULL;

	/*
	 * Wraps, parents at depth h-1 first. cur walks the changed nodes one depth down along the
	 * children (both ascend) to find the wraps a changed child is the target of: they need
	 * this wrap next (up[]).
	 */
	wi = 0;
	for (k = t->h; k-- > 0;) {
		cur = start[k + 1];
		for (i = start[k]; i < start[k] + cnt[k]; i++) {
			const struct lkh_node *p = node_get(t, ord[i]);
			uint32_t c0 = first_child(t->d, ord[i]);

			wfirst[i] = wi;
			for (c = c0; p->count != 0 && c < c0 + t->d; c++) {
				const struct lkh_node *cn = node_get(t, c);
				struct lkh_wrap *w;

				if (!needs_wrap(cn))
					continue;
				w = &rk->wraps[wi];
				w->kek_id = c;
				w->kek_handle = cn->handle;
				memcpy(w->kek, cn->key, LKH_KEY_LEN);
				w->id = ord[i];
				w->handle = p->handle;
				memcpy(w->key, p->key, LKH_KEY_LEN);
				rk->up[wi] = NO_WRAP;
				rk->terminal[wi] = !(cn->flags & NF_MARK);
				if (cn->flags & NF_MARK) {
					while (ord[cur] < c)
						cur++;
					for (j = wfirst[cur]; j < wend[cur]; j++)
						rk->up[j] = wi;
				}
				wi++;
			}
			wend[i] = wi;
		}
	}

	rk->d = t->d;
	rk->h = t->h;
	rk->cap = t->cap;
	rk->first_leaf = t->first_leaf;
	memcpy(rk->level_first, t->level_first, sizeof(rk->level_first));
	rk->st.joined = t->pend_join;
	rk->st.left = t->pend_leave;
	rk->st.rekeyed = nnew;
	rk->st.emptied = nempty;
	rk->st.wraps = nwraps;
	rk->st.members = lkh_members(t);

	for (i = 0; i < nchg; i++)
		node_get(t, ord[i])->flags &= ~(NF_MARK | NF_OLD);
	for (i = 0; i < t->nb_staged; i++)
		node_get(t, t->staged[i])->flags &= ~(NF_JOINED | NF_LEFT | NF_STAGED);
	t->nb_staged = 0;
	t->pend_join = 0;
	t->pend_leave = 0;
	t->used = true;
	free(t->last);
	t->last = ord;
	t->nb_last = nchg;
	free(chg);
	free(wfirst);
	free(wend);
	*out = rk;
	return 0;

fail:
	for (i = 0; i < nchg; i++)
		node_get(t, chg[i])->flags &= ~(NF_MARK | NF_OLD);
	if (keys != NULL)
		OPENSSL_clear_free(keys, (size_t)nnew * LKH_KEY_LEN);
	lkh_rekey_free(rk);
	free(chg);
	free(ord);
	free(wfirst);
	free(wend);
	return rc;
}

const struct lkh_wrap *lkh_rekey_wraps(const struct lkh_rekey *rk, uint32_t *nb)
{
	*nb = rk->st.wraps;
	return rk->wraps;
}

void lkh_rekey_stats(const struct lkh_rekey *rk, struct lkh_rekey_stats *st)
{
	*st = rk->st;
}

void lkh_rekey_free(struct lkh_rekey *rk)
{
	if (rk == NULL)
		return;
	if (rk->wraps != NULL)
		OPENSSL_clear_free(rk->wraps, (size_t)rk->st.wraps * sizeof(*rk->wraps));
	free(rk->up);
	free(rk->terminal);
	free(rk);
}
