/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tree shape, paged node storage, staging of joins and leaves, member paths, and the export /
 * restore pair the key server's store uses. The batch commit is lkh_commit.c, the
 * user-oriented split lkh_split.c.
 *
 * Staging touches counts and flags only, never keys: until lkh_commit() every key is the one
 * the last commit left, which is what lkh_path() hands out and what the iterators export.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lkh_pvt.h"

/* ------------------------------------------------------------------ shape and storage */

int lkh_create(const struct lkh_params *p, struct lkh_tree **out)
{
	struct lkh_tree *t = NULL;
	uint64_t leaves, pow, total;
	uint32_t d, h, k;
	int rc;

	if (p == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	d = p->degree != 0 ? p->degree : LKH_DEGREE_DEFAULT;
	if (d < LKH_DEGREE_MIN || d > LKH_DEGREE_MAX || p->max_members == 0 ||
			p->max_members > LKH_MAX_MEMBERS)
		return -EINVAL;
	/* smallest h >= 1 with d^h >= max_members; d^h < d * max_members <= 2^28 */
	for (h = 1, leaves = d; leaves < p->max_members; h++)
		leaves *= d;
	total = (leaves * d - 1) / (d - 1);
	if (h > LKH_MAX_HEIGHT || total > UINT32_MAX - LKH_PAGE_NODES)
		return -EINVAL;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->d = d;
	t->h = h;
	t->cap = p->max_members;
	t->last_id = (uint32_t)total;
	for (k = 0, pow = 1; k <= h; k++, pow *= d)
		t->level_first[k] = (uint32_t)((pow - 1) / (d - 1) + 1);
	t->level_first[h + 1] = t->last_id + 1;
	for (k = 0, pow = leaves; k <= h; k++, pow /= d)
		t->full[k] = (uint32_t)pow;
	t->first_leaf = t->level_first[h];
	t->nb_pages = t->last_id / LKH_PAGE_NODES + 1;
	t->pages = calloc(t->nb_pages, sizeof(*t->pages));
	if (t->pages == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* the root's page: lkh_members() and friends read the root without checking */
	t->pages[0] = calloc(LKH_PAGE_NODES, sizeof(struct lkh_node));
	if (t->pages[0] == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	t->pages_used = 1;
	*out = t;
	return 0;
fail:
	lkh_free(t);
	return rc;
}

void lkh_free(struct lkh_tree *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	if (t->pages != NULL) {
		for (i = 0; i < t->nb_pages; i++) {
			if (t->pages[i] == NULL)
				continue;
			OPENSSL_cleanse(t->pages[i], LKH_PAGE_NODES * sizeof(struct lkh_node));
			free(t->pages[i]);
		}
		free(t->pages);
	}
	free(t->staged);
	free(t->last);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

static int page_alloc(struct lkh_tree *t, uint32_t id)
{
	uint32_t pi = id / LKH_PAGE_NODES;

	if (t->pages[pi] != NULL)
		return 0;
	t->pages[pi] = calloc(LKH_PAGE_NODES, sizeof(struct lkh_node));
	if (t->pages[pi] == NULL)
		return -ENOMEM;
	t->pages_used++;
	return 0;
}

/* Make sure every node from id up to the root has its page. */
static int path_alloc(struct lkh_tree *t, uint32_t id)
{
	int rc;

	for (;;) {
		rc = page_alloc(t, id);
		if (rc != 0 || id == 1)
			return rc;
		id = parent_of(t->d, id);
	}
}

static void path_count(struct lkh_tree *t, uint32_t leaf, bool up)
{
	uint32_t id = leaf;

	for (;;) {
		struct lkh_node *n = node_get(t, id);

		if (up)
			n->count++;
		else
			n->count--;
		if (id == 1)
			return;
		id = parent_of(t->d, id);
	}
}

uint32_t lkh_degree(const struct lkh_tree *t)
{
	return t->d;
}

uint32_t lkh_height(const struct lkh_tree *t)
{
	return t->h;
}

uint32_t lkh_capacity(const struct lkh_tree *t)
{
	return t->cap;
}

uint32_t lkh_members(const struct lkh_tree *t)
{
	return node_get(t, 1)->count;
}

uint32_t lkh_pending(const struct lkh_tree *t)
{
	return t->pend_join + t->pend_leave;
}

uint32_t lkh_leaf_node(const struct lkh_tree *t, uint32_t member_id)
{
	if (member_id == 0 || member_id > t->cap)
		return 0;
	return t->first_leaf + member_id - 1;
}

uint32_t lkh_last_node(const struct lkh_tree *t)
{
	return t->last_id;
}

/* The leaf of a Member ID, for a call that changes or reads membership. */
static int usable_leaf(const struct lkh_tree *t, uint32_t member_id, uint32_t *leaf)
{
	if (t == NULL)
		return -EINVAL;
	*leaf = lkh_leaf_node(t, member_id);
	if (*leaf == 0)
		return -EINVAL;
	return t->restoring ? -EBUSY : 0;
}

bool lkh_is_member(const struct lkh_tree *t, uint32_t member_id)
{
	uint32_t leaf = lkh_leaf_node(t, member_id);

	return leaf != 0 && node_count(t, leaf) != 0;
}

size_t lkh_memory(const struct lkh_tree *t)
{
	return sizeof(*t) + (size_t)t->nb_pages * sizeof(*t->pages) +
		(size_t)t->pages_used * LKH_PAGE_NODES * sizeof(struct lkh_node) +
		(size_t)t->staged_cap * sizeof(uint32_t) + (size_t)t->nb_last * sizeof(uint32_t);
}

/* ------------------------------------------------------------------ staging */

/* Room for one more staged leaf, so that staging itself cannot fail half-way. */
static int staged_reserve(struct lkh_tree *t)
{
	uint32_t ncap;
	uint32_t *p;

	if (t->nb_staged < t->staged_cap)
		return 0;
	ncap = t->staged_cap != 0 ? t->staged_cap * 2 : 64;
	p = realloc(t->staged, (size_t)ncap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	t->staged = p;
	t->staged_cap = ncap;
	return 0;
}

static void staged_add(struct lkh_tree *t, struct lkh_node *n, uint32_t leaf)
{
	if (n->flags & NF_STAGED)
		return;
	n->flags |= NF_STAGED;
	t->staged[t->nb_staged++] = leaf;
}

static int stage_join(struct lkh_tree *t, uint32_t leaf)
{
	struct lkh_node *n;
	int rc;

	rc = path_alloc(t, leaf);
	if (rc == 0)
		rc = staged_reserve(t);
	if (rc != 0)
		return rc;
	n = node_get(t, leaf);
	path_count(t, leaf, true);
	n->flags |= NF_JOINED;
	staged_add(t, n, leaf);
	t->pend_join++;
	t->used = true;
	return 0;
}

int lkh_join(struct lkh_tree *t, uint32_t *member_id)
{
	uint32_t id = 1, k, i, c;

	if (t == NULL || member_id == NULL)
		return -EINVAL;
	if (t->restoring)
		return -EBUSY;
	if (lkh_members(t) >= t->cap)
		return -ENOSPC;
	/*
	 * The leftmost subtree that is not full holds the lowest free leaf. Counts only cover
	 * leaves below the capacity, so with fewer than cap members that leaf is below it.
	 */
	for (k = 1; k <= t->h; k++) {
		c = first_child(t->d, id);
		for (i = 0; i < t->d - 1; i++, c++)
			if (node_count(t, c) < t->full[k])
				break;
		id = c;
	}
	*member_id = id - t->first_leaf + 1;
	return stage_join(t, id);
}

int lkh_join_at(struct lkh_tree *t, uint32_t member_id)
{
	uint32_t leaf;
	int rc;

	rc = usable_leaf(t, member_id, &leaf);
	if (rc != 0)
		return rc;
	if (node_count(t, leaf) != 0)
		return -EEXIST;
	return stage_join(t, leaf);
}

int lkh_leave(struct lkh_tree *t, uint32_t member_id)
{
	struct lkh_node *n;
	uint32_t leaf;
	int rc;

	rc = usable_leaf(t, member_id, &leaf);
	if (rc != 0)
		return rc;
	n = node_get(t, leaf);
	if (n == NULL || n->count == 0)
		return -ENOENT;
	rc = staged_reserve(t);
	if (rc != 0)
		return rc;
	path_count(t, leaf, false);
	if (n->flags & NF_JOINED) {
		/* it never got a key: forget the join (NF_LEFT stays if a member left here) */
		n->flags &= ~NF_JOINED;
		t->pend_join--;
	} else {
		n->flags |= NF_LEFT;
		staged_add(t, n, leaf);
		t->pend_leave++;
	}
	return 0;
}

/* ------------------------------------------------------------------ paths */

int lkh_path(const struct lkh_tree *t, uint32_t member_id, struct lkh_key *out, uint32_t cap,
		uint32_t *n)
{
	const struct lkh_node *nd;
	uint32_t leaf, id, k;
	int rc;

	if (out == NULL || n == NULL)
		return -EINVAL;
	rc = usable_leaf(t, member_id, &leaf);
	if (rc != 0)
		return rc;
	nd = node_get(t, leaf);
	if (nd == NULL || nd->count == 0)
		return -ENOENT;
	if (nd->flags & NF_JOINED)
		return -EAGAIN;
	if (cap < t->h + 1)
		return -ENOSPC;
	/* a member from before any staged change: its whole path holds committed keys */
	for (id = leaf, k = t->h;; k--) {
		nd = node_get(t, id);
		out[k].id = id;
		out[k].handle = nd->handle;
		memcpy(out[k].key, nd->key, LKH_KEY_LEN);
		if (k == 0)
			break;
		id = parent_of(t->d, id);
	}
	*n = t->h + 1;
	return 0;
}

void lkh_keys_wipe(struct lkh_key *keys, size_t n)
{
	if (keys != NULL && n != 0)
		OPENSSL_cleanse(keys, n * sizeof(*keys));
}

/* ------------------------------------------------------------------ persistence */

static int report(const struct lkh_node *nd, uint32_t id, lkh_node_fn fn, void *arg)
{
	struct lkh_node_info ni = {
		.id = id,
		.handle = nd->handle,
		.count = nd->count,
		.key = (nd->flags & NF_KEY) ? nd->key : NULL,
	};

	return fn(&ni, arg);
}

int lkh_foreach_changed(const struct lkh_tree *t, lkh_node_fn fn, void *arg)
{
	uint32_t i;
	int rc;

	if (t == NULL || fn == NULL)
		return -EINVAL;
	if (t->restoring || lkh_pending(t) != 0)
		return -EBUSY;
	for (i = 0; i < t->nb_last; i++) {
		rc = report(node_get(t, t->last[i]), t->last[i], fn, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int lkh_foreach_node(const struct lkh_tree *t, lkh_node_fn fn, void *arg)
{
	uint32_t pi, j, id;
	int rc;

	if (t == NULL || fn == NULL)
		return -EINVAL;
	if (t->restoring || lkh_pending(t) != 0)
		return -EBUSY;
	for (pi = 0; pi < t->nb_pages; pi++) {
		const struct lkh_node *pg = t->pages[pi];

		if (pg == NULL)
			continue;
		for (j = 0; j < LKH_PAGE_NODES; j++) {
			id = pi * LKH_PAGE_NODES + j;
			if (pg[j].handle == 0)
				continue;
			rc = report(&pg[j], id, fn, arg);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int lkh_restore_node(struct lkh_tree *t, uint32_t id, uint32_t handle,
		const uint8_t key[LKH_KEY_LEN])
{
	bool member;
	struct lkh_node *n;
	int rc;

	if (t == NULL || id == 0 || id > t->last_id || handle == 0)
		return -EINVAL;
	member = key != NULL && id >= t->first_leaf;
	if (member && id - t->first_leaf >= t->cap)
		return -EINVAL;
	if (t->used && !t->restoring)
		return -EBUSY;
	rc = member ? path_alloc(t, id) : page_alloc(t, id);
	if (rc != 0)
		return rc;
	n = node_get(t, id);
	if (n->handle != 0)
		return -EEXIST;
	t->used = true;
	t->restoring = true;
	n->handle = handle;
	if (key != NULL) {
		memcpy(n->key, key, LKH_KEY_LEN);
		n->flags |= NF_KEY;
	}
	if (member)
		path_count(t, id, true);
	return 0;
}

int lkh_restore_finish(struct lkh_tree *t)
{
	uint32_t pi, j;

	if (t == NULL)
		return -EINVAL;
	if (!t->restoring)
		return 0;
	/* the steady state: a node holds a key exactly when members are below it */
	for (pi = 0; pi < t->nb_pages; pi++) {
		const struct lkh_node *pg = t->pages[pi];

		if (pg == NULL)
			continue;
		for (j = 0; j < LKH_PAGE_NODES; j++)
			if ((pg[j].count != 0) != ((pg[j].flags & NF_KEY) != 0))
				return -EBADMSG;
	}
	t->restoring = false;
	return 0;
}
