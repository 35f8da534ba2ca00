/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's JSON configuration: a jansson tree turned into a validated struct gwconf.
 *
 * Validate, then interpret: each object's keys are checked against its table before any value
 * is read, each value's JSON type before its content, and cross references (port names, group
 * names, "replaces") only once everything they point at has been parsed. Every error is one line
 * naming the file, the JSON path and what was expected; doc/configuration.md lists them.
 *
 * Group key management ("gkm", groups[i].key_server): the parser only checks and stores what the
 * application needs to become a GSAKMP member (doc/key-management.md). File paths are resolved
 * against the configuration file's directory, never opened here: the parser stays free of I/O
 * beyond the one file, which keeps it fuzzable.
 *
 * Secrets: key strings are decoded straight into gwconf_sa.keymat and gwconf_tesla.chain_key.
 * The file buffer and every string of the jansson tree are wiped before they are freed, and
 * every error path frees the partial result through gwconf_free(), which wipes the SAs (or, for
 * an msecctl SA file, wipes the one SA). Messages never quote a key: a bad hex digit is reported
 * by its position.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "gwconf.h"
#include "tesla.h"

#define JPATH_MAX 160                   /* longest JSON path shown in a message */
#define SHOW_MAX 40                     /* longest piece of a JSON string quoted in a message */
#define FILE_SIZE_MAX (16u << 20)       /* configuration files are small; refuse the absurd */
#define READ_CHUNK 4096
#define MAX_SAS_PER_GROUP 1024
#define MAX_POLICIES 4096
#define MAX_GROUPS 4096

#define DEFAULT_SOCKET "/run/msecgw/msecgw.sock"
#define DEFAULT_MBUFS 8191
#define DEFAULT_BURST 32
#define DEFAULT_MAX_SAS 4096
#define DEFAULT_MAX_SENDERS 16
#define DEFAULT_REPLAY_WINDOW 1024
#define MAX_REPLAY_WINDOW 65536         /* MESP_REPLAY_MAX_WINDOW */
#define IPV6_MIN_MTU 1280               /* RFC 8200 section 5 */
#define NS_PER_MS UINT64_C(1000000)

#define TESLA_SUFFIX "+tesla"
#define TESLA_INTERVAL_MS_MAX 60000
#define TESLA_CHAIN_MIN (TESLA_D_MIN + 2)  /* d + one last-key and one commitment interval */
#define TESLA_CHAIN_MAX (1u << 24)
#define TESLA_DEFAULT_CHAIN 360000      /* one hour at 10 ms */
#define TESLA_DEFAULT_WINDOW 500        /* max_walk and commitment_window: 5 s at 10 ms */
#define TESLA_DEFAULT_BUCKET_BYTES (1u << 20)
#define TESLA_DEFAULT_BUCKET_PACKETS 4096
#define TESLA_DEFAULT_COPY_MAX 512
#define CLOCK_DEFAULT_MAX_ERROR_MS 10

/* Parsing state: where messages go and what they call the input. */
struct ctx {
	const char *name;               /* the file, as messages call it */
	const char *dir;                /* relative paths are taken from here; NULL: as given */
	char *err;                      /* GWCONF_ERR_MAX bytes */
	char show[SHOW_MAX + 8];        /* a quoted JSON string for the message being built */
};

struct name_val {
	const char *name;
	int val;
};

static const struct name_val roles[] = {
	{ "protected", GWCONF_ROLE_PROTECTED },
	{ "unprotected", GWCONF_ROLE_UNPROTECTED },
	{ NULL, 0 },
};

static const struct name_val port_defaults[] = {
	{ "bypass", GWCONF_ACT_BYPASS },
	{ "discard", GWCONF_ACT_DISCARD },
	{ NULL, 0 },
};

static const struct name_val actions[] = {
	{ "protect", GWCONF_ACT_PROTECT },
	{ "bypass", GWCONF_ACT_BYPASS },
	{ "discard", GWCONF_ACT_DISCARD },
	{ NULL, 0 },
};

static const struct name_val directions[] = {
	{ "sender", GWCONF_DIR_SENDER },
	{ "receiver", GWCONF_DIR_RECEIVER },
	{ "symmetric", GWCONF_DIR_SYMMETRIC },
	{ NULL, 0 },
};

static const struct name_val clock_checks[] = {
	{ "adjtimex", 1 },
	{ "none", 0 },
	{ NULL, 0 },
};

static const struct name_val fail_modes[] = {
	{ "close", 0 },
	{ "open", 1 },
	{ NULL, 0 },
};

static const char *const root_keys[] = {
	"ports", "groups", "policies", "control", "clock", "mbufs", "burst", "max_sas",
	"max_senders", "gkm", NULL
};
static const char *const control_keys[] = { "socket", NULL };
static const char *const clock_keys[] = { "check", "max_error_ms", NULL };
static const char *const port_keys[] = {
	"name", "device", "role", "queues", "mtu", "rx_desc", "tx_desc", "default", "promiscuous",
	NULL
};
static const char *const group_keys[] = {
	"name", "address", "source", "protected_port", "unprotected_port", "sas", "key_server",
	NULL
};
static const char *const gkm_keys[] = { "identity", "trust", "listen", "interface", NULL };
static const char *const identity_keys[] = { "key", "cert", NULL };
static const char *const trust_keys[] = { "gcks_ca", "group_owner_ca", NULL };
static const char *const listen_keys[] = { "address", "port", NULL };
static const char *const key_server_keys[] = {
	"address", "port", "group_id", "rekey_address", "rekey_port", "sids", "fail", NULL
};
static const char *const sa_keys[] = {
	"spi", "direction", "suite", "key", "auth_key", "sid_bits", "sids", "replay_window", "esn",
	"lifetime", "activation_delay_ms", "deactivation_delay_ms", "ttl", "dscp", "replaces",
	"tesla", NULL
};
static const char *const tesla_keys[] = {
	"t0_ms", "interval_ms", "delay", "chain_length", "mac", "max_walk", "commitment_window",
	"last_key_window", "chain_key", "chain", "senders", "bucket_bytes", "bucket_packets",
	"copy_max", "fail", NULL
};
static const char *const tesla_sender_keys[] = {
	"sids", "chain", "commitment", "clock_bound_ms", NULL
};
static const char *const lifetime_keys[] = {
	"soft_seconds", "hard_seconds", "soft_bytes", "hard_bytes", NULL
};
static const char *const policy_keys[] = {
	"group", "source", "udp_dport", "action", "protect_group", NULL
};

/* ------------------------------------------------------------------ messages */

/* Copy `len` bytes of untrusted text for a message: printable ASCII only, at most SHOW_MAX. */
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

/*
 * What a message says it got: a string quoted (shortened, printable), anything else by its type.
 * Never called on a key.
 */
static const char *quote(struct ctx *c, const json_t *v)
{
	char body[SHOW_MAX + 4];

	if (!json_is_string(v))
		return jtype(v);
	printable(body, sizeof(body), json_string_value(v), json_string_length(v));
	snprintf(c->show, sizeof(c->show), "\"%s\"", body);
	return c->show;
}

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record "<file>: <path>: <message>" (one line) and return -EINVAL. */
static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[GWCONF_ERR_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path != NULL && path[0] != '\0')
		n = snprintf(c->err, GWCONF_ERR_MAX, "%s: %s: %s", c->name, path, msg);
	else
		n = snprintf(c->err, GWCONF_ERR_MAX, "%s: %s", c->name, msg);
	if (n < 0)
		c->err[0] = '\0';
	/* the file name comes from the operator; keep the message on one line whatever it holds */
	for (char *p = c->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

/* Path of member `key` of the object at `parent` ("" is the top level). */
static const char *jkey(char path[JPATH_MAX], const char *parent, const char *key)
{
	char k[SHOW_MAX + 4];
	int n;

	printable(k, sizeof(k), key, strlen(key));
	if (parent[0] == '\0')
		n = snprintf(path, JPATH_MAX, "%s", k);
	else
		n = snprintf(path, JPATH_MAX, "%s.%s", parent, k);
	if (n < 0)
		path[0] = '\0';
	return path;
}

/* Path of element `i` of the array at `parent`. */
static const char *jidx(char path[JPATH_MAX], const char *parent, size_t i)
{
	if (snprintf(path, JPATH_MAX, "%s[%zu]", parent, i) < 0)
		path[0] = '\0';
	return path;
}

/* ------------------------------------------------------------------ typed values */

static int check_keys(struct ctx *c, json_t *o, const char *path, const char *const *keys,
		const char *extra)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		char list[320], p[JPATH_MAX];
		size_t i, n = 0;

		if (extra != NULL && strcmp(k, extra) == 0)
			continue;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] != NULL)
			continue;
		list[0] = '\0';
		for (i = 0; keys[i] != NULL && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					keys[i]);
		if (extra != NULL && n < sizeof(list))
			snprintf(list + n, sizeof(list) - n, ", %s", extra);
		return fail(c, jkey(p, path, k), "expected one of the keys %s, got an unknown key",
				list);
	}
	return 0;
}

static int need_object(struct ctx *c, const json_t *v, const char *path)
{
	if (json_is_object(v))
		return 0;
	return fail(c, path, "expected an object, got %s", jtype(v));
}

static int get_uint(struct ctx *c, const json_t *v, const char *path, uint64_t lo, uint64_t hi,
		uint64_t *out)
{
	json_int_t x;

	if (!json_is_integer(v))
		return fail(c, path, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %s", lo,
				hi, jtype(v));
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
		return fail(c, path, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %"
				PRId64, lo, hi, (int64_t)x);
	*out = (uint64_t)x;
	return 0;
}

/* Optional integer member: `dflt` when absent. */
static int opt_uint(struct ctx *c, json_t *o, const char *parent, const char *key, uint64_t lo,
		uint64_t hi, uint64_t dflt, uint64_t *out)
{
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	return get_uint(c, v, jkey(path, parent, key), lo, hi, out);
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

/* A string member naming one of `tbl`; `required` or else `*out` is left alone when absent. */
static int get_enum(struct ctx *c, json_t *o, const char *parent, const char *key,
		const struct name_val *tbl, bool required, int *out)
{
	char path[JPATH_MAX], list[128];
	json_t *v = json_object_get(o, key);
	size_t i, n = 0;

	list[0] = '\0';
	for (i = 0; tbl[i].name != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				i == 0 ? "" : tbl[i + 1].name == NULL ? " or " : ", ", tbl[i].name);
	jkey(path, parent, key);
	if (v == NULL) {
		if (!required)
			return 0;
		return fail(c, path, "expected %s, got nothing", list);
	}
	if (json_is_string(v))
		for (i = 0; tbl[i].name != NULL; i++)
			if (strcmp(json_string_value(v), tbl[i].name) == 0) {
				*out = tbl[i].val;
				return 0;
			}
	return fail(c, path, "expected %s, got %s", list, quote(c, v));
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		ch == '.' || ch == '_' || ch == '-';
}

/*
 * A name of ports and groups: it shows up in logs, telemetry and on the msecctl command line,
 * so it is short and needs no quoting anywhere.
 */
static int get_name(struct ctx *c, const json_t *v, const char *path, char out[GWCONF_NAME_MAX])
{
	const char *s;
	size_t len;

	if (v == NULL || !json_is_string(v))
		goto bad;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len >= GWCONF_NAME_MAX)
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			goto bad;
	memcpy(out, s, len + 1);
	return 0;
bad:
	return fail(c, path, "expected a name of 1..%d characters from A-Z a-z 0-9 . _ -, got %s",
			GWCONF_NAME_MAX - 1, v == NULL ? "nothing" : quote(c, v));
}

