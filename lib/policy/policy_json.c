/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Group Owner's JSON policy (doc/policy-token.md) in, and a token's JSON view out.
 *
 * Strict, like the gateway configuration: each object's keys are checked against its list
 * before any value is read, each value's JSON type before its content, and every error is one
 * line naming the source, the JSON path and what was expected:
 *   policy.json: registration.members.allow[2].subject: expected an RFC 4514 DN pattern ...
 * A policy holds no secrets (it is signed, not encrypted), so nothing here needs wiping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_pvt.h"

#define JPATH_MAX 160
#define SHOW_MAX 40
#define FILE_MAX (1u << 20)
#define MAX_INTERVAL 0x7fffffff
#define DEFAULT_TIMEOUT 30
#define DEFAULT_DEGREE 4
#define DEFAULT_SILENCE 86400
#define DEFAULT_WINDOW 1024
#define DEFAULT_LIFETIME 86400

struct ctx {
	const char *name;
	char *err;
	char show[SHOW_MAX + 8];
};

struct name_val {
	const char *name;
	int val;
};

static const struct name_val suites[] = {
	{ "aes-gcm-128", POLICY_SUITE_AES_GCM_128 },
	{ "aes-gcm-256", POLICY_SUITE_AES_GCM_256 },
	{ "aes-gmac-128", POLICY_SUITE_AES_GMAC_128 },
	{ "aes-cbc-128+hmac-sha256-128", POLICY_SUITE_AES_CBC_128_HMAC_SHA256_128 },
	{ "null-hmac-sha256-128", POLICY_SUITE_NULL_HMAC_SHA256_128 },
	{ "aes-ctr-128-hmac-sha256-128", POLICY_SUITE_AES_CTR_128_HMAC_SHA256_128 },
	{ NULL, 0 },
};
static const struct name_val aps[] = {
	{ "none", POLICY_AP_NONE },
	{ "src", POLICY_AP_SRC },
	{ "dst", POLICY_AP_DST },
	{ "src-dst", POLICY_AP_SRC_DST },
	{ NULL, 0 },
};
static const struct name_val directions[] = {
	{ "senders-to-members", POLICY_DIR_SENDERS },
	{ "symmetric", POLICY_DIR_SYMMETRIC },
	{ NULL, 0 },
};
static const struct name_val transports[] = {
	{ "tcp", POLICY_TRANSPORT_TCP },
	{ "udp", POLICY_TRANSPORT_UDP },
	{ "udp-rtj-tcp-other", POLICY_TRANSPORT_UDP_RTJ_TCP_OTHER },
	{ NULL, 0 },
};
static const struct name_val security_suites[] = {
	{ "msecgw-suite-1", 1 },
	{ NULL, 0 },
};
static const struct name_val methods[] = {
	{ "lkh", POLICY_REKEY_LKH },
	{ "none", POLICY_REKEY_NONE },
	{ NULL, 0 },
};
static const struct name_val wraps[] = {
	{ "aes-256-kw", POLICY_WRAP_AES256_KW },
	{ "aes-256-gcm", POLICY_WRAP_AES256_GCM },
	{ NULL, 0 },
};
static const struct name_val reliabilities[] = {
	{ "none", POLICY_REL_NONE },
	{ "resend", POLICY_REL_RESEND },
	{ "post", POLICY_REL_POST },
	{ NULL, 0 },
};

static const char *const root_keys[] = {
	"group", "edition", "validity", "registration", "rekey", "data", NULL
};
static const char *const group_keys[] = { "name", "id", NULL };
static const char *const validity_keys[] = {
	"not_before", "not_after", "lifetime_seconds", NULL
};
static const char *const reg_keys[] = {
	"suite", "transport", "timeout_seconds", "deregistration", "deregistration_transport",
	"gcks", "sub_gcks", "senders", "members", NULL
};
static const char *const acl_keys[] = { "allow", "exclude", NULL };
static const char *const rule_keys[] = {
	"subject", "dns", "email", "ip", "issuer", "ca_key_id", NULL
};
static const char *const rekey_lkh_keys[] = {
	"method", "degree", "key_wrap", "period_seconds", "events", "max_silence_seconds",
	"reliability", NULL
};
static const char *const rekey_none_keys[] = { "method", NULL };
static const char *const rel_keys[] = { "mechanism", "count", "url", NULL };
static const char *const data_keys[] = {
	"suite", "tesla", "sid_bits", "replay_window", "esn", "address_preservation",
	"direction", "activation_delay_ms", "deactivation_delay_ms", "lifetime_seconds",
	"group_address", "source_address", NULL
};

/* ------------------------------------------------------------------ messages */

