/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msecgw: multicast security gateway.
 *
 *   msecgw [EAL options] -- [-c config.json] [--check] [--idle-exit MS] [--stats SECONDS]
 *
 * The main lcore runs the control thread (control socket, SA timers, RCU reclamation); every
 * other lcore is a worker polling RX queues. Without -c the built-in demo configuration is used.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "demo_config.h"
#include "gw.h"

RTE_LOG_REGISTER(gw_logtype, msecgw, INFO);

static struct gw *sig_gw;

static void on_signal(int sig __rte_unused)
{
	if (sig_gw != NULL)
		__atomic_store_n(&sig_gw->stop, 1, __ATOMIC_RELAXED);
}

/*
 * jansson keeps copies of every string it parses (configuration files and control requests
 * carry keys) and frees them without wiping: make every free of a JSON object wipe it first.
 */
static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- [options]\n"
		"  -c, --config FILE     gateway configuration (JSON, see doc/configuration.md);\n"
		"                        without it the built-in demo configuration is used\n"
		"      --check           validate the configuration and exit\n"
		"      --socket PATH     control socket (overrides control.socket; \"\" = none)\n"
		"      --print-demo-config  print the built-in demo configuration and exit\n"
		"      --idle-exit MS    stop after MS milliseconds without received packets\n"
		"      --stats SECONDS   print counters every SECONDS (0 = only at exit)\n"
		"  -h, --help            this text\n", prog);
}

struct opts {
	const char *config;
	const char *socket;
	bool check;
	bool print_demo;
	uint32_t idle_exit_ms;
	uint32_t stats_s;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "print-demo-config", no_argument, NULL, 'p' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "stats", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'S':
			o->socket = optarg;
			if (strlen(optarg) >= GWCONF_PATH_MAX)
				return -EINVAL;
			break;
		case 'p':
			o->print_demo = true;
			break;
		case 'i':
			o->idle_exit_ms = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0')
				return -EINVAL;
			break;
		case 's':
			o->stats_s = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0')
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind < argc ? -EINVAL : 0;
}

static int load_config(const struct opts *o, struct gwconf **conf)
{
	char err[GWCONF_ERR_MAX];
	int rc;

	if (o->config != NULL)
		rc = gwconf_load_file(o->config, conf, err);
	else
		rc = gwconf_load_buffer("<built-in demo>", demo_config_json,
				sizeof(demo_config_json) - 1, conf, err);
	if (rc != 0)
		fprintf(stderr, "msecgw: %s\n", err);
	return rc;
}

static int workers_init(struct gw *gw)
{
	unsigned int lcore;
	uint16_t nrxq = 0;
	struct gw_rxq all[GWCONF_MAX_PORTS * 64];

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct gw_worker *w;

		w = rte_zmalloc_socket("gw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(lcore));
		if (w == NULL)
			return -ENOMEM;
		w->lc.sa_ctr = rte_zmalloc_socket("gw_sa_ctr",
				gw->conf->max_sas * sizeof(struct mesp_sa_ctr), RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(lcore));
		if (w->lc.sa_ctr == NULL) {
			rte_free(w);
			return -ENOMEM;
		}
		w->lc.max_sas = gw->conf->max_sas;
		w->gw = gw;
		w->lcore_id = lcore;
		w->idx = gw->nb_workers;
		/* each worker sends with its own SID of an SA: index i uses sids[i] */
		w->lc.tx_slot = w->idx;
		gw->lcs[gw->nb_workers] = &w->lc;
		gw->worker[gw->nb_workers++] = w;
	}
	if (gw->nb_workers == 0) {
		GW_LOG(ERR, "no worker lcore: give at least two lcores, e.g. -l 0,1 (the main "
				"lcore runs the control thread)\n");
		return -EINVAL;
	}
	/* distribute RX queues: one worker per queue when there are enough workers */
	for (uint16_t p = 0; p < gw->conf->nb_ports; p++)
		for (uint16_t q = 0; q < gw->conf->ports[p].queues && nrxq < RTE_DIM(all); q++) {
			all[nrxq].port = p;
			all[nrxq++].queue = q;
		}
	for (uint16_t i = 0; i < nrxq; i++) {
		struct gw_worker *w = gw->worker[i % gw->nb_workers];

		if (w->nb_rxq == GW_MAX_RXQ) {
			GW_LOG(ERR, "too many RX queues for %u workers\n", gw->nb_workers);
			return -EINVAL;
		}
		w->rxq[w->nb_rxq++] = all[i];
	}
	if (nrxq < gw->nb_workers)
		GW_LOG(WARNING, "%u workers but only %u RX queues: %u workers idle\n",
				gw->nb_workers, nrxq, gw->nb_workers - nrxq);
	return 0;
}

static void workers_free(struct gw *gw)
{
	for (uint16_t i = 0; i < gw->nb_workers; i++) {
		rte_free(gw->worker[i]->lc.sa_ctr);
		rte_free(gw->worker[i]);
	}
	gw->nb_workers = 0;
}

