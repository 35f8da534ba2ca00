/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwconf: every shipped configuration loads, defaults are what doc/configuration.md says, and
 * each way a configuration can be wrong gives the exact one-line message (file, JSON path,
 * expectation) without ever quoting key material.
 *
 * Test JSON is written with ' for " so that it stays readable; dq() swaps them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <check.h>

#include "gwconf.h"
#include "test_common.h"

/* ------------------------------------------------------------------ helpers */

static char *dq(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	for (char *p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

/* Load test JSON (with ' for ") under the name "t.json". */
static int load(const char *text, struct gwconf **out, char err[GWCONF_ERR_MAX])
{
	char *j = dq(text);
	int rc = gwconf_load_buffer("t.json", j, strlen(j), out, err);

	free(j);
	return rc;
}

static int load_sa(const struct gwconf *conf, const char *text, struct gwconf_sa *sa, int *grp,
		char err[GWCONF_ERR_MAX])
{
	char *j = dq(text);
	int rc = gwconf_parse_sa_json(conf, "sa.json", j, strlen(j), sa, grp, err);

	free(j);
	return rc;
}

/* The source tree: MSEC_ROOT (tools/test.sh exports it), else derived from this file's path. */
static const char *source_root(void)
{
	static char root[4096];
	const char *env = getenv("MSEC_ROOT");
	const char *tail = "tests/unit/test_gwconf.c";
	size_t n;

	if (env != NULL && env[0] != '\0')
		return env;
#ifdef MSEC_SOURCE_ROOT
	return MSEC_SOURCE_ROOT;
#endif
	snprintf(root, sizeof(root), "%s", __FILE__);
	n = strlen(root);
	if (n >= strlen(tail) && strcmp(root + n - strlen(tail), tail) == 0) {
		root[n - strlen(tail)] = '\0';
		if (root[0] == '\0')
			snprintf(root, sizeof(root), ".");
	} else {
		snprintf(root, sizeof(root), ".");
	}
	return root;
}

static struct gwconf *load_config_file(const char *name)
{
	char path[4200], err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/config/%s", source_root(), name);
	rc = gwconf_load_file(path, &c, err);
	ck_assert_msg(rc == 0, "%s: rc %d: %s", path, rc, err);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* ------------------------------------------------------------------ building blocks */

#define PORTS "'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected'}, " \
	"{'name': 'u', 'device': 'd1', 'role': 'unprotected'}]"
/* a recognisable (public, test-only) 16-byte key + salt; messages must never quote it */
#define K128 "000102030405060708090a0b0c0d0e0f10111213"
#define K256 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
#define S128 "'suite': 'aes-gcm-128', 'key': '" K128 "'"
/* a 32-byte HMAC key; starts like K128, so the "never quoted" check covers it too */
#define KAUTH "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
#define SUITES "\"aes-gcm-128\", \"aes-gcm-256\", \"aes-gmac-128\", \"null-hmac-sha256-128\" " \
	"or \"aes-ctr-128-hmac-sha256-128\", each optionally followed by \"+tesla\""
#define S256 "'suite': 'aes-gcm-256', 'key': '" K256 "'"
/* a sending SA, SPI 4096, and the same with extra members */
#define SA1 "{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': [0]}"
#define SA1X(x) "{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': [0], " x "}"
/* an SA without a key, suite or sids: the case supplies them */
#define SAK(x) "{'spi': 4096, 'direction': 'sender', 'sids': [0], " x "}"
#define SAR(spi, x) "{'spi': " #spi ", 'direction': 'receiver', " S128 x "}"
#define G1 "'name': 'g', 'address': '232.1.1.1', 'source': '192.0.2.1'"
#define GROUP(sas) "{" G1 ", 'sas': [" sas "]}"
#define CONF(groups, extra) "{" PORTS ", 'groups': [" groups "]" extra "}"
#define CONF1(sas) CONF(GROUP(sas), "")
#define CONFX(extra) CONF(GROUP(SA1), ", " extra)
#define POL(x) CONF(GROUP(SA1), ", 'policies': [" x "]")
#define A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* TESLA (doc/tesla.md): a commitment (public) and a chain key (secret, never quoted) */
#define CMT "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
#define CMT2 "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define CKEY "7d3f9a1be4c2058f6a91d7e3b0c5f24e8a6d1c9b3e7f05a2d4c8b6e1f9a3072c"
#define T0 "'t0_ms': 1700000000000, 'interval_ms': 10"
#define SND1 "{'sids': [7], 'commitment': '" CMT "'}"
/* a sending and a receiving TESLA SA (aes-gcm-128, SPI 4096) with extra "tesla" members */
#define TSA(x) "{'spi': 4096, 'direction': 'sender', 'suite': 'aes-gcm-128+tesla', 'key': '" \
	K128 "', 'sids': [0], 'tesla': {" T0 x "}}"
#define TRX(senders, x) "{'spi': 4096, 'direction': 'receiver', 'suite': " \
	"'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {" T0 ", 'senders': [" senders "]" x "}}"
#define TRX1(x) TRX(SND1, x)
/* a receiving null-hmac-sha256-128 TESLA SA (no IV) */
#define TNULL(senders, x) "{'spi': 4096, 'direction': 'receiver', 'suite': " \
	"'null-hmac-sha256-128+tesla', 'auth_key': '" KAUTH "', 'tesla': {" T0 ", 'senders': [" \
	senders "]" x "}}"
#define TP "t.json: groups[0].sas[0].tesla"

/* group key management (doc/key-management.md): the member's identity, a key server's group */
#define GKMI "'identity': {'key': 'pki/gw-1.key', 'cert': 'pki/gw-1.crt'}"
#define GKMT "'trust': {'gcks_ca': 'pki/ca.crt', 'group_owner_ca': 'pki/go.crt'}"
#define GKM(x) "'gkm': {" GKMI ", " GKMT x "}"
#define GID "5f2c8a0e91d34b77"
#define KSA(addr, x) "'key_server': {'address': '" addr "', 'group_id': '" GID "'" x "}"
#define KS(x) KSA("10.0.0.1", x)
#define KGROUP(x) "{'name': 'k', 'address': '232.1.1.1', 'source': '192.0.2.10', " KS(x) "}"
#define KCONF(x) CONF(KGROUP(x), ", " GKM(""))
#define KCONFA(addr) CONF("{" G1 ", " KSA(addr, "") "}", ", " GKM(""))
#define KCONFG(x) CONF("{" G1 ", 'key_server': {'address': '10.0.0.1'" x "}}", ", " GKM(""))
#define GCONF(x) CONF(KGROUP(""), ", 'gkm': {" x "}")
#define GCONFX(x) CONF(KGROUP(""), ", " GKM(", " x))
#define KP "t.json: groups[0].key_server"
#define KSNOT "expected the unicast address of the key server (not multicast, unspecified or " \
	"broadcast), got "
#define FPATH "expected a file path (a non-empty string without control characters), got "
#define EITHER "expected either \"sas\" (static keys) or \"key_server\" (keys from a key " \
	"server), got "
#define GIDX "expected a string of 16 hex digits (the policy token's group.id), got "
#define SIDSX "expected an integer in 0..64 (the sender IDs to ask for, one per sending worker; " \
	"0: receive only), got "
#define IFNOT "expected the unicast address of an interface of this host (not multicast, " \
	"unspecified or broadcast), got "

/* ------------------------------------------------------------------ shipped configurations */

START_TEST(every_shipped_config_loads)
{
	char dir[4200], path[4500], err[GWCONF_ERR_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/config", source_root());
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s (set MSEC_ROOT)", dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		struct gwconf *c = NULL;
		int rc;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = gwconf_load_file(path, &c, err);
		ck_assert_msg(rc == 0, "%s: %s", e->d_name, err);
		ck_assert_str_eq(c->file, path);
		ck_assert_uint_ge(c->nb_ports, 2);
		ck_assert_uint_ge(c->nb_groups, 1);
		gwconf_free(c);
		n++;
	}
	closedir(d);
	/* demo, single-sender, receiver, multi-group, rekey, integrity-only, gkm-member */
	ck_assert_int_ge(n, 7);
}
END_TEST

static const struct gwconf_group *group_by_name(const struct gwconf *c, const char *name)
{
	for (uint16_t i = 0; i < c->nb_groups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	ck_abort_msg("no group %s", name);
	return NULL;
}

static bool has_protect_policy(const struct gwconf *c, int g)
{
	for (uint16_t i = 0; i < c->nb_policies; i++)
		if (c->policies[i].action == GWCONF_ACT_PROTECT && c->policies[i].group == g &&
				memcmp(&c->policies[i].dst, &c->groups[g].group,
					sizeof(struct gwconf_addr)) == 0)
			return true;
	return false;
}

/* The demo must carry tools/gen-traffic.py's three streams, both ways, on any 1-2 workers. */
START_TEST(demo_matches_demo_traffic)
{
	static const struct {
		const char *src, *grp;
		enum mcrypto_suite suite;
		uint8_t sid_bits;
		bool ssm;
	} want[] = {
		{ "192.0.2.10", "232.1.1.1", MCRYPTO_SUITE_AES_GCM_128, 8, true },
		{ "192.0.2.20", "239.1.1.1", MCRYPTO_SUITE_AES_GCM_128, 12, false },
		{ "2001:db8::10", "ff3e::1:1", MCRYPTO_SUITE_AES_GCM_256, 16, true },
	};
	struct gwconf *c = load_config_file("demo.json");

	ck_assert_uint_eq(c->nb_ports, 2);
	ck_assert_str_eq(c->ports[0].dev, "net_pcap0");
	ck_assert_int_eq(c->ports[0].role, GWCONF_ROLE_PROTECTED);
	ck_assert_str_eq(c->ports[1].dev, "net_pcap1");
	ck_assert_int_eq(c->ports[1].role, GWCONF_ROLE_UNPROTECTED);
	ck_assert_uint_eq(c->nb_groups, 3);
	for (int i = 0; i < 3; i++) {
		const struct gwconf_group *g = &c->groups[i];
		char a[64], s[64];

		ck_assert_str_eq(gwconf_addr_str(&g->group, a, sizeof(a)), want[i].grp);
		ck_assert_str_eq(gwconf_addr_str(&g->source, s, sizeof(s)),
				want[i].ssm ? want[i].src : "*");
		ck_assert_int_eq(g->protected_port, 0);
		ck_assert_int_eq(g->unprotected_port, 1);
		ck_assert_uint_ge(g->nb_sas, 1);
		ck_assert_int_eq(g->sas[0].dir, GWCONF_DIR_SYMMETRIC);
		ck_assert_int_eq(g->sas[0].suite, want[i].suite);
		ck_assert_uint_eq(g->sas[0].sid_bits, want[i].sid_bits);
		ck_assert_uint_ge(g->sas[0].nb_sids, 2);
		ck_assert_uint_eq(g->sas[0].keymat_len,
				want[i].suite == MCRYPTO_SUITE_AES_GCM_128 ? 20 : 36);
		ck_assert(has_protect_policy(c, i));
	}
	gwconf_free(c);
}
END_TEST

START_TEST(single_sender_is_plain_esp)
{
	struct gwconf *c = load_config_file("single-sender.json");
	const struct gwconf_sa *sa;

	ck_assert_uint_eq(c->nb_groups, 1);
	sa = &c->groups[0].sas[0];
	/* SID 0 and no ESN: IV = 32-bit sequence number, as RFC 4106 stacks send it */
	ck_assert_uint_eq(sa->nb_sids, 1);
	ck_assert_uint_eq(sa->sids[0], 0);
	ck_assert(!sa->esn);
	ck_assert_int_eq(sa->dir, GWCONF_DIR_SENDER);
	ck_assert_int_eq(sa->suite, MCRYPTO_SUITE_AES_GCM_128);
	gwconf_free(c);
}
END_TEST

START_TEST(receiver_pairs_with_single_sender)
{
	struct gwconf *tx = load_config_file("single-sender.json");
	struct gwconf *rx = load_config_file("receiver.json");
	const struct gwconf_sa *s = &tx->groups[0].sas[0];
	const struct gwconf_sa *r = &group_by_name(rx, "channel-1")->sas[0];

	for (uint16_t i = 0; i < rx->nb_groups; i++)
		for (uint16_t j = 0; j < rx->groups[i].nb_sas; j++) {
			ck_assert_int_eq(rx->groups[i].sas[j].dir, GWCONF_DIR_RECEIVER);
			ck_assert_uint_eq(rx->groups[i].sas[j].nb_sids, 0);
		}
	ck_assert_uint_eq(r->spi, s->spi);
	ck_assert_int_eq(r->suite, s->suite);
	ck_assert_int_eq(r->esn, s->esn);
	ck_assert_uint_eq(r->keymat_len, s->keymat_len);
	ck_assert_mem_eq(r->keymat, s->keymat, s->keymat_len);
	/* receiver-only groups get no implicit protect policy */
	ck_assert_uint_eq(rx->nb_policies, 0);
	gwconf_free(tx);
	gwconf_free(rx);
}
END_TEST

START_TEST(multi_group_policies)
{
	struct gwconf *c = load_config_file("multi-group.json");
	const struct gwconf_group *g = group_by_name(c, "audio-v6");

	ck_assert_uint_eq(c->nb_ports, 3);
	ck_assert_str_eq(c->ports[g->unprotected_port].name, "wan-b");
	ck_assert_uint_eq(c->nb_policies, 7);           /* all explicit, none implied */
	ck_assert_int_eq(c->policies[0].action, GWCONF_ACT_PROTECT);
	ck_assert_uint_eq(c->policies[0].dport_lo, 5000);
	ck_assert_uint_eq(c->policies[0].dport_hi, 5099);
	ck_assert_int_eq(c->policies[1].action, GWCONF_ACT_DISCARD);
	ck_assert_int_eq(c->policies[3].action, GWCONF_ACT_BYPASS);
	ck_assert_uint_eq(c->policies[4].dport_lo, 6000);
	ck_assert_uint_eq(c->policies[4].dport_hi, 6000);
	ck_assert_uint_eq(c->max_sas, 256);
	ck_assert_uint_eq(c->max_senders, 32);
	ck_assert_uint_eq(c->nb_mbufs, 16383);
	ck_assert_int_eq(group_by_name(c, "video-hd")->sas[0].ttl, 64);
	ck_assert_int_eq(group_by_name(c, "video-hd")->sas[0].dscp, 34);
	gwconf_free(c);
}
END_TEST

START_TEST(rekey_make_before_break)
{
	struct gwconf *c = load_config_file("rekey.json");
	const struct gwconf_group *g = &c->groups[0];

	ck_assert_uint_eq(g->nb_sas, 2);
	ck_assert(!g->sas[0].has_replaces);
	ck_assert(g->sas[1].has_replaces);
	ck_assert_uint_eq(g->sas[1].replaces, g->sas[0].spi);
	ck_assert_uint_ge(g->sas[1].deactivation_delay_ms, g->sas[1].activation_delay_ms);
	ck_assert_uint_gt(g->sas[1].activation_delay_ms, 0);
	ck_assert_uint_lt(g->sas[1].life.soft_seconds, g->sas[1].life.hard_seconds);
	ck_assert_uint_lt(g->sas[1].life.soft_bytes, g->sas[1].life.hard_bytes);
	gwconf_free(c);
}
END_TEST

/*
 * A member of config/policy/demo-policy.json's group: the GroupID is the token's group.id and
 * name, so both must be the token's; key files are found next to the configuration.
 */
START_TEST(gkm_member_example)
{
	static const uint8_t gid[8] = { 0x5f, 0x2c, 0x8a, 0x0e, 0x91, 0xd3, 0x4b, 0x77 };
	struct gwconf *c = load_config_file("gkm-member.json");
	const struct gwconf_group *g = group_by_name(c, "iptv-sports");
	char path[4200], want[4300], a[64], *policy;
	FILE *f;
	long n;

	ck_assert(c->gkm.enabled);
	snprintf(want, sizeof(want), "%s/config/pki/gw-1.key", source_root());
	ck_assert_str_eq(c->gkm.key, want);
	snprintf(want, sizeof(want), "%s/config/pki/ca.crt", source_root());
	ck_assert_str_eq(c->gkm.gcks_ca, want);
	ck_assert_str_eq(c->gkm.go_ca, want);
	ck_assert_uint_eq(c->gkm.listen.family, 0);      /* "0.0.0.0": any IPv4 */
	ck_assert_uint_eq(c->gkm.port, 3761);
	ck_assert_str_eq(gwconf_addr_str(&c->gkm.interface, a, sizeof(a)), "10.0.0.2");
	ck_assert(g->gkm);
	ck_assert_uint_eq(g->nb_sas, 0);
	ck_assert_ptr_null(g->sas);
	ck_assert_mem_eq(g->gid, gid, sizeof(gid));
	ck_assert_str_eq(gwconf_addr_str(&g->group, a, sizeof(a)), "232.1.1.1");
	ck_assert_str_eq(gwconf_addr_str(&g->source, a, sizeof(a)), "192.0.2.10");
	ck_assert_str_eq(gwconf_addr_str(&g->ks, a, sizeof(a)), "10.0.0.1");
	ck_assert_uint_eq(g->ks_port, 3761);
	ck_assert_str_eq(gwconf_addr_str(&g->rekey_group, a, sizeof(a)), "239.192.0.1");
	ck_assert_uint_eq(g->rekey_port, 3761);
	ck_assert_int_eq(g->sids, 2);
	ck_assert(!g->fail_open);
	/* it sends (the token lets gw-1 send): protect (S,G) is implied */
	ck_assert_uint_eq(c->nb_policies, 1);
	ck_assert(has_protect_policy(c, 0));

	/* the same group, id and addresses as the Group Owner's policy */
	snprintf(path, sizeof(path), "%s/config/policy/demo-policy.json", source_root());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	policy = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(policy);
	ck_assert_uint_eq(fread(policy, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(policy, "\"name\": \"iptv-sports\""));
	ck_assert_ptr_nonnull(strstr(policy, "\"id\": \"" GID "\""));
	ck_assert_ptr_nonnull(strstr(policy, "\"group_address\": \"232.1.1.1\""));
	ck_assert_ptr_nonnull(strstr(policy, "\"source_address\": \"192.0.2.10\""));
	free(policy);
	gwconf_free(c);
}
END_TEST

/* ------------------------------------------------------------------ defaults and forms */

START_TEST(defaults)
{
	char err[GWCONF_ERR_MAX], a[64];
	struct gwconf *c = NULL;
	const struct gwconf_sa *sa;
	uint8_t k[20];

	ck_assert_msg(load(CONF1(SA1), &c, err) == 0, "%s", err);
	ck_assert_str_eq(c->file, "t.json");
	ck_assert_str_eq(c->ctl_socket, "/run/msecgw/msecgw.sock");
	ck_assert_uint_eq(c->nb_mbufs, 8191);
	ck_assert_uint_eq(c->burst, 32);
	ck_assert_uint_eq(c->max_sas, 4096);
	ck_assert_uint_eq(c->max_senders, 16);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(c->ports[i].queues, 1);
		ck_assert_uint_eq(c->ports[i].mtu, 1500);
		ck_assert_uint_eq(c->ports[i].rx_desc, 1024);
		ck_assert_uint_eq(c->ports[i].tx_desc, 1024);
		ck_assert(!c->ports[i].promiscuous);
	}
	ck_assert_int_eq(c->ports[0].dflt, GWCONF_ACT_DISCARD);
	ck_assert_int_eq(c->ports[1].dflt, GWCONF_ACT_BYPASS);
	ck_assert_int_eq(c->groups[0].protected_port, 0);
	ck_assert_int_eq(c->groups[0].unprotected_port, 1);
	sa = &c->groups[0].sas[0];
	ck_assert_uint_eq(sa->spi, 4096);
	ck_assert_uint_eq(sa->sid_bits, 8);
	ck_assert_uint_eq(sa->replay_window, 1024);
	ck_assert(sa->esn);
	ck_assert_int_eq(sa->ttl, GWCONF_COPY);
	ck_assert_int_eq(sa->dscp, GWCONF_COPY);
	ck_assert(!sa->has_replaces);
	ck_assert_uint_eq(sa->activation_delay_ms, 0);
	ck_assert_uint_eq(sa->deactivation_delay_ms, 0);
	ck_assert_uint_eq(sa->life.soft_seconds + sa->life.hard_seconds + sa->life.soft_bytes +
			sa->life.hard_bytes, 0);
	ck_assert_int_eq(test_hex(K128, k, sizeof(k)), 20);
	ck_assert_uint_eq(sa->keymat_len, 20);
	ck_assert_mem_eq(sa->keymat, k, 20);
	/* a sending group without a policy gets protect (S,G), any port */
	ck_assert_uint_eq(c->nb_policies, 1);
	ck_assert_int_eq(c->policies[0].action, GWCONF_ACT_PROTECT);
	ck_assert_int_eq(c->policies[0].group, 0);
	ck_assert_str_eq(gwconf_addr_str(&c->policies[0].dst, a, sizeof(a)), "232.1.1.1");
	ck_assert_str_eq(gwconf_addr_str(&c->policies[0].src, a, sizeof(a)), "192.0.2.1");
	ck_assert_uint_eq(c->policies[0].dport_lo, 0);
	ck_assert_uint_eq(c->policies[0].dport_hi, 0);
	gwconf_free(c);
}
END_TEST

START_TEST(value_forms)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	const struct gwconf_sa *sa;
	uint8_t k[36];

	/* SPI as a hex string, "0x"-prefixed upper-case key, 256-bit suite, explicit values */
	ck_assert_msg(load(CONF1("{'spi': '0XFFFFFFFF', 'direction': 'symmetric', "
			"'suite': 'aes-gcm-256', 'key': '0x" "000102030405060708090A0B0C0D0E0F"
			"101112131415161718191A1B1C1D1E1F20212223', 'sid_bits': 16, "
			"'sids': [65535, 0, 7], 'replay_window': 0, 'esn': false, 'ttl': 255, "
			"'dscp': 0, 'activation_delay_ms': 4294967295}"), &c, err) == 0, "%s", err);
	sa = &c->groups[0].sas[0];
	ck_assert_uint_eq(sa->spi, 0xffffffffu);
	ck_assert_int_eq(test_hex(K256, k, sizeof(k)), 36);
	ck_assert_uint_eq(sa->keymat_len, 36);
	ck_assert_mem_eq(sa->keymat, k, 36);
	ck_assert_uint_eq(sa->nb_sids, 3);
	ck_assert_uint_eq(sa->sids[0], 65535);
	ck_assert_uint_eq(sa->replay_window, 0);
	ck_assert(!sa->esn);
	ck_assert_int_eq(sa->ttl, 255);
	ck_assert_int_eq(sa->dscp, 0);
	ck_assert_uint_eq(sa->activation_delay_ms, 4294967295u);
	gwconf_free(c);

	/* RFC 4301 4.1: the same SPI in two groups is fine, demux is by (SPI, dst, src) */
	ck_assert_msg(load(CONF(GROUP(SA1) ", {'name': 'h', 'address': 'ff3e::5', "
			"'sas': [" SA1 "]}", ""), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->nb_groups, 2);
	ck_assert_uint_eq(c->groups[1].group.family, AF_INET6);
	ck_assert_uint_eq(c->groups[1].source.family, 0);
	ck_assert_uint_eq(c->nb_policies, 2);
	gwconf_free(c);

	/* replay window at its maximum, lifetime with only hard limits, replaces backwards */
	ck_assert_msg(load(CONF1(SA1 ", {'spi': 4097, 'direction': 'receiver', " S128
			", 'replay_window': 65536, 'replaces': '0x1000', "
			"'activation_delay_ms': 10, "
			"'lifetime': {'hard_seconds': 5, 'hard_bytes': 1}}"), &c, err) == 0,
			"%s", err);
	sa = &c->groups[0].sas[1];
	ck_assert_uint_eq(sa->replay_window, 65536);
	ck_assert(sa->has_replaces);
	ck_assert_uint_eq(sa->replaces, 4096);
	/* the deactivation delay defaults to the activation delay */
	ck_assert_uint_eq(sa->deactivation_delay_ms, 10);
	ck_assert_uint_eq(sa->life.hard_seconds, 5);
	gwconf_free(c);
}
END_TEST

/* Every suite loads, and "key" and "auth_key" end up as one KEYMAT: key || salt || HMAC key. */
START_TEST(suite_keys)
{
	static const struct {
		const char *json;
		enum mcrypto_suite suite;
		const char *keymat;
		uint16_t nb_sids;
	} ok[] = {
		{ CONF1(SAK("'suite': 'aes-gmac-128', 'key': '" K128 "'")),
			MCRYPTO_SUITE_AES_GMAC_128, K128, 1 },
		{ CONF1("{'spi': 4096, 'direction': 'sender', 'sids': [0, 9, 200], 'suite': "
			"'aes-ctr-128-hmac-sha256-128', 'key': '" K128 "', 'auth_key': '0x"
			"F0E0D0C0B0A090807060504030201000F0E0D0C0B0A090807060504030201000'}"),
			MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256, K128
			"f0e0d0c0b0a090807060504030201000f0e0d0c0b0a090807060504030201000", 3 },
		{ CONF1(SAK("'suite': 'null-hmac-sha256-128', 'auth_key': '" KAUTH "'")),
			MCRYPTO_SUITE_NULL_HMAC_SHA256, KAUTH, 1 },
		{ CONF1("{'spi': 4096, 'direction': 'receiver', 'suite': 'null-hmac-sha256-128', "
			"'auth_key': '" KAUTH "', 'esn': false}"),
			MCRYPTO_SUITE_NULL_HMAC_SHA256, KAUTH, 0 },
	};
	char err[GWCONF_ERR_MAX];
	uint8_t k[MCRYPTO_MAX_KEYMAT_LEN];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct gwconf *c = NULL;
		const struct gwconf_sa *sa;
		int n = test_hex(ok[i].keymat, k, sizeof(k));

		ck_assert_msg(load(ok[i].json, &c, err) == 0, "case %zu: %s", i, err);
		sa = &c->groups[0].sas[0];
		ck_assert_int_eq(sa->suite, ok[i].suite);
		ck_assert_int_eq(n, (int)mcrypto_keymat_len(mcrypto_suite_info(ok[i].suite)));
		ck_assert_uint_eq(sa->keymat_len, (unsigned int)n);
		ck_assert_mem_eq(sa->keymat, k, (size_t)n);
		ck_assert_uint_eq(sa->nb_sids, ok[i].nb_sids);
		gwconf_free(c);
	}
}
END_TEST

START_TEST(implicit_policies)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;

	/* an explicit rule with the group's selector wins, whatever its action */
	ck_assert_msg(load(POL("{'group': '232.1.1.1', 'source': '192.0.2.1', "
			"'action': 'bypass'}"), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->nb_policies, 1);
	ck_assert_int_eq(c->policies[0].action, GWCONF_ACT_BYPASS);
	gwconf_free(c);
	/* so does an explicit protect into the group, on some ports */
	ck_assert_msg(load(POL("{'group': '232.1.1.1', 'source': '192.0.2.1', 'udp_dport': 9, "
			"'action': 'protect', 'protect_group': 'g'}"), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->nb_policies, 1);
	gwconf_free(c);
	/* a rule for another source leaves the group's own selector to the implicit rule */
	ck_assert_msg(load(POL("{'group': '232.1.1.1', 'source': '192.0.2.99', "
			"'action': 'discard'}"), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->nb_policies, 2);
	ck_assert_int_eq(c->policies[1].action, GWCONF_ACT_PROTECT);
	ck_assert_int_eq(c->policies[1].group, 0);
	gwconf_free(c);
	/* a receiver-only group gets none */
	ck_assert_msg(load(CONF1(SAR(4096, "")), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->nb_policies, 0);
	gwconf_free(c);
}
END_TEST

START_TEST(port_references)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;

	ck_assert_msg(load("{'ports': [{'name': 'u1', 'device': 'a', 'role': 'unprotected', "
			"'promiscuous': true, 'default': 'discard', 'queues': 4, 'mtu': 9000}, "
			"{'name': 'in', 'device': 'b', 'role': 'protected', 'default': 'bypass'}, "
			"{'name': 'u2', 'device': 'c', 'role': 'unprotected'}], "
			"'groups': [{'name': 'g', 'address': 'ff3e::1', 'unprotected_port': 'u2', "
			"'protected_port': 'in', 'sas': [" SA1 "]}], 'control': {'socket': ''}}",
			&c, err) == 0, "%s", err);
	ck_assert_int_eq(c->groups[0].protected_port, 1);
	ck_assert_int_eq(c->groups[0].unprotected_port, 2);
	ck_assert(c->ports[0].promiscuous);
	ck_assert_int_eq(c->ports[0].dflt, GWCONF_ACT_DISCARD);
	ck_assert_int_eq(c->ports[1].dflt, GWCONF_ACT_BYPASS);
	ck_assert_uint_eq(c->ports[0].queues, 4);
	ck_assert_str_eq(c->ctl_socket, "");
	gwconf_free(c);
}
END_TEST

/* ------------------------------------------------------------------ group key management */

/* Everything given, beside a static group: both kinds of group live in one configuration. */
START_TEST(gkm_all_keys)
{
	static const uint8_t gid[8] = { 0x5f, 0x2c, 0x8a, 0x0e, 0x91, 0xd3, 0x4b, 0x77 };
	char err[GWCONF_ERR_MAX], a[64];
	struct gwconf *c = NULL;
	const struct gwconf_group *g;

	ck_assert_msg(load(CONF(GROUP(SA1) ", {'name': 'k', 'address': '232.1.1.1', 'source': "
			"'192.0.2.10', 'protected_port': 'p', 'unprotected_port': 'u', "
			"'key_server': {'address': '2001:db8::1', 'port': 1, 'group_id': "
			"'5F2C8A0E91D34B77', 'rekey_address': '239.192.0.1', 'rekey_port': 65535, "
			"'sids': 64, 'fail': 'open'}}", ", 'max_sas': 1, 'gkm': {'identity': "
			"{'key': '/etc/msecgw/gw-1.key', 'cert': '/etc/msecgw/gw-1.crt'}, " GKMT ", "
			"'listen': {'address': '::', 'port': 4000}, 'interface': '2001:db8::2'}"),
			&c, err) == 0, "%s", err);
	ck_assert(c->gkm.enabled);
	ck_assert_str_eq(c->gkm.key, "/etc/msecgw/gw-1.key");
	ck_assert_str_eq(c->gkm.cert, "/etc/msecgw/gw-1.crt");
	/* from a buffer, relative paths stay relative: to the current directory */
	ck_assert_str_eq(c->gkm.gcks_ca, "pki/ca.crt");
	ck_assert_str_eq(c->gkm.go_ca, "pki/go.crt");
	ck_assert_uint_eq(c->gkm.listen.family, AF_INET6);
	ck_assert_str_eq(gwconf_addr_str(&c->gkm.listen, a, sizeof(a)), "::");
	ck_assert_uint_eq(c->gkm.port, 4000);
	ck_assert_str_eq(gwconf_addr_str(&c->gkm.interface, a, sizeof(a)), "2001:db8::2");

	ck_assert_uint_eq(c->nb_groups, 2);
	ck_assert(!c->groups[0].gkm);
	ck_assert_uint_eq(c->groups[0].nb_sas, 1);
	g = &c->groups[1];
	ck_assert(g->gkm);
	ck_assert_uint_eq(g->nb_sas, 0);
	ck_assert_ptr_null(g->sas);
	ck_assert_str_eq(gwconf_addr_str(&g->ks, a, sizeof(a)), "2001:db8::1");
	ck_assert_uint_eq(g->ks_port, 1);
	ck_assert_mem_eq(g->gid, gid, sizeof(gid));
	/* the rekey group need not have the key server's family */
	ck_assert_str_eq(gwconf_addr_str(&g->rekey_group, a, sizeof(a)), "239.192.0.1");
	ck_assert_uint_eq(g->rekey_port, 65535);
	ck_assert_int_eq(g->sids, 64);
	ck_assert(g->fail_open);
	ck_assert_int_eq(g->protected_port, 0);
	ck_assert_int_eq(g->unprotected_port, 1);
	/* max_sas counts static SAs only; both groups send, so both get a protect rule */
	ck_assert_uint_eq(c->max_sas, 1);
	ck_assert_uint_eq(c->nb_policies, 2);
	ck_assert(has_protect_policy(c, 0));
	ck_assert(has_protect_policy(c, 1));
	gwconf_free(c);
}
END_TEST

START_TEST(gkm_defaults)
{
	char err[GWCONF_ERR_MAX], a[64];
	struct gwconf *c = NULL;
	const struct gwconf_group *g;

	ck_assert_msg(load(KCONF(""), &c, err) == 0, "%s", err);
	ck_assert(c->gkm.enabled);
	ck_assert_str_eq(c->gkm.key, "pki/gw-1.key");
	ck_assert_str_eq(c->gkm.cert, "pki/gw-1.crt");
	ck_assert_uint_eq(c->gkm.listen.family, 0);       /* any IPv4 */
	ck_assert_uint_eq(c->gkm.port, 3761);
	ck_assert_uint_eq(c->gkm.interface.family, 0);    /* the kernel chooses */
	g = &c->groups[0];
	ck_assert(g->gkm);
	ck_assert_str_eq(gwconf_addr_str(&g->ks, a, sizeof(a)), "10.0.0.1");
	ck_assert_uint_eq(g->ks_port, 3761);
	ck_assert_uint_eq(g->rekey_group.family, 0);
	ck_assert_uint_eq(g->rekey_port, 3761);
	ck_assert_int_eq(g->sids, -1);                     /* one per worker, the app decides */
	ck_assert(!g->fail_open);
	ck_assert_uint_eq(c->nb_policies, 1);
	ck_assert(has_protect_policy(c, 0));
	gwconf_free(c);

	/* no sender IDs asked for: receive only, no implicit rule */
	ck_assert_msg(load(KCONF(", 'sids': 0, 'fail': 'close'"), &c, err) == 0, "%s", err);
	ck_assert_int_eq(c->groups[0].sids, 0);
	ck_assert(!c->groups[0].fail_open);
	ck_assert_uint_eq(c->nb_policies, 0);
	gwconf_free(c);

	/* an explicit protect rule into a key server's group is as good as into any group */
	ck_assert_msg(load(CONF(KGROUP(""), ", " GKM("") ", 'policies': [{'group': '232.1.1.1', "
			"'source': '192.0.2.10', 'udp_dport': 5004, 'action': 'protect', "
			"'protect_group': 'k'}]"), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->nb_policies, 1);
	ck_assert_int_eq(c->policies[0].group, 0);
	gwconf_free(c);

	/* "gkm" without any key server group is allowed; no "gkm": not enabled, default port */
	ck_assert_msg(load(CONF(GROUP(SA1), ", " GKM("")), &c, err) == 0, "%s", err);
	ck_assert(c->gkm.enabled);
	ck_assert(!c->groups[0].gkm);
	gwconf_free(c);
	ck_assert_msg(load(CONF1(SA1), &c, err) == 0, "%s", err);
	ck_assert(!c->gkm.enabled);
	ck_assert(!c->groups[0].gkm);
	ck_assert_uint_eq(c->gkm.port, 3761);
	gwconf_free(c);
}
END_TEST

/* Address forms: loopback is a host too (a key server on the same machine); 0.0.0.0 is "any". */
START_TEST(gkm_addresses)
{
	static const struct {
		const char *listen, *iface, *ks, *rekey;
		uint8_t listen_family;
	} ok[] = {
		{ "0.0.0.0", "127.0.0.1", "127.0.0.1", "224.0.0.251", 0 },
		{ "127.0.0.1", "::1", "::1", "ff3e::1234", AF_INET },
		{ "::", "fe80::1", "2001:db8::1", "ff02::1:3", AF_INET6 },
		{ "192.0.2.2", "192.0.2.2", "gcks", NULL, AF_INET },
	};
	char err[GWCONF_ERR_MAX], json[2048], a[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct gwconf *c = NULL;
		int rc;

		/* "gcks" stands for a name: refused, names are not resolved */
		snprintf(json, sizeof(json), CONF("{" G1 ", 'key_server': {'address': '%s', "
				"'group_id': '" GID "'%s%s%s}}", ", " GKM(", 'listen': {'address': "
				"'%s'}, 'interface': '%s'")), ok[i].ks,
				ok[i].rekey != NULL ? ", 'rekey_address': '" : "",
				ok[i].rekey != NULL ? ok[i].rekey : "",
				ok[i].rekey != NULL ? "'" : "",
				ok[i].listen, ok[i].iface);
		rc = load(json, &c, err);
		if (strcmp(ok[i].ks, "gcks") == 0) {
			ck_assert_int_eq(rc, -EINVAL);
			ck_assert_str_eq(err, KP ".address: expected an IPv4 or IPv6 address, got "
					"\"gcks\"");
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu: %s", i, err);
		ck_assert_uint_eq(c->gkm.listen.family, ok[i].listen_family);
		ck_assert_str_eq(gwconf_addr_str(&c->gkm.listen, a, sizeof(a)),
				ok[i].listen_family == 0 ? "*" : ok[i].listen);
		ck_assert_str_eq(gwconf_addr_str(&c->gkm.interface, a, sizeof(a)), ok[i].iface);
		ck_assert_str_eq(gwconf_addr_str(&c->groups[0].ks, a, sizeof(a)), ok[i].ks);
		ck_assert_str_eq(gwconf_addr_str(&c->groups[0].rekey_group, a, sizeof(a)),
				ok[i].rekey);
		gwconf_free(c);
	}
}
END_TEST

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Relative paths are taken from the configuration file's directory, as msec-gcks does. */
START_TEST(gkm_paths_from_file)
{
	char dir[] = "/tmp/gwconf-gkm-XXXXXX", path[64], want[4200], cwd[4096], *json, *text;
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	const size_t long_len = 4095;
	char *lng = malloc(long_len + 1);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gw.json", dir);
	text = dq(CONF(KGROUP(""), ", 'gkm': {'identity': {'key': 'pki/gw-1.key', 'cert': "
			"'../gw-1.crt'}, 'trust': {'gcks_ca': '/etc/msec/ca.crt', "
			"'group_owner_ca': './go.crt'}}"));
	write_file(path, text);
	ck_assert_msg(gwconf_load_file(path, &c, err) == 0, "%s", err);
	snprintf(want, sizeof(want), "%s/pki/gw-1.key", dir);
	ck_assert_str_eq(c->gkm.key, want);
	snprintf(want, sizeof(want), "%s/../gw-1.crt", dir);
	ck_assert_str_eq(c->gkm.cert, want);
	ck_assert_str_eq(c->gkm.gcks_ca, "/etc/msec/ca.crt");
	snprintf(want, sizeof(want), "%s/./go.crt", dir);
	ck_assert_str_eq(c->gkm.go_ca, want);
	gwconf_free(c);

	/* named without a directory, the file's relative paths are relative to here already */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_msg(gwconf_load_file("gw.json", &c, err) == 0, "%s", err);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(c->gkm.key, "pki/gw-1.key");
	ck_assert_str_eq(c->gkm.cert, "../gw-1.crt");
	gwconf_free(c);
	free(text);

	/* 4095 bytes fit alone (a buffer), not behind the file's directory */
	ck_assert_ptr_nonnull(lng);
	memset(lng, 'a', long_len);
	lng[long_len] = '\0';
	json = malloc(long_len + 1024);
	ck_assert_ptr_nonnull(json);
	snprintf(json, long_len + 1024, CONF(KGROUP(""), ", 'gkm': {'identity': {'key': '%s', "
			"'cert': 'c'}, " GKMT "}"), lng);
	text = dq(json);
	ck_assert_msg(gwconf_load_buffer("t.json", text, strlen(text), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(strlen(c->gkm.key), long_len);
	gwconf_free(c);
	write_file(path, text);
	ck_assert_int_eq(gwconf_load_file(path, &c, err), -EINVAL);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s: gkm.identity.key: expected a file path of at most 4095 "
			"bytes (a relative one counts with the configuration file's directory), "
			"got %zu", path, strlen(dir) + 1 + long_len);
	ck_assert_str_eq(err, want);
	free(text);
	free(json);
	free(lng);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* msecctl adds no SA to a key server's group: its SPIs and sender IDs are the server's. */
START_TEST(gkm_sa_json_refused)
{
	static const uint8_t zero[sizeof(struct gwconf_sa)];
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	struct gwconf_sa sa;
	int g = 99;

	ck_assert_msg(load(CONF(GROUP(SA1) ", " KGROUP(""), ", " GKM("")), &c, err) == 0, "%s",
			err);
	memset(&sa, 0x5a, sizeof(sa));
	ck_assert_int_eq(load_sa(c, "{'group': 'k', 'spi': 8192, 'direction': 'receiver', " S128
			"}", &sa, &g, err), -EINVAL);
	ck_assert_str_eq(err, "sa.json: group: expected a group with static keys, got \"k\", "
			"whose keys come from a key server (its SPIs and sender IDs are the key "
			"server's to give)");
	ck_assert_int_eq(g, -1);
	ck_assert(memcmp(&sa, zero, sizeof(sa)) == 0);
	ck_assert_msg(load_sa(c, "{'group': 'g', 'spi': 8192, 'direction': 'receiver', " S128
			"}", &sa, &g, err) == 0, "%s", err);
	ck_assert_int_eq(g, 0);
	gwconf_free(c);
}
END_TEST

/* ------------------------------------------------------------------ the table of bad configs */

/* Whether a message holds any 8 consecutive hex digits of the secret `hex`. */
static bool quotes_secret(const char *msg, const char *hex)
{
	char piece[9];

	for (size_t i = 0; i + 8 <= strlen(hex); i++) {
		memcpy(piece, hex + i, 8);
		piece[8] = '\0';
		if (strcasestr(msg, piece) != NULL)
			return true;
	}
	return false;
}

static const struct bad_case {
	const char *json;       /* ' stands for " */
	const char *want;       /* the message starts with this */
} bad[] = {
	/* unknown keys, top level and nested */
	{ CONFX("'bogus': 1"), "t.json: bogus: expected one of the keys ports, groups, policies, "
		"control, clock, mbufs, burst, max_sas, max_senders, gkm, got an unknown key" },
	{ CONF1(SA1X("'kye': 1")), "t.json: groups[0].sas[0].kye: expected one of the keys spi, "
		"direction, suite, key, auth_key, sid_bits, sids, replay_window, esn, lifetime, "
		"activation_delay_ms, deactivation_delay_ms, ttl, dscp, replaces, tesla, got an "
		"unknown key" },
	{ CONF1(SA1X("'op': 'add'")), "t.json: groups[0].sas[0].op: expected one of the keys" },
	{ CONF1(SA1X("'group': 'g'")), "t.json: groups[0].sas[0].group: expected one of the keys" },
	{ CONF("{" G1 ", 'sa': []}", ""), "t.json: groups[0].sa: expected one of the keys name, "
		"address, source, protected_port, unprotected_port, sas, key_server, got an "
		"unknown key" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected', 'speed': 10}]}",
		"t.json: ports[0].speed: expected one of the keys name, device, role, queues, mtu, "
		"rx_desc, tx_desc, default, promiscuous, got an unknown key" },
	{ CONF1(SA1X("'lifetime': {'soft': 1}")), "t.json: groups[0].sas[0].lifetime.soft: "
		"expected one of the keys soft_seconds, hard_seconds, soft_bytes, hard_bytes, got "
		"an unknown key" },
	{ CONFX("'control': {'sock': 'x'}"), "t.json: control.sock: expected one of the keys "
		"socket, got an unknown key" },
	{ POL("{'group': '232.1.1.1', 'action': 'bypass', 'dport': 1}"), "t.json: "
		"policies[0].dport: expected one of the keys group, source, udp_dport, action, "
		"protect_group, got an unknown key" },
	{ CONFX("'\\u00e9v\\nil': 1"), "t.json: ??v?il: expected one of the keys" },

	/* wrong types */
	{ "[]", "t.json: expected a JSON object at the top level, got an array" },
	{ "{'ports': {}}", "t.json: ports: expected an array of 2..8 ports, got an object" },
	{ "{" PORTS ", 'groups': {}}", "t.json: groups: expected an array of at most 4096 groups, "
		"got an object" },
	{ CONFX("'mbufs': 1.5"), "t.json: mbufs: expected an integer in 511..16777215, got a "
		"real number" },
	{ CONFX("'mbufs': -1"), "t.json: mbufs: expected an integer in 511..16777215, got -1" },
	{ CONFX("'burst': '32'"), "t.json: burst: expected an integer in 1..256, got a string" },
	{ CONFX("'control': 'x'"), "t.json: control: expected an object, got a string" },
	{ CONFX("'control': {'socket': 5}"), "t.json: control.socket: expected a Unix socket path "
		"of at most 107 bytes (\"\" for none), got an integer" },
	{ CONF("{'name': 7, 'address': '232.1.1.1', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].name: expected a name of 1..31 characters from A-Z a-z 0-9 . _ "
		"-, got an integer" },
	{ CONF("7", ""), "t.json: groups[0]: expected an object, got an integer" },
	{ CONF1("[]"), "t.json: groups[0].sas[0]: expected an object, got an array" },
	{ CONF1(SA1X("'esn': 'yes'")), "t.json: groups[0].sas[0].esn: expected true or false, "
		"got \"yes\"" },
	{ CONF1(SA1X("'sid_bits': '8'")), "t.json: groups[0].sas[0].sid_bits: expected 8, 12 or "
		"16 (RFC 6054), got \"8\"" },
	{ CONF1(SA1X("'lifetime': 3600")), "t.json: groups[0].sas[0].lifetime: expected an "
		"object, got an integer" },
	{ CONF1(SA1X("'replay_window': null")), "t.json: groups[0].sas[0].replay_window: "
		"expected an integer in 0..65536, got null" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': 0}"),
		"t.json: groups[0].sas[0].sids: expected an array of 1..64 sender IDs (one per "
		"sending worker) for a \"sender\" SA, got an integer" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': ['1']}"),
		"t.json: groups[0].sas[0].sids[0]: expected a sender ID in 0..255 (sid_bits 8), "
		"got \"1\"" },

	/* SPIs (RFC 4303 2.1) */
	{ CONF1("{'spi': true, 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295, got true" },
	{ CONF1("{'spi': 255, 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295 (RFC 4303: 1..255 are reserved), got 255" },
	{ CONF1("{'spi': '0x00ff', 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295 (RFC 4303: 1..255 are reserved), got \"0x00ff\"" },
	{ CONF1("{'spi': 4294967296, 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295 (RFC 4303: 1..255 are reserved), got 4294967296" },
	{ CONF1("{'spi': '0x1g00', 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295, got \"0x1g00\"" },
	{ CONF1("{'spi': '4096', 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295, got \"4096\"" },
	{ CONF1("{'spi': '0x100000000', 'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI" },
	{ CONF1("{'direction': 'sender', " S128 ", 'sids': [0]}"),
		"t.json: groups[0].sas[0].spi: expected an SPI (an integer or a \"0x...\" string) "
		"in 256..4294967295, got nothing" },
	{ CONF1(SA1 ", " SAR(4096, "")), "t.json: groups[0].sas[1].spi: expected an SPI unique "
		"within the group, got 0x00001000 (also sas[0])" },

	/* direction and suite */
	{ CONF1("{'spi': 4096, 'direction': 'both', " S128 "}"), "t.json: groups[0].sas[0]."
		"direction: expected \"sender\", \"receiver\" or \"symmetric\", got \"both\"" },
	{ CONF1("{'spi': 4096, " S128 "}"), "t.json: groups[0].sas[0].direction: expected "
		"\"sender\", \"receiver\" or \"symmetric\", got nothing" },
	{ CONF1(SAK("'suite': 'aes-cbc', 'key': '" K128 "'")), "t.json: groups[0].sas[0].suite: "
		"expected " SUITES ", got \"aes-cbc\"" },
	{ CONF1(SAK("'key': '" K128 "'")), "t.json: groups[0].sas[0].suite: expected "
		SUITES ", got nothing" },

	/* the suites besides AES-GCM: key fields per suite, one sender without IV */
	{ CONF1(SAK("'suite': 'aes-ctr-128-hmac-sha256-128', 'key': '" K128 "'")),
		"t.json: groups[0].sas[0].auth_key: expected a string of 64 hex digits (32-byte "
		"HMAC-SHA-256 key), got nothing" },
	{ CONF1(SAK("'suite': 'aes-ctr-128-hmac-sha256-128', 'key': '" K128 "', 'auth_key': '"
		K128 "'")), "t.json: groups[0].sas[0].auth_key: expected 64 hex digits (32-byte "
		"HMAC-SHA-256 key), got 40" },
	{ CONF1(SAK("'suite': 'aes-ctr-128-hmac-sha256-128', 'key': '" KAUTH "', 'auth_key': '"
		KAUTH "'")), "t.json: groups[0].sas[0].key: expected 40 hex digits (16-byte key + "
		"4-byte nonce), got 64" },
	{ CONF1(SAK("'suite': 'aes-ctr-128-hmac-sha256-128', 'auth_key': '" KAUTH "'")),
		"t.json: groups[0].sas[0].key: expected a string of 40 hex digits (16-byte key + "
		"4-byte nonce), got nothing" },
	{ CONF1(SAK("'suite': 'aes-ctr-128-hmac-sha256-128', 'key': '" K128 "', 'auth_key': "
		"'0x00010203040506070809x'")), "t.json: groups[0].sas[0].auth_key: expected hex "
		"digits only, got a non-hex character at position 23" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '" K128 "', 'auth_key': '" KAUTH "'")),
		"t.json: groups[0].sas[0].auth_key: expected no \"auth_key\" with aes-gcm-128 "
		"(its one \"key\" also authenticates), got a string" },
	{ CONF1(SAK("'suite': 'aes-gmac-128', 'key': '" K256 "'")), "t.json: groups[0].sas[0]."
		"key: expected 40 hex digits (16-byte key + 4-byte salt), got 72" },
	{ CONF1(SAK("'suite': 'null-hmac-sha256-128', 'key': '" K128 "', 'auth_key': '" KAUTH
		"'")), "t.json: groups[0].sas[0].key: expected no \"key\" with "
		"null-hmac-sha256-128 (NULL encryption has no key; the HMAC key goes in "
		"\"auth_key\"), got a string" },
	{ CONF1(SAK("'suite': 'null-hmac-sha256-128'")), "t.json: groups[0].sas[0].auth_key: "
		"expected a string of 64 hex digits (32-byte HMAC-SHA-256 key), got nothing" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', 'sids': [0, 1], 'suite': "
		"'null-hmac-sha256-128', 'auth_key': '" KAUTH "'}"), "t.json: groups[0].sas[0].sids: "
		"expected one sender ID: null-hmac-sha256-128 has no IV to carry one, so an SA has "
		"a single sender (several senders with integrity only: aes-gmac-128), got an "
		"array of 2" },
	{ CONF1(SAK("'suite': 'null-hmac-sha256-128', 'auth_key': '" KAUTH "', 'sid_bits': 8")),
		"t.json: groups[0].sas[0].sid_bits: expected no sid_bits with null-hmac-sha256-128 "
		"(it has no IV to carry a sender ID), got 8" },
	{ CONF1(SAK("'suite': 'null-hmac-sha256-128', 'auth_key': '" KAUTH "', 'sid_bits': "
		"'x'")), "t.json: groups[0].sas[0].sid_bits: expected no sid_bits with "
		"null-hmac-sha256-128 (it has no IV to carry a sender ID), got \"x\"" },

	/* keys: hex, length per suite; never quoted */
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '000102030405060708090a0b0c0d0e0f101112'")),
		"t.json: groups[0].sas[0].key: expected 40 hex digits (16-byte key + 4-byte salt), "
		"got 38" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '000102030405060708090a0b0c0d0e0f1011121'")),
		"t.json: groups[0].sas[0].key: expected 40 hex digits (16-byte key + 4-byte salt), "
		"got 39" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '0x000102030405060708090a0b0c0d0e0f1011121'")),
		"t.json: groups[0].sas[0].key: expected 40 hex digits (16-byte key + 4-byte salt), "
		"got 39" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '0001g2030405060708090a0b0c0d0e0f10111213'")),
		"t.json: groups[0].sas[0].key: expected hex digits only, got a non-hex character "
		"at position 5" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '00 102030405060708090a0b0c0d0e0f10111213'")),
		"t.json: groups[0].sas[0].key: expected hex digits only, got a non-hex character "
		"at position 3" },
	{ CONF1(SAK("'suite': 'aes-gcm-256', 'key': '" K128 "'")), "t.json: groups[0].sas[0].key: "
		"expected 72 hex digits (32-byte key + 4-byte salt), got 40" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '" K256 "'")), "t.json: groups[0].sas[0].key: "
		"expected 40 hex digits (16-byte key + 4-byte salt), got 72" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': 5")), "t.json: groups[0].sas[0].key: expected "
		"a string of 40 hex digits (16-byte key + 4-byte salt), got an integer" },
	{ CONF1(SAK("'suite': 'aes-gcm-128'")), "t.json: groups[0].sas[0].key: expected a string "
		"of 40 hex digits (16-byte key + 4-byte salt), got nothing" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': ''")), "t.json: groups[0].sas[0].key: "
		"expected 40 hex digits (16-byte key + 4-byte salt), got 0" },

	/* sender IDs (RFC 6054) */
	{ CONF1(SA1X("'sid_bits': 10")), "t.json: groups[0].sas[0].sid_bits: expected 8, 12 or 16 "
		"(RFC 6054), got 10" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': [1, 256]}"),
		"t.json: groups[0].sas[0].sids[1]: expected a sender ID in 0..255 (sid_bits 8), "
		"got 256" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sid_bits': 12, 'sids': [4096]}"),
		"t.json: groups[0].sas[0].sids[0]: expected a sender ID in 0..4095 (sid_bits 12), "
		"got 4096" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': [-1]}"),
		"t.json: groups[0].sas[0].sids[0]: expected a sender ID in 0..255 (sid_bits 8), "
		"got -1" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 "}"), "t.json: groups[0].sas[0].sids: "
		"expected an array of 1..64 sender IDs (one per sending worker) for a \"sender\" "
		"SA, got nothing" },
	{ CONF1("{'spi': 4096, 'direction': 'symmetric', " S128 ", 'sids': []}"),
		"t.json: groups[0].sas[0].sids: expected an array of 1..64 sender IDs (one per "
		"sending worker) for a \"symmetric\" SA, got an array of 0" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sid_bits': 16, 'sids': [0, 1, 2, "
		"3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, "
		"25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, "
		"45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64]}"),
		"t.json: groups[0].sas[0].sids: expected an array of 1..64 sender IDs (one per "
		"sending worker) for a \"sender\" SA, got an array of 65" },
	{ CONF1(SAR(4096, ", 'sids': [1]")), "t.json: groups[0].sas[0].sids: expected no sender "
		"IDs on a \"receiver\" SA, got an array" },
	{ CONF1("{'spi': 4096, 'direction': 'sender', " S128 ", 'sids': [3, 3]}"),
		"t.json: groups[0].sas[0].sids[1]: expected sender IDs unique within the SA, got 3 "
		"again (also sids[0])" },

	/* replay window, TTL, DSCP, lifetimes */
	{ CONF1(SA1X("'replay_window': 65537")), "t.json: groups[0].sas[0].replay_window: "
		"expected an integer in 0..65536, got 65537" },
	{ CONF1(SA1X("'ttl': 0")), "t.json: groups[0].sas[0].ttl: expected \"copy\" or an integer "
		"in 1..255, got 0" },
	{ CONF1(SA1X("'ttl': 256")), "t.json: groups[0].sas[0].ttl: expected \"copy\" or an "
		"integer in 1..255, got 256" },
	{ CONF1(SA1X("'ttl': 'keep'")), "t.json: groups[0].sas[0].ttl: expected \"copy\" or an "
		"integer in 1..255, got \"keep\"" },
	{ CONF1(SA1X("'dscp': 64")), "t.json: groups[0].sas[0].dscp: expected \"copy\" or an "
		"integer in 0..63, got 64" },
	{ CONF1(SA1X("'dscp': -1")), "t.json: groups[0].sas[0].dscp: expected \"copy\" or an "
		"integer in 0..63, got -1" },
	{ CONF1(SA1X("'lifetime': {'soft_seconds': 60, 'hard_seconds': 60}")),
		"t.json: groups[0].sas[0].lifetime.soft_seconds: expected less than hard_seconds "
		"(60), got 60" },
	{ CONF1(SA1X("'lifetime': {'soft_bytes': 2000, 'hard_bytes': 1000}")),
		"t.json: groups[0].sas[0].lifetime.soft_bytes: expected less than hard_bytes "
		"(1000), got 2000" },
	{ CONF1(SA1X("'lifetime': {'hard_seconds': -5}")), "t.json: groups[0].sas[0].lifetime."
		"hard_seconds: expected an integer in 0..2147483647, got -5" },

	/* make-before-break */
	{ CONF1(SA1 ", " SAR(4097, ", 'replaces': 8192")), "t.json: groups[0].sas[1].replaces: "
		"expected the SPI of another SA of group \"g\", got 0x00002000 (no such SA)" },
	{ CONF1(SAR(4097, ", 'replaces': 4096") ", " SA1), "t.json: groups[0].sas[0].replaces: "
		"expected the SPI of an SA listed before this one (SAs are installed in order), "
		"got 0x00001000 (sas[1])" },
	{ CONF1(SAR(4097, ", 'replaces': '0x1001'")), "t.json: groups[0].sas[0].replaces: "
		"expected the SPI of another SA, got this SA's own SPI 0x00001001" },
	{ CONF1(SAR(4097, ", 'replaces': 12")), "t.json: groups[0].sas[0].replaces: expected an "
		"SPI (an integer or a \"0x...\" string) in 256..4294967295 (RFC 4303: 1..255 are "
		"reserved), got 12" },
	{ CONF1(SA1 ", " SAR(4097, ", 'replaces': 4096, 'activation_delay_ms': 5000, "
		"'deactivation_delay_ms': 1000")), "t.json: "
		"groups[0].sas[1].deactivation_delay_ms: expected at least activation_delay_ms "
		"(5000), got 1000" },
	{ CONF1(SA1X("'deactivation_delay_ms': 1000")), "t.json: groups[0].sas[0]."
		"deactivation_delay_ms: expected only on an SA with \"replaces\", got it on an SA "
		"without" },
	{ CONF1(SA1X("'activation_delay_ms': 4294967296")), "t.json: groups[0].sas[0]."
		"activation_delay_ms: expected an integer in 0..4294967295, got 4294967296" },

	/* groups */
	{ CONF("{" G1 "}", ""), "t.json: groups[0]: " EITHER "neither" },
	{ CONF("{" G1 ", 'sas': []}", ""), "t.json: groups[0].sas: expected an array of 1..1024 "
		"SAs, got an array of 0" },
	{ CONF(GROUP(SA1) ", " GROUP(SA1), ""), "t.json: groups[1].name: expected a name unique "
		"among groups, got \"g\" (also groups[0])" },
	{ CONF(GROUP(SA1) ", {'name': 'h', 'address': '232.1.1.1', 'source': '192.0.2.1', 'sas': ["
		SA1 "]}", ""), "t.json: groups[1].address: expected an (address, source) pair "
		"unique among groups, got (232.1.1.1, 192.0.2.1) (also groups[0])" },
	{ CONF("{'name': 'g', 'address': '239.1.1.1', 'sas': [" SA1 "]}, {'name': 'h', "
		"'address': '239.1.1.1', 'sas': [" SA1 "]}", ""), "t.json: groups[1].address: "
		"expected an (address, source) pair unique among groups, got (239.1.1.1, *) (also "
		"groups[0])" },
	{ CONF("{'name': 'a b', 'address': '232.1.1.1', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].name: expected a name of 1..31 characters from A-Z a-z 0-9 . _ "
		"-, got \"a b\"" },
	{ CONF("{'name': 'abcdefghijabcdefghijabcdefghij12', 'address': '232.1.1.1', 'sas': ["
		SA1 "]}", ""), "t.json: groups[0].name: expected a name of 1..31 characters from "
		"A-Z a-z 0-9 . _ -, got \"abcdefghijabcdefghijabcdefghij12\"" },
	{ CONF("{'name': 'g', 'sas': [" SA1 "]}", ""), "t.json: groups[0].address: expected an "
		"IPv4 or IPv6 address, got nothing" },
	{ CONF("{'name': 'g', 'address': '232.1.1', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].address: expected an IPv4 or IPv6 address, got \"232.1.1\"" },
	{ CONF("{'name': 'g', 'address': '232.1.1.0/24', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].address: expected an IPv4 or IPv6 address, got "
		"\"232.1.1.0/24\"" },
	{ CONF("{'name': 'g', 'address': '10.1.1.1', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].address: expected a multicast address (224.0.0.0/4 or "
		"ff00::/8), got \"10.1.1.1\"" },
	{ CONF("{'name': 'g', 'address': '2001:db8::1', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].address: expected a multicast address (224.0.0.0/4 or "
		"ff00::/8), got \"2001:db8::1\"" },
	{ CONF("{'name': 'g', 'address': '224.0.0.251', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].address: expected a multicast address beyond link scope "
		"(224.0.0.0/24 and ff00::/8 scopes 0-2 always pass in clear), got "
		"\"224.0.0.251\"" },
	{ CONF("{'name': 'g', 'address': 'ff02::fb', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].address: expected a multicast address beyond link scope" },
	{ CONF("{'name': 'g', 'address': '232.1.1.1', 'source': '2001:db8::1', 'sas': [" SA1 "]}",
		""), "t.json: groups[0].source: expected an IPv4 source address like the group "
		"address, got \"2001:db8::1\"" },
	{ CONF("{'name': 'g', 'address': 'ff3e::1', 'source': '192.0.2.1', 'sas': [" SA1 "]}",
		""), "t.json: groups[0].source: expected an IPv6 source address like the group "
		"address, got \"192.0.2.1\"" },
	{ CONF("{'name': 'g', 'address': '232.1.1.1', 'source': '232.1.1.2', 'sas': [" SA1 "]}",
		""), "t.json: groups[0].source: expected a unicast source address, got "
		"\"232.1.1.2\"" },
	{ CONF("{'name': 'g', 'address': '232.1.1.1', 'source': '0.0.0.0', 'sas': [" SA1 "]}",
		""), "t.json: groups[0].source: expected a unicast source address, got "
		"\"0.0.0.0\"" },
	{ CONF("{'name': 'g', 'address': 'ff3e::1', 'source': '::1', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].source: expected a unicast source address, got \"::1\"" },
	{ CONF("{" G1 ", 'protected_port': 'nope', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].protected_port: expected the name of a protected port, got "
		"\"nope\" (no such port)" },
	{ CONF("{" G1 ", 'unprotected_port': 'p', 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].unprotected_port: expected the name of an unprotected port, got "
		"\"p\", a port of the other role" },
	{ CONF("{" G1 ", 'protected_port': 0, 'sas': [" SA1 "]}", ""),
		"t.json: groups[0].protected_port: expected the name of a protected port, got an "
		"integer" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected'}, {'name': 'u', "
		"'device': 'd1', 'role': 'unprotected'}, {'name': 'v', 'device': 'd2', 'role': "
		"'unprotected'}], 'groups': [" GROUP(SA1) "]}", "t.json: "
		"groups[0].unprotected_port: expected the name of an unprotected port (there are "
		"2, so it cannot be implied), got nothing" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected', 'mtu': 1000}, "
		"{'name': 'u', 'device': 'd1', 'role': 'unprotected'}], 'groups': [{'name': 'g', "
		"'address': 'ff3e::1', 'sas': [" SA1 "]}]}", "t.json: groups[0].protected_port: "
		"expected a port with an mtu of at least 1280 for an IPv6 group (RFC 8200), got "
		"\"p\" with mtu 1000" },

	/* ports */
	{ "{}", "t.json: ports: expected an array of 2..8 ports, got nothing" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected'}]}", "t.json: ports: "
		"expected an array of 2..8 ports, got an array of 1" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected'}, {'name': 'q', 'device': "
		"'d1', 'role': 'protected'}]}", "t.json: ports: expected at least one "
		"\"protected\" and one \"unprotected\" port, got 2 protected and 0 unprotected" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected'}, {'name': 'p', 'device': "
		"'d1', 'role': 'unprotected'}]}", "t.json: ports[1].name: expected a name unique "
		"among ports, got \"p\" (also ports[0])" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'protected'}, {'name': 'u', 'device': "
		"'d0', 'role': 'unprotected'}]}", "t.json: ports[1].device: expected a device "
		"unique among ports, got \"d0\" (also ports[0])" },
	{ "{'ports': [{'name': 'p', 'device': 'd0', 'role': 'inside'}]}", "t.json: ports[0].role: "
		"expected \"protected\" or \"unprotected\", got \"inside\"" },
	{ "{'ports': [{'name': 'p', 'role': 'protected'}]}", "t.json: ports[0].device: expected a "
		"DPDK device name of 1..63 printable characters without spaces, got nothing" },
	{ "{'ports': [{'name': 'p', 'device': 'net pcap', 'role': 'protected'}]}", "t.json: "
		"ports[0].device: expected a DPDK device name of 1..63 printable characters "
		"without spaces, got \"net pcap\"" },
	{ "{'ports': [{'name': 'p', 'device': 'd', 'role': 'protected', 'queues': 0}]}",
		"t.json: ports[0].queues: expected an integer in 1..64, got 0" },
	{ "{'ports': [{'name': 'p', 'device': 'd', 'role': 'protected', 'mtu': 65535}]}",
		"t.json: ports[0].mtu: expected an integer in 576..9216, got 65535" },
	{ "{'ports': [{'name': 'p', 'device': 'd', 'role': 'protected', 'default': 'protect'}]}",
		"t.json: ports[0].default: expected \"bypass\" or \"discard\", got \"protect\"" },

	/* top-level numbers */
	{ CONFX("'burst': 0"), "t.json: burst: expected an integer in 1..256, got 0" },
	{ CONFX("'burst': 257"), "t.json: burst: expected an integer in 1..256, got 257" },
	{ CONFX("'max_senders': 0"), "t.json: max_senders: expected an integer in 1..4096, got 0" },
	{ CONF(GROUP(SA1 ", " SAR(4097, "")), ", 'max_sas': 1"), "t.json: max_sas: expected at "
		"least the 2 SAs the groups hold, got 1" },
	{ CONFX("'control': {'socket': '/" A50 A50 "aaaaaaa'}"), "t.json: control.socket: "
		"expected a Unix socket path of at most 107 bytes (\"\" for none), got a longer "
		"one" },

	/* policies */
	{ POL("{'group': '232.1.1.1', 'action': 'protect', 'protect_group': 'zz'}"),
		"t.json: policies[0].protect_group: expected the name of a group, got \"zz\" (no "
		"such group)" },
	{ POL("{'group': '232.1.1.1', 'source': '192.0.2.1', 'action': 'protect'}"),
		"t.json: policies[0].protect_group: expected the name of a group, got nothing" },
	{ POL("{'group': '232.1.1.1', 'action': 'bypass', 'protect_group': 'g'}"),
		"t.json: policies[0].protect_group: expected only with \"action\": \"protect\", "
		"got \"g\"" },
	{ POL("{'group': '232.1.1.2', 'source': '192.0.2.1', 'action': 'protect', "
		"'protect_group': 'g'}"), "t.json: policies[0].group: expected 232.1.1.1, the "
		"address of protect_group \"g\", got 232.1.1.2" },
	{ POL("{'group': '232.1.1.1', 'action': 'protect', 'protect_group': 'g'}"),
		"t.json: policies[0].source: expected 192.0.2.1, the source of SSM protect_group "
		"\"g\", got nothing" },
	{ POL("{'group': '232.1.1.1', 'source': '192.0.2.9', 'action': 'protect', "
		"'protect_group': 'g'}"), "t.json: policies[0].source: expected 192.0.2.1, the "
		"source of SSM protect_group \"g\", got 192.0.2.9" },
	{ POL("{'group': '232.1.1.1', 'action': 'allow'}"), "t.json: policies[0].action: "
		"expected \"protect\", \"bypass\" or \"discard\", got \"allow\"" },
	{ POL("{'group': '232.1.1.1'}"), "t.json: policies[0].action: expected \"protect\", "
		"\"bypass\" or \"discard\", got nothing" },
	{ POL("{'action': 'bypass'}"), "t.json: policies[0].group: expected an IPv4 or IPv6 "
		"address, got nothing" },
	{ POL("{'group': '192.0.2.1', 'action': 'bypass'}"), "t.json: policies[0].group: "
		"expected a multicast address (224.0.0.0/4 or ff00::/8), got \"192.0.2.1\"" },
	{ POL("{'group': 'ff3e::1', 'source': '192.0.2.1', 'action': 'bypass'}"),
		"t.json: policies[0].source: expected an IPv6 source address like the group "
		"address, got \"192.0.2.1\"" },
	{ POL("{'group': '232.1.1.1', 'udp_dport': [10, 5], 'action': 'bypass'}"),
		"t.json: policies[0].udp_dport: expected a UDP port in 1..65535 or a range [lo, "
		"hi] with lo <= hi, got 10..5" },
	{ POL("{'group': '232.1.1.1', 'udp_dport': 0, 'action': 'bypass'}"),
		"t.json: policies[0].udp_dport: expected a UDP port in 1..65535 or a range [lo, "
		"hi] with lo <= hi, got 0..0" },
	{ POL("{'group': '232.1.1.1', 'udp_dport': [1, 65536], 'action': 'bypass'}"),
		"t.json: policies[0].udp_dport: expected a UDP port in 1..65535 or a range [lo, "
		"hi] with lo <= hi, got 1..65536" },
	{ POL("{'group': '232.1.1.1', 'udp_dport': '5004', 'action': 'bypass'}"),
		"t.json: policies[0].udp_dport: expected a UDP port in 1..65535 or a range [lo, "
		"hi] with lo <= hi, got \"5004\"" },
	{ POL("{'group': '232.1.1.1', 'udp_dport': [1, 2, 3], 'action': 'bypass'}"),
		"t.json: policies[0].udp_dport: expected a UDP port in 1..65535 or a range [lo, "
		"hi] with lo <= hi, got an array" },
	{ POL("{'group': '239.1.1.1', 'action': 'bypass'}, {'group': '239.1.1.1', 'action': "
		"'discard'}"), "t.json: policies[1]: expected a (group, source, udp_dport) "
		"selector unique among policies, got the same as policies[0]" },
	{ POL("{'group': '239.1.1.1', 'udp_dport': [5000, 5005], 'action': 'bypass'}, "
		"{'group': '239.1.1.1', 'udp_dport': [5005, 5010], 'action': 'discard'}"),
		"t.json: policies[1].udp_dport: expected ports not overlapping those of "
		"policies[0] (same group and source), got 5005..5010" },
	{ CONFX("'policies': {}"), "t.json: policies: expected an array of at most 4096 policies, "
		"got an object" },
	{ CONFX("'policies': [5]"), "t.json: policies[0]: expected an object, got an integer" },

	/* TESLA: the suite suffix and the "tesla" object */
	{ CONF1(SAK("'suite': 'aes-cbc+tesla', 'key': '" K128 "'")), "t.json: groups[0].sas[0]."
		"suite: expected " SUITES ", got \"aes-cbc+tesla\"" },
	{ CONF1(SAK("'suite': '+tesla', 'key': '" K128 "'")), "t.json: groups[0].sas[0].suite: "
		"expected " SUITES ", got \"+tesla\"" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+TESLA', 'key': '" K128 "'")), "t.json: groups[0]."
		"sas[0].suite: expected " SUITES ", got \"aes-gcm-128+TESLA\"" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla+tesla', 'key': '" K128 "'")), "t.json: "
		"groups[0].sas[0].suite: expected " SUITES ", got \"aes-gcm-128+tesla+tesla\"" },
	{ CONF1(SA1X("'tesla': {" T0 "}")), TP ": expected no \"tesla\" object with suite "
		"\"aes-gcm-128\" (add \"+tesla\" to the suite to use TESLA: "
		"\"aes-gcm-128+tesla\"), got an object" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "'")), TP ": expected an object "
		"with the TESLA parameters of suite \"aes-gcm-128+tesla\", got nothing" },
	{ CONF1(SAK("'suite': 'null-hmac-sha256-128+tesla', 'auth_key': '" KAUTH "'")), TP
		": expected an object with the TESLA parameters of suite "
		"\"null-hmac-sha256-128+tesla\", got nothing" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': [1]")), TP
		": expected an object, got an array" },
	{ CONF1(TSA(", 'interval': 10")), TP ".interval: expected one of the keys t0_ms, "
		"interval_ms, delay, chain_length, mac, max_walk, commitment_window, "
		"last_key_window, chain_key, chain, senders, bucket_bytes, bucket_packets, copy_max, "
		"fail, got an unknown key" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'interval_ms': "
		"10}")), TP ".t0_ms: expected an integer in 0..18446744073709, got nothing" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'t0_ms': -1, "
		"'interval_ms': 10}")), TP ".t0_ms: expected an integer in 0..18446744073709, got "
		"-1" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'t0_ms': "
		"18446744073710, 'interval_ms': 10}")), TP ".t0_ms: expected an integer in "
		"0..18446744073709, got 18446744073710" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'t0_ms': 1.5, "
		"'interval_ms': 10}")), TP ".t0_ms: expected an integer in 0..18446744073709, got "
		"a real number" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'t0_ms': 0}")),
		TP ".interval_ms: expected an integer in 1..60000, got nothing" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'t0_ms': 0, "
		"'interval_ms': 0}")), TP ".interval_ms: expected an integer in 1..60000, got 0" },
	{ CONF1(SAK("'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {'t0_ms': 0, "
		"'interval_ms': 60001}")), TP ".interval_ms: expected an integer in 1..60000, got "
		"60001" },
	{ CONF1(TSA(", 'delay': 1")), TP ".delay: expected an integer in 2..255, got 1" },
	{ CONF1(TSA(", 'delay': 256")), TP ".delay: expected an integer in 2..255, got 256" },
	{ CONF1(TSA(", 'chain_length': 3")), TP ".chain_length: expected an integer in "
		"4..16777216, got 3" },
	{ CONF1(TSA(", 'chain_length': 16777217")), TP ".chain_length: expected an integer in "
		"4..16777216, got 16777217" },
	/* tesla_params_check() decides, lib/tesla's words explain */
	{ CONF1(TSA(", 'delay': 10, 'chain_length': 10")), TP ".chain_length: expected more "
		"than delay (10) keys, got 10 (d > N: a chain must last longer than the disclosure "
		"delay)" },
	/* the window rule (RFC 5776): at chain_length, or at the window given explicitly */
	{ CONF1(TSA(", 'chain_length': 4")), TP ".chain_length: expected delay + last_key_window "
		"+ commitment_window <= chain_length (RFC 5776), got 2 + 2 + 1 = 5 > 4" },
	{ CONF1(TSA(", 'chain_length': 1000, 'delay': 255, 'last_key_window': 255, "
		"'commitment_window': 491")), TP ".commitment_window: expected delay + "
		"last_key_window + commitment_window <= chain_length (RFC 5776), got 255 + 255 + "
		"491 = 1001 > 1000" },
	{ CONF1(TSA(", 'chain_length': 100, 'last_key_window': 99")), TP ".last_key_window: "
		"expected delay + last_key_window + commitment_window <= chain_length (RFC 5776), "
		"got 2 + 99 + 1 = 102 > 100" },
	{ CONF1(TSA(", 'last_key_window': 0")), TP ".last_key_window: expected an integer in "
		"1..360000, got 0" },
	{ CONF1(TSA(", 'commitment_window': 0")), TP ".commitment_window: expected an integer in "
		"1..360000, got 0" },
	{ CONF1(TSA(", 'max_walk': 0")), TP ".max_walk: expected an integer in 1..360000, got 0" },
	{ CONF1(TSA(", 'chain_length': 1000, 'max_walk': 1001")), TP ".max_walk: expected an "
		"integer in 1..1000, got 1001" },
	{ CONF1(TSA(", 'mac': 'aes-cmac-128'")), TP ".mac: expected \"hmac-sha256-128\" or "
		"\"aes-gmac-128\", got \"aes-cmac-128\"" },
	{ CONF1(TSA(", 'mac': 2")), TP ".mac: expected \"hmac-sha256-128\" or \"aes-gmac-128\", "
		"got an integer" },
	{ CONF1(TNULL("{'sids': [0], 'commitment': '" CMT "'}", ", 'mac': 'aes-gmac-128'")), TP
		".mac: expected \"hmac-sha256-128\" with null-hmac-sha256-128 (aes-gmac-128 takes "
		"its nonce from the IV, which null-hmac-sha256-128 does not have), got "
		"\"aes-gmac-128\"" },
	/* the chain key: sending SAs only, 64 hex digits, never quoted */
	{ CONF1(TRX1(", 'chain_key': '" CKEY "'")), TP ".chain_key: expected no chain_key on a "
		"\"receiver\" SA (it is the secret of a sending SA), got a string" },
	{ CONF1(TSA(", 'chain_key': '" CKEY "00'")), TP ".chain_key: expected 64 hex digits "
		"(32-byte key K_N of a chain), got 66" },
	{ CONF1(TSA(", 'chain_key': '7d3f9a1be4c2058f6a91d7e3b0c5f24e8a6d1c9b3e7f05a2d4c8b6e1f9"
		"a307zc'")), TP ".chain_key: expected hex digits only, got a non-hex character at "
		"position 63" },
	{ CONF1(TSA(", 'chain_key': 7")), TP ".chain_key: expected a string of 64 hex digits "
		"(32-byte key K_N of a chain), got an integer" },
	/* which chain the key ends: only with a key, within the 32-bit index space */
	{ CONF1(TSA(", 'chain': 2")), TP ".chain: expected no chain without chain_key (it says "
		"which chain chain_key is the last key of), got an integer" },
	{ CONF1(TSA(", 'chain_key': '" CKEY "', 'chain': 4294967295")), TP ".chain: expected an "
		"integer in 0..11930, got 4294967295" },
	/* senders: required when the SA receives, refused when it only sends */
	{ CONF1(TSA(", 'senders': [" SND1 "]")), TP ".senders: expected no senders on a "
		"\"sender\" SA (only an SA that receives verifies other senders' chains), got an "
		"array" },
	{ CONF1("{'spi': 4096, 'direction': 'receiver', 'suite': 'aes-gcm-128+tesla', 'key': '"
		K128 "', 'tesla': {" T0 "}}"), TP ".senders: expected an array of 1..8 TESLA "
		"senders (whose chains a \"receiver\" SA verifies), got nothing" },
	{ CONF1("{'spi': 4096, 'direction': 'symmetric', 'suite': 'aes-gcm-128+tesla', 'key': '"
		K128 "', 'sids': [0], 'tesla': {" T0 ", 'senders': []}}"), TP ".senders: expected "
		"an array of 1..8 TESLA senders (whose chains a \"symmetric\" SA verifies), got an "
		"array of 0" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "'}, {'sids': [2], 'commitment': '" CMT
		"'}, {'sids': [3], 'commitment': '" CMT "'}, {'sids': [4], 'commitment': '" CMT
		"'}, {'sids': [5], 'commitment': '" CMT "'}, {'sids': [6], 'commitment': '" CMT
		"'}, {'sids': [7], 'commitment': '" CMT "'}, {'sids': [8], 'commitment': '" CMT
		"'}, {'sids': [9], 'commitment': '" CMT "'}", "")), TP ".senders: expected an "
		"array of 1..8 TESLA senders (whose chains a \"receiver\" SA verifies), got an "
		"array of 9" },
	{ CONF1(TRX("7", "")), TP ".senders[0]: expected an object, got an integer" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'key': 1}", "")), TP ".senders[0]."
		"key: expected one of the keys sids, chain, commitment, clock_bound_ms, got an "
		"unknown key" },
	{ CONF1(TRX("{'commitment': '" CMT "'}", "")), TP ".senders[0].sids: expected an array "
		"of 1..64 sender IDs (those this sender sends with), got nothing" },
	{ CONF1(TRX("{'sids': [], 'commitment': '" CMT "'}", "")), TP ".senders[0].sids: "
		"expected an array of 1..64 sender IDs (those this sender sends with), got an "
		"array of 0" },
	{ CONF1(TRX("{'sids': [256], 'commitment': '" CMT "'}", "")), TP ".senders[0].sids[0]: "
		"expected a sender ID in 0..255 (sid_bits 8), got 256" },
	{ CONF1(TRX("{'sids': ['1'], 'commitment': '" CMT "'}", "")), TP ".senders[0].sids[0]: "
		"expected a sender ID in 0..255 (sid_bits 8), got \"1\"" },
	{ CONF1("{'spi': 4096, 'direction': 'receiver', 'suite': 'aes-gcm-128+tesla', 'key': '"
		K128 "', 'sid_bits': 12, 'tesla': {" T0 ", 'senders': [{'sids': [4095, 4096], "
		"'commitment': '" CMT "'}]}}"), TP ".senders[0].sids[1]: expected a sender ID in "
		"0..4095 (sid_bits 12), got 4096" },
	{ CONF1(TRX("{'sids': [3, 3], 'commitment': '" CMT "'}", "")), TP ".senders[0].sids[1]: "
		"expected sender IDs unique among the SA's TESLA senders, got 3 again (also "
		"sids[0])" },
	{ CONF1(TRX("{'sids': [1, 2], 'commitment': '" CMT "'}, {'sids': [5, 2], 'commitment': '"
		CMT2 "'}", "")), TP ".senders[1].sids[1]: expected sender IDs unique among the "
		"SA's TESLA senders, got 2 again (also senders[0].sids[1])" },
	{ CONF1(TNULL("{'sids': [1], 'commitment': '" CMT "'}", "")), TP ".senders[0].sids: "
		"expected [0]: null-hmac-sha256-128 has no IV to carry a sender ID, so the SA's "
		"single sender is sender 0, got an array" },
	{ CONF1(TNULL("{'sids': [0, 1], 'commitment': '" CMT "'}", "")), TP ".senders[0].sids: "
		"expected [0]: null-hmac-sha256-128 has no IV to carry a sender ID" },
	{ CONF1(TNULL("{'commitment': '" CMT "'}", "")), TP ".senders[0].sids: expected [0]: "
		"null-hmac-sha256-128 has no IV to carry a sender ID, so the SA's single sender is "
		"sender 0, got nothing" },
	{ CONF1(TNULL("{'sids': [0], 'commitment': '" CMT "'}, {'sids': [0], 'commitment': '"
		CMT "'}", "")), TP ".senders: expected one sender: null-hmac-sha256-128 has no IV "
		"to carry a sender ID, so an SA has a single sender, got an array of 2" },
	{ CONF1(TRX("{'sids': [1], 'chain': 11931, 'commitment': '" CMT "'}", "")), TP
		".senders[0].chain: expected a chain index in 0..11930 (its first interval, chain "
		"* chain_length, must fit 32 bits), got 11931" },
	{ CONF1(TRX("{'sids': [1], 'chain': -1, 'commitment': '" CMT "'}", ", 'chain_length': "
		"16777216")), TP ".senders[0].chain: expected a chain index in 0..255 (its first "
		"interval, chain * chain_length, must fit 32 bits), got -1" },
	{ CONF1(TRX("{'sids': [1], 'chain': '0', 'commitment': '" CMT "'}", "")), TP
		".senders[0].chain: expected a chain index in 0..11930 (its first interval, chain "
		"* chain_length, must fit 32 bits), got \"0\"" },
	{ CONF1(TRX("{'sids': [1]}", "")), TP ".senders[0].commitment: expected a string of 64 "
		"hex digits (32-byte commitment F(K_0) of the chain), got nothing" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" K128 "'}", "")), TP ".senders[0].commitment: "
		"expected 64 hex digits (32-byte commitment F(K_0) of the chain), got 40" },
	/* D_t: any JSON number of ms, below d * T_int (tesla_params_check), above -d * T_int */
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'clock_bound_ms': '1'}", "")), TP
		".senders[0].clock_bound_ms: expected a number of milliseconds (D_t), got \"1\"" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'clock_bound_ms': 20}", "")), TP
		".senders[0].clock_bound_ms: expected a number of milliseconds below delay * "
		"interval_ms = 20, got 20 (D_t >= d * T_int: no packet could ever pass the "
		"safe-packet test)" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'clock_bound_ms': 30.0000001}",
		", 'delay': 3")), TP ".senders[0].clock_bound_ms: expected a number of "
		"milliseconds below delay * interval_ms = 30, got 30.0000001 (D_t >= d * T_int" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'clock_bound_ms': 1e300}", "")), TP
		".senders[0].clock_bound_ms: expected a number of milliseconds below delay * "
		"interval_ms = 20, got 1e+300 (D_t >= d * T_int" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'clock_bound_ms': -20}", "")), TP
		".senders[0].clock_bound_ms: expected a number of milliseconds above -(delay * "
		"interval_ms) = -20, got -20 (D_t <= -d * T_int: the receiver's clock would run d "
		"intervals or more ahead of the sender's)" },
	{ CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', 'clock_bound_ms': -1e300}", "")), TP
		".senders[0].clock_bound_ms: expected a number of milliseconds above -(delay * "
		"interval_ms) = -20, got -1e+300" },
	/* receiver store and fail mode */
	{ CONF1(TRX1(", 'bucket_bytes': 4095")), TP ".bucket_bytes: expected an integer in "
		"4096..1073741824, got 4095" },
	{ CONF1(TRX1(", 'bucket_bytes': 1073741825")), TP ".bucket_bytes: expected an integer in "
		"4096..1073741824, got 1073741825" },
	{ CONF1(TRX1(", 'bucket_packets': 15")), TP ".bucket_packets: expected an integer in "
		"16..4194304, got 15" },
	{ CONF1(TRX1(", 'bucket_packets': 4194305")), TP ".bucket_packets: expected an integer "
		"in 16..4194304, got 4194305" },
	{ CONF1(TRX1(", 'copy_max': 2049")), TP ".copy_max: expected an integer in 0..2048, got "
		"2049" },
	{ CONF1(TRX1(", 'fail': 'drop'")), TP ".fail: expected \"close\" or \"open\", got "
		"\"drop\"" },
	{ CONF1(TRX1(", 'fail': true")), TP ".fail: expected \"close\" or \"open\", got true" },
	/* a sending TESLA SA needs an SSM group: its beacons are sent from the source */
	{ CONF("{'name': 'g', 'address': '239.1.1.1', 'sas': [" SA1 ", {'spi': 4097, "
		"'direction': 'symmetric', 'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', "
		"'sids': [1], 'tesla': {" T0 ", 'senders': [" SND1 "]}}]}", ""),
		"t.json: groups[0].sas[1].tesla: expected a sending TESLA SA only in a group with "
		"a \"source\" (key beacons have no inner packet to copy addresses from and are "
		"sent from the group's source), got one in group \"g\", which has none" },
	{ CONF(GROUP(SA1) ", {'name': 'h', 'address': 'ff3e::1', 'sas': [" TSA("") "]}", ""),
		"t.json: groups[1].sas[0].tesla: expected a sending TESLA SA only in a group with "
		"a \"source\"" },

	/* the receivers' clock */
	{ CONFX("'clock': 5"), "t.json: clock: expected an object, got an integer" },
	{ CONFX("'clock': {'source': 'ntp'}"), "t.json: clock.source: expected one of the keys "
		"check, max_error_ms, got an unknown key" },
	{ CONFX("'clock': {'check': 'ntp'}"), "t.json: clock.check: expected \"adjtimex\" or "
		"\"none\", got \"ntp\"" },
	{ CONFX("'clock': {'check': false}"), "t.json: clock.check: expected \"adjtimex\" or "
		"\"none\", got false" },
	{ CONFX("'clock': {'max_error_ms': 0}"), "t.json: clock.max_error_ms: expected an "
		"integer in 1..10000, got 0" },
	{ CONFX("'clock': {'max_error_ms': 10001}"), "t.json: clock.max_error_ms: expected an "
		"integer in 1..10000, got 10001" },
	{ CONFX("'clock': {'max_error_ms': 2.5}"), "t.json: clock.max_error_ms: expected an "
		"integer in 1..10000, got a real number" },

	/* group key management: static keys or a key server, and a key server needs "gkm" */
	{ CONF(GROUP(SA1) ", {'name': 'h', 'address': '239.1.1.1'}", ", " GKM("")),
		"t.json: groups[1]: " EITHER "neither" },
	{ CONF("{" G1 ", 'sas': [" SA1 "], " KS("") "}", ", " GKM("")), "t.json: groups[0]: "
		EITHER "both" },
	{ CONF("{" G1 ", 'sas': 5, " KS("") "}", ", " GKM("")), "t.json: groups[0]: " EITHER
		"both" },
	{ CONF(GROUP(SA1) ", " KGROUP(""), ""), "t.json: groups[1].key_server: expected a "
		"top-level \"gkm\" object (this gateway's identity and trust anchors as a group "
		"member) with a key server, got none" },
	{ CONF("{" G1 ", 'key_server': '10.0.0.1'}", ", " GKM("")), KP ": expected an object, "
		"got a string" },
	{ CONF("{" G1 ", 'key_server': '10.0.0.1'}", ""), KP ": expected an object, got a "
		"string" },
	{ KCONF(", 'spi': 4096"), KP ".spi: expected one of the keys address, port, group_id, "
		"rekey_address, rekey_port, sids, fail, got an unknown key" },
	{ KCONF(", 'sas': []"), KP ".sas: expected one of the keys address, port, group_id" },
	/* the key server's address: a unicast host address, not a name */
	{ CONF("{" G1 ", 'key_server': {'group_id': '" GID "'}}", ", " GKM("")), KP ".address: "
		"expected an IPv4 or IPv6 address, got nothing" },
	{ KCONFA("239.1.1.1"), KP ".address: " KSNOT "\"239.1.1.1\"" },
	{ KCONFA("ff3e::1"), KP ".address: " KSNOT "\"ff3e::1\"" },
	{ KCONFA("0.0.0.0"), KP ".address: " KSNOT "\"0.0.0.0\"" },
	{ KCONFA("::"), KP ".address: " KSNOT "\"::\"" },
	{ KCONFA("255.255.255.255"), KP ".address: " KSNOT "\"255.255.255.255\"" },
	{ KCONFA("10.0.0.0/8"), KP ".address: expected an IPv4 or IPv6 address, got "
		"\"10.0.0.0/8\"" },
	{ KCONFA("gcks.example.net"), KP ".address: expected an IPv4 or IPv6 address, got "
		"\"gcks.example.net\"" },
	{ CONF("{" G1 ", 'key_server': {'address': 167772161, 'group_id': '" GID "'}}",
		", " GKM("")), KP ".address: expected an IPv4 or IPv6 address, got an integer" },
	{ KCONF(", 'port': 0"), KP ".port: expected an integer in 1..65535, got 0" },
	{ KCONF(", 'port': 65536"), KP ".port: expected an integer in 1..65535, got 65536" },
	{ KCONF(", 'port': '3761'"), KP ".port: expected an integer in 1..65535, got a string" },
	/* group_id: the token's 8 octets, exactly 16 hex digits */
	{ KCONFG(""), KP ".group_id: " GIDX "nothing" },
	{ KCONFG(", 'group_id': '5f2c8a0e91d34b7'"), KP ".group_id: " GIDX "\"5f2c8a0e91d34b7\" "
		"(15 digits)" },
	{ KCONFG(", 'group_id': '5f2c8a0e91d34b770'"), KP ".group_id: " GIDX
		"\"5f2c8a0e91d34b770\" (17 digits)" },
	{ KCONFG(", 'group_id': ''"), KP ".group_id: " GIDX "\"\" (0 digits)" },
	{ KCONFG(", 'group_id': '5f2c8a0e91d34b7g'"), KP ".group_id: " GIDX
		"\"5f2c8a0e91d34b7g\" (a non-hex character at position 16)" },
	{ KCONFG(", 'group_id': '0x5f2c8a0e91d34b'"), KP ".group_id: " GIDX
		"\"0x5f2c8a0e91d34b\" (a non-hex character at position 2)" },
	{ KCONFG(", 'group_id': '5f2c 8a0e91d34b77'"), KP ".group_id: " GIDX
		"\"5f2c 8a0e91d34b77\" (a non-hex character at position 5)" },
	{ KCONFG(", 'group_id': 6858411455318940535"), KP ".group_id: " GIDX "an integer" },
	/* where Rekey Events are multicast */
	{ KCONF(", 'rekey_address': '10.0.0.9'"), KP ".rekey_address: expected a multicast "
		"address (224.0.0.0/4 or ff00::/8) where the key server sends Rekey Events, got "
		"\"10.0.0.9\"" },
	{ KCONF(", 'rekey_address': '2001:db8::9'"), KP ".rekey_address: expected a multicast "
		"address (224.0.0.0/4 or ff00::/8) where the key server sends Rekey Events, got "
		"\"2001:db8::9\"" },
	{ KCONF(", 'rekey_address': 'all-gcks'"), KP ".rekey_address: expected an IPv4 or IPv6 "
		"address, got \"all-gcks\"" },
	{ KCONF(", 'rekey_address': null"), KP ".rekey_address: expected an IPv4 or IPv6 "
		"address, got null" },
	{ KCONF(", 'rekey_port': 3762"), KP ".rekey_port: expected only with a "
		"\"rekey_address\" (unicast Rekey Events come to gkm.listen.port), got it without "
		"one" },
	{ KCONF(", 'rekey_address': '239.192.0.1', 'rekey_port': 0"), KP ".rekey_port: "
		"expected an integer in 1..65535, got 0" },
	{ KCONF(", 'rekey_address': '239.192.0.1', 'rekey_port': 65536"), KP ".rekey_port: "
		"expected an integer in 1..65535, got 65536" },
	/* sender IDs to ask for, and what happens before keys arrive */
	{ KCONF(", 'sids': 65"), KP ".sids: " SIDSX "65" },
	{ KCONF(", 'sids': -1"), KP ".sids: " SIDSX "-1" },
	{ KCONF(", 'sids': '2'"), KP ".sids: " SIDSX "\"2\"" },
	{ KCONF(", 'sids': [1, 2]"), KP ".sids: " SIDSX "an array" },
	{ KCONF(", 'sids': 1.0"), KP ".sids: " SIDSX "a real number" },
	{ KCONF(", 'fail': 'drop'"), KP ".fail: expected \"close\" or \"open\", got \"drop\"" },
	{ KCONF(", 'fail': true"), KP ".fail: expected \"close\" or \"open\", got true" },
	/* "gkm": the member's identity and trust anchors */
	{ CONF(KGROUP(""), ", 'gkm': 5"), "t.json: gkm: expected an object, got an integer" },
	{ GCONFX("'cert': 'x'"), "t.json: gkm.cert: expected one of the keys identity, trust, "
		"listen, interface, got an unknown key" },
	{ GCONF(GKMT), "t.json: gkm.identity: expected an object with \"key\" and \"cert\" "
		"(this gateway's signing key and certificate), got nothing" },
	{ GCONF("'identity': 'pki/gw-1.key', " GKMT), "t.json: gkm.identity: expected an object "
		"with \"key\" and \"cert\" (this gateway's signing key and certificate), got a "
		"string" },
	{ GCONF("'identity': {'key': 'k', 'cert': 'c', 'password': 'x'}, " GKMT), "t.json: "
		"gkm.identity.password: expected one of the keys key, cert, got an unknown key" },
	{ GCONF("'identity': {'cert': 'c'}, " GKMT), "t.json: gkm.identity.key: " FPATH
		"nothing" },
	{ GCONF("'identity': {'key': 'k'}, " GKMT), "t.json: gkm.identity.cert: " FPATH
		"nothing" },
	{ GCONF("'identity': {'key': '', 'cert': 'c'}, " GKMT), "t.json: gkm.identity.key: "
		FPATH "\"\"" },
	{ GCONF("'identity': {'key': 'k', 'cert': 7}, " GKMT), "t.json: gkm.identity.cert: "
		FPATH "an integer" },
	{ GCONF("'identity': {'key': 'pki/\\tgw-1.key', 'cert': 'c'}, " GKMT), "t.json: "
		"gkm.identity.key: expected a file path (a non-empty string without control "
		"characters), got one with a control character at position 5" },
	{ GCONF(GKMI), "t.json: gkm.trust: expected an object with \"gcks_ca\" and "
		"\"group_owner_ca\" (the CA certificates of key servers and of the Group Owner), "
		"got nothing" },
	{ GCONF(GKMI ", 'trust': []"), "t.json: gkm.trust: expected an object with \"gcks_ca\" "
		"and \"group_owner_ca\" (the CA certificates of key servers and of the Group "
		"Owner), got an array" },
	{ GCONF(GKMI ", 'trust': {'members_ca': 'x', 'gcks_ca': 'a', 'group_owner_ca': 'b'}"),
		"t.json: gkm.trust.members_ca: expected one of the keys gcks_ca, group_owner_ca, "
		"got an unknown key" },
	{ GCONF(GKMI ", 'trust': {'gcks_ca': 'a'}"), "t.json: gkm.trust.group_owner_ca: " FPATH
		"nothing" },
	{ GCONF(GKMI ", 'trust': {'group_owner_ca': 'b'}"), "t.json: gkm.trust.gcks_ca: " FPATH
		"nothing" },
	{ GCONF(GKMI ", 'trust': {'gcks_ca': false, 'group_owner_ca': 'b'}"), "t.json: "
		"gkm.trust.gcks_ca: " FPATH "false" },
	{ GCONFX("'listen': 3761"), "t.json: gkm.listen: expected an object, got an integer" },
	{ GCONFX("'listen': {'addr': '10.0.0.2'}"), "t.json: gkm.listen.addr: expected one of "
		"the keys address, port, got an unknown key" },
	{ GCONFX("'listen': {'address': '224.0.0.1'}"), "t.json: gkm.listen.address: expected a "
		"unicast address of this host or 0.0.0.0 or :: (any), got \"224.0.0.1\"" },
	{ GCONFX("'listen': {'address': '255.255.255.255'}"), "t.json: gkm.listen.address: "
		"expected a unicast address of this host or 0.0.0.0 or :: (any), got "
		"\"255.255.255.255\"" },
	{ GCONFX("'listen': {'address': 'eth0'}"), "t.json: gkm.listen.address: expected an "
		"IPv4 or IPv6 address, got \"eth0\"" },
	{ GCONFX("'listen': {'port': 0}"), "t.json: gkm.listen.port: expected an integer in "
		"1..65535, got 0" },
	{ GCONFX("'listen': {'address': '10.0.0.2', 'port': 65536}"), "t.json: gkm.listen.port: "
		"expected an integer in 1..65535, got 65536" },
	{ GCONFX("'interface': '0.0.0.0'"), "t.json: gkm.interface: " IFNOT "\"0.0.0.0\"" },
	{ GCONFX("'interface': '::'"), "t.json: gkm.interface: " IFNOT "\"::\"" },
	{ GCONFX("'interface': 'ff02::1'"), "t.json: gkm.interface: " IFNOT "\"ff02::1\"" },
	{ GCONFX("'interface': 'eth0'"), "t.json: gkm.interface: expected an IPv4 or IPv6 "
		"address, got \"eth0\"" },
	{ GCONFX("'interface': ['10.0.0.2']"), "t.json: gkm.interface: expected an IPv4 or IPv6 "
		"address, got an array" },
	{ CONF(KGROUP(""), ", 'gkm': {'identity': {'key': '/" A50 A50 A50 A50 A50 A50 A50 A50 "', "
		"'cert': 7}, " GKMT "}"), "t.json: gkm.identity.cert: " FPATH "an integer" },
	/* a key server's group is still a group: address, source and ports as ever */
	{ CONF("{'name': 'k', 'address': '10.1.1.1', " KS("") "}", ", " GKM("")), "t.json: "
		"groups[0].address: expected a multicast address (224.0.0.0/4 or ff00::/8), got "
		"\"10.1.1.1\"" },
	{ CONF("{'name': 'k', 'address': '232.1.1.1', 'source': '2001:db8::1', " KS("") "}",
		", " GKM("")), "t.json: groups[0].source: expected an IPv4 source address like the "
		"group address, got \"2001:db8::1\"" },
	{ CONF("{'name': 'k', 'address': '232.1.1.1', 'unprotected_port': 'p', " KS("") "}",
		", " GKM("")), "t.json: groups[0].unprotected_port: expected the name of an "
		"unprotected port, got \"p\", a port of the other role" },
	{ CONF(KGROUP("") ", " KGROUP(""), ", " GKM("")), "t.json: groups[1].name: expected a "
		"name unique among groups, got \"k\" (also groups[0])" },
	{ CONF(KGROUP("") ", {'name': 'k2', 'address': '232.1.1.1', 'source': '192.0.2.10', "
		KS("") "}", ", " GKM("")), "t.json: groups[1].address: expected an (address, "
		"source) pair unique among groups, got (232.1.1.1, 192.0.2.10) (also groups[0])" },
	{ CONF(KGROUP(""), ", " GKM("") ", 'policies': [{'group': '232.1.1.1', 'action': "
		"'protect', 'protect_group': 'k'}]"), "t.json: policies[0].source: expected "
		"192.0.2.10, the source of SSM protect_group \"k\", got nothing" },

	/* syntax: file:line:column, and no jansson "near" text that could quote a key */
	{ "{\n  'ports': [,\n}", "t.json:2:13: unexpected token" },
	{ "{'ports': [], 'ports': []}", "t.json:1:21: duplicate object key" },
	{ "{'ports': [1e999]}", "t.json:1:16: real number overflow" },
	{ "{} x", "t.json:1:4: end of file expected" },
	{ CONF1(SAK("'suite': 'aes-gcm-128', 'key': '000102030405\\q'")), "t.json:1:" },
	{ "", "t.json: expected a JSON object, got an empty file" },
	{ " \n\t\r\n", "t.json: expected a JSON object, got an empty file" },
};

