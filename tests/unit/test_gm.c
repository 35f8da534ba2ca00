/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gm: the group member engine against a key server scripted here with the codec, as
 * tools/gsakmp-sample.c builds messages: a throwaway CA, key servers, a member and Group
 * Owners made with OpenSSL (unchecked fixture, once per test case), policy tokens from JSON.
 * The engine runs on a simulated clock; an ops stub records what it sends, installs,
 * activates and removes.
 *
 * Covered: registration and Ack, retransmission and fresh attempts, cookies, every Key
 * Download refusal (no state, a Nack), duplicates, Lack of Ack, Rekey Events with LKH wraps in
 * either order and new epochs (install, ATD, DTD), other subtrees, replays, the sequence
 * window, forgeries, every truncation, a new policy token and an older one, all-or-nothing,
 * destruction, the three missed-rekey triggers, departure and its timeout, wiping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gm.h"
#include "gm_pvt.h"
#include "gsakmp.h"
#include "gsakmp_crypto.h"
#include "policy.h"
#include "policy_pvt.h"

#define NOW_S INT64_C(1772366400)      /* 2026-03-01 12:00:00 UTC */
#define T0 (NOW_S * 1000)
#define ATD 2000
#define DTD 5000
#define SILENCE_S 600
#define GTPK_ID(i) (0x80000000u + (i))
#define MSG_MAX 8192
#define SPI(e) (0x10000u + (e))
#define MAX_REC 64

static const uint8_t GID[8] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
static const char GROUP[] = "grp-a";
static const char GW_DN[] = "CN=gw-1,O=msecgw test";

/* ------------------------------------------------------------------ PKI and tokens */

struct ident {
	EVP_PKEY *key;
	X509 *cert;
	struct gsakmp_key *gk;
};

struct token {
	uint8_t *der;
	size_t len;
};

static struct {
	struct ident ca, other_ca, go, rogue_go, ks, ks2, ks_rogue, gw;
	struct gsakmp_trust *trust;
	X509_STORE *go_store;
	struct token tok1, tok2, noauth, noauth3, rogue, other_group, expired;
} P;

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	ck_assert_msg(e != NULL, "extension %d = %s", nid, value);
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static void make(struct ident *id, const char *cn, const struct ident *iss, bool ca,
		const char *eku, bool ed25519)
{
	static long serial = 1;
	X509_NAME *name;
	X509V3_CTX ctx;
	X509 *x;

	id->key = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(id->key);
	x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	ASN1_TIME_set(X509_getm_notBefore(x), 1767225600);    /* 2026-01-01 */
	ASN1_TIME_set(X509_getm_notAfter(x), 2082758400);     /* 2036-01-01 */
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"msecgw test",
			-1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
			0);
	X509_set_issuer_name(x, iss != NULL ? X509_get_subject_name(iss->cert) : name);
	X509_set_pubkey(x, id->key);
	X509V3_set_ctx(&ctx, iss != NULL ? iss->cert : x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
			"critical,digitalSignature");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (eku != NULL)
		add_ext(x, &ctx, NID_ext_key_usage, eku);
	ck_assert_int_gt(X509_sign(x, iss != NULL ? iss->key : id->key, EVP_sha256()), 0);
	id->cert = x;
	if (!ca && eku == NULL)
		ck_assert_int_eq(gsakmp_key_new(id->key, id->cert, &id->gk), 0);
}

static const char token_json[] =
	"{\"group\": {\"name\": \"%s\", \"id\": \"0011223344556677\"},"
	" \"edition\": %u,"
	" \"validity\": {\"not_before\": \"2026-01-01T00:00:00Z\","
	"  \"not_after\": \"%s\"},"
	" \"registration\": {\"gcks\": {\"allow\": [{\"subject\": \"%s\"}]},"
	"  \"senders\": {\"allow\": [{\"subject\": \"CN=gw-*,O=msecgw test\"}]},"
	"  \"members\": {\"allow\": [{\"subject\": \"*\"}]}},"
	" \"rekey\": {\"method\": \"lkh\", \"degree\": 2, \"key_wrap\": \"aes-256-gcm\","
	"  \"max_silence_seconds\": %d},"
	" \"data\": [{\"suite\": \"aes-gcm-128\", \"sid_bits\": 8, \"replay_window\": 1024,"
	"  \"esn\": true, \"address_preservation\": \"src-dst\","
	"  \"direction\": \"senders-to-members\", \"activation_delay_ms\": %d,"
	"  \"deactivation_delay_ms\": %d, \"lifetime_seconds\": 3600,"
	"  \"group_address\": \"232.1.1.1\", \"source_address\": \"192.0.2.10\"}]}";

static struct token make_token_x(const char *name, const char *not_after, unsigned int edition,
		const char *gcks, const struct ident *go, int64_t signing_time)
{
	char json[2048], err[POLICY_ERR_MAX];
	struct policy_token *tok = NULL;
	struct token t = { 0 };
	int rc;

	snprintf(json, sizeof(json), token_json, name, edition, not_after, gcks, SILENCE_S, ATD,
			DTD);
	rc = policy_token_from_json("t.json", json, strlen(json), (time_t)NOW_S, &tok, err);
	ck_assert_msg(rc == POLICY_OK, "%s", err);
	rc = policy_token_sign(tok, go->key, go->cert, NULL, (time_t)signing_time, &t.der, &t.len,
			err);
	ck_assert_msg(rc == POLICY_OK, "%s: %s", policy_strerror(rc), err);
	policy_token_free(tok);
	return t;
}

static struct token make_token(unsigned int edition, const char *gcks, const struct ident *go,
		int64_t signing_time)
{
	return make_token_x(GROUP, "2027-01-01T00:00:00Z", edition, gcks, go, signing_time);
}

static void pki_setup(void)
{
	ck_assert_ptr_nonnull(policy_init());
	make(&P.ca, "test CA", NULL, true, NULL, false);
	make(&P.other_ca, "other CA", NULL, true, NULL, false);
	make(&P.go, "group-owner", &P.ca, false, OID_KP_GO, false);
	make(&P.rogue_go, "group-owner", &P.other_ca, false, OID_KP_GO, false);
	make(&P.ks, "gcks-1", &P.ca, false, NULL, false);
	make(&P.ks2, "gcks-2", &P.ca, false, NULL, false);
	make(&P.ks_rogue, "gcks-1", &P.other_ca, false, NULL, false);
	make(&P.gw, "gw-1", &P.ca, false, NULL, true);
	ck_assert_int_eq(gsakmp_trust_new(&P.trust), 0);
	ck_assert_int_eq(gsakmp_trust_add(P.trust, P.ca.cert), 0);
	P.go_store = X509_STORE_new();
	ck_assert_int_eq(X509_STORE_add_cert(P.go_store, P.ca.cert), 1);
	P.tok1 = make_token(1, "CN=gcks-*,O=msecgw test", &P.go, NOW_S - 3600);
	P.tok2 = make_token(2, "CN=gcks-*,O=msecgw test", &P.go, NOW_S - 60);
	P.noauth = make_token(1, "CN=other-*,O=msecgw test", &P.go, NOW_S - 3600);
	P.noauth3 = make_token(3, "CN=other-*,O=msecgw test", &P.go, NOW_S - 30);
	P.rogue = make_token(1, "CN=gcks-*,O=msecgw test", &P.rogue_go, NOW_S - 3600);
	P.other_group = make_token_x("grp-b", "2027-01-01T00:00:00Z", 1, "CN=gcks-*,O=msecgw test",
			&P.go, NOW_S - 3600);
	P.expired = make_token_x(GROUP, "2026-02-01T00:00:00Z", 1, "CN=gcks-*,O=msecgw test",
			&P.go, NOW_S - 40 * 86400);
}

static void pki_teardown(void)
{
	struct ident *all[] = { &P.ca, &P.other_ca, &P.go, &P.rogue_go, &P.ks, &P.ks2,
		&P.ks_rogue, &P.gw };
	struct token *toks[] = { &P.tok1, &P.tok2, &P.noauth, &P.noauth3, &P.rogue,
		&P.other_group, &P.expired };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		gsakmp_key_free(all[i]->gk);
		EVP_PKEY_free(all[i]->key);
		X509_free(all[i]->cert);
	}
	for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++)
		OPENSSL_free(toks[i]->der);
	gsakmp_trust_free(P.trust);
	X509_STORE_free(P.go_store);
	memset(&P, 0, sizeof(P));
}

/* ------------------------------------------------------------------ the ops stub */

struct sent {
	uint8_t buf[MSG_MAX];
	size_t len;
	int64_t at;
};

struct inst {
	uint32_t index, epoch, spi, flags;
	uint8_t key[GM_KEY_MAX];
	uint16_t key_len, nb_sids, sid0;
	bool send;
	int64_t at;
};

struct ev {
	uint32_t index, epoch;
	int64_t at;
};

static struct {
	int64_t now;
	int nb_sent, nb_inst, nb_act, nb_rem, nb_st;
	struct sent sent[MAX_REC];
	struct inst inst[MAX_REC];
	struct ev act[MAX_REC];
	struct ev rem[MAX_REC];
	enum gm_state st;
	bool fail_install;
} R;

static struct gm *G;

static int op_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	(void)arg;
	ck_assert_int_lt(R.nb_sent, MAX_REC);
	ck_assert_uint_le(len, MSG_MAX);
	ck_assert_int_eq(to->sa_family, AF_INET);
	ck_assert_uint_eq(tolen, sizeof(struct sockaddr_in));
	memcpy(R.sent[R.nb_sent].buf, msg, len);
	R.sent[R.nb_sent].len = len;
	R.sent[R.nb_sent++].at = R.now;
	return 0;
}

