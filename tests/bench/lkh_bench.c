/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-lkh-bench: the key server's LKH (lib/lkh) at scale, with the GSAKMP Rekey Events it
 * would send.
 *
 *   msec-lkh-bench [-d 2,4,8] [-n MEMBERS] [-b BATCH] [-m DATAGRAM] [-s SEED] [-g]
 *                  [-k gcm|kwp] [--json]
 *
 * For each degree: build a tree of MEMBERS (default 10^6) members in one batch (joins and one
 * commit: time, memory), then measure (a) one leave and (b) a batch of BATCH (default 1000)
 * random leaves (a fixed seed), each: the commit's time and wraps, the user-oriented parts
 * (lkh_rekey_parts()) at the most wraps whose message fits a DATAGRAM-octet (default 1400) UDP
 * payload, and those parts built as real signed GSAKMP Rekey Events with lib/gsakmp (profile:
 * doc/gsakmp-profile.md §10): per part, one message {HDR, Rekey Event (type LKH, one Rekey
 * Event Data per wrap, each sealed with AES-256-GCM under the wrapping key and holding one
 * Key Package of type 1 with a Key Datum of key type 49158), Vendor ID}SigS with an Ed25519
 * key made here. Reported: messages, octets on the wire, octets per leave, time to seal and
 * sign. The first message of each run is decoded and each of its blocks opened with its
 * wrapping key as a check. The figures derived in controlplane.md §3.4 are printed beside.
 *
 * When a member's h wraps do not fit one datagram (d = 2 at 10^6 members: h = 20), parts of h
 * wraps are used and the largest message is reported: such a rekey needs IP fragmentation.
 *
 * By default a message carries the LKH wraps only. With -g every message also carries the
 * traffic-key block of doc/key-management.md §4.2 (here one GTPK package, AES-GCM-256 KEYMAT,
 * Key ID 0x80000000, under the new root key; the data SA package 193 it would also hold is left
 * out), and the parts get smaller to make room. -k kwp seals blocks with AES-256 key wrap with
 * padding (RFC 5649, mechanism 49154) instead of AES-256-GCM.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gsakmp.h"
#include "gsakmp_crypto.h"
#include "lkh.h"

#define MSG_CAP 65536u
#define NOW INT64_C(1772366400)   /* 2026-03-01 12:00:00 UTC: fixed, nothing depends on it */
#define KEY_LIFE 86400

struct opts {
	uint32_t degrees[8];
	uint32_t nb_degrees;
	uint32_t members;
	uint32_t batch;
	uint32_t datagram;
	uint64_t seed;
	bool gtpk;
	uint16_t alg;
	bool json;
};

/* What one rekey (a commit) cost, from the commit to the signed messages. */
struct run {
	const char *name;
	uint32_t leaves;
	double commit_ms;
	struct lkh_rekey_stats st;
	uint32_t max_wraps;         /* per part */
	bool fits;                  /* max_wraps >= h at the datagram size */
	double split_ms;
	uint32_t parts;
	uint64_t part_wraps;        /* sum over parts: wraps sent, duplicates included */
	uint64_t bytes;
	uint32_t largest;
	double seal_sign_ms;
	uint32_t packed_msgs;       /* the wraps packed into datagrams in order, not per member */
	uint64_t packed_bytes;
};

struct bench {
	struct opts o;
	struct gsakmp_key *key;
	struct gsakmp_hdr hdr;
	struct gsakmp_kd *pkgs;
	uint8_t *msg;
	uint32_t seq;
	uint64_t rs;
	uint32_t base;              /* message octets besides its Rekey Event Data */
	uint32_t per_wrap;          /* octets of one Rekey Event Data (one wrap) */
	uint32_t gtpk_block;        /* octets of a Rekey Event Data holding a GTPK */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "msec-lkh-bench: %s: %d\n", what, rc);
	exit(1);
}

/* ------------------------------------------------------------------ GSAKMP */

