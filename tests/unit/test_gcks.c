/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key server engine (lib/gcks) with real group members (lib/gm) in one process, on a
 * simulated clock and network: registration, traffic keys, eviction, departure, refusals,
 * cookies under a join storm, and a restart from the store (doc/key-management.md).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gcks.h"
#include "gm.h"
#include "policy.h"
#include "policy_pvt.h"
#include "test_pki.h"

#define NB_GM 4
#define MAX_Q 4096


struct installed {
	uint32_t index, epoch, spi;
	uint8_t key[64];
	uint16_t key_len;
	bool removed, sending;
	uint16_t nb_sids;
};

struct member_sim {
	struct gm *gm;
	struct sockaddr_in addr;
	struct installed sa[16];
	int nb_sa;
	bool down;                  /* drops everything addressed to it */
	bool mute;                  /* its Acks to the key server are lost */
};

struct datagram {
	struct sockaddr_in from, to;
	size_t len;
	uint8_t *buf;
};

static struct {
	struct test_ident ca, go, ks, gw[NB_GM], lab, rogue_ca, rogue;
	X509_STORE *go_store;
	struct gsakmp_trust *trust;
	uint8_t *token;
	size_t token_len;
	struct gcks *k;
	struct gstore *st;
	struct sockaddr_in ks_addr, mcast, sub_addr;
	struct gcks *k2;                    /* a sub-GC/KS (test_sub_gcks) */
	struct gstore *st2;
	struct test_ident sub;
	bool via_sub[NB_GM + 1];            /* which members register with the sub-GC/KS */
	struct member_sim m[NB_GM + 1];     /* the last one is gw-lab-1 (excluded) */
	struct datagram q[MAX_Q];
	int qh, qt;
	int64_t now;
	const struct sockaddr_in *sender;   /* who is sending right now */
	uint32_t cookie_rate;               /* key server limit, 0 = default */
} S;

static void make(struct test_ident *id, const struct test_ident *iss, const char *cn,
		const char *eku, bool ca)
{
	ck_assert_int_eq(test_pki_make(id, iss, cn, eku, ca), 0);
}

static const char policy_json[] =
	"{\"group\": {\"name\": \"grp\", \"id\": \"a1b2c3d4e5f60718\"},"
	" \"edition\": 1, \"validity\": {\"lifetime_seconds\": 31536000},"
	" \"registration\": {\"transport\": \"udp\", \"timeout_seconds\": 5,"
	"  \"deregistration\": true,"
	"  \"gcks\": {\"allow\": [{\"subject\": \"CN=gcks-*,O=msecgw test\"}]},"
	"  \"sub_gcks\": {\"allow\": [{\"subject\": \"CN=subgcks-*,O=msecgw test\"}]},"
	"  \"senders\": {\"allow\": [{\"subject\": \"CN=gw-0,O=msecgw test\"}]},"
	"  \"members\": {\"allow\": [{\"subject\": \"CN=gw-*,O=msecgw test\"}],"
	"              \"exclude\": [{\"subject\": \"CN=gw-lab-*,O=msecgw test\"}]}},"
	" \"rekey\": {\"method\": \"lkh\", \"degree\": 4, \"key_wrap\": \"aes-256-kw\","
	"  \"period_seconds\": 3600, \"events\": 0, \"max_silence_seconds\": 600,"
	"  \"reliability\": {\"mechanism\": \"resend\", \"count\": 2}},"
	" \"data\": [{\"suite\": \"aes-gcm-128\", \"sid_bits\": 8, \"replay_window\": 64,"
	"  \"address_preservation\": \"src-dst\", \"direction\": \"senders-to-members\","
	"  \"activation_delay_ms\": 2000, \"deactivation_delay_ms\": 5000,"
	"  \"lifetime_seconds\": 7200, \"group_address\": \"232.1.1.1\","
	"  \"source_address\": \"192.0.2.10\"}]}";

/* ------------------------------------------------------------------ simulated network */

static int net_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	struct datagram *d;

	(void)arg;
	ck_assert_int_eq(tolen, sizeof(struct sockaddr_in));
	ck_assert_int_lt(S.qt - S.qh, MAX_Q);
	d = &S.q[S.qt++ % MAX_Q];
	d->from = *S.sender;
	memcpy(&d->to, to, sizeof(d->to));
	d->buf = malloc(len);
	ck_assert_ptr_nonnull(d->buf);
	memcpy(d->buf, msg, len);
	d->len = len;
	return 0;
}