/* An IPv4 or IPv6 address in text form; CIDR prefixes are not addresses. */
static int get_addr(struct ctx *c, const json_t *v, const char *path, struct gwconf_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (v == NULL || !json_is_string(v))
		return fail(c, path, "expected an IPv4 or IPv6 address, got %s",
				v == NULL ? "nothing" : jtype(v));
	if (inet_pton(AF_INET, json_string_value(v), a->a) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, json_string_value(v), a->a) == 1)
		a->family = AF_INET6;
	else
		return fail(c, path, "expected an IPv4 or IPv6 address, got %s", quote(c, v));
	return 0;
}

static bool addr_eq(const struct gwconf_addr *x, const struct gwconf_addr *y)
{
	return x->family == y->family && memcmp(x->a, y->a, sizeof(x->a)) == 0;
}

static bool is_multicast(const struct gwconf_addr *a)
{
	return a->family == AF_INET ? (a->a[0] & 0xf0) == 0xe0 : a->a[0] == 0xff;
}

/*
 * The workers pass link-scope multicast (224.0.0.0/24, IPv6 scopes 0..2) in clear so that
 * routing protocols keep working, so a group or policy there would never apply.
 */
static bool is_link_scope(const struct gwconf_addr *a)
{
	if (a->family == AF_INET)
		return a->a[0] == 224 && a->a[1] == 0 && a->a[2] == 0;
	return (a->a[1] & 0x0f) <= 2;
}

static bool is_unicast(const struct gwconf_addr *a)
{
	static const uint8_t zero[16], loop6[16] = { [15] = 1 };

	if (is_multicast(a) || memcmp(a->a, zero, sizeof(zero)) == 0)
		return false;
	if (a->family == AF_INET)
		return a->a[0] != 127 && !(a->a[0] == 255 && a->a[1] == 255 && a->a[2] == 255 &&
				a->a[3] == 255);
	return memcmp(a->a, loop6, sizeof(loop6)) != 0;
}

static const char *family_name(uint8_t family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* A group address: multicast beyond link scope. */
static int get_group_addr(struct ctx *c, const json_t *v, const char *path,
		struct gwconf_addr *a)
{
	int rc = get_addr(c, v, path, a);

	if (rc != 0)
		return rc;
	if (!is_multicast(a))
		return fail(c, path, "expected a multicast address (224.0.0.0/4 or ff00::/8), "
				"got %s", quote(c, v));
	if (is_link_scope(a))
		return fail(c, path, "expected a multicast address beyond link scope "
				"(224.0.0.0/24 and ff00::/8 scopes 0-2 always pass in clear), "
				"got %s", quote(c, v));
	return 0;
}

/* An optional source address: unicast, same family as `group`; family 0 when absent. */
static int get_source(struct ctx *c, const json_t *v, const char *path,
		const struct gwconf_addr *group, struct gwconf_addr *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (v == NULL)
		return 0;
	rc = get_addr(c, v, path, a);
	if (rc != 0)
		return rc;
	if (a->family != group->family)
		return fail(c, path, "expected an %s source address like the group address, got %s",
				family_name(group->family), quote(c, v));
	if (!is_unicast(a))
		return fail(c, path, "expected a unicast source address, got %s", quote(c, v));
	return 0;
}

static bool is_unspecified(const struct gwconf_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->a, zero, sizeof(zero)) == 0;
}

/*
 * A host's address for the control plane's kernel sockets (key server, interface, listening
 * address): anything a UDP socket can be bound or sent to one host at. Unlike a group's source,
 * loopback is fine (a key server on the same host, a lab); `any_ok` also admits 0.0.0.0 and ::.
 */
static int get_host(struct ctx *c, const json_t *v, const char *path, const char *what,
		bool any_ok, struct gwconf_addr *a)
{
	int rc = get_addr(c, v, path, a);

	if (rc != 0)
		return rc;
	if (is_multicast(a) || (!any_ok && is_unspecified(a)) || (a->family == AF_INET &&
			a->a[0] == 255 && a->a[1] == 255 && a->a[2] == 255 && a->a[3] == 255))
		return fail(c, path, "expected %s, got %s", what, quote(c, v));
	return 0;
}

/* RFC 4303 section 2.1: SPIs 1..255 are reserved by IANA and 0 is never sent. */
static int get_spi(struct ctx *c, const json_t *v, const char *path, uint32_t *out)
{
	static const char what[] = "an SPI (an integer or a \"0x...\" string) in 256..4294967295";
	uint64_t x = 0;

	if (v == NULL)
		return fail(c, path, "expected %s, got nothing", what);
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 256 || json_integer_value(v) > UINT32_MAX)
			return fail(c, path, "expected %s (RFC 4303: 1..255 are reserved), got %"
					PRId64, what, (int64_t)json_integer_value(v));
		*out = (uint32_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v), i;

		if (len < 3 || len > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
			goto bad;
		for (i = 2; i < len; i++) {
			char ch = s[i];
			unsigned int d;

			if (ch >= '0' && ch <= '9')
				d = (unsigned int)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				d = (unsigned int)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				d = (unsigned int)(ch - 'A' + 10);
			else
				goto bad;
			x = x << 4 | d;
		}
		if (x < 256)
			return fail(c, path, "expected %s (RFC 4303: 1..255 are reserved), got %s",
					what, quote(c, v));
		*out = (uint32_t)x;
		return 0;
	}
bad:
	return fail(c, path, "expected %s, got %s", what, quote(c, v));
}

/* "copy" or an integer in lo..hi; "copy" is GWCONF_COPY. */
static int opt_copy_or_int(struct ctx *c, json_t *o, const char *parent, const char *key,
		int lo, int hi, int16_t *out)
{
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, key);

	*out = GWCONF_COPY;
	if (v == NULL)
		return 0;
	jkey(path, parent, key);
	if (json_is_string(v) && strcmp(json_string_value(v), "copy") == 0)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
		*out = (int16_t)json_integer_value(v);
		return 0;
	}
	if (json_is_integer(v))
		return fail(c, path, "expected \"copy\" or an integer in %d..%d, got %" PRId64, lo,
				hi, (int64_t)json_integer_value(v));
	return fail(c, path, "expected \"copy\" or an integer in %d..%d, got %s", lo, hi,
			quote(c, v));
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

/*
 * One hex key of `nbytes` bytes into out, with an optional "0x" prefix. `what` says what the
 * bytes are, for messages. The value is secret: messages give lengths and positions, never
 * digits.
 */
static int get_hex_key(struct ctx *c, const json_t *v, const char *path, size_t nbytes,
		const char *what, uint8_t *out)
{
	size_t want = 2u * nbytes, len, skip = 0;
	const char *s;

	if (v == NULL || !json_is_string(v))
		return fail(c, path, "expected a string of %zu hex digits (%s), got %s", want, what,
				v == NULL ? "nothing" : jtype(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		skip = 2;
	for (size_t i = skip; i < len; i++)
		if (hexval(s[i]) < 0)
			return fail(c, path, "expected hex digits only, got a non-hex character at "
					"position %zu", i + 1);
	if (len - skip != want)
		return fail(c, path, "expected %zu hex digits (%s), got %zu", want, what,
				len - skip);
	s += skip;
	for (size_t i = 0; i < nbytes; i++)
		out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return 0;
}

/*
 * "key" and "auth_key" into sa->keymat, the KEYMAT the crypto session takes: the cipher key
 * with its salt (RFC 4106 section 8.1, RFC 4543 section 5.4) or nonce (RFC 3686 section 5.1),
 * then the HMAC key (RFC 4868 section 2.1.1), encryption key first as RFC 7296 section 2.17
 * orders them. Two fields, as manual keying takes them elsewhere (ip xfrm "enc" and "auth",
 * ipsec-secgw cipher_key and auth_key, Wireshark's ESP SA table): each can be checked on its
 * own length. NULL encryption has no "key"; suites with one key for both have no "auth_key".
 */
static int get_keys(struct ctx *c, json_t *o, const char *parent,
		const struct mcrypto_suite_info *si, struct gwconf_sa *sa)
{
	const json_t *k = json_object_get(o, "key"), *a = json_object_get(o, "auth_key");
	size_t klen = (size_t)si->key_len + si->salt_len;
	char path[JPATH_MAX], what[96];
	int rc;

	if (mcrypto_keymat_len(si) > GWCONF_KEYMAT_MAX)
		return fail(c, jkey(path, parent, "key"), "expected a suite with at most %d bytes "
				"of key material, got %s with %zu", GWCONF_KEYMAT_MAX, si->name,
				mcrypto_keymat_len(si));
	jkey(path, parent, "key");
	if (klen == 0) {
		if (k != NULL)
			return fail(c, path, "expected no \"key\" with %s (NULL encryption has no "
					"key; the HMAC key goes in \"auth_key\"), got %s", si->name,
					jtype(k));
	} else {
		snprintf(what, sizeof(what), "%u-byte key + %u-byte %s", si->key_len, si->salt_len,
				si->salt_name);
		rc = get_hex_key(c, k, path, klen, what, sa->keymat);
		if (rc != 0)
			return rc;
	}
	jkey(path, parent, "auth_key");
	if (si->auth_key_len == 0) {
		if (a != NULL)
			return fail(c, path, "expected no \"auth_key\" with %s (its one \"key\" "
					"also authenticates), got %s", si->name, jtype(a));
	} else {
		snprintf(what, sizeof(what), "%u-byte HMAC-SHA-256 key", si->auth_key_len);
		rc = get_hex_key(c, a, path, si->auth_key_len, what, sa->keymat + klen);
		if (rc != 0)
			return rc;
	}
	sa->keymat_len = (uint8_t)mcrypto_keymat_len(si);
	return 0;
}

/*
 * "<suite>" or "<suite>+tesla" (doc/wire-format.md section 7): TESLA rides on any suite, so the
 * suffix is split off and the rest must be a suite of its own.
 */
static int get_suite(struct ctx *c, const json_t *v, const char *path, enum mcrypto_suite *out,
		bool *tesla)
{
	const size_t sfx = sizeof(TESLA_SUFFIX) - 1;
	char list[160], base[64];
	size_t n = 0;
	int s;

	*tesla = false;
	if (v != NULL && json_is_string(v) && json_string_length(v) < sizeof(base)) {
		n = json_string_length(v);
		memcpy(base, json_string_value(v), n + 1);
		if (n > sfx && strcmp(base + n - sfx, TESLA_SUFFIX) == 0) {
			base[n - sfx] = '\0';
			*tesla = true;
		}
		*out = mcrypto_suite_by_name(base);
		if (*out != MCRYPTO_SUITE_NONE && mcrypto_suite_info(*out) != NULL)
			return 0;
		*tesla = false;
	}
	n = 0;
	list[0] = '\0';
	for (s = MCRYPTO_SUITE_NONE + 1; s < MCRYPTO_SUITE_MAX && n < sizeof(list); s++) {
		const struct mcrypto_suite_info *si = mcrypto_suite_info((enum mcrypto_suite)s);

		if (si != NULL)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
					n == 0 ? "" : s + 1 == MCRYPTO_SUITE_MAX ? " or " : ", ",
					si->name);
	}
	return fail(c, path, "expected %s, each optionally followed by \"" TESLA_SUFFIX "\", "
			"got %s", list, v == NULL ? "nothing" : quote(c, v));
}

/* ------------------------------------------------------------------ SAs */

static const char *dir_name(enum gwconf_dir d)
{
	for (size_t i = 0; directions[i].name != NULL; i++)
		if (directions[i].val == (int)d)
			return directions[i].name;
	return "?";
}

/* One sender ID (RFC 6054 section 3: the top sid_bits of the 64-bit IV). */
static int get_sid(struct ctx *c, const json_t *e, const char *path, uint8_t sid_bits,
		uint16_t *out)
{
	uint64_t max = (UINT64_C(1) << sid_bits) - 1;

	if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			(uint64_t)json_integer_value(e) > max) {
		if (json_is_integer(e))
			return fail(c, path, "expected a sender ID in 0..%" PRIu64 " (sid_bits %u), "
					"got %" PRId64, max, sid_bits,
					(int64_t)json_integer_value(e));
		return fail(c, path, "expected a sender ID in 0..%" PRIu64 " (sid_bits %u), got %s",
				max, sid_bits, quote(c, e));
	}
	*out = (uint16_t)json_integer_value(e);
	return 0;
}