static void printable(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (i == SHOW_MAX) {
			if (n + 4 < cap) {
				memcpy(dst + n, "...", 3);
				n += 3;
			}
			break;
		}
		dst[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[n] = '\0';
}

static const char *jtype(const json_t *v)
{
	if (v == NULL)
		return "nothing";
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
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

/* What a message says it got: strings quoted (shortened, printable), integers shown. */
static const char *quote(struct ctx *c, const json_t *v)
{
	char body[SHOW_MAX + 4];

	if (v != NULL && json_is_integer(v)) {
		snprintf(c->show, sizeof(c->show), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return c->show;
	}
	if (v == NULL || !json_is_string(v))
		return jtype(v);
	printable(body, sizeof(body), json_string_value(v), json_string_length(v));
	snprintf(c->show, sizeof(c->show), "\"%s\"", body);
	return c->show;
}

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[POLICY_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path != NULL && path[0] != '\0')
		return policy_fail(c->err, POLICY_E_JSON, "%s: %s: %s", c->name, path, msg);
	return policy_fail(c->err, POLICY_E_JSON, "%s: %s", c->name, msg);
}

static const char *jkey(char path[JPATH_MAX], const char *parent, const char *key)
{
	char k[SHOW_MAX + 4];

	printable(k, sizeof(k), key, strlen(key));
	if (snprintf(path, JPATH_MAX, "%s%s%s", parent, parent[0] != '\0' ? "." : "", k) < 0)
		path[0] = '\0';
	return path;
}

static const char *jidx(char path[JPATH_MAX], const char *parent, size_t i)
{
	if (snprintf(path, JPATH_MAX, "%s[%zu]", parent, i) < 0)
		path[0] = '\0';
	return path;
}

/* ------------------------------------------------------------------ typed values */

static int check_keys(struct ctx *c, json_t *o, const char *path, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		char list[320], p[JPATH_MAX];
		size_t i, n = 0;

		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] != NULL)
			continue;
		list[0] = '\0';
		for (i = 0; keys[i] != NULL && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					keys[i]);
		return fail(c, jkey(p, path, k), "expected one of the keys %s, got an unknown key",
				list);
	}
	return 0;
}

/* Member `key` of `o` as an object; NULL with *rc = 0 when absent and optional. */
static json_t *get_object(struct ctx *c, json_t *o, const char *parent, const char *key,
		bool required, const char *const *keys, char path[JPATH_MAX], int *rc)
{
	json_t *v = json_object_get(o, key);

	jkey(path, parent, key);
	*rc = 0;
	if (v == NULL && !required)
		return NULL;
	if (v == NULL || !json_is_object(v)) {
		*rc = fail(c, path, "expected an object, got %s", jtype(v));
		return NULL;
	}
	*rc = check_keys(c, v, path, keys);
	return *rc == 0 ? v : NULL;
}

static int get_uint(struct ctx *c, const json_t *v, const char *path, uint64_t lo, uint64_t hi,
		uint64_t *out)
{
	json_int_t x;

	if (v == NULL || !json_is_integer(v))
		return fail(c, path, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %s", lo,
				hi, quote(c, v));
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
		return fail(c, path, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %"
				JSON_INTEGER_FORMAT, lo, hi, x);
	*out = (uint64_t)x;
	return 0;
}

static int opt_u32(struct ctx *c, json_t *o, const char *parent, const char *key, uint32_t lo,
		uint32_t hi, uint32_t dflt, uint32_t *out)
{
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, key);
	uint64_t x = 0;
	int rc;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	rc = get_uint(c, v, jkey(path, parent, key), lo, hi, &x);
	if (rc == 0)
		*out = (uint32_t)x;
	return rc;
}

static int opt_bool(struct ctx *c, json_t *o, const char *parent, const char *key, bool dflt,
		bool *out)
{
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return fail(c, jkey(path, parent, key), "expected true or false, got %s",
				quote(c, v));
	*out = json_is_true(v);
	return 0;
}

/* A string member naming one of `tbl`; when absent, `dflt` (or an error if required). */
static int get_enum(struct ctx *c, json_t *o, const char *parent, const char *key,
		const struct name_val *tbl, bool required, int dflt, int *out)
{
	char path[JPATH_MAX], list[160];
	json_t *v = json_object_get(o, key);
	size_t i, n = 0;

	list[0] = '\0';
	for (i = 0; tbl[i].name != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				i == 0 ? "" : tbl[i + 1].name == NULL ? " or " : ", ", tbl[i].name);
	jkey(path, parent, key);
	if (v == NULL) {
		if (required)
			return fail(c, path, "expected %s, got nothing", list);
		*out = dflt;
		return 0;
	}
	if (json_is_string(v))
		for (i = 0; tbl[i].name != NULL; i++)
			if (strcmp(json_string_value(v), tbl[i].name) == 0) {
				*out = tbl[i].val;
				return 0;
			}
	return fail(c, path, "expected %s, got %s", list, quote(c, v));
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex string of exactly `n` bytes, or of 1..`n` bytes when `upto`. */
static int get_hex(struct ctx *c, const json_t *v, const char *path, size_t n, bool upto,
		uint8_t *out, size_t *outlen)
{
	size_t len;
	const char *s;

	if (v == NULL || !json_is_string(v))
		goto bad;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len % 2 != 0 || len == 0 || len / 2 > n || (!upto && len / 2 != n))
		goto bad;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen != NULL)
		*outlen = len / 2;
	return 0;
bad:
	if (upto)
		return fail(c, path, "expected 2..%zu hex digits, got %s", 2 * n, quote(c, v));
	return fail(c, path, "expected %zu hex digits, got %s", 2 * n, quote(c, v));
}

