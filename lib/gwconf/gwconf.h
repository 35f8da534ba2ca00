/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The gateway's JSON configuration, parsed and validated into plain C structures.
 *
 * No DPDK dependency: the parser is unit tested and fuzzed on its own. Validation is strict:
 * unknown keys, wrong types, bad hex, duplicate names or SPIs, keys that do not fit the suite
 * and dangling references are errors that name the file, the JSON path and what was expected,
 * e.g. `gw.json: groups[2].sas[0].key: expected 40 hex digits (16-byte key + 4-byte salt), got 38`.
 * doc/configuration.md documents every key.
 */
#ifndef GWCONF_H
#define GWCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "mcrypto.h"

#define GWCONF_NAME_MAX 32         /**< names of ports and groups, NUL included */
#define GWCONF_DEV_MAX 64          /**< DPDK device names, NUL included */
#define GWCONF_PATH_MAX 108        /**< Unix socket path (sun_path), NUL included */
#define GWCONF_MAX_PORTS 8
#define GWCONF_MAX_SIDS 64         /**< sender IDs this node may hold for one SA */
#define GWCONF_KEYMAT_MAX MCRYPTO_MAX_KEYMAT_LEN
#define GWCONF_ERR_MAX 512         /**< size of the error message buffer */
#define GWCONF_FILE_MAX 4096       /**< file paths of "gkm" (resolved), NUL included */
#define GWCONF_GKM_PORT 3761       /**< GSAKMP's UDP port (RFC 4535 §9.1), the default of every port
				    *   of "gkm" and "key_server" */
#define GWCONF_GID_LEN 8           /**< "group_id": the policy token's random octets */

/** An IPv4 or IPv6 address. IPv4 is kept in the first 4 bytes of `a`, the rest zero. */
struct gwconf_addr {
	uint8_t family;     /**< AF_INET, AF_INET6, or 0 when absent (wildcard) */
	uint8_t a[16];
};

enum gwconf_port_role {
	GWCONF_ROLE_PROTECTED = 1,   /**< plaintext side */
	GWCONF_ROLE_UNPROTECTED = 2, /**< group ESP side */
};

enum gwconf_action {
	GWCONF_ACT_BYPASS = 1,
	GWCONF_ACT_DISCARD = 2,
	GWCONF_ACT_PROTECT = 3,
};

struct gwconf_port {
	char name[GWCONF_NAME_MAX];   /**< "name": operator's name */
	char dev[GWCONF_DEV_MAX];     /**< "device": DPDK device name, e.g. "net_ring0" or a PCI address */
	enum gwconf_port_role role;   /**< "role": "protected" | "unprotected" */
	uint16_t queues;              /**< "queues": RX queues (RSS when > 1), default 1 */
	uint16_t mtu;                 /**< "mtu": default 1500 */
	uint16_t rx_desc, tx_desc;    /**< "rx_desc"/"tx_desc": default 1024 */
	enum gwconf_action dflt;      /**< "default": "bypass" | "discard" for traffic no policy matches;
				       *   default "discard" on protected ports, "bypass" on unprotected */
	bool promiscuous;             /**< "promiscuous": default false (allmulticast is always on) */
};

enum gwconf_dir {
	GWCONF_DIR_SENDER = 1,     /**< outbound only */
	GWCONF_DIR_RECEIVER = 2,   /**< inbound only */
	GWCONF_DIR_SYMMETRIC = 3,  /**< both (RFC 5374 §4.1.1) */
};

/** "copy" is encoded as -1 in ttl and dscp. */
#define GWCONF_COPY (-1)

struct gwconf_lifetime {
	uint64_t soft_seconds, hard_seconds;   /**< 0 = unlimited */
	uint64_t soft_bytes, hard_bytes;       /**< 0 = unlimited */
};

#define GWCONF_TESLA_MAX_SENDERS 8  /**< TESLA senders one receiving SA knows */
#define GWCONF_TESLA_KEY_LEN 32     /**< chain keys and commitments (TESLA_KEY_LEN) */