static bool same(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void deliver_gm(int i, const struct datagram *d)
{
	if (S.m[i].gm == NULL || S.m[i].down)
		return;
	S.sender = &S.m[i].addr;
	gm_input(S.m[i].gm, d->buf, d->len, (const struct sockaddr *)&d->from, sizeof(d->from),
			S.now);
}

/* Deliver every queued datagram (and what the deliveries send), then run the timers. */
static void pump(void)
{
	while (S.qh != S.qt) {
		struct datagram d = S.q[S.qh++ % MAX_Q];

		if (same(&d.to, &S.ks_addr)) {
			bool lost = false;

			for (int i = 0; i <= NB_GM; i++)
				lost |= S.m[i].mute && same(&d.from, &S.m[i].addr) &&
					d.len > 4u + d.buf[1] &&
					d.buf[4 + d.buf[1]] == GSAKMP_EXCH_KEYDL_ACK;
			if (lost) {
				free(d.buf);
				continue;
			}
			S.sender = &S.ks_addr;
			gcks_input(S.k, d.buf, d.len, (const struct sockaddr *)&d.from,
					sizeof(d.from), S.now);
		} else if (S.k2 != NULL && same(&d.to, &S.sub_addr)) {
			S.sender = &S.sub_addr;
			gcks_input(S.k2, d.buf, d.len, (const struct sockaddr *)&d.from,
					sizeof(d.from), S.now);
		} else if (same(&d.to, &S.mcast)) {
			for (int i = 0; i <= NB_GM; i++)
				deliver_gm(i, &d);
			if (S.k2 != NULL) {
				S.sender = &S.sub_addr;
				gcks_input(S.k2, d.buf, d.len, (const struct sockaddr *)&d.from,
						sizeof(d.from), S.now);
			}
		} else {
			for (int i = 0; i <= NB_GM; i++)
				if (same(&d.to, &S.m[i].addr))
					deliver_gm(i, &d);
		}
		free(d.buf);
	}
}

/* Advance the clock by ms in 50 ms steps, running every timer and the network. */
static void run(int64_t ms)
{
	int64_t end = S.now + ms;

	do {
		pump();
		S.sender = &S.ks_addr;
		gcks_tick(S.k, S.now);
		if (S.k2 != NULL) {
			S.sender = &S.sub_addr;
			gcks_tick(S.k2, S.now);
		}
		for (int i = 0; i <= NB_GM; i++) {
			if (S.m[i].gm == NULL)
				continue;
			S.sender = &S.m[i].addr;
			gm_tick(S.m[i].gm, S.now);
		}
		pump();
		S.now += 50;
	} while (S.now < end);
}

/* ------------------------------------------------------------------ member stubs */

static struct installed *find_sa(struct member_sim *m, uint32_t index, uint32_t epoch)
{
	for (int i = 0; i < m->nb_sa; i++)
		if (m->sa[i].index == index && m->sa[i].epoch == epoch)
			return &m->sa[i];
	return NULL;
}

static int sa_install(void *arg, const struct gm_sa *sa)
{
	struct member_sim *m = arg;
	struct installed *in = find_sa(m, sa->index, sa->epoch);

	if (in == NULL) {
		ck_assert_int_lt(m->nb_sa, 16);
		in = &m->sa[m->nb_sa++];
	}
	memset(in, 0, sizeof(*in));
	in->index = sa->index;
	in->epoch = sa->epoch;
	in->spi = sa->spi;
	in->key_len = sa->key_len;
	in->nb_sids = sa->nb_sids;
	memcpy(in->key, sa->key, sa->key_len);
	return 0;
}

static int sa_send(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	struct installed *in = find_sa(arg, index, epoch);

	(void)group;
	ck_assert_ptr_nonnull(in);
	in->sending = true;
	return 0;
}

static int sa_remove(void *arg, const char *group, uint32_t index, uint32_t epoch)
{
	struct installed *in = find_sa(arg, index, epoch);

	(void)group;
	if (in != NULL)
		in->removed = true;
	return 0;
}

static void gm_state_cb(void *arg, const char *group, enum gm_state st)
{
	(void)arg;
	(void)group;
	(void)st;
}

static const struct gm_ops gm_ops = { .send = net_send, .sa_install = sa_install,
	.sa_send = sa_send, .sa_remove = sa_remove, .state = gm_state_cb };

static void gm_start(int i, const struct test_ident *id)
{
	struct gm_conf c = { .key = id->gk, .ks_trust = S.trust, .go_trust = S.go_store,
		.seed = (uint64_t)i + 1 };
	struct gm_group_conf gc = { .name = "grp", .sids = i == 0 ? 2 : 0 };

	memcpy(gc.gid, (const uint8_t[]){ 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18 }, 8);
	memcpy(&gc.server, S.via_sub[i] ? &S.sub_addr : &S.ks_addr, sizeof(S.ks_addr));
	gc.server_len = sizeof(S.ks_addr);
	ck_assert_int_eq(gm_new(&c, &gm_ops, &S.m[i], &S.m[i].gm), 0);
	ck_assert_int_eq(gm_group_add(S.m[i].gm, &gc), 0);
	S.sender = &S.m[i].addr;
	ck_assert_int_eq(gm_join(S.m[i].gm, "grp", S.now), 0);
}

static enum gm_state gm_st(int i)
{
	struct gm_group_info gi;

	ck_assert_int_eq(gm_group_info(S.m[i].gm, "grp", &gi), 0);
	return gi.state;
}

/* ------------------------------------------------------------------ key server */

static void ks_start(const char *db)
{
	struct gcks_conf c;
	struct gcks_ops ops = { .send = net_send };
	struct gcks_group_conf gc = { .token = S.token, .token_len = S.token_len,
		.max_members = 64, .batch_ms = 100, .resend_interval_ms = 200,
		.rekey_transport = GCKS_RT_MULTICAST, .cookie_rate = S.cookie_rate };
	char err[GCKS_ERR_MAX];

	ck_assert_int_eq(gstore_open(db, &S.st, err, sizeof(err)), 0);
	c = (struct gcks_conf){ .key = S.ks.gk, .trust = S.trust, .go_trust = S.go_store,
		.store = S.st };
	memcpy(&gc.rekey_addr, &S.mcast, sizeof(S.mcast));
	gc.rekey_addr_len = sizeof(S.mcast);
	ck_assert_int_eq(gcks_new(&c, &ops, NULL, &S.k), 0);
	S.sender = &S.ks_addr;
	ck_assert_msg(gcks_group_add(S.k, &gc, S.now, err) == 0, "%s", err);
}

static void ks_stop(void)
{
	gcks_free(S.k);
	S.k = NULL;
	gstore_close(S.st);
	S.st = NULL;
}

static void mk_sin(struct sockaddr_in *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
}

static void setup(void)
{
	struct policy_token *tok = NULL;
	char err[POLICY_ERR_MAX], cn[32];

	memset(&S, 0, sizeof(S));
	/* wall-clock time: certificates, signatures and keys carry real dates */
	S.now = (int64_t)time(NULL) * 1000;
	ck_assert_ptr_nonnull(policy_init());
	make(&S.ca, NULL, "test CA", NULL, true);
	make(&S.go, &S.ca, "group-owner", OID_KP_GO, false);
	make(&S.ks, &S.ca, "gcks-1", NULL, false);
	for (int i = 0; i < NB_GM; i++) {
		snprintf(cn, sizeof(cn), "gw-%d", i);
		make(&S.gw[i], &S.ca, cn, NULL, false);
	}
	make(&S.lab, &S.ca, "gw-lab-1", NULL, false);
	make(&S.rogue_ca, NULL, "test CA", NULL, true);
	make(&S.rogue, &S.rogue_ca, "gw-9", NULL, false);
	S.go_store = X509_STORE_new();
	X509_STORE_add_cert(S.go_store, S.ca.cert);
	ck_assert_int_eq(gsakmp_trust_new(&S.trust), 0);
	ck_assert_int_eq(gsakmp_trust_add(S.trust, S.ca.cert), 0);
	ck_assert_msg(policy_token_from_json("p.json", policy_json, strlen(policy_json),
			(time_t)(S.now / 1000), &tok, err) == 0, "%s", err);
	ck_assert_msg(policy_token_sign(tok, S.go.key, S.go.cert, NULL, (time_t)(S.now / 1000) - 60,
			&S.token, &S.token_len, err) == 0, "%s", err);
	policy_token_free(tok);
	mk_sin(&S.ks_addr, "10.0.0.1", 3761);
	mk_sin(&S.mcast, "239.1.1.1", 3761);
	mk_sin(&S.sub_addr, "10.0.0.9", 3761);
	make(&S.sub, &S.ca, "subgcks-1", NULL, false);
	for (int i = 0; i <= NB_GM; i++) {
		snprintf(cn, sizeof(cn), "10.0.1.%d", i + 1);
		mk_sin(&S.m[i].addr, cn, 3761);
	}
}

static void free_ident(struct test_ident *id)
{
	test_pki_free(id);
}

static void teardown(void)
{
	for (int i = 0; i <= NB_GM; i++)
		gm_free(S.m[i].gm);
	gcks_free(S.k2);
	gstore_close(S.st2);
	if (S.k != NULL)
		ks_stop();
	while (S.qh != S.qt)
		free(S.q[S.qh++ % MAX_Q].buf);
	free_ident(&S.ca);
	free_ident(&S.go);
	free_ident(&S.ks);
	for (int i = 0; i < NB_GM; i++)
		free_ident(&S.gw[i]);
	free_ident(&S.lab);
	free_ident(&S.rogue_ca);
	free_ident(&S.rogue);
	free_ident(&S.sub);
	X509_STORE_free(S.go_store);
	gsakmp_trust_free(S.trust);
	free(S.token);
}

static void join_all(int n)
{
	for (int i = 0; i < n; i++)
		gm_start(i, &S.gw[i]);
	run(2000);
	for (int i = 0; i < n; i++)
		ck_assert_msg(gm_st(i) == GM_ST_MEMBER, "gw-%d is %s", i, gm_state_name(gm_st(i)));
}

static struct installed *newest(int i)
{
	struct installed *best = NULL;

	for (int j = 0; j < S.m[i].nb_sa; j++)
		if (best == NULL || S.m[i].sa[j].epoch > best->epoch)
			best = &S.m[i].sa[j];
	return best;
}

struct mcol {
	struct gcks_member_info *m;
	int *nb;
};

static int collect_member(void *arg, const struct gcks_member_info *m)
{
	struct mcol *c = arg;

	if (*c->nb < 4)
		c->m[(*c->nb)++] = *m;
	return 0;
}

/* Remove a test's state directory: the database and its WAL companions. */
static void rm_state(const char *dir)
{
	static const char *const files[] = { "state.db", "state.db-wal", "state.db-shm" };
	char path[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_register)
{
	struct gcks_group_info gi;

	ks_start(":memory:");
	join_all(NB_GM);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, NB_GM);
	ck_assert_uint_eq(gi.ctr[GCKS_C_ACK], NB_GM);
	ck_assert_uint_eq(gi.pending, 0);
	/* every member holds the same traffic key under the same SPI */
	for (int i = 0; i < NB_GM; i++) {
		struct installed *a = newest(i), *b = newest(0);

		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->spi, gi.data[0].spi);
		ck_assert_uint_eq(a->key_len, 20);
		ck_assert_mem_eq(a->key, b->key, a->key_len);
	}
	/* the sender got its two SIDs and sends at once; the others only receive */
	ck_assert_uint_eq(newest(0)->nb_sids, 2);
	ck_assert(newest(0)->sending);
	ck_assert_uint_eq(newest(1)->nb_sids, 0);
	ck_assert(!newest(1)->sending);
}
END_TEST