/* RFC 6054 section 3: the sender ID takes the top sid_bits of the 64-bit IV. */
static int get_sids(struct ctx *c, json_t *o, const char *parent, struct gwconf_sa *sa)
{
	char path[JPATH_MAX], ep[JPATH_MAX];
	json_t *v = json_object_get(o, "sids"), *e;
	size_t i;
	int rc;

	jkey(path, parent, "sids");
	if (!(sa->dir & GWCONF_DIR_SENDER)) {
		if (v != NULL)
			return fail(c, path, "expected no sender IDs on a \"receiver\" SA, got %s",
					jtype(v));
		return 0;
	}
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0 ||
			json_array_size(v) > GWCONF_MAX_SIDS) {
		char got[32];

		if (v != NULL && json_is_array(v))
			snprintf(got, sizeof(got), "an array of %zu", json_array_size(v));
		return fail(c, path, "expected an array of 1..%d sender IDs (one per sending "
				"worker) for a \"%s\" SA, got %s", GWCONF_MAX_SIDS,
				dir_name(sa->dir), v == NULL ? "nothing" :
				json_is_array(v) ? got : jtype(v));
	}
	json_array_foreach(v, i, e) {
		jidx(ep, path, i);
		rc = get_sid(c, e, ep, sa->sid_bits, &sa->sids[i]);
		if (rc != 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (sa->sids[j] == sa->sids[i])
				return fail(c, ep, "expected sender IDs unique within the SA, "
						"got %u again (also sids[%zu])", sa->sids[i], j);
	}
	sa->nb_sids = (uint16_t)i;
	return 0;
}

static int get_lifetime(struct ctx *c, json_t *o, const char *parent, struct gwconf_lifetime *l)
{
	char path[JPATH_MAX], kp[JPATH_MAX];
	json_t *v = json_object_get(o, "lifetime");
	uint64_t secs_max = INT32_MAX;
	int rc;

	memset(l, 0, sizeof(*l));
	if (v == NULL)
		return 0;
	jkey(path, parent, "lifetime");
	rc = need_object(c, v, path);
	if (rc == 0)
		rc = check_keys(c, v, path, lifetime_keys, NULL);
	if (rc == 0)
		rc = opt_uint(c, v, path, "soft_seconds", 0, secs_max, 0, &l->soft_seconds);
	if (rc == 0)
		rc = opt_uint(c, v, path, "hard_seconds", 0, secs_max, 0, &l->hard_seconds);
	if (rc == 0)
		rc = opt_uint(c, v, path, "soft_bytes", 0, INT64_MAX, 0, &l->soft_bytes);
	if (rc == 0)
		rc = opt_uint(c, v, path, "hard_bytes", 0, INT64_MAX, 0, &l->hard_bytes);
	if (rc != 0)
		return rc;
	/* the soft limit warns that a rekey is due: only meaningful before the hard one */
	if (l->soft_seconds != 0 && l->hard_seconds != 0 && l->soft_seconds >= l->hard_seconds)
		return fail(c, jkey(kp, path, "soft_seconds"), "expected less than hard_seconds "
				"(%" PRIu64 "), got %" PRIu64, l->hard_seconds, l->soft_seconds);
	if (l->soft_bytes != 0 && l->hard_bytes != 0 && l->soft_bytes >= l->hard_bytes)
		return fail(c, jkey(kp, path, "soft_bytes"), "expected less than hard_bytes "
				"(%" PRIu64 "), got %" PRIu64, l->hard_bytes, l->soft_bytes);
	return 0;
}

/* ------------------------------------------------------------------ TESLA */

/* A required integer member in lo..hi. */
static int req_uint(struct ctx *c, json_t *o, const char *parent, const char *key, uint64_t lo,
		uint64_t hi, uint64_t *out)
{
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, key);

	jkey(path, parent, key);
	if (v == NULL)
		return fail(c, path, "expected an integer in %" PRIu64 "..%" PRIu64 ", got nothing",
				lo, hi);
	return get_uint(c, v, path, lo, hi, out);
}

/* The lib/tesla parameters an SA's values stand for, with the clock bound d_t. */
static void tesla_params_of(const struct gwconf_tesla *tl, int64_t d_t, struct tesla_params *p)
{
	memset(p, 0, sizeof(*p));
	p->t0 = tl->t0_ns;
	p->t_int = tl->interval_ns;
	p->d_t = d_t;
	p->n = tl->chain_length - 1;
	p->d = tl->d;
	p->max_walk = tl->max_walk;
}

/*
 * Report what tesla_params_check() refused, at the key that holds the value, in lib/tesla's own
 * words: the rules live there and nowhere else. `dt_path` and `dt_got` name the clock bound.
 */
static int tesla_param_fail(struct ctx *c, const char *tpath, enum tesla_param_error why,
		const struct gwconf_tesla *tl, const char *dt_path, const char *dt_got)
{
	const char *rule = tesla_param_strerror(why);
	uint64_t ms = tl->interval_ns / NS_PER_MS;
	char kp[JPATH_MAX];

	switch (why) {
	case TESLA_PARAM_T_INT:
		return fail(c, jkey(kp, tpath, "interval_ms"), "expected at least 1, got %" PRIu64
				" (%s)", ms, rule);
	case TESLA_PARAM_D_SMALL:
	case TESLA_PARAM_D_LARGE:
		return fail(c, jkey(kp, tpath, "delay"), "expected an integer in %d..%d, got %u "
				"(%s)", TESLA_D_MIN, TESLA_D_MAX, tl->d, rule);
	case TESLA_PARAM_N:
	case TESLA_PARAM_D_N:
		return fail(c, jkey(kp, tpath, "chain_length"), "expected more than delay (%u) "
				"keys, got %u (%s)", tl->d, tl->chain_length, rule);
	case TESLA_PARAM_WALK:
		return fail(c, jkey(kp, tpath, "max_walk"), "expected at least 1, got %u (%s)",
				tl->max_walk, rule);
	case TESLA_PARAM_D_T:
		return fail(c, dt_path, "expected a number of milliseconds below delay * "
				"interval_ms = %" PRIu64 ", got %s (%s)", tl->d * ms, dt_got, rule);
	default:
		return fail(c, tpath, "expected parameters lib/tesla accepts, got some it refuses "
				"(%s)", rule);
	}
}

static int get_mac(struct ctx *c, json_t *t, const char *tpath,
		const struct mcrypto_suite_info *si, struct gwconf_tesla *tl)
{
	const char *gmac = mcrypto_mac_name(MCRYPTO_MAC_AES_GMAC_128);
	json_t *v = json_object_get(t, "mac");
	char path[JPATH_MAX], list[96];
	enum mcrypto_mac m;
	size_t n = 0;

	tl->mac = MCRYPTO_MAC_HMAC_SHA256_128;
	if (v == NULL)
		return 0;
	jkey(path, tpath, "mac");
	m = json_is_string(v) ? mcrypto_mac_by_name(json_string_value(v)) : MCRYPTO_MAC_NONE;
	if (m <= MCRYPTO_MAC_NONE || m >= MCRYPTO_MAC_MAX) {
		list[0] = '\0';
		for (int i = MCRYPTO_MAC_NONE + 1; i < MCRYPTO_MAC_MAX && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
					n == 0 ? "" : i + 1 == MCRYPTO_MAC_MAX ? " or " : ", ",
					mcrypto_mac_name((enum mcrypto_mac)i));
		return fail(c, path, "expected %s, got %s", list, quote(c, v));
	}
	/* the GMAC nonce is i || IV (doc/wire-format.md section 7.4): no IV, no GMAC */
	if (m == MCRYPTO_MAC_AES_GMAC_128 && si->iv_len == 0)
		return fail(c, path, "expected \"%s\" with %s (%s takes its nonce from the IV, "
				"which %s does not have), got \"%s\"",
				mcrypto_mac_name(MCRYPTO_MAC_HMAC_SHA256_128), si->name,
				gmac != NULL ? gmac : "?", si->name, gmac != NULL ? gmac : "?");
	tl->mac = m;
	return 0;
}

/*
 * The per-receiver clock bound D_t of one sender: a JSON number of milliseconds, fractions and
 * negative values allowed (doc/tesla.md, "D_t, the clock bound"). The upper limit is
 * tesla_params_check()'s. At or below -d * T_int the receiver's clock would always run d
 * intervals or more ahead of the sender's; no deployment needs that, so it is taken for a
 * mistake (a sign error, seconds for milliseconds).
 */
static int get_clock_bound(struct ctx *c, json_t *o, const char *spath, const char *tpath,
		const struct gwconf_tesla *tl, struct gwconf_tesla_sender *s)
{
	/* a sane bound for the conversion to ns; anything this large fails the checks anyway */
	const double lim_ms = 1e12;
	json_t *v = json_object_get(o, "clock_bound_ms");
	uint64_t span = (uint64_t)tl->d * tl->interval_ns;
	char path[JPATH_MAX], got[48];
	struct tesla_params p;
	enum tesla_param_error why;
	double ms, ns;

	if (v == NULL)
		return 0;
	jkey(path, spath, "clock_bound_ms");
	if (!json_is_number(v))
		return fail(c, path, "expected a number of milliseconds (D_t), got %s",
				quote(c, v));
	ms = json_number_value(v);
	if (json_is_integer(v))
		snprintf(got, sizeof(got), "%" PRId64, (int64_t)json_integer_value(v));
	else
		snprintf(got, sizeof(got), "%.15g", ms);
	if (ms >= lim_ms) {
		s->clock_bound_ns = INT64_MAX;
	} else if (ms <= -lim_ms) {
		s->clock_bound_ns = INT64_MIN;
	} else {
		/*
		 * To the nearest ns. Times are whole ns, so dropping a fraction below one half
		 * leaves every floor((t + D_t - T_0) / T_int) as it was, and rounding up only
		 * makes the bound safer; it also absorbs the binary error of ms * 10^6.
		 */
		ns = ms * (double)NS_PER_MS;
		s->clock_bound_ns = (int64_t)(ns < 0 ? ns - 0.5 : ns + 0.5);
	}
	if (s->clock_bound_ns <= -(int64_t)span)
		return fail(c, path, "expected a number of milliseconds above -(delay * "
				"interval_ms) = -%" PRIu64 ", got %s (D_t <= -d * T_int: the "
				"receiver's clock would run d intervals or more ahead of the "
				"sender's)", span / NS_PER_MS, got);
	tesla_params_of(tl, s->clock_bound_ns, &p);
	if (tesla_params_check(&p, &why) != 0)
		return tesla_param_fail(c, tpath, why, tl, path, got);
	s->has_clock_bound = true;
	return 0;
}

/* Where sender ID `sid` was seen before among the SA's TESLA senders, for messages. */
static bool sid_seen(const struct gwconf_tesla *tl, uint16_t k, size_t i, uint16_t sid,
		char *where, size_t len)
{
	for (uint16_t j = 0; j <= k; j++) {
		const struct gwconf_tesla_sender *o = &tl->senders[j];
		size_t n = j == k ? i : o->nb_sids;

		for (size_t m = 0; m < n; m++) {
			if (o->sids[m] != sid)
				continue;
			if (j == k)
				snprintf(where, len, "sids[%zu]", m);
			else
				snprintf(where, len, "senders[%u].sids[%zu]", j, m);
			return true;
		}
	}
	return false;
}

/*
 * Sender IDs of one TESLA sender: a receiver finds a packet's chain by the SID in its IV
 * (doc/wire-format.md section 7.6 step 8), so a SID belongs to one sender only. Without an IV
 * there is one sender and its SID is 0 by convention.
 */