/* "YYYY-MM-DDTHH:MM:SSZ", a real UTC date from 1970 on. */
static int parse_time(const char *s, size_t len, int64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm = { 0 }, back;
	time_t t;

	if (len != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			&tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	if (tm.tm_year < 1970)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	back = tm;
	t = timegm(&tm);
	/* timegm normalizes Feb 30 into March: refuse dates that moved */
	if (t == (time_t)-1 || tm.tm_year != back.tm_year || tm.tm_mon != back.tm_mon ||
			tm.tm_mday != back.tm_mday || tm.tm_hour != back.tm_hour ||
			tm.tm_min != back.tm_min || tm.tm_sec != back.tm_sec)
		return -1;
	*out = (int64_t)t;
	return 0;
}

static int get_time(struct ctx *c, const json_t *v, const char *path, int64_t *out)
{
	if (v != NULL && json_is_string(v) &&
			parse_time(json_string_value(v), json_string_length(v), out) == 0)
		return 0;
	return fail(c, path, "expected a UTC time \"YYYY-MM-DDTHH:MM:SSZ\", got %s", quote(c, v));
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		ch == '.' || ch == '_' || ch == '-';
}

/* ------------------------------------------------------------------ sections */

static int parse_group(struct ctx *c, json_t *root, struct policy_token *tok)
{
	char path[JPATH_MAX], p[JPATH_MAX];
	json_t *g, *v;
	size_t len;
	int rc;

	g = get_object(c, root, "", "group", true, group_keys, path, &rc);
	if (g == NULL)
		return rc;
	v = json_object_get(g, "name");
	jkey(p, path, "name");
	if (v == NULL || !json_is_string(v))
		goto bad_name;
	len = json_string_length(v);
	if (len == 0 || len >= POLICY_NAME_MAX)
		goto bad_name;
	for (size_t i = 0; i < len; i++)
		if (!name_char(json_string_value(v)[i]))
			goto bad_name;
	memcpy(tok->group_name, json_string_value(v), len + 1);
	return get_hex(c, json_object_get(g, "id"), jkey(p, path, "id"), POLICY_GROUP_ID_LEN,
			false, tok->group_id, NULL);
bad_name:
	return fail(c, p, "expected a name of 1..%d characters from A-Z a-z 0-9 . _ -, got %s",
			POLICY_NAME_MAX - 1, quote(c, v));
}

static int parse_validity(struct ctx *c, json_t *root, time_t now, struct policy_token *tok)
{
	char path[JPATH_MAX], p[JPATH_MAX];
	json_t *o, *nb, *na, *lt;
	uint64_t life = 0;
	int rc;

	o = get_object(c, root, "", "validity", true, validity_keys, path, &rc);
	if (o == NULL)
		return rc;
	nb = json_object_get(o, "not_before");
	na = json_object_get(o, "not_after");
	lt = json_object_get(o, "lifetime_seconds");
	if ((na == NULL) == (lt == NULL))
		return fail(c, path, "expected exactly one of not_after and lifetime_seconds, got "
				"%s",
				na == NULL ? "neither" : "both");
	tok->not_before = (int64_t)now;
	if (nb != NULL && get_time(c, nb, jkey(p, path, "not_before"), &tok->not_before) != 0)
		return POLICY_E_JSON;
	if (na != NULL) {
		if (get_time(c, na, jkey(p, path, "not_after"), &tok->not_after) != 0)
			return POLICY_E_JSON;
		if (tok->not_after <= tok->not_before)
			return fail(c, p, "expected a time after not_before");
	} else {
		if (get_uint(c, lt, jkey(p, path, "lifetime_seconds"), 60, MAX_INTERVAL,
				&life) != 0)
			return POLICY_E_JSON;
		tok->not_after = tok->not_before + (int64_t)life;
	}
	if (tok->not_after > 253402300799LL)
		return fail(c, path, "expected validity to end before the year 10000");
	return 0;
}

static int parse_rule(struct ctx *c, json_t *r, const char *path, struct pattern *p)
{
	static const char *const kinds[] = { "subject", "dns", "email", "ip" };
	char kp[JPATH_MAX];
	const char *kind = NULL, *why;
	json_t *v = NULL, *iss;
	struct pattern only;
	size_t keylen;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(r))
		return fail(c, path, "expected an object, got %s", jtype(r));
	rc = check_keys(c, r, path, rule_keys);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		json_t *k = json_object_get(r, kinds[i]);

		if (k == NULL)
			continue;
		if (kind != NULL)
			return fail(c, path, "expected one of subject, dns, email and ip, got both "
					"%s "
					"and %s", kind, kinds[i]);
		kind = kinds[i];
		v = k;
	}
	if (kind == NULL)
		return fail(c, path, "expected one of subject, dns, email and ip, got none");
	jkey(kp, path, kind);
	if (!json_is_string(v))
		return fail(c, kp, "expected a string, got %s", jtype(v));
	if (strcmp(kind, "ip") == 0) {
		if (inet_pton(AF_INET, json_string_value(v), p->addr) == 1) {
			p->type = PAT_IPV4;
			p->addr_len = 4;
		} else if (inet_pton(AF_INET6, json_string_value(v), p->addr) == 1) {
			p->type = PAT_IPV6;
			p->addr_len = 16;
		} else {
			return fail(c, kp, "expected an IPv4 or IPv6 address, got %s", quote(c, v));
		}
	} else {
		p->type = strcmp(kind, "subject") == 0 ? PAT_DN :
			strcmp(kind, "dns") == 0 ? PAT_FQDN : PAT_RFC822;
		if (json_string_length(v) == 0 || json_string_length(v) >= PAT_TEXT_MAX)
			return fail(c, kp, "expected a pattern of 1..%d bytes, got %zu bytes",
					PAT_TEXT_MAX - 1, json_string_length(v));
		memcpy(p->text, json_string_value(v), json_string_length(v) + 1);
	}
	iss = json_object_get(r, "issuer");
	if (iss != NULL) {
		jkey(kp, path, "issuer");
		if (!json_is_string(iss) || json_string_length(iss) == 0 ||
				json_string_length(iss) >= PAT_TEXT_MAX)
			return fail(c, kp, "expected a DN pattern of 1..%d bytes, got %s",
					PAT_TEXT_MAX - 1, quote(c, iss));
		memcpy(p->issuer, json_string_value(iss), json_string_length(iss) + 1);
	}
	if (json_object_get(r, "ca_key_id") != NULL) {
		rc = get_hex(c, json_object_get(r, "ca_key_id"), jkey(kp, path, "ca_key_id"),
				PAT_KEYID_MAX, true, p->keyid, &keylen);
		if (rc != 0)
			return rc;
		p->keyid_len = (uint8_t)keylen;
	}
	/* the identity alone first, so that the message points at the member that is wrong */
	only = *p;
	only.issuer[0] = '\0';
	why = policy_pattern_check(&only);
	if (why != NULL)
		return fail(c, jkey(kp, path, kind), "%s, got %s", why, quote(c, v));
	why = policy_pattern_check(p);
	if (why != NULL)
		return fail(c, jkey(kp, path, "issuer"), "%s, got %s", why, quote(c, iss));
	return 0;
}

