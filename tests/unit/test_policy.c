/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy: RFC 4534 Group Security Policy Tokens. A token built from JSON survives signing,
 * verification and JSON again unchanged; every check of policy_token_verify() refuses what it
 * must with its own code (signer, chain, tampering, dates, edition, signing-time, group,
 * container, malformed DER at both levels); access rules allow, exclude and ignore the right
 * certificates for every role; JSON policy errors name the file, path and expectation.
 *
 * Keys and certificates are made here with OpenSSL, once per test case (unchecked fixture,
 * before Check forks), never read from files. Test JSON is written with ' for ".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "policy.h"
#include "policy_pvt.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DAY 86400L

/* ------------------------------------------------------------------ PKI */

struct ident {
	EVP_PKEY *key;
	X509 *cert;
};

struct spec {
	const char *cn, *ou;    /* subject "CN=cn[,OU=ou],O=msecgw demo" */
	const char *san;        /* subjectAltName in openssl config syntax, or NULL */
	const char *eku;        /* extendedKeyUsage, or NULL */
	const char *ku;         /* keyUsage (default digitalSignature) */
	bool ca, ed25519;
	long from, to;          /* validity from now; 0/0 = one hour ago .. one day ahead */
};

static struct {
	struct ident ca, other_ca;
	struct ident go, rogue_go, self_go, old_go, noku_go;
	struct ident gcks, gcks_old, gcks_foreign, subgcks, subgcks9, subgcks_evil;
	struct ident gw1, gw2, gw5lab, gwmail, edge3, gwlab, gw1ou, partner1, partner2;
	X509_STORE *store;
	char other_ski[2 * PAT_KEYID_MAX + 1];
} P;

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	ck_assert_msg(e != NULL, "extension %d = %s", nid, value);
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* Make a key and a certificate issued by `iss` (self-signed when NULL). */
static void make(struct ident *id, const struct ident *iss, struct spec s)
{
	static long serial = 1;
	X509_NAME *name;
	X509V3_CTX ctx;
	X509 *x;

	id->key = s.ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(id->key);
	x = X509_new();
	ck_assert_ptr_nonnull(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	if (s.from == 0 && s.to == 0) {
		s.from = -3600;
		s.to = DAY;
	}
	X509_gmtime_adj(X509_getm_notBefore(x), s.from);
	X509_gmtime_adj(X509_getm_notAfter(x), s.to);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"msecgw demo",
			-1, -1, 0);
	if (s.ou != NULL)
		X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)s.ou,
				-1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s.cn, -1, -1,
			0);
	X509_set_issuer_name(x, iss != NULL ? X509_get_subject_name(iss->cert) : name);
	X509_set_pubkey(x, id->key);
	X509V3_set_ctx(&ctx, iss != NULL ? iss->cert : x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints, s.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, &ctx, NID_key_usage, s.ku != NULL ? s.ku : s.ca ?
			"critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (iss != NULL)
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid");
	if (s.eku != NULL)
		add_ext(x, &ctx, NID_ext_key_usage, s.eku);
	if (s.san != NULL)
		add_ext(x, &ctx, NID_subject_alt_name, s.san);
	ck_assert_int_gt(X509_sign(x, iss != NULL ? iss->key : id->key, EVP_sha256()), 0);
	id->cert = x;
}

static void pki_setup(void)
{
	const ASN1_OCTET_STRING *ski;

	ck_assert_ptr_nonnull(policy_init());
	make(&P.ca, NULL, (struct spec){ .cn = "test CA", .ca = true, .from = -DAY,
			.to = 30 * DAY });
	make(&P.other_ca, NULL, (struct spec){ .cn = "other CA", .ca = true, .from = -DAY,
			.to = 30 * DAY });
	make(&P.go, &P.ca, (struct spec){ .cn = "group-owner", .eku = OID_KP_GO });
	make(&P.rogue_go, &P.other_ca, (struct spec){ .cn = "group-owner", .eku = OID_KP_GO });
	make(&P.self_go, NULL, (struct spec){ .cn = "group-owner", .eku = OID_KP_GO });
	make(&P.old_go, &P.ca, (struct spec){ .cn = "group-owner", .eku = OID_KP_GO,
			.from = -2 * DAY, .to = -DAY });
	make(&P.noku_go, &P.ca, (struct spec){ .cn = "group-owner", .eku = OID_KP_GO,
			.ku = "critical,keyAgreement" });
	make(&P.gcks, &P.ca, (struct spec){ .cn = "gcks-1", .san = "DNS:gcks-1.msec.example" });
	make(&P.gcks_old, &P.ca, (struct spec){ .cn = "gcks-old1" });
	make(&P.gcks_foreign, &P.other_ca, (struct spec){ .cn = "gcks-2" });
	make(&P.subgcks, &P.ca, (struct spec){ .cn = "subgcks-1",
			.san = "DNS:subgcks-1.msec.example" });
	make(&P.subgcks9, &P.ca, (struct spec){ .cn = "subgcks-9",
			.san = "DNS:subgcks-9.msec.example" });
	make(&P.subgcks_evil, &P.ca, (struct spec){ .cn = "subgcks-x",
			.san = "DNS:subgcks-1.evil.msec.example" });
	make(&P.gw1, &P.ca, (struct spec){ .cn = "gw-1",
			.san = "DNS:gw-1.msec.example,IP:192.0.2.1" });
	make(&P.gw2, &P.ca, (struct spec){ .cn = "gw-2", .san = "IP:192.0.2.2" });
	make(&P.gw5lab, &P.ca, (struct spec){ .cn = "gw-5",
			.san = "IP:192.0.2.2,DNS:gw-5.lab.msec.example" });
	make(&P.gwmail, &P.ca, (struct spec){ .cn = "gw-mail",
			.san = "email:ops@senders.msec.example" });
	make(&P.edge3, &P.ca, (struct spec){ .cn = "edge-3", .san = "IP:2001:db8::3",
			.ed25519 = true });
	make(&P.gwlab, &P.ca, (struct spec){ .cn = "gw-lab-1" });
	make(&P.gw1ou, &P.ca, (struct spec){ .cn = "gw-1", .ou = "extra" });
	make(&P.partner1, &P.other_ca, (struct spec){ .cn = "partner-1" });
	make(&P.partner2, &P.ca, (struct spec){ .cn = "partner-2" });
	P.store = X509_STORE_new();
	ck_assert_ptr_nonnull(P.store);
	ck_assert_int_eq(X509_STORE_add_cert(P.store, P.ca.cert), 1);
	ski = X509_get0_subject_key_id(P.other_ca.cert);
	ck_assert_ptr_nonnull(ski);
	for (int i = 0; i < ski->length; i++)
		snprintf(P.other_ski + 2 * i, 3, "%02x", ski->data[i]);
}

static void pki_teardown(void)
{
	struct ident *all[] = {
		&P.ca, &P.other_ca, &P.go, &P.rogue_go, &P.self_go, &P.old_go, &P.noku_go,
		&P.gcks, &P.gcks_old, &P.gcks_foreign, &P.subgcks, &P.subgcks9, &P.subgcks_evil,
		&P.gw1, &P.gw2, &P.gw5lab, &P.gwmail, &P.edge3, &P.gwlab, &P.gw1ou, &P.partner1,
		&P.partner2,
	};

	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		EVP_PKEY_free(all[i]->key);
		X509_free(all[i]->cert);
	}
	X509_STORE_free(P.store);
	memset(&P, 0, sizeof(P));
}

/* ------------------------------------------------------------------ policies */

static const char base_json[] =
	"{'group': {'name': 'iptv-sports', 'id': '0011223344556677'},"
	" 'edition': 5,"
	" 'validity': {'lifetime_seconds': 86400},"
	" 'registration': {'transport': 'tcp', 'timeout_seconds': 20,"
	"  'gcks': {'allow': [{'subject': 'CN=gcks-*,O=msecgw demo',"
	"                      'issuer': 'CN=test CA,O=msecgw demo'}],"
	"           'exclude': [{'subject': 'CN=gcks-old*,O=msecgw demo'}]},"
	"  'sub_gcks': {'allow': [{'dns': 'subgcks-*.msec.example'}],"
	"               'exclude': [{'dns': 'subgcks-9.msec.example'}]},"
	"  'senders': {'allow': [{'subject': 'CN=gw-1,O=msecgw demo'}, {'ip': '192.0.2.2'},"
	"                        {'email': '*@senders.msec.example'},"
	"                        {'subject': 'CN=partner-*, O=msecgw demo', 'ca_key_id': '%SKI%'}],"
	"              'exclude': [{'dns': '*.lab.msec.example'}]},"
	"  'members': {'allow': [{'subject': 'CN=gw-*,O=msecgw demo'}, {'ip': '2001:db8::3'}],"
	"              'exclude': [{'subject': 'cn=GW-LAB-*,o=msecgw demo'}]}},"
	" 'rekey': {'method': 'lkh', 'degree': 3, 'key_wrap': 'aes-256-gcm', 'period_seconds': 600,"
	"           'events': 2, 'max_silence_seconds': 1200,"
	"           'reliability': {'mechanism': 'post', 'url': 'https://go.msec.example/rekey'}},"
	" 'data': [{'suite': 'aes-gcm-128', 'tesla': true, 'sid_bits': 12, 'replay_window': 4096,"
	"           'esn': true, 'address_preservation': 'dst', 'direction': 'symmetric',"
	"           'activation_delay_ms': 100, 'deactivation_delay_ms': 300,"
	"           'lifetime_seconds': 3600, 'group_address': 'ff3e::8000:1'},"
	"          {'suite': 'null-hmac-sha256-128', 'group_address': '232.1.1.1',"
	"           'source_address': '192.0.2.10'}]}";