/* An Ed25519 signing key with a self-signed certificate (gsakmp_key_new() wants one). */
static struct gsakmp_key *make_key(void)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct gsakmp_key *key = NULL;
	X509 *x = X509_new();
	X509_NAME *n;
	int rc;

	if (pk == NULL || x == NULL)
		die("keygen", -ENOMEM);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(NOW - 86400));
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(NOW + 365 * 86400));
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"gcks.example",
			-1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, pk);
	if (X509_sign(x, pk, NULL) <= 0)
		die("X509_sign", -EIO);
	rc = gsakmp_key_new(pk, x, &key);
	if (rc != 0)
		die("gsakmp_key_new", rc);
	EVP_PKEY_free(pk);
	X509_free(x);
	return key;
}

static void datum(struct gsakmp_key_datum *d, uint16_t type, uint32_t id, uint32_t handle,
		const uint8_t *key, uint16_t len)
{
	d->type = type;
	d->key_len = len;
	d->id = id;
	d->handle = handle;
	d->created = NOW;
	d->expires = NOW + KEY_LIFE;
	d->key = key;
}

/* One Rekey Event Data: the new key of w->id sealed under the key of w->kek_id. */
static int add_wrap(struct bench *b, struct gsakmp_enc *e, const struct lkh_wrap *w)
{
	b->pkgs->nb_items = 1;
	b->pkgs->nb_keys = 0;
	b->pkgs->items[0].type = GSAKMP_KDD_REKEY_LKH;
	datum(&b->pkgs->items[0].u.datum, GSAKMP_KEY_AES_256_KEK, w->id, w->handle, w->key,
			LKH_KEY_LEN);
	return gsakmp_enc_rekey_data_sealed(e, w->kek_id, w->kek_handle, b->pkgs, b->o.alg,
			w->kek);
}

/* The traffic-key block: a GTPK under the new root key (root: a wrap whose target is 1). */
static int add_gtpk(struct bench *b, struct gsakmp_enc *e, const struct lkh_wrap *root)
{
	static const uint8_t gtpk[36];

	b->pkgs->nb_items = 1;
	b->pkgs->nb_keys = 0;
	b->pkgs->items[0].type = GSAKMP_KDD_GTPK;
	datum(&b->pkgs->items[0].u.datum, GSAKMP_KEY_AES_GCM_256, UINT32_C(0x80000000), 1, gtpk,
			sizeof(gtpk));
	return gsakmp_enc_rekey_data_sealed(e, 1, root->handle, b->pkgs, b->o.alg, root->key);
}

/*
 * One signed Rekey Event carrying wraps[idx[0..n)] (all of them when idx is NULL), and the
 * traffic-key block when root is not NULL.
 */
static int build_msg(struct bench *b, const struct lkh_wrap *wraps, const uint32_t *idx,
		uint32_t n, const struct lkh_wrap *root, size_t *len)
{
	static const uint8_t vid[] = GSAKMP_PROFILE_VID;
	struct gsakmp_enc *e;
	uint32_t i;
	int rc;

	b->hdr.seq = ++b->seq;
	rc = gsakmp_enc_init(&e, b->msg, MSG_CAP, &b->hdr);
	if (rc != 0)
		return rc;
	gsakmp_enc_payload_rekey(e, GSAKMP_REKEY_LKH, 1, NOW);
	for (i = 0; i < n; i++)
		add_wrap(b, e, &wraps[idx != NULL ? idx[i] : i]);
	if (root != NULL)
		add_gtpk(b, e, root);
	gsakmp_enc_rekey_end(e);
	gsakmp_enc_payload_vid(e, vid, GSAKMP_PROFILE_VID_LEN);
	gsakmp_enc_payload_sig(e, b->key, GSAKMP_ID_DN_STRING, NOW);
	rc = gsakmp_enc_finish(e, len);
	b->pkgs->items[0].u.datum.key = NULL;
	return rc;
}

