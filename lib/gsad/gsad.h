/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * GSAD: the group security association and policy database, control side and lookup side.
 *
 * The control thread stages changes (groups, SAs, outbound policies) and publishes them with
 * gsad_commit(): it builds a new immutable snapshot of the lookup tables, swaps one pointer, and
 * frees the previous snapshot and any removed runtime SA records through DPDK's QSBR RCU defer
 * queue once every worker has reported a quiescent state. Workers load the snapshot pointer once
 * per burst and report quiescence after it; they take no locks.
 *
 * Every way SAs arrive (static configuration, msecctl, later GSAKMP) calls gsad_sa_add(),
 * gsad_sa_replace() and gsad_sa_delete(): one path, one set of checks.
 *
 * Make-before-break (RFC 5374 §4.2.1): an SA added with `replaces` set is installed at once for
 * receiving, starts being used for sending after its activation delay, and the SA it replaces is
 * removed after the deactivation delay (measured from the add, which is the rekey event).
 */
#ifndef GSAD_H
#define GSAD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "mesp.h"

#define GSAD_NAME_MAX 32
/** Outbound SAs of one group that may be live at once (previous, current, next, spare). */
#define GSAD_MAX_LIVE 4

struct gsad;
struct gsad_snap;
struct gsad_group_rt;

/** Lookup kinds for inbound SAs (RFC 4301 §4.1). */
enum gsad_match {
	GSAD_MATCH_DEFAULT = 0,   /**< (SPI, G, S) for SSM groups, (SPI, G) for ASM groups */
	GSAD_MATCH_SPI = 1,       /**< SPI only */
	GSAD_MATCH_SPI_DST = 2,   /**< SPI and destination */
	GSAD_MATCH_SPI_DST_SRC = 3, /**< SPI, destination and source */
};

enum gsad_action {
	GSAD_BYPASS = 1,
	GSAD_DISCARD = 2,
	GSAD_PROTECT = 3,
};

struct gsad_params {
	uint32_t max_sas;               /**< SA slots; sizes each worker's counter array */
	uint16_t max_senders;           /**< replay windows per inbound SA */
	struct rte_rcu_qsbr *qsv;       /**< workers' QSBR variable (may have no threads) */
	uint16_t nb_lcores;             /**< worker contexts, for counter reads and resets */
	struct mesp_lcore *const *lcores;
	const char *engine;             /**< crypto engine, NULL = default */
};

struct gsad_group_params {
	char name[GSAD_NAME_MAX];
	uint8_t family;                 /**< AF_INET or AF_INET6 */
	uint8_t dst[16];                /**< group address */
	bool has_src;                   /**< SSM */
	uint8_t src[16];
	uint16_t prot_port;             /**< where plaintext enters and leaves (DPDK port id) */
	uint16_t unprot_port;           /**< where group ESP enters and leaves */
	bool fail_open;                 /**< outbound traffic with no usable SA (keys not yet
					 *   received from the key server) is forwarded in the
					 *   clear instead of dropped (doc/key-management.md §3) */
};

struct gsad_lifetime {
	uint64_t soft_seconds, hard_seconds, soft_bytes, hard_bytes;   /**< 0 = unlimited */
};

struct gsad_sa_params {
	uint32_t group;                 /**< group id from gsad_group_add() */
	struct mesp_sa_conf sa;         /**< family, dst, src, has_src are taken from the group */
	enum gsad_match match;
	bool replaces;                  /**< make-before-break: supersede SA `replaces_spi` */
	uint32_t replaces_spi;
	uint32_t activation_delay_ms;
	uint32_t deactivation_delay_ms;
	struct gsad_lifetime life;
	const char *origin;             /**< "config", "msecctl", "gsakmp" (for operators) */
};

/**
 * Create a database. Control thread.
 * @return 0, -EINVAL, -ENOMEM.
 */
int gsad_create(const struct gsad_params *p, struct gsad **out);

/** Free everything. Workers must be stopped (no grace period is waited for). */
void gsad_free(struct gsad *db);

/** Add a group. @return 0, -EEXIST (name or address+source taken), -EINVAL, -ENOSPC. */
int gsad_group_add(struct gsad *db, const struct gsad_group_params *p, uint32_t *id);

/** Find a group by name. @return 0 or -ENOENT. */
int gsad_group_find(const struct gsad *db, const char *name, uint32_t *id);