START_TEST(test_evict)
{
	struct gcks_group_info gi;
	char subject[128];
	uint32_t epoch;

	ks_start(":memory:");
	join_all(NB_GM);
	epoch = newest(0)->epoch;
	snprintf(subject, sizeof(subject), "CN=gw-2,O=msecgw test");
	struct gcks_group_info before;

	ck_assert_int_eq(gcks_group_info(S.k, "grp", &before), 0);
	ck_assert_int_eq(gcks_evict(S.k, "grp", subject, S.now), 0);
	run(1000);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, NB_GM - 1);
	/* each Rekey Event went out three times (the token's reliability: resend 2) to the
	 * multicast address, and nothing else was sent */
	ck_assert_uint_gt(gi.ctr[GCKS_C_REKEY_MSG], before.ctr[GCKS_C_REKEY_MSG]);
	ck_assert_uint_eq(gi.ctr[GCKS_C_TX] - before.ctr[GCKS_C_TX],
			3 * (gi.ctr[GCKS_C_REKEY_MSG] - before.ctr[GCKS_C_REKEY_MSG]));
	ck_assert_uint_eq(gi.data[0].epoch, epoch + 1);
	/* the others follow to the new epoch with the same key; gw-2 cannot */
	for (int i = 0; i < NB_GM; i++) {
		struct installed *n = newest(i);

		if (i == 2) {
			ck_assert_uint_eq(n->epoch, epoch);
			continue;
		}
		ck_assert_uint_eq(n->epoch, epoch + 1);
		ck_assert_mem_eq(n->key, newest(0)->key, n->key_len);
	}
	/* the sender switches after ATD, the old epoch goes after DTD */
	run(6000);
	ck_assert(newest(0)->sending);
	ck_assert(find_sa(&S.m[1], 0, epoch)->removed);
	/* an evicted member is refused when it asks again */
	gm_free(S.m[2].gm);
	S.m[2].gm = NULL;
	S.m[2].nb_sa = 0;
	gm_start(2, &S.gw[2]);
	run(3000);
	ck_assert_int_ne(gm_st(2), GM_ST_MEMBER);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_gt(gi.ctr[GCKS_C_EVICTED], 0);
}
END_TEST