static int get_tesla_sids(struct ctx *c, json_t *o, const char *spath,
		const struct gwconf_sa *sa, const struct mcrypto_suite_info *si,
		struct gwconf_tesla *tl, uint16_t k)
{
	struct gwconf_tesla_sender *s = &tl->senders[k];
	char path[JPATH_MAX], ep[JPATH_MAX], where[48];
	json_t *v = json_object_get(o, "sids"), *e;
	size_t i;
	int rc;

	jkey(path, spath, "sids");
	if (si->iv_len == 0) {
		if (v != NULL && json_is_array(v) && json_array_size(v) == 1 &&
				json_is_integer(json_array_get(v, 0)) &&
				json_integer_value(json_array_get(v, 0)) == 0) {
			s->sids[0] = 0;
			s->nb_sids = 1;
			return 0;
		}
		return fail(c, path, "expected [0]: %s has no IV to carry a sender ID, so the "
				"SA's single sender is sender 0, got %s", si->name,
				v == NULL ? "nothing" : jtype(v));
	}
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0 ||
			json_array_size(v) > GWCONF_MAX_SIDS) {
		char got[32];

		if (v != NULL && json_is_array(v))
			snprintf(got, sizeof(got), "an array of %zu", json_array_size(v));
		return fail(c, path, "expected an array of 1..%d sender IDs (those this sender "
				"sends with), got %s", GWCONF_MAX_SIDS,
				v == NULL ? "nothing" : json_is_array(v) ? got : jtype(v));
	}
	json_array_foreach(v, i, e) {
		jidx(ep, path, i);
		rc = get_sid(c, e, ep, sa->sid_bits, &s->sids[i]);
		if (rc != 0)
			return rc;
		if (sid_seen(tl, k, i, s->sids[i], where, sizeof(where)))
			return fail(c, ep, "expected sender IDs unique among the SA's TESLA "
					"senders, got %u again (also %s)", s->sids[i], where);
	}
	s->nb_sids = (uint16_t)i;
	return 0;
}

/* One sender a receiving SA verifies ("tesla.senders[k]"). */
static int get_tesla_sender(struct ctx *c, json_t *o, const char *spath, const char *tpath,
		const struct gwconf_sa *sa, const struct mcrypto_suite_info *si,
		struct gwconf_tesla *tl, uint16_t k)
{
	struct gwconf_tesla_sender *s = &tl->senders[k];
	/* chain c starts at index c * chain_length, which must fit 32 bits (tesla_rx_create) */
	json_int_t max_chain = UINT32_MAX / tl->chain_length;
	char path[JPATH_MAX], got[32];
	json_t *v;
	int rc;

	rc = need_object(c, o, spath);
	if (rc == 0)
		rc = check_keys(c, o, spath, tesla_sender_keys, NULL);
	if (rc == 0)
		rc = get_tesla_sids(c, o, spath, sa, si, tl, k);
	if (rc != 0)
		return rc;
	v = json_object_get(o, "chain");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				json_integer_value(v) > max_chain) {
			if (json_is_integer(v))
				snprintf(got, sizeof(got), "%" PRId64,
						(int64_t)json_integer_value(v));
			return fail(c, jkey(path, spath, "chain"), "expected a chain index in "
					"0..%" PRId64 " (its first interval, chain * "
					"chain_length, must fit 32 bits), got %s",
					(int64_t)max_chain, json_is_integer(v) ? got : quote(c, v));
		}
		s->chain = (uint32_t)json_integer_value(v);
	}
	rc = get_hex_key(c, json_object_get(o, "commitment"), jkey(path, spath, "commitment"),
			GWCONF_TESLA_KEY_LEN, "32-byte commitment F(K_0) of the chain",
			s->commitment);
	if (rc == 0)
		rc = get_clock_bound(c, o, spath, tpath, tl, s);
	return rc;
}

static int get_tesla_senders(struct ctx *c, json_t *t, const char *tpath,
		const struct gwconf_sa *sa, const struct mcrypto_suite_info *si,
		struct gwconf_tesla *tl)
{
	char path[JPATH_MAX], sp[JPATH_MAX], got[32];
	json_t *v = json_object_get(t, "senders"), *e;
	size_t k;
	int rc;

	jkey(path, tpath, "senders");
	if (!(sa->dir & GWCONF_DIR_RECEIVER)) {
		if (v != NULL)
			return fail(c, path, "expected no senders on a \"sender\" SA (only an SA "
					"that receives verifies other senders' chains), got %s",
					jtype(v));
		return 0;
	}
	if (v != NULL && json_is_array(v))
		snprintf(got, sizeof(got), "an array of %zu", json_array_size(v));
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0 ||
			json_array_size(v) > GWCONF_TESLA_MAX_SENDERS)
		return fail(c, path, "expected an array of 1..%d TESLA senders (whose chains a "
				"\"%s\" SA verifies), got %s", GWCONF_TESLA_MAX_SENDERS,
				dir_name(sa->dir), v == NULL ? "nothing" :
				json_is_array(v) ? got : jtype(v));
	/* no IV: receivers cannot tell senders apart, as for "sids" */
	if (si->iv_len == 0 && json_array_size(v) > 1)
		return fail(c, path, "expected one sender: %s has no IV to carry a sender ID, so "
				"an SA has a single sender, got %s", si->name, got);
	json_array_foreach(v, k, e) {
		rc = get_tesla_sender(c, e, jidx(sp, path, k), tpath, sa, si, tl, (uint16_t)k);
		if (rc != 0)
			return rc;
		tl->nb_senders = (uint16_t)(k + 1);
	}
	return 0;
}

/*
 * RFC 5776 section 3.1.2: the last commitment_window intervals of a chain announce the next
 * chain, and last_key_window intervals after the chain's last key is disclosed repeat it, so
 * d + last_key_window + commitment_window <= N + 1. Blame the last window given explicitly.
 */
static int tesla_windows_fit(struct ctx *c, json_t *t, const char *tpath,
		const struct gwconf_tesla *tl)
{
	uint64_t sum = (uint64_t)tl->d + tl->lastkey + tl->newkcc;
	const char *key = "chain_length";
	char path[JPATH_MAX];

	if (sum <= tl->chain_length)
		return 0;
	if (json_object_get(t, "commitment_window") != NULL)
		key = "commitment_window";
	else if (json_object_get(t, "last_key_window") != NULL)
		key = "last_key_window";
	return fail(c, jkey(path, tpath, key), "expected delay + last_key_window + "
			"commitment_window <= chain_length (RFC 5776), got %u + %u + %u = %" PRIu64
			" > %u", tl->d, tl->lastkey, tl->newkcc, sum, tl->chain_length);
}

/*
 * The "tesla" object of an SA whose suite ends in "+tesla" (doc/tesla.md, "Parameters and how
 * to choose them"). Validate, then interpret: every value is range-checked first, then the
 * combination goes through tesla_params_check(), the rule book the data plane uses too.
 */
static int get_tesla(struct ctx *c, json_t *o, const char *parent,
		const struct mcrypto_suite_info *si, struct gwconf_sa *sa)
{
	struct gwconf_tesla *tl = &sa->tl;
	char path[JPATH_MAX], kp[JPATH_MAX];
	json_t *t = json_object_get(o, "tesla"), *v;
	enum tesla_param_error why;
	struct tesla_params p;
	uint64_t u, room;
	int rc, val = 0;

	jkey(path, parent, "tesla");
	if (!sa->tesla) {
		if (t != NULL)
			return fail(c, path, "expected no \"tesla\" object with suite \"%s\" (add "
					"\"" TESLA_SUFFIX "\" to the suite to use TESLA: \"%s"
					TESLA_SUFFIX "\"), got %s", si->name, si->name, jtype(t));
		return 0;
	}
	if (t == NULL)
		return fail(c, path, "expected an object with the TESLA parameters of suite \"%s"
				TESLA_SUFFIX "\", got nothing", si->name);
	rc = need_object(c, t, path);
	if (rc == 0)
		rc = check_keys(c, t, path, tesla_keys, NULL);
	/* T_0 is kept in ns: the largest t0_ms whose ns still fit 64 bits */
	if (rc == 0)
		rc = req_uint(c, t, path, "t0_ms", 0, UINT64_MAX / NS_PER_MS, &u);
	if (rc != 0)
		return rc;
	tl->t0_ns = u * NS_PER_MS;
	rc = req_uint(c, t, path, "interval_ms", 1, TESLA_INTERVAL_MS_MAX, &u);
	if (rc != 0)
		return rc;
	tl->interval_ns = u * NS_PER_MS;
	rc = opt_uint(c, t, path, "delay", TESLA_D_MIN, TESLA_D_MAX, TESLA_D_MIN, &u);
	if (rc != 0)
		return rc;
	tl->d = (uint32_t)u;
	rc = opt_uint(c, t, path, "chain_length", TESLA_CHAIN_MIN, TESLA_CHAIN_MAX,
			TESLA_DEFAULT_CHAIN, &u);
	if (rc != 0)
		return rc;
	tl->chain_length = (uint32_t)u;
	rc = get_mac(c, t, path, si, tl);
	if (rc == 0)
		rc = opt_uint(c, t, path, "max_walk", 1, tl->chain_length,
				tl->chain_length < TESLA_DEFAULT_WINDOW ? tl->chain_length :
				TESLA_DEFAULT_WINDOW, &u);
	if (rc != 0)
		return rc;
	tl->max_walk = (uint32_t)u;
	rc = opt_uint(c, t, path, "last_key_window", 1, tl->chain_length, tl->d, &u);
	if (rc != 0)
		return rc;
	tl->lastkey = (uint32_t)u;
	/* what is left of the chain, at most 500 and at least 1 (the window rule then decides) */
	room = (uint64_t)tl->d + tl->lastkey < tl->chain_length ?
		tl->chain_length - tl->d - tl->lastkey : 1;
	rc = opt_uint(c, t, path, "commitment_window", 1, tl->chain_length,
			room < TESLA_DEFAULT_WINDOW ? room : TESLA_DEFAULT_WINDOW, &u);
	if (rc != 0)
		return rc;
	tl->newkcc = (uint32_t)u;
	tesla_params_of(tl, 0, &p);
	if (tesla_params_check(&p, &why) != 0)
		return tesla_param_fail(c, path, why, tl, path, "0");
	rc = tesla_windows_fit(c, t, path, tl);
	if (rc != 0)
		return rc;

	/* the sender's secret: decoded in place, wiped with the SA, never quoted */
	v = json_object_get(t, "chain_key");
	if (v != NULL) {
		jkey(kp, path, "chain_key");
		if (!(sa->dir & GWCONF_DIR_SENDER))
			return fail(c, kp, "expected no chain_key on a \"receiver\" SA (it is the "
					"secret of a sending SA), got %s", jtype(v));
		rc = get_hex_key(c, v, kp, GWCONF_TESLA_KEY_LEN, "32-byte key K_N of a chain",
				tl->chain_key);
		if (rc != 0)
			return rc;
		tl->has_chain_key = true;
	}
	/* which chain chain_key ends: the chain index receivers are given with its commitment */
	if (!tl->has_chain_key && json_object_get(t, "chain") != NULL)
		return fail(c, jkey(kp, path, "chain"), "expected no chain without chain_key (it "
				"says which chain chain_key is the last key of), got %s",
				jtype(json_object_get(t, "chain")));
	rc = opt_uint(c, t, path, "chain", 0, UINT32_MAX / tl->chain_length, 0, &u);
	if (rc != 0)
		return rc;
	tl->chain = (uint32_t)u;
	rc = get_tesla_senders(c, t, path, sa, si, tl);
	if (rc == 0)
		rc = opt_uint(c, t, path, "bucket_bytes", 4096, UINT64_C(1) << 30,
				TESLA_DEFAULT_BUCKET_BYTES, &u);
	if (rc != 0)
		return rc;
	tl->bucket_bytes = (uint32_t)u;
	rc = opt_uint(c, t, path, "bucket_packets", 16, UINT64_C(1) << 22,
			TESLA_DEFAULT_BUCKET_PACKETS, &u);
	if (rc != 0)
		return rc;
	tl->bucket_packets = (uint32_t)u;
	rc = opt_uint(c, t, path, "copy_max", 0, 2048, TESLA_DEFAULT_COPY_MAX, &u);
	if (rc != 0)
		return rc;
	tl->copy_max = (uint32_t)u;
	rc = get_enum(c, t, path, "fail", fail_modes, false, &val);
	if (rc != 0)
		return rc;
	tl->fail_open = val != 0;
	return 0;
}