START_TEST(bad_config)
{
	const struct bad_case *b = &bad[_i];
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = (struct gwconf *)&err;   /* must be reset to NULL */
	int rc;

	memset(err, 'x', sizeof(err));
	rc = load(b->json, &c, err);
	ck_assert_msg(rc == -EINVAL, "case %d: rc %d, want -EINVAL (%s)", _i, rc,
			rc == 0 ? "accepted" : err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, b->want, strlen(b->want)) == 0,
			"case %d:\n got  \"%s\"\n want \"%s...\"", _i, err, b->want);
	ck_assert_msg(strchr(err, '\n') == NULL, "case %d: message spans lines", _i);
	/* never key material, whatever went wrong */
	ck_assert_msg(strstr(err, "0405060708") == NULL && strstr(err, "000102") == NULL &&
			!quotes_secret(err, CKEY), "case %d: message quotes key material: %s", _i,
			err);
}
END_TEST

/* ------------------------------------------------------------------ files */

START_TEST(missing_file)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = (struct gwconf *)&err;

	ck_assert_int_eq(gwconf_load_file("/nonexistent/gw.json", &c, err), -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "/nonexistent/gw.json: cannot open: No such file or directory");
	ck_assert_int_eq(gwconf_load_file("/", &c, err), -EISDIR);
	ck_assert_str_eq(err, "/: cannot read: Is a directory");
}
END_TEST