static int op_install(void *arg, const struct gm_sa *sa)
{
	struct inst *i = &R.inst[R.nb_inst];

	(void)arg;
	if (R.fail_install)
		return -ENOMEM;
	ck_assert_int_lt(R.nb_inst, MAX_REC);
	ck_assert_str_eq(sa->group, GROUP);
	ck_assert_uint_eq(sa->spi, sa->attrs->spi);
	i->index = sa->index;
	i->epoch = sa->epoch;
	i->spi = sa->spi;
	i->flags = sa->attrs->flags;
	memcpy(i->key, sa->key, sa->key_len);
	i->key_len = sa->key_len;
	i->nb_sids = sa->nb_sids;
	i->sid0 = sa->nb_sids != 0 ? sa->sids[0] : 0;
	i->send = sa->send;
	i->at = R.now;
	R.nb_inst++;
	return 0;
}

static int op_sa_send(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	(void)arg;
	ck_assert_str_eq(group, GROUP);
	ck_assert_int_lt(R.nb_act, MAX_REC);
	R.act[R.nb_act++] = (struct ev){ index, epoch, R.now };
	return 0;
}

static int op_remove(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	(void)arg;
	ck_assert_str_eq(group, GROUP);
	ck_assert_int_lt(R.nb_rem, MAX_REC);
	R.rem[R.nb_rem++] = (struct ev){ index, epoch, R.now };
	return 0;
}

static void op_state(void *arg, const char *group, enum gm_state st)
{
	(void)arg;
	ck_assert_str_eq(group, GROUP);
	R.st = st;
	R.nb_st++;
}

static void gm_setup(void)
{
	const struct gm_conf c = { .key = P.gw.gk, .ks_trust = P.trust, .go_trust = P.go_store,
		.seed = 42 };
	const struct gm_ops o = { .send = op_send, .sa_install = op_install,
		.sa_send = op_sa_send, .sa_remove = op_remove, .state = op_state };
	struct gm_group_conf gc = { .sids = 2 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&gc.server;

	memset(&R, 0, sizeof(R));
	R.now = T0;
	strcpy(gc.name, GROUP);
	memcpy(gc.gid, GID, sizeof(GID));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(GSAKMP_PORT);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gc.server_len = sizeof(*sin);
	ck_assert_int_eq(gm_new(&c, &o, NULL, &G), 0);
	ck_assert_int_eq(gm_group_add(G, &gc), 0);
}

static void gm_teardown(void)
{
	gm_free(G);
	G = NULL;
}

/* Run the engine's timers up to t, at each deadline on the way. */
static void run_to(int64_t t)
{
	int64_t next = gm_tick(G, R.now);

	while (next <= t) {
		R.now = next;
		next = gm_tick(G, R.now);
	}
	R.now = t;
	gm_tick(G, R.now);
}

static int in(const uint8_t *buf, size_t len)
{
	struct sockaddr_in from = { .sin_family = AF_INET };

	return gm_input(G, buf, len, (const struct sockaddr *)&from, sizeof(from), R.now);
}

static struct gm_group_info *info(void)
{
	static struct gm_group_info i;

	ck_assert_int_eq(gm_group_info(G, GROUP, &i), 0);
	return &i;
}

static uint64_t cnt(const char *name)
{
	return gm_counter(G, GROUP, name);
}

#define ck_refused(rc, want) \
	ck_assert_msg((rc) == (want), "got %d (%s), want %s", (rc), gm_strreason(rc), \
			gm_strreason(want))

/* ------------------------------------------------------------------ the scripted key server */

static struct {
	uint8_t ni[GSAKMP_NONCE_LEN], nr[GSAKMP_NONCE_LEN], nc[GSAKMP_NONCE_C_LEN];
	uint8_t gm_pub[GSAKMP_X25519_LEN], ks_pub[GSAKMP_X25519_LEN];
	uint8_t kek[GSAKMP_KEK_LEN];
	uint16_t alg;                    /* KEK protection; 0: AES-256-GCM */
	struct gsakmp_kd kd, pkgs;
	struct gsakmp_msg m;
} K;

static uint16_t alg(void)
{
	return K.alg != 0 ? K.alg : GSAKMP_KEK_AES256_GCM;
}

/* Node keys and traffic keys are patterns the wipe test looks for. */
static const uint8_t *node_key(uint32_t id, uint32_t h)
{
	static uint8_t k[16][8][GSAKMP_KEK_LEN];

	for (int i = 0; i < GSAKMP_KEK_LEN; i++)
		k[id][h][i] = (uint8_t)(0x80 ^ (id * 37 + h * 101 + i * 7));
	return k[id][h];
}

static const uint8_t *gtpk(uint32_t epoch)
{
	static uint8_t k[16][20];

	for (int i = 0; i < 20; i++)
		k[epoch][i] = (uint8_t)(0x31 + epoch * 19 + i * 5);
	return k[epoch];
}

static struct gsakmp_enc *start(uint8_t exch, uint32_t seq, uint8_t *buf)
{
	struct gsakmp_hdr h = { .gid_type = GSAKMP_GID_OCTETS, .gid_len = 8 + sizeof(GROUP) - 1,
		.version = GSAKMP_VERSION, .exch = exch, .seq = seq };
	struct gsakmp_enc *e;

	memcpy(h.gid, GID, 8);
	memcpy(h.gid + 8, GROUP, sizeof(GROUP) - 1);
	ck_assert_int_eq(gsakmp_enc_init(&e, buf, MSG_MAX, &h), 0);
	return e;
}

static size_t finish(struct gsakmp_enc *e, const struct ident *signer, bool cert)
{
	const uint8_t *der;
	size_t n, len;

	gsakmp_enc_payload_vid(e, (const uint8_t *)GSAKMP_PROFILE_VID, GSAKMP_PROFILE_VID_LEN);
	if (signer != NULL) {
		gsakmp_enc_payload_sig(e, signer->gk, GSAKMP_ID_DN_STRING, R.now / 1000);
		if (cert) {
			gsakmp_key_cert_der(signer->gk, &der, &n);
			gsakmp_enc_payload_cert(e, GSAKMP_CERT_X509_SIG, der, n);
		}
	}
	ck_assert_int_eq(gsakmp_enc_finish(e, &len), 0);
	return len;
}

static void flip_signature(uint8_t *buf, size_t len)
{
	ck_assert_int_eq(gsakmp_decode(buf, len, &K.m, NULL), 0);
	buf[K.m.pl[K.m.sig_index].u.sig.sig - buf + 10] ^= 0x01;
}

static void datum(struct gsakmp_key_datum *d, uint16_t type, uint32_t id, uint32_t h,
		const uint8_t *key, int64_t created, int64_t expires)
{
	*d = (struct gsakmp_key_datum){ .type = type, .id = id, .handle = h, .key = key,
		.key_len = gsakmp_key_type_len(type), .created = created, .expires = expires };
}

static void sa_attrs(struct gsakmp_sa_attrs *sa, uint32_t epoch, bool keydl)
{
	memset(sa, 0, sizeof(*sa));
	sa->key_id = GTPK_ID(0);
	sa->key_handle = epoch;
	sa->present = (1u << GSAKMP_ATTR_SPI) | (1u << GSAKMP_ATTR_SUITE) |
		(1u << GSAKMP_ATTR_FLAGS) | (1u << GSAKMP_ATTR_SID_BITS) |
		(1u << GSAKMP_ATTR_ACT_DELAY) | (1u << GSAKMP_ATTR_DEACT_DELAY) |
		(1u << GSAKMP_ATTR_REPLAY_WINDOW) | (1u << GSAKMP_ATTR_GROUP_ADDR) |
		(1u << GSAKMP_ATTR_SOURCE_ADDR);
	sa->spi = SPI(epoch);
	sa->suite = GSAKMP_SUITE_AES_GCM_128;
	sa->flags = GSAKMP_SAF_PRESERVE_SRC | GSAKMP_SAF_PRESERVE_DST | GSAKMP_SAF_ESN;
	sa->sid_bits = 8;
	if (keydl) {
		sa->flags |= GSAKMP_SAF_SEND | GSAKMP_SAF_RECEIVE;
		sa->present |= 1u << GSAKMP_ATTR_SIDS;
		sa->nb_sids = 2;
		sa->sids[0] = 5;
		sa->sids[1] = 6;
	}
	sa->act_delay_ms = ATD;
	sa->deact_delay_ms = DTD;
	sa->replay_window = 1024;
	sa->addr_len = 4;
	memcpy(sa->group_addr, (const uint8_t[]){ 232, 1, 1, 1 }, 4);
	memcpy(sa->source_addr, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
}

static int64_t created(uint32_t epoch)
{
	return NOW_S - 3600 + 60 * (int64_t)epoch;
}

/* The last Request to Join the member sent: its KC value and Nonce_I. */
static const struct sent *take_rtj(void)
{
	for (int i = R.nb_sent; i-- > 0;) {
		const struct sent *s = &R.sent[i];
		const struct gsakmp_payload *pl;

		ck_assert_int_eq(gsakmp_decode(s->buf, s->len, &K.m, NULL), 0);
		if (K.m.hdr.exch != GSAKMP_EXCH_RTJ)
			continue;
		pl = gsakmp_msg_find(&K.m, GSAKMP_PL_KEY_CREATION, 0);
		memcpy(K.gm_pub, pl->u.kc.data, GSAKMP_X25519_LEN);
		pl = gsakmp_msg_find(&K.m, GSAKMP_PL_NONCE, 0);
		ck_assert_uint_eq(pl->u.nonce.len, GSAKMP_NONCE_LEN);
		memcpy(K.ni, pl->u.nonce.data, GSAKMP_NONCE_LEN);
		return s;
	}
	ck_abort_msg("no Request to Join sent");
	return NULL;
}

enum kd_mut {
	KD_OK,
	KD_WRONG_MEMBER,
	KD_BAD_NONCE_C,
	KD_BAD_SIG,
	KD_NOAUTH,
	KD_ROGUE_GO,
	KD_EXPIRED,
	KD_SA_MISMATCH,
	KD_NO_LKH,
	KD_NO_SA,
	KD_TOKEN_GROUP,
	KD_TOKEN_EXPIRED,
	KD_TOKEN_GARBAGE,
	KD_INSTALL_FAIL,
	KD__MAX
};

struct kd_spec {
	enum kd_mut mut;
	const struct token *tok;         /* NULL: P.tok1 */
	uint32_t node_h;                 /* handle of every path key; 0: 1 */
	uint32_t epochs[2];              /* epochs of data SA 0; none: { 1 } */
	int nb_epochs;
	int64_t expires;                 /* of the traffic keys; 0: a day from now */
};

/* Member 1 at leaf node 4 of a binary tree: path 1, 2, 4, root first. */
static size_t build_kd(const struct kd_spec *s, uint8_t *out)
{
	static const uint32_t path[] = { 1, 2, 4 };
	static uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01 };      /* DER cut short */
	static const struct token garbage = { junk, sizeof(junk) };
	const struct token *tok = s->tok != NULL ? s->tok : &P.tok1;
	struct gsakmp_kd *kd = &K.kd;
	struct gsakmp_kex *kx;
	uint8_t shared[GSAKMP_X25519_LEN], nc[GSAKMP_NONCE_C_LEN];
	uint32_t h = s->node_h != 0 ? s->node_h : 1;
	int nb_epochs = s->nb_epochs != 0 ? s->nb_epochs : 1;
	int64_t exp = s->expires != 0 ? s->expires : NOW_S + 86400;
	struct gsakmp_enc *e;
	size_t len;

	take_rtj();
	ck_assert_int_eq(gsakmp_kex_x25519_new(&kx), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_public(kx, K.ks_pub), 0);
	ck_assert_int_eq(gsakmp_kex_x25519_derive(kx, K.gm_pub, shared), 0);
	gsakmp_kex_free(kx);
	ck_assert_int_eq(gsakmp_random(K.nr, sizeof(K.nr)), 0);
	ck_assert_int_eq(gsakmp_nonce_c(K.ni, 32, K.nr, 32, K.nc), 0);
	{
		struct gsakmp_kek_info ki = { .gid_len = 8 + sizeof(GROUP) - 1,
			.pub_gm = K.gm_pub, .pub_ks = K.ks_pub, .nonce_i = K.ni, .nonce_i_len = 32,
			.nonce_r = K.nr, .nonce_r_len = 32 };
		uint8_t gid[64];

		memcpy(gid, GID, 8);
		memcpy(gid + 8, GROUP, sizeof(GROUP) - 1);
		ki.gid = gid;
		ck_assert_int_eq(gsakmp_kek_derive(shared, &ki, K.kek), 0);
	}
	memset(kd, 0, sizeof(*kd));
	if (s->mut != KD_NO_LKH) {
		kd->items[kd->nb_items].type = GSAKMP_KDD_REKEY_LKH;
		kd->items[kd->nb_items++].u.ra = (struct gsakmp_rekey_array){ .version = 1,
			.member_id = 1, .nb_keys = 3, .first_key = 0 };
		for (int i = 0; i < 3; i++)
			datum(&kd->keys[i], GSAKMP_KEY_AES_256_KEK, path[i], h,
					node_key(path[i], h), NOW_S - 600, NOW_S + 10 * 86400);
		kd->nb_keys = 3;
	}
	for (int i = 0; i < nb_epochs; i++) {
		uint32_t ep = s->nb_epochs != 0 ? s->epochs[i] : 1;

		kd->items[kd->nb_items].type = GSAKMP_KDD_GTPK;
		datum(&kd->items[kd->nb_items++].u.datum, GSAKMP_KEY_AES_GCM_128, GTPK_ID(0), ep,
				gtpk(ep), created(ep), s->mut == KD_EXPIRED ? NOW_S - 60 : exp);
		if (s->mut == KD_NO_SA)
			continue;
		kd->items[kd->nb_items].type = GSAKMP_KDD_DATA_SA;
		sa_attrs(&kd->items[kd->nb_items].u.sa, ep, true);
		if (s->mut == KD_SA_MISMATCH)
			kd->items[kd->nb_items].u.sa.replay_window = 64;
		kd->nb_items++;
	}
	if (s->mut == KD_NOAUTH)
		tok = &P.noauth;
	if (s->mut == KD_ROGUE_GO)
		tok = &P.rogue;
	if (s->mut == KD_TOKEN_GROUP)
		tok = &P.other_group;
	if (s->mut == KD_TOKEN_EXPIRED)
		tok = &P.expired;
	if (s->mut == KD_TOKEN_GARBAGE)
		tok = &garbage;
	memcpy(nc, K.nc, sizeof(nc));
	if (s->mut == KD_BAD_NONCE_C)
		nc[3] ^= 0x40;
	e = start(GSAKMP_EXCH_KEYDL, 0, out);
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING,
			(const uint8_t *)(s->mut == KD_WRONG_MEMBER ? "CN=gw-9,O=msecgw test" :
			GW_DN), strlen(GW_DN));
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, K.nr, sizeof(K.nr));
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, sizeof(nc));
	gsakmp_enc_payload_kc(e, GSAKMP_KC_X25519, K.ks_pub, sizeof(K.ks_pub));
	gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, tok->der, tok->len, alg(), K.kek);
	gsakmp_enc_payload_kdl_sealed(e, kd, alg(), K.kek);
	len = finish(e, &P.ks, true);
	if (s->mut == KD_BAD_SIG)
		flip_signature(out, len);
	OPENSSL_cleanse(shared, sizeof(shared));
	return len;
}