/* Decode a message and open each block with its wrapping key: the bytes are what we meant. */
static void check_msg(struct bench *b, size_t len, const struct lkh_wrap *wraps,
		const uint32_t *idx, uint32_t n, const struct lkh_wrap *root)
{
	static struct gsakmp_msg m;
	const struct gsakmp_payload *pl;
	struct gsakmp_red_iter it;
	struct gsakmp_red red;
	uint8_t plain[512];
	uint32_t i = 0;
	int rc;

	rc = gsakmp_decode(b->msg, len, &m, NULL);
	if (rc != 0)
		die("gsakmp_decode", rc);
	pl = gsakmp_msg_find(&m, GSAKMP_PL_REKEY_EVENT, 0);
	if (pl == NULL || pl->u.rekey.nb_data != n + (root != NULL))
		die("rekey event", -EBADMSG);
	gsakmp_red_iter_init(&it, &pl->u.rekey);
	while (gsakmp_red_next(&it, &red)) {
		const struct gsakmp_key_datum *d = &b->pkgs->items[0].u.datum;
		const struct lkh_wrap *w = i < n ? &wraps[idx[i]] : NULL;

		if (w == NULL) {
			/* the traffic-key block */
			rc = gsakmp_red_open(&m, &red, b->o.alg, root->key, plain, sizeof(plain),
					b->pkgs);
			if (rc != 0)
				die("traffic-key block", rc);
			if (red.wrap_id != 1 || b->pkgs->items[0].type != GSAKMP_KDD_GTPK)
				die("traffic-key block", -EBADMSG);
			i++;
			continue;
		}
		i++;
		rc = gsakmp_red_open(&m, &red, b->o.alg, w->kek, plain, sizeof(plain), b->pkgs);
		if (rc != 0)
			die("gsakmp_red_open", rc);
		if (red.wrap_id != w->kek_id || d->id != w->id || d->handle != w->handle ||
				CRYPTO_memcmp(d->key, w->key, LKH_KEY_LEN) != 0)
			die("opened block differs", -EBADMSG);
		OPENSSL_cleanse(plain, sizeof(plain));
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	if (i != n + (root != NULL))
		die("block count", -EBADMSG);
	b->pkgs->items[0].u.datum.key = NULL;
}

/* Message octets: a fixed part, then per Rekey Event Data; and the traffic-key block. */
static void measure_sizes(struct bench *b)
{
	struct lkh_wrap w[2];
	size_t l1, l2, l3;

	memset(w, 0, sizeof(w));
	for (int i = 0; i < 2; i++) {
		w[i].kek_id = 2 + i;
		w[i].kek_handle = 1;
		w[i].id = 1;
		w[i].handle = 2;
	}
	if (build_msg(b, w, NULL, 1, NULL, &l1) != 0 ||
			build_msg(b, w, NULL, 2, NULL, &l2) != 0 ||
			build_msg(b, w, NULL, 1, &w[0], &l3) != 0)
		die("sizing", -EIO);
	b->per_wrap = (uint32_t)(l2 - l1);
	b->base = (uint32_t)(l1 - b->per_wrap);
	b->gtpk_block = (uint32_t)(l3 - l1);
	b->seq = 0;
}

/* ------------------------------------------------------------------ runs */

static void rekey_run(struct bench *b, struct lkh_tree *t, struct run *r)
{
	const struct lkh_wrap *wraps;
	struct lkh_parts *parts = NULL;
	struct lkh_rekey *rk = NULL;
	struct lkh_part p;
	const struct lkh_wrap *root = NULL;
	uint32_t h = lkh_height(t), nw, fit, room, i;
	double t0;
	size_t len;
	int rc;

	t0 = now_ms();
	rc = lkh_commit(t, &rk);
	r->commit_ms = now_ms() - t0;
	if (rc != 0)
		die("lkh_commit", rc);
	lkh_rekey_stats(rk, &r->st);
	wraps = lkh_rekey_wraps(rk, &nw);
	if (b->o.gtpk && nw != 0)
		root = &wraps[nw - 1];   /* the last wraps target the root */

	room = b->base + (b->o.gtpk ? b->gtpk_block : 0);
	fit = b->o.datagram > room ? (b->o.datagram - room) / b->per_wrap : 0;
	r->fits = fit >= h;
	r->max_wraps = r->fits ? fit : h;
	t0 = now_ms();
	rc = lkh_rekey_parts(rk, r->max_wraps, &parts);
	r->split_ms = now_ms() - t0;
	if (rc != 0)
		die("lkh_rekey_parts", rc);
	r->parts = lkh_parts_count(parts);
	/* for comparison: every wrap once, as many per datagram as fit (members then need
	 * several datagrams, and a lost one costs every member below its wraps) */
	r->packed_msgs = (nw + r->max_wraps - 1) / r->max_wraps;
	r->packed_bytes = (uint64_t)nw * b->per_wrap + (uint64_t)r->packed_msgs * room;

	t0 = now_ms();
	for (i = 0; i < r->parts; i++) {
		lkh_parts_get(parts, i, &p);
		rc = build_msg(b, wraps, p.wraps, p.nb_wraps, root, &len);
		if (rc != 0)
			die("build_msg", rc);
		r->part_wraps += p.nb_wraps;
		r->bytes += len;
		if (len > r->largest)
			r->largest = (uint32_t)len;
		if (i == 0) {
			/* outside the timing: decode and open */
			double c0 = now_ms();

			check_msg(b, len, wraps, p.wraps, p.nb_wraps, root);
			t0 += now_ms() - c0;
		}
	}
	r->seal_sign_ms = now_ms() - t0;
	OPENSSL_cleanse(b->msg, MSG_CAP);
	lkh_parts_free(parts);
	lkh_rekey_free(rk);
}

static void print_run(const struct bench *b, uint32_t d, const struct run *r, double ref)
{
	if (b->o.json) {
		printf("{\"degree\": %u, \"run\": \"%s\", \"leaves\": %u, \"commit_ms\": %.3f, "
			"\"wraps\": %u, \"reference_wraps\": %.0f, \"rekeyed\": %u, "
			"\"wraps_per_leave\": %.2f, \"max_wraps_per_part\": %u, \"fits\": %s, "
			"\"split_ms\": %.3f, \"parts\": %u, \"part_wraps\": %" PRIu64 ", "
			"\"bytes\": %" PRIu64 ", \"bytes_per_leave\": %.0f, \"largest\": %u, "
			"\"seal_sign_ms\": %.3f, \"packed_messages\": %u, "
			"\"packed_bytes\": %" PRIu64 "}\n",
			d, r->name, r->leaves, r->commit_ms, r->st.wraps, ref, r->st.rekeyed,
			(double)r->st.wraps / r->leaves, r->max_wraps, r->fits ? "true" : "false",
			r->split_ms, r->parts, r->part_wraps, r->bytes,
			(double)r->bytes / r->leaves, r->largest, r->seal_sign_ms,
			r->packed_msgs, r->packed_bytes);
		return;
	}
	printf("  %s (%u): commit %.2f ms, %u wraps", r->name, r->leaves, r->commit_ms,
		r->st.wraps);
	if (ref > 0)
		printf(" (reference %.0f)", ref);
	printf(", %.1f per leave, %u keys replaced\n", (double)r->st.wraps / r->leaves,
		r->st.rekeyed);
	printf("    parts of <= %u wraps%s: %u parts in %.2f ms, %" PRIu64 " wraps sent "
		"(x%.2f)\n", r->max_wraps,
		r->fits ? "" : " (h wraps do NOT fit the datagram)", r->parts, r->split_ms,
		r->part_wraps, r->st.wraps ? (double)r->part_wraps / r->st.wraps : 0.0);
	printf("    GSAKMP Rekey Events: %u messages, %" PRIu64 " octets (%.0f per leave), "
		"largest %u, seal + sign %.1f ms (%.1f us per message)\n", r->parts, r->bytes,
		(double)r->bytes / r->leaves, r->largest, r->seal_sign_ms,
		r->parts ? r->seal_sign_ms * 1e3 / r->parts : 0.0);
	printf("    (each wrap once, packed %u to a datagram, not per member: %u messages, "
		"%" PRIu64 " octets)\n", r->max_wraps, r->packed_msgs, r->packed_bytes);
}

/*
 * Reference figures (controlplane.md §3.4, 10^6 members): a single leave (d * h - 1, fewer
 * for d = 8 where the tree is about half full) and the simulated batch of 1000 random leaves.
 */
static void reference(uint32_t d, double *single, double *batch)
{
	*single = d == 2 ? 39 : d == 4 ? 39 : d == 8 ? 49 : 0;
	*batch = d == 2 ? 19232 : d == 4 ? 18170 : d == 8 ? 23181 : 0;
}

static void run_degree(struct bench *b, uint32_t d)
{
	struct lkh_params p = { .degree = d, .max_members = b->o.members };
	struct run single = { .name = "single leave", .leaves = 1 };
	struct run batch = { .name = "batch leave", .leaves = b->o.batch };
	struct lkh_rekey_stats st;
	struct lkh_rekey *rk = NULL;
	struct lkh_tree *t = NULL;
	double t0, t_join, t_commit, ref1, refb;
	uint32_t i, mid, n;
	int rc;

	rc = lkh_create(&p, &t);
	if (rc != 0)
		die("lkh_create", rc);
	t0 = now_ms();
	for (i = 0; i < b->o.members; i++) {
		rc = lkh_join(t, &mid);
		if (rc != 0)
			die("lkh_join", rc);
	}
	t_join = now_ms() - t0;
	t0 = now_ms();
	rc = lkh_commit(t, &rk);
	t_commit = now_ms() - t0;
	if (rc != 0)
		die("lkh_commit", rc);
	lkh_rekey_stats(rk, &st);
	lkh_rekey_free(rk);
	reference(d, &ref1, &refb);
	if (b->o.members != 1000000)
		ref1 = refb = 0;

	if (b->o.json)
		printf("{\"degree\": %u, \"run\": \"build\", \"members\": %u, \"height\": %u, "
			"\"join_ms\": %.1f, \"commit_ms\": %.1f, \"keys\": %u, \"wraps\": %u, "
			"\"memory\": %zu, \"message_base\": %u, \"per_wrap\": %u, "
			"\"gtpk_block\": %u, \"gtpk_in_messages\": %s, \"kek_alg\": %u}\n", d,
			b->o.members, lkh_height(t), t_join, t_commit, st.rekeyed, st.wraps,
			lkh_memory(t), b->base, b->per_wrap, b->gtpk_block,
			b->o.gtpk ? "true" : "false", b->o.alg);
	else
		printf("d = %u, h = %u: %u members joined in %.0f ms, committed in %.0f ms "
			"(%u keys, %u wraps: all joiners), %.1f MiB\n", d, lkh_height(t),
			b->o.members, t_join, t_commit, st.rekeyed, st.wraps,
			lkh_memory(t) / 1048576.0);

	/* (a) one leave */
	do {
		mid = (uint32_t)(rng_next(&b->rs) % b->o.members) + 1;
	} while (!lkh_is_member(t, mid));
	rc = lkh_leave(t, mid);
	if (rc != 0)
		die("lkh_leave", rc);
	rekey_run(b, t, &single);
	print_run(b, d, &single, ref1);

	/* (b) a batch of random leaves */
	for (n = 0; n < b->o.batch;) {
		mid = (uint32_t)(rng_next(&b->rs) % b->o.members) + 1;
		if (!lkh_is_member(t, mid))
			continue;
		rc = lkh_leave(t, mid);
		if (rc != 0)
			die("lkh_leave", rc);
		n++;
	}
	rekey_run(b, t, &batch);
	print_run(b, d, &batch, b->o.batch == 1000 ? refb : 0);
	t0 = now_ms();
	lkh_free(t);
	if (!b->o.json)
		printf("  freed (every key wiped) in %.0f ms\n", now_ms() - t0);
}

static int parse_degrees(const char *s, struct opts *o)
{
	char *end;

	o->nb_degrees = 0;
	while (*s != '\0') {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < LKH_DEGREE_MIN || v > LKH_DEGREE_MAX || o->nb_degrees == 8)
			return -EINVAL;
		o->degrees[o->nb_degrees++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -EINVAL;
	}
	return o->nb_degrees != 0 ? 0 : -EINVAL;
}

static void usage(void)
{
	fprintf(stderr, "usage: msec-lkh-bench [-d 2,4,8] [-n MEMBERS] [-b BATCH] "
		"[-m DATAGRAM] [-s SEED] [-g] [-k gcm|kwp] [--json]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint8_t name[] = "lkh-bench";
	struct bench b = {
		.o = { .degrees = { 2, 4, 8 }, .nb_degrees = 3, .members = 1000000, .batch = 1000,
			.datagram = 1400, .seed = 1, .alg = GSAKMP_KEK_AES256_GCM },
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:n:b:m:s:gk:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_degrees(optarg, &b.o) != 0)
				usage();
			break;
		case 'n':
			b.o.members = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			b.o.batch = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			b.o.datagram = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			b.o.seed = strtoull(optarg, NULL, 10);
			break;
		case 'g':
			b.o.gtpk = true;
			break;
		case 'k':
			if (strcmp(optarg, "gcm") == 0)
				b.o.alg = GSAKMP_KEK_AES256_GCM;
			else if (strcmp(optarg, "kwp") == 0)
				b.o.alg = GSAKMP_KEK_AES256_KWP;
			else
				usage();
			break;
		case 'j':
			b.o.json = true;
			break;
		default:
			usage();
		}
	}
	if (b.o.members < 2 || b.o.members > LKH_MAX_MEMBERS || b.o.batch == 0 ||
			b.o.batch >= b.o.members)
		usage();

	b.key = make_key();
	b.pkgs = calloc(1, sizeof(*b.pkgs));
	b.msg = malloc(MSG_CAP);
	if (b.pkgs == NULL || b.msg == NULL)
		die("malloc", -ENOMEM);
	b.hdr.gid_type = GSAKMP_GID_OCTETS;
	b.hdr.gid_len = (uint8_t)(GSAKMP_GID_RANDOM_LEN + sizeof(name) - 1);
	if (gsakmp_random(b.hdr.gid, GSAKMP_GID_RANDOM_LEN) != 0)
		die("gsakmp_random", -EIO);
	memcpy(b.hdr.gid + GSAKMP_GID_RANDOM_LEN, name, sizeof(name) - 1);
	b.hdr.version = GSAKMP_VERSION;
	b.hdr.exch = GSAKMP_EXCH_REKEY;
	measure_sizes(&b);

	if (!b.o.json) {
		printf("msec-lkh-bench: %u members, batch of %u leaves, seed %" PRIu64
			", datagram %u octets\n", b.o.members, b.o.batch, b.o.seed, b.o.datagram);
		printf("Rekey Event message (%s): %u octets + %u per wrap (header L = %u, Vendor "
			"ID, Ed25519 signature, signer \"CN=gcks.example\"); traffic-key block %u "
			"(%s)\n", b.o.alg == GSAKMP_KEK_AES256_GCM ? "AES-256-GCM" :
			"AES-256 KWP", b.base, b.per_wrap, b.hdr.gid_len, b.gtpk_block,
			b.o.gtpk ? "in every message" : "not sent, -g");
		printf("reference (controlplane.md 3.4, 10^6 members): single leave 39 / 39 / 49 "
			"wraps, batch of 1000: 19,232 / 18,170 / 23,181 wraps for d = 2 / 4 / 8\n");
	}
	for (uint32_t i = 0; i < b.o.nb_degrees; i++) {
		b.rs = b.o.seed;
		run_degree(&b, b.o.degrees[i]);
	}
	gsakmp_key_free(b.key);
	free(b.pkgs);
	free(b.msg);
	return 0;
}