/** One TESLA sender as a receiver knows it ("tesla.senders[k]"). */
struct gwconf_tesla_sender {
	uint16_t nb_sids;                   /**< "sids": the sender IDs this sender sends with
					     *   (1..GWCONF_MAX_SIDS, unique across the SA's
					     *   senders; [0] for suites without IV) */
	uint16_t sids[GWCONF_MAX_SIDS];
	uint32_t chain;                     /**< "chain": index of the chain the commitment is
					     *   for, default 0 */
	uint8_t commitment[GWCONF_TESLA_KEY_LEN]; /**< "commitment": 64 hex digits, F(K_0) of
					     *   that chain (public) */
	bool has_clock_bound;               /**< "clock_bound_ms" present: without it the sender
					     *   stays unsynced (doc/tesla.md) */
	int64_t clock_bound_ns;             /**< "clock_bound_ms": D_t, a number of milliseconds
					     *   (fractions allowed, negative allowed), stored in ns;
					     *   must be < delay * interval_ms */
};

/**
 * TESLA parameters of an SA whose suite ends in "+tesla" ("tesla" object; doc/tesla.md,
 * doc/configuration.md). Present exactly when the suite asks for it.
 */
struct gwconf_tesla {
	uint64_t t0_ns;                     /**< "t0_ms": start of interval 0, Unix time in ms
					     *   (required), stored in ns */
	uint64_t interval_ns;               /**< "interval_ms": T_int, 1..60000 (required) */
	uint32_t d;                         /**< "delay": disclosure delay d, 2..255, default 2 */
	uint32_t chain_length;              /**< "chain_length": N + 1 keys per chain,
					     *   d + last_key_window + commitment_window ..
					     *   2^24, default 360000 */
	enum mcrypto_mac mac;               /**< "mac": "hmac-sha256-128" (default) |
					     *   "aes-gmac-128" (refused for suites without IV) */
	uint32_t max_walk;                  /**< "max_walk": g, 1..chain_length, default
					     *   min(500, chain_length) */
	uint32_t newkcc;                    /**< "commitment_window": n_newkcc, >= 1, default
					     *   min(500, chain_length - d - last_key_window) */
	uint32_t lastkey;                   /**< "last_key_window": n_lastkey, >= 1, default d;
					     *   d + last_key_window + commitment_window <=
					     *   chain_length */
	bool has_chain_key;                 /**< "chain_key" present (senders only) */
	uint8_t chain_key[GWCONF_TESLA_KEY_LEN]; /**< "chain_key": 64 hex digits, K_N of chain
					     *   `chain` (secret; without it the gateway draws a
					     *   random chain, the one holding the interval it starts
					     *   in, and shows its index and commitment) */
	uint32_t chain;                     /**< "chain": index of the chain chain_key ends
					     *   (only with chain_key), default 0; the gateway sends on
					     *   it from its start (or from T_0), and refuses an SA
					     *   whose chain has already ended */
	uint16_t nb_senders;                /**< "senders": required and non-empty when the SA
					     *   receives, refused when it only sends */
	struct gwconf_tesla_sender senders[GWCONF_TESLA_MAX_SENDERS];
	uint32_t bucket_bytes;              /**< "bucket_bytes": store cap per sender and
					     *   interval, bytes, 4096..2^30, default 1 MiB */
	uint32_t bucket_packets;            /**< "bucket_packets": store cap per sender and
					     *   interval, packets, 16..2^22, default 4096 */
	uint32_t copy_max;                  /**< "copy_max": held packets of up to this many
					     *   bytes are copied, larger ones keep their mbuf;
					     *   0..2048, default 512 */
	bool fail_open;                     /**< "fail": "close" (default) | "open": what an
					     *   unsynced receiver does with this SA's packets (the
					     *   group's policy, given on each of its TESLA SAs) */
};

