/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-gcks-bench: how many registrations per second one core of the key server completes.
 *
 *   msec-gcks-bench [-n MEMBERS] [-b BATCH_MS] [-s STATE_FILE] [-c] [--json]
 *
 * N group members (lib/gm, P-256 certificates) ask to join one group of a key server
 * (lib/gcks) at the same instant, in one process, over an in-memory network. The key server's
 * own CPU time (every gcks_input() and gcks_tick() call) is measured apart from the members':
 * joins per second = members that reached "active" / the key server's CPU seconds. Each
 * registration costs the key server a signature verification (Request to Join), an X25519
 * agreement and a signature (Key Download), a verification (Ack), its share of the LKH batch
 * commits, and the store's transactions (":memory:" by default, -s for a real WAL file with
 * fsync). -c forces cookie mode (every Request to Join first gets a Cookie Download). Rekey
 * Events go to a multicast address no member listens on here, so the members' cost stays out.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcks.h"
#include "gm.h"
#include "policy.h"
#include "policy_pvt.h"
#include "test_gm_nop.h"
#include "test_pki.h"

struct dgram {
	struct sockaddr_in from, to;
	size_t len;
	uint8_t *buf;
};

static struct {
	struct test_ident ca, go, ks, *gw;
	struct gm **gm;
	struct sockaddr_in *addr;
	struct sockaddr_in ks_addr, mcast;
	struct gcks *k;
	struct dgram *q;
	size_t qh, qt, qcap;
	const struct sockaddr_in *sender;
	double ks_cpu, gm_cpu;
	uint32_t n;
} B;

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int net_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	struct dgram *d;

	(void)arg;
	if (tolen != sizeof(struct sockaddr_in))
		return -1;
	if (B.qt - B.qh == B.qcap)
		return -1;          /* a full queue is a lost datagram; everyone retransmits */
	d = &B.q[B.qt++ % B.qcap];
	d->from = *B.sender;
	memcpy(&d->to, to, sizeof(d->to));
	d->buf = malloc(len);
	if (d->buf == NULL)
		return -1;
	memcpy(d->buf, msg, len);
	d->len = len;
	return 0;
}

static void pump(int64_t now)
{
	while (B.qh != B.qt) {
		struct dgram d = B.q[B.qh++ % B.qcap];
		uint32_t host = ntohl(d.to.sin_addr.s_addr);

		if (d.to.sin_addr.s_addr == B.ks_addr.sin_addr.s_addr) {
			double t = cpu_now();

			B.sender = &B.ks_addr;
			gcks_input(B.k, d.buf, d.len, (struct sockaddr *)&d.from, sizeof(d.from),
					now);
			B.ks_cpu += cpu_now() - t;
		} else if ((host >> 16) == 0x0a01 && (host & 0xffff) < B.n) {
			uint32_t i = host & 0xffff;
			double t = cpu_now();

			B.sender = &B.addr[i];
			gm_input(B.gm[i], d.buf, d.len, (struct sockaddr *)&d.from, sizeof(d.from),
					now);
			B.gm_cpu += cpu_now() - t;
		}
		free(d.buf);
	}
}

static const char policy_json[] =
	"{\"group\": {\"name\": \"bench\", \"id\": \"0102030405060708\"},"
	" \"edition\": 1, \"validity\": {\"lifetime_seconds\": 31536000},"
	" \"registration\": {\"transport\": \"udp\", \"timeout_seconds\": 30,"
	"  \"gcks\": {\"allow\": [{\"subject\": \"CN=gcks-*,O=msecgw test\"}]},"
	"  \"senders\": {\"allow\": [{\"subject\": \"CN=gw-*,O=msecgw test\"}]},"
	"  \"members\": {\"allow\": [{\"subject\": \"CN=gw-*,O=msecgw test\"}]}},"
	" \"rekey\": {\"method\": \"lkh\", \"degree\": 4, \"key_wrap\": \"aes-256-gcm\","
	"  \"period_seconds\": 3600, \"events\": 0, \"max_silence_seconds\": 3600,"
	"  \"reliability\": {\"mechanism\": \"none\"}},"
	" \"data\": [{\"suite\": \"aes-gcm-128\", \"sid_bits\": 16, \"replay_window\": 64,"
	"  \"activation_delay_ms\": 1000, \"deactivation_delay_ms\": 2000,"
	"  \"lifetime_seconds\": 7200, \"group_address\": \"232.1.1.1\"}]}";