START_TEST(file_errors_name_the_file)
{
	char path[] = "/tmp/gwconf-test-XXXXXX", err[GWCONF_ERR_MAX], want[600];
	struct gwconf *c = NULL;
	char *text = dq(CONF1(SAK("'suite': 'aes-gcm-128', 'key': '00'")));
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(gwconf_load_file(path, &c, err), -EINVAL);
	snprintf(want, sizeof(want), "%s: groups[0].sas[0].key: expected 40 hex digits (16-byte "
			"key + 4-byte salt), got 2", path);
	ck_assert_str_eq(err, want);
	free(text);

	/* the same file, fixed, loads and remembers its name */
	text = dq(CONF1(SA1));
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_msg(gwconf_load_file(path, &c, err) == 0, "%s", err);
	ck_assert_str_eq(c->file, path);
	gwconf_free(c);

	/* empty file */
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	ck_assert_int_eq(gwconf_load_file(path, &c, err), -EINVAL);
	snprintf(want, sizeof(want), "%s: expected a JSON object, got an empty file", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	free(text);
}
END_TEST

/* ------------------------------------------------------------------ msecctl SA files */

START_TEST(sa_json)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	struct gwconf_sa sa;
	uint8_t k[20];
	int g = 99;

	ck_assert_msg(load(CONF(GROUP(SA1) ", {'name': 'h', 'address': 'ff3e::5', 'sas': [" SA1
			"]}", ""), &c, err) == 0, "%s", err);
	/* same keys as groups[].sas[] plus "group"; "replaces" is checked at run time by gsad */
	ck_assert_msg(load_sa(c, "{'group': 'h', 'spi': '0x2000', 'direction': 'symmetric', "
			S128 ", 'sids': [1, 2], 'replaces': 4096, 'activation_delay_ms': 100, "
			"'deactivation_delay_ms': 200}", &sa, &g, err) == 0, "%s", err);
	ck_assert_int_eq(g, 1);
	ck_assert_uint_eq(sa.spi, 0x2000);
	ck_assert_int_eq(sa.dir, GWCONF_DIR_SYMMETRIC);
	ck_assert_uint_eq(sa.nb_sids, 2);
	ck_assert(sa.has_replaces);
	ck_assert_uint_eq(sa.replaces, 4096);
	ck_assert_uint_eq(sa.deactivation_delay_ms, 200);
	ck_assert_uint_eq(sa.replay_window, 1024);
	ck_assert(sa.esn);
	ck_assert_int_eq(test_hex(K128, k, sizeof(k)), 20);
	ck_assert_mem_eq(sa.keymat, k, 20);
	/* replacing the SPI of an SA that only exists at run time is not the parser's business */
	ck_assert_msg(load_sa(c, "{'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128
			", 'replaces': 999999}", &sa, &g, err) == 0, "%s", err);
	ck_assert_int_eq(g, 0);
	gwconf_free(c);
}
END_TEST