/* Test JSON: ' becomes ", %SKI% the other CA's key identifier. Returns a malloc'd string. */
static char *dq(const char *s)
{
	size_t n = strlen(s) + sizeof(P.other_ski);
	char *d = malloc(n), *o = d;

	ck_assert_ptr_nonnull(d);
	while (*s != '\0') {
		if (strncmp(s, "%SKI%", 5) == 0) {
			o += sprintf(o, "%s", P.other_ski);
			s += 5;
		} else {
			*o++ = *s == '\'' ? '"' : *s;
			s++;
		}
	}
	*o = '\0';
	return d;
}

static struct policy_token *from_json(const char *text)
{
	char err[POLICY_ERR_MAX], *j = dq(text);
	struct policy_token *tok = NULL;
	int rc = policy_token_from_json("t.json", j, strlen(j), 0, &tok, err);

	ck_assert_msg(rc == POLICY_OK, "%s", err);
	free(j);
	return tok;
}

/* Set the member at `path` ("a.b[1].c") of the base policy to `value` (JSON, ' for "), or
 * delete it when value is NULL; return the policy text. */
static char *edit_base(const char *path, const char *value)
{
	char *base = dq(base_json), *p = strdup(path), *save = NULL, *out;
	json_t *root = json_loads(base, 0, NULL), *cur, *parent = NULL;
	const char *last = NULL;
	size_t last_idx = 0;
	bool last_is_idx = false;

	ck_assert_ptr_nonnull(root);
	cur = root;
	for (char *tok = strtok_r(p, ".", &save); tok != NULL; tok = strtok_r(NULL, ".", &save)) {
		char *br = strchr(tok, '[');

		if (br != NULL)
			*br = '\0';
		if (tok[0] != '\0') {
			parent = cur;
			last = tok;
			last_is_idx = false;
			cur = json_object_get(cur, tok);
		}
		while (br != NULL) {
			last_idx = strtoul(br + 1, &br, 10);
			parent = cur;
			last_is_idx = true;
			cur = json_array_get(cur, last_idx);
			br = strchr(br, '[');
		}
	}
	ck_assert_ptr_nonnull(parent);
	if (value == NULL) {
		if (last_is_idx)
			json_array_remove(parent, last_idx);
		else
			json_object_del(parent, last);
	} else {
		char *v = dq(value);
		json_t *jv = json_loads(v, JSON_DECODE_ANY, NULL);

		ck_assert_msg(jv != NULL, "bad test value %s", value);
		if (last_is_idx)
			json_array_set_new(parent, last_idx, jv);
		else
			json_object_set_new(parent, last, jv);
		free(v);
	}
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	free(p);
	free(base);
	return out;
}

static uint8_t *sign(const struct policy_token *tok, const struct ident *id, time_t st,
		size_t *len)
{
	char err[POLICY_ERR_MAX];
	uint8_t *der = NULL;
	int rc = policy_token_sign(tok, id->key, id->cert, NULL, st, &der, len, err);

	ck_assert_msg(rc == POLICY_OK, "%s: %s", policy_strerror(rc), err);
	return der;
}

static int verify(const uint8_t *der, size_t len, const struct policy_state *last,
		struct policy_token **out, char err[POLICY_ERR_MAX])
{
	return policy_token_verify(der, len, P.store, last, 0, out, err);
}

#define ck_assert_code(got, want, err) \
	ck_assert_msg((got) == (want), "got %s (%s), want %s", policy_strerror(got), (err), \
			policy_strerror(want))

/* ------------------------------------------------------------------ round trip */

START_TEST(round_trip)
{
	char err[POLICY_ERR_MAX], *json, *again_json;
	struct policy_token *tok = from_json(base_json), *got = NULL, *again;
	struct policy_registration reg;
	struct policy_data_sa sa;
	struct policy_rekey rk;
	struct policy_state st;
	uint8_t id[POLICY_GROUP_ID_LEN], *der, *c1, *c2, ip[16];
	static const uint8_t want_id[] = { 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	time_t when = time(NULL) - 10;
	int64_t nb, na;
	size_t len, l1, l2;
	json_t *root;

	der = sign(tok, &P.go, when, &len);
	ck_assert_code(verify(der, len, NULL, &got, err), POLICY_OK, err);
	ck_assert_str_eq(policy_token_group_name(got), "iptv-sports");
	policy_token_group_id(got, id);
	ck_assert_mem_eq(id, want_id, sizeof(id));
	ck_assert_uint_eq(policy_token_edition(got), 5);
	policy_token_validity(got, &nb, &na);
	ck_assert_int_eq(na - nb, 86400);
	ck_assert_int_eq(policy_token_signing_time(got), when);
	ck_assert(policy_token_verified(got));

	ck_assert_int_eq(policy_token_registration(got, &reg), POLICY_OK);
	ck_assert_int_eq(reg.transport, POLICY_TRANSPORT_TCP);
	ck_assert_int_eq(reg.timeout_seconds, 20);
	ck_assert(reg.deregistration);
	ck_assert_int_eq(reg.dereg_transport, POLICY_TRANSPORT_TCP);

	ck_assert_int_eq(policy_token_rekey(got, &rk), POLICY_OK);
	ck_assert_int_eq(rk.method, POLICY_REKEY_LKH);
	ck_assert_int_eq(rk.degree, 3);
	ck_assert_int_eq(rk.key_wrap, POLICY_WRAP_AES256_GCM);
	ck_assert_int_eq(rk.period_seconds, 600);
	ck_assert_int_eq(rk.events, 2);
	ck_assert_int_eq(rk.max_silence_seconds, 1200);
	ck_assert_int_eq(rk.reliability, POLICY_REL_POST);
	ck_assert_str_eq(rk.post_url, "https://go.msec.example/rekey");

	ck_assert_uint_eq(policy_token_data_count(got), 2);
	ck_assert_int_eq(policy_token_data(got, 0, &sa), POLICY_OK);
	ck_assert_int_eq(sa.suite, POLICY_SUITE_AES_GCM_128);
	ck_assert(sa.tesla);
	ck_assert_int_eq(sa.sid_bits, 12);
	ck_assert_int_eq(sa.replay_window, 4096);
	ck_assert(sa.esn);
	ck_assert_int_eq(sa.ap, POLICY_AP_DST);
	ck_assert_int_eq(sa.direction, POLICY_DIR_SYMMETRIC);
	ck_assert_int_eq(sa.activation_delay_ms, 100);
	ck_assert_int_eq(sa.deactivation_delay_ms, 300);
	ck_assert_int_eq(sa.lifetime_seconds, 3600);
	ck_assert_int_eq(sa.family, AF_INET6);
	inet_pton(AF_INET6, "ff3e::8000:1", ip);
	ck_assert_mem_eq(sa.group, ip, 16);
	ck_assert(!sa.has_source);
	/* the second SA shows the defaults of doc/policy-token.md */
	ck_assert_int_eq(policy_token_data(got, 1, &sa), POLICY_OK);
	ck_assert_int_eq(sa.suite, POLICY_SUITE_NULL_HMAC_SHA256_128);
	ck_assert(!sa.tesla);
	ck_assert_int_eq(sa.sid_bits, 8);
	ck_assert_int_eq(sa.replay_window, 1024);
	ck_assert(sa.esn);
	ck_assert_int_eq(sa.ap, POLICY_AP_SRC_DST);
	ck_assert_int_eq(sa.direction, POLICY_DIR_SENDERS);
	ck_assert_int_eq(sa.deactivation_delay_ms, 0);
	ck_assert_int_eq(sa.lifetime_seconds, 86400);
	ck_assert_int_eq(sa.family, AF_INET);
	ck_assert(sa.has_source);
	inet_pton(AF_INET, "192.0.2.10", ip);
	ck_assert_mem_eq(sa.source, ip, 4);
	ck_assert_int_eq(policy_token_data(got, 2, &sa), POLICY_E_INVAL);

	policy_token_state(got, &st);
	ck_assert_str_eq(st.group_name, "iptv-sports");
	ck_assert_uint_eq(st.edition, 5);
	ck_assert_int_eq(st.signing_time, when);

	/* JSON out has the input format: feeding its "policy" back gives the same content */
	ck_assert_int_eq(policy_token_to_json(got, &json), POLICY_OK);
	root = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_is_true(json_object_get(json_object_get(root, "signature"), "verified")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "signature"),
			"signer")), "CN=group-owner,O=msecgw demo");
	again_json = json_dumps(json_object_get(root, "policy"), 0);
	ck_assert_int_eq(policy_token_from_json("again", again_json, strlen(again_json), 0, &again,
			err), POLICY_OK);
	ck_assert_int_eq(policy_content_encode(tok, &c1, &l1, err), POLICY_OK);
	ck_assert_int_eq(policy_content_encode(again, &c2, &l2, err), POLICY_OK);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(c1, c2, l1);

	OPENSSL_free(c1);
	OPENSSL_free(c2);
	free(again_json);
	json_decref(root);
	free(json);
	policy_token_free(again);
	policy_token_free(got);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

