/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The key server's durable state (doc/key-management.md §7): SQLite in WAL mode, one database
 * file per key server, every group in it.
 *
 * The engine keeps its working state in memory and writes each change through these calls
 * inside a transaction (gstore_begin() .. gstore_commit()) that it commits before it sends any
 * message depending on the change; at start it loads everything back. Rows are keyed by the
 * group's name; nothing here interprets keys or policy.
 *
 * The database holds keys: the file (and its -wal and -shm companions) are created mode 0600,
 * secure_delete overwrites deleted rows, and the records holding keys that listings pass to
 * their callbacks are wiped when the callback returns. Nothing is ever logged.
 *
 * All calls return 0 or a negative errno: -ENOENT (no such row, or a row names a group that is
 * not stored), -EINVAL (bad argument: NULL, a name or subject that does not fit its field with
 * its NUL, nb_sids above GSTORE_MAX_SIDS, ...), -EEXIST (gstore_spi_add() of a known SPI),
 * -EIO (an SQLite error, or a stored row that does not fit the structs below: a file edited by
 * hand or damaged; gstore_errmsg() says which), -ENOMEM. Not thread-safe: one control thread
 * owns a store.
 *
 * Writes outside gstore_begin() .. gstore_commit() are each their own transaction. Every *_put
 * replaces the row with the same key. Rows other than the group's own need the group to be
 * stored first (gstore_group_put()), else -ENOENT.
 *
 * Listing calls (gstore_groups(), gstore_members(), ...) call cb once per row; a non-zero return
 * from cb stops the walk and becomes the listing's return value (so a callback can pass a
 * negative errno up). They return 0 after the last row, also when the group has no rows or is
 * not stored. The record passed to cb lives only during the call. A callback may call any
 * function of the same store, including writes and other listings; whether the rest of the walk
 * sees what it wrote to the table being walked is SQLite's choice.
 */
#ifndef GCKS_STORE_H
#define GCKS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define GSTORE_NAME_MAX 64           /**< group names, NUL included */
#define GSTORE_SUBJECT_MAX 256       /**< RFC 4514 subject, NUL included */
#define GSTORE_KEY_MAX 64            /**< largest key blob (traffic keys are at most 52) */
#define GSTORE_MAX_SIDS 64           /**< sender IDs per member */

struct gstore;

/** A group's counters and identity. */
struct gstore_group {
	char name[GSTORE_NAME_MAX];
	uint8_t gid[8];              /**< random part of the GroupID (policy token) */
	uint32_t seq_hwm;            /**< every Sequence ID <= this may have been used */
	uint32_t state;              /**< 0 live, 1 destroyed */
	int64_t created;             /**< seconds since the epoch */
};

/** A member, as the engine keeps it. */
struct gstore_member {
	char subject[GSTORE_SUBJECT_MAX];    /**< identity: its certificate's subject (unique) */
	uint32_t member_id;          /**< LKH leaf, 1..; 0 when not in the tree (evicted) */
	uint8_t role;                /**< enum policy_role */
	uint8_t state;               /**< the engine's member state */
	uint16_t nb_sids;            /**< 0..GSTORE_MAX_SIDS */
	uint16_t sids[GSTORE_MAX_SIDS];      /**< the first nb_sids; read back zero beyond */
	struct sockaddr_storage addr;        /**< where it registered from */
	uint32_t addr_len;           /**< bytes of addr kept (family, address, port, ...); 0 = none;
				      *   at most sizeof(addr); read back zero beyond */
	int64_t joined;              /**< ms since the epoch */
	int64_t acked;               /**< ms since the epoch, 0 = not yet */
	uint8_t cert_sha256[32];     /**< of the DER certificate it registered with */
};

/**
 * One LKH node (lkh.h, lkh_export()): its key, or only its handle for an empty node whose
 * handle must survive a restore. A node that no longer exists is removed with gstore_node_del().
 */
struct gstore_node {
	uint32_t id;
	uint32_t handle;
	bool has_key;                /**< false: an empty node; key is not stored, reads back 0 */
	uint8_t key[32];
};

/** One traffic key epoch of a data SA. */
struct gstore_tek {
	uint32_t index;              /**< data SA index in the policy token */
	uint32_t epoch;              /**< Key Handle */
	uint32_t spi;
	uint16_t key_type;           /**< GSAKMP Key Type */
	uint8_t key_len;             /**< 0..GSTORE_KEY_MAX */
	uint8_t key[GSTORE_KEY_MAX];         /**< the first key_len bytes; read back zero beyond */
	int64_t created;             /**< seconds since the epoch */
	int64_t expires;             /**< seconds since the epoch */
	int64_t retire_at;           /**< ms since the epoch when superseded + DTD; 0 = current */
};

/** A sender ID's allocation. */
struct gstore_sid {
	uint16_t sid;
	char subject[GSTORE_SUBJECT_MAX];   /**< holder; "" = free */
	uint32_t free_epoch;         /**< usable again once every data SA's epoch is >= this */
};