static void die(const char *what)
{
	fprintf(stderr, "msec-gcks-bench: %s\n", what);
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, 0, 0 } };
	const char *state = ":memory:";
	uint32_t batch_ms = 100;
	bool cookies = false, json = false;
	struct gsakmp_trust *trust;
	X509_STORE *go_store;
	struct policy_token *tok = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	char err[POLICY_ERR_MAX];
	struct gstore *st;
	int c;

	B.n = 1000;
	while ((c = getopt_long(argc, argv, "n:b:s:c", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			B.n = (uint32_t)atoi(optarg);
			break;
		case 'b':
			batch_ms = (uint32_t)atoi(optarg);
			break;
		case 's':
			state = optarg;
			break;
		case 'c':
			cookies = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			fprintf(stderr, "usage: msec-gcks-bench [-n MEMBERS] [-b BATCH_MS] "
					"[-s STATE_FILE] [-c] [--json]\n");
			return 2;
		}
	}
	if (B.n == 0 || B.n > 60000)
		die("-n: 1..60000 members");
	if (policy_init() == NULL)
		die("policy_init");
	if (test_pki_make(&B.ca, NULL, "test CA", NULL, true) != 0 ||
			test_pki_make(&B.go, &B.ca, "group-owner", OID_KP_GO, false) != 0 ||
			test_pki_make(&B.ks, &B.ca, "gcks-1", NULL, false) != 0)
		die("PKI");
	B.gw = calloc(B.n, sizeof(*B.gw));
	B.gm = calloc(B.n, sizeof(*B.gm));
	B.addr = calloc(B.n, sizeof(*B.addr));
	B.qcap = 8 * (size_t)B.n + 1024;
	B.q = calloc(B.qcap, sizeof(*B.q));
	if (B.gw == NULL || B.gm == NULL || B.addr == NULL || B.q == NULL)
		die("out of memory");
	for (uint32_t i = 0; i < B.n; i++) {
		char cn[32];

		snprintf(cn, sizeof(cn), "gw-%u", i);
		if (test_pki_make(&B.gw[i], &B.ca, cn, NULL, false) != 0)
			die("PKI");
		B.addr[i].sin_family = AF_INET;
		B.addr[i].sin_port = htons(3761);
		B.addr[i].sin_addr.s_addr = htonl(0x0a010000u + i);
	}
	go_store = X509_STORE_new();
	X509_STORE_add_cert(go_store, B.ca.cert);
	if (gsakmp_trust_new(&trust) != 0 || gsakmp_trust_add(trust, B.ca.cert) != 0)
		die("trust");
	int64_t now = (int64_t)time(NULL) * 1000;

	if (policy_token_from_json("bench.json", policy_json, strlen(policy_json),
			(time_t)(now / 1000), &tok, err) != 0 ||
			policy_token_sign(tok, B.go.key, B.go.cert, NULL, (time_t)(now / 1000) - 60,
					&der, &der_len, err) != 0)
		die(err);
	policy_token_free(tok);
	if (state[0] != ':')
		unlink(state);
	if (gstore_open(state, &st, err, sizeof(err)) != 0)
		die(err);
	B.ks_addr.sin_family = AF_INET;
	B.ks_addr.sin_port = htons(3761);
	B.ks_addr.sin_addr.s_addr = htonl(0x0a000001u);
	B.mcast = B.ks_addr;
	B.mcast.sin_addr.s_addr = htonl(0xefc00001u);

	struct gcks_conf kc = { .key = B.ks.gk, .trust = trust, .go_trust = go_store, .store = st };
	struct gcks_ops kops = { .send = net_send };
	struct gcks_group_conf gc = { .token = der, .token_len = der_len, .max_members = 65536,
		.batch_ms = batch_ms, .rekey_transport = GCKS_RT_MULTICAST,
		.max_pending = 65536, .join_rate_per_source = 1000,
		.cookie_pending = cookies ? 1 : 1000000, .cookie_rate = cookies ? 1 : 1000000 };
	char kerr[GCKS_ERR_MAX];

	memcpy(&gc.rekey_addr, &B.mcast, sizeof(B.mcast));
	gc.rekey_addr_len = sizeof(B.mcast);
	if (gcks_new(&kc, &kops, NULL, &B.k) != 0 || gcks_group_add(B.k, &gc, now, kerr) != 0)
		die(kerr);
	struct gm_ops mops = { .send = net_send, .sa_install = test_gm_nop_install,
		.sa_send = test_gm_nop_epoch, .sa_remove = test_gm_nop_epoch };

	for (uint32_t i = 0; i < B.n; i++) {
		struct gm_conf mc = { .key = B.gw[i].gk, .ks_trust = trust, .go_trust = go_store,
			.seed = i + 1 };
		struct gm_group_conf mg = { .name = "bench", .sids = 1 };

		memcpy(mg.gid, (const uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8);
		memcpy(&mg.server, &B.ks_addr, sizeof(B.ks_addr));
		mg.server_len = sizeof(B.ks_addr);
		if (gm_new(&mc, &mops, NULL, &B.gm[i]) != 0 || gm_group_add(B.gm[i], &mg) != 0)
			die("member");
	}
	/* every member asks at the same instant */
	double t0 = cpu_now();

	for (uint32_t i = 0; i < B.n; i++) {
		B.sender = &B.addr[i];
		gm_join(B.gm[i], "bench", now);
	}
	B.gm_cpu += cpu_now() - t0;
	struct gcks_group_info gi;
	int64_t start = now;

	for (int step = 0; step < 6000; step++) {
		double t;

		pump(now);
		t = cpu_now();
		B.sender = &B.ks_addr;
		gcks_tick(B.k, now);
		B.ks_cpu += cpu_now() - t;
		pump(now);
		if (gcks_group_info(B.k, "bench", &gi) == 0 && gi.ctr[GCKS_C_ACK] >= B.n &&
				gi.pending == 0)
			break;
		t = cpu_now();
		for (uint32_t i = 0; i < B.n; i++) {
			B.sender = &B.addr[i];
			gm_tick(B.gm[i], now);
		}
		B.gm_cpu += cpu_now() - t;
		now += 10;
	}
	gcks_group_info(B.k, "bench", &gi);
	double rate = gi.ctr[GCKS_C_ACK] / B.ks_cpu;

	if (json)
		printf("{\"members\": %u, \"active\": %llu, \"batch_ms\": %u, \"cookies\": %s, "
				"\"store\": \"%s\", \"ks_cpu_s\": %.4f, \"joins_per_s\": %.0f, "
				"\"ks_us_per_join\": %.1f, \"gm_us_per_join\": %.1f, "
				"\"simulated_s\": %.2f, \"rekeys\": %llu, \"rekey_msgs\": %llu}\n",
				B.n, (unsigned long long)gi.ctr[GCKS_C_ACK], batch_ms,
				cookies ? "true" : "false", state, B.ks_cpu, rate,
				1e6 * B.ks_cpu / (double)gi.ctr[GCKS_C_ACK],
				1e6 * B.gm_cpu / (double)gi.ctr[GCKS_C_ACK],
				(double)(now - start) / 1000, (unsigned long long)gi.ctr[GCKS_C_REKEY],
				(unsigned long long)gi.ctr[GCKS_C_REKEY_MSG]);
	else
		printf("msec-gcks-bench: %u members joining at once, batch %u ms, store %s%s\n"
				"  active %llu of %u after %.2f s of simulated time, %llu batches "
				"(%llu Rekey Event messages)\n"
				"  key server: %.3f s CPU = %.0f joins per second per core "
				"(%.1f us per join)\n"
				"  members: %.1f us CPU per registration (verify Key Download and "
				"token, sign Request to Join and Ack)\n",
				B.n, batch_ms, state, cookies ? ", cookie mode" : "",
				(unsigned long long)gi.ctr[GCKS_C_ACK], B.n,
				(double)(now - start) / 1000, (unsigned long long)gi.ctr[GCKS_C_REKEY],
				(unsigned long long)gi.ctr[GCKS_C_REKEY_MSG], B.ks_cpu, rate,
				1e6 * B.ks_cpu / (double)gi.ctr[GCKS_C_ACK],
				1e6 * B.gm_cpu / (double)gi.ctr[GCKS_C_ACK]);
	int rc = gi.ctr[GCKS_C_ACK] >= B.n ? 0 : 1;

	for (uint32_t i = 0; i < B.n; i++) {
		gm_free(B.gm[i]);
		test_pki_free(&B.gw[i]);
	}
	gcks_free(B.k);
	gstore_close(st);
	while (B.qh != B.qt)
		free(B.q[B.qh++ % B.qcap].buf);
	free(B.q);
	free(B.gw);
	free(B.gm);
	free(B.addr);
	free(der);
	gsakmp_trust_free(trust);
	X509_STORE_free(go_store);
	test_pki_free(&B.ca);
	test_pki_free(&B.go);
	test_pki_free(&B.ks);
	return rc;
}