/*
 * Every suite by its name (the gateway's configuration names, doc/policy-token.md): JSON in,
 * the MespDataSAInfo INTEGER through a signed token, the same name out.
 */
START_TEST(suite_names)
{
	static const struct {
		const char *json;
		enum policy_suite suite;
	} v[] = {
		{ "'aes-gcm-128'", POLICY_SUITE_AES_GCM_128 },
		{ "'aes-gcm-256'", POLICY_SUITE_AES_GCM_256 },
		{ "'aes-gmac-128'", POLICY_SUITE_AES_GMAC_128 },
		{ "'aes-cbc-128+hmac-sha256-128'", POLICY_SUITE_AES_CBC_128_HMAC_SHA256_128 },
		{ "'null-hmac-sha256-128'", POLICY_SUITE_NULL_HMAC_SHA256_128 },
		{ "'aes-ctr-128-hmac-sha256-128'", POLICY_SUITE_AES_CTR_128_HMAC_SHA256_128 },
	};
	char err[POLICY_ERR_MAX], *j = edit_base("data[1].suite", v[_i].json), *json, want[64];
	struct policy_token *tok = NULL, *got = NULL;
	struct policy_data_sa sa;
	json_t *root, *d;
	uint8_t *der;
	size_t len;

	ck_assert_int_eq(policy_token_from_json("t.json", j, strlen(j), 0, &tok, err), POLICY_OK);
	der = sign(tok, &P.go, time(NULL) - 10, &len);
	ck_assert_code(verify(der, len, NULL, &got, err), POLICY_OK, err);
	ck_assert_int_eq(policy_token_data(got, 1, &sa), POLICY_OK);
	ck_assert_int_eq(sa.suite, v[_i].suite);
	ck_assert_int_eq(policy_token_to_json(got, &json), POLICY_OK);
	root = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(root);
	d = json_array_get(json_object_get(json_object_get(root, "policy"), "data"), 1);
	snprintf(want, sizeof(want), "%.*s", (int)strlen(v[_i].json) - 2, v[_i].json + 1);
	ck_assert_str_eq(json_string_value(json_object_get(d, "suite")), want);
	json_decref(root);
	free(json);
	OPENSSL_free(der);
	policy_token_free(got);
	policy_token_free(tok);
	free(j);
}
END_TEST

START_TEST(parse_without_verifying)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json), *got;
	uint8_t *der;
	size_t len;

	der = sign(tok, &P.rogue_go, 0, &len);
	/* parse reads anyone's token; verify does not */
	ck_assert_code(policy_token_parse(der, len, &got, err), POLICY_OK, err);
	ck_assert(!policy_token_verified(got));
	ck_assert_uint_eq(policy_token_edition(got), 5);
	policy_token_free(got);
	ck_assert_code(verify(der, len, NULL, &got, err), POLICY_E_CHAIN, err);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(policy_token_parse(NULL, 0, NULL, err), POLICY_E_INVAL);
	ck_assert_int_eq(policy_token_verify(der, len, NULL, NULL, 0, &got, err), POLICY_E_INVAL);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

START_TEST(rekey_none_no_registration)
{
	char err[POLICY_ERR_MAX], *j = edit_base("registration", NULL), *k;
	struct policy_token *tok, *got;
	struct policy_registration reg;
	struct policy_rekey rk;
	uint8_t *der;
	size_t len;

	json_t *root = json_loads(j, 0, NULL);
	json_object_set_new(root, "rekey", json_pack("{s:s}", "method", "none"));
	k = json_dumps(root, 0);
	ck_assert_int_eq(policy_token_from_json("t.json", k, strlen(k), 0, &tok, err), POLICY_OK);
	der = sign(tok, &P.go, 0, &len);
	ck_assert_code(verify(der, len, NULL, &got, err), POLICY_OK, err);
	ck_assert_int_eq(policy_token_registration(got, &reg), POLICY_E_NO_POLICY);
	ck_assert_int_eq(policy_token_rekey(got, &rk), POLICY_OK);
	ck_assert_int_eq(rk.method, POLICY_REKEY_NONE);
	ck_assert_int_eq(policy_authorize(got, POLICY_ROLE_MEMBER, P.gw1.cert),
			POLICY_E_NO_POLICY);
	policy_token_free(got);
	policy_token_free(tok);
	OPENSSL_free(der);
	json_decref(root);
	free(j);
	free(k);
}
END_TEST

/* The shipped demo policy builds. */
static const char *source_root(void)
{
	static char root[8192];
	const char *env = getenv("MSEC_ROOT");
	const char *tail = "tests/unit/test_policy.c";
	size_t n;

	if (env != NULL && env[0] != '\0')
		return env;
	snprintf(root, sizeof(root), "%s", __FILE__);
	n = strlen(root);
	if (n < strlen(tail) || strcmp(root + n - strlen(tail), tail) != 0)
		return ".";
	root[n - strlen(tail)] = '\0';
	if (root[0] != '/') {
		/* meson compiles with paths relative to the build directory, two levels up from
		 * this executable (<build>/tests/unit) */
		char exe[2048], rel[2048];
		ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		char *slash;

		if (len <= 0)
			return ".";
		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(rel, sizeof(rel), "%.2000s", root);
		snprintf(root, sizeof(root), "%.2040s/../../%.2040s", exe, rel);
	}
	return root;
}

START_TEST(demo_policy_file)
{
	char path[8400], err[POLICY_ERR_MAX];
	struct policy_token *tok;
	struct policy_data_sa sa;

	snprintf(path, sizeof(path), "%s/config/policy/demo-policy.json", source_root());
	ck_assert_code(policy_token_from_json_file(path, 0, &tok, err), POLICY_OK, err);
	ck_assert_str_eq(policy_token_group_name(tok), "iptv-sports");
	ck_assert_int_eq(policy_token_data(tok, 0, &sa), POLICY_OK);
	ck_assert_int_eq(sa.suite, POLICY_SUITE_AES_GCM_256);
	policy_token_free(tok);
	ck_assert_int_eq(policy_token_from_json_file("/nonexistent/p.json", 0, &tok, err),
			POLICY_E_INVAL);
	ck_assert_str_eq(err, "/nonexistent/p.json: cannot open: No such file or directory");
}
END_TEST

/* ------------------------------------------------------------------ signer */

static const struct {
	const char *what;
	int which;
	int want;
} signers[] = {
	{ "the Group Owner", 0, POLICY_OK },
	{ "a member key from the same CA", 1, POLICY_E_NOT_GO },
	{ "a Group Owner certificate from another CA", 2, POLICY_E_CHAIN },
	{ "a self-signed Group Owner certificate", 3, POLICY_E_CHAIN },
	{ "an expired Group Owner certificate", 4, POLICY_E_CHAIN },
	{ "a Group Owner certificate without digitalSignature", 5, POLICY_E_NOT_GO },
	{ "a GC/KS certificate", 6, POLICY_E_NOT_GO },
};

START_TEST(signer_must_be_the_group_owner)
{
	const struct ident *ids[] = {
		&P.go, &P.gw1, &P.rogue_go, &P.self_go, &P.old_go, &P.noku_go, &P.gcks,
	};
	char err[POLICY_ERR_MAX] = "";
	struct policy_token *tok = from_json(base_json);
	uint8_t *der;
	size_t len;
	int rc;

	der = sign(tok, ids[signers[_i].which], 0, &len);
	rc = verify(der, len, NULL, NULL, err);
	ck_assert_msg(rc == signers[_i].want, "%s: got %s (%s)", signers[_i].what,
			policy_strerror(rc), err);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

START_TEST(signing_key_errors)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json), *got;
	uint8_t *der = NULL;
	size_t len;
	int rc;

	ck_assert_int_eq(policy_token_sign(tok, P.gw1.key, P.go.cert, NULL, 0, &der, &len, err),
			POLICY_E_KEY);
	ck_assert_str_eq(err, "the private key does not match the certificate");
	ck_assert_int_eq(policy_token_sign(NULL, P.go.key, P.go.cert, NULL, 0, &der, &len, err),
			POLICY_E_INVAL);
	/* OpenSSL 3.0 CMS cannot sign with Ed25519 (3.2 can): a clear error or a good token */
	rc = policy_token_sign(tok, P.edge3.key, P.edge3.cert, NULL, 0, &der, &len, err);
	if (rc == POLICY_OK) {
		ck_assert_code(policy_token_parse(der, len, &got, err), POLICY_OK, err);
		policy_token_free(got);
		OPENSSL_free(der);
	} else {
		ck_assert_code(rc, POLICY_E_KEY, err);
	}
	policy_token_free(tok);
}
END_TEST