/** One group SA ("groups[i].sas[j]"). */
struct gwconf_sa {
	uint32_t spi;                       /**< "spi": number or "0x..." string, 256..2^32-1 */
	enum gwconf_dir dir;                /**< "direction" */
	enum mcrypto_suite suite;           /**< "suite": "aes-gcm-128" | "aes-gcm-256" |
					     *   "aes-gmac-128" | "null-hmac-sha256-128" |
					     *   "aes-ctr-128-hmac-sha256-128" */
	uint8_t keymat[GWCONF_KEYMAT_MAX];  /**< "key" then "auth_key", decoded: key || 4-byte salt
					     *   or nonce (RFC 4106 §8.1, RFC 4543 §5.4, RFC 3686
					     *   §5.1) || HMAC key (the mcrypto KEYMAT) */
	uint8_t keymat_len;
	uint8_t sid_bits;                   /**< "sid_bits": 8, 12 or 16 (RFC 6054 §3), default 8;
					     *   refused for suites without IV */
	uint16_t nb_sids;                   /**< "sids": this node's sender IDs; required if it
					     *   sends; exactly one for suites without IV */
	uint16_t sids[GWCONF_MAX_SIDS];
	uint32_t replay_window;             /**< "replay_window": bits, 0 = disabled (explicit only),
					     *   default 1024, max 65536 */
	bool esn;                           /**< "esn": 64-bit extended sequence numbers, default true */
	struct gwconf_lifetime life;        /**< "lifetime": {soft,hard}_{seconds,bytes} */
	uint32_t activation_delay_ms;       /**< "activation_delay_ms": sender starts using it later */
	uint32_t deactivation_delay_ms;     /**< "deactivation_delay_ms": with "replaces", the SA
					     *   replaced is removed this long after this SA is
					     *   added (the rekey event, RFC 5374 §4.2.1); defaults to
					     *   activation_delay_ms and may not be smaller */
	int16_t ttl;                        /**< "ttl": "copy" (default) or 1..255 for the outer header */
	int16_t dscp;                       /**< "dscp": "copy" (default) or 0..63 */
	bool has_replaces;                  /**< "replaces": SPI of an SA of the same group that
					     *   this one supersedes (make-before-break) */
	uint32_t replaces;
	bool tesla;                         /**< the suite was written "<suite>+tesla" */
	struct gwconf_tesla tl;             /**< "tesla": valid when `tesla` */
};

/**
 * A group is keyed either statically ("sas") or by a key server ("key_server",
 * doc/key-management.md); exactly one of the two is given.
 */
struct gwconf_group {
	char name[GWCONF_NAME_MAX];   /**< "name"; with a key server also the token's group name,
				       *   the tail of the GSAKMP GroupID */
	struct gwconf_addr group;     /**< "address": IPv4 or IPv6 multicast address */
	struct gwconf_addr source;    /**< "source": SSM source (same family), absent = ASM */
	int protected_port;           /**< "protected_port": index into ports, default the only one */
	int unprotected_port;         /**< "unprotected_port": index into ports */
	uint16_t nb_sas;
	struct gwconf_sa *sas;        /**< "sas": at least one; none (NULL) when `gkm` */
	bool gkm;                     /**< "key_server" given (then nb_sas == 0, sas == NULL); the
				       *   top-level "gkm" is then present too */
	struct gwconf_addr ks;        /**< "key_server.address": unicast (IPv4 or IPv6) address of
				       *   msec-gcks; loopback allowed */
	uint16_t ks_port;             /**< "key_server.port": 1..65535, default 3761 */
	uint8_t gid[GWCONF_GID_LEN];  /**< "key_server.group_id": 16 hex digits, the policy token's
				       *   group.id; the GSAKMP GroupID is gid || name */
	struct gwconf_addr rekey_group; /**< "key_server.rekey_address": multicast address of the
				       *   key server's Rekey Events, joined on gkm.interface;
				       *   family 0 = none (unicast rekeys only) */
	uint16_t rekey_port;          /**< "key_server.rekey_port": 1..65535, default 3761 (only
				       *   with rekey_address) */
	int16_t sids;                 /**< "key_server.sids": sender IDs to ask for, 0..64 (0:
				       *   receive only); -1 = not given, the app asks for one per
				       *   worker */
	bool fail_open;               /**< "key_server.fail": "close" (default, false): drop the
				       *   group's traffic until keys arrive; "open" (true): forward
				       *   it in the clear until then */
};

/** Outbound policy entry ("policies[i]"), evaluated most specific first. */
struct gwconf_policy {
	struct gwconf_addr dst;       /**< "group": multicast destination (required) */
	struct gwconf_addr src;       /**< "source": absent = (*,G) */
	uint16_t dport_lo, dport_hi;  /**< "udp_dport": port or [lo, hi]; 0/0 = any */
	enum gwconf_action action;    /**< "action" */
	int group;                    /**< "protect_group": group index when action is protect */
};

