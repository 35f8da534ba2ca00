/* SPDX-License-Identifier: BSD-3-Clause */
/* msec-gcks: the key server process around lib/gcks (doc/key-management.md). */
#ifndef GCKS_APP_H
#define GCKS_APP_H

#include <stdint.h>
#include <sys/socket.h>

#include "gcks.h"

#define APP_PATH_MAX 4096
#define APP_MAX_GROUPS 64
#define APP_ERR_MAX 512

/** One group of the configuration file. */
struct app_group {
	char token_path[APP_PATH_MAX];
	struct gcks_group_conf conf;         /**< token filled in at start */
	uint8_t ttl;                         /**< multicast TTL of Rekey Events */
	struct sockaddr_storage parent_rekey; /**< sub-GC/KS: the parent's rekey group to join
					       *   (family 0 = none: unicast rekeys only) */
};

/** The configuration file (doc/key-management.md, "msec-gcks configuration"). */
struct app_conf {
	char key_path[APP_PATH_MAX];
	char cert_path[APP_PATH_MAX];
	char members_ca[APP_PATH_MAX];       /**< anchors for members' certificates */
	char go_ca[APP_PATH_MAX];            /**< anchors for policy tokens */
	char state[APP_PATH_MAX];            /**< SQLite file */
	char ctl[APP_PATH_MAX];              /**< control socket */
	struct sockaddr_storage listen;
	socklen_t listen_len;
	uint16_t kek_alg;
	uint32_t nb_groups;
	struct app_group groups[APP_MAX_GROUPS];
};

/**
 * Read and check a configuration file. Relative paths are taken from the file's directory.
 * @param err "FILE: JSON.path: what was expected, got what" on failure.
 */
int app_conf_load(const char *path, struct app_conf *c, char err[APP_ERR_MAX]);

/** Answer one control request (JSON text); *reply is malloc'd JSON text. */
int app_ctl_handle(struct gcks *k, struct gstore *st, const char *req, size_t len,
		int64_t now_ms, char **reply);

#endif
