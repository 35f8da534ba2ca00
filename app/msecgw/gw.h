/* SPDX-License-Identifier: BSD-3-Clause */
/* msecgw internals shared by the gateway's source files. */
#ifndef GW_H
#define GW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "gsad.h"
#include "gwconf.h"
#include "mesp.h"

#define GW_MAX_RXQ 16        /* RX queues one worker may poll */
#define GW_TXBUF 512         /* per port, per worker: several bursts' worth */
#define GW_DRAIN_BURSTS 64   /* RX bursts a stopping worker still processes */

extern int gw_logtype;
#define GW_LOG(level, ...) rte_log(RTE_LOG_ ## level, gw_logtype, "msecgw: " __VA_ARGS__)

struct gw_port {
	uint16_t port_id;                 /* DPDK port */
	bool started;
	uint16_t peer;                    /* gw port index that bypassed traffic goes to */
	enum gwconf_port_role role;
	enum gwconf_action dflt;
	uint16_t mtu;
	uint16_t nb_rxq, nb_txq;
	struct rte_ether_addr mac;
	char name[GWCONF_NAME_MAX];
	char dev[GWCONF_DEV_MAX];
};

struct gw_rxq {
	uint16_t port;                    /* gw port index */
	uint16_t queue;
};

/* Per-worker traffic counters beside the mesp ones (drops, per-SA). */
struct gw_wstats {
	uint64_t rx;
	uint64_t tx;
	uint64_t bypass;
	uint64_t protect;                 /* packets encrypted */
	uint64_t unprotect;               /* packets decrypted and delivered */
};

struct gw;

struct gw_worker {
	struct mesp_lcore lc;             /* first: cache aligned, hot */
	struct gw_wstats st;
	struct gw *gw;
	unsigned int lcore_id;
	uint16_t idx;                     /* worker index: QSBR thread id and TX queue */
	uint16_t nb_rxq;
	struct gw_rxq rxq[GW_MAX_RXQ];
	uint16_t txn[GWCONF_MAX_PORTS];
	struct rte_mbuf *txb[GWCONF_MAX_PORTS][GW_TXBUF];
} __rte_cache_aligned;

/* The TESLA clock (clock.c). */
struct gw_clock {
	int64_t offset_ns;                /* added to every reading (msecctl clock offset) */
	bool synced;                      /* the local clock is within its error budget */
	bool force_unsynced;              /* msecctl clock unsynced */
};

struct gw {
	struct gwconf *conf;
	struct gsad *db;
	struct rte_rcu_qsbr *qsv;
	struct rte_mempool *pool;
	uint16_t nb_ports;
	struct gw_port port[GWCONF_MAX_PORTS];
	uint16_t nb_workers;
	struct gw_worker *worker[RTE_MAX_LCORE];
	struct mesp_lcore *lcs[RTE_MAX_LCORE];
	uint16_t burst;
	volatile int stop;                /* set by signals and --idle-exit; workers poll it */
	pthread_mutex_t lock;             /* control plane: gsad between control thread and
					   * telemetry callbacks; never taken by workers */
	int ctl_fd;
	uint32_t idle_exit_ms;
	bool quiet;
	struct gw_clock clock;
	bool tesla_err;                   /* the last TESLA tick failed (logged once) */
	struct gw_gkm *gkm;               /* group member of key servers (gkm.c), or NULL */
};

/* port.c */
int gw_ports_init(struct gw *gw);
void gw_ports_fini(struct gw *gw);

/* worker.c */
/* set a worker's mesp context up for TESLA (index, pool, delivery of released packets) */
void gw_worker_prepare(struct gw_worker *w);
int gw_worker_main(void *arg);
/*
 * One RX burst from gw port `pidx`, run to completion into the worker's TX buffers (w->txb,
 * w->txn; the caller transmits). The worker loop's body; the micro-benchmark calls it too.
 */
void gw_worker_rx(struct gw_worker *w, const struct gsad_snap *snap, uint16_t pidx,
		struct rte_mbuf **pkts, uint16_t n, uint64_t now);

/* clock.c */
void gw_clock_init(struct gw *gw);
/* control thread, every loop: re-check the sync state */
void gw_clock_update(struct gw *gw);
/* the TESLA clock now, Unix ns */
uint64_t gw_clock_ns(const struct gw *gw);

/* sadb.c: the one path from configuration objects to the data plane */
int gw_sa_params(const struct gw *gw, const struct gwconf_sa *cs, uint32_t group,
		const char *origin, struct gsad_sa_params *p);
int gw_install_config(struct gw *gw, char *err, size_t errlen);
int gw_sa_apply(struct gw *gw, const char *op, const struct gwconf_sa *cs, int group,
		const char *origin, char *err, size_t errlen);
/* control thread, every loop: TESLA key material for the coming intervals (gsad_tesla_tick) */
void gw_tesla_tick(struct gw *gw);

/* gkm.c: the control thread as a GSAKMP group member (doc/key-management.md §3) */
struct gw_gkm;
int gw_gkm_start(struct gw *gw, char *err, size_t errlen);
void gw_gkm_poll(struct gw *gw);
void gw_gkm_stop(struct gw *gw);
struct json_t *gw_gkm_json(const struct gw *gw);

/* ctl.c */
int gw_ctl_open(struct gw *gw);
void gw_ctl_poll(struct gw *gw, int timeout_ms);
void gw_ctl_close(struct gw *gw);

/* stats.c */
struct json_t;
struct gw_totals {
	struct gw_wstats st;
	uint64_t drops[MESP_DROP_MAX];
};
void gw_totals(const struct gw *gw, int worker, struct gw_totals *t);
/* memory as /msecgw/memory reports it; takes gw->lock */
struct gw_mem {
	uint32_t mbufs;
	uint32_t mbuf_obj_bytes;          /* rte_mempool_calc_obj_size(): header, mbuf, data */
	uint64_t mbuf_pool_bytes;
	uint32_t nb_sas;
	uint64_t sa_runtime_bytes, sa_lookup_bytes, sa_control_bytes, sa_counter_bytes;
	uint64_t sa_total_bytes;
};
void gw_memory(struct gw *gw, struct gw_mem *m);
int gw_telemetry_init(struct gw *gw);
void gw_print_summary(const struct gw *gw);

#endif /* GW_H */