/* A Rekey Event Data block: node keys ('N', id, handle) and epochs ('E', epoch) wrapped under
 * node wrap_id's key of handle wrap_h (or under `bad`, a key that is not it). */
struct rpkg {
	char kind;
	uint32_t id, h;
};

struct rblk {
	uint32_t wrap_id, wrap_h;
	int nb;
	struct rpkg p[4];
	bool bad;
	int64_t expires;                 /* of new epochs; 0: a day from now */
};

static size_t build_rekey(uint32_t seq, const struct rblk *b, int nb, const struct token *pt,
		uint32_t pt_root_h, const struct ident *signer, uint8_t *out)
{
	static const uint8_t wrong[GSAKMP_KEK_LEN] = { 0xde, 0xad };
	struct gsakmp_kd *p = &K.pkgs;
	struct gsakmp_enc *e = start(GSAKMP_EXCH_REKEY, seq, out);

	if (pt != NULL)
		gsakmp_enc_payload_pt_sealed(e, GSAKMP_PT_ASN1_V1, pt->der, pt->len, alg(),
				node_key(1, pt_root_h));
	gsakmp_enc_payload_rekey(e, nb != 0 ? GSAKMP_REKEY_LKH : GSAKMP_REKEY_NONE,
			nb != 0 ? 1 : 0, R.now / 1000);
	for (int i = 0; i < nb; i++) {
		memset(p, 0, sizeof(*p));
		for (int k = 0; k < b[i].nb; k++) {
			const struct rpkg *q = &b[i].p[k];

			if (q->kind == 'N' || q->kind == 'X') {
				/* 'X': the node's Key ID and Handle with another node's key */
				p->items[p->nb_items].type = GSAKMP_KDD_REKEY_LKH;
				datum(&p->items[p->nb_items++].u.datum, GSAKMP_KEY_AES_256_KEK,
						q->id, q->h, node_key(q->kind == 'N' ? q->id :
						q->id + 1, q->h), NOW_S - 60, NOW_S + 10 * 86400);
				continue;
			}
			p->items[p->nb_items].type = GSAKMP_KDD_GTPK;
			datum(&p->items[p->nb_items++].u.datum, GSAKMP_KEY_AES_GCM_128,
					GTPK_ID(0), q->h, gtpk(q->h), created(q->h),
					b[i].expires != 0 ? b[i].expires : NOW_S + 86400);
			p->items[p->nb_items].type = GSAKMP_KDD_DATA_SA;
			sa_attrs(&p->items[p->nb_items++].u.sa, q->h, false);
		}
		gsakmp_enc_rekey_data_sealed(e, b[i].wrap_id, b[i].wrap_h, p, alg(),
				b[i].bad ? wrong : node_key(b[i].wrap_id, b[i].wrap_h));
	}
	gsakmp_enc_rekey_end(e);
	/* like lib/gcks: no certificate, the member pinned the key server's at registration */
	return finish(e, signer, signer != &P.ks);
}

/* A heartbeat: the traffic-key block repeating epoch 1 under root handle 1. */
static size_t heartbeat(uint32_t seq, uint8_t *out)
{
	const struct rblk b = { 1, 1, 1, { { 'E', 0, 1 } } };

	return build_rekey(seq, &b, 1, NULL, 0, &P.ks, out);
}