START_TEST(test_depart)
{
	struct gcks_group_info gi;

	ks_start(":memory:");
	join_all(3);
	S.sender = &S.m[1].addr;
	ck_assert_int_eq(gm_depart(S.m[1].gm, "grp", S.now), 0);
	run(1500);
	ck_assert_int_eq(gm_st(1), GM_ST_IDLE);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, 2);
	ck_assert_uint_eq(gi.ctr[GCKS_C_DEPART], 1);
	/* a departure is a leave: a new epoch the departed member does not get */
	ck_assert_uint_eq(newest(0)->epoch, gi.data[0].epoch);
	ck_assert_uint_lt(newest(1)->epoch, gi.data[0].epoch);
}
END_TEST

START_TEST(test_refusals)
{
	struct gcks_group_info gi;
	uint8_t junk[64];

	ks_start(":memory:");
	/* excluded by the token, and a certificate from another CA */
	gm_start(NB_GM, &S.lab);
	gm_start(0, &S.rogue);
	run(1500);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, 0);
	ck_assert_uint_eq(gi.pending, 0);
	ck_assert_uint_gt(gi.ctr[GCKS_C_UNAUTHORIZED], 0);
	ck_assert_uint_gt(gi.ctr[GCKS_C_BAD_SIG], 0);
	/* garbage and truncated headers never reach a group */
	memset(junk, 0x5a, sizeof(junk));
	for (size_t n = 0; n < sizeof(junk); n++)
		ck_assert_int_lt(gcks_input(S.k, junk, n, (const struct sockaddr *)&S.m[1].addr,
				sizeof(S.m[1].addr), S.now), 0);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, 0);
}
END_TEST

