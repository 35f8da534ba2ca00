/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the group key management engines' input (lib/gcks: what a key server
 * receives; lib/gm: what a member receives). At start a key server and a member complete a
 * real registration and a rekey in memory, so both engines are in their working state; each
 * input then goes to one of them (first octet even: the key server, odd: the member) as a
 * datagram from the other. Whatever comes back is discarded. Refusals are the expected
 * outcome; the harness looks for crashes, leaks of state and undefined behaviour.
 *
 * FUZZ_GKM_SEEDS=DIR writes the genuine messages of the start-up exchange into DIR (the seed
 * corpus in tests/fuzz/corpus/gkm was made that way).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcks.h"
#include "gm.h"
#include "policy.h"
#include "policy_pvt.h"
#include "test_gm_nop.h"
#include "test_pki.h"

#define QMAX 256

struct dg {
	int to_ks;
	size_t len;
	uint8_t buf[4096];
};

static struct {
	struct test_ident ca, go, ks, gw;
	struct gsakmp_trust *trust;
	X509_STORE *go_store;
	struct gstore *st;
	struct gcks *k;
	struct gm *gm;
	struct sockaddr_in ks_addr, gm_addr;
	struct dg q[QMAX];
	int nq;
	int64_t now;
	const char *seeds;
	int nseed;
	int sender_is_ks;
} F;

static int net_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)to;

	(void)arg;
	(void)tolen;
	if (F.nq == QMAX || len > sizeof(F.q[0].buf))
		return -1;
	F.q[F.nq].to_ks = a->sin_addr.s_addr == F.ks_addr.sin_addr.s_addr;
	F.q[F.nq].len = len;
	memcpy(F.q[F.nq].buf, msg, len);
	F.nq++;
	if (F.seeds != NULL) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/msg-%02d-%s", F.seeds, F.nseed++,
				F.q[F.nq - 1].to_ks ? "to-ks" : "to-gm");
		f = fopen(path, "wb");
		if (f != NULL) {
			/* the harness's own format: the selector octet, then the datagram */
			fputc(F.q[F.nq - 1].to_ks ? 0 : 1, f);
			fwrite(msg, 1, len, f);
			fclose(f);
		}
	}
	return 0;
}

/* Deliver what is queued (and what that produces) for a while. */
static void pump(int rounds)
{
	for (int r = 0; r < rounds; r++) {
		struct dg *q = malloc(sizeof(F.q));
		int n = F.nq;

		if (q == NULL)
			abort();
		memcpy(q, F.q, sizeof(F.q[0]) * (size_t)n);
		F.nq = 0;
		for (int i = 0; i < n; i++) {
			if (q[i].to_ks)
				gcks_input(F.k, q[i].buf, q[i].len, (struct sockaddr *)&F.gm_addr,
						sizeof(F.gm_addr), F.now);
			else
				gm_input(F.gm, q[i].buf, q[i].len, (struct sockaddr *)&F.ks_addr,
						sizeof(F.ks_addr), F.now);
		}
		free(q);
		gcks_tick(F.k, F.now);
		gm_tick(F.gm, F.now);
		F.now += 50;
	}
}