START_TEST(chain_certificates_are_carried)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json);
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_STORE *other = X509_STORE_new();
	uint8_t *der;
	size_t len;

	/* rogue_go chains to other_ca: with other_ca as the anchor it verifies */
	sk_X509_push(chain, P.other_ca.cert);
	ck_assert_int_eq(policy_token_sign(tok, P.rogue_go.key, P.rogue_go.cert, chain, 0, &der,
			&len, err), POLICY_OK);
	X509_STORE_add_cert(other, P.other_ca.cert);
	ck_assert_code(policy_token_verify(der, len, other, NULL, 0, NULL, err), POLICY_OK, err);
	ck_assert_code(verify(der, len, NULL, NULL, err), POLICY_E_CHAIN, err);
	X509_STORE_free(other);
	sk_X509_free(chain);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ tampering */

/* Index of the first occurrence of `pat` in `buf` at or after `from`, or -1. */
static long find(const uint8_t *buf, size_t len, const void *pat, size_t plen, size_t from)
{
	for (size_t i = from; i + plen <= len; i++)
		if (memcmp(buf + i, pat, plen) == 0)
			return (long)i;
	return -1;
}

START_TEST(tampering_breaks_the_signature)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json);
	uint8_t *der;
	size_t len;
	long at;

	der = sign(tok, &P.go, 0, &len);
	switch (_i) {
	case 0: /* the content: the group name */
		at = find(der, len, "iptv-sports", 11, 0);
		ck_assert_int_ge(at, 0);
		der[at] = 'I';
		break;
	case 1: /* a policy value: 'degree' 3 -> 2 inside the rekey info is hard to find, so
		 * flip the edition's INTEGER content (02 01 05) */
		at = find(der, len, "\x02\x01\x05", 3, 0);
		ck_assert_int_ge(at, 0);
		der[at + 2] = 6;
		break;
	case 2: /* the signing-time attribute: OID, SET, UTCTime; last digit of the seconds */
		at = find(der, len, "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x05\x31\x0f"
				"\x17\x0d", 15, 0);
		ck_assert_int_ge(at, 0);
		at += 15 + 11;
		der[at] = der[at] == '0' ? '1' : '0';
		break;
	default: /* the signature value, the last bytes of the token */
		der[len - 2] ^= 0x01;
		break;
	}
	ck_assert_code(verify(der, len, NULL, NULL, err), POLICY_E_SIGNATURE, err);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ dates and order */

START_TEST(validity_period)
{
	static const struct {
		const char *validity;
		int want;
	} cases[] = {
		{ "{'not_before': '2000-01-01T00:00:00Z', 'not_after': '2001-01-01T00:00:00Z'}",
			POLICY_E_EXPIRED },
		{ "{'not_before': '2000-01-01T00:00:00Z', 'not_after': '2090-01-01T00:00:00Z'}",
			POLICY_OK },
		{ "{'not_before': '2090-01-01T00:00:00Z', 'lifetime_seconds': 60}",
			POLICY_E_NOT_YET_VALID },
	};
	char err[POLICY_ERR_MAX], *j = edit_base("validity", cases[_i].validity);
	struct policy_token *tok;
	uint8_t *der;
	size_t len;

	ck_assert_code(policy_token_from_json("t.json", j, strlen(j), 0, &tok, err), POLICY_OK,
			err);
	der = sign(tok, &P.go, 0, &len);
	ck_assert_code(verify(der, len, NULL, NULL, err), cases[_i].want, err);
	if (cases[_i].want == POLICY_E_EXPIRED)
		ck_assert_str_eq(err, "token expired at 2001-01-01T00:00:00Z");
	policy_token_free(tok);
	OPENSSL_free(der);
	free(j);
}
END_TEST

START_TEST(clock_skew)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json);
	uint8_t *der;
	size_t len;
	time_t now = time(NULL);

	/* a token that starts in a minute is accepted (skew), one in an hour is not yet valid */
	tok->not_before = now + 60;
	tok->not_after = now + DAY;
	der = sign(tok, &P.go, now, &len);
	ck_assert_code(verify(der, len, NULL, NULL, err), POLICY_OK, err);
	OPENSSL_free(der);
	tok->not_before = now + 3600;
	der = sign(tok, &P.go, now, &len);
	ck_assert_code(verify(der, len, NULL, NULL, err), POLICY_E_NOT_YET_VALID, err);
	OPENSSL_free(der);
	/* verification at another time: the same token is fine a few hours later */
	der = sign(tok, &P.go, now, &len);
	ck_assert_code(policy_token_verify(der, len, P.store, NULL, now + 7200, NULL, err),
			POLICY_OK, err);
	OPENSSL_free(der);
	policy_token_free(tok);
}
END_TEST

START_TEST(edition_must_increase)
{
	static const struct {
		uint64_t last;
		int want;
	} cases[] = {
		{ 0, POLICY_OK },
		{ 4, POLICY_OK },
		{ 5, POLICY_E_EDITION },        /* equal */
		{ 6, POLICY_E_EDITION },        /* older */
		{ UINT64_MAX, POLICY_E_EDITION },
	};
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json), *got;
	struct policy_state st;
	uint8_t *der;
	size_t len;

	der = sign(tok, &P.go, 0, &len);
	ck_assert_code(policy_token_parse(der, len, &got, err), POLICY_OK, err);
	policy_token_state(got, &st);
	st.edition = cases[_i].last;
	st.signing_time = 0;
	ck_assert_code(verify(der, len, &st, NULL, err), cases[_i].want, err);
	if (cases[_i].last == 5)
		ck_assert_str_eq(err, "edition 5 is not newer than the last accepted edition 5");
	policy_token_free(got);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

START_TEST(signing_time_must_not_go_back)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json);
	struct policy_state st = { .edition = 4 };
	time_t now = time(NULL);
	uint8_t *der;
	size_t len;

	snprintf(st.group_name, sizeof(st.group_name), "iptv-sports");
	memcpy(st.group_id, "\x00\x11\x22\x33\x44\x55\x66\x77", 8);
	der = sign(tok, &P.go, now - 100, &len);
	st.signing_time = now - 99;             /* the last token was signed later */
	ck_assert_code(verify(der, len, &st, NULL, err), POLICY_E_SIGNING_TIME, err);
	st.signing_time = now - 100;            /* same second, newer edition: fine */
	ck_assert_code(verify(der, len, &st, NULL, err), POLICY_OK, err);
	OPENSSL_free(der);
	der = sign(tok, &P.go, now + 3600, &len);       /* from the future */
	ck_assert_code(verify(der, len, NULL, NULL, err), POLICY_E_SIGNING_TIME, err);
	OPENSSL_free(der);
	policy_token_free(tok);
}
END_TEST

START_TEST(group_must_match)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json);
	struct policy_state st = { .edition = 1 };
	uint8_t *der;
	size_t len;

	der = sign(tok, &P.go, 0, &len);
	snprintf(st.group_name, sizeof(st.group_name), "iptv-news");
	memcpy(st.group_id, "\x00\x11\x22\x33\x44\x55\x66\x77", 8);
	ck_assert_code(verify(der, len, &st, NULL, err), POLICY_E_GROUP, err);
	snprintf(st.group_name, sizeof(st.group_name), "iptv-sports");
	st.group_id[7] ^= 1;
	ck_assert_code(verify(der, len, &st, NULL, err), POLICY_E_GROUP, err);
	memset(&st, 0, sizeof(st));             /* nothing accepted yet */
	ck_assert_code(verify(der, len, &st, NULL, err), POLICY_OK, err);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ container */

static uint8_t *cms_der(CMS_ContentInfo *cms, size_t *len)
{
	uint8_t *out = NULL;
	int n = i2d_CMS_ContentInfo(cms, &out);

	ck_assert_int_gt(n, 0);
	*len = (size_t)n;
	CMS_ContentInfo_free(cms);
	return out;
}

/*
 * A SignedData built by hand: `nb_signers` signers, optionally detached or without
 * certificates, plus `cert` when not NULL.
 */
static uint8_t *custom_cms(const uint8_t *c, size_t clen, int nb_signers, unsigned int extra,
		X509 *cert, size_t *len)
{
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP | extra;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	BIO *in = BIO_new_mem_buf(c, (int)clen);

	ck_assert_ptr_nonnull(cms);
	ck_assert_int_eq(CMS_set1_eContentType(cms, OBJ_nid2obj(policy_init()->token)), 1);
	for (int i = 0; i < nb_signers; i++)
		ck_assert_ptr_nonnull(CMS_add1_signer(cms, i == 0 ? P.go.cert : P.gw1.cert,
				i == 0 ? P.go.key : P.gw1.key, EVP_sha256(), flags));
	if (cert != NULL)
		ck_assert_int_eq(CMS_add1_cert(cms, cert), 1);
	ck_assert_int_eq(CMS_final(cms, in, NULL, flags), 1);
	BIO_free(in);
	return cms_der(cms, len);
}