/*
 * A TESLA SA that sends needs an SSM group: its key beacons carry no inner packet whose
 * addresses the outer header could copy, so they are sent from the group's source to its
 * address (doc/wire-format.md section 7.5).
 */
static int tesla_needs_source(struct ctx *c, const char *sa_path, const struct gwconf_sa *sa,
		const struct gwconf_group *g)
{
	char path[JPATH_MAX];

	if (!sa->tesla || !(sa->dir & GWCONF_DIR_SENDER) || g->source.family != 0)
		return 0;
	return fail(c, jkey(path, sa_path, "tesla"), "expected a sending TESLA SA only in a "
			"group with a \"source\" (key beacons have no inner packet to copy "
			"addresses from and are sent from the group's source), got one in group "
			"\"%s\", which has none", g->name);
}

/*
 * One SA object: groups[i].sas[j], or the top level of an msecctl SA file (extra = "group").
 * Cross references to other SAs ("replaces", duplicate SPIs) are the caller's.
 */
static int parse_sa(struct ctx *c, json_t *o, const char *path, const char *extra,
		struct gwconf_sa *sa)
{
	const struct mcrypto_suite_info *si;
	char kp[JPATH_MAX];
	json_t *v;
	uint64_t u;
	int rc, dir = 0;

	memset(sa, 0, sizeof(*sa));
	rc = need_object(c, o, path);
	if (rc == 0)
		rc = check_keys(c, o, path, sa_keys, extra);
	if (rc == 0)
		rc = get_spi(c, json_object_get(o, "spi"), jkey(kp, path, "spi"), &sa->spi);
	if (rc == 0)
		rc = get_enum(c, o, path, "direction", directions, true, &dir);
	if (rc != 0)
		return rc;
	sa->dir = (enum gwconf_dir)dir;
	rc = get_suite(c, json_object_get(o, "suite"), jkey(kp, path, "suite"), &sa->suite,
			&sa->tesla);
	if (rc != 0)
		return rc;
	si = mcrypto_suite_info(sa->suite);
	rc = get_keys(c, o, path, si, sa);
	if (rc != 0)
		return rc;

	v = json_object_get(o, "sid_bits");
	sa->sid_bits = 8;
	/* no IV, no sender ID on the wire (doc/wire-format.md section 3) */
	if (v != NULL && si->iv_len == 0) {
		char got[32];

		if (json_is_integer(v))
			snprintf(got, sizeof(got), "%" PRId64, (int64_t)json_integer_value(v));
		return fail(c, jkey(kp, path, "sid_bits"), "expected no sid_bits with %s (it has "
				"no IV to carry a sender ID), got %s", si->name,
				json_is_integer(v) ? got : quote(c, v));
	}
	if (v != NULL) {
		if (!json_is_integer(v) || (json_integer_value(v) != 8 &&
				json_integer_value(v) != 12 && json_integer_value(v) != 16)) {
			if (json_is_integer(v))
				return fail(c, jkey(kp, path, "sid_bits"), "expected 8, 12 or 16 "
						"(RFC 6054), got %" PRId64,
						(int64_t)json_integer_value(v));
			return fail(c, jkey(kp, path, "sid_bits"), "expected 8, 12 or 16 "
					"(RFC 6054), got %s", quote(c, v));
		}
		sa->sid_bits = (uint8_t)json_integer_value(v);
	}
	rc = get_sids(c, o, path, sa);
	if (rc != 0)
		return rc;
	/*
	 * Without an IV the receivers cannot tell senders apart: one sequence counter, one replay
	 * window, so one sender per SA (and a gateway sends it from one worker).
	 */
	if (si->iv_len == 0 && sa->nb_sids > 1)
		return fail(c, jkey(kp, path, "sids"), "expected one sender ID: %s has no IV to "
				"carry one, so an SA has a single sender (several senders with "
				"integrity only: aes-gmac-128), got an array of %u", si->name,
				sa->nb_sids);
	rc = opt_uint(c, o, path, "replay_window", 0, MAX_REPLAY_WINDOW,
				DEFAULT_REPLAY_WINDOW, &u);
	if (rc != 0)
		return rc;
	sa->replay_window = (uint32_t)u;
	rc = opt_bool(c, o, path, "esn", true, &sa->esn);
	if (rc == 0)
		rc = get_lifetime(c, o, path, &sa->life);
	if (rc == 0)
		rc = opt_copy_or_int(c, o, path, "ttl", 1, 255, &sa->ttl);
	if (rc == 0)
		rc = opt_copy_or_int(c, o, path, "dscp", 0, 63, &sa->dscp);
	if (rc != 0)
		return rc;

	v = json_object_get(o, "replaces");
	if (v != NULL) {
		rc = get_spi(c, v, jkey(kp, path, "replaces"), &sa->replaces);
		if (rc != 0)
			return rc;
		if (sa->replaces == sa->spi)
			return fail(c, kp, "expected the SPI of another SA, got this SA's own SPI "
					"0x%08x", sa->spi);
		sa->has_replaces = true;
	}
	rc = opt_uint(c, o, path, "activation_delay_ms", 0, UINT32_MAX, 0, &u);
	if (rc != 0)
		return rc;
	sa->activation_delay_ms = (uint32_t)u;
	/*
	 * The deactivation delay belongs to the rekey event: the SA named by "replaces" is removed
	 * this long after this one is added (RFC 5374 section 4.2.1). It must cover the activation
	 * delay, or there would be a moment with no SA to send on while receivers lose the old one.
	 */
	v = json_object_get(o, "deactivation_delay_ms");
	jkey(kp, path, "deactivation_delay_ms");
	if (v != NULL && !sa->has_replaces)
		return fail(c, kp, "expected only on an SA with \"replaces\", got it on an SA "
				"without");
	rc = opt_uint(c, o, path, "deactivation_delay_ms", 0, UINT32_MAX,
			sa->has_replaces ? sa->activation_delay_ms : 0, &u);
	if (rc != 0)
		return rc;
	sa->deactivation_delay_ms = (uint32_t)u;
	if (sa->has_replaces && sa->deactivation_delay_ms < sa->activation_delay_ms)
		return fail(c, kp, "expected at least activation_delay_ms (%u), got %u",
				sa->activation_delay_ms, sa->deactivation_delay_ms);
	return get_tesla(c, o, path, si, sa);
}

/* ------------------------------------------------------------------ ports */

static int parse_port(struct ctx *c, json_t *o, const char *path, struct gwconf_port *p)
{
	char kp[JPATH_MAX];
	const char *dev;
	json_t *v;
	uint64_t u;
	int rc, val = 0;

	rc = need_object(c, o, path);
	if (rc == 0)
		rc = check_keys(c, o, path, port_keys, NULL);
	if (rc == 0)
		rc = get_name(c, json_object_get(o, "name"), jkey(kp, path, "name"), p->name);
	if (rc != 0)
		return rc;

	v = json_object_get(o, "device");
	jkey(kp, path, "device");
	if (v == NULL || !json_is_string(v) || json_string_length(v) == 0 ||
			json_string_length(v) >= GWCONF_DEV_MAX)
		goto bad_dev;
	dev = json_string_value(v);
	for (size_t i = 0; dev[i] != '\0'; i++)
		if ((unsigned char)dev[i] <= 0x20 || (unsigned char)dev[i] >= 0x7f)
			goto bad_dev;
	memcpy(p->dev, dev, json_string_length(v) + 1);

	rc = get_enum(c, o, path, "role", roles, true, &val);
	if (rc != 0)
		return rc;
	p->role = (enum gwconf_port_role)val;
	rc = opt_uint(c, o, path, "queues", 1, 64, 1, &u);
	if (rc != 0)
		return rc;
	p->queues = (uint16_t)u;
	rc = opt_uint(c, o, path, "mtu", 576, 9216, 1500, &u);
	if (rc != 0)
		return rc;
	p->mtu = (uint16_t)u;
	rc = opt_uint(c, o, path, "rx_desc", 32, 16384, 1024, &u);
	if (rc != 0)
		return rc;
	p->rx_desc = (uint16_t)u;
	rc = opt_uint(c, o, path, "tx_desc", 32, 16384, 1024, &u);
	if (rc != 0)
		return rc;
	p->tx_desc = (uint16_t)u;
	/* plaintext nobody asked to protect stays inside; ESP-side traffic flows by default */
	val = p->role == GWCONF_ROLE_PROTECTED ? GWCONF_ACT_DISCARD : GWCONF_ACT_BYPASS;
	rc = get_enum(c, o, path, "default", port_defaults, false, &val);
	if (rc != 0)
		return rc;
	p->dflt = (enum gwconf_action)val;
	return opt_bool(c, o, path, "promiscuous", false, &p->promiscuous);
bad_dev:
	return fail(c, kp, "expected a DPDK device name of 1..%d printable characters without "
			"spaces, got %s", GWCONF_DEV_MAX - 1, v == NULL ? "nothing" : quote(c, v));
}

static int parse_ports(struct ctx *c, json_t *root, struct gwconf *conf)
{
	json_t *a = json_object_get(root, "ports"), *v;
	char path[JPATH_MAX], kp[JPATH_MAX], got[32];
	int count[3] = { 0 };
	size_t i;
	int rc;

	if (a == NULL || !json_is_array(a) || json_array_size(a) > GWCONF_MAX_PORTS)
		goto bad_size;
	json_array_foreach(a, i, v) {
		struct gwconf_port *p = &conf->ports[i];

		jidx(path, "ports", i);
		rc = parse_port(c, v, path, p);
		if (rc != 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(conf->ports[j].name, p->name) == 0)
				return fail(c, jkey(kp, path, "name"), "expected a name unique "
						"among ports, got \"%s\" (also ports[%zu])",
						p->name, j);
			if (strcmp(conf->ports[j].dev, p->dev) == 0)
				return fail(c, jkey(kp, path, "device"), "expected a device "
						"unique among ports, got \"%s\" (also ports[%zu])",
						p->dev, j);
		}
		count[p->role]++;
		conf->nb_ports = (uint16_t)(i + 1);
	}
	if (conf->nb_ports < 2)
		goto bad_size;
	if (count[GWCONF_ROLE_PROTECTED] == 0 || count[GWCONF_ROLE_UNPROTECTED] == 0)
		return fail(c, "ports", "expected at least one \"protected\" and one "
				"\"unprotected\" port, got %d protected and %d unprotected",
				count[GWCONF_ROLE_PROTECTED], count[GWCONF_ROLE_UNPROTECTED]);
	return 0;
bad_size:
	if (a != NULL && json_is_array(a))
		snprintf(got, sizeof(got), "an array of %zu", json_array_size(a));
	return fail(c, "ports", "expected an array of 2..%d ports, got %s", GWCONF_MAX_PORTS,
			a == NULL ? "nothing" : json_is_array(a) ? got : jtype(a));
}

/* ------------------------------------------------------------------ group key management */

/*
 * A file the application reads later (a key, a certificate, CA certificates): relative paths
 * are taken from the configuration file's directory, as msec-gcks does with its own, so a
 * configuration and its pki/ directory move together.
 */