START_TEST(test_restart)
{
	char dir[] = "/tmp/msec-gcks-XXXXXX", db[64];
	struct gcks_group_info before, after;
	uint32_t epoch;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/state.db", dir);
	ks_start(db);
	join_all(3);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &before), 0);
	epoch = newest(0)->epoch;
	/* the process dies (nothing is written at shutdown) and comes back */
	ks_stop();
	ks_start(db);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &after), 0);
	ck_assert_uint_eq(after.members, 3);
	ck_assert_uint_eq(after.data[0].epoch, before.data[0].epoch);
	ck_assert_uint_eq(after.data[0].spi, before.data[0].spi);
	ck_assert_uint_ge(after.seq, before.seq);
	ck_assert_uint_eq(after.root_handle, before.root_handle);
	/* a rekey after the restart reaches every member: the tree and the keys survived */
	ck_assert_int_eq(gcks_rekey(S.k, "grp", S.now), 0);
	run(1000);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(newest(i)->epoch, epoch + 1);
	/* a member's signed request is checked against the certificate it registered with,
	 * which the restarted key server only knows by its digest */
	S.sender = &S.m[1].addr;
	ck_assert_int_eq(gm_depart(S.m[1].gm, "grp", S.now), 0);
	run(1500);
	ck_assert_int_eq(gm_st(1), GM_ST_IDLE);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &after), 0);
	ck_assert_uint_eq(after.members, 2);
	ck_assert_uint_eq(after.ctr[GCKS_C_DEPART], 1);
	ck_assert_uint_eq(after.ctr[GCKS_C_BAD_SIG], 0);
	ks_stop();
	rm_state(dir);
}
END_TEST

/* A member whose Acks never arrive: two Lacks of Ack, then it leaves in the next batch
 * (RFC 4535 §5.2.1.5), with a new epoch it does not get. */