static void join(void)
{
	int n = R.nb_sent;

	ck_assert_int_eq(gm_join(G, GROUP, R.now), 0);
	ck_assert_int_eq(R.nb_sent, n + 1);
	ck_assert_int_eq(R.st, GM_ST_REGISTERING);
}

static void register_ok(const struct kd_spec *s)
{
	static uint8_t buf[MSG_MAX];
	const struct kd_spec ok = { 0 };
	size_t len = build_kd(s != NULL ? s : &ok, buf);
	int rc = in(buf, len);

	ck_assert_msg(rc == 0, "Key Download refused: %s", gm_strreason(rc));
	ck_assert_int_eq(R.st, GM_ST_MEMBER);
}

static const struct gsakmp_msg *decode_sent(int i, uint8_t exch)
{
	ck_assert_int_lt(i, R.nb_sent);
	ck_assert_int_eq(gsakmp_decode(R.sent[i].buf, R.sent[i].len, &K.m, NULL), 0);
	ck_assert_int_eq(K.m.hdr.exch, exch);
	ck_assert_int_eq(gsakmp_verify(&K.m, NULL, P.trust, R.sent[i].at / 1000, 300, NULL), 0);
	return &K.m;
}

/* ------------------------------------------------------------------ registration */

START_TEST(reg_ack)
{
	struct gsakmp_mech mech[8];
	const struct gsakmp_msg *m;
	const struct gsakmp_payload *pl;
	struct gm_group_info *gi;
	int n;

	join();
	m = decode_sent(0, GSAKMP_EXCH_RTJ);
	ck_assert(m->profile);
	pl = gsakmp_msg_find(m, GSAKMP_PL_NOTIFICATION, 0);
	ck_assert_ptr_nonnull(pl);
	n = gsakmp_mech_parse(&pl->u.notify, mech, 8);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(mech[0].type, GSAKMP_MECH_KEY_CREATION);
	ck_assert_uint_eq(mech[0].choice, GSAKMP_MECH_KC_X25519);
	ck_assert_uint_eq(mech[1].choice, GSAKMP_MECH_ENC_AES256_GCM);
	ck_assert_uint_eq(mech[2].choice, GSAKMP_MECH_NONCE_SHA256);
	ck_assert_uint_eq(mech[3].type, GSAKMP_MECH_SENDER_IDS);
	ck_assert_uint_eq(mech[3].choice, 2);
	ck_assert_int_eq(gsakmp_msg_find(m, GSAKMP_PL_NONCE, 0)->u.nonce.len, 32);

	R.now += 150;
	register_ok(NULL);
	/* Ack: Nonce_C and a simple Ack, signed */
	m = decode_sent(1, GSAKMP_EXCH_KEYDL_ACK);
	pl = gsakmp_msg_find(m, GSAKMP_PL_NONCE, 0);
	ck_assert_ptr_nonnull(pl);
	ck_assert_int_eq(memcmp(pl->u.nonce.data, K.nc, 32), 0);
	pl = gsakmp_msg_find(m, GSAKMP_PL_NOTIFICATION, 0);
	ck_assert_uint_eq(pl->u.notify.type, GSAKMP_N_ACK);
	ck_assert_int_eq(gsakmp_notify_ack_type(&pl->u.notify), GSAKMP_ACK_SIMPLE);
	/* the epoch: installed with its key and SIDs, sent on at once */
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_uint_eq(R.inst[0].epoch, 1);
	ck_assert_uint_eq(R.inst[0].spi, SPI(1));
	ck_assert_int_eq(memcmp(R.inst[0].key, gtpk(1), 20), 0);
	ck_assert(R.inst[0].send);
	ck_assert_uint_eq(R.inst[0].nb_sids, 2);
	ck_assert_uint_eq(R.inst[0].sid0, 5);
	ck_assert_int_eq(R.nb_act, 1);
	ck_assert_uint_eq(R.act[0].epoch, 1);
	ck_assert_int_eq(R.act[0].at, R.now);
	gi = info();
	ck_assert_int_eq(gi->state, GM_ST_MEMBER);
	ck_assert_uint_eq(gi->member_id, 1);
	ck_assert_uint_eq(gi->root_handle, 1);
	ck_assert_uint_eq(gi->nb_path, 3);
	ck_assert_uint_eq(gi->nb_epochs, 1);
	ck_assert(gi->epochs[0].sending);
	ck_assert_uint_eq(gi->registrations, 1);
	ck_assert_uint_eq(gi->edition, 1);
	ck_assert_int_eq(gi->silence_deadline_ms, R.now + SILENCE_S * 1000);
	ck_assert_int_eq(gm_tick(G, R.now), R.now + SILENCE_S * 1000);
	ck_assert_uint_eq(cnt("keydl_accepted"), 1);
	ck_assert_uint_eq(gm_counter(G, NULL, "keydl_accepted"), 1);
}
END_TEST

START_TEST(reg_retransmit)
{
	uint8_t first_pub[32], first_ni[32];
	int64_t next;

	join();
	take_rtj();
	memcpy(first_pub, K.gm_pub, 32);
	memcpy(first_ni, K.ni, 32);
	run_to(T0 + 999);
	ck_assert_int_eq(R.nb_sent, 1);
	run_to(T0 + 7000);
	ck_assert_int_eq(R.nb_sent, 4);
	ck_assert_int_eq(R.sent[1].at, T0 + 1000);
	ck_assert_int_eq(R.sent[2].at, T0 + 3000);
	ck_assert_int_eq(R.sent[3].at, T0 + 7000);
	for (int i = 1; i < 4; i++) {
		ck_assert_uint_eq(R.sent[i].len, R.sent[0].len);
		ck_assert_int_eq(memcmp(R.sent[i].buf, R.sent[0].buf, R.sent[0].len), 0);
	}
	/* then a jittered pause of 1-5 s and a fresh attempt */
	next = gm_tick(G, R.now);
	ck_assert_int_ge(next, T0 + 8000);
	ck_assert_int_le(next, T0 + 12000);
	run_to(next);
	ck_assert_int_eq(R.nb_sent, 5);
	take_rtj();
	ck_assert_int_ne(memcmp(first_pub, K.gm_pub, 32), 0);
	ck_assert_int_ne(memcmp(first_ni, K.ni, 32), 0);
	ck_assert_uint_eq(cnt("rtj_retransmit"), 3);
	ck_assert_uint_eq(cnt("rtj_restart"), 1);
	ck_assert_uint_eq(cnt("rtj_sent"), 2);
	/* and it registers */
	register_ok(NULL);
}
END_TEST

static size_t cookie_dl(const uint8_t *gid, const uint8_t *cookie, size_t clen, uint8_t *out)
{
	struct gsakmp_hdr h = { .gid_type = GSAKMP_GID_OCTETS, .gid_len = 8 + sizeof(GROUP) - 1,
		.version = GSAKMP_VERSION, .exch = GSAKMP_EXCH_COOKIE_DL };
	struct gsakmp_enc *e;

	memcpy(h.gid, gid, 8);
	memcpy(h.gid + 8, GROUP, sizeof(GROUP) - 1);
	ck_assert_int_eq(gsakmp_enc_init(&e, out, MSG_MAX, &h), 0);
	gsakmp_enc_payload_notify(e, GSAKMP_N_COOKIE_REQUIRED, cookie, clen);
	return finish(e, NULL, false);
}