START_TEST(container_checks)
{
	char err[POLICY_ERR_MAX] = "";
	struct policy_token *tok = from_json(base_json);
	uint8_t *content, *der = NULL;
	size_t clen, len = 0;
	int want, rc;
	BIO *in;

	ck_assert_int_eq(policy_content_encode(tok, &content, &clen, err), POLICY_OK);
	switch (_i) {
	case 0: /* content type id-data */
		ck_assert_int_eq(policy_cms_sign_raw(content, clen, NID_pkcs7_data, P.go.key,
				P.go.cert, NULL, 0, false, &der, &len, err), POLICY_OK);
		want = POLICY_E_CONTENT_TYPE;
		break;
	case 1: /* a CMS Data, not a SignedData */
		in = BIO_new_mem_buf(content, (int)clen);
		der = cms_der(CMS_data_create(in, CMS_BINARY), &len);
		BIO_free(in);
		want = POLICY_E_NOT_SIGNED;
		break;
	case 2: /* no signed attributes, so no signing-time */
		ck_assert_int_eq(policy_cms_sign_raw(content, clen, policy_init()->token, P.go.key,
				P.go.cert, NULL, 0, true, &der, &len, err), POLICY_OK);
		want = POLICY_E_NO_SIGNING_TIME;
		break;
	case 3: /* two signers */
		der = custom_cms(content, clen, 2, 0, NULL, &len);
		want = POLICY_E_SIGNER;
		break;
	case 4: /* another certificate in place of the signer's */
		der = custom_cms(content, clen, 1, CMS_NOCERTS, P.gw1.cert, &len);
		want = POLICY_E_SIGNER;
		break;
	case 5: /* detached content */
		der = custom_cms(content, clen, 1, CMS_DETACHED, NULL, &len);
		want = POLICY_E_NO_CONTENT;
		break;
	default: /* the signer's certificate left out */
		der = custom_cms(content, clen, 1, CMS_NOCERTS, NULL, &len);
		want = POLICY_E_SIGNER;
		break;
	}
	rc = verify(der, len, NULL, NULL, err);
	ck_assert_msg(rc == want, "case %d: got %s (%s)", _i, policy_strerror(rc), err);
	OPENSSL_free(content);
	OPENSSL_free(der);
	policy_token_free(tok);
}
END_TEST

/* Malformed container DER: each a specific error. */
static const struct {
	const char *what;
	int want;
} bad_der[] = {
	{ "empty", POLICY_E_SIZE },
	{ "larger than 64 KiB", POLICY_E_SIZE },
	{ "last byte cut", POLICY_E_TRUNCATED },
	{ "cut in half", POLICY_E_TRUNCATED },
	{ "only the first byte", POLICY_E_TRUNCATED },
	{ "one byte of trailing garbage", POLICY_E_TRAILING },
	{ "two tokens back to back", POLICY_E_TRAILING },
	{ "outer tag SET instead of SEQUENCE", POLICY_E_NOT_CMS },
	{ "outer tag [0] instead of SEQUENCE", POLICY_E_NOT_CMS },
	{ "indefinite length (BER)", POLICY_E_DER },
	{ "non-minimal length", POLICY_E_DER },
	{ "contentType tag OCTET STRING instead of OID", POLICY_E_NOT_CMS },
	{ "inner length past its container", POLICY_E_TRUNCATED },
	{ "constructed OID (BER form)", POLICY_E_DER },
};

START_TEST(malformed_der)
{
	char err[POLICY_ERR_MAX] = "";
	struct policy_token *tok = from_json(base_json), *got = NULL;
	uint8_t *der, *buf = calloc(1, 140000);
	size_t len, n = 0;
	int rc;

	der = sign(tok, &P.go, 0, &len);
	/* 30 82 LL LL 06 09 <pkcs7-signedData> a0 82 LL LL ... */
	ck_assert(der[0] == 0x30 && der[1] == 0x82);
	memcpy(buf, der, len);
	n = len;
	switch (_i) {
	case 0:
		n = 0;
		break;
	case 1:
		n = POLICY_TOKEN_MAX + 1;
		break;
	case 2:
		n = len - 1;
		break;
	case 3:
		n = len / 2;
		break;
	case 4:
		n = 1;
		break;
	case 5:
		buf[len] = 0;
		n = len + 1;
		break;
	case 6:
		memcpy(buf + len, der, len);
		n = 2 * len;
		break;
	case 7:
		buf[0] = 0x31;
		break;
	case 8:
		buf[0] = 0xa0;
		break;
	case 9: /* 30 80 <contents> 00 00 */
		buf[1] = 0x80;
		memcpy(buf + 2, der + 4, len - 4);
		buf[len - 2] = buf[len - 1] = 0;
		n = len;
		break;
	case 10: /* 30 83 00 LL LL */
		buf[1] = 0x83;
		buf[2] = 0;
		memcpy(buf + 3, der + 2, len - 2);
		n = len + 1;
		break;
	case 11:
		ck_assert_int_eq(buf[4], 0x06);
		buf[4] = 0x04;
		break;
	case 12:
		ck_assert_int_eq(buf[15], 0xa0);
		buf[17] = buf[18] = 0xff;
		break;
	default:
		ck_assert_int_eq(buf[4], 0x06);
		buf[4] = 0x26;
		break;
	}
	rc = verify(buf, n, NULL, NULL, err);
	ck_assert_msg(rc == bad_der[_i].want, "%s: got %s (%s)", bad_der[_i].what,
			policy_strerror(rc), err);
	ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "%s: no detail",
			bad_der[_i].what);
	/* parsing for display applies the same structural checks */
	ck_assert_int_eq(policy_token_parse(buf, n, &got, err), rc);
	ck_assert_ptr_null(got);
	free(buf);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ malformed content */

/* Minimal DER surgery on the token content: read children, write TLVs. */
struct tlv {
	const uint8_t *p;       /* the whole TLV */
	size_t len;
	size_t hdr;
};

static struct tlv tlv_at(const uint8_t *p)
{
	struct tlv t = { .p = p };
	size_t n = p[1] & 0x7f;

	if (p[1] < 0x80) {
		t.hdr = 2;
		t.len = 2 + p[1];
		return t;
	}
	t.hdr = 2 + n;
	t.len = 0;
	for (size_t i = 0; i < n; i++)
		t.len = t.len << 8 | p[2 + i];
	t.len += t.hdr;
	return t;
}

static int children(struct tlv parent, struct tlv *out, int max)
{
	size_t off = parent.hdr;
	int n = 0;

	while (off < parent.len && n < max) {
		out[n] = tlv_at(parent.p + off);
		off += out[n].len;
		n++;
	}
	return n;
}

/* tag || DER length || the parts; returns the bytes written */
static size_t emit(uint8_t *out, uint8_t tag, const struct tlv *parts, int n)
{
	size_t body = 0, o = 0;

	for (int i = 0; i < n; i++)
		body += parts[i].len;
	out[o++] = tag;
	if (body < 0x80) {
		out[o++] = (uint8_t)body;
	} else if (body < 0x100) {
		out[o++] = 0x81;
		out[o++] = (uint8_t)body;
	} else {
		out[o++] = 0x82;
		out[o++] = (uint8_t)(body >> 8);
		out[o++] = (uint8_t)body;
	}
	for (int i = 0; i < n; i++) {
		memcpy(out + o, parts[i].p, parts[i].len);
		o += parts[i].len;
	}
	return o;
}

static const struct {
	const char *what;
	int want;
} bad_content[] = {
	{ "truncated", POLICY_E_TRUNCATED },
	{ "trailing bytes", POLICY_E_TRAILING },
	{ "SET instead of SEQUENCE", POLICY_E_SYNTAX },
	{ "not a SEQUENCE at all", POLICY_E_SYNTAX },
	{ "indefinite length", POLICY_E_DER },
	{ "tokenDefVersion 2", POLICY_E_VERSION },
	{ "edition missing", POLICY_E_VALUE },
	{ "groupId in constructed (BER) form", POLICY_E_NONCANONICAL },
	{ "BOOLEAN TRUE as 0x01", POLICY_E_NONCANONICAL },
	{ "extra element in TokenID", POLICY_E_SYNTAX },
	{ "no data protocol", POLICY_E_VALUE },
	{ "sender ID bits 9", POLICY_E_VALUE },
	{ "notAfter before notBefore", POLICY_E_VALUE },
	{ "group name with a space", POLICY_E_VALUE },
	{ "access rule not a DN pattern", POLICY_E_VALUE },
	{ "resend count 11", POLICY_E_VALUE },
	{ "deactivation before activation", POLICY_E_VALUE },
	{ "unknown data protocol", POLICY_E_UNSUPPORTED },
	{ "group address not multicast", POLICY_E_VALUE },
	{ "notBefore in the year 226 (found by fuzz_policy)", POLICY_E_VALUE },
	{ "suite 7", POLICY_E_VALUE },
	{ "suite 0", POLICY_E_VALUE },
};