/**
 * Stage a new SA. @return 0; -EEXIST when the group already has this SPI; -ENOENT for an unknown
 * group or `replaces_spi`; -ENOSPC when max_sas SAs exist; -EINVAL for bad parameters (including
 * a deactivation delay shorter than the activation delay, which would lose packets);
 * -EKEYREJECTED when the SA sends and another sending SA of this node has its key, or this
 * node has sent with the key before (its counters would restart: IVs would repeat); errors
 * of mesp_sa_create().
 */
int gsad_sa_add(struct gsad *db, const struct gsad_sa_params *p);

/**
 * Stage a replacement of an existing SA (same group and SPI) with new parameters. When the keys
 * are unchanged, sequence counters and replay windows carry over; such a replace may change the
 * direction, selectors, lifetimes, TTL and DSCP, but not the sender IDs, SID length, ESN or
 * replay window (-EKEYREJECTED: give the SA a new key).
 * @return 0, -ENOENT, -EKEYREJECTED, or as gsad_sa_add().
 */
int gsad_sa_replace(struct gsad *db, const struct gsad_sa_params *p);

/** Stage removal of an SA. @return 0 or -ENOENT. */
int gsad_sa_delete(struct gsad *db, uint32_t group, uint32_t spi);

/** Stage an outbound policy; dport_lo = dport_hi = 0 means any port. @return 0, -EEXIST, -EINVAL. */
int gsad_policy_add(struct gsad *db, uint8_t family, const uint8_t dst[16], const uint8_t *src,
		uint16_t dport_lo, uint16_t dport_hi, enum gsad_action action, uint32_t group);

/**
 * Publish staged changes to the workers. The previous snapshot and removed SAs are freed after
 * the grace period (gsad_tick() reclaims).
 * @return 0 or -ENOMEM (the previous snapshot then stays in force).
 */
int gsad_commit(struct gsad *db);

/**
 * Control-thread housekeeping: activation/deactivation, lifetimes (time and bytes), reclaiming
 * memory after grace periods. Call every few milliseconds.
 * @return number of SAs removed in this call.
 */
int gsad_tick(struct gsad *db);

/** Block until every retired object has been freed (used at shutdown and by tests). */
void gsad_quiesce(struct gsad *db);

/* ---------------------------------------------------------------- worker side */

/** The current snapshot; valid until the worker reports quiescence. Call once per burst. */
const struct gsad_snap *gsad_snap_get(const struct gsad *db);

/**
 * Inbound lookup by longest match (SPI, dst, src) -> (SPI, dst) -> SPI (RFC 4301 §4.1,
 * RFC 5374 §5.2 item 3aa).
 * @param why receives MESP_DROP_NO_SA or MESP_DROP_SA_EXPIRED when NULL is returned.
 */
struct mesp_sa *gsad_inb_lookup(const struct gsad_snap *s, uint8_t family, uint32_t spi_be,
		const uint8_t *dst, const uint8_t *src, uint64_t now, uint16_t *out_port,
		enum mesp_drop *why);

/**
 * Outbound policy lookup: (S,G) then (*,G), each with port-specific rules first.
 * @param dport UDP destination port, or -1 when unknown (not UDP, or a non-first fragment).
 * @return the action; for GSAD_PROTECT *grp is the group, for no match 0.
 */
int gsad_outb_lookup(const struct gsad_snap *s, uint8_t family, const uint8_t *dst,
		const uint8_t *src, int dport, const struct gsad_group_rt **grp);

/** True when (family, dst, src) falls under a protect policy (plaintext for it is refused). */
bool gsad_is_protected(const struct gsad_snap *s, uint8_t family, const uint8_t *dst,
		const uint8_t *src);

/** Largest burst the bulk lookups take. */
#define GSAD_BULK_MAX 256

/** Outcome of a bulk lookup for one packet. */
struct gsad_result {
	int action;                     /**< outbound: as gsad_outb_lookup(); inbound: 0 */
	struct mesp_sa *sa;             /**< the SA; NULL: see why (or no protect action) */
	uint16_t out_port;              /**< port the packet leaves on (with an SA) */
	enum mesp_drop why;             /**< without an SA: MESP_DROP_NO_SA or _SA_EXPIRED */
};

/** What an outbound lookup needs of a packet. */
struct gsad_outb_key {
	uint8_t family;
	int dport;                      /**< UDP destination port or -1 */
	const uint8_t *dst, *src;
};

