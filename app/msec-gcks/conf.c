/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-gcks configuration file (doc/key-management.md §9). Every error names the file, the
 * JSON path and what was expected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gcks_app.h"

struct ctx {
	const char *file;
	char dir[APP_PATH_MAX];
	char *err;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, APP_ERR_MAX, "%.150s: %.80s: %s", c->file, path, what);
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Unknown keys are mistakes (a typo would silently take a default). */
static int check_keys(struct ctx *c, json_t *o, const char *path, const char *const *keys)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return fail(c, path, "expected an object, got %s", type_name(o));
	json_object_foreach(o, k, v) {
		bool known = false;

		for (const char *const *p = keys; *p != NULL; p++)
			known |= strcmp(*p, k) == 0;
		if (!known)
			return fail(c, path, "unknown member \"%s\"", k);
	}
	return 0;
}

static int get_path(struct ctx *c, json_t *o, const char *parent, const char *key,
		bool required, char out[APP_PATH_MAX])
{
	char path[256];
	json_t *v = json_object_get(o, key);
	const char *s;

	snprintf(path, sizeof(path), "%s.%s", parent, key);
	if (v == NULL) {
		if (required)
			return fail(c, path, "missing (expected a file name)");
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return fail(c, path, "expected a file name, got %s", type_name(v));
	s = json_string_value(v);
	if (s[0] == '/' || c->dir[0] == '\0')
		snprintf(out, APP_PATH_MAX, "%s", s);
	else if ((size_t)snprintf(out, APP_PATH_MAX, "%s/%s", c->dir, s) >= APP_PATH_MAX)
		return fail(c, path, "path too long");
	return 0;
}

static int get_u32(struct ctx *c, json_t *o, const char *parent, const char *key, uint32_t lo,
		uint32_t hi, uint32_t *out)
{
	char path[256];
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s.%s", parent, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(c, path, "expected an integer %u..%u, got %s", lo, hi,
				json_is_integer(v) ? "a value out of range" : type_name(v));
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int get_addr(struct ctx *c, json_t *v, const char *path, uint16_t port,
		struct sockaddr_storage *ss, socklen_t *len)
{
	const char *s;

	memset(ss, 0, sizeof(*ss));
	if (!json_is_string(v))
		return fail(c, path, "expected an IPv4 or IPv6 address, got %s", type_name(v));
	s = json_string_value(v);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	return fail(c, path, "expected an IPv4 or IPv6 address, got \"%s\"", s);
}

static bool is_multicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int get_rekey(struct ctx *c, json_t *o, const char *parent, struct app_group *g)
{
	static const char *const keys[] = { "transport", "address", "port", "resend_interval_ms",
		"heartbeat_s", "ttl", NULL };
	char path[256];
	uint32_t port = GSAKMP_PORT, ttl = 16;
	json_t *v;
	int rc;

	if (o == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s.rekey", parent);
	rc = check_keys(c, o, path, keys);
	if (rc == 0)
		rc = get_u32(c, o, path, "port", 1, 65535, &port);
	if (rc == 0)
		rc = get_u32(c, o, path, "resend_interval_ms", 10, 60000,
				&g->conf.resend_interval_ms);
	if (rc == 0)
		rc = get_u32(c, o, path, "heartbeat_s", 1, 86400, &g->conf.heartbeat_s);
	if (rc == 0)
		rc = get_u32(c, o, path, "ttl", 1, 255, &ttl);
	if (rc != 0)
		return rc;
	g->ttl = (uint8_t)ttl;
	v = json_object_get(o, "address");
	if (v != NULL) {
		char p2[300];

		snprintf(p2, sizeof(p2), "%s.address", path);
		rc = get_addr(c, v, p2, (uint16_t)port, &g->conf.rekey_addr,
				&g->conf.rekey_addr_len);
		if (rc != 0)
			return rc;
		if (!is_multicast(&g->conf.rekey_addr))
			return fail(c, p2, "expected a multicast address");
	}
	v = json_object_get(o, "transport");
	if (v != NULL) {
		const char *t = json_is_string(v) ? json_string_value(v) : "";
		char p2[300];

		snprintf(p2, sizeof(p2), "%s.transport", path);
		if (strcmp(t, "multicast") == 0)
			g->conf.rekey_transport = GCKS_RT_MULTICAST;
		else if (strcmp(t, "unicast") == 0)
			g->conf.rekey_transport = GCKS_RT_UNICAST;
		else if (strcmp(t, "both") == 0)
			g->conf.rekey_transport = GCKS_RT_BOTH;
		else
			return fail(c, p2, "expected \"multicast\", \"unicast\" or \"both\"");
		if ((g->conf.rekey_transport & GCKS_RT_MULTICAST) &&
				g->conf.rekey_addr.ss_family == 0)
			return fail(c, p2, "multicast rekeys need %s.address", path);
	}
	return 0;
}

static int get_group(struct ctx *c, json_t *o, const char *path, struct app_group *g)
{
	static const char *const keys[] = { "token", "max_members", "batch_ms", "mtu", "rekey",
		"limits", "parent", NULL };
	static const char *const pkeys[] = { "address", "port", "sids", "rekey_address", NULL };
	static const char *const lkeys[] = { "max_sids_per_member", "cookie_pending",
		"cookie_rate", "join_rate_per_source", "max_pending", NULL };
	json_t *l;
	int rc;

	rc = check_keys(c, o, path, keys);
	if (rc == 0)
		rc = get_path(c, o, path, "token", true, g->token_path);
	if (rc == 0)
		rc = get_u32(c, o, path, "max_members", 1, 1u << 24, &g->conf.max_members);
	if (rc == 0)
		rc = get_u32(c, o, path, "batch_ms", 0, 60000, &g->conf.batch_ms);
	if (rc == 0)
		rc = get_u32(c, o, path, "mtu", 576, 65000, &g->conf.mtu);
	if (rc == 0)
		rc = get_rekey(c, json_object_get(o, "rekey"), path, g);
	if (rc != 0)
		return rc;
	l = json_object_get(o, "parent");
	if (l != NULL) {
		char pp[256], ap[300];
		uint32_t port = GSAKMP_PORT, sids = 16;
		json_t *a;

		snprintf(pp, sizeof(pp), "%s.parent", path);
		snprintf(ap, sizeof(ap), "%s.address", pp);
		rc = check_keys(c, l, pp, pkeys);
		if (rc == 0)
			rc = get_u32(c, l, pp, "port", 1, 65535, &port);
		if (rc == 0)
			rc = get_u32(c, l, pp, "sids", 1, 64, &sids);
		if (rc != 0)
			return rc;
		a = json_object_get(l, "address");
		if (a == NULL)
			return fail(c, ap, "missing (expected the parent key server's address)");
		rc = get_addr(c, a, ap, (uint16_t)port, &g->conf.parent, &g->conf.parent_len);
		if (rc != 0)
			return rc;
		if (is_multicast(&g->conf.parent))
			return fail(c, ap, "expected a unicast address");
		g->conf.parent_sids = (uint16_t)sids;
		a = json_object_get(l, "rekey_address");
		if (a != NULL) {
			socklen_t rl;

			snprintf(ap, sizeof(ap), "%s.rekey_address", pp);
			rc = get_addr(c, a, ap, 0, &g->parent_rekey, &rl);
			if (rc != 0)
				return rc;
			if (!is_multicast(&g->parent_rekey))
				return fail(c, ap, "expected a multicast address (where the parent "
						"sends its Rekey Events)");
		}
	}
	l = json_object_get(o, "limits");
	if (l != NULL) {
		char lp[256];
		uint32_t sids = 0;

		snprintf(lp, sizeof(lp), "%s.limits", path);
		rc = check_keys(c, l, lp, lkeys);
		if (rc == 0)
			rc = get_u32(c, l, lp, "max_sids_per_member", 1, 64, &sids);
		if (rc == 0)
			rc = get_u32(c, l, lp, "cookie_pending", 1, 1u << 20, &g->conf.cookie_pending);
		if (rc == 0)
			rc = get_u32(c, l, lp, "cookie_rate", 1, 1u << 20, &g->conf.cookie_rate);
		if (rc == 0)
			rc = get_u32(c, l, lp, "join_rate_per_source", 1, 1u << 20,
					&g->conf.join_rate_per_source);
		if (rc == 0)
			rc = get_u32(c, l, lp, "max_pending", 1, 1u << 24, &g->conf.max_pending);
		g->conf.max_sids_per_member = (uint16_t)sids;
	}
	return rc;
}

static int parse(struct ctx *c, json_t *root, struct app_conf *conf)
{
	static const char *const keys[] = { "identity", "trust", "listen", "state",
		"control_socket", "kek_protection", "groups", NULL };
	static const char *const ikeys[] = { "key", "cert", NULL };
	static const char *const tkeys[] = { "members_ca", "group_owner_ca", NULL };
	static const char *const lkeys[] = { "address", "port", NULL };
	json_t *v, *groups;
	uint32_t port = GSAKMP_PORT;
	int rc;

	rc = check_keys(c, root, "$", keys);
	if (rc != 0)
		return rc;
	v = json_object_get(root, "identity");
	if (v == NULL)
		return fail(c, "$.identity", "missing (expected {\"key\": ..., \"cert\": ...})");
	rc = check_keys(c, v, "$.identity", ikeys);
	if (rc == 0)
		rc = get_path(c, v, "$.identity", "key", true, conf->key_path);
	if (rc == 0)
		rc = get_path(c, v, "$.identity", "cert", true, conf->cert_path);
	if (rc != 0)
		return rc;
	v = json_object_get(root, "trust");
	if (v == NULL)
		return fail(c, "$.trust", "missing (expected {\"members_ca\": ..., "
				"\"group_owner_ca\": ...})");
	rc = check_keys(c, v, "$.trust", tkeys);
	if (rc == 0)
		rc = get_path(c, v, "$.trust", "members_ca", true, conf->members_ca);
	if (rc == 0)
		rc = get_path(c, v, "$.trust", "group_owner_ca", true, conf->go_ca);
	if (rc == 0)
		rc = get_path(c, root, "$", "state", true, conf->state);
	if (rc == 0)
		rc = get_path(c, root, "$", "control_socket", false, conf->ctl);
	if (rc != 0)
		return rc;
	v = json_object_get(root, "kek_protection");
	conf->kek_alg = GSAKMP_KEK_AES256_GCM;
	if (v != NULL) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";

		if (strcmp(s, "aes-256-gcm") == 0)
			conf->kek_alg = GSAKMP_KEK_AES256_GCM;
		else if (strcmp(s, "aes-256-kwp") == 0)
			conf->kek_alg = GSAKMP_KEK_AES256_KWP;
		else
			return fail(c, "$.kek_protection", "expected \"aes-256-gcm\" or "
					"\"aes-256-kwp\"");
	}
	v = json_object_get(root, "listen");
	if (v != NULL) {
		json_t *a;

		rc = check_keys(c, v, "$.listen", lkeys);
		if (rc == 0)
			rc = get_u32(c, v, "$.listen", "port", 1, 65535, &port);
		if (rc != 0)
			return rc;
		a = json_object_get(v, "address");
		if (a != NULL)
			rc = get_addr(c, a, "$.listen.address", (uint16_t)port, &conf->listen,
					&conf->listen_len);
		if (rc != 0)
			return rc;
	}
	if (conf->listen_len == 0) {
		struct sockaddr_in *a = (struct sockaddr_in *)&conf->listen;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		conf->listen_len = sizeof(*a);
	}
	groups = json_object_get(root, "groups");
	if (!json_is_array(groups) || json_array_size(groups) == 0)
		return fail(c, "$.groups", "expected an array of 1..%d groups", APP_MAX_GROUPS);
	if (json_array_size(groups) > APP_MAX_GROUPS)
		return fail(c, "$.groups", "at most %d groups", APP_MAX_GROUPS);
	for (size_t i = 0; i < json_array_size(groups); i++) {
		char path[64];

		snprintf(path, sizeof(path), "$.groups[%zu]", i);
		rc = get_group(c, json_array_get(groups, i), path, &conf->groups[i]);
		if (rc != 0)
			return rc;
		conf->nb_groups++;
	}
	return 0;
}

int app_conf_load(const char *path, struct app_conf *conf, char err[APP_ERR_MAX])
{
	struct ctx c = { .file = path, .err = err };
	json_error_t je;
	json_t *root;
	char tmp[APP_PATH_MAX];
	int rc;

	memset(conf, 0, sizeof(*conf));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(c.dir, sizeof(c.dir), "%s", dirname(tmp));
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(err, APP_ERR_MAX, "%.200s:%d:%d: %s", path, je.line, je.column, je.text);
		return -EINVAL;
	}
	rc = parse(&c, root, conf);
	json_decref(root);
	return rc;
}
