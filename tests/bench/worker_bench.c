/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-worker-bench: TSC cycles per packet of msecgw's fast path without I/O, on this CPU.
 *
 *   msec-worker-bench [EAL options] -- worker -c CONFIG -f PCAP -p PORT [options]
 *       The worker's path (gw_worker_rx(): parse, policy or SA lookup, ESP, crypto, L2, into
 *       the TX buffers) for the frames of PCAP arriving on port PORT (a name from CONFIG).
 *       The configuration is installed exactly as msecgw installs it.
 *   msec-worker-bench [EAL options] -- replay [-s SIZE] [-w WINDOW] [options]
 *       mesp_inb_burst() with a replay window of WINDOW packets and with none, on packets that
 *       mesp_outb_burst() has just sealed with fresh sequence numbers; and the window alone
 *       (mesp_replay_check64() + mesp_replay_update() in order).
 *   msec-worker-bench [EAL options] -- tesla [-s SIZE] [-m MAC] [-P PER_INTERVAL]
 *       TESLA on and off on one SA, sender and receiver, on a simulated clock (10 ms
 *       intervals, d = 2, PER_INTERVAL packets each): cycles per packet, the latency TESLA
 *       adds and the memory it holds (run_tesla()).
 *   msec-worker-bench [EAL options] -- crypto [-s SIZE] [-k SUITE] [-a 8|12]
 *       the crypto engine's seal and open alone on SIZE bytes (the floor under everything), for
 *       any suite of mcrypto.h (aes-gcm-128, aes-gcm-256, aes-gmac-128,
 *       aes-ctr-128-hmac-sha256-128, null-hmac-sha256-128); -a 12 is the ESN AAD.
 *
 * Options: -n BURSTS per repetition (default 2000), -r REPETITIONS (default 15), -b BURST
 * (default 32), --json (one JSON object per result on its own line).
 *
 * What is timed: rte_rdtsc() around the measured call of each burst only. Filling mbufs from the
 * capture (a copy, as net_pcap's infinite_rx does) and freeing them afterwards (as net_null does)
 * are outside the timed region but leave the caches as a real run would. Each repetition gives
 * cycles per packet; the result is the minimum and the median over repetitions. On a loaded
 * machine trust the minimum: preemption only ever adds cycles. For instruction counts that do
 * not depend on load at all, run this program under valgrind --tool=callgrind (build with
 * -Dcpu=x86-64-v3: valgrind has no AVX-512).
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "gw.h"
#include "mesp_replay.h"
#include "tesla.h"

int gw_logtype;         /* main.c registers it in msecgw; sadb.c only uses it through GW_LOG */

struct opts {
	const char *mode;
	const char *config;
	const char *pcap;
	const char *port;
	const char *suite;
	uint32_t bursts;
	uint32_t reps;
	uint16_t burst;
	uint32_t size;
	uint32_t window;
	uint32_t aad_len;
	uint32_t per_interval;
	const char *mac;
	bool json;
};

struct frames {
	uint32_t n;
	uint16_t *len;
	uint8_t **data;
	struct rte_mbuf **store;    /* the frames in mbufs of their own pool, when set */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("msec-worker-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double min, median;
};

static struct result summarize(double *v, uint32_t n)
{
	struct result r;

	qsort(v, n, sizeof(*v), cmp_double);
	r.min = v[0];
	r.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return r;
}

static void report(const struct opts *o, const char *what, struct result r, const char *extra)
{
	if (o->json)
		printf("{\"what\": \"%s\", \"cycles_min\": %.1f, \"cycles_median\": %.1f%s%s}\n",
				what, r.min, r.median, extra[0] ? ", " : "", extra);
	else
		printf("%-44s %8.1f cycles/pkt (median %.1f)%s%s\n", what, r.min, r.median,
				extra[0] ? "  " : "", extra);
	fflush(stdout);
}

/* ------------------------------------------------------------------ captures */

static void read_pcap(const char *path, struct frames *f)
{
	uint8_t hdr[24], rec[16];
	FILE *fp = fopen(path, "rb");
	uint32_t cap = 0;

	if (fp == NULL)
		die("%s: %s", path, strerror(errno));
	/* microsecond or nanosecond timestamps (libpcap writes either), little-endian */
	if (fread(hdr, 1, sizeof(hdr), fp) != sizeof(hdr) || (memcmp(hdr, "\xd4\xc3\xb2\xa1", 4) &&
			memcmp(hdr, "\x4d\x3c\xb2\xa1", 4)))
		die("%s: not a little-endian classic pcap", path);
	memset(f, 0, sizeof(*f));
	while (fread(rec, 1, sizeof(rec), fp) == sizeof(rec)) {
		uint32_t caplen;

		memcpy(&caplen, rec + 8, 4);
		if (caplen == 0 || caplen > 9000)
			die("%s: frame %u: length %u", path, f->n, caplen);
		if (f->n == cap) {
			cap = cap ? 2 * cap : 1024;
			f->len = realloc(f->len, cap * sizeof(*f->len));
			f->data = realloc(f->data, cap * sizeof(*f->data));
			if (f->len == NULL || f->data == NULL)
				die("out of memory");
		}
		f->data[f->n] = malloc(caplen);
		if (f->data[f->n] == NULL || fread(f->data[f->n], 1, caplen, fp) != caplen)
			die("%s: truncated", path);
		f->len[f->n++] = (uint16_t)caplen;
	}
	fclose(fp);
	if (f->n == 0)
		die("%s: no frames", path);
}

/* Allocate n mbufs and copy the next n frames into them (what net_pcap's infinite_rx does). */
static void fill(struct rte_mempool *mp, const struct frames *f, uint32_t *pos,
		struct rte_mbuf **m, uint16_t n, uint32_t skip)
{
	if (rte_pktmbuf_alloc_bulk(mp, m, n) != 0)
		die("mbuf pool empty");
	for (uint16_t i = 0; i < n; i++) {
		uint32_t k = *pos;
		uint16_t len = (uint16_t)(f->len[k] - skip);
		const uint8_t *src = f->store != NULL ?
			rte_pktmbuf_mtod(f->store[k], const uint8_t *) : f->data[k];

		*pos = k + 1 == f->n ? 0 : k + 1;
		rte_memcpy(rte_pktmbuf_mtod(m[i], void *), src + skip, len);
		m[i]->data_len = len;
		m[i]->pkt_len = len;
	}
}

/* ------------------------------------------------------------------ worker */

static void run_worker(const struct opts *o)
{
	static struct gw gw;
	struct gsad_params dp;
	struct gw_worker *w;
	struct frames f;
	char err[GWCONF_ERR_MAX > 512 ? GWCONF_ERR_MAX : 512];
	int rxport = -1;
	size_t sz;
	int rc;

	if (o->config == NULL || o->pcap == NULL || o->port == NULL)
		die("worker needs -c CONFIG -f PCAP -p PORT");
	read_pcap(o->pcap, &f);
	if (gwconf_load_file(o->config, &gw.conf, err) != 0)
		die("%s", err);
	pthread_mutex_init(&gw.lock, NULL);
	gw.ctl_fd = -1;
	gw.burst = o->burst;
	gw.nb_workers = 1;
	w = rte_zmalloc("bench_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (w == NULL)
		die("out of memory");
	w->lc.sa_ctr = rte_zmalloc("bench_ctr", gw.conf->max_sas * sizeof(struct mesp_sa_ctr),
			RTE_CACHE_LINE_SIZE);
	if (w->lc.sa_ctr == NULL)
		die("out of memory");
	w->lc.max_sas = gw.conf->max_sas;
	w->gw = &gw;
	gw.worker[0] = w;
	gw.lcs[0] = &w->lc;
	gw.pool = rte_pktmbuf_pool_create("bench_mbufs", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			(int)rte_socket_id());
	if (gw.pool == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));
	sz = rte_rcu_qsbr_get_memsize(1);
	gw.qsv = rte_zmalloc("bench_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (gw.qsv == NULL)
		die("out of memory");
	rte_rcu_qsbr_init(gw.qsv, 1);
	memset(&dp, 0, sizeof(dp));
	dp.max_sas = gw.conf->max_sas;
	dp.max_senders = gw.conf->max_senders;
	dp.qsv = gw.qsv;
	dp.nb_lcores = 1;
	dp.lcores = gw.lcs;
	rc = gsad_create(&dp, &gw.db);
	if (rc != 0)
		die("gsad_create: %s", strerror(-rc));
	/* ports as gw_ports_init() sets them up, without devices: the worker never transmits
	 * here (gw_worker_rx() stops at the TX buffers) */
	gw.nb_ports = gw.conf->nb_ports;
	for (uint16_t i = 0; i < gw.nb_ports; i++) {
		struct gw_port *p = &gw.port[i];
		const struct gwconf_port *cp = &gw.conf->ports[i];

		memcpy(p->name, cp->name, sizeof(p->name));
		p->port_id = i;
		p->role = cp->role;
		p->dflt = cp->dflt;
		p->mtu = cp->mtu;
		p->peer = i;
		for (uint16_t j = 0; j < gw.nb_ports; j++)
			if (gw.conf->ports[j].role != p->role) {
				p->peer = j;
				break;
			}
		p->mac.addr_bytes[0] = 0x02;
		p->mac.addr_bytes[5] = (uint8_t)i;
		if (strcmp(cp->name, o->port) == 0)
			rxport = i;
	}
	if (rxport < 0)
		die("%s: no port named %s", o->config, o->port);
	/*
	 * Keep the capture in mbufs of a pool of its own, as net_pcap's infinite_rx does: the copy
	 * into each received mbuf then streams through as much memory as in a real run (one
	 * mbuf-sized slot per frame, 4000 frames = 9 MiB), evicting from the caches what the
	 * worker's SAs and tables would otherwise keep there.
	 */
	struct rte_mempool *store = rte_pktmbuf_pool_create("bench_store", f.n, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());

	if (store == NULL)
		die("capture pool: %s", rte_strerror(rte_errno));
	f.store = calloc(f.n, sizeof(*f.store));
	if (f.store == NULL || rte_pktmbuf_alloc_bulk(store, f.store, f.n) != 0)
		die("capture pool: out of mbufs");
	for (uint32_t k = 0; k < f.n; k++) {
		if (rte_pktmbuf_append(f.store[k], f.len[k]) == NULL)
			die("frame %u does not fit an mbuf", k);
		memcpy(rte_pktmbuf_mtod(f.store[k], void *), f.data[k], f.len[k]);
	}
	if (gw_install_config(&gw, err, sizeof(err)) != 0)
		die("%s", err);
	/* as a worker does once it runs: the installs above retired snapshots freely */
	rte_rcu_qsbr_thread_register(gw.qsv, 0);
	rte_rcu_qsbr_thread_online(gw.qsv, 0);

	double *per = calloc(o->reps, sizeof(double));
	struct rte_mbuf *pkts[MESP_MAX_BURST];
	uint32_t pos = 0;
	uint64_t total = 0, out = 0;

	if (per == NULL)
		die("out of memory");
	/* one untimed repetition first: caches, branch predictors, lazily touched pages */
	for (uint32_t r = 0; r <= o->reps; r++) {
		uint64_t cyc = 0, pk = 0;

		for (uint32_t b = 0; b < o->bursts; b++) {
			const struct gsad_snap *snap = gsad_snap_get(gw.db);
			uint64_t t0, t1;

			fill(gw.pool, &f, &pos, pkts, o->burst, 0);
			t0 = rte_rdtsc();
			gw_worker_rx(w, snap, (uint16_t)rxport, pkts, o->burst, t0);
			t1 = rte_rdtsc();
			cyc += t1 - t0;
			pk += o->burst;
			for (uint16_t p = 0; p < gw.nb_ports; p++) {
				if (r != 0)
					out += w->txn[p];
				rte_pktmbuf_free_bulk(w->txb[p], w->txn[p]);
				w->txn[p] = 0;
			}
			rte_rcu_qsbr_quiescent(gw.qsv, 0);
		}
		if (r != 0) {
			per[r - 1] = (double)cyc / (double)pk;
			total += pk;
		}
	}
	uint64_t drops = 0;
	for (int d = 0; d < MESP_DROP_MAX; d++)
		drops += w->lc.drops[d];
	char extra[256];
	snprintf(extra, sizeof(extra), o->json ? "\"packets\": %" PRIu64 ", \"out\": %" PRIu64
			", \"drops\": %" PRIu64 ", \"frames\": %u" :
			"(%" PRIu64 " packets, %" PRIu64 " out, %" PRIu64 " dropped, %u frames)",
			total, out, drops, f.n);
	char what[128];
	snprintf(what, sizeof(what), "worker %s", gw.port[rxport].role == GWCONF_ROLE_PROTECTED ?
			"encrypt" : "decrypt");
	report(o, what, summarize(per, o->reps), extra);
	if (drops != 0) {
		for (int d = 0; d < MESP_DROP_MAX; d++)
			if (w->lc.drops[d])
				fprintf(stderr, "msec-worker-bench: drop %s: %" PRIu64 "\n",
						mesp_drop_name(d), w->lc.drops[d]);
	}
	rte_rcu_qsbr_thread_offline(gw.qsv, 0);
	rte_rcu_qsbr_thread_unregister(gw.qsv, 0);
	free(per);
}

/* ------------------------------------------------------------------ replay */

/* One IPv4 UDP packet of `size` frame bytes (L2 not included in the packet itself). */
static void plain_ipv4(uint8_t *buf, uint32_t frame_size, uint16_t *len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	uint16_t tot = (uint16_t)(frame_size - RTE_ETHER_HDR_LEN);

	memset(buf, 0xa5, tot);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	/* not RTE_IPV4(): in 22.11 it shifts an int left into the sign bit for 232.x.x.x */
	ip->src_addr = rte_cpu_to_be_32(UINT32_C(0x0a010001));    /* 10.1.0.1 */
	ip->dst_addr = rte_cpu_to_be_32(UINT32_C(0xe8010001));    /* 232.1.0.1 */
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*len = tot;
}

/* AES-128 key || salt of the benchmark's SAs */
static const uint8_t bench_keymat[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	0xa0, 0xa1, 0xa2, 0xa3 };

/* An AES-GCM-128 SA for 232.1.0.1 from 10.1.0.1, SID 0; with `tesla`, counter set 1. */
static struct mesp_sa *mk_sa(uint8_t dir, uint32_t window, const struct mesp_tesla_conf *tesla)
{
	static const uint16_t sid0 = 0;
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	int rc;

	memset(&c, 0, sizeof(c));
	c.spi = 0x1000;
	c.family = AF_INET;
	c.dir = dir;
	c.has_src = true;
	c.esn = true;
	c.dst[0] = 232, c.dst[1] = 1, c.dst[3] = 1;
	c.src[0] = 10, c.src[1] = 1, c.src[3] = 1;
	c.suite = MCRYPTO_SUITE_AES_GCM_128;
	c.keymat = bench_keymat;
	c.keymat_len = 20;
	c.sid_bits = 8;
	if (dir & MESP_SA_OUT) {
		c.nb_sids = 1;
		c.sids = &sid0;
	}
	c.replay_window = window;
	c.max_senders = 16;
	c.ttl = MESP_COPY;
	c.dscp = MESP_COPY;
	c.stats_id = tesla != NULL ? 1 : 0;
	c.tesla = tesla;
	rc = mesp_sa_create(&c, NULL, &sa);
	if (rc != 0)
		die("mesp_sa_create: %s", strerror(-rc));
	return sa;
}

static void run_replay(const struct opts *o)
{
	struct mesp_sa_ctr ctr[1];
	struct mesp_lcore lc;
	struct rte_mempool *mp;
	struct frames f;
	uint8_t buf[2048];
	uint16_t len;

	if (o->window == 0)
		die("replay: -w must be at least 1");
	memset(&lc, 0, sizeof(lc));
	memset(ctr, 0, sizeof(ctr));
	lc.sa_ctr = ctr;
	lc.max_sas = 1;
	mp = rte_pktmbuf_pool_create("bench_replay", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			(int)rte_socket_id());
	if (mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));
	plain_ipv4(buf, o->size, &len);
	f.n = 1;
	f.len = &len;
	f.data = (uint8_t *[]){ buf };
	f.store = NULL;

	struct mesp_sa *tx = mk_sa(MESP_SA_OUT, 0, NULL);
	struct mesp_sa *rx_on = mk_sa(MESP_SA_IN, o->window, NULL);
	struct mesp_sa *rx_off = mk_sa(MESP_SA_IN, 0, NULL);
	struct mesp_sa *txs[MESP_MAX_BURST], *ons[MESP_MAX_BURST], *offs[MESP_MAX_BURST];
	double *on = calloc(o->reps, sizeof(double)), *off = calloc(o->reps, sizeof(double));
	uint64_t bad = 0;

	if (on == NULL || off == NULL)
		die("out of memory");
	for (uint16_t i = 0; i < o->burst; i++) {
		txs[i] = tx;
		ons[i] = rx_on;
		offs[i] = rx_off;
	}
	/* alternate window on and off repetition by repetition, so load hits both alike */
	for (uint32_t r = 0; r <= 2 * o->reps + 1; r++) {
		struct mesp_sa **rxs = (r & 1) ? offs : ons;
		uint64_t cyc = 0, pk = 0;

		for (uint32_t b = 0; b < o->bursts; b++) {
			struct rte_mbuf *m[MESP_MAX_BURST];
			uint32_t pos = 0;
			uint16_t good;
			uint64_t t0, t1;

			fill(mp, &f, &pos, m, o->burst, 0);
			if (mesp_outb_burst(&lc, txs, m, o->burst, 9000) != o->burst)
				die("outbound failed");
			for (uint16_t i = 0; i < o->burst; i++)
				m[i]->l3_len = sizeof(struct rte_ipv4_hdr);
			t0 = rte_rdtsc();
			good = mesp_inb_burst(&lc, rxs, m, o->burst);
			t1 = rte_rdtsc();
			bad += o->burst - good;
			cyc += t1 - t0;
			pk += o->burst;
			rte_pktmbuf_free_bulk(m, o->burst);
		}
		if (r >= 2)
			((r & 1) ? off : on)[(r - 2) / 2] = (double)cyc / (double)pk;
	}
	struct result ron = summarize(on, o->reps), roff = summarize(off, o->reps);
	char extra[160];

	snprintf(extra, sizeof(extra), o->json ? "\"window\": %u, \"size\": %u, \"drops\": %" PRIu64 :
			"(window %u, %u-byte frames, %" PRIu64 " dropped)", o->window, o->size, bad);
	report(o, "mesp_inb_burst, replay window on", ron, extra);
	report(o, "mesp_inb_burst, replay window off", roff, extra);
	struct result d = { ron.min - roff.min, ron.median - roff.median };
	report(o, "replay window cost (on - off)", d, extra);

	/* the window alone: in-order sequence numbers, as one sender's stream arrives */
	size_t wsz = mesp_replay_size(o->window);
	struct mesp_replay *rw = aligned_alloc(64, RTE_ALIGN_CEIL(wsz, 64));
	const uint32_t n = 1u << 16;
	uint64_t s = 0;

	if (rw == NULL || mesp_replay_init(rw, o->window, true) != 0)
		die("replay window");
	for (uint32_t r = 0; r <= o->reps; r++) {
		uint64_t t0 = rte_rdtsc();

		for (uint32_t i = 0; i < n; i++) {
			s++;
			if (mesp_replay_check64(rw, s) != 0 || mesp_replay_update(rw, s) != 0)
				bad++;
		}
		if (r != 0)
			on[r - 1] = (double)(rte_rdtsc() - t0) / n;
	}
	report(o, "mesp_replay_check64 + mesp_replay_update", summarize(on, o->reps), "");
	free(rw);
	free(on);
	free(off);
	mesp_sa_free(tx);
	mesp_sa_free(rx_on);
	mesp_sa_free(rx_off);
}

/* ------------------------------------------------------------------ TESLA */

#define TL_T0 UINT64_C(1800000000000000000)
#define TL_TINT UINT64_C(10000000)      /* 10 ms */
#define TL_D 2
#define TL_CHAIN 36000                  /* six minutes of 10 ms intervals */
#define TL_MAX_OUT 65536

/* What the store hands over: kept until the timed region ends (the plain path frees there). */
struct tl_sink {
	struct rte_mbuf *m[TL_MAX_OUT];
	uint32_t n;
	uint64_t now;                   /* simulated time of the current burst */
	uint64_t lat_sum, lat_max, lat_n;
};

static void tl_deliver(void *arg, struct rte_mbuf *m)
{
	struct tl_sink *s = arg;
	uint64_t sent;

	/* the sender wrote its own time behind the inner IPv4 and UDP headers */
	memcpy(&sent, rte_pktmbuf_mtod_offset(m, const uint8_t *, 28), sizeof(sent));
	if (s->now >= sent) {
		s->lat_sum += s->now - sent;
		s->lat_max = RTE_MAX(s->lat_max, s->now - sent);
		s->lat_n++;
	}
	if (s->n == TL_MAX_OUT)
		rte_pktmbuf_free(m);
	else
		s->m[s->n++] = m;
}

static struct mesp_sa *mk_tesla_sa(const struct opts *o, enum mcrypto_mac mac)
{
	static const uint16_t sid0 = 0;
	uint8_t kn[TESLA_KEY_LEN], commit[TESLA_KEY_LEN];
	struct mesp_tesla_sender_conf snd = {
		.nb_sids = 1, .sids = &sid0, .commitment = commit, .has_clock_bound = true,
		.clock_bound_ns = 1000000,
	};
	struct mesp_tesla_conf tc = {
		.t0_ns = TL_T0, .interval_ns = TL_TINT, .d = TL_D, .chain_length = TL_CHAIN,
		.max_walk = 500, .newkcc = 500, .lastkey = TL_D, .mac = mac, .chain_key = kn,
		.nb_senders = 1, .senders = &snd,
		.bucket_bytes = o->per_interval * 1600u + 4096, .bucket_packets = o->per_interval * 2,
		.copy_max = 512, .nb_workers = 1,
	};

	memset(kn, 0x5a, sizeof(kn));
	memcpy(commit, kn, sizeof(kn));
	for (uint32_t i = 0; i < TL_CHAIN; i++)
		if (tesla_f(commit, commit) != 0)
			die("tesla_f");
	return mk_sa(MESP_SA_OUT | MESP_SA_IN, 1024, &tc);
}

/*
 * TESLA on and off, sender and receiver, on a simulated clock: per_interval packets per
 * T_int = 10 ms (so a rate of per_interval * 100 packets per second), d = 2, zero network
 * delay. Each burst is sealed at the current time and received at once; the disclosed keys
 * in later packets release the held ones, inside the timed receive calls. Reports cycles per
 * packet, the receive latency TESLA adds (simulated time from send to release) and the peak
 * memory held. The control thread's work (mesp_tesla_tick: keys per interval) is not timed.
 */
static void run_tesla(const struct opts *o)
{
	enum mcrypto_mac mac = mcrypto_mac_by_name(o->mac);
	struct mesp_sa_ctr ctr[2];
	struct mesp_lcore lc;
	struct rte_mempool *mp;
	struct frames f;
	uint8_t buf[2048];
	uint16_t len;
	static struct tl_sink sink;

	if (mac == MCRYPTO_MAC_NONE)
		die("tesla: -m must be hmac-sha256-128 or aes-gmac-128, not %s", o->mac);
	memset(&lc, 0, sizeof(lc));
	memset(ctr, 0, sizeof(ctr));
	lc.sa_ctr = ctr;
	lc.max_sas = 2;
	lc.clock_synced = true;
	lc.deliver = tl_deliver;
	lc.deliver_arg = &sink;
	/* held packets above copy_max keep their mbuf: up to about d + 1 intervals of them */
	mp = rte_pktmbuf_pool_create("bench_tesla", 4 * o->per_interval + 4 * TL_MAX_OUT / 8 +
			4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));
	lc.pool = mp;
	plain_ipv4(buf, o->size, &len);
	f.n = 1;
	f.len = &len;
	f.data = (uint8_t *[]){ buf };
	f.store = NULL;

	struct mesp_sa *tl = mk_tesla_sa(o, mac);
	struct mesp_sa *ptx = mk_sa(MESP_SA_OUT, 0, NULL), *prx = mk_sa(MESP_SA_IN, 1024, NULL);
	double *s_on = calloc(o->reps, sizeof(double)), *s_off = calloc(o->reps, sizeof(double));
	double *r_on = calloc(o->reps, sizeof(double)), *r_off = calloc(o->reps, sizeof(double));
	uint64_t t_tl = TL_T0 + TL_TINT * 10, held_max = 0, held_pk_max = 0;
	uint64_t step = TL_TINT * o->burst / o->per_interval;
	uint32_t last_i = UINT32_MAX;

	if (s_on == NULL || s_off == NULL || r_on == NULL || r_off == NULL)
		die("out of memory");
	for (uint32_t r = 0; r <= 2 * o->reps + 1; r++) {
		bool on = !(r & 1);
		struct mesp_sa *txs[MESP_MAX_BURST], *rxs[MESP_MAX_BURST];
		uint64_t cs = 0, cr = 0, pk = 0;

		for (uint16_t i = 0; i < o->burst; i++) {
			txs[i] = on ? tl : ptx;
			rxs[i] = on ? tl : prx;
		}
		for (uint32_t b = 0; b < o->bursts; b++) {
			struct rte_mbuf *m[MESP_MAX_BURST];
			uint32_t pos = 0;
			uint64_t t0, t1, t2;
			uint16_t good;

			if (on) {
				uint32_t i = (uint32_t)((t_tl - TL_T0) / TL_TINT);

				t_tl += step;
				lc.now_ns = t_tl;
				sink.now = t_tl;
				if (i != last_i) {
					/* the control thread's share, and the worker's expiry check */
					if (mesp_tesla_tick(tl, t_tl) != 0)
						die("mesp_tesla_tick");
					mesp_tesla_poll(&lc, tl);
					last_i = i;
				}
			}
			fill(mp, &f, &pos, m, o->burst, 0);
			for (uint16_t i = 0; i < o->burst; i++)
				memcpy(rte_pktmbuf_mtod_offset(m[i], uint8_t *, 28), &t_tl,
						sizeof(t_tl));
			t0 = rte_rdtsc();
			if (mesp_outb_burst(&lc, txs, m, o->burst, 9000) != o->burst)
				die("outbound failed");
			t1 = rte_rdtsc();
			for (uint16_t i = 0; i < o->burst; i++)
				m[i]->l3_len = sizeof(struct rte_ipv4_hdr);
			t2 = rte_rdtsc();
			good = mesp_inb_burst(&lc, rxs, m, o->burst);
			cr += rte_rdtsc() - t2;
			cs += t1 - t0;
			pk += o->burst;
			if (!on && good != o->burst)
				die("plain receive failed");
			rte_pktmbuf_free_bulk(m, o->burst);   /* good ones, drops; NULL for held */
			rte_pktmbuf_free_bulk(sink.m, sink.n);
			sink.n = 0;
			if (on) {
				held_max = RTE_MAX(held_max, ctr[1].tl_held_bytes);
				held_pk_max = RTE_MAX(held_pk_max, ctr[1].tl_held);
			}
		}
		if (r >= 2) {
			(on ? s_on : s_off)[(r - 2) / 2] = (double)cs / (double)pk;
			(on ? r_on : r_off)[(r - 2) / 2] = (double)cr / (double)pk;
		}
	}
	uint64_t drops = 0;
	for (int k = 0; k < MESP_DROP_MAX; k++)
		drops += lc.drops[k];

	struct result son = summarize(s_on, o->reps), soff = summarize(s_off, o->reps);
	struct result ron = summarize(r_on, o->reps), roff = summarize(r_off, o->reps);
	double hz = (double)rte_get_tsc_hz();
	char extra[480], what[96];

	snprintf(extra, sizeof(extra), o->json ?
			"\"size\": %u, \"mac\": \"%s\", \"per_interval\": %u, \"interval_ms\": %.0f, "
			"\"d\": %u, \"held_bytes_max\": %" PRIu64 ", \"held_packets_max\": %" PRIu64 ", "
			"\"latency_ms_mean\": %.2f, \"latency_ms_max\": %.2f, \"verified\": %" PRIu64
			", \"drops\": %" PRIu64 ", \"store_bytes\": %zu, \"tsc_hz\": %.0f" :
			"(%u-byte frames, %s, %u packets per %.0f ms interval, d %u: held at most %" PRIu64
			" bytes in %" PRIu64 " packets, added latency mean %.2f ms, max %.2f ms, %" PRIu64
			" verified, %" PRIu64 " dropped, store reserved %zu bytes, TSC %.0f Hz)",
			o->size, o->mac, o->per_interval, TL_TINT / 1e6, TL_D, held_max, held_pk_max,
			sink.lat_n ? (double)sink.lat_sum / (double)sink.lat_n / 1e6 : 0.0,
			(double)sink.lat_max / 1e6, ctr[1].tl_verified, drops, mesp_sa_mem_size(tl),
			hz);
	snprintf(what, sizeof(what), "tesla %s: send, TESLA on", o->mac);
	report(o, what, son, extra);
	snprintf(what, sizeof(what), "tesla %s: send, TESLA off", o->mac);
	report(o, what, soff, extra);
	snprintf(what, sizeof(what), "tesla %s: receive, TESLA on", o->mac);
	report(o, what, ron, extra);
	snprintf(what, sizeof(what), "tesla %s: receive, TESLA off", o->mac);
	report(o, what, roff, extra);
	if (!o->json)
		printf("  (Mpps at %.2f GHz without I/O: send %.2f on / %.2f off, receive %.2f on / "
				"%.2f off)\n", hz / 1e9, hz / son.min / 1e6, hz / soff.min / 1e6,
				hz / ron.min / 1e6, hz / roff.min / 1e6);
	free(s_on);
	free(s_off);
	free(r_on);
	free(r_off);
	mesp_sa_free(tl);
	mesp_sa_free(ptx);
	mesp_sa_free(prx);
}

/* ------------------------------------------------------------------ crypto */

#define NBUF 32

static void run_crypto(const struct opts *o)
{
	enum mcrypto_suite suite = mcrypto_suite_by_name(o->suite);
	const struct mcrypto_suite_info *si = mcrypto_suite_info(suite);
	struct mcrypto_session *s;
	uint8_t keymat[MCRYPTO_MAX_KEYMAT_LEN], aad[12] = { 0 };
	uint32_t len = o->size, ivl, stride;
	uint8_t *data;
	const uint32_t n = 1u << 14;
	double *seal = calloc(o->reps, sizeof(double)), *open = calloc(o->reps, sizeof(double));
	double *both = calloc(o->reps, sizeof(double));

	if (si == NULL)
		die("unknown suite %s", o->suite);
	/*
	 * NBUF packets used in turn, as a burst's packets are: no store-to-load chain from one
	 * call's output to the next call's input. Each is laid out as in an ESP packet (the
	 * suites other than GCM read the header there, mcrypto_seal_t): 16 bytes of room for
	 * the end of an outer header, then SPI, SN, IV (none for NULL), data, ICV.
	 */
	ivl = si->iv_len;
	stride = RTE_ALIGN_CEIL(16 + 8 + ivl + len + 16, 64);
	data = aligned_alloc(64, NBUF * stride);
	if (data == NULL || seal == NULL || open == NULL || both == NULL)
		die("out of memory");
	for (size_t i = 0; i < sizeof(keymat); i++)
		keymat[i] = (uint8_t)i;
	if (mcrypto_session_create(NULL, suite, keymat, mcrypto_keymat_len(si), &s) != 0)
		die("session");
	if (mcrypto_thread_init() != 0)
		die("mcrypto_thread_init");
	memset(data, 0x5a, NBUF * stride);
	for (uint32_t r = 0; r <= o->reps; r++) {
		uint64_t t0 = rte_rdtsc();

		for (uint32_t i = 0; i < n; i++) {
			uint8_t *b = data + (i % NBUF) * stride + 16;
			uint64_t v = rte_cpu_to_be_64(i);

			/* one 8-byte store, as the ESP header's IV is written */
			memcpy(b + 8 + ivl - 8, &v, sizeof(v));
			s->seal(s, b + 8, aad, o->aad_len, b + 8 + ivl, len, b + 8 + ivl + len);
		}
		uint64_t t1 = rte_rdtsc();
		/* open fails (the data was sealed many times over): the ICV work, and for GCM the
		 * decryption, which it does in the same pass; the MAC-then-decrypt suites stop at
		 * the ICV */
		for (uint32_t i = 0; i < n; i++) {
			uint8_t *b = data + (i % NBUF) * stride + 16;

			(void)s->open(s, b + 8, aad, o->aad_len, b + 8 + ivl, len, b + 8 + ivl + len);
		}
		uint64_t t2 = rte_rdtsc();
		/* seal then a successful open of the same packet */
		for (uint32_t i = 0; i < n; i++) {
			uint8_t *b = data + (i % NBUF) * stride + 16;
			uint64_t v = rte_cpu_to_be_64(i);

			memcpy(b + 8 + ivl - 8, &v, sizeof(v));
			s->seal(s, b + 8, aad, o->aad_len, b + 8 + ivl, len, b + 8 + ivl + len);
			if (s->open(s, b + 8, aad, o->aad_len, b + 8 + ivl, len,
					b + 8 + ivl + len) != 0)
				die("%s: open of a sealed packet failed", si->name);
		}
		uint64_t t3 = rte_rdtsc();
		if (r != 0) {
			seal[r - 1] = (double)(t1 - t0) / n;
			open[r - 1] = (double)(t2 - t1) / n;
			both[r - 1] = (double)(t3 - t2) / n;
		}
	}
	char what[96];
	char extra[64];

	snprintf(extra, sizeof(extra), o->json ? "\"bytes\": %u, \"aad\": %u" :
			"(%u bytes, AAD %u)", len, o->aad_len);
	snprintf(what, sizeof(what), "%s seal", si->name);
	report(o, what, summarize(seal, o->reps), extra);
	snprintf(what, sizeof(what), "%s open, ICV fails", si->name);
	report(o, what, summarize(open, o->reps), extra);
	snprintf(what, sizeof(what), "%s seal + open", si->name);
	report(o, what, summarize(both, o->reps), extra);
	free(both);
	mcrypto_session_free(s);
	free(data);
	free(seal);
	free(open);
}

static void usage(void)
{
	fprintf(stderr, "usage: msec-worker-bench [EAL options] -- worker -c CONFIG -f PCAP -p PORT"
			" | replay [-s SIZE] [-w WINDOW] | crypto [-s SIZE] [-k SUITE]\n"
			"  | tesla [-s SIZE] [-m hmac-sha256-128|aes-gmac-128] [-P PER_INTERVAL]\n"
			"  [-n BURSTS] [-r REPS] [-b BURST] [--json]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.bursts = 2000, .reps = 15, .burst = 32, .size = 64, .window = 1024,
		.suite = "aes-gcm-128", .aad_len = 8, .per_interval = 2000,
		.mac = "hmac-sha256-128",
	};
	int c, ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		die("EAL initialisation failed: %s", rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;
	if (argc < 2)
		usage();
	o.mode = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:f:p:n:r:b:s:w:k:a:m:P:", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case 'f':
			o.pcap = optarg;
			break;
		case 'p':
			o.port = optarg;
			break;
		case 'k':
			o.suite = optarg;
			break;
		case 'n':
			o.bursts = (uint32_t)atoi(optarg);
			break;
		case 'r':
			o.reps = (uint32_t)atoi(optarg);
			break;
		case 'b':
			o.burst = (uint16_t)atoi(optarg);
			break;
		case 's':
			o.size = (uint32_t)atoi(optarg);
			break;
		case 'w':
			o.window = (uint32_t)atoi(optarg);
			break;
		case 'a':
			o.aad_len = (uint32_t)atoi(optarg) == 12 ? 12 : 8;
			break;
		case 'm':
			o.mac = optarg;
			break;
		case 'P':
			o.per_interval = (uint32_t)atoi(optarg);
			break;
		case 'j':
			o.json = true;
			break;
		default:
			usage();
		}
	}
	if (o.bursts == 0 || o.reps == 0 || o.burst == 0 || o.burst > MESP_MAX_BURST ||
			o.size < 16 || o.size > 9000 || (o.size < 64 && strcmp(o.mode, "replay") == 0))
		usage();
	if (strcmp(o.mode, "worker") == 0)
		run_worker(&o);
	else if (strcmp(o.mode, "replay") == 0)
		run_replay(&o);
	else if (strcmp(o.mode, "crypto") == 0)
		run_crypto(&o);
	else if (strcmp(o.mode, "tesla") == 0 && o.per_interval >= o.burst && o.size >= 64)
		run_tesla(&o);
	else
		usage();
	rte_eal_cleanup();
	return 0;
}
