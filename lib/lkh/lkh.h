/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Logical key hierarchy (RFC 2627 §5.4) of degree d for the key server, with batch rekeying
 * and the "user-oriented" split of a rekey into self-sufficient parts (Zhang, Lam, Lee, Yang,
 * "Protocol design for scalable and reliable group rekeying", IEEE/ACM ToN 2003).
 *
 * Shape. A tree has degree d (LKH_DEGREE_MIN..LKH_DEGREE_MAX) and a height h fixed at
 * creation: the smallest h >= 1 with d^h >= max_members. Node ids number a virtual *full*
 * d-ary tree breadth-first from the root = 1 (RFC 4535 Appendix A.2): the children of n are
 * d(n-1)+2 .. d(n-1)+d+1, the parent of n > 1 is (n-2)/d+1. Leaves are at depth h; the GSAKMP
 * Member ID of the member at a leaf is the leaf's index among the leaves plus 1, so Member IDs
 * run 1..max_members (lkh_capacity()) and leaves past max_members are never used.
 *
 * Keys. Every node with at least one member below it holds a 32-octet key (an AES-256 KEK,
 * GSAKMP key type 49158) and a 32-bit handle, its version: the first key a node ever gets has
 * handle 1, each replacement adds 1, and a node that empties keeps its handle (its key is
 * wiped), so a (node id, handle) pair never names two different keys. The root key is the
 * group KEK that every member holds. Traffic keys (GTPKs) are not part of the tree: the key
 * server wraps them under the root key itself, and must give them Key IDs outside 1..the last
 * node id. Keys come from RAND_priv_bytes().
 *
 * Batches. lkh_join(), lkh_join_at() and lkh_leave() only stage a change (the membership the
 * queries report is the staged one at once); lkh_commit() applies every staged change as one
 * batch rekey. Each node on the path of a changed leaf that still has members gets a new
 * random key (handle + 1): a leaving member knows no new key (forward secrecy) and a joining
 * one never receives a key that existed before it joined (backward secrecy), as RFC 2627
 * §5.4.2 asks. The rekey holds the minimum set of wraps: the new key of each changed non-empty
 * node p under the (new, if it changed) key of each child c of p that still holds a member who
 * was a member before the batch. Children holding only members that joined in this batch, in
 * particular leaves that just joined, get nothing: those members receive their whole path by
 * unicast (lkh_path(), the Key Download's Rekey Array).
 *
 * Concurrency: none. One control thread owns a tree and the objects it returns; different
 * trees are independent. The library has no global state.
 *
 * Secrets: keys are never logged. lkh_free(), lkh_rekey_free() and the commit's temporaries
 * wipe every key with OPENSSL_cleanse(); keys copied out by lkh_path() are the caller's to
 * wipe (lkh_keys_wipe()).
 *
 * Control functions return 0 or a negative errno: -EINVAL for bad arguments, -ENOMEM, -EIO
 * when the random generator fails, and the specific codes documented per function.
 */
#ifndef LKH_H
#define LKH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Octets of a node key (GSAKMP key type 49158, AES-256 KEK). */
#define LKH_KEY_LEN 32
/** Smallest degree. */
#define LKH_DEGREE_MIN 2
/** Largest degree. */
#define LKH_DEGREE_MAX 16
/** Degree used when lkh_params.degree is 0 (best for batches, controlplane.md §3.4). */
#define LKH_DEGREE_DEFAULT 4
/** Most members a tree may be created for (node ids then always fit 32 bits). */
#define LKH_MAX_MEMBERS (UINT32_C(1) << 24)
/** Greatest height: degree 2 and LKH_MAX_MEMBERS members. */
#define LKH_MAX_HEIGHT 24

struct lkh_tree;
struct lkh_rekey;
struct lkh_parts;

/** What a tree is created for. */
struct lkh_params {
	uint32_t degree;       /**< d, LKH_DEGREE_MIN..LKH_DEGREE_MAX; 0 = LKH_DEGREE_DEFAULT */
	uint32_t max_members;  /**< 1..LKH_MAX_MEMBERS: Member IDs are 1..max_members */
};

/** One node key, as a member holds it. */
struct lkh_key {
	uint32_t id;                 /**< node id (the GSAKMP Key ID) */
	uint32_t handle;             /**< version (the GSAKMP Key Handle), >= 1 */
	uint8_t key[LKH_KEY_LEN];
};

/**
 * One wrap of a rekey: the new key of node `id` encrypted under the key of its child
 * `kek_id`. The key server encrypts `key` under `kek` (a GSAKMP Rekey Event Data block
 * wrapped by KeyID kek_id / Key Handle kek_handle carrying one Key Package).
 */
struct lkh_wrap {
	uint32_t kek_id;             /**< wrapping node: a child of `id` */
	uint32_t kek_handle;         /**< its handle after the commit */
	uint32_t id;                 /**< target node */
	uint32_t handle;             /**< the target's new handle */
	uint8_t kek[LKH_KEY_LEN];    /**< the wrapping key (after the commit) */
	uint8_t key[LKH_KEY_LEN];    /**< the target's new key */
};

/** What a commit did. */
struct lkh_rekey_stats {
	uint32_t joined;             /**< members that joined (net of cancelled joins) */
	uint32_t left;               /**< members that left or were evicted */
	uint32_t rekeyed;            /**< nodes given a new key (the changed non-empty nodes) */
	uint32_t emptied;            /**< changed nodes left without members: key wiped */
	uint32_t wraps;              /**< wraps in the rekey */
	uint32_t members;            /**< members after the commit */
};

/** One part of a split rekey (lkh_rekey_parts()). */
struct lkh_part {
	uint32_t first_member;       /**< Member IDs first_member..last_member are served */
	uint32_t last_member;
	uint32_t nb_wraps;
	const uint32_t *wraps;       /**< indices into lkh_rekey_wraps(), ascending, so children
				      *   come before parents */
};

/** A node as lkh_foreach_node() and lkh_foreach_changed() report it. */
struct lkh_node_info {
	uint32_t id;
	uint32_t handle;             /**< >= 1 */
	uint32_t count;              /**< members below (1 for an occupied leaf) */
	const uint8_t *key;          /**< LKH_KEY_LEN octets, or NULL when the node is empty */
};

/**
 * Callback of the node iterators. Return 0 to go on; anything else stops the walk and is
 * returned by the iterator.
 */
typedef int (*lkh_node_fn)(const struct lkh_node_info *node, void *arg);

/* ------------------------------------------------------------------ tree */

/**
 * Create an empty tree.
 * @return 0; -EINVAL for a degree outside 2..16 (0 is the default) or max_members outside
 *   1..LKH_MAX_MEMBERS; -ENOMEM.
 */
int lkh_create(const struct lkh_params *p, struct lkh_tree **out);

/** Free a tree, wiping every key. NULL is allowed. */
void lkh_free(struct lkh_tree *t);

/** Degree d. */
uint32_t lkh_degree(const struct lkh_tree *t);

/** Height h: leaves are at depth h, a member holds h + 1 keys. */
uint32_t lkh_height(const struct lkh_tree *t);

/** Capacity: max_members, the greatest Member ID. */
uint32_t lkh_capacity(const struct lkh_tree *t);

/** Members, counting staged joins and leaves. */
uint32_t lkh_members(const struct lkh_tree *t);

/** Staged changes not yet committed (joins plus leaves, net of cancellations). */
uint32_t lkh_pending(const struct lkh_tree *t);

/** Whether member_id is a member, counting staged joins and leaves. */
bool lkh_is_member(const struct lkh_tree *t, uint32_t member_id);

/** Node id of a member's leaf, or 0 when member_id is outside 1..capacity. */
uint32_t lkh_leaf_node(const struct lkh_tree *t, uint32_t member_id);

/** Greatest node id of the virtual full tree: every Key ID of the tree is in 1..this. */
uint32_t lkh_last_node(const struct lkh_tree *t);

/** Heap octets the tree uses (node pages, page table, staging lists). */
size_t lkh_memory(const struct lkh_tree *t);

/* ------------------------------------------------------------------ membership */

/**
 * Stage the join of a member at the lowest free leaf (the smallest free Member ID, so the
 * result is deterministic and a tree fills from the left). The leaf and its path get their
 * new keys at lkh_commit(); the member's keys are then lkh_path().
 * @param member_id the new Member ID.
 * @return 0; -ENOSPC when every Member ID is taken; -EBUSY while restoring; -ENOMEM.
 */
int lkh_join(struct lkh_tree *t, uint32_t *member_id);

/**
 * Stage the join of a member at a given Member ID (the key server's choice).
 * A leaf whose member left in the same batch may be taken again: the leaf gets a new key.
 * @return 0; -EINVAL when member_id is outside 1..capacity; -EEXIST when it is taken (or staged
 *   to join); -EBUSY while restoring; -ENOMEM.
 */
int lkh_join_at(struct lkh_tree *t, uint32_t member_id);

/**
 * Stage the removal of a member: a voluntary leave and an eviction are the same. Removing a
 * member staged to join in the same batch cancels the join.
 * @return 0; -EINVAL when member_id is outside 1..capacity; -ENOENT when it is not a member;
 *   -EBUSY while restoring.
 */
int lkh_leave(struct lkh_tree *t, uint32_t member_id);

/**
 * Apply the staged changes as one batch and return what to send.
 *
 * Changed nodes are those on the path of a leaf whose member joined or left. Each one that
 * still has members gets a new key and handle + 1; each one left empty has its key wiped. The
 * wraps are, for each changed non-empty node p and each child c of p holding a member from
 * before the batch, wrap(new K_p under K_c after the commit); they are ordered by depth of p,
 * deepest first, then by id of p and of c, so that children come before parents and a member
 * reading the list once in order decrypts everything it needs. A member needs at most h wraps.
 *
 * A commit with nothing staged (or only changes that cancelled out) succeeds with an empty
 * rekey: no wrap, every statistic 0 but members, and no key changes.
 *
 * On failure nothing changes: the staged changes remain staged.
 * @return 0; -ENOMEM; -EIO (random generator); -EOVERFLOW when a changed node's handle would
 *   pass UINT32_MAX; -EBUSY while restoring.
 */
int lkh_commit(struct lkh_tree *t, struct lkh_rekey **rekey);

/**
 * A committed member's keys, root first: out[0] is the root (node 1, the group KEK), out[k]
 * the node at depth k, out[h] the member's leaf. out[1..h] is therefore the GSAKMP Rekey Array
 * (RFC 4535 §7.4.1.2: path KEKs from just below the root down to the leaf); the key server
 * sends out[0] either as the Rekey Array's first key or as a Key Download item of its own.
 * Wipe the result with lkh_keys_wipe() when done.
 * @param n set to h + 1.
 * @return 0; -EINVAL when member_id is outside 1..capacity; -ENOENT when it is not a member;
 *   -EAGAIN when its join is staged but not committed; -ENOSPC when cap < h + 1; -EBUSY
 *   while restoring.
 */
int lkh_path(const struct lkh_tree *t, uint32_t member_id, struct lkh_key *out, uint32_t cap,
		uint32_t *n);

/** Wipe n keys (lkh_path() output). NULL is allowed. */
void lkh_keys_wipe(struct lkh_key *keys, size_t n);

/* ------------------------------------------------------------------ rekeys */

/** The wraps of a rekey (see lkh_commit() for their order); *nb gets their number. */
const struct lkh_wrap *lkh_rekey_wraps(const struct lkh_rekey *rk, uint32_t *nb);

/** What the commit that made rk did. */
void lkh_rekey_stats(const struct lkh_rekey *rk, struct lkh_rekey_stats *st);

/** Free a rekey, wiping its keys. NULL is allowed. */
void lkh_rekey_free(struct lkh_rekey *rk);

/**
 * Cut a rekey into parts such that every member that needs a wrap (every member from before
 * the batch) needs exactly one part, which alone gives it every key it needs: each part holds
 * all the wraps the members of a contiguous Member ID range need, ancestor wraps repeated in as
 * many parts as need them. Parts are in Member ID order, their ranges disjoint; each has at
 * most max_wraps wraps, and the parts are filled greedily in Member ID order. Members that
 * joined in the batch need nothing (their Member IDs may fall in a range). The work is
 * proportional to the number of wraps, not of members. An empty rekey gives no part.
 * @param max_wraps most wraps in a part: at least lkh_height() (what one member may need).
 * @return 0; -EINVAL when max_wraps < h; -ENOMEM.
 */
int lkh_rekey_parts(const struct lkh_rekey *rk, uint32_t max_wraps, struct lkh_parts **out);

/** Number of parts. */
uint32_t lkh_parts_count(const struct lkh_parts *parts);

/**
 * Part i (0..count-1). out->wraps points into parts.
 * @return 0; -EINVAL when i is out of range.
 */
int lkh_parts_get(const struct lkh_parts *parts, uint32_t i, struct lkh_part *out);

/**
 * The part serving a Member ID (to resend it by unicast to a member that missed it).
 * @return 0 with *i set; -ENOENT when no part's range holds member_id.
 */
int lkh_parts_find(const struct lkh_parts *parts, uint32_t member_id, uint32_t *i);

/** Free parts (they hold no key). NULL is allowed. */
void lkh_parts_free(struct lkh_parts *parts);

/* ------------------------------------------------------------------ persistence */

/**
 * Call fn for every node the last lkh_commit() changed (given a new key or emptied), deepest
 * first: what the key server writes to its store after a commit.
 * @return 0, fn's first non-zero return; -EBUSY when changes are staged (the counts would not
 *   be the committed ones) or a restore is not finished.
 */
int lkh_foreach_changed(const struct lkh_tree *t, lkh_node_fn fn, void *arg);

/**
 * Call fn for every node that ever had a key (handle >= 1), in id order, including emptied
 * nodes (key NULL) whose handles must survive a restore: a full export.
 * @return as lkh_foreach_changed().
 */
int lkh_foreach_node(const struct lkh_tree *t, lkh_node_fn fn, void *arg);

/**
 * Rebuild a tree from an export: on a tree fresh from lkh_create() with the same parameters,
 * call lkh_restore_node() for every exported node (in any order), then lkh_restore_finish().
 * A leaf given a key is an occupied leaf (a member, joined without staging); a node given NULL
 * is empty and only keeps its handle. Until lkh_restore_finish() succeeds, membership changes,
 * commits and lkh_path() fail with -EBUSY.
 * @return 0; -EINVAL when id is outside 1..lkh_last_node() or handle is 0; -EEXIST when the
 *   node was restored already; -EBUSY when the tree has been used; -ENOMEM.
 */
int lkh_restore_node(struct lkh_tree *t, uint32_t id, uint32_t handle,
		const uint8_t key[LKH_KEY_LEN]);

/**
 * End a restore: check that exactly the nodes with members below them have keys.
 * @return 0 (also when no restore is under way); -EBADMSG when the records do not make a
 *   consistent tree (the tree stays in restore and should be freed).
 */
int lkh_restore_finish(struct lkh_tree *t);

#endif /* LKH_H */