START_TEST(reg_cookie)
{
	static const uint8_t other_gid[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	static uint8_t buf[MSG_MAX];
	uint8_t cookie[17], pub[32], ni[32];
	const struct gsakmp_payload *pl;
	size_t len;

	for (int i = 0; i < 17; i++)
		cookie[i] = (uint8_t)(0xc0 + i);
	join();
	take_rtj();
	memcpy(pub, K.gm_pub, 32);
	memcpy(ni, K.ni, 32);
	/* another group's Cookie Download: counted, ignored */
	len = cookie_dl(other_gid, cookie, sizeof(cookie), buf);
	ck_refused(in(buf, len), -GSAKMP_E_GROUP_ID);
	ck_assert_uint_eq(gm_counter(G, NULL, "group_id"), 1);
	ck_assert_int_eq(R.nb_sent, 1);
	/* ours: the same Request to Join with the cookie */
	len = cookie_dl(GID, cookie, sizeof(cookie), buf);
	R.now += 20;
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_int_eq(R.nb_sent, 2);
	take_rtj();
	ck_assert_int_eq(memcmp(pub, K.gm_pub, 32), 0);
	ck_assert_int_eq(memcmp(ni, K.ni, 32), 0);
	pl = gsakmp_msg_find(&K.m, GSAKMP_PL_NOTIFICATION, 1);
	ck_assert_ptr_nonnull(pl);
	ck_assert_uint_eq(pl->u.notify.type, GSAKMP_N_COOKIE);
	ck_assert_uint_eq(pl->u.notify.len, sizeof(cookie));
	ck_assert_int_eq(memcmp(pl->u.notify.data, cookie, sizeof(cookie)), 0);
	ck_assert_uint_eq(cnt("cookie_received"), 1);
	/* a few more are followed, then no more in this attempt */
	for (int i = 1; i < GM_COOKIES_PER_ATTEMPT; i++)
		ck_assert_int_eq(in(buf, len), 0);
	ck_refused(in(buf, len), -GM_R_UNSOLICITED);
	ck_assert_uint_eq(cnt("unsolicited"), 1);
	ck_assert_int_eq(R.nb_sent, 1 + GM_COOKIES_PER_ATTEMPT);
	/* an unsigned Request to Join Error changes nothing */
	{
		struct gsakmp_hdr h = { .gid_type = GSAKMP_GID_OCTETS, .gid_len = 13,
			.version = 1, .exch = GSAKMP_EXCH_RTJ_ERR };
		struct gsakmp_enc *e;

		memcpy(h.gid, GID, 8);
		memcpy(h.gid + 8, GROUP, 5);
		ck_assert_int_eq(gsakmp_enc_init(&e, buf, MSG_MAX, &h), 0);
		gsakmp_enc_payload_notify(e, GSAKMP_N_UNAUTHORIZED_REQUEST, NULL, 0);
		len = finish(e, NULL, false);
		ck_assert_int_eq(in(buf, len), 0);
		ck_assert_uint_eq(cnt("rtj_error"), 1);
		ck_assert_int_eq(R.st, GM_ST_REGISTERING);
	}
	register_ok(NULL);
	/* a member does not follow Cookie Downloads */
	len = cookie_dl(GID, cookie, sizeof(cookie), buf);
	ck_refused(in(buf, len), -GSAKMP_E_UNEXPECTED_EXCH);
	ck_assert_int_eq(R.nb_sent, 2 + GM_COOKIES_PER_ATTEMPT);
}
END_TEST

static const struct {
	int rc;
	const char *name;
	bool verified;           /* the key server's signature verified before the failure */
} kd_refusals[KD__MAX] = {
	[KD_WRONG_MEMBER] = { -GM_R_WRONG_MEMBER, "wrong_member", false },
	[KD_BAD_NONCE_C] = { -GSAKMP_E_NONCE_C, "nonce_c", false },
	[KD_BAD_SIG] = { -GSAKMP_E_BAD_SIGNATURE, "bad_signature", false },
	[KD_NOAUTH] = { -GM_R_UNAUTHORIZED_GCKS, "unauthorized_gcks", true },
	[KD_ROGUE_GO] = { -GM_R_TOKEN_UNTRUSTED, "token_untrusted", true },
	[KD_EXPIRED] = { -GM_R_STALE_KEY, "stale_key", true },
	[KD_SA_MISMATCH] = { -GM_R_SA_MISMATCH, "sa_mismatch", true },
	[KD_NO_LKH] = { -GM_R_LKH_ITEMS, "lkh_items", true },
	[KD_NO_SA] = { -GM_R_SA_ITEM, "sa_item", true },
	[KD_TOKEN_GROUP] = { -GM_R_TOKEN_GROUP, "token_group", true },
	[KD_TOKEN_EXPIRED] = { -GM_R_TOKEN_EXPIRED, "token_expired", true },
	[KD_TOKEN_GARBAGE] = { -GM_R_TOKEN_INVALID, "token_invalid", true },
	[KD_INSTALL_FAIL] = { -GM_R_INSTALL, "install_failed", true },
};

START_TEST(kd_refused)
{
	static uint8_t buf[MSG_MAX];
	const struct kd_spec s = { .mut = (enum kd_mut)(_i + 1) };
	const struct gsakmp_payload *pl;
	struct gm_group_info *gi;
	size_t len;
	int before;

	join();
	len = build_kd(&s, buf);
	R.now += 100;
	R.fail_install = s.mut == KD_INSTALL_FAIL;
	ck_refused(in(buf, len), kd_refusals[s.mut].rc);
	R.fail_install = false;
	ck_assert_uint_eq(cnt(kd_refusals[s.mut].name), 1);
	/* a Nack, with Nonce_C only when it was right */
	ck_assert_int_eq(R.nb_sent, 2);
	decode_sent(1, GSAKMP_EXCH_KEYDL_ACK);
	pl = gsakmp_msg_find(&K.m, GSAKMP_PL_NOTIFICATION, 0);
	ck_assert_uint_eq(pl->u.notify.type, GSAKMP_N_NACK);
	ck_assert_int_eq(gsakmp_msg_find(&K.m, GSAKMP_PL_NONCE, 0) != NULL,
			s.mut != KD_WRONG_MEMBER && s.mut != KD_BAD_NONCE_C);
	ck_assert_uint_eq(cnt("nack_sent"), 1);
	/* nothing kept */
	ck_assert_int_eq(R.nb_inst, 0);
	ck_assert_int_eq(R.nb_act, 0);
	gi = info();
	ck_assert_int_eq(gi->state, GM_ST_REGISTERING);
	ck_assert_uint_eq(gi->member_id, 0);
	ck_assert_uint_eq(gi->nb_path, 0);
	ck_assert_uint_eq(gi->nb_epochs, 0);
	ck_assert_uint_eq(gi->registrations, 0);
	ck_assert_uint_eq(gi->edition, 0);
	/* a forged message does not end the attempt; a refused genuine one does */
	before = R.nb_sent;
	run_to(gm_tick(G, R.now));
	ck_assert_int_eq(R.nb_sent, before + 1);
	take_rtj();
	ck_assert_uint_eq(cnt("rtj_retransmit"), kd_refusals[s.mut].verified ? 0 : 1);
	ck_assert_uint_eq(cnt("rtj_restart"), kd_refusals[s.mut].verified ? 1 : 0);
	register_ok(NULL);
	ck_assert_uint_eq(info()->registrations, 1);
}
END_TEST

static size_t leave_rekey(uint32_t seq, bool parents_first, uint8_t *out);

/* The member asks for RFC 5649 key wrap; the key server also wraps its Rekey Events so,
 * although the token's key_wrap says GCM. */
START_TEST(reg_kwp)
{
	static uint8_t buf[MSG_MAX];
	const struct gm_conf c = { .key = P.gw.gk, .ks_trust = P.trust, .go_trust = P.go_store,
		.enc_mech = GSAKMP_MECH_ENC_AES256_KWP, .seed = 7 };
	const struct gm_ops o = { .send = op_send, .sa_install = op_install,
		.sa_send = op_sa_send, .sa_remove = op_remove, .state = op_state };
	struct gm_group_conf gc = { .sids = 0, .server_len = sizeof(struct sockaddr_in) };
	struct gsakmp_mech mech[8];
	size_t len;

	gm_free(G);
	strcpy(gc.name, GROUP);
	memcpy(gc.gid, GID, sizeof(GID));
	gc.server.ss_family = AF_INET;
	ck_assert_int_eq(gm_new(&c, &o, NULL, &G), 0);
	ck_assert_int_eq(gm_group_add(G, &gc), 0);
	K.alg = GSAKMP_KEK_AES256_KWP;
	join();
	decode_sent(0, GSAKMP_EXCH_RTJ);
	ck_assert_int_eq(gsakmp_mech_parse(&gsakmp_msg_find(&K.m, GSAKMP_PL_NOTIFICATION,
			0)->u.notify, mech, 8), 4);
	ck_assert_uint_eq(mech[1].choice, GSAKMP_MECH_ENC_AES256_KWP);
	ck_assert_uint_eq(mech[3].choice, 0);
	register_ok(NULL);
	/* receive only: installed, never sent on */
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert(!R.inst[0].send);
	ck_assert_int_eq(R.nb_act, 0);
	R.now += 1000;
	len = leave_rekey(1, false, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(info()->root_handle, 2);
	ck_assert_int_eq(R.nb_inst, 2);
	run_to(R.now + DTD);
	ck_assert_int_eq(R.nb_act, 0);
	ck_assert_int_eq(R.nb_rem, 1);
}
END_TEST

START_TEST(kd_duplicate)
{
	static uint8_t kd[MSG_MAX], buf[MSG_MAX];
	const struct kd_spec ok = { 0 };
	struct gsakmp_enc *e;
	size_t len, klen;

	join();
	klen = build_kd(&ok, kd);
	ck_assert_int_eq(in(kd, klen), 0);
	ck_assert_int_eq(R.nb_sent, 2);
	/* the key server did not get our Ack and sends the Key Download again */
	R.now += 1000;
	ck_assert_int_eq(in(kd, klen), 0);
	ck_assert_int_eq(R.nb_sent, 3);
	ck_assert_uint_eq(R.sent[2].len, R.sent[1].len);
	ck_assert_int_eq(memcmp(R.sent[2].buf, R.sent[1].buf, R.sent[1].len), 0);
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_uint_eq(cnt("ack_resent"), 1);
	/* Lack of Ack (Verbose mode): the Ack again */
	e = start(GSAKMP_EXCH_LOA, 0, buf);
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING,
			(const uint8_t *)GW_DN, strlen(GW_DN));
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, K.nr, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, K.nc, 32);
	gsakmp_enc_payload_notify(e, GSAKMP_N_NACK, NULL, 0);
	len = finish(e, &P.ks, true);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_int_eq(R.nb_sent, 4);
	ck_assert_int_eq(memcmp(R.sent[3].buf, R.sent[1].buf, R.sent[1].len), 0);
	ck_assert_uint_eq(cnt("lack_of_ack"), 1);
	/* a Departure Response while member: not expected */
	e = start(GSAKMP_EXCH_DR, 0, buf);
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING,
			(const uint8_t *)GW_DN, strlen(GW_DN));
	gsakmp_enc_payload_notify(e, GSAKMP_N_DEPARTURE_ACCEPTED, NULL, 0);
	len = finish(e, &P.ks, true);
	ck_refused(in(buf, len), -GSAKMP_E_UNEXPECTED_EXCH);
	ck_assert_int_eq(R.st, GM_ST_MEMBER);
}
END_TEST

/* ------------------------------------------------------------------ Rekey Events */