START_TEST(test_lack_of_ack)
{
	struct gcks_group_info gi;

	ks_start(":memory:");
	join_all(2);
	S.m[2].mute = true;
	gm_start(2, &S.gw[2]);
	run(25000);                 /* 5 s Ack timeout (the token), twice more after each LOA */
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_ge(gi.ctr[GCKS_C_LOA_EVICT], 1);
	ck_assert_uint_eq(gi.ctr[GCKS_C_ACK], 2);
	ck_assert_uint_eq(newest(0)->epoch, gi.data[0].epoch);
	ck_assert_uint_eq(newest(1)->epoch, gi.data[0].epoch);
	/* the removal's new epoch told gw-2 it missed a rekey, so it asks again, and is never
	 * active while its Acks are lost */
	struct gcks_member_info mi[4];
	int nb = 0;

	gcks_members(S.k, "grp", collect_member, &(struct mcol){ mi, &nb });
	for (int i = 0; i < nb; i++)
		if (strncmp(mi[i].subject, "CN=gw-2,", 8) == 0)
			ck_assert_int_ne(mi[i].state, GCKS_MS_ACTIVE);
	S.m[2].mute = false;
	run(8000);
	ck_assert_int_eq(gm_st(2), GM_ST_MEMBER);
}
END_TEST

/* Destruction: Sequence ID 0xFFFFFFFF; members drop the group's SAs. */
START_TEST(test_destroy)
{
	ks_start(":memory:");
	join_all(2);
	ck_assert_int_eq(gcks_destroy(S.k, "grp", S.now), 0);
	run(1000);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(gm_st(i), GM_ST_DESTROYED);
		ck_assert(newest(i)->removed);
	}
	ck_assert_int_ne(gcks_group_info(S.k, "grp", &(struct gcks_group_info){ 0 }), 0);
}
END_TEST

/* SIDs survive a restart: a sender registering after it gets a SID no member holds. */
START_TEST(test_sids_after_restart)
{
	char dir[] = "/tmp/msec-gcks-XXXXXX", db[64];
	struct gcks_member_info mi[4];
	int nb = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/state.db", dir);
	ks_start(db);
	join_all(1);                /* gw-0 sends: SIDs 1 and 2 */
	ks_stop();
	ks_start(db);
	/* gw-0 registers again with a fresh nonce (as after a missed rekey): same SIDs */
	gm_free(S.m[0].gm);
	S.m[0].gm = NULL;
	S.m[0].nb_sa = 0;
	gm_start(0, &S.gw[0]);
	run(2000);
	ck_assert_int_eq(gm_st(0), GM_ST_MEMBER);
	ck_assert_uint_eq(newest(0)->nb_sids, 2);
	ck_assert_int_eq(gcks_members(S.k, "grp", collect_member, &(struct mcol){ mi, &nb }), 0);
	ck_assert_int_eq(nb, 1);
	ck_assert_uint_eq(mi[0].nb_sids, 2);
	ck_assert_uint_eq(mi[0].sids[0], 1);
	ck_assert_uint_eq(mi[0].sids[1], 2);
	ks_stop();
	rm_state(dir);
}
END_TEST

/* A sub-GC/KS (RFC 4535 §4.4.7; doc/key-management.md §8): it registers with the parent as
 * a member authorized by the token's sub_gcks rules, then serves its own members with its own
 * tree and the parent's traffic keys. A parent rekey reaches the sub's members; an eviction at
 * the sub makes the parent start a new epoch that the evicted member does not get; an eviction
 * at the parent reaches the sub's members too. */
static void sub_start(void)
{
	struct gcks_conf c = { .key = S.sub.gk, .trust = S.trust, .go_trust = S.go_store };
	struct gcks_ops ops = { .send = net_send };
	struct gcks_group_conf gc = { .token = S.token, .token_len = S.token_len,
		.max_members = 64, .batch_ms = 100, .resend_interval_ms = 200,
		.rekey_transport = GCKS_RT_UNICAST, .parent_sids = 8 };
	char err[GCKS_ERR_MAX];

	memcpy(&gc.parent, &S.ks_addr, sizeof(S.ks_addr));
	gc.parent_len = sizeof(S.ks_addr);
	ck_assert_int_eq(gstore_open(":memory:", &S.st2, err, sizeof(err)), 0);
	c.store = S.st2;
	ck_assert_int_eq(gcks_new(&c, &ops, NULL, &S.k2), 0);
	S.sender = &S.sub_addr;
	ck_assert_msg(gcks_group_add(S.k2, &gc, S.now, err) == 0, "%s", err);
}

static uint32_t epoch_of(struct gcks *k)
{
	struct gcks_group_info gi;

	ck_assert_int_eq(gcks_group_info(k, "grp", &gi), 0);
	return gi.data[0].epoch;
}