static const struct bad_case bad_sa[] = {
	{ "{'spi': 4096, 'direction': 'receiver', " S128 "}", "sa.json: group: expected the name "
		"of a configured group, got nothing" },
	{ "{'group': 'nope', 'spi': 4096, 'direction': 'receiver', " S128 "}", "sa.json: group: "
		"expected the name of a configured group, got \"nope\" (no such group)" },
	{ "{'group': 3, 'spi': 4096, 'direction': 'receiver', " S128 "}", "sa.json: group: "
		"expected the name of a configured group, got an integer" },
	{ "{'op': 'add', 'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128 "}",
		"sa.json: op: expected one of the keys spi, direction, suite, key, auth_key, "
		"sid_bits, sids, replay_window, esn, lifetime, activation_delay_ms, deactivation_delay_ms, ttl, "
		"dscp, replaces, tesla, group, got an unknown key" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', 'suite': 'aes-gcm-128', 'key': "
		"'000102030405060708090a0b0c0d0e0f101112'}", "sa.json: key: expected 40 hex digits "
		"(16-byte key + 4-byte salt), got 38" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'sender', " S128 "}", "sa.json: sids: "
		"expected an array of 1..64 sender IDs (one per sending worker) for a \"sender\" "
		"SA, got nothing" },
	/* the key is valid and decoded before this error: the result must be wiped */
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128 ", 'ttl': 0}",
		"sa.json: ttl: expected \"copy\" or an integer in 1..255, got 0" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128 ", 'replaces': 4096}",
		"sa.json: replaces: expected the SPI of another SA, got this SA's own SPI "
		"0x00001000" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128 ", 'replaces': 8192, "
		"'activation_delay_ms': 9, 'deactivation_delay_ms': 8}", "sa.json: "
		"deactivation_delay_ms: expected at least activation_delay_ms (9), got 8" },
	/* TESLA: the same parser, paths from the top; the chain key is decoded, then wiped */
	{ "{'group': 'g', 'spi': 4096, 'direction': 'sender', 'suite': 'aes-gcm-128+tesla', "
		"'key': '" K128 "', 'sids': [0], 'tesla': {" T0 ", 'chain_key': '" CKEY "', "
		"'fail': 'x'}}", "sa.json: tesla.fail: expected \"close\" or \"open\", got \"x\"" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128 ", 'tesla': {" T0 "}}",
		"sa.json: tesla: expected no \"tesla\" object with suite \"aes-gcm-128\" (add "
		"\"+tesla\" to the suite to use TESLA: \"aes-gcm-128+tesla\"), got an object" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', 'suite': 'aes-gcm-128+tesla', "
		"'key': '" K128 "', 'tesla': {" T0 "}}", "sa.json: tesla.senders: expected an "
		"array of 1..8 TESLA senders (whose chains a \"receiver\" SA verifies), got "
		"nothing" },
	{ "{'group': 'g', 'spi': 4096, 'direction': 'receiver', 'suite': 'aes-gcm-128+tesla', "
		"'key': '" K128 "', 'tesla': {" T0 ", 'senders': [{'sids': [1, 1], 'commitment': '"
		CMT "'}]}}", "sa.json: tesla.senders[0].sids[1]: expected sender IDs unique among "
		"the SA's TESLA senders, got 1 again (also sids[0])" },
	{ "[1]", "sa.json: expected a JSON object at the top level, got an array" },
	{ "{'group': 'g',", "sa.json:1:" },
	{ "", "sa.json: expected a JSON object, got an empty file" },
};