/** What an inbound lookup needs of a packet. */
struct gsad_inb_key {
	uint8_t family;
	uint32_t spi_be;
	const uint8_t *dst, *src;
};

/**
 * gsad_outb_lookup() and, for GSAD_PROTECT, gsad_group_tx_sa() for n packets at once (n at most
 * GSAD_BULK_MAX), table level by table level over the whole burst so that the cache misses of
 * different packets overlap; the SA records found are prefetched for the burst function.
 */
void gsad_outb_lookup_bulk(const struct gsad_snap *s, const struct gsad_outb_key *k, uint16_t n,
		uint64_t now, struct gsad_result *r);

/** gsad_inb_lookup() for n packets at once, in the same way as gsad_outb_lookup_bulk(). */
void gsad_inb_lookup_bulk(const struct gsad_snap *s, const struct gsad_inb_key *k, uint16_t n,
		uint64_t now, struct gsad_result *r);

/**
 * The SA a group sends on at time `now` (the most recently activated live one).
 * @param out_port receives the unprotected port.
 */
struct mesp_sa *gsad_group_tx_sa(const struct gsad_group_rt *g, uint64_t now,
		uint16_t *out_port, enum mesp_drop *why);

/* ---------------------------------------------------------------- reading, for operators */

/** What msecctl and telemetry show about an SA (never keys). */
struct gsad_sa_view {
	char group[GSAD_NAME_MAX];
	uint32_t group_id;
	struct mesp_sa_info info;
	const char *origin;
	const char *state;              /**< "pending", "active", "retiring", "draining" (deleted
					 *   TESLA sender: key beacons only) */
	enum gsad_match match;
	int64_t activates_in_ms;        /**< <= 0 once active */
	int64_t expires_in_ms;          /**< -1 = never */
	bool soft_expired;
	struct mesp_sa_ctr ctr;         /**< summed over workers */
	struct mesp_tesla_info tesla;   /**< TESLA state (all zero without TESLA) */
};

/** Number of staged SAs. */
uint32_t gsad_sa_count(const struct gsad *db);

/** Fill the view of the i-th SA (0 <= i < gsad_sa_count()). @return 0 or -ENOENT. */
int gsad_sa_view(const struct gsad *db, uint32_t i, struct gsad_sa_view *v);

/** Group facts for views. @return 0 or -ENOENT. */
int gsad_group_get(const struct gsad *db, uint32_t id, struct gsad_group_params *p);

/** Number of groups. */
uint32_t gsad_group_count(const struct gsad *db);

/** Sum of one drop reason over workers. */
uint64_t gsad_drop_total(const struct gsad *db, enum mesp_drop r);

/**
 * Memory held by the database, in bytes as requested from the allocators (their per-allocation
 * overhead excluded). Control thread.
 */
struct gsad_mem {
	uint32_t nb_sas;                /**< SA records in use */
	uint64_t sa_runtime;            /**< runtime records, crypto sessions (expanded keys),
					  *   sender counters, replay windows: mesp_sa_mem_size() */
	uint64_t lookup;                /**< the published snapshot: inbound SPI hash and
					  *   candidates, outbound policy hash and rules, group
					  *   sender slots */
	uint64_t control;               /**< control records: SA slots (max_sas), groups,
					  *   policies, digests of retired keys, retire lists */
};

void gsad_memory(const struct gsad *db, struct gsad_mem *m);

/** Generation counter of the published snapshot (increments per commit). */
uint64_t gsad_generation(const struct gsad *db);

/* ------------------------------------------------------------------ TESLA */

/** A TESLA SA of a snapshot and the port its beacons leave by. */
struct gsad_tesla_sa {
	struct mesp_sa *sa;
	uint16_t out_port;
};

/**
 * Worker: the snapshot's SAs that carry TESLA (for key beacons, mesp_tesla_beacons(), and
 * store expiry, mesp_tesla_poll()).
 */
const struct gsad_tesla_sa *gsad_snap_tesla(const struct gsad_snap *s, uint32_t *n);

/**
 * Control thread, a few times per TESLA interval: mesp_tesla_tick() for every TESLA SA.
 * @return 0, or the first error (the others were still ticked).
 */
int gsad_tesla_tick(struct gsad *db, uint64_t now_ns);

#endif /* GSAD_H */