static const char policy_json[] =
	"{\"group\": {\"name\": \"fuzz\", \"id\": \"0a0b0c0d0e0f1011\"},"
	" \"edition\": 1, \"validity\": {\"lifetime_seconds\": 31536000},"
	" \"registration\": {\"transport\": \"udp\", \"timeout_seconds\": 30, \"deregistration\": true,"
	"  \"gcks\": {\"allow\": [{\"subject\": \"CN=gcks-*,O=msecgw test\"}]},"
	"  \"senders\": {\"allow\": [{\"subject\": \"CN=gw-*,O=msecgw test\"}]},"
	"  \"members\": {\"allow\": [{\"subject\": \"CN=gw-*,O=msecgw test\"}]}},"
	" \"rekey\": {\"method\": \"lkh\", \"degree\": 4, \"key_wrap\": \"aes-256-gcm\","
	"  \"period_seconds\": 3600, \"events\": 1, \"max_silence_seconds\": 3600,"
	"  \"reliability\": {\"mechanism\": \"none\"}},"
	" \"data\": [{\"suite\": \"aes-gcm-128\", \"sid_bits\": 8, \"replay_window\": 64,"
	"  \"activation_delay_ms\": 1000, \"deactivation_delay_ms\": 2000,"
	"  \"lifetime_seconds\": 7200, \"group_address\": \"232.1.1.1\"}]}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct policy_token *tok = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	char err[POLICY_ERR_MAX];

	(void)argc;
	(void)argv;
	F.seeds = getenv("FUZZ_GKM_SEEDS");
	F.now = (int64_t)time(NULL) * 1000;
	if (policy_init() == NULL || test_pki_make(&F.ca, NULL, "test CA", NULL, true) != 0 ||
			test_pki_make(&F.go, &F.ca, "group-owner", OID_KP_GO, false) != 0 ||
			test_pki_make(&F.ks, &F.ca, "gcks-1", NULL, false) != 0 ||
			test_pki_make(&F.gw, &F.ca, "gw-1", NULL, false) != 0)
		abort();
	F.go_store = X509_STORE_new();
	X509_STORE_add_cert(F.go_store, F.ca.cert);
	if (gsakmp_trust_new(&F.trust) != 0 || gsakmp_trust_add(F.trust, F.ca.cert) != 0 ||
			policy_token_from_json("f.json", policy_json, strlen(policy_json),
				(time_t)(F.now / 1000), &tok, err) != 0 ||
			policy_token_sign(tok, F.go.key, F.go.cert, NULL, (time_t)(F.now / 1000) - 60,
				&der, &der_len, err) != 0 ||
			gstore_open(":memory:", &F.st, err, sizeof(err)) != 0)
		abort();
	policy_token_free(tok);
	F.ks_addr.sin_family = F.gm_addr.sin_family = AF_INET;
	F.ks_addr.sin_port = F.gm_addr.sin_port = htons(3761);
	F.ks_addr.sin_addr.s_addr = htonl(0x0a000001u);
	F.gm_addr.sin_addr.s_addr = htonl(0x0a000002u);

	struct gcks_conf kc = { .key = F.ks.gk, .trust = F.trust, .go_trust = F.go_store,
		.store = F.st };
	struct gcks_ops kops = { .send = net_send };
	struct gcks_group_conf gc = { .token = der, .token_len = der_len, .max_members = 64,
		.batch_ms = 10, .rekey_transport = GCKS_RT_UNICAST, .join_rate_per_source = 1000000,
		.cookie_rate = 1000000, .cookie_pending = 1000000 };
	char kerr[GCKS_ERR_MAX];

	if (gcks_new(&kc, &kops, NULL, &F.k) != 0 || gcks_group_add(F.k, &gc, F.now, kerr) != 0)
		abort();
	free(der);
	struct gm_conf mc = { .key = F.gw.gk, .ks_trust = F.trust, .go_trust = F.go_store,
		.seed = 1 };
	struct gm_ops mops = { .send = net_send, .sa_install = test_gm_nop_install,
		.sa_send = test_gm_nop_epoch, .sa_remove = test_gm_nop_epoch };
	struct gm_group_conf mg = { .name = "fuzz", .sids = 1 };

	memcpy(mg.gid, (const uint8_t[]){ 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11 }, 8);
	memcpy(&mg.server, &F.ks_addr, sizeof(F.ks_addr));
	mg.server_len = sizeof(F.ks_addr);
	if (gm_new(&mc, &mops, NULL, &F.gm) != 0 || gm_group_add(F.gm, &mg) != 0 ||
			gm_join(F.gm, "fuzz", F.now) != 0)
		abort();
	pump(20);
	gcks_rekey(F.k, "fuzz", F.now);
	pump(20);
	F.seeds = NULL;
	F.nq = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		gcks_input(F.k, data + 1, size - 1, (struct sockaddr *)&F.gm_addr,
				sizeof(F.gm_addr), F.now);
	else
		gm_input(F.gm, data + 1, size - 1, (struct sockaddr *)&F.ks_addr,
				sizeof(F.ks_addr), F.now);
	/* the timers too, now and then, on whatever state the input left */
	if (data[0] & 2) {
		F.now += 1000;
		gcks_tick(F.k, F.now);
		gm_tick(F.gm, F.now);
	}
	F.nq = 0;
	return 0;
}