START_TEST(test_sub_gcks)
{
	struct gcks_group_info pi, si;
	struct gcks_member_info mi[4];
	int nb = 0;
	uint32_t e;

	ks_start(":memory:");
	sub_start();
	run(2000);
	ck_assert_int_eq(gcks_group_info(S.k2, "grp", &si), 0);
	ck_assert(si.sub);
	ck_assert_str_eq(si.parent_state, "member");
	ck_assert_uint_eq(si.data[0].epoch, epoch_of(S.k));
	ck_assert_uint_eq(si.sids_free, 8);
	/* the parent sees it as a sub-GC/KS holding a pool of 8 SIDs */
	gcks_members(S.k, "grp", collect_member, &(struct mcol){ mi, &nb });
	ck_assert_int_eq(nb, 1);
	ck_assert_uint_eq(mi[0].role, POLICY_ROLE_SUBGCKS);
	ck_assert_uint_eq(mi[0].nb_sids, 8);
	/* gw-0 (a sender) registers with the parent, gw-1 and gw-2 with the sub */
	S.via_sub[1] = S.via_sub[2] = true;
	join_all(3);
	e = epoch_of(S.k);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(newest(i)->epoch, e);
		ck_assert_mem_eq(newest(i)->key, newest(0)->key, newest(0)->key_len);
	}
	ck_assert_int_eq(gcks_group_info(S.k2, "grp", &si), 0);
	ck_assert_uint_eq(si.members, 2);
	/* a rekey at the parent reaches the sub's members */
	ck_assert_int_eq(gcks_rekey(S.k, "grp", S.now), 0);
	run(1500);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(newest(i)->epoch, e + 1);
	ck_assert_mem_eq(newest(2)->key, newest(0)->key, newest(0)->key_len);
	/* an eviction at the sub: the parent starts a new epoch; gw-2 does not get it */
	ck_assert_int_eq(gcks_evict(S.k2, "grp", "CN=gw-2,O=msecgw test", S.now), 0);
	run(3000);
	ck_assert_uint_eq(epoch_of(S.k), e + 2);
	ck_assert_uint_eq(newest(0)->epoch, e + 2);
	ck_assert_uint_eq(newest(1)->epoch, e + 2);
	ck_assert_mem_eq(newest(1)->key, newest(0)->key, newest(0)->key_len);
	ck_assert_uint_eq(newest(2)->epoch, e + 1);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &pi), 0);
	ck_assert_uint_eq(pi.ctr[GCKS_C_PROXY_EVICT], 1);   /* repeats answered by one epoch */
	/* an eviction at the parent reaches the sub's remaining member */
	ck_assert_int_eq(gcks_evict(S.k, "grp", "CN=gw-0,O=msecgw test", S.now), 0);
	run(1500);
	ck_assert_uint_eq(epoch_of(S.k), e + 3);
	ck_assert_uint_eq(newest(1)->epoch, e + 3);
	ck_assert_uint_eq(newest(0)->epoch, e + 2);
	ck_assert_uint_eq(newest(2)->epoch, e + 1);
}
END_TEST

static int first_reason(void *arg, const struct gstore_rekey *r)
{
	snprintf(arg, 32, "%s", r->reason);
	return 1;
}

/* Scheduled rekeys (doc/key-management.md §4.1): the token's period (3600 s) comes before its
 * lifetime's margin (7200 s - 720 s), so a new epoch starts an hour in, and members hear
 * heartbeats (a quarter of max_silence, 150 s) in between without re-registering. */
START_TEST(test_scheduled_rekey)
{
	struct gcks_group_info gi;
	char reason[32] = "";
	int64_t t0;

	ks_start(":memory:");
	join_all(2);
	t0 = S.now;
	while (S.now < t0 + 3590 * 1000LL) {
		S.now += 10000;
		run(50);
	}
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.data[0].epoch, 1);
	ck_assert_uint_eq(gi.ctr[GCKS_C_RTJ], 2);        /* no re-registration */
	while (S.now < t0 + 3620 * 1000LL) {
		S.now += 10000;
		run(50);
	}
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.data[0].epoch, 2);
	ck_assert_uint_eq(newest(0)->epoch, 2);
	ck_assert_uint_eq(newest(1)->epoch, 2);
	gstore_rekeys(S.st, "grp", 1, first_reason, reason);
	ck_assert_str_eq(reason, "scheduled");
	ck_assert_uint_eq(gi.ctr[GCKS_C_RTJ], 2);
}
END_TEST