static int parse_rules(struct ctx *c, json_t *acl, const char *parent, const char *key,
		bool required, struct pattern **out, uint16_t *nb)
{
	char path[JPATH_MAX], p[JPATH_MAX];
	json_t *a = json_object_get(acl, key);
	size_t n;

	jkey(path, parent, key);
	*out = NULL;
	*nb = 0;
	if (a == NULL && !required)
		return 0;
	if (a == NULL || !json_is_array(a))
		return fail(c, path, "expected an array of rules, got %s", jtype(a));
	n = json_array_size(a);
	if (n > PAT_MAX_RULES)
		return fail(c, path, "expected at most %d rules, got %zu", PAT_MAX_RULES, n);
	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (*out == NULL)
		return POLICY_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = parse_rule(c, json_array_get(a, i), jidx(p, path, i), &(*out)[i]);

		if (rc != 0)
			return rc;
		(*nb)++;
	}
	return 0;
}

static int parse_acl(struct ctx *c, json_t *reg, const char *parent, enum policy_role role,
		bool required, struct acl *acl)
{
	char path[JPATH_MAX];
	json_t *o;
	int rc;

	o = get_object(c, reg, parent, policy_role_key(role), required, acl_keys, path, &rc);
	if (o == NULL)
		return rc;
	rc = parse_rules(c, o, path, "allow", true, &acl->allow, &acl->nb_allow);
	if (rc == 0)
		rc = parse_rules(c, o, path, "exclude", false, &acl->exclude, &acl->nb_exclude);
	if (rc == 0 && role == POLICY_ROLE_GCKS && acl->nb_allow == 0)
		rc = fail(c, path, "expected at least one rule in allow (someone must run the "
				"group)");
	return rc;
}