START_TEST(malformed_content)
{
	char err[POLICY_ERR_MAX] = "";
	struct policy_token *tok = from_json(base_json), *got = NULL;
	uint8_t *c, *buf = calloc(1, 8192), *der, oid[64], *po = oid;
	struct tlv top, kids[8], info[8];
	size_t clen, n = 0, olen;
	long at;
	int rc, nk, ni;

	/* changes made on the C form, encoded as they are (the encoder does not validate) */
	switch (_i) {
	case 11:
		tok->data[0].sid_bits = 9;
		break;
	case 12:
		tok->not_after = tok->not_before - 1;
		break;
	case 13:
		snprintf(tok->group_name, sizeof(tok->group_name), "iptv sports");
		break;
	case 14:
		snprintf(tok->roles[POLICY_ROLE_MEMBER].allow[0].text, PAT_TEXT_MAX, "gw-1");
		break;
	case 15:
		tok->rekey.reliability = POLICY_REL_RESEND;
		tok->rekey.resend_count = 11;
		break;
	case 16:
		tok->data[1].activation_delay_ms = 10;
		break;
	case 18:
		tok->data[1].group[0] = 10;
		break;
	case 20:
		tok->data[1].suite = (enum policy_suite)7;
		break;
	case 21:
		tok->data[0].suite = (enum policy_suite)0;
		break;
	}
	ck_assert_int_eq(policy_content_encode(tok, &c, &clen, err), POLICY_OK);
	memcpy(buf, c, clen);
	n = clen;
	top = tlv_at(c);
	nk = children(top, kids, 8);
	ck_assert_int_eq(nk, 4);
	ni = children(kids[0], info, 8);
	ck_assert_int_eq(ni, 5);        /* version, groupName, edition, [0] groupId, [1] validity */
	switch (_i) {
	case 0:
		n = clen - 1;
		break;
	case 1:
		buf[clen] = buf[clen + 1] = 0;
		n = clen + 2;
		break;
	case 2:
		buf[0] = 0x31;
		break;
	case 3:
		memcpy(buf, "\x04\x03" "abc", 5);
		n = 5;
		break;
	case 4: /* 30 80 <contents> 00 00 */
		buf[1] = 0x80;
		memcpy(buf + 2, c + top.hdr, clen - top.hdr);
		n = 2 + clen - top.hdr;
		buf[n++] = 0;
		buf[n++] = 0;
		break;
	case 5:
	case 6:
	case 7:
	case 9: {
		uint8_t ti[512], gid[32];
		struct tlv parts[6];
		int np = 0;

		for (int i = 0; i < ni; i++) {
			if (i == 0 && _i == 5) {
				parts[np++] = (struct tlv){ .p = (const uint8_t *)"\x02\x01\x02",
					.len = 3, .hdr = 2 };
			} else if (i == 2 && _i == 6) {
				continue;
			} else if (i == 3 && _i == 7) {
				/* [0] IMPLICIT OCTET STRING as a0 0a 04 08 <8 bytes> */
				struct tlv inner = { .p = info[3].p, .len = info[3].len, .hdr = 2 };

				gid[0] = 0x04;
				memcpy(gid + 1, info[3].p + 1, info[3].len - 1);
				inner.p = gid;
				emit(gid + 10, 0xa0, &inner, 1);
				parts[np++] = (struct tlv){ .p = gid + 10, .len = 12, .hdr = 2 };
			} else {
				parts[np++] = info[i];
			}
		}
		if (_i == 9)
			parts[np++] = (struct tlv){ .p = (const uint8_t *)"\x05\x00", .len = 2,
				.hdr = 2 };
		kids[0] = (struct tlv){ .p = ti, .hdr = 2 };
		kids[0].len = emit(ti, 0x30, parts, np);
		n = emit(buf, 0x30, kids, nk);
		break;
	}
	case 8: /* the first BOOLEAN TRUE (tesla of data[0]) */
		at = find(buf, n, "\x01\x01\xff", 3, 0);
		ck_assert_int_ge(at, 0);
		buf[at + 2] = 0x01;
		break;
	case 10: {
		struct tlv empty = { .p = (const uint8_t *)"\x30\x00", .len = 2, .hdr = 2 };

		kids[3] = empty;
		n = emit(buf, 0x30, kids, nk);
		break;
	}
	case 19: /* GeneralizedTime 2026... -> 0226... */
		at = find(buf, n, "\x18\x0f", 2, 0);
		ck_assert_int_ge(at, 0);
		buf[at + 2] = '0';
		buf[at + 3] = '2';
		break;
	case 17: /* the data protocol OID arc .1.4 becomes .1.7 */
		olen = (size_t)i2d_ASN1_OBJECT(OBJ_nid2obj(policy_init()->data_mesp), &po);
		at = find(buf, n, oid, olen, 0);
		ck_assert_int_ge(at, 0);
		buf[at + olen - 1] = 0x07;
		break;
	}
	ck_assert_int_eq(policy_cms_sign_raw(buf, n, policy_init()->token, P.go.key, P.go.cert,
			NULL, 0, false, &der, &clen, err), POLICY_OK);
	rc = verify(der, clen, NULL, NULL, err);
	ck_assert_msg(rc == bad_content[_i].want, "%s: got %s (%s)", bad_content[_i].what,
			policy_strerror(rc), err);
	ck_assert_int_eq(policy_token_parse(der, clen, &got, err), rc);
	ck_assert_ptr_null(got);
	free(buf);
	OPENSSL_free(c);
	OPENSSL_free(der);
	policy_token_free(tok);
}
END_TEST

START_TEST(unknown_protocols_are_skipped)
{
	char err[POLICY_ERR_MAX], *json;
	struct policy_token *tok = from_json(base_json), *got;
	struct policy_rekey rk;
	uint8_t *c, *der, oid[64], *po = oid;
	size_t clen, len, olen;
	long at;

	/* registration and rekey under other OIDs: RFC 4534 has the member skip them */
	ck_assert_int_eq(policy_content_encode(tok, &c, &clen, err), POLICY_OK);
	olen = (size_t)i2d_ASN1_OBJECT(OBJ_nid2obj(policy_init()->reg), &po);
	at = find(c, clen, oid, olen, 0);
	ck_assert_int_ge(at, 0);
	c[at + olen - 1] = 0x09;
	po = oid;
	olen = (size_t)i2d_ASN1_OBJECT(OBJ_nid2obj(policy_init()->rekey), &po);
	at = find(c, clen, oid, olen, 0);
	ck_assert_int_ge(at, 0);
	c[at + olen - 1] = 0x09;
	ck_assert_int_eq(policy_cms_sign_raw(c, clen, policy_init()->token, P.go.key, P.go.cert,
			NULL, 0, false, &der, &len, err), POLICY_OK);
	ck_assert_code(verify(der, len, NULL, &got, err), POLICY_OK, err);
	ck_assert_int_eq(policy_authorize(got, POLICY_ROLE_MEMBER, P.gw1.cert), POLICY_E_NO_POLICY);
	ck_assert_int_eq(policy_token_rekey(got, &rk), POLICY_E_NO_POLICY);
	ck_assert_int_eq(policy_token_to_json(got, &json), POLICY_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"registration_entries_skipped\": 1"));
	ck_assert_ptr_nonnull(strstr(json, "\"rekey_entries_skipped\": 1"));
	free(json);
	policy_token_free(got);
	policy_token_free(tok);
	OPENSSL_free(c);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ access control */

enum who {
	GCKS, GCKS_OLD, GCKS_FOREIGN, SUBGCKS, SUBGCKS9, SUBGCKS_EVIL, GW1, GW2, GW5LAB, GWMAIL,
	EDGE3, GWLAB, GW1OU, PARTNER1, PARTNER2,
};

static const struct {
	enum policy_role role;
	enum who who;
	int want;
	const char *why;
} acl_cases[] = {
	{ POLICY_ROLE_GCKS, GCKS, POLICY_OK, "subject and issuer match" },
	{ POLICY_ROLE_GCKS, GCKS_OLD, POLICY_E_EXCLUDED, "excluded by subject" },
	{ POLICY_ROLE_GCKS, GCKS_FOREIGN, POLICY_E_NOT_LISTED, "issuer does not match" },
	{ POLICY_ROLE_GCKS, GW1, POLICY_E_NOT_LISTED, "a member is no GC/KS" },
	{ POLICY_ROLE_SUBGCKS, SUBGCKS, POLICY_OK, "DNS name matches" },
	{ POLICY_ROLE_SUBGCKS, SUBGCKS9, POLICY_E_EXCLUDED, "excluded by DNS name" },
	{ POLICY_ROLE_SUBGCKS, SUBGCKS_EVIL, POLICY_E_NOT_LISTED, "'*' stays in one label" },
	{ POLICY_ROLE_SUBGCKS, GCKS, POLICY_E_NOT_LISTED, "not listed" },
	{ POLICY_ROLE_SENDER, GW1, POLICY_OK, "subject matches" },
	{ POLICY_ROLE_SENDER, GW2, POLICY_OK, "IPv4 address matches" },
	{ POLICY_ROLE_SENDER, GWMAIL, POLICY_OK, "mail address matches" },
	{ POLICY_ROLE_SENDER, PARTNER1, POLICY_OK, "issuer key identifier matches" },
	{ POLICY_ROLE_SENDER, PARTNER2, POLICY_E_NOT_LISTED, "issuer key identifier differs" },
	{ POLICY_ROLE_SENDER, GW5LAB, POLICY_E_EXCLUDED, "listed by address, excluded by DNS" },
	{ POLICY_ROLE_SENDER, EDGE3, POLICY_E_NOT_LISTED, "a member is no sender" },
	{ POLICY_ROLE_MEMBER, GW1, POLICY_OK, "subject pattern matches" },
	{ POLICY_ROLE_MEMBER, EDGE3, POLICY_OK, "IPv6 address matches (Ed25519 key)" },
	{ POLICY_ROLE_MEMBER, GWLAB, POLICY_E_EXCLUDED, "excluded, case-insensitively" },
	{ POLICY_ROLE_MEMBER, GW1OU, POLICY_E_NOT_LISTED, "an extra RDN never matches" },
	{ POLICY_ROLE_MEMBER, GCKS, POLICY_E_NOT_LISTED, "not listed" },
};