/* The first queued datagram addressed to the key server, taken off the queue. */
static struct datagram take_to_ks(void)
{
	for (int i = S.qh; i != S.qt; i++) {
		struct datagram *d = &S.q[i % MAX_Q];

		if (same(&d->to, &S.ks_addr)) {
			struct datagram out = *d;

			*d = S.q[S.qh++ % MAX_Q];   /* move the head into the hole */
			return out;
		}
	}
	ck_abort_msg("nothing queued for the key server");
	return (struct datagram){ 0 };
}

START_TEST(test_truncated_rtj)
{
	struct gcks_group_info gi;
	struct datagram rtj;

	ks_start(":memory:");
	gm_start(1, &S.gw[1]);
	rtj = take_to_ks();
	/* every prefix and a flipped octet anywhere: refused, nothing staged */
	for (size_t n = 0; n < rtj.len; n++)
		ck_assert_int_lt(gcks_input(S.k, rtj.buf, n, (const struct sockaddr *)&rtj.from,
				sizeof(rtj.from), S.now), 0);
	for (size_t i = 0; i < rtj.len; i += 7) {
		rtj.buf[i] ^= 0x20;
		ck_assert_int_lt(gcks_input(S.k, rtj.buf, rtj.len,
				(const struct sockaddr *)&rtj.from, sizeof(rtj.from), S.now), 0);
		rtj.buf[i] ^= 0x20;
	}
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.pending, 0);
	ck_assert_uint_eq(gi.members, 0);
	ck_assert_uint_eq(gi.ctr[GCKS_C_RTJ], 0);
	ck_assert_uint_gt(gi.ctr[GCKS_C_RATE_LIMITED], 0);   /* one source, hundreds a second */
	/* a second later the intact message still works, and a replayed copy changes nothing */
	S.now += 1000;
	S.sender = &S.ks_addr;
	ck_assert_int_eq(gcks_input(S.k, rtj.buf, rtj.len, (const struct sockaddr *)&rtj.from,
			sizeof(rtj.from), S.now), 0);
	ck_assert_int_eq(gcks_input(S.k, rtj.buf, rtj.len, (const struct sockaddr *)&rtj.from,
			sizeof(rtj.from), S.now), 0);
	free(rtj.buf);
	run(2000);
	ck_assert_int_eq(gm_st(1), GM_ST_MEMBER);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, 1);
	ck_assert_uint_eq(gi.ctr[GCKS_C_RTJ], 1);
}
END_TEST

/* A flood of Requests to Join from spoofed addresses (a member of another CA's signed RTJ,
 * replayed from 2000 sources a second): cookies answer it without signature work, and a
 * genuine member registers in the middle of it. */
START_TEST(test_join_storm)
{
	struct gcks_group_info gi;
	struct datagram fake;
	uint32_t spoof = 0;

	S.cookie_rate = 50;
	ks_start(":memory:");
	gm_start(NB_GM, &S.rogue);
	fake = take_to_ks();
	gm_free(S.m[NB_GM].gm);
	S.m[NB_GM].gm = NULL;
	gm_start(0, &S.gw[0]);
	for (int step = 0; step < 60; step++) {
		for (int j = 0; j < 100; j++) {
			struct sockaddr_in from;

			mk_sin(&from, "10.9.0.0", 3761);
			from.sin_addr.s_addr = htonl(0x0a090000u + (spoof++ & 0xffff));
			S.sender = &S.ks_addr;
			gcks_input(S.k, fake.buf, fake.len, (const struct sockaddr *)&from,
					sizeof(from), S.now);
		}
		run(50);
	}
	free(fake.buf);
	run(3000);
	ck_assert_int_eq(gm_st(0), GM_ST_MEMBER);
	ck_assert_int_eq(gcks_group_info(S.k, "grp", &gi), 0);
	ck_assert_uint_eq(gi.members, 1);
	/* most of the 6000 fakes cost one HMAC: a cookie, no signature verification */
	ck_assert_uint_gt(gi.ctr[GCKS_C_COOKIE_SENT], 5000);
	ck_assert_uint_lt(gi.ctr[GCKS_C_BAD_SIG], 600);
}
END_TEST

Suite *gcks_suite(void);

Suite *gcks_suite(void)
{
	Suite *s = suite_create("gcks");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_evict);
	tcase_add_test(tc, test_depart);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_truncated_rtj);
	tcase_add_test(tc, test_join_storm);
	tcase_add_test(tc, test_lack_of_ack);
	tcase_add_test(tc, test_destroy);
	tcase_add_test(tc, test_sids_after_restart);
	tcase_add_test(tc, test_sub_gcks);
	tcase_add_test(tc, test_scheduled_rekey);
	suite_add_tcase(s, tc);
	return s;
}