/**
 * The gateway as a GSAKMP group member ("gkm", doc/key-management.md): required when a group
 * has a "key_server", allowed without one. Relative paths are taken from the configuration
 * file's directory (from the current directory for gwconf_load_buffer()) and stored resolved;
 * the files themselves are read by the application, not by the parser.
 */
struct gwconf_gkm {
	bool enabled;                 /**< "gkm" present */
	char key[GWCONF_FILE_MAX];    /**< "identity.key": the member's private signing key */
	char cert[GWCONF_FILE_MAX];   /**< "identity.cert": its certificate */
	char gcks_ca[GWCONF_FILE_MAX]; /**< "trust.gcks_ca": CA certificates key servers'
				       *   certificates must chain to */
	char go_ca[GWCONF_FILE_MAX];  /**< "trust.group_owner_ca": CA certificates the policy
				       *   token's signature must chain to */
	struct gwconf_addr listen;    /**< "listen.address": unicast or unspecified; family 0 = any
				       *   IPv4 (the default, and what "0.0.0.0" is stored as) */
	uint16_t port;                /**< "listen.port": 1..65535, default 3761 */
	struct gwconf_addr interface; /**< "interface": unicast address of the interface rekey
				       *   multicast groups are joined on; family 0 = none given
				       *   (the kernel chooses) */
};

struct gwconf {
	char file[256];               /**< path the configuration came from (for messages) */
	char ctl_socket[GWCONF_PATH_MAX]; /**< "control.socket", default "/run/msecgw/msecgw.sock" */
	uint32_t nb_mbufs;            /**< "mbufs": mempool size, default 8191 */
	uint16_t burst;               /**< "burst": RX burst, default 32, 1..256 */
	uint32_t max_sas;             /**< "max_sas": SA slots (stats and records), default 4096 */
	uint16_t max_senders;         /**< "max_senders": replay windows per inbound SA, default 16 */
	bool clock_check;             /**< "clock.check": "adjtimex" (default, true): the local
				       *   clock counts as synchronised only while the kernel says
				       *   so within clock.max_error_ms; "none" (false): always
				       *   (labs, simulated clocks) */
	uint32_t clock_max_error_ms;  /**< "clock.max_error_ms": 1..10000, default 10 */
	uint16_t nb_ports;
	struct gwconf_port ports[GWCONF_MAX_PORTS];
	uint16_t nb_groups;
	struct gwconf_group *groups;
	uint16_t nb_policies;
	struct gwconf_policy *policies;
	struct gwconf_gkm gkm;        /**< "gkm": valid when gkm.enabled */
};

/**
 * Parse and validate a configuration file. Relative paths in it ("gkm") are resolved against
 * the directory of `path`.
 * @param path file to read.
 * @param out receives a heap object; free with gwconf_free().
 * @param err receives a one-line message naming file, JSON path and what was expected.
 * @return 0 or a negative errno (-EINVAL for invalid content, -ENOENT etc. for I/O).
 */
int gwconf_load_file(const char *path, struct gwconf **out, char err[GWCONF_ERR_MAX]);

/**
 * Parse and validate a configuration held in memory (used by the built-in demo and the fuzzer).
 * Relative paths in it ("gkm") stay relative: to the current directory.
 * @param name what messages call the source, e.g. "<demo>".
 */
int gwconf_load_buffer(const char *name, const char *buf, size_t len, struct gwconf **out,
		char err[GWCONF_ERR_MAX]);

/**
 * Parse one SA object as used by `msecctl sa add|replace <file>`: the same keys as
 * groups[i].sas[j] plus "group" (a group name that must exist in `conf` and be keyed
 * statically: a key server's groups take no SAs by hand).
 * @param group_idx receives the index of the named group.
 */
int gwconf_parse_sa_json(const struct gwconf *conf, const char *name, const char *buf, size_t len,
		struct gwconf_sa *sa, int *group_idx, char err[GWCONF_ERR_MAX]);

/** Wipe all key material and free. NULL is allowed. */
void gwconf_free(struct gwconf *c);

/** Format an address for messages ("239.1.1.1", "ff3e::1", "*" when absent). */
const char *gwconf_addr_str(const struct gwconf_addr *a, char *buf, size_t len);

#endif /* GWCONF_H */