static int parse_registration(struct ctx *c, json_t *root, struct policy_token *tok)
{
	struct policy_registration *reg = &tok->reg;
	char path[JPATH_MAX];
	int v, suite, rc;
	json_t *o;

	o = get_object(c, root, "", "registration", false, reg_keys, path, &rc);
	if (o == NULL)
		return rc;
	tok->has_reg = true;
	rc = get_enum(c, o, path, "suite", security_suites, false, 1, &suite);
	if (rc == 0)
		rc = get_enum(c, o, path, "transport", transports, false, POLICY_TRANSPORT_UDP, &v);
	if (rc != 0)
		return rc;
	reg->transport = (enum policy_transport)v;
	rc = opt_u32(c, o, path, "timeout_seconds", 1, 3600, DEFAULT_TIMEOUT,
			&reg->timeout_seconds);
	if (rc == 0)
		rc = opt_bool(c, o, path, "deregistration", true, &reg->deregistration);
	if (rc == 0)
		rc = get_enum(c, o, path, "deregistration_transport", transports, false,
				(int)reg->transport, &v);
	if (rc != 0)
		return rc;
	reg->dereg_transport = (enum policy_transport)v;
	for (int r = 0; r < POLICY_ROLE_COUNT; r++) {
		rc = parse_acl(c, o, path, (enum policy_role)r, r != POLICY_ROLE_SUBGCKS,
				&tok->roles[r]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int parse_reliability(struct ctx *c, json_t *rk, const char *parent,
		struct policy_rekey *out)
{
	char path[JPATH_MAX], p[JPATH_MAX];
	json_t *o, *url;
	int v, rc;

	o = get_object(c, rk, parent, "reliability", false, rel_keys, path, &rc);
	if (o == NULL) {
		out->reliability = POLICY_REL_NONE;
		return rc;
	}
	rc = get_enum(c, o, path, "mechanism", reliabilities, true, 0, &v);
	if (rc != 0)
		return rc;
	out->reliability = (enum policy_reliability)v;
	if (out->reliability != POLICY_REL_RESEND && json_object_get(o, "count") != NULL)
		return fail(c, jkey(p, path, "count"), "expected no count unless mechanism is "
				"\"resend\"");
	if (out->reliability != POLICY_REL_POST && json_object_get(o, "url") != NULL)
		return fail(c, jkey(p, path, "url"),
				"expected no url unless mechanism is \"post\"");
	if (out->reliability == POLICY_REL_RESEND) {
		if (json_object_get(o, "count") == NULL)
			return fail(c, jkey(p, path, "count"), "expected an integer in 1..10, got "
					"nothing");
		return opt_u32(c, o, path, "count", 1, 10, 0, &out->resend_count);
	}
	if (out->reliability == POLICY_REL_POST) {
		size_t len;
		const char *s;

		url = json_object_get(o, "url");
		jkey(p, path, "url");
		if (url == NULL || !json_is_string(url))
			goto bad_url;
		s = json_string_value(url);
		len = json_string_length(url);
		if (len == 0 || len >= POLICY_URL_MAX)
			goto bad_url;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
				goto bad_url;
		memcpy(out->post_url, s, len + 1);
		return 0;
bad_url:
		return fail(c, p, "expected a location of 1..%d printable ASCII characters without "
				"spaces, got %s", POLICY_URL_MAX - 1, quote(c, url));
	}
	return 0;
}

static int parse_rekey(struct ctx *c, json_t *root, struct policy_token *tok)
{
	struct policy_rekey *rk = &tok->rekey;
	char path[JPATH_MAX];
	json_t *o = json_object_get(root, "rekey");
	uint32_t degree;
	int v, rc;

	jkey(path, "", "rekey");
	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return fail(c, path, "expected an object, got %s", jtype(o));
	rc = get_enum(c, o, path, "method", methods, true, 0, &v);
	if (rc != 0)
		return rc;
	tok->has_rekey = true;
	rk->method = (enum policy_rekey_method)v;
	if (rk->method == POLICY_REKEY_NONE)
		return check_keys(c, o, path, rekey_none_keys);
	rc = check_keys(c, o, path, rekey_lkh_keys);
	if (rc == 0)
		rc = opt_u32(c, o, path, "degree", 2, 16, DEFAULT_DEGREE, &degree);
	if (rc != 0)
		return rc;
	rk->degree = (uint8_t)degree;
	rc = get_enum(c, o, path, "key_wrap", wraps, false, POLICY_WRAP_AES256_KW, &v);
	if (rc != 0)
		return rc;
	rk->key_wrap = (enum policy_key_wrap)v;
	rc = opt_u32(c, o, path, "period_seconds", 0, MAX_INTERVAL, 0, &rk->period_seconds);
	if (rc == 0)
		rc = opt_u32(c, o, path, "events", 0, MAX_INTERVAL, 1, &rk->events);
	if (rc == 0)
		rc = opt_u32(c, o, path, "max_silence_seconds", 60, MAX_INTERVAL, DEFAULT_SILENCE,
				&rk->max_silence_seconds);
	if (rc == 0)
		rc = parse_reliability(c, o, path, rk);
	return rc;
}

static int get_addr(struct ctx *c, const json_t *v, const char *path, uint8_t *family,
		uint8_t a[16])
{
	memset(a, 0, 16);
	if (v != NULL && json_is_string(v)) {
		if (inet_pton(AF_INET, json_string_value(v), a) == 1) {
			*family = AF_INET;
			return 0;
		}
		if (inet_pton(AF_INET6, json_string_value(v), a) == 1) {
			*family = AF_INET6;
			return 0;
		}
	}
	return fail(c, path, "expected an IPv4 or IPv6 address, got %s", quote(c, v));
}

static bool mcast(uint8_t family, const uint8_t *a)
{
	return family == AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

static int parse_data_sa(struct ctx *c, json_t *o, const char *path, struct policy_data_sa *sa)
{
	char p[JPATH_MAX];
	json_t *src;
	uint8_t fam;
	int v, rc;

	memset(sa, 0, sizeof(*sa));
	if (!json_is_object(o))
		return fail(c, path, "expected an object, got %s", jtype(o));
	rc = check_keys(c, o, path, data_keys);
	if (rc == 0)
		rc = get_enum(c, o, path, "suite", suites, true, 0, &v);
	if (rc != 0)
		return rc;
	sa->suite = (enum policy_suite)v;
	rc = opt_bool(c, o, path, "tesla", false, &sa->tesla);
	if (rc == 0) {
		uint32_t bits = 0;

		rc = opt_u32(c, o, path, "sid_bits", 0, 64, 8, &bits);
		if (rc == 0 && bits != 8 && bits != 12 && bits != 16)
			rc = fail(c, jkey(p, path, "sid_bits"), "expected 8, 12 or 16, got %u",
					bits);
		sa->sid_bits = (uint8_t)bits;
	}
	if (rc == 0)
		rc = opt_u32(c, o, path, "replay_window", 0, 65536, DEFAULT_WINDOW,
				&sa->replay_window);
	if (rc == 0)
		rc = opt_bool(c, o, path, "esn", true, &sa->esn);
	if (rc == 0)
		rc = get_enum(c, o, path, "address_preservation", aps, false, POLICY_AP_SRC_DST,
				&v);
	if (rc != 0)
		return rc;
	sa->ap = (enum policy_ap)v;
	rc = get_enum(c, o, path, "direction", directions, false, POLICY_DIR_SENDERS, &v);
	if (rc != 0)
		return rc;
	sa->direction = (enum policy_direction)v;
	rc = opt_u32(c, o, path, "activation_delay_ms", 0, 3600000, 0, &sa->activation_delay_ms);
	if (rc == 0)
		rc = opt_u32(c, o, path, "deactivation_delay_ms", 0, 3600000,
				sa->activation_delay_ms, &sa->deactivation_delay_ms);
	if (rc == 0 && sa->deactivation_delay_ms < sa->activation_delay_ms)
		rc = fail(c, jkey(p, path, "deactivation_delay_ms"), "expected at least "
				"activation_delay_ms (%u): the old SA must outlive the switch "
				"(RFC 5374 §4.2.1), got %u", sa->activation_delay_ms,
				sa->deactivation_delay_ms);
	if (rc == 0)
		rc = opt_u32(c, o, path, "lifetime_seconds", 0, MAX_INTERVAL, DEFAULT_LIFETIME,
				&sa->lifetime_seconds);
	if (rc != 0)
		return rc;
	jkey(p, path, "group_address");
	rc = get_addr(c, json_object_get(o, "group_address"), p, &sa->family, sa->group);
	if (rc != 0)
		return rc;
	if (!mcast(sa->family, sa->group))
		return fail(c, p, "expected a multicast address (224.0.0.0/4 or ff00::/8), got %s",
				quote(c, json_object_get(o, "group_address")));
	src = json_object_get(o, "source_address");
	if (src != NULL) {
		jkey(p, path, "source_address");
		rc = get_addr(c, src, p, &fam, sa->source);
		if (rc != 0)
			return rc;
		if (fam != sa->family)
			return fail(c, p, "expected an %s address like group_address, got %s",
					sa->family == AF_INET ? "IPv4" : "IPv6", quote(c, src));
		if (mcast(fam, sa->source))
			return fail(c, p, "expected a unicast source address, got %s",
					quote(c, src));
		sa->has_source = true;
	}
	return 0;
}

static int parse_data(struct ctx *c, json_t *root, struct policy_token *tok)
{
	char path[JPATH_MAX], p[JPATH_MAX];
	json_t *a = json_object_get(root, "data");
	size_t n;

	jkey(path, "", "data");
	if (a == NULL || !json_is_array(a) || json_array_size(a) == 0 ||
			json_array_size(a) > POLICY_MAX_DATA)
		return fail(c, path, "expected an array of 1..%d data SA objects, got %s%s",
				POLICY_MAX_DATA, a != NULL && json_is_array(a) ?
				(json_array_size(a) == 0 ? "an empty one" : "a longer one") : "",
				a != NULL && json_is_array(a) ? "" : jtype(a));
	n = json_array_size(a);
	for (size_t i = 0; i < n; i++) {
		int rc = parse_data_sa(c, json_array_get(a, i), jidx(p, path, i), &tok->data[i]);

		if (rc != 0)
			return rc;
		tok->nb_data++;
	}
	return 0;
}

static int parse_root(struct ctx *c, json_t *root, time_t now, struct policy_token *tok)
{
	char path[JPATH_MAX];
	uint64_t ed = 0;
	int rc;

	if (!json_is_object(root))
		return fail(c, NULL, "expected a JSON object at the top level, got %s",
				jtype(root));
	rc = check_keys(c, root, "", root_keys);
	if (rc == 0)
		rc = parse_group(c, root, tok);
	if (rc == 0)
		rc = get_uint(c, json_object_get(root, "edition"), jkey(path, "", "edition"), 1,
				INT64_MAX, &ed);
	if (rc != 0)
		return rc;
	tok->edition = ed;
	rc = parse_validity(c, root, now, tok);
	if (rc == 0)
		rc = parse_registration(c, root, tok);
	if (rc == 0)
		rc = parse_rekey(c, root, tok);
	if (rc == 0)
		rc = parse_data(c, root, tok);
	return rc;
}

static bool blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			return false;
	return true;
}

int policy_token_from_json(const char *name, const char *buf, size_t len, time_t now,
		struct policy_token **out, char err[POLICY_ERR_MAX])
{
	struct ctx c = { .name = name != NULL ? name : "<policy>", .err = err };
	struct policy_token *tok;
	json_error_t je;
	json_t *root;
	int rc;

	if (out == NULL)
		return policy_fail(err, POLICY_E_INVAL, "missing argument");
	*out = NULL;
	if (buf == NULL || blank(buf, len))
		return fail(&c, NULL, "expected a JSON object, got an empty file");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		char *near = strstr(je.text, " near '");

		if (near != NULL)
			*near = '\0';
		if (je.line > 0)
			return policy_fail(err, POLICY_E_JSON, "%s:%d:%d: %s", c.name, je.line,
					je.column, je.text);
		return policy_fail(err, POLICY_E_JSON, "%s: %s", c.name, je.text);
	}
	tok = calloc(1, sizeof(*tok));
	if (tok == NULL) {
		rc = policy_fail(err, POLICY_E_NOMEM, "%s: out of memory", c.name);
	} else {
		rc = parse_root(&c, root, now != 0 ? now : time(NULL), tok);
		if (rc == POLICY_E_NOMEM)
			policy_fail(err, rc, "%s: out of memory", c.name);
	}
	json_decref(root);
	if (rc != 0) {
		policy_token_free(tok);
		return rc;
	}
	*out = tok;
	return POLICY_OK;
}

int policy_token_from_json_file(const char *path, time_t now, struct policy_token **out,
		char err[POLICY_ERR_MAX])
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	if (out == NULL || path == NULL)
		return policy_fail(err, POLICY_E_INVAL, "missing argument");
	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return policy_fail(err, POLICY_E_INVAL, "%s: cannot open: %s", path,
				strerror(errno));
	buf = malloc(FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return policy_fail(err, POLICY_E_NOMEM, "%s: out of memory", path);
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = policy_fail(err, POLICY_E_INVAL, "%s: cannot read: %s", path, strerror(errno));
	} else if (n > FILE_MAX) {
		rc = policy_fail(err, POLICY_E_JSON, "%s: expected a file of at most %u bytes, got "
				"a larger one", path, FILE_MAX);
	} else {
		rc = policy_token_from_json(path, buf, n, now, out, err);
	}
	fclose(f);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ JSON out */

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * PAT_KEYID_MAX + 1];
	static const char digits[] = "0123456789abcdef";

	if (n > PAT_KEYID_MAX)
		n = PAT_KEYID_MAX;
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 15];
	}
	buf[2 * n] = '\0';
	return json_string(buf);
}