START_TEST(access_rules)
{
	const struct ident *ids[] = {
		[GCKS] = &P.gcks, [GCKS_OLD] = &P.gcks_old, [GCKS_FOREIGN] = &P.gcks_foreign,
		[SUBGCKS] = &P.subgcks, [SUBGCKS9] = &P.subgcks9, [SUBGCKS_EVIL] = &P.subgcks_evil,
		[GW1] = &P.gw1, [GW2] = &P.gw2, [GW5LAB] = &P.gw5lab, [GWMAIL] = &P.gwmail,
		[EDGE3] = &P.edge3, [GWLAB] = &P.gwlab, [GW1OU] = &P.gw1ou,
		[PARTNER1] = &P.partner1, [PARTNER2] = &P.partner2,
	};
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = from_json(base_json), *got;
	uint8_t *der;
	size_t len;
	int rc;

	/* the rules as a receiver sees them: through a signed token */
	der = sign(tok, &P.go, 0, &len);
	ck_assert_code(verify(der, len, NULL, &got, err), POLICY_OK, err);
	rc = policy_authorize(got, acl_cases[_i].role, ids[acl_cases[_i].who]->cert);
	ck_assert_msg(rc == acl_cases[_i].want, "case %d as %s (%s): got %s", _i,
			policy_role_key(acl_cases[_i].role), acl_cases[_i].why,
			policy_strerror(rc));
	policy_token_free(got);
	policy_token_free(tok);
	OPENSSL_free(der);
}
END_TEST

START_TEST(access_rule_edges)
{
	struct policy_token *tok = from_json(base_json);
	struct pattern *m = tok->roles[POLICY_ROLE_MEMBER].allow;

	ck_assert_int_eq(policy_authorize(NULL, POLICY_ROLE_MEMBER, P.gw1.cert), POLICY_E_INVAL);
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_COUNT, P.gw1.cert), POLICY_E_INVAL);
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, NULL), POLICY_E_INVAL);
	/* "*" matches any subject; several stars; '*' matching nothing */
	snprintf(m[0].text, PAT_TEXT_MAX, "*");
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, P.gcks.cert), POLICY_OK);
	snprintf(m[0].text, PAT_TEXT_MAX, "CN=*c*s*-*1*,O=*");
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, P.gcks.cert), POLICY_OK);
	snprintf(m[0].text, PAT_TEXT_MAX, "CN=gcks-1*,O=msecgw demo*");
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, P.gcks.cert), POLICY_OK);
	snprintf(m[0].text, PAT_TEXT_MAX, "CN=gcks-2*,O=msecgw demo");
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, P.gcks.cert),
			POLICY_E_NOT_LISTED);
	/* an issuer pattern on a rule */
	snprintf(m[0].text, PAT_TEXT_MAX, "*");
	snprintf(m[0].issuer, PAT_TEXT_MAX, "CN=other CA,O=msecgw demo");
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, P.gcks.cert),
			POLICY_E_NOT_LISTED);
	ck_assert_int_eq(policy_authorize(tok, POLICY_ROLE_MEMBER, P.gcks_foreign.cert),
			POLICY_OK);
	policy_token_free(tok);
}
END_TEST

/* ------------------------------------------------------------------ JSON errors */