/* Member 2 (leaf 5, sibling of ours) leaves: node 2 and the root change, epoch 2 starts. */
static size_t leave_rekey(uint32_t seq, bool parents_first, uint8_t *out)
{
	const struct rblk child[] = {
		{ 4, 1, 1, { { 'N', 2, 2 } } },            /* our leaf -> new node 2 */
		{ 2, 2, 1, { { 'N', 1, 2 } } },            /* new node 2 -> new root */
		{ 3, 1, 1, { { 'N', 1, 2 } } },            /* the other subtree */
		{ 1, 2, 1, { { 'E', 0, 2 } } },            /* traffic keys under the new root */
	};
	const struct rblk parent[] = { child[3], child[1], child[2], child[0] };

	return build_rekey(seq, parents_first ? parent : child, 4, NULL, 0, &P.ks, out);
}

START_TEST(rekey_epoch)
{
	static uint8_t buf[MSG_MAX];
	struct gm_group_info *gi;
	int64_t t;
	size_t len;

	join();
	register_ok(NULL);
	R.now += 10000;
	t = R.now;
	len = leave_rekey(1, _i == 1, buf);
	ck_assert_int_eq(in(buf, len), 0);
	gi = info();
	ck_assert_uint_eq(gi->root_handle, 2);
	ck_assert_uint_eq(gi->nb_epochs, 2);
	ck_assert(gi->seq_any);
	ck_assert_uint_eq(gi->seq_highest, 1);
	ck_assert_int_eq(gi->last_heard_ms, t);
	/* installed at once, keeping the member's SIDs and direction */
	ck_assert_int_eq(R.nb_inst, 2);
	ck_assert_uint_eq(R.inst[1].epoch, 2);
	ck_assert_int_eq(R.inst[1].at, t);
	ck_assert_int_eq(memcmp(R.inst[1].key, gtpk(2), 20), 0);
	ck_assert(R.inst[1].send);
	ck_assert_uint_eq(R.inst[1].nb_sids, 2);
	ck_assert_uint_eq(R.inst[1].sid0, 5);
	ck_assert(R.inst[1].flags & GSAKMP_SAF_RECEIVE);
	ck_assert_int_eq(R.nb_act, 1);
	/* sent on ATD later, the old epoch removed DTD later */
	run_to(t + ATD - 1);
	ck_assert_int_eq(R.nb_act, 1);
	run_to(t + ATD);
	ck_assert_int_eq(R.nb_act, 2);
	ck_assert_uint_eq(R.act[1].epoch, 2);
	ck_assert_int_eq(R.act[1].at, t + ATD);
	run_to(t + DTD - 1);
	ck_assert_int_eq(R.nb_rem, 0);
	run_to(t + DTD);
	ck_assert_int_eq(R.nb_rem, 1);
	ck_assert_uint_eq(R.rem[0].epoch, 1);
	ck_assert_int_eq(R.rem[0].at, t + DTD);
	ck_assert_uint_eq(info()->nb_epochs, 1);
	ck_assert_uint_eq(cnt("rekey_accepted"), 1);
	ck_assert_uint_eq(cnt("lkh_key_updated"), 2);
	/* the next rekey is opened with the new keys */
	{
		const struct rblk b[] = { { 4, 1, 1, { { 'N', 2, 3 } } },
			{ 2, 3, 1, { { 'N', 1, 3 } } }, { 1, 3, 1, { { 'E', 0, 3 } } } };

		len = build_rekey(2, b, 3, NULL, 0, &P.ks, buf);
		ck_assert_int_eq(in(buf, len), 0);
		ck_assert_uint_eq(info()->root_handle, 3);
		ck_assert_int_eq(R.nb_inst, 3);
	}
}
END_TEST