/** One rekey in the history (no key material). */
struct gstore_rekey {
	int64_t at;                  /**< ms since the epoch */
	uint32_t seq_first, seq_last;
	uint32_t joins, leaves, evictions;
	uint32_t wraps, messages;
	uint64_t bytes;
	char reason[32];             /**< "batch", "scheduled", "manual", "destroy", ... */
	/* bytes is kept as SQLite's signed 64-bit INTEGER: values above INT64_MAX read back
	 * unchanged, but look negative to SQL. */
};

/**
 * Open (creating if needed) the database at path, or ":memory:" for a private one. Creates
 * the schema, sets WAL and synchronous=FULL, checks the schema version.
 *
 * A new file is created mode 0600 (SQLite gives its -wal and -shm files the same mode). An
 * existing file, -wal or -shm that group or others may access is refused, as are a symbolic
 * link, a file that cannot be written, a database of another schema version and an SQLite
 * database of some other program.
 * @param path file name, not a URI, or ":memory:".
 * @param out receives the store, or NULL on failure.
 * @param err receives a one-line message on failure (errlen bytes; may be NULL).
 * @return 0, -EINVAL, -ENOMEM or -EIO; err names the path and what is wrong.
 */
int gstore_open(const char *path, struct gstore **out, char *err, size_t errlen);
/** Close a store (NULL is a no-op), rolling back any open transaction. */
void gstore_close(struct gstore *st);
/**
 * The last error of this store: SQLite's text, or what was wrong with an argument or a stored
 * row; "" before any error. Never contains key material. Valid until the next call.
 */
const char *gstore_errmsg(const struct gstore *st);

/** Start a write transaction (BEGIN IMMEDIATE); -EINVAL if one is open already. */
int gstore_begin(struct gstore *st);
/**
 * Commit the open transaction: when it returns 0 the changes are on disk (synchronous=FULL).
 * On failure the transaction is rolled back: nothing of it is kept. -EINVAL without one.
 */
int gstore_commit(struct gstore *st);
/** Roll back the open transaction (no-op without one). */
void gstore_rollback(struct gstore *st);

/* Groups */
/** Store a group's record, replacing the one of the same name (its other rows stay). */
int gstore_group_put(struct gstore *st, const struct gstore_group *g);
/** Read a group's record; -ENOENT if it is not stored. */
int gstore_group_get(struct gstore *st, const char *name, struct gstore_group *out);
/** Remove a group and every row that belongs to it. */
int gstore_group_del(struct gstore *st, const char *name);
/** Names of every stored group, in byte order: cb is called once per group. */
int gstore_groups(struct gstore *st, int (*cb)(void *arg, const char *name), void *arg);

/* Members, keyed by (group, subject) */
/** Store a member (subject non-empty), replacing the one with the same subject. */
int gstore_member_put(struct gstore *st, const char *group, const struct gstore_member *m);
/** Remove a member; -ENOENT if it is not stored. */
int gstore_member_del(struct gstore *st, const char *group, const char *subject);
/** Every member of group, in byte order of subject. */
int gstore_members(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_member *m), void *arg);

/* LKH nodes, keyed by (group, id) */
/** Store a node key, replacing the one with the same id. */
int gstore_node_put(struct gstore *st, const char *group, const struct gstore_node *n);
/** Remove a node; -ENOENT if it is not stored. */
int gstore_node_del(struct gstore *st, const char *group, uint32_t id);
/** Every node, ascending id; the record passed to cb is wiped after cb returns. */
int gstore_nodes(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_node *n), void *arg);

/* Traffic keys, keyed by (group, index, epoch) */
/** Store a traffic key epoch, replacing the one with the same (index, epoch). */
int gstore_tek_put(struct gstore *st, const char *group, const struct gstore_tek *t);
/** Remove a traffic key epoch; -ENOENT if it is not stored. */
int gstore_tek_del(struct gstore *st, const char *group, uint32_t index, uint32_t epoch);
/** Every stored epoch, ascending (index, epoch); the record is wiped after cb returns. */
int gstore_teks(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_tek *t), void *arg);

/* Sender IDs, keyed by (group, sid) */
/** Store a SID's allocation, replacing the one of the same SID. */
int gstore_sid_put(struct gstore *st, const char *group, const struct gstore_sid *s);
/** Every stored SID of group, ascending. */
int gstore_sids(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_sid *s), void *arg);

/* SPIs ever given out in a group (never reused) */
/** Record that spi was given out in group; -EEXIST if it was before. */
int gstore_spi_add(struct gstore *st, const char *group, uint32_t spi);
/** 1 when spi was given out in group before, 0 when not, or a negative errno. */
int gstore_spi_used(struct gstore *st, const char *group, uint32_t spi);

/* Rekey history */
/** Append an entry to group's history. */
int gstore_rekey_add(struct gstore *st, const char *group, const struct gstore_rekey *r);
/** The newest `limit` entries (in the order they were added), newest first; limit 0 gives none. */
int gstore_rekeys(struct gstore *st, const char *group, unsigned int limit,
		int (*cb)(void *arg, const struct gstore_rekey *r), void *arg);

#endif