START_TEST(bad_sa_json)
{
	static const uint8_t zero[sizeof(struct gwconf_sa)];
	const struct bad_case *b = &bad_sa[_i];
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	struct gwconf_sa sa;
	int g = 99;

	ck_assert_msg(load(CONF1(SA1), &c, err) == 0, "%s", err);
	memset(&sa, 0x5a, sizeof(sa));
	ck_assert_int_eq(load_sa(c, b->json, &sa, &g, err), -EINVAL);
	ck_assert_msg(strncmp(err, b->want, strlen(b->want)) == 0,
			"case %d:\n got  \"%s\"\n want \"%s...\"", _i, err, b->want);
	ck_assert_int_eq(g, -1);
	ck_assert_msg(memcmp(&sa, zero, sizeof(sa)) == 0, "case %d: SA not wiped", _i);
	ck_assert(strstr(err, "0405060708") == NULL && !quotes_secret(err, CKEY));
	gwconf_free(c);
}
END_TEST

/* msecctl SA files with TESLA: the group decides whether a sending SA may have TESLA. */
START_TEST(tesla_sa_json)
{
	static const uint8_t zero[sizeof(struct gwconf_sa)];
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	struct gwconf_sa sa;
	uint8_t k[GWCONF_TESLA_KEY_LEN];
	int g = 99;

	ck_assert_msg(load(CONF(GROUP(SA1) ", {'name': 'asm', 'address': '239.1.1.1', 'sas': ["
			SA1 "]}", ""), &c, err) == 0, "%s", err);
	ck_assert_msg(load_sa(c, "{'group': 'g', 'spi': 8192, 'direction': 'sender', 'suite': "
			"'aes-gmac-128+tesla', 'key': '" K128 "', 'sids': [3], 'tesla': {" T0 ", "
			"'delay': 3, 'chain_key': '" CKEY "'}}", &sa, &g, err) == 0, "%s", err);
	ck_assert_int_eq(g, 0);
	ck_assert(sa.tesla);
	ck_assert_int_eq(sa.suite, MCRYPTO_SUITE_AES_GMAC_128);
	ck_assert_uint_eq(sa.tl.d, 3);
	ck_assert_uint_eq(sa.tl.lastkey, 3);
	ck_assert(sa.tl.has_chain_key);
	ck_assert_int_eq(test_hex(CKEY, k, sizeof(k)), GWCONF_TESLA_KEY_LEN);
	ck_assert_mem_eq(sa.tl.chain_key, k, sizeof(k));
	/* receiving needs no source */
	ck_assert_msg(load_sa(c, "{'group': 'asm', 'spi': 8192, 'direction': 'receiver', 'suite': "
			"'aes-gcm-128+tesla', 'key': '" K128 "', 'tesla': {" T0 ", 'senders': ["
			SND1 "]}}", &sa, &g, err) == 0, "%s", err);
	ck_assert_int_eq(g, 1);
	ck_assert_uint_eq(sa.tl.nb_senders, 1);
	/* sending does: the SA, chain key included, is wiped */
	ck_assert_int_eq(load_sa(c, "{'group': 'asm', 'spi': 8192, 'direction': 'symmetric', "
			"'suite': 'aes-gcm-128+tesla', 'key': '" K128 "', 'sids': [1], "
			"'tesla': {" T0 ", 'chain_key': '" CKEY "', 'senders': [" SND1 "]}}", &sa,
			&g, err), -EINVAL);
	ck_assert_str_eq(err, "sa.json: tesla: expected a sending TESLA SA only in a group with "
			"a \"source\" (key beacons have no inner packet to copy addresses from and "
			"are sent from the group's source), got one in group \"asm\", which has "
			"none");
	ck_assert_int_eq(g, -1);
	ck_assert(memcmp(&sa, zero, sizeof(sa)) == 0);
	gwconf_free(c);
}
END_TEST