static json_t *time_json(int64_t t)
{
	char buf[32];

	policy_time_str(t, buf);
	return json_string(buf);
}

static json_t *addr_json(uint8_t family, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family, a, buf, sizeof(buf)) == NULL)
		return json_string("?");
	return json_string(buf);
}

/* json_object_set_new that remembers a failure */
static void put(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*bad = true;
}

/* Strings from a token may hold any UTF-8 (patterns) or worse: jansson refuses invalid UTF-8. */
static json_t *str_json(const char *s)
{
	json_t *v = json_string(s);

	return v != NULL ? v : json_string("<not UTF-8>");
}

static json_t *rules_json(const struct pattern *pats, uint16_t n, bool *bad)
{
	json_t *a = json_array();

	if (a == NULL) {
		*bad = true;
		return NULL;
	}
	for (uint16_t i = 0; i < n; i++) {
		const struct pattern *p = &pats[i];
		json_t *r = json_object();

		if (r == NULL || json_array_append_new(a, r) != 0) {
			*bad = true;
			break;
		}
		switch (p->type) {
		case PAT_DN:
			put(r, "subject", str_json(p->text), bad);
			break;
		case PAT_FQDN:
			put(r, "dns", str_json(p->text), bad);
			break;
		case PAT_RFC822:
			put(r, "email", str_json(p->text), bad);
			break;
		default:
			put(r, "ip", addr_json(p->type == PAT_IPV4 ? AF_INET : AF_INET6, p->addr),
					bad);
			break;
		}
		if (p->issuer[0] != '\0')
			put(r, "issuer", str_json(p->issuer), bad);
		if (p->keyid_len > 0)
			put(r, "ca_key_id", hex_json(p->keyid, p->keyid_len), bad);
	}
	return a;
}