START_TEST(rekey_not_held)
{
	static uint8_t buf[MSG_MAX];
	const struct rblk b[] = { { 3, 1, 1, { { 'N', 1, 2 } } }, { 6, 1, 1, { { 'N', 3, 2 } } } };
	int64_t heard;
	size_t len;

	join();
	register_ok(NULL);
	heard = info()->last_heard_ms;
	R.now += 5000;
	len = build_rekey(1, b, 2, NULL, 0, &P.ks, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(cnt("not_held"), 1);
	ck_assert_uint_eq(info()->root_handle, 1);
	ck_assert_int_eq(info()->last_heard_ms, heard);
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_int_eq(R.st, GM_ST_MEMBER);
	ck_assert_int_eq(R.nb_sent, 2);
}
END_TEST

START_TEST(rekey_replay_window)
{
	static uint8_t buf[MSG_MAX];
	size_t len;

	join();
	register_ok(NULL);
	len = heartbeat(10, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(cnt("heartbeat"), 1);
	ck_refused(in(buf, len), -GSAKMP_E_REPLAY);
	ck_assert_uint_eq(cnt("replay"), 1);
	/* out of order within the window */
	len = heartbeat(5, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_refused(in(buf, len), -GSAKMP_E_REPLAY);
	len = heartbeat(7, buf);
	ck_assert_int_eq(in(buf, len), 0);
	len = heartbeat(2000, buf);
	ck_assert_int_eq(in(buf, len), 0);
	len = heartbeat(2000 - GM_SEQ_WINDOW - 1, buf);
	ck_refused(in(buf, len), -GM_R_SEQ_WINDOW);
	ck_assert_uint_eq(cnt("seq_window"), 1);
	len = heartbeat(2000 - GM_SEQ_WINDOW, buf);
	ck_assert_int_eq(in(buf, len), 0);
	len = heartbeat(1999, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(info()->seq_highest, 2000);
	ck_assert_uint_eq(cnt("heartbeat"), 6);
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_int_eq(R.nb_sent, 2);
}
END_TEST

START_TEST(rekey_forged)
{
	static uint8_t buf[MSG_MAX];
	size_t len;

	join();
	register_ok(NULL);
	R.now += 10000;
	/* a bit flipped in the signature */
	len = leave_rekey(1, false, buf);
	flip_signature(buf, len);
	ck_refused(in(buf, len), -GSAKMP_E_BAD_SIGNATURE);
	/* another key server of the same CA, authorized by the same token */
	{
		const struct rblk b[] = { { 1, 1, 1, { { 'E', 0, 2 } } } };

		len = build_rekey(1, b, 1, NULL, 0, &P.ks2, buf);
		ck_refused(in(buf, len), -GM_R_WRONG_SIGNER);
		ck_assert_uint_eq(cnt("wrong_signer"), 1);
		/* a key server of another CA with our key server's name */
		len = build_rekey(1, b, 1, NULL, 0, &P.ks_rogue, buf);
		ck_refused(in(buf, len), -GSAKMP_E_CERT_UNTRUSTED);
	}
	/* a header rewritten for another group (the Rekey Event repeats the GroupID) */
	len = leave_rekey(1, false, buf);
	buf[2] ^= 0x01;
	ck_refused(in(buf, len), -GSAKMP_E_REKEY_GROUP);
	ck_assert_uint_eq(gm_counter(G, NULL, "rekey_group"), 1);
	/* nothing changed, and Sequence ID 1 is still unused */
	ck_assert(!info()->seq_any);
	ck_assert_uint_eq(info()->root_handle, 1);
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_int_eq(R.nb_sent, 2);
	len = leave_rekey(1, false, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(info()->root_handle, 2);
}
END_TEST

START_TEST(rekey_truncated)
{
	static uint8_t buf[MSG_MAX];
	size_t len;

	join();
	register_ok(NULL);
	R.now += 1000;
	len = leave_rekey(1, false, buf);
	for (size_t n = 0; n < len; n++)
		ck_assert_msg(in(buf, n) < 0, "a %zu-octet prefix accepted", n);
	ck_assert(!info()->seq_any);
	ck_assert_uint_eq(info()->root_handle, 1);
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_int_eq(R.nb_sent, 2);
	ck_assert_int_eq(R.st, GM_ST_MEMBER);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(info()->root_handle, 2);
}
END_TEST

START_TEST(rekey_all_or_nothing)
{
	static uint8_t buf[MSG_MAX];
	/* each message first teaches a good key (node 2, handle 2), then fails: 0: a block under
	 * a key we hold that does not open; 1: an expired new epoch; 2: a node key off our path;
	 * 3: a key we hold (node 4, handle 1) with other bytes */
	const struct rblk bad[4][2] = {
		{ { 4, 1, 1, { { 'N', 2, 2 } } }, { 2, 1, 1, { { 'N', 1, 2 } }, .bad = true } },
		{ { 4, 1, 1, { { 'N', 2, 2 } } },
		  { 1, 1, 1, { { 'E', 0, 2 } }, .expires = NOW_S - 1 } },
		{ { 4, 1, 1, { { 'N', 2, 2 } } }, { 1, 1, 1, { { 'N', 3, 2 } } } },
		{ { 4, 1, 1, { { 'N', 2, 2 } } }, { 1, 1, 1, { { 'X', 4, 1 } } } },
	};
	static const int want[4] = { -GSAKMP_E_DECRYPT, -GM_R_STALE_KEY, -GM_R_NOT_ON_PATH,
		-GM_R_KEY_MISMATCH };
	size_t len;

	join();
	register_ok(NULL);
	R.now += 1000;
	len = build_rekey(1, bad[_i], 2, NULL, 0, &P.ks, buf);
	ck_refused(in(buf, len), want[_i]);
	ck_assert_uint_eq(cnt(gm_strreason(want[_i])), 1);
	ck_assert_uint_eq(info()->root_handle, 1);
	ck_assert(!info()->seq_any);
	ck_assert_uint_eq(cnt("lkh_key_updated"), 0);
	ck_assert_int_eq(R.nb_inst, 1);
	/* the same Sequence ID with a good message */
	len = leave_rekey(1, false, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(info()->root_handle, 2);
}
END_TEST

START_TEST(rekey_token)
{
	static uint8_t buf[MSG_MAX];
	const struct rblk hb[] = { { 1, 1, 1, { { 'E', 0, 1 } } } };
	const struct rblk ep[] = { { 1, 1, 1, { { 'E', 0, 2 } } } };
	size_t len;

	join();
	register_ok(NULL);
	R.now += 1000;
	/* edition 2, sealed under the old root */
	len = build_rekey(1, hb, 1, &P.tok2, 1, &P.ks, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(info()->edition, 2);
	ck_assert_uint_eq(cnt("token_updated"), 1);
	/* edition 2 again: nothing to do */
	len = build_rekey(2, hb, 1, &P.tok2, 1, &P.ks, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(cnt("token_updated"), 1);
	/* edition 1 is older: the whole message goes, its new epoch too */
	len = build_rekey(3, ep, 1, &P.tok1, 1, &P.ks, buf);
	ck_refused(in(buf, len), -GM_R_TOKEN_STALE);
	ck_assert_uint_eq(info()->edition, 2);
	ck_assert_int_eq(R.nb_inst, 1);
	/* a newer token that no longer authorizes our key server */
	len = build_rekey(3, ep, 1, &P.noauth3, 1, &P.ks, buf);
	ck_refused(in(buf, len), -GM_R_UNAUTHORIZED_GCKS);
	ck_assert_uint_eq(info()->edition, 2);
	ck_assert_int_eq(R.nb_inst, 1);
	len = build_rekey(3, ep, 1, NULL, 0, &P.ks, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_int_eq(R.nb_inst, 2);
}
END_TEST

START_TEST(rekey_destroy)
{
	static uint8_t buf[MSG_MAX];
	size_t len;

	join();
	register_ok(NULL);
	R.now += 1000;
	len = build_rekey(GSAKMP_SEQ_DESTROY, NULL, 0, NULL, 0, &P.ks, buf);
	flip_signature(buf, len);
	ck_refused(in(buf, len), -GSAKMP_E_BAD_SIGNATURE);
	ck_assert_int_eq(R.st, GM_ST_MEMBER);
	len = build_rekey(GSAKMP_SEQ_DESTROY, NULL, 0, NULL, 0, &P.ks, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_int_eq(R.st, GM_ST_DESTROYED);
	ck_assert_int_eq(R.nb_rem, 1);
	ck_assert_uint_eq(R.rem[0].epoch, 1);
	ck_assert_uint_eq(info()->nb_epochs, 0);
	ck_assert_uint_eq(info()->nb_path, 0);
	ck_assert_uint_eq(cnt("destroyed"), 1);
	ck_refused(in(buf, len), -GSAKMP_E_UNEXPECTED_EXCH);
	ck_assert_int_eq(gm_tick(G, R.now), INT64_MAX);
	ck_assert_int_eq(R.nb_sent, 2);
}
END_TEST

/* ------------------------------------------------------------------ missed rekeys */

START_TEST(missed_root)
{
	static uint8_t buf[MSG_MAX];
	/* the root moved to handle 3 behind our back: its traffic-key block is closed to us */
	const struct rblk b[] = { { 1, 3, 1, { { 'E', 0, 3 } } } };
	const struct kd_spec again = { .node_h = 3, .epochs = { 3 }, .nb_epochs = 1 };
	int64_t t;
	size_t len;

	join();
	register_ok(NULL);
	R.now += 60000;
	len = build_rekey(5, b, 1, NULL, 0, &P.ks, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_uint_eq(cnt("missed_rekey"), 1);
	ck_assert_int_eq(R.st, GM_ST_REGISTERING);
	ck_assert_int_eq(R.nb_sent, 3);
	decode_sent(2, GSAKMP_EXCH_RTJ);
	/* the SAs stay until the new Key Download */
	ck_assert_int_eq(R.nb_rem, 0);
	ck_assert_uint_eq(info()->nb_epochs, 1);
	R.now += 100;
	t = R.now;
	register_ok(&again);
	ck_assert_uint_eq(info()->registrations, 2);
	ck_assert_uint_eq(info()->root_handle, 3);
	ck_assert_int_eq(R.nb_inst, 2);
	ck_assert_uint_eq(R.inst[1].epoch, 3);
	/* make-before-break: epoch 3 sent on ATD later, epoch 1 removed DTD later */
	ck_assert_int_eq(R.nb_act, 1);
	run_to(t + ATD);
	ck_assert_int_eq(R.nb_act, 2);
	ck_assert_uint_eq(R.act[1].epoch, 3);
	ck_assert_int_eq(R.nb_rem, 0);
	run_to(t + DTD);
	ck_assert_int_eq(R.nb_rem, 1);
	ck_assert_uint_eq(R.rem[0].epoch, 1);
}
END_TEST

START_TEST(missed_silence)
{
	static uint8_t buf[MSG_MAX];
	size_t len;

	join();
	register_ok(NULL);
	/* a heartbeat half-way pushes the deadline */
	run_to(T0 + SILENCE_S * 500);
	len = heartbeat(1, buf);
	ck_assert_int_eq(in(buf, len), 0);
	run_to(T0 + SILENCE_S * 1000);
	ck_assert_int_eq(R.st, GM_ST_MEMBER);
	ck_assert_int_eq(R.nb_sent, 2);
	run_to(T0 + SILENCE_S * 1500 - 1);
	ck_assert_int_eq(R.nb_sent, 2);
	run_to(T0 + SILENCE_S * 1500);
	ck_assert_int_eq(R.st, GM_ST_REGISTERING);
	ck_assert_int_eq(R.nb_sent, 3);
	decode_sent(2, GSAKMP_EXCH_RTJ);
	ck_assert_uint_eq(cnt("missed_silence"), 1);
	ck_assert_int_eq(R.nb_rem, 0);
	register_ok(NULL);
	ck_assert_int_eq(R.nb_inst, 1);
	ck_assert_int_eq(R.nb_rem, 0);
}
END_TEST

START_TEST(missed_expiry)
{
	const struct kd_spec s = { .expires = NOW_S + 100 };
	int64_t trigger = T0 + 100000 - 2 * ATD;

	join();
	register_ok(&s);
	ck_assert_int_eq(info()->next_expiry_ms, T0 + 100000);
	ck_assert_int_eq(gm_tick(G, R.now), trigger);
	run_to(trigger - 1);
	ck_assert_int_eq(R.nb_sent, 2);
	run_to(trigger);
	ck_assert_int_eq(R.st, GM_ST_REGISTERING);
	ck_assert_int_eq(R.nb_sent, 3);
	ck_assert_uint_eq(cnt("missed_expiry"), 1);
	/* the key server has no successor yet: the same epoch, and no second trigger */
	register_ok(&s);
	ck_assert_int_eq(R.nb_inst, 1);
	run_to(T0 + 100000 - 1);
	ck_assert_int_eq(R.nb_sent, 4);
	ck_assert_uint_eq(cnt("missed_expiry"), 1);
	/* the key expires: the epoch goes */
	run_to(T0 + 100000);
	ck_assert_int_eq(R.nb_rem, 1);
	ck_assert_uint_eq(cnt("epoch_expired"), 1);
}
END_TEST

/* The data plane refuses a new epoch: the keys are kept and the member registers again to
 * get it installed with the Key Download. */
START_TEST(rekey_install_failed)
{
	static uint8_t buf[MSG_MAX];
	const struct kd_spec again = { .node_h = 2, .epochs = { 1, 2 }, .nb_epochs = 2 };
	size_t len;

	join();
	register_ok(NULL);
	R.now += 1000;
	len = leave_rekey(1, false, buf);
	R.fail_install = true;
	ck_assert_int_eq(in(buf, len), 0);
	R.fail_install = false;
	ck_assert_uint_eq(cnt("install_failed"), 1);
	ck_assert_uint_eq(info()->root_handle, 2);
	ck_assert_int_eq(R.st, GM_ST_REGISTERING);
	decode_sent(2, GSAKMP_EXCH_RTJ);
	run_to(R.now + ATD);
	ck_assert_int_eq(R.nb_act, 1);
	register_ok(&again);
	ck_assert_int_eq(R.nb_inst, 2);
	ck_assert_uint_eq(R.inst[1].epoch, 2);
	run_to(R.now + ATD);
	ck_assert_int_eq(R.nb_act, 2);
	ck_assert_uint_eq(R.act[1].epoch, 2);
}
END_TEST

/* ------------------------------------------------------------------ departure */

static size_t dr(const uint8_t ni[32], uint16_t notify, uint8_t *out)
{
	uint8_t nr[32], nc[32];
	struct gsakmp_enc *e;

	memset(nr, 0x6b, sizeof(nr));
	ck_assert_int_eq(gsakmp_nonce_c(ni, 32, nr, 32, nc), 0);
	e = start(GSAKMP_EXCH_DR, 0, out);
	gsakmp_enc_payload_id(e, GSAKMP_IDC_RECEIVER, GSAKMP_ID_DN_STRING,
			(const uint8_t *)GW_DN, strlen(GW_DN));
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_R, nr, 32);
	gsakmp_enc_payload_nonce(e, GSAKMP_NONCE_C, nc, 32);
	gsakmp_enc_payload_notify(e, notify, NULL, 0);
	memcpy(K.nc, nc, 32);
	return finish(e, &P.ks, false);
}

START_TEST(depart)
{
	static uint8_t buf[MSG_MAX];
	const struct gsakmp_payload *pl;
	uint8_t ni[32], ks_dn[256];
	size_t len, dn_len;

	join();
	register_ok(NULL);
	R.now += 1000;
	ck_assert_int_eq(gm_depart(G, GROUP, R.now), 0);
	ck_assert_int_eq(R.st, GM_ST_DEPARTING);
	ck_assert_int_eq(gm_depart(G, GROUP, R.now), -EALREADY);
	decode_sent(2, GSAKMP_EXCH_RTD);
	pl = gsakmp_msg_find(&K.m, GSAKMP_PL_ID, 0);
	ck_assert_int_eq(gsakmp_signer_id(P.ks.cert, GSAKMP_ID_DN_STRING, ks_dn, sizeof(ks_dn),
			&dn_len), 0);
	ck_assert_uint_eq(pl->u.id.type, GSAKMP_ID_DN_STRING);
	ck_assert_uint_eq(pl->u.id.len, dn_len);
	ck_assert_int_eq(memcmp(pl->u.id.data, ks_dn, dn_len), 0);
	ck_assert_uint_eq(gsakmp_msg_find(&K.m, GSAKMP_PL_NOTIFICATION, 0)->u.notify.type,
			GSAKMP_N_LEAVE_GROUP);
	pl = gsakmp_msg_find(&K.m, GSAKMP_PL_NONCE, 0);
	memcpy(ni, pl->u.nonce.data, 32);
	/* a Departure Response for another Nonce_I is refused */
	{
		uint8_t other[32];

		memset(other, 1, sizeof(other));
		len = dr(other, GSAKMP_N_DEPARTURE_ACCEPTED, buf);
		ck_refused(in(buf, len), -GSAKMP_E_NONCE_C);
		ck_assert_int_eq(R.st, GM_ST_DEPARTING);
	}
	R.now += 50;
	len = dr(ni, GSAKMP_N_DEPARTURE_ACCEPTED, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_int_eq(R.st, GM_ST_IDLE);
	ck_assert_int_eq(R.nb_rem, 1);
	decode_sent(3, GSAKMP_EXCH_DA);
	pl = gsakmp_msg_find(&K.m, GSAKMP_PL_NONCE, 0);
	ck_assert_int_eq(memcmp(pl->u.nonce.data, K.nc, 32), 0);
	ck_assert_uint_eq(gsakmp_msg_find(&K.m, GSAKMP_PL_NOTIFICATION, 0)->u.notify.type,
			GSAKMP_N_ACK);
	ck_assert_uint_eq(info()->nb_epochs, 0);
	ck_assert_uint_eq(info()->nb_path, 0);
	ck_assert_uint_eq(cnt("departed"), 1);
	/* the Response again: the same Ack */
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert_int_eq(R.nb_sent, 5);
	ck_assert_int_eq(memcmp(R.sent[4].buf, R.sent[3].buf, R.sent[3].len), 0);
	ck_assert_int_eq(gm_depart(G, GROUP, R.now), -ENOTCONN);
	/* and it can join again */
	join();
	register_ok(NULL);
	ck_assert_uint_eq(info()->registrations, 2);
}
END_TEST

START_TEST(depart_timeout)
{
	int64_t t;

	join();
	register_ok(NULL);
	R.now += 1000;
	t = R.now;
	ck_assert_int_eq(gm_depart(G, GROUP, t), 0);
	ck_assert_int_eq(R.nb_sent, 3);
	run_to(t + GM_DEPART_RESEND_MS);
	ck_assert_int_eq(R.nb_sent, 4);
	ck_assert_int_eq(memcmp(R.sent[3].buf, R.sent[2].buf, R.sent[2].len), 0);
	run_to(t + GM_DEPART_TIMEOUT_MS - 1);
	ck_assert_int_eq(R.st, GM_ST_DEPARTING);
	ck_assert_int_eq(R.nb_rem, 0);
	run_to(t + GM_DEPART_TIMEOUT_MS);
	ck_assert_int_eq(R.st, GM_ST_IDLE);
	ck_assert_int_eq(R.nb_rem, 1);
	ck_assert_int_eq(R.rem[0].at, t + GM_DEPART_TIMEOUT_MS);
	ck_assert_uint_eq(cnt("depart_timeout"), 1);
	ck_assert_int_eq(gm_tick(G, R.now), INT64_MAX);
}
END_TEST

/* ------------------------------------------------------------------ wiping */

static bool has(const void *mem, size_t len, const uint8_t *pat, size_t plen)
{
	return memmem(mem, len, pat, plen) != NULL;
}

/* Is any key the test handed out (path, epochs 1-2) in the engine's memory? */
static bool holds_keys(const struct gm *gm)
{
	static const uint32_t ids[] = { 1, 2, 4 };
	bool found = false;

	for (unsigned int g = 0; g < gm->nb_groups; g++) {
		const struct gm_group *grp = gm->groups[g];

		for (uint32_t h = 1; h <= 2; h++) {
			found |= has(gm, sizeof(*gm), gtpk(h), 20);
			found |= has(grp, sizeof(*grp), gtpk(h), 20);
			for (unsigned int e = 0; e < grp->nb_epochs; e++)
				found |= has(grp->ep[e], sizeof(*grp->ep[e]), gtpk(h), 20);
			for (unsigned int i = 0; i < 3; i++) {
				found |= has(gm, sizeof(*gm), node_key(ids[i], h), 32);
				found |= has(grp, sizeof(*grp), node_key(ids[i], h), 32);
			}
		}
	}
	return found;
}

START_TEST(free_wipes)
{
	static uint8_t buf[MSG_MAX];
	size_t len;

	join();
	register_ok(NULL);
	len = leave_rekey(1, false, buf);
	ck_assert_int_eq(in(buf, len), 0);
	ck_assert(holds_keys(G));
	gm_pvt_wipe(G);
	ck_assert(!holds_keys(G));
}
END_TEST

/* ------------------------------------------------------------------ API */

START_TEST(api)
{
	struct gm_group_conf gc = { .server_len = sizeof(struct sockaddr_in) };
	const struct gm_ops none = { 0 };
	const struct gm_ops ops = { .send = op_send, .sa_install = op_install,
		.sa_send = op_sa_send, .sa_remove = op_remove };
	struct gm_conf c = { .key = P.gw.gk, .ks_trust = P.trust, .go_trust = P.go_store };
	struct gm *g2;

	ck_assert_int_eq(gm_new(&c, &none, NULL, &g2), -EINVAL);
	ck_assert_ptr_null(g2);
	c.enc_mech = 7;
	ck_assert_int_eq(gm_new(&c, &ops, NULL, &g2), -EINVAL);
	c.enc_mech = GSAKMP_MECH_ENC_AES256_KWP;
	ck_assert_int_eq(gm_new(&c, &ops, NULL, &g2), 0);
	gm_free(g2);
	strcpy(gc.name, GROUP);
	ck_assert_int_eq(gm_group_add(G, &gc), -EEXIST);
	gc.name[0] = '\0';
	ck_assert_int_eq(gm_group_add(G, &gc), -EINVAL);
	ck_assert_int_eq(gm_join(G, "nope", R.now), -ENOENT);
	ck_assert_int_eq(gm_depart(G, GROUP, R.now), -ENOTCONN);
	join();
	ck_assert_int_eq(gm_join(G, GROUP, R.now), -EALREADY);
	/* a group that never got keys stops at once */
	ck_assert_int_eq(gm_depart(G, GROUP, R.now), 0);
	ck_assert_int_eq(R.st, GM_ST_IDLE);
	ck_assert_int_eq(R.nb_sent, 1);
	ck_assert_str_eq(gm_strreason(-GM_R_SEQ_WINDOW), "seq_window");
	ck_assert_str_eq(gm_strreason(-GSAKMP_E_REPLAY), "replay");
	ck_assert_str_eq(gm_state_name(GM_ST_MEMBER), "member");
	ck_assert_uint_eq(gm_counter(G, GROUP, "no such counter"), 0);
	gm_free(NULL);
}
END_TEST

Suite *gm_suite(void);

Suite *gm_suite(void)
{
	Suite *s = suite_create("gm");
	TCase *tc;

	tc = tcase_create("registration");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_checked_fixture(tc, gm_setup, gm_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reg_ack);
	tcase_add_test(tc, reg_retransmit);
	tcase_add_test(tc, reg_cookie);
	tcase_add_loop_test(tc, kd_refused, 0, KD__MAX - 1);
	tcase_add_test(tc, reg_kwp);
	tcase_add_test(tc, kd_duplicate);
	tcase_add_test(tc, api);
	suite_add_tcase(s, tc);

	tc = tcase_create("rekey");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_checked_fixture(tc, gm_setup, gm_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, rekey_epoch, 0, 2);
	tcase_add_test(tc, rekey_not_held);
	tcase_add_test(tc, rekey_replay_window);
	tcase_add_test(tc, rekey_forged);
	tcase_add_test(tc, rekey_truncated);
	tcase_add_loop_test(tc, rekey_all_or_nothing, 0, 4);
	tcase_add_test(tc, rekey_token);
	tcase_add_test(tc, rekey_destroy);
	tcase_add_test(tc, free_wipes);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_checked_fixture(tc, gm_setup, gm_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, missed_root);
	tcase_add_test(tc, missed_silence);
	tcase_add_test(tc, missed_expiry);
	tcase_add_test(tc, rekey_install_failed);
	tcase_add_test(tc, depart);
	tcase_add_test(tc, depart_timeout);
	suite_add_tcase(s, tc);
	return s;
}