START_TEST(sa_json_without_conf)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf_sa sa;
	int g;
	char *j = dq("{'group': 'g', 'spi': 4096, 'direction': 'receiver', " S128 "}");

	ck_assert_int_eq(gwconf_parse_sa_json(NULL, NULL, j, strlen(j), &sa, &g, err), -EINVAL);
	ck_assert_str_eq(err, "<sa>: group: expected the name of a configured group, got \"g\" "
			"(no such group)");
	free(j);
}
END_TEST

/* ------------------------------------------------------------------ small things */

START_TEST(addr_str)
{
	struct gwconf_addr a;
	char buf[64], tiny[4];

	memset(&a, 0, sizeof(a));
	ck_assert_str_eq(gwconf_addr_str(&a, buf, sizeof(buf)), "*");
	ck_assert_str_eq(gwconf_addr_str(NULL, buf, sizeof(buf)), "*");
	a.family = AF_INET;
	inet_pton(AF_INET, "239.1.2.3", a.a);
	ck_assert_str_eq(gwconf_addr_str(&a, buf, sizeof(buf)), "239.1.2.3");
	ck_assert_str_eq(gwconf_addr_str(&a, tiny, sizeof(tiny)), "?");
	a.family = AF_INET6;
	inet_pton(AF_INET6, "ff3e::1:1", a.a);
	ck_assert_str_eq(gwconf_addr_str(&a, buf, sizeof(buf)), "ff3e::1:1");
	a.family = 99;
	ck_assert_str_eq(gwconf_addr_str(&a, buf, sizeof(buf)), "?");
}
END_TEST