static int gw_setup(struct gw *gw)
{
	struct gsad_params dp;
	char err[512];
	size_t sz;
	int rc;

	rc = workers_init(gw);
	if (rc != 0)
		return rc;
	gw->burst = gw->conf->burst;
	gw->pool = rte_pktmbuf_pool_create("msecgw_mbufs", gw->conf->nb_mbufs, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (gw->pool == NULL) {
		GW_LOG(ERR, "cannot create a pool of %u mbufs: %s (lower \"mbufs\" or give more "
				"memory with -m)\n", gw->conf->nb_mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	sz = rte_rcu_qsbr_get_memsize(gw->nb_workers);
	gw->qsv = rte_zmalloc("gw_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (gw->qsv == NULL)
		return -ENOMEM;
	rte_rcu_qsbr_init(gw->qsv, gw->nb_workers);

	memset(&dp, 0, sizeof(dp));
	dp.max_sas = gw->conf->max_sas;
	dp.max_senders = gw->conf->max_senders;
	dp.qsv = gw->qsv;
	dp.nb_lcores = gw->nb_workers;
	dp.lcores = gw->lcs;
	rc = gsad_create(&dp, &gw->db);
	if (rc != 0)
		return rc;
	rc = gw_ports_init(gw);
	if (rc != 0)
		return rc;
	gw_clock_init(gw);
	rc = gw_install_config(gw, err, sizeof(err));
	if (rc == 0)
		rc = gw_gkm_start(gw, err, sizeof(err));
	if (rc != 0) {
		GW_LOG(ERR, "%s\n", err);
		return rc;
	}
	return 0;
}

static uint64_t total_rx(const struct gw *gw)
{
	struct gw_totals t;

	gw_totals(gw, -1, &t);
	return t.st.rx;
}

static void control_loop(struct gw *gw, const struct opts *o)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t last_rx = 0, last_change = rte_get_tsc_cycles();
	uint64_t next_stats = last_change + (uint64_t)o->stats_s * hz;

	while (!__atomic_load_n(&gw->stop, __ATOMIC_RELAXED)) {
		uint64_t now;

		gw_ctl_poll(gw, 10);
		gw_gkm_poll(gw);
		gw_clock_update(gw);
		pthread_mutex_lock(&gw->lock);
		gsad_tick(gw->db);
		gw_tesla_tick(gw);
		pthread_mutex_unlock(&gw->lock);
		now = rte_get_tsc_cycles();
		if (o->idle_exit_ms != 0) {
			uint64_t rx = total_rx(gw);

			if (rx != last_rx) {
				last_rx = rx;
				last_change = now;
			} else if (now - last_change > (uint64_t)o->idle_exit_ms * hz / 1000) {
				GW_LOG(INFO, "no packet for %u ms: stopping\n", o->idle_exit_ms);
				break;
			}
		}
		if (o->stats_s != 0 && now >= next_stats) {
			gw_print_summary(gw);
			next_stats = now + (uint64_t)o->stats_s * hz;
		}
	}
}

int main(int argc, char **argv)
{
	static struct gw gw;
	struct opts o;
	int rc, ret;

	json_set_alloc_funcs(json_alloc, json_wipe_free);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "msecgw: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	argc -= ret;
	argv += ret;
	argv[0] = (char *)(uintptr_t)"msecgw";
	if (parse_args(argc, argv, &o) != 0) {
		usage("msecgw");
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	if (o.print_demo) {
		fputs(demo_config_json, stdout);
		rte_eal_cleanup();
		return EXIT_SUCCESS;
	}
	gw.ctl_fd = -1;
	pthread_mutex_init(&gw.lock, NULL);
	if (load_config(&o, &gw.conf) != 0) {
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	if (o.check) {
		printf("msecgw: %s: configuration valid (%u ports, %u groups, %u policies)\n",
				gw.conf->file, gw.conf->nb_ports, gw.conf->nb_groups,
				gw.conf->nb_policies);
		gwconf_free(gw.conf);
		rte_eal_cleanup();
		return EXIT_SUCCESS;
	}
	if (o.socket != NULL)
		snprintf(gw.conf->ctl_socket, sizeof(gw.conf->ctl_socket), "%s", o.socket);
	gw.idle_exit_ms = o.idle_exit_ms;
	sig_gw = &gw;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* a control or telemetry client that disconnects mid-reply is not a reason to stop */
	signal(SIGPIPE, SIG_IGN);

	rc = gw_setup(&gw);
	if (rc == 0)
		rc = gw_ctl_open(&gw);
	if (rc == 0) {
		gw_telemetry_init(&gw);
		/* dpdk-dumpcap/dpdk-pdump attach as secondary processes: only with shared
		 * hugepage memory, not with --no-huge/--no-shconf/--in-memory */
		if (rte_pdump_init() != 0)
			GW_LOG(INFO, "packet capture (pdump) not available in this memory mode\n");
		for (uint16_t i = 0; i < gw.nb_workers; i++)
			rte_eal_remote_launch(gw_worker_main, gw.worker[i], gw.worker[i]->lcore_id);
		struct gw_mem mem;

		gw_memory(&gw, &mem);
		GW_LOG(INFO, "running: %u workers, %u ports, %u groups, %u SAs; memory: %u mbufs "
				"%" PRIu64 " KiB, SA database %" PRIu64 " KiB\n", gw.nb_workers,
				gw.nb_ports, gw.conf->nb_groups, gsad_sa_count(gw.db), mem.mbufs,
				mem.mbuf_pool_bytes >> 10, mem.sa_total_bytes >> 10);
		control_loop(&gw, &o);
		if (__atomic_load_n(&gw.stop, __ATOMIC_RELAXED))
			GW_LOG(INFO, "signal received: stopping\n");
	}
	/* depart from the key servers' groups while the workers still run (the SA removals
	 * wait for their quiescence) */
	gw_gkm_stop(&gw);
	/* drain: workers finish their burst (TX flushed) and go offline, then ports stop */
	__atomic_store_n(&gw.stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	if (gw.nb_workers != 0)
		gw_print_summary(&gw);
	gw_ctl_close(&gw);
	rte_pdump_uninit();
	gw_ports_fini(&gw);
	gsad_free(gw.db);
	workers_free(&gw);
	rte_free(gw.qsv);
	rte_mempool_free(gw.pool);
	gwconf_free(gw.conf);
	rte_eal_cleanup();
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