static json_t *registration_json(const struct policy_token *tok, bool *bad)
{
	json_t *o = json_object();

	if (o == NULL) {
		*bad = true;
		return NULL;
	}
	put(o, "suite", json_string("msecgw-suite-1"), bad);
	put(o, "transport", json_string(policy_transport_name(tok->reg.transport)), bad);
	put(o, "timeout_seconds", json_integer(tok->reg.timeout_seconds), bad);
	put(o, "deregistration", json_boolean(tok->reg.deregistration), bad);
	if (tok->reg.deregistration)
		put(o, "deregistration_transport",
				json_string(policy_transport_name(tok->reg.dereg_transport)), bad);
	for (int r = 0; r < POLICY_ROLE_COUNT; r++) {
		const struct acl *acl = &tok->roles[r];
		json_t *a = json_object();

		put(o, policy_role_key((enum policy_role)r), a, bad);
		if (a == NULL)
			break;
		put(a, "allow", rules_json(acl->allow, acl->nb_allow, bad), bad);
		if (acl->nb_exclude > 0)
			put(a, "exclude", rules_json(acl->exclude, acl->nb_exclude, bad), bad);
	}
	return o;
}

static json_t *rekey_json(const struct policy_rekey *rk, bool *bad)
{
	json_t *o = json_object(), *rel;
	static const char *const rel_names[] = { "none", "resend", "post" };

	if (o == NULL) {
		*bad = true;
		return NULL;
	}
	if (rk->method == POLICY_REKEY_NONE) {
		put(o, "method", json_string("none"), bad);
		return o;
	}
	put(o, "method", json_string("lkh"), bad);
	put(o, "degree", json_integer(rk->degree), bad);
	put(o, "key_wrap", json_string(policy_wrap_name(rk->key_wrap)), bad);
	put(o, "period_seconds", json_integer(rk->period_seconds), bad);
	put(o, "events", json_integer(rk->events), bad);
	put(o, "max_silence_seconds", json_integer(rk->max_silence_seconds), bad);
	rel = json_object();
	put(o, "reliability", rel, bad);
	if (rel == NULL)
		return o;
	put(rel, "mechanism", json_string(rel_names[rk->reliability <= POLICY_REL_POST ?
			rk->reliability : 0]), bad);
	if (rk->reliability == POLICY_REL_RESEND)
		put(rel, "count", json_integer(rk->resend_count), bad);
	if (rk->reliability == POLICY_REL_POST)
		put(rel, "url", json_string(rk->post_url), bad);
	return o;
}