START_TEST(free_and_wipe)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;

	gwconf_free(NULL);
	ck_assert_msg(load(CONF1(SA1 ", " SAR(4097, "")), &c, err) == 0, "%s", err);
	ck_assert_uint_eq(c->groups[0].sas[1].keymat_len, 20);
	gwconf_free(c);
	/* an error after SAs were decoded frees (and wipes) the partial result */
	ck_assert_int_eq(load(CONF(GROUP(SA1) ", {'name': 'h', 'address': 'ff3e::1', 'sas': ["
			SA1 ", 7]}", ""), &c, err), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.json: groups[1].sas[1]: expected an object, got an integer");
}
END_TEST

/* ------------------------------------------------------------------ TESLA */

/* A sending SA with every key a sender uses, symmetric so that it also verifies two senders. */
START_TEST(tesla_all_keys)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;
	const struct gwconf_sa *sa;
	const struct gwconf_tesla *tl;
	uint8_t k[GWCONF_TESLA_KEY_LEN];

	ck_assert_msg(load(CONF1("{'spi': 4096, 'direction': 'symmetric', 'suite': "
			"'aes-gcm-256+tesla', 'key': '" K256 "', 'sid_bits': 12, 'sids': [1, 2], "
			"'tesla': {'t0_ms': 1700000000123, 'interval_ms': 100, 'delay': 3, "
			"'chain_length': 864000, 'mac': 'aes-gmac-128', 'max_walk': 100, "
			"'commitment_window': 100, 'last_key_window': 3, "
			"'chain_key': '0x" CKEY "', "
			"'senders': [{'sids': [3, 4095], 'chain': 4970, 'commitment': '" CMT "', "
			"'clock_bound_ms': 25.5}, {'sids': [5], 'commitment': '" CMT2 "', "
			"'clock_bound_ms': -299.999999}], 'bucket_bytes': 1073741824, "
			"'bucket_packets': 16, 'copy_max': 0, 'fail': 'open'}}"), &c, err) == 0,
			"%s", err);
	sa = &c->groups[0].sas[0];
	tl = &sa->tl;
	ck_assert(sa->tesla);
	ck_assert_int_eq(sa->suite, MCRYPTO_SUITE_AES_GCM_256);
	ck_assert_uint_eq(sa->keymat_len, 36);
	ck_assert_uint_eq(tl->t0_ns, UINT64_C(1700000000123000000));
	ck_assert_uint_eq(tl->interval_ns, UINT64_C(100000000));
	ck_assert_uint_eq(tl->d, 3);
	ck_assert_uint_eq(tl->chain_length, 864000);
	ck_assert_int_eq(tl->mac, MCRYPTO_MAC_AES_GMAC_128);
	ck_assert_uint_eq(tl->max_walk, 100);
	ck_assert_uint_eq(tl->newkcc, 100);
	ck_assert_uint_eq(tl->lastkey, 3);
	ck_assert(tl->has_chain_key);
	ck_assert_int_eq(test_hex(CKEY, k, sizeof(k)), GWCONF_TESLA_KEY_LEN);
	ck_assert_mem_eq(tl->chain_key, k, sizeof(k));
	ck_assert_uint_eq(tl->nb_senders, 2);
	ck_assert_uint_eq(tl->senders[0].nb_sids, 2);
	ck_assert_uint_eq(tl->senders[0].sids[0], 3);
	ck_assert_uint_eq(tl->senders[0].sids[1], 4095);
	/* the last chain whose first index fits 32 bits: 4970 * 864000 <= 2^32 - 1 */
	ck_assert_uint_eq(tl->senders[0].chain, 4970);
	ck_assert_int_eq(test_hex(CMT, k, sizeof(k)), GWCONF_TESLA_KEY_LEN);
	ck_assert_mem_eq(tl->senders[0].commitment, k, sizeof(k));
	ck_assert(tl->senders[0].has_clock_bound);
	ck_assert_int_eq(tl->senders[0].clock_bound_ns, 25500000);
	ck_assert_uint_eq(tl->senders[1].nb_sids, 1);
	ck_assert_uint_eq(tl->senders[1].chain, 0);
	ck_assert_int_eq(test_hex(CMT2, k, sizeof(k)), GWCONF_TESLA_KEY_LEN);
	ck_assert_mem_eq(tl->senders[1].commitment, k, sizeof(k));
	ck_assert_int_eq(tl->senders[1].clock_bound_ns, -299999999);
	ck_assert_uint_eq(tl->bucket_bytes, 1u << 30);
	ck_assert_uint_eq(tl->bucket_packets, 16);
	ck_assert_uint_eq(tl->copy_max, 0);
	ck_assert(tl->fail_open);
	gwconf_free(c);

	/* a sender-only SA: everything but "senders" */
	ck_assert_msg(load(CONF1(TSA(", 'delay': 255, 'chain_length': 16777216, 'mac': "
			"'hmac-sha256-128', 'max_walk': 16777216, 'commitment_window': 16776960, "
			"'last_key_window': 1, 'chain_key': '" CKEY "', 'bucket_bytes': 4096, "
			"'bucket_packets': 4194304, 'copy_max': 2048, 'fail': 'close'")), &c,
			err) == 0, "%s", err);
	tl = &c->groups[0].sas[0].tl;
	ck_assert_uint_eq(tl->t0_ns, UINT64_C(1700000000000000000));
	ck_assert_uint_eq(tl->interval_ns, 10000000);
	ck_assert_uint_eq(tl->d, 255);
	ck_assert_uint_eq(tl->chain_length, 1u << 24);
	ck_assert_int_eq(tl->mac, MCRYPTO_MAC_HMAC_SHA256_128);
	ck_assert_uint_eq(tl->max_walk, 1u << 24);
	ck_assert_uint_eq(tl->newkcc, (1u << 24) - 256);
	ck_assert_uint_eq(tl->lastkey, 1);
	ck_assert(tl->has_chain_key);
	ck_assert_uint_eq(tl->nb_senders, 0);
	ck_assert_uint_eq(tl->bucket_bytes, 4096);
	ck_assert_uint_eq(tl->bucket_packets, 1u << 22);
	ck_assert_uint_eq(tl->copy_max, 2048);
	ck_assert(!tl->fail_open);
	/* a sending group still gets its implicit protect rule */
	ck_assert_uint_eq(c->nb_policies, 1);
	gwconf_free(c);

	/* a receiver with every key a receiver uses, in an ASM group: only senders need S */
	ck_assert_msg(load(CONF("{'name': 'g', 'address': '239.1.1.1', 'sas': [" TRX("{'sids': "
			"[0, 1], 'chain': 3, 'commitment': '" CMT "', 'clock_bound_ms': 0}",
			", 'delay': 4, 'chain_length': 3600, 'mac': 'aes-gmac-128', "
			"'max_walk': 50, 'commitment_window': 60, 'last_key_window': 4, "
			"'bucket_bytes': 65536, 'bucket_packets': 256, 'copy_max': 256, "
			"'fail': 'close'") "]}", ""), &c, err) == 0, "%s", err);
	tl = &c->groups[0].sas[0].tl;
	ck_assert_uint_eq(tl->d, 4);
	ck_assert_uint_eq(tl->chain_length, 3600);
	ck_assert_uint_eq(tl->max_walk, 50);
	ck_assert_uint_eq(tl->newkcc, 60);
	ck_assert_uint_eq(tl->lastkey, 4);
	ck_assert(!tl->has_chain_key);
	ck_assert_uint_eq(tl->nb_senders, 1);
	ck_assert_uint_eq(tl->senders[0].chain, 3);
	ck_assert(tl->senders[0].has_clock_bound);
	ck_assert_int_eq(tl->senders[0].clock_bound_ns, 0);
	ck_assert_uint_eq(tl->bucket_bytes, 65536);
	ck_assert_uint_eq(tl->bucket_packets, 256);
	ck_assert_uint_eq(tl->copy_max, 256);
	ck_assert_uint_eq(c->nb_policies, 0);
	gwconf_free(c);
}
END_TEST

