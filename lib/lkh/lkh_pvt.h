/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/lkh internals shared by lkh.c (tree, membership, persistence), lkh_commit.c and
 * lkh_split.c.
 */
#ifndef LKH_PVT_H
#define LKH_PVT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkh.h"

/*
 * Nodes live in pages of LKH_PAGE_NODES consecutive ids, allocated on first use: breadth-first
 * numbering keeps each depth contiguous, and the lowest-free-leaf policy fills every depth from
 * the left, so a group of n members touches about n/(d-1) nodes in that many / 512 pages plus
 * one partial page per depth. A page is 22.5 KiB; the page table is 8 octets per page of the
 * virtual full tree.
 */
#define LKH_PAGE_NODES 512u

/* Node flags. KEY is the steady state; the rest live only while changes are staged or during
 * lkh_commit(). */
#define NF_KEY 0x01u      /* key[] holds the node's current key */
#define NF_JOINED 0x02u   /* leaf: its member joined in this batch */
#define NF_LEFT 0x04u     /* leaf: the member it had before this batch left */
#define NF_STAGED 0x08u   /* leaf: in t->staged */
#define NF_MARK 0x10u     /* commit: the node is on the path of a changed leaf */
#define NF_OLD 0x20u      /* commit: a member from before the batch is below */

struct lkh_node {
	uint8_t key[LKH_KEY_LEN];
	uint32_t handle;              /* 0 until the node first gets a key */
	uint32_t count;               /* members below (staged view) */
	uint8_t flags;
};

static_assert(sizeof(struct lkh_node) == 44, "a node is a key and three words");

struct lkh_tree {
	uint32_t d;
	uint32_t h;
	uint32_t cap;                 /* max_members */
	uint32_t last_id;             /* greatest node id of the virtual full tree */
	uint32_t first_leaf;          /* node id of Member ID 1 */
	/* level_first[k]: id of the first node at depth k; level_first[h + 1] = last_id + 1 */
	uint32_t level_first[LKH_MAX_HEIGHT + 2];
	/* full[k]: leaves below a node at depth k (d^(h-k)) */
	uint32_t full[LKH_MAX_HEIGHT + 1];

	struct lkh_node **pages;
	uint32_t nb_pages;            /* entries of pages[] */
	uint32_t pages_used;

	uint32_t *staged;             /* leaves with NF_STAGED, in staging order */
	uint32_t nb_staged;
	uint32_t staged_cap;
	uint32_t pend_join;           /* staged joins not cancelled */
	uint32_t pend_leave;          /* staged leaves of members from before the batch */

	uint32_t *last;               /* nodes the last commit changed, deepest first */
	uint32_t nb_last;

	bool used;                    /* joined or committed once: no restore any more */
	bool restoring;
};

struct lkh_rekey {
	uint32_t d;
	uint32_t h;
	uint32_t cap;
	uint32_t first_leaf;
	uint32_t level_first[LKH_MAX_HEIGHT + 2];
	struct lkh_rekey_stats st;
	struct lkh_wrap *wraps;
	/* up[i]: the wrap a member that needs wrap i needs next (the one whose kek_id is wraps[i]
	 * .id), UINT32_MAX at the root; terminal[i]: wraps[i].kek_id did not change, so every
	 * member below it needs exactly wrap i and its up-chain */
	uint32_t *up;
	uint8_t *terminal;
};

struct lkh_parts {
	uint32_t nb;
	uint32_t *first;              /* first Member ID of part i */
	uint32_t *last;
	uint32_t *off;                /* part i is idx[off[i] .. off[i + 1]) */
	uint32_t *idx;
};

#define NO_WRAP UINT32_MAX

static inline struct lkh_node *node_get(const struct lkh_tree *t, uint32_t id)
{
	struct lkh_node *pg = t->pages[id / LKH_PAGE_NODES];

	return pg == NULL ? NULL : &pg[id % LKH_PAGE_NODES];
}

static inline uint32_t node_count(const struct lkh_tree *t, uint32_t id)
{
	const struct lkh_node *n = node_get(t, id);

	return n == NULL ? 0 : n->count;
}

static inline uint32_t parent_of(uint32_t d, uint32_t id)
{
	return (id - 2) / d + 1;
}

static inline uint32_t first_child(uint32_t d, uint32_t id)
{
	return d * (id - 1) + 2;
}

/* Depth of a node from a level_first[] table (h + 2 entries). */
static inline uint32_t depth_of(const uint32_t *level_first, uint32_t h, uint32_t id)
{
	uint32_t k = h;

	while (id < level_first[k])
		k--;
	return k;
}

#endif /* LKH_PVT_H */