static int get_file(struct ctx *c, json_t *o, const char *parent, const char *key,
		char out[GWCONF_FILE_MAX])
{
	static const char what[] = "a file path (a non-empty string without control characters)";
	json_t *v = json_object_get(o, key);
	char path[JPATH_MAX];
	const char *s, *sep = "";
	size_t len, dlen = 0;
	int n;

	jkey(path, parent, key);
	if (v == NULL || !json_is_string(v) || json_string_length(v) == 0)
		return fail(c, path, "expected %s, got %s", what,
				v == NULL ? "nothing" : quote(c, v));
	s = json_string_value(v);
	len = json_string_length(v);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(c, path, "expected %s, got one with a control character at "
					"position %zu", what, i + 1);
	if (s[0] != '/' && c->dir != NULL && c->dir[0] != '\0') {
		dlen = strlen(c->dir);
		sep = c->dir[dlen - 1] == '/' ? "" : "/";
	}
	n = snprintf(out, GWCONF_FILE_MAX, "%s%s%s", dlen != 0 ? c->dir : "", sep, s);
	if (n < 0 || n >= GWCONF_FILE_MAX)
		return fail(c, path, "expected a file path of at most %d bytes (a relative one "
				"counts with the configuration file's directory), got %d",
				GWCONF_FILE_MAX - 1, n);
	return 0;
}

/* A required member holding an object; `what` says what it holds, for messages. */
static int req_object(struct ctx *c, json_t *o, const char *parent, const char *key,
		const char *what, const char *const *keys, json_t **out)
{
	json_t *v = json_object_get(o, key);
	char path[JPATH_MAX];

	jkey(path, parent, key);
	if (v == NULL || !json_is_object(v))
		return fail(c, path, "expected an object %s, got %s", what,
				v == NULL ? "nothing" : jtype(v));
	*out = v;
	return check_keys(c, v, path, keys, NULL);
}

/*
 * "gkm": the gateway as a GSAKMP group member (doc/key-management.md section 2). Its identity
 * signs Requests to Join; the trust anchors check the key server's certificate and the Group
 * Owner's policy token. Read before the groups, which refer to it.
 */
static int parse_gkm(struct ctx *c, json_t *root, struct gwconf *conf)
{
	struct gwconf_gkm *k = &conf->gkm;
	json_t *o = json_object_get(root, "gkm"), *v = NULL;
	uint64_t u;
	int rc;

	k->port = GWCONF_GKM_PORT;
	if (o == NULL)
		return 0;
	rc = need_object(c, o, "gkm");
	if (rc == 0)
		rc = check_keys(c, o, "gkm", gkm_keys, NULL);
	if (rc == 0)
		rc = req_object(c, o, "gkm", "identity", "with \"key\" and \"cert\" (this "
				"gateway's signing key and certificate)", identity_keys, &v);
	if (rc == 0)
		rc = get_file(c, v, "gkm.identity", "key", k->key);
	if (rc == 0)
		rc = get_file(c, v, "gkm.identity", "cert", k->cert);
	if (rc == 0)
		rc = req_object(c, o, "gkm", "trust", "with \"gcks_ca\" and \"group_owner_ca\" "
				"(the CA certificates of key servers and of the Group Owner)",
				trust_keys, &v);
	if (rc == 0)
		rc = get_file(c, v, "gkm.trust", "gcks_ca", k->gcks_ca);
	if (rc == 0)
		rc = get_file(c, v, "gkm.trust", "group_owner_ca", k->go_ca);
	if (rc != 0)
		return rc;

	v = json_object_get(o, "listen");
	if (v != NULL) {
		json_t *a = json_object_get(v, "address");

		rc = need_object(c, v, "gkm.listen");
		if (rc == 0)
			rc = check_keys(c, v, "gkm.listen", listen_keys, NULL);
		if (rc == 0 && a != NULL)
			rc = get_host(c, a, "gkm.listen.address", "a unicast address of this host "
					"or 0.0.0.0 or :: (any)", true, &k->listen);
		if (rc == 0)
			rc = opt_uint(c, v, "gkm.listen", "port", 1, 65535, GWCONF_GKM_PORT, &u);
		if (rc != 0)
			return rc;
		/* one spelling of "any IPv4": the default */
		if (k->listen.family == AF_INET && is_unspecified(&k->listen))
			k->listen.family = 0;
		k->port = (uint16_t)u;
	}
	v = json_object_get(o, "interface");
	if (v != NULL) {
		rc = get_host(c, v, "gkm.interface", "the unicast address of an interface of this "
				"host (not multicast, unspecified or broadcast)", false,
				&k->interface);
		if (rc != 0)
			return rc;
	}
	k->enabled = true;
	return 0;
}

/*
 * "group_id": the policy token's 8 random octets (group.id). Public, so it may be quoted; the
 * GSAKMP GroupID is these octets followed by the group's name (doc/key-management.md section 1).
 */
static int get_group_id(struct ctx *c, const json_t *v, const char *path,
		uint8_t gid[GWCONF_GID_LEN])
{
	static const char what[] = "a string of 16 hex digits (the policy token's group.id)";
	const char *s;
	size_t len;

	if (v == NULL || !json_is_string(v))
		return fail(c, path, "expected %s, got %s", what,
				v == NULL ? "nothing" : jtype(v));
	s = json_string_value(v);
	len = json_string_length(v);
	for (size_t i = 0; i < len; i++)
		if (hexval(s[i]) < 0)
			return fail(c, path, "expected %s, got %s (a non-hex character at position "
					"%zu)", what, quote(c, v), i + 1);
	if (len != 2 * GWCONF_GID_LEN)
		return fail(c, path, "expected %s, got %s (%zu digits)", what, quote(c, v), len);
	for (size_t i = 0; i < GWCONF_GID_LEN; i++)
		gid[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return 0;
}

/*
 * groups[i].key_server: the group's keys come from msec-gcks (doc/key-management.md). The
 * group holds no static SA; the application registers, installs what the Key Download and
 * the Rekey Events carry, and until then applies "fail".
 */
static int parse_key_server(struct ctx *c, json_t *o, const char *gpath, const struct gwconf *conf,
		struct gwconf_group *g)
{
	json_t *k = json_object_get(o, "key_server"), *v;
	char path[JPATH_MAX], kp[JPATH_MAX];
	uint64_t u;
	int rc, val = 0;

	jkey(path, gpath, "key_server");
	rc = need_object(c, k, path);
	if (rc != 0)
		return rc;
	if (!conf->gkm.enabled)
		return fail(c, path, "expected a top-level \"gkm\" object (this gateway's "
				"identity and trust anchors as a group member) with a key server, "
				"got none");
	rc = check_keys(c, k, path, key_server_keys, NULL);
	if (rc == 0)
		rc = get_host(c, json_object_get(k, "address"), jkey(kp, path, "address"),
				"the unicast address of the key server (not multicast, "
				"unspecified or broadcast)", false, &g->ks);
	if (rc == 0)
		rc = opt_uint(c, k, path, "port", 1, 65535, GWCONF_GKM_PORT, &u);
	if (rc != 0)
		return rc;
	g->ks_port = (uint16_t)u;
	rc = get_group_id(c, json_object_get(k, "group_id"), jkey(kp, path, "group_id"), g->gid);
	if (rc != 0)
		return rc;

	/* Rekey Events also come by unicast to where the member registered from (section 4.4) */
	v = json_object_get(k, "rekey_address");
	if (v != NULL) {
		rc = get_addr(c, v, jkey(kp, path, "rekey_address"), &g->rekey_group);
		if (rc != 0)
			return rc;
		if (!is_multicast(&g->rekey_group))
			return fail(c, kp, "expected a multicast address (224.0.0.0/4 or ff00::/8) "
					"where the key server sends Rekey Events, got %s",
					quote(c, v));
	}
	v = json_object_get(k, "rekey_port");
	if (v != NULL && g->rekey_group.family == 0)
		return fail(c, jkey(kp, path, "rekey_port"), "expected only with a "
				"\"rekey_address\" (unicast Rekey Events come to gkm.listen.port), "
				"got it without one");
	rc = opt_uint(c, k, path, "rekey_port", 1, 65535, GWCONF_GKM_PORT, &u);
	if (rc != 0)
		return rc;
	g->rekey_port = (uint16_t)u;

	/* mechanism 193, "sender IDs": how many to ask for; absent, the app asks one per worker */
	v = json_object_get(k, "sids");
	g->sids = -1;
	if (v != NULL) {
		jkey(kp, path, "sids");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				json_integer_value(v) > GWCONF_MAX_SIDS) {
			char got[32];

			if (json_is_integer(v))
				snprintf(got, sizeof(got), "%" PRId64,
						(int64_t)json_integer_value(v));
			return fail(c, kp, "expected an integer in 0..%d (the sender IDs to ask "
					"for, one per sending worker; 0: receive only), got %s",
					GWCONF_MAX_SIDS, json_is_integer(v) ? got : quote(c, v));
		}
		g->sids = (int16_t)json_integer_value(v);
	}
	rc = get_enum(c, k, path, "fail", fail_modes, false, &val);
	if (rc != 0)
		return rc;
	g->fail_open = val != 0;
	g->gkm = true;
	return 0;
}

/* ------------------------------------------------------------------ groups */

/* A port referenced by name; when absent, the only port of the role if there is one. */
static int get_port_ref(struct ctx *c, json_t *o, const char *parent, const char *key,
		const struct gwconf *conf, enum gwconf_port_role role, int *out)
{
	const char *rn = role == GWCONF_ROLE_PROTECTED ? "a protected" : "an unprotected";
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, key);
	int n = 0;

	jkey(path, parent, key);
	if (v == NULL) {
		for (int i = 0; i < conf->nb_ports; i++)
			if (conf->ports[i].role == role) {
				*out = i;
				n++;
			}
		if (n == 1)
			return 0;
		return fail(c, path, "expected the name of %s port (there are %d, so it cannot "
				"be implied), got nothing", rn, n);
	}
	if (json_is_string(v))
		for (int i = 0; i < conf->nb_ports; i++) {
			if (strcmp(conf->ports[i].name, json_string_value(v)) != 0)
				continue;
			if (conf->ports[i].role != role)
				return fail(c, path, "expected the name of %s port, got %s, a "
						"port of the other role", rn, quote(c, v));
			*out = i;
			return 0;
		}
	return fail(c, path, "expected the name of %s port, got %s%s", rn, quote(c, v),
			json_is_string(v) ? " (no such port)" : "");
}

static int parse_group(struct ctx *c, json_t *o, const char *path, const struct gwconf *conf,
		struct gwconf_group *g)
{
	char kp[JPATH_MAX], sp[JPATH_MAX];
	json_t *a, *v;
	size_t j;
	int rc;

	rc = need_object(c, o, path);
	if (rc == 0)
		rc = check_keys(c, o, path, group_keys, NULL);
	if (rc == 0)
		rc = get_name(c, json_object_get(o, "name"), jkey(kp, path, "name"), g->name);
	if (rc == 0)
		rc = get_group_addr(c, json_object_get(o, "address"), jkey(kp, path, "address"),
				&g->group);
	if (rc == 0)
		rc = get_source(c, json_object_get(o, "source"), jkey(kp, path, "source"),
				&g->group, &g->source);
	if (rc == 0)
		rc = get_port_ref(c, o, path, "protected_port", conf, GWCONF_ROLE_PROTECTED,
				&g->protected_port);
	if (rc == 0)
		rc = get_port_ref(c, o, path, "unprotected_port", conf, GWCONF_ROLE_UNPROTECTED,
				&g->unprotected_port);
	if (rc != 0)
		return rc;
	if (g->group.family == AF_INET6) {
		const struct gwconf_port *pp = &conf->ports[g->protected_port];
		const struct gwconf_port *up = &conf->ports[g->unprotected_port];
		const struct gwconf_port *low = pp->mtu < IPV6_MIN_MTU ? pp : up;

		if (low->mtu < IPV6_MIN_MTU)
			return fail(c, jkey(kp, path, low == pp ? "protected_port" :
					"unprotected_port"), "expected a port with an mtu of at "
					"least %d for an IPv6 group (RFC 8200), got \"%s\" with "
					"mtu %u", IPV6_MIN_MTU, low->name, low->mtu);
	}