static const struct {
	const char *path;       /* member of the base policy to change */
	const char *value;      /* new value (' for "), NULL = delete */
	const char *msg;
} bad_json[] = {
	{ "colour", "'red'", "t.json: colour: expected one of the keys group, edition, validity, "
		"registration, rekey, data, got an unknown key" },
	{ "group", NULL, "t.json: group: expected an object, got nothing" },
	{ "group.name", "'iptv sports'", "t.json: group.name: expected a name of 1..63 "
		"characters from A-Z a-z 0-9 . _ -, got \"iptv sports\"" },
	{ "group.id", "'00112233445566'", "t.json: group.id: expected 16 hex digits, got "
		"\"00112233445566\"" },
	{ "group.id", "'00112233445566zz'", "t.json: group.id: expected 16 hex digits, got "
		"\"00112233445566zz\"" },
	{ "edition", "0", "t.json: edition: expected an integer in 1..9223372036854775807, got 0" },
	{ "edition", "'5'", "t.json: edition: expected an integer in 1..9223372036854775807, "
		"got \"5\"" },
	{ "edition", "5.0", "t.json: edition: expected an integer in 1..9223372036854775807, "
		"got a real number" },
	{ "validity", "{}", "t.json: validity: expected exactly one of not_after and "
		"lifetime_seconds, got neither" },
	{ "validity", "{'not_after': '2030-01-01T00:00:00Z', 'lifetime_seconds': 60}",
		"t.json: validity: expected exactly one of not_after and lifetime_seconds, "
		"got both" },
	{ "validity", "{'not_after': '2030-02-30T00:00:00Z'}", "t.json: validity.not_after: "
		"expected a UTC time \"YYYY-MM-DDTHH:MM:SSZ\", got \"2030-02-30T00:00:00Z\"" },
	{ "validity", "{'not_after': '2030-01-01 00:00:00'}", "t.json: validity.not_after: "
		"expected a UTC time \"YYYY-MM-DDTHH:MM:SSZ\", got \"2030-01-01 00:00:00\"" },
	{ "validity", "{'not_before': '2030-01-01T00:00:00Z', 'not_after': '2029-01-01T00:00:00Z'}",
		"t.json: validity.not_after: expected a time after not_before" },
	{ "validity.lifetime_seconds", "59", "t.json: validity.lifetime_seconds: expected an "
		"integer in 60..2147483647, got 59" },
	{ "registration.transport", "'sctp'", "t.json: registration.transport: expected \"tcp\", "
		"\"udp\" or \"udp-rtj-tcp-other\", got \"sctp\"" },
	{ "registration.suite", "'gsakmp-suite-1'", "t.json: registration.suite: expected "
		"\"msecgw-suite-1\", got \"gsakmp-suite-1\"" },
	{ "registration.timeout_seconds", "0", "t.json: registration.timeout_seconds: expected an "
		"integer in 1..3600, got 0" },
	{ "registration.members", NULL, "t.json: registration.members: expected an object, got "
		"nothing" },
	{ "registration.gcks.allow", "[]", "t.json: registration.gcks: expected at least one rule "
		"in allow (someone must run the group)" },
	{ "registration.senders.allow", "{}", "t.json: registration.senders.allow: expected an "
		"array of rules, got an object" },
	{ "registration.members.deny", "[]", "t.json: registration.members.deny: expected one of "
		"the keys allow, exclude, got an unknown key" },
	{ "registration.members.allow[0]", "{'subject': 'CN=a', 'dns': 'a.example'}",
		"t.json: registration.members.allow[0]: expected one of subject, dns, email and "
		"ip, "
		"got both subject and dns" },
	{ "registration.members.allow[0]", "{'issuer': 'CN=a'}",
		"t.json: registration.members.allow[0]: expected one of subject, dns, email and "
		"ip, "
		"got none" },
	{ "registration.members.allow[0]", "{'subject': 'gw-1'}",
		"t.json: registration.members.allow[0].subject: expected an RFC 4514 DN pattern "
		"(\"CN=gw-*,O=Example,C=US\" or \"*\"), got \"gw-1\"" },
	{ "registration.members.exclude[0]", "{'subject': 'C N=x'}",
		"t.json: registration.members.exclude[0].subject: expected an attribute type (CN, "
		"O, OU, C, DC ... or a dotted OID) before '=' in each RDN, got \"C N=x\"" },
	{ "registration.sub_gcks.allow[0]", "{'dns': 'sub_gcks.example'}",
		"t.json: registration.sub_gcks.allow[0].dns: expected a DNS name pattern of A-Z "
		"a-z "
		"0-9 . - *, got \"sub_gcks.example\"" },
	{ "registration.senders.allow[2]", "{'email': 'nobody'}",
		"t.json: registration.senders.allow[2].email: expected a mail address pattern "
		"local@domain, got \"nobody\"" },
	{ "registration.senders.allow[1]", "{'ip': '192.0.2.300'}",
		"t.json: registration.senders.allow[1].ip: expected an IPv4 or IPv6 address, got "
		"\"192.0.2.300\"" },
	{ "registration.gcks.allow[0].issuer", "'test CA'",
		"t.json: registration.gcks.allow[0].issuer: expected an RFC 4514 DN pattern "
		"(\"CN=gw-*,O=Example,C=US\" or \"*\"), got \"test CA\"" },
	{ "registration.senders.allow[3].ca_key_id", "'xyz'",
		"t.json: registration.senders.allow[3].ca_key_id: expected 2..128 hex digits, got "
		"\"xyz\"" },
	{ "rekey.method", "'oft'", "t.json: rekey.method: expected \"lkh\" or \"none\", got "
		"\"oft\"" },
	{ "rekey.degree", "1", "t.json: rekey.degree: expected an integer in 2..16, got 1" },
	{ "rekey.key_wrap", "'aes-128-kw'", "t.json: rekey.key_wrap: expected \"aes-256-kw\" or "
		"\"aes-256-gcm\", got \"aes-128-kw\"" },
	{ "rekey.max_silence_seconds", "30", "t.json: rekey.max_silence_seconds: expected an "
		"integer in 60..2147483647, got 30" },
	{ "rekey.reliability", "{'mechanism': 'resend'}", "t.json: rekey.reliability.count: "
		"expected an integer in 1..10, got nothing" },
	{ "rekey.reliability", "{'mechanism': 'resend', 'count': 11}", "t.json: "
		"rekey.reliability.count: expected an integer in 1..10, got 11" },
	{ "rekey.reliability", "{'mechanism': 'none', 'count': 2}", "t.json: "
		"rekey.reliability.count: expected no count unless mechanism is \"resend\"" },
	{ "rekey.reliability.url", "'http://a b'", "t.json: rekey.reliability.url: expected a "
		"location of 1..255 printable ASCII characters without spaces, "
		"got \"http://a b\"" },
	{ "rekey", "{'method': 'none', 'degree': 4}", "t.json: rekey.degree: expected one of the "
		"keys method, got an unknown key" },
	{ "data", "[]", "t.json: data: expected an array of 1..16 data SA objects, got an empty "
		"one" },
	{ "data", NULL, "t.json: data: expected an array of 1..16 data SA objects, got nothing" },
	{ "data[0].sid_bits", "9", "t.json: data[0].sid_bits: expected 8, 12 or 16, got 9" },
	{ "data[0].suite", "'aes-ccm-128'", "t.json: data[0].suite: expected \"aes-gcm-128\", "
		"\"aes-gcm-256\", \"aes-gmac-128\", \"aes-cbc-128+hmac-sha256-128\", "
		"\"null-hmac-sha256-128\" or \"aes-ctr-128-hmac-sha256-128\", got "
		"\"aes-ccm-128\"" },
	{ "data[1].suite", "'null+hmac-sha256-128'", "t.json: data[1].suite: expected "
		"\"aes-gcm-128\", \"aes-gcm-256\", \"aes-gmac-128\", "
		"\"aes-cbc-128+hmac-sha256-128\", \"null-hmac-sha256-128\" or "
		"\"aes-ctr-128-hmac-sha256-128\", got \"null+hmac-sha256-128\"" },
	{ "data[0].replay_window", "65537", "t.json: data[0].replay_window: expected an integer "
		"in 0..65536, got 65537" },
	{ "data[0].tesla", "'yes'", "t.json: data[0].tesla: expected true or false, got "
		"\"yes\"" },
	{ "data[0].direction", "'inbound'", "t.json: data[0].direction: expected "
		"\"senders-to-members\" or \"symmetric\", got \"inbound\"" },
	{ "data[0].address_preservation", "'both'", "t.json: data[0].address_preservation: "
		"expected \"none\", \"src\", \"dst\" or \"src-dst\", got \"both\"" },
	{ "data[0].deactivation_delay_ms", "99", "t.json: data[0].deactivation_delay_ms: "
		"expected at least activation_delay_ms (100): the old SA must outlive the switch "
		"(RFC 5374 §4.2.1), got 99" },
	{ "data[1].group_address", "'192.0.2.1'", "t.json: data[1].group_address: expected a "
		"multicast address (224.0.0.0/4 or ff00::/8), got \"192.0.2.1\"" },
	{ "data[1].source_address", "'2001:db8::1'", "t.json: data[1].source_address: expected an "
		"IPv4 address like group_address, got \"2001:db8::1\"" },
	{ "data[1].source_address", "'232.0.0.1'", "t.json: data[1].source_address: expected a "
		"unicast source address, got \"232.0.0.1\"" },
	{ "data[1].spi", "4096", "t.json: data[1].spi: expected one of the keys suite, tesla, "
		"sid_bits, replay_window, esn, address_preservation, direction, "
		"activation_delay_ms, "
		"deactivation_delay_ms, lifetime_seconds, group_address, source_address, got an "
		"unknown key" },
};

START_TEST(json_errors)
{
	char err[POLICY_ERR_MAX] = "", *j = edit_base(bad_json[_i].path, bad_json[_i].value);
	struct policy_token *tok = (struct policy_token *)1;
	int rc = policy_token_from_json("t.json", j, strlen(j), 0, &tok, err);

	ck_assert_msg(rc == POLICY_E_JSON, "%s: got %s", bad_json[_i].path, policy_strerror(rc));
	ck_assert_ptr_null(tok);
	ck_assert_str_eq(err, bad_json[_i].msg);
	free(j);
}
END_TEST

START_TEST(json_syntax_errors)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "", "t.json: expected a JSON object, got an empty file" },
		{ " \n ", "t.json: expected a JSON object, got an empty file" },
		{ "[]", "t.json: expected a JSON object at the top level, got an array" },
		{ "{\"edition\": 1,}", "t.json:1:15: string or '}' expected" },
		{ "{\"edition\": 1, \"edition\": 2}", "t.json:1:24: duplicate object key" },
	};
	char err[POLICY_ERR_MAX];
	struct policy_token *tok;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		ck_assert_int_eq(policy_token_from_json("t.json", cases[i].text,
				strlen(cases[i].text), 0, &tok, err), POLICY_E_JSON);
		ck_assert_str_eq(err, cases[i].msg);
	}
}
END_TEST

/* ------------------------------------------------------------------ error names */

START_TEST(error_names)
{
	for (int i = 0; i >= POLICY_E_CRYPTO; i--) {
		const char *s = policy_strerror(i);

		ck_assert_msg(strncmp(s, i == 0 ? "POLICY_OK: " : "POLICY_E_",
				i == 0 ? 11 : 9) == 0,
				"%d: %s", i, s);
		for (int j = 0; j > i; j--)
			ck_assert_str_ne(s, policy_strerror(j));
	}
	ck_assert_str_eq(policy_strerror(1), "POLICY_E_UNKNOWN: unknown error code");
	ck_assert_str_eq(policy_strerror(POLICY_E_CRYPTO - 1), "POLICY_E_UNKNOWN: unknown error "
			"code");
	ck_assert_str_eq(policy_strerror(POLICY_E_EDITION),
			"POLICY_E_EDITION: edition not newer than the last accepted");
}
END_TEST

Suite *policy_suite(void);

Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("token");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_loop_test(tc, suite_names, 0, 6);
	tcase_add_test(tc, parse_without_verifying);
	tcase_add_test(tc, rekey_none_no_registration);
	tcase_add_test(tc, demo_policy_file);
	tcase_add_test(tc, unknown_protocols_are_skipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_loop_test(tc, signer_must_be_the_group_owner, 0, (int)ARRAY_LEN(signers));
	tcase_add_test(tc, signing_key_errors);
	tcase_add_test(tc, chain_certificates_are_carried);
	tcase_add_loop_test(tc, tampering_breaks_the_signature, 0, 4);
	tcase_add_loop_test(tc, validity_period, 0, 3);
	tcase_add_test(tc, clock_skew);
	tcase_add_loop_test(tc, edition_must_increase, 0, 5);
	tcase_add_test(tc, signing_time_must_not_go_back);
	tcase_add_test(tc, group_must_match);
	tcase_add_loop_test(tc, container_checks, 0, 7);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_loop_test(tc, malformed_der, 0, (int)ARRAY_LEN(bad_der));
	tcase_add_loop_test(tc, malformed_content, 0, (int)ARRAY_LEN(bad_content));
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_loop_test(tc, access_rules, 0, (int)ARRAY_LEN(acl_cases));
	tcase_add_test(tc, access_rule_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_loop_test(tc, json_errors, 0, (int)ARRAY_LEN(bad_json));
	tcase_add_test(tc, json_syntax_errors);
	tcase_add_test(tc, error_names);
	suite_add_tcase(s, tc);
	return s;
}