START_TEST(tesla_defaults)
{
	static const struct {
		const char *extra;
		uint32_t d, chain_length, max_walk, lastkey, newkcc;
	} want[] = {
		{ "", 2, 360000, 500, 2, 500 },
		/* short chains: max_walk is the chain, the commitment window what is left */
		{ ", 'chain_length': 300", 2, 300, 300, 2, 296 },
		{ ", 'chain_length': 5", 2, 5, 5, 2, 1 },
		{ ", 'chain_length': 4, 'last_key_window': 1", 2, 4, 4, 1, 1 },
		/* last_key_window follows the delay */
		{ ", 'delay': 7, 'chain_length': 510", 7, 510, 500, 7, 496 },
		{ ", 'delay': 7, 'last_key_window': 1", 7, 360000, 500, 1, 500 },
	};
	char err[GWCONF_ERR_MAX];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char json[2048];
		struct gwconf *c = NULL;
		const struct gwconf_tesla *tl;

		snprintf(json, sizeof(json), CONF1(TRX1("%s")), want[i].extra);
		ck_assert_msg(load(json, &c, err) == 0, "case %zu: %s", i, err);
		tl = &c->groups[0].sas[0].tl;
		ck_assert_uint_eq(tl->d, want[i].d);
		ck_assert_uint_eq(tl->chain_length, want[i].chain_length);
		ck_assert_uint_eq(tl->max_walk, want[i].max_walk);
		ck_assert_uint_eq(tl->lastkey, want[i].lastkey);
		ck_assert_uint_eq(tl->newkcc, want[i].newkcc);
		ck_assert_int_eq(tl->mac, MCRYPTO_MAC_HMAC_SHA256_128);
		ck_assert(!tl->has_chain_key);
		ck_assert_uint_eq(tl->bucket_bytes, 1u << 20);
		ck_assert_uint_eq(tl->bucket_packets, 4096);
		ck_assert_uint_eq(tl->copy_max, 512);
		ck_assert(!tl->fail_open);
		ck_assert_uint_eq(tl->nb_senders, 1);
		ck_assert_uint_eq(tl->senders[0].nb_sids, 1);
		ck_assert_uint_eq(tl->senders[0].sids[0], 7);
		ck_assert_uint_eq(tl->senders[0].chain, 0);
		ck_assert(!tl->senders[0].has_clock_bound);
		ck_assert_uint_eq(tl->t0_ns, UINT64_C(1700000000000000000));
		ck_assert_uint_eq(tl->interval_ns, 10000000);
		gwconf_free(c);
	}
}
END_TEST

/* "+tesla" on every suite; null-hmac-sha256-128 has one sender, SID 0. */
START_TEST(tesla_every_suite)
{
	static const struct {
		const char *suite, *keys;
		enum mcrypto_suite want;
		bool iv;
	} s[] = {
		{ "aes-gcm-128", "'key': '" K128 "'", MCRYPTO_SUITE_AES_GCM_128, true },
		{ "aes-gcm-256", "'key': '" K256 "'", MCRYPTO_SUITE_AES_GCM_256, true },
		{ "aes-gmac-128", "'key': '" K128 "'", MCRYPTO_SUITE_AES_GMAC_128, true },
		{ "aes-ctr-128-hmac-sha256-128", "'key': '" K128 "', 'auth_key': '" KAUTH "'",
			MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256, true },
		{ "null-hmac-sha256-128", "'auth_key': '" KAUTH "'", MCRYPTO_SUITE_NULL_HMAC_SHA256,
			false },
	};
	char err[GWCONF_ERR_MAX];

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		char json[4096];
		struct gwconf *c = NULL;
		const struct gwconf_group *g;

		/* a sending (4096) and a receiving (4097) TESLA SA, and a plain one (4098) */
		snprintf(json, sizeof(json), "{" PORTS ", 'groups': [{" G1 ", 'sas': ["
				"{'spi': 4096, 'direction': 'sender', 'suite': '%s+tesla', %s, "
				"'sids': [0], 'tesla': {" T0 ", 'mac': '%s'}}, "
				"{'spi': 4097, 'direction': 'receiver', 'suite': '%s+tesla', %s, "
				"'tesla': {" T0 ", 'senders': [{'sids': [0], "
				"'commitment': '" CMT "'}]}}, "
				"{'spi': 4098, 'direction': 'receiver', 'suite': '%s', %s}]}]}",
				s[i].suite, s[i].keys, s[i].iv ? "aes-gmac-128" : "hmac-sha256-128",
				s[i].suite, s[i].keys, s[i].suite, s[i].keys);
		ck_assert_msg(load(json, &c, err) == 0, "%s: %s", s[i].suite, err);
		g = &c->groups[0];
		for (int j = 0; j < 3; j++) {
			ck_assert_int_eq(g->sas[j].suite, s[i].want);
			ck_assert_uint_eq(g->sas[j].keymat_len,
					mcrypto_keymat_len(mcrypto_suite_info(s[i].want)));
			ck_assert(g->sas[j].tesla == (j < 2));
		}
		ck_assert_int_eq(g->sas[0].tl.mac, s[i].iv ? MCRYPTO_MAC_AES_GMAC_128 :
				MCRYPTO_MAC_HMAC_SHA256_128);
		ck_assert_uint_eq(g->sas[1].tl.nb_senders, 1);
		/* the plain SA keeps a zeroed TESLA record */
		ck_assert_uint_eq(g->sas[2].tl.interval_ns, 0);
		gwconf_free(c);
	}
}
END_TEST

/* No error message quotes the chain key, whatever goes wrong around it. */
START_TEST(tesla_chain_key_never_quoted)
{
	static const char *const cases[] = {
		CONF1(TSA(", 'chain_key': '" CKEY "0'")),
		CONF1(TSA(", 'chain_key': '" CKEY "q'")),
		CONF1(TSA(", 'chain_key': 'q" CKEY "'")),
		CONF1(TSA(", 'chain_key': ['" CKEY "']")),
		CONF1(TRX1(", 'chain_key': '" CKEY "'")),
		/* decoded, then something later fails */
		CONF1(TSA(", 'chain_key': '" CKEY "', 'fail': 'x'")),
		CONF1(TSA(", 'chain_key': '" CKEY "', 'senders': []")),
		CONF1(TSA(", 'chain_key': '" CKEY "'") ", " SA1),
		CONF("{'name': 'g', 'address': '239.1.1.1', 'sas': ["
			TSA(", 'chain_key': '" CKEY "'") "]}", ""),
		/* a chain key where a commitment, a SID or a suite goes */
		CONF1(TRX("{'sids': [1], 'commitment': '" CKEY "0'}", "")),
		CONF1(TRX("{'sids': [1], 'commitment': 'x" CKEY "'}", "")),
	};
	char err[GWCONF_ERR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gwconf *c = NULL;

		ck_assert_int_eq(load(cases[i], &c, err), -EINVAL);
		ck_assert_ptr_null(c);
		ck_assert_msg(!quotes_secret(err, CKEY), "case %zu quotes the key: %s", i, err);
	}
}
END_TEST

START_TEST(clock_block)
{
	char err[GWCONF_ERR_MAX];
	struct gwconf *c = NULL;

	/* absent: adjtimex, 10 ms */
	ck_assert_msg(load(CONF1(SA1), &c, err) == 0, "%s", err);
	ck_assert(c->clock_check);
	ck_assert_uint_eq(c->clock_max_error_ms, 10);
	gwconf_free(c);
	/* empty: the same */
	ck_assert_msg(load(CONFX("'clock': {}"), &c, err) == 0, "%s", err);
	ck_assert(c->clock_check);
	ck_assert_uint_eq(c->clock_max_error_ms, 10);
	gwconf_free(c);
	ck_assert_msg(load(CONFX("'clock': {'check': 'none', 'max_error_ms': 10000}"), &c,
			err) == 0, "%s", err);
	ck_assert(!c->clock_check);
	ck_assert_uint_eq(c->clock_max_error_ms, 10000);
	gwconf_free(c);
	ck_assert_msg(load(CONFX("'clock': {'check': 'adjtimex', 'max_error_ms': 1}"), &c,
			err) == 0, "%s", err);
	ck_assert(c->clock_check);
	ck_assert_uint_eq(c->clock_max_error_ms, 1);
	gwconf_free(c);
}
END_TEST

/* The clock bound D_t: any JSON number of ms inside (-d * T_int, d * T_int), stored in ns. */
START_TEST(tesla_clock_bound)
{
	static const struct {
		const char *ms;
		int64_t ns;
		bool refused;
	} want[] = {
		{ "0", 0 }, { "1", 1000000 }, { "0.5", 500000 }, { "-0.5", -500000 },
		{ "19.999999", 19999999 }, { "-19.999999", -19999999 }, { "1e-3", 1000 },
		{ "-0.0", 0 }, { "-0", 0 },
		/* to the nearest ns: times are whole ns, so a fraction below 0.5 changes nothing */
		{ "0.0000004", 0 }, { "0.0000006", 1 }, { "-0.0000004", 0 }, { "-0.0000006", -1 },
		/* 19.9999999 ms is 20 ms = d * T_int to the ns: refused by tesla_params_check() */
		{ "19.9999999", 0, true }, { "-19.9999999", 0, true },
	};
	char err[GWCONF_ERR_MAX];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char json[2048];
		struct gwconf *c = NULL;
		const struct gwconf_tesla_sender *s;
		int rc;

		snprintf(json, sizeof(json), CONF1(TRX("{'sids': [1], 'commitment': '" CMT "', "
				"'clock_bound_ms': %s}", "")), want[i].ms);
		rc = load(json, &c, err);
		if (want[i].refused) {
			ck_assert_int_eq(rc, -EINVAL);
			ck_assert_msg(strstr(err, "clock_bound_ms: expected") != NULL &&
					strstr(err, want[i].ms) != NULL, "%s", err);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", want[i].ms, err);
		s = &c->groups[0].sas[0].tl.senders[0];
		ck_assert(s->has_clock_bound);
		ck_assert_int_eq(s->clock_bound_ns, want[i].ns);
		gwconf_free(c);
	}
}
END_TEST

Suite *gwconf_suite(void);

Suite *gwconf_suite(void)
{
	Suite *s = suite_create("gwconf");
	TCase *tc;

	tc = tcase_create("shipped");
	tcase_add_test(tc, every_shipped_config_loads);
	tcase_add_test(tc, demo_matches_demo_traffic);
	tcase_add_test(tc, single_sender_is_plain_esp);
	tcase_add_test(tc, receiver_pairs_with_single_sender);
	tcase_add_test(tc, multi_group_policies);
	tcase_add_test(tc, rekey_make_before_break);
	tcase_add_test(tc, gkm_member_example);
	suite_add_tcase(s, tc);

	tc = tcase_create("semantics");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, value_forms);
	tcase_add_test(tc, suite_keys);
	tcase_add_test(tc, implicit_policies);
	tcase_add_test(tc, port_references);
	tcase_add_test(tc, addr_str);
	tcase_add_test(tc, free_and_wipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("tesla");
	tcase_add_test(tc, tesla_all_keys);
	tcase_add_test(tc, tesla_defaults);
	tcase_add_test(tc, tesla_every_suite);
	tcase_add_test(tc, tesla_clock_bound);
	tcase_add_test(tc, tesla_chain_key_never_quoted);
	tcase_add_test(tc, clock_block);
	suite_add_tcase(s, tc);

	tc = tcase_create("gkm");
	tcase_add_test(tc, gkm_all_keys);
	tcase_add_test(tc, gkm_defaults);
	tcase_add_test(tc, gkm_addresses);
	tcase_add_test(tc, gkm_paths_from_file);
	tcase_add_test(tc, gkm_sa_json_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, bad_config, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, file_errors_name_the_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("sa_json");
	tcase_add_test(tc, sa_json);
	tcase_add_loop_test(tc, bad_sa_json, 0, (int)(sizeof(bad_sa) / sizeof(bad_sa[0])));
	tcase_add_test(tc, sa_json_without_conf);
	tcase_add_test(tc, tesla_sa_json);
	suite_add_tcase(s, tc);
	return s;
}