	/* static keys or a key server, never both: the two would fight over SPIs and SIDs */
	a = json_object_get(o, "sas");
	if ((a == NULL) == (json_object_get(o, "key_server") == NULL))
		return fail(c, path, "expected either \"sas\" (static keys) or \"key_server\" "
				"(keys from a key server), got %s", a == NULL ? "neither" : "both");
	if (a == NULL)
		return parse_key_server(c, o, path, conf, g);
	jkey(kp, path, "sas");
	if (!json_is_array(a) || json_array_size(a) == 0 ||
			json_array_size(a) > MAX_SAS_PER_GROUP) {
		char got[32];

		if (json_is_array(a))
			snprintf(got, sizeof(got), "an array of %zu", json_array_size(a));
		return fail(c, kp, "expected an array of 1..%d SAs, got %s", MAX_SAS_PER_GROUP,
				json_is_array(a) ? got : jtype(a));
	}
	/* sized and counted before parsing so that an error part-way still wipes every slot */
	g->sas = calloc(json_array_size(a), sizeof(*g->sas));
	if (g->sas == NULL)
		return -ENOMEM;
	g->nb_sas = (uint16_t)json_array_size(a);
	json_array_foreach(a, j, v) {
		struct gwconf_sa *sa = &g->sas[j];

		jidx(sp, kp, j);
		rc = parse_sa(c, v, sp, NULL, sa);
		if (rc == 0)
			rc = tesla_needs_source(c, sp, sa, g);
		if (rc != 0)
			return rc;
		/* RFC 4301 section 4.1: within one group the SPI alone tells SAs apart */
		for (size_t k = 0; k < j; k++)
			if (g->sas[k].spi == sa->spi) {
				char p2[JPATH_MAX];

				return fail(c, jkey(p2, sp, "spi"), "expected an SPI unique "
						"within the group, got 0x%08x (also sas[%zu])",
						sa->spi, k);
			}
	}
	/*
	 * gw_install_config() adds SAs in order and an SA can only replace one that exists, so
	 * "replaces" points backwards.
	 */
	for (j = 0; j < g->nb_sas; j++) {
		const struct gwconf_sa *sa = &g->sas[j];
		char p2[JPATH_MAX], p3[JPATH_MAX];
		size_t k;

		if (!sa->has_replaces)
			continue;
		for (k = 0; k < g->nb_sas; k++)
			if (g->sas[k].spi == sa->replaces)
				break;
		jkey(p3, jidx(p2, kp, j), "replaces");
		if (k == g->nb_sas)
			return fail(c, p3, "expected the SPI of another SA of group \"%s\", got "
					"0x%08x (no such SA)", g->name, sa->replaces);
		if (k > j)
			return fail(c, p3, "expected the SPI of an SA listed before this one "
					"(SAs are installed in order), got 0x%08x (sas[%zu])",
					sa->replaces, k);
	}
	return 0;
}

static int parse_groups(struct ctx *c, json_t *root, struct gwconf *conf)
{
	json_t *a = json_object_get(root, "groups"), *v;
	char path[JPATH_MAX], kp[JPATH_MAX];
	size_t i;
	int rc;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > MAX_GROUPS)
		return fail(c, "groups", "expected an array of at most %d groups, got %s",
				MAX_GROUPS, json_is_array(a) ? "a longer one" : jtype(a));
	if (json_array_size(a) == 0)
		return 0;
	conf->groups = calloc(json_array_size(a), sizeof(*conf->groups));
	if (conf->groups == NULL)
		return -ENOMEM;
	conf->nb_groups = (uint16_t)json_array_size(a);
	json_array_foreach(a, i, v) {
		struct gwconf_group *g = &conf->groups[i];

		jidx(path, "groups", i);
		rc = parse_group(c, v, path, conf, g);
		if (rc != 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			const struct gwconf_group *o = &conf->groups[j];
			char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];

			if (strcmp(o->name, g->name) == 0)
				return fail(c, jkey(kp, path, "name"), "expected a name unique "
						"among groups, got \"%s\" (also groups[%zu])",
						g->name, j);
			if (addr_eq(&o->group, &g->group) && addr_eq(&o->source, &g->source))
				return fail(c, jkey(kp, path, "address"), "expected an "
						"(address, source) pair unique among groups, "
						"got (%s, %s) (also groups[%zu])",
						gwconf_addr_str(&g->group, d, sizeof(d)),
						gwconf_addr_str(&g->source, s, sizeof(s)), j);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ policies */

static int find_group(const struct gwconf *conf, const char *name)
{
	for (int i = 0; i < conf->nb_groups; i++)
		if (strcmp(conf->groups[i].name, name) == 0)
			return i;
	return -1;
}

static int get_dport(struct ctx *c, json_t *o, const char *parent, struct gwconf_policy *p)
{
	static const char what[] = "a UDP port in 1..65535 or a range [lo, hi] with lo <= hi";
	char path[JPATH_MAX];
	json_t *v = json_object_get(o, "udp_dport");
	json_int_t lo, hi;

	if (v == NULL)
		return 0;
	jkey(path, parent, "udp_dport");
	if (json_is_integer(v)) {
		lo = hi = json_integer_value(v);
	} else if (json_is_array(v) && json_array_size(v) == 2 &&
			json_is_integer(json_array_get(v, 0)) &&
			json_is_integer(json_array_get(v, 1))) {
		lo = json_integer_value(json_array_get(v, 0));
		hi = json_integer_value(json_array_get(v, 1));
	} else {
		return fail(c, path, "expected %s, got %s", what, quote(c, v));
	}
	if (lo < 1 || hi > 65535 || lo > hi)
		return fail(c, path, "expected %s, got %" PRId64 "..%" PRId64, what, (int64_t)lo,
				(int64_t)hi);
	p->dport_lo = (uint16_t)lo;
	p->dport_hi = (uint16_t)hi;
	return 0;
}

static int parse_policy(struct ctx *c, json_t *o, const char *path, const struct gwconf *conf,
		struct gwconf_policy *p)
{
	char kp[JPATH_MAX], d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
	const struct gwconf_group *g;
	json_t *v;
	int rc, val = 0;

	memset(p, 0, sizeof(*p));
	p->group = -1;
	rc = need_object(c, o, path);
	if (rc == 0)
		rc = check_keys(c, o, path, policy_keys, NULL);
	if (rc == 0)
		rc = get_group_addr(c, json_object_get(o, "group"), jkey(kp, path, "group"),
				&p->dst);
	if (rc == 0)
		rc = get_source(c, json_object_get(o, "source"), jkey(kp, path, "source"), &p->dst,
				&p->src);
	if (rc == 0)
		rc = get_dport(c, o, path, p);
	if (rc == 0)
		rc = get_enum(c, o, path, "action", actions, true, &val);
	if (rc != 0)
		return rc;
	p->action = (enum gwconf_action)val;

	v = json_object_get(o, "protect_group");
	jkey(kp, path, "protect_group");
	if (p->action != GWCONF_ACT_PROTECT) {
		if (v != NULL)
			return fail(c, kp, "expected only with \"action\": \"protect\", got %s",
					quote(c, v));
		return 0;
	}
	if (v != NULL && json_is_string(v))
		p->group = find_group(conf, json_string_value(v));
	if (p->group < 0)
		return fail(c, kp, "expected the name of a group, got %s%s",
				v == NULL ? "nothing" : quote(c, v),
				v != NULL && json_is_string(v) ? " (no such group)" : "");
	/*
	 * Address preservation (RFC 5374 section 3.1): the outer header carries the inner
	 * addresses, so what this rule matches is what receivers look the SA up by.
	 */
	g = &conf->groups[p->group];
	if (!addr_eq(&p->dst, &g->group))
		return fail(c, jkey(kp, path, "group"), "expected %s, the address of protect_group "
				"\"%s\", got %s", gwconf_addr_str(&g->group, d, sizeof(d)), g->name,
				gwconf_addr_str(&p->dst, s, sizeof(s)));
	if (g->source.family != 0 && !addr_eq(&p->src, &g->source))
		return fail(c, jkey(kp, path, "source"), "expected %s, the source of SSM "
				"protect_group \"%s\", got %s",
				gwconf_addr_str(&g->source, d, sizeof(d)), g->name,
				p->src.family ? gwconf_addr_str(&p->src, s, sizeof(s)) : "nothing");
	return 0;
}

static bool has_ports(const struct gwconf_policy *p)
{
	return p->dport_lo != 0 || p->dport_hi != 0;
}

/*
 * Rules of one (group, source) with port ranges are tried in no defined order, so they must not
 * overlap; two rules without ports are duplicates.
 */
static int policy_clash(struct ctx *c, const struct gwconf *conf, size_t i)
{
	const struct gwconf_policy *p = &conf->policies[i];
	char path[JPATH_MAX], kp[JPATH_MAX];

	jidx(path, "policies", i);
	for (size_t j = 0; j < i; j++) {
		const struct gwconf_policy *o = &conf->policies[j];

		if (!addr_eq(&o->dst, &p->dst) || !addr_eq(&o->src, &p->src) ||
				has_ports(o) != has_ports(p))
			continue;
		if (!has_ports(p))
			return fail(c, path, "expected a (group, source, udp_dport) selector "
					"unique among policies, got the same as policies[%zu]", j);
		if (p->dport_lo <= o->dport_hi && o->dport_lo <= p->dport_hi)
			return fail(c, jkey(kp, path, "udp_dport"), "expected ports not "
					"overlapping those of policies[%zu] (same group and "
					"source), got %u..%u", j, p->dport_lo, p->dport_hi);
	}
	return 0;
}

/*
 * A key server's group sends unless it asks for no sender IDs: the token decides whether the
 * member may send, and until keys arrive the group's "fail" mode handles its packets.
 */
static bool group_sends(const struct gwconf_group *g)
{
	if (g->gkm)
		return g->sids != 0;
	for (uint16_t j = 0; j < g->nb_sas; j++)
		if (g->sas[j].dir & GWCONF_DIR_SENDER)
			return true;
	return false;
}

/*
 * A group this node sends for gets a protect rule for (source or *, address) unless a policy
 * already protects into it or already has exactly its selector: configuring a sending SA is
 * asking for the stream to be protected, and an explicit rule always wins.
 */
static void add_implicit_policies(struct gwconf *conf, uint16_t nb_explicit)
{
	for (uint16_t i = 0; i < conf->nb_groups; i++) {
		const struct gwconf_group *g = &conf->groups[i];
		struct gwconf_policy *p;
		bool covered = false;

		if (!group_sends(g))
			continue;
		for (uint16_t j = 0; j < nb_explicit && !covered; j++) {
			const struct gwconf_policy *o = &conf->policies[j];

			covered = (o->action == GWCONF_ACT_PROTECT && o->group == i) ||
				(addr_eq(&o->dst, &g->group) && addr_eq(&o->src, &g->source));
		}
		if (covered)
			continue;
		p = &conf->policies[conf->nb_policies++];
		memset(p, 0, sizeof(*p));
		p->dst = g->group;
		p->src = g->source;
		p->action = GWCONF_ACT_PROTECT;
		p->group = i;
	}
}

static int parse_policies(struct ctx *c, json_t *root, struct gwconf *conf)
{
	json_t *a = json_object_get(root, "policies"), *v;
	char path[JPATH_MAX];
	size_t i, n = 0;
	int rc;

	if (a != NULL) {
		if (!json_is_array(a) || json_array_size(a) > MAX_POLICIES)
			return fail(c, "policies", "expected an array of at most %d policies, "
					"got %s", MAX_POLICIES,
					json_is_array(a) ? "a longer one" : jtype(a));
		n = json_array_size(a);
	}
	if (n + conf->nb_groups == 0)
		return 0;
	/* room for the implicit rules too: at most one per group */
	conf->policies = calloc(n + conf->nb_groups, sizeof(*conf->policies));
	if (conf->policies == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v = json_array_get(a, i);
		rc = parse_policy(c, v, jidx(path, "policies", i), conf, &conf->policies[i]);
		if (rc == 0)
			rc = policy_clash(c, conf, i);
		if (rc != 0)
			return rc;
		conf->nb_policies = (uint16_t)(i + 1);
	}
	add_implicit_policies(conf, (uint16_t)n);
	return 0;
}

/* ------------------------------------------------------------------ top level */

static int parse_control(struct ctx *c, json_t *root, struct gwconf *conf)
{
	json_t *o = json_object_get(root, "control"), *v;
	int rc;

	snprintf(conf->ctl_socket, sizeof(conf->ctl_socket), "%s", DEFAULT_SOCKET);
	if (o == NULL)
		return 0;
	rc = need_object(c, o, "control");
	if (rc == 0)
		rc = check_keys(c, o, "control", control_keys, NULL);
	if (rc != 0)
		return rc;
	v = json_object_get(o, "socket");
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= GWCONF_PATH_MAX)
		return fail(c, "control.socket", "expected a Unix socket path of at most %d bytes "
				"(\"\" for none), got %s", GWCONF_PATH_MAX - 1, json_is_string(v) ?
				"a longer one" : jtype(v));
	memcpy(conf->ctl_socket, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/*
 * The receivers' own clock (doc/tesla.md, "Clock and sync states"): TESLA senders count as
 * synced only while the kernel reports the clock disciplined within max_error_ms, unless the
 * check is off. The defaults hold without the object too.
 */
static int parse_clock(struct ctx *c, json_t *root, struct gwconf *conf)
{
	json_t *o = json_object_get(root, "clock");
	int rc, val = 1;
	uint64_t u;

	conf->clock_check = true;
	conf->clock_max_error_ms = CLOCK_DEFAULT_MAX_ERROR_MS;
	if (o == NULL)
		return 0;
	rc = need_object(c, o, "clock");
	if (rc == 0)
		rc = check_keys(c, o, "clock", clock_keys, NULL);
	if (rc == 0)
		rc = get_enum(c, o, "clock", "check", clock_checks, false, &val);
	if (rc == 0)
		rc = opt_uint(c, o, "clock", "max_error_ms", 1, 10000, CLOCK_DEFAULT_MAX_ERROR_MS,
				&u);
	if (rc != 0)
		return rc;
	conf->clock_check = val != 0;
	conf->clock_max_error_ms = (uint32_t)u;
	return 0;
}

static int parse_root(struct ctx *c, json_t *root, struct gwconf *conf)
{
	uint64_t u, total = 0;
	int rc;

	if (!json_is_object(root))
		return fail(c, NULL, "expected a JSON object at the top level, got %s",
				jtype(root));
	rc = check_keys(c, root, "", root_keys, NULL);
	if (rc == 0)
		rc = parse_control(c, root, conf);
	if (rc == 0)
		rc = parse_gkm(c, root, conf);
	if (rc == 0)
		rc = parse_clock(c, root, conf);
	if (rc == 0)
		rc = opt_uint(c, root, "", "mbufs", 511, 16777215, DEFAULT_MBUFS, &u);
	if (rc != 0)
		return rc;
	conf->nb_mbufs = (uint32_t)u;
	rc = opt_uint(c, root, "", "burst", 1, 256, DEFAULT_BURST, &u);
	if (rc != 0)
		return rc;
	conf->burst = (uint16_t)u;
	rc = opt_uint(c, root, "", "max_sas", 1, 1u << 20, DEFAULT_MAX_SAS, &u);
	if (rc != 0)
		return rc;
	conf->max_sas = (uint32_t)u;
	rc = opt_uint(c, root, "", "max_senders", 1, 4096, DEFAULT_MAX_SENDERS, &u);
	if (rc != 0)
		return rc;
	conf->max_senders = (uint16_t)u;
	rc = parse_ports(c, root, conf);
	if (rc == 0)
		rc = parse_groups(c, root, conf);
	if (rc == 0)
		rc = parse_policies(c, root, conf);
	if (rc != 0)
		return rc;
	for (uint16_t i = 0; i < conf->nb_groups; i++)
		total += conf->groups[i].nb_sas;
	if (total > conf->max_sas)
		return fail(c, "max_sas", "expected at least the %" PRIu64 " SAs the groups hold, "
				"got %u", total, conf->max_sas);
	return 0;
}

/* Secret-bearing strings of the tree are wiped before jansson frees them. */
static void wipe_strings(json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, m)
			wipe_strings(m);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, m)
			wipe_strings(m);
		break;
	case JSON_STRING:
		/* jansson hands out const, but the buffer is its own heap copy about to be freed */
		OPENSSL_cleanse((void *)(uintptr_t)json_string_value(v), json_string_length(v));
		break;
	default:
		break;
	}
}