static json_t *data_json(const struct policy_data_sa *sa, bool *bad)
{
	json_t *o = json_object();

	if (o == NULL) {
		*bad = true;
		return NULL;
	}
	put(o, "suite", json_string(policy_suite_name(sa->suite)), bad);
	put(o, "tesla", json_boolean(sa->tesla), bad);
	put(o, "sid_bits", json_integer(sa->sid_bits), bad);
	put(o, "replay_window", json_integer(sa->replay_window), bad);
	put(o, "esn", json_boolean(sa->esn), bad);
	put(o, "address_preservation", json_string(policy_ap_name(sa->ap)), bad);
	put(o, "direction", json_string(policy_direction_name(sa->direction)), bad);
	put(o, "activation_delay_ms", json_integer(sa->activation_delay_ms), bad);
	put(o, "deactivation_delay_ms", json_integer(sa->deactivation_delay_ms), bad);
	put(o, "lifetime_seconds", json_integer(sa->lifetime_seconds), bad);
	put(o, "group_address", addr_json(sa->family, sa->group), bad);
	if (sa->has_source)
		put(o, "source_address", addr_json(sa->family, sa->source), bad);
	return o;
}

static json_t *signature_json(const struct policy_token *tok, bool *bad)
{
	json_t *sig = json_object();

	if (sig == NULL) {
		*bad = true;
		return NULL;
	}
	put(sig, "content_type", json_string("id-ct-msec-token (" OID_MSEC_TOKEN ")"), bad);
	put(sig, "verified", json_boolean(tok->verified), bad);
	if (tok->parsed) {
		put(sig, "signer", str_json(tok->signer), bad);
		put(sig, "signer_issuer", str_json(tok->signer_issuer), bad);
		put(sig, "signing_time", time_json(tok->signing_time), bad);
	}
	if (tok->nb_reg_unknown > 0)
		put(sig, "registration_entries_skipped", json_integer(tok->nb_reg_unknown), bad);
	if (tok->nb_rekey_unknown > 0)
		put(sig, "rekey_entries_skipped", json_integer(tok->nb_rekey_unknown), bad);
	return sig;
}

static json_t *policy_json(const struct policy_token *tok, bool *bad)
{
	json_t *pol = json_object(), *grp = json_object(), *val = json_object();
	json_t *data = json_array();

	if (pol == NULL || grp == NULL || val == NULL || data == NULL) {
		json_decref(pol);
		json_decref(grp);
		json_decref(val);
		json_decref(data);
		*bad = true;
		return NULL;
	}
	put(pol, "group", grp, bad);
	put(grp, "name", json_string(tok->group_name), bad);
	put(grp, "id", hex_json(tok->group_id, POLICY_GROUP_ID_LEN), bad);
	put(pol, "edition", json_integer((json_int_t)tok->edition), bad);
	put(pol, "validity", val, bad);
	put(val, "not_before", time_json(tok->not_before), bad);
	put(val, "not_after", time_json(tok->not_after), bad);
	if (tok->has_reg)
		put(pol, "registration", registration_json(tok, bad), bad);
	if (tok->has_rekey)
		put(pol, "rekey", rekey_json(&tok->rekey, bad), bad);
	put(pol, "data", data, bad);
	for (uint16_t i = 0; i < tok->nb_data; i++)
		if (json_array_append_new(data, data_json(&tok->data[i], bad)) != 0)
			*bad = true;
	return pol;
}

int policy_token_to_json(const struct policy_token *tok, char **out)
{
	json_t *root;
	bool bad = false;

	if (tok == NULL || out == NULL)
		return POLICY_E_INVAL;
	*out = NULL;
	root = json_object();
	if (root == NULL)
		return POLICY_E_NOMEM;
	put(root, "signature", signature_json(tok, &bad), &bad);
	put(root, "policy", policy_json(tok, &bad), &bad);
	if (!bad)
		*out = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return *out != NULL ? POLICY_OK : POLICY_E_NOMEM;
}