static bool blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			return false;
	return true;
}

/*
 * Parse JSON text. Syntax errors read "<file>:<line>:<col>: <jansson text>" without jansson's
 * "near '<token>'" tail, which could quote part of a key.
 */
static json_t *load_json(struct ctx *c, const char *buf, size_t len)
{
	json_error_t je;
	json_t *root;
	char *near;

	if (buf == NULL || blank(buf, len)) {
		fail(c, NULL, "expected a JSON object, got an empty file");
		return NULL;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root != NULL)
		return root;
	near = strstr(je.text, " near '");
	if (near != NULL)
		*near = '\0';
	if (je.line > 0)
		snprintf(c->err, GWCONF_ERR_MAX, "%s:%d:%d: %s", c->name, je.line, je.column,
				je.text);
	else
		snprintf(c->err, GWCONF_ERR_MAX, "%s: %s", c->name, je.text);
	for (char *p = c->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	OPENSSL_cleanse(&je, sizeof(je));
	return NULL;
}

/* gwconf_load_buffer() with relative paths taken from `dir` (NULL: as given). */
static int load_buffer(const char *name, const char *dir, const char *buf, size_t len,
		struct gwconf **out, char err[GWCONF_ERR_MAX])
{
	struct ctx c = { .name = name != NULL ? name : "<config>", .dir = dir, .err = err };
	struct gwconf *conf;
	json_t *root;
	int rc;

	*out = NULL;
	err[0] = '\0';
	root = load_json(&c, buf, len);
	if (root == NULL)
		return -EINVAL;
	conf = calloc(1, sizeof(*conf));
	if (conf == NULL) {
		rc = -ENOMEM;
	} else {
		snprintf(conf->file, sizeof(conf->file), "%s", c.name);
		rc = parse_root(&c, root, conf);
	}
	wipe_strings(root);
	json_decref(root);
	if (rc == -ENOMEM)
		snprintf(err, GWCONF_ERR_MAX, "%s: out of memory", c.name);
	if (rc != 0) {
		gwconf_free(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

int gwconf_load_buffer(const char *name, const char *buf, size_t len, struct gwconf **out,
		char err[GWCONF_ERR_MAX])
{
	return load_buffer(name, NULL, buf, len, out, err);
}

/* Grow a buffer that may hold key material: copy, then wipe the old one (no realloc). */
static int grow(char **buf, size_t *cap, size_t used)
{
	size_t ncap = *cap * 2;
	char *n;

	if (ncap > FILE_SIZE_MAX + 1)
		ncap = FILE_SIZE_MAX + 1;
	if (ncap <= *cap)
		return -EFBIG;
	n = malloc(ncap);
	if (n == NULL)
		return -ENOMEM;
	memcpy(n, *buf, used);
	OPENSSL_cleanse(*buf, *cap);
	free(*buf);
	*buf = n;
	*cap = ncap;
	return 0;
}

/* Read a whole file (regular or not: a pipe works too) into one wipeable buffer. */
static int read_all(int fd, char **out, size_t *len)
{
	struct stat st;
	size_t cap = READ_CHUNK, used = 0;
	char *buf;
	int rc = 0;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > FILE_SIZE_MAX)
			return -EFBIG;
		cap = (size_t)st.st_size + 1;
	}
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (used == cap) {
			rc = grow(&buf, &cap, used);
			if (rc != 0)
				break;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (rc == 0 && used > FILE_SIZE_MAX)
		rc = -EFBIG;
	if (rc != 0) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
		return rc;
	}
	*out = buf;
	*len = used;
	return 0;
}

int gwconf_load_file(const char *path, struct gwconf **out, char err[GWCONF_ERR_MAX])
{
	const char *slash = strrchr(path, '/');
	char *buf = NULL, *dir = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, GWCONF_ERR_MAX, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	rc = read_all(fd, &buf, &len);
	close(fd);
	if (rc == -EFBIG) {
		snprintf(err, GWCONF_ERR_MAX, "%s: expected a file of at most %u bytes, got a "
				"larger one", path, FILE_SIZE_MAX);
		return rc;
	}
	if (rc != 0) {
		snprintf(err, GWCONF_ERR_MAX, "%s: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	/* "gw.json" has no directory part: its relative paths are relative to here already */
	if (slash != NULL) {
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		if (dir == NULL) {
			rc = -ENOMEM;
			snprintf(err, GWCONF_ERR_MAX, "%s: out of memory", path);
			goto out;
		}
	}
	rc = load_buffer(path, dir, buf, len, out, err);
out:
	free(dir);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

int gwconf_parse_sa_json(const struct gwconf *conf, const char *name, const char *buf, size_t len,
		struct gwconf_sa *sa, int *group_idx, char err[GWCONF_ERR_MAX])
{
	struct ctx c = { .name = name != NULL ? name : "<sa>", .err = err };
	json_t *root, *v;
	int rc;

	memset(sa, 0, sizeof(*sa));
	*group_idx = -1;
	err[0] = '\0';
	root = load_json(&c, buf, len);
	if (root == NULL)
		return -EINVAL;
	if (!json_is_object(root)) {
		rc = fail(&c, NULL, "expected a JSON object at the top level, got %s", jtype(root));
		goto out;
	}
	rc = parse_sa(&c, root, "", "group", sa);
	if (rc != 0)
		goto out;
	v = json_object_get(root, "group");
	if (v != NULL && json_is_string(v) && conf != NULL)
		*group_idx = find_group(conf, json_string_value(v));
	if (*group_idx < 0)
		rc = fail(&c, "group", "expected the name of a configured group, got %s%s",
				v == NULL ? "nothing" : quote(&c, v),
				v != NULL && json_is_string(v) ? " (no such group)" : "");
	else if (conf->groups[*group_idx].gkm)
		rc = fail(&c, "group", "expected a group with static keys, got %s, whose keys "
				"come from a key server (its SPIs and sender IDs are the key "
				"server's to give)", quote(&c, v));
	else
		rc = tesla_needs_source(&c, "", sa, &conf->groups[*group_idx]);
out:
	wipe_strings(root);
	json_decref(root);
	if (rc != 0) {
		OPENSSL_cleanse(sa, sizeof(*sa));
		*group_idx = -1;
	}
	return rc;
}

void gwconf_free(struct gwconf *c)
{
	if (c == NULL)
		return;
	for (uint16_t i = 0; c->groups != NULL && i < c->nb_groups; i++) {
		struct gwconf_group *g = &c->groups[i];

		if (g->sas != NULL) {
			OPENSSL_cleanse(g->sas, (size_t)g->nb_sas * sizeof(*g->sas));
			free(g->sas);
		}
	}
	free(c->groups);
	free(c->policies);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

const char *gwconf_addr_str(const struct gwconf_addr *a, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return "";
	if (a == NULL || a->family == 0)
		snprintf(buf, len, "*");
	else if ((a->family != AF_INET && a->family != AF_INET6) ||
			inet_ntop(a->family, a->a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}
