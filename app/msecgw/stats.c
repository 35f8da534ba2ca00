/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters: per-worker values summed on read (relaxed loads; each counter has one writer), and
 * DPDK telemetry commands under /msecgw/. Keys are never part of any output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "gw.h"

static struct gw *tel_gw;

#define RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void gw_totals(const struct gw *gw, int worker, struct gw_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint16_t i = 0; i < gw->nb_workers; i++) {
		const struct gw_worker *w = gw->worker[i];

		if (worker >= 0 && worker != i)
			continue;
		t->st.rx += RD(w->st.rx);
		t->st.tx += RD(w->st.tx);
		t->st.bypass += RD(w->st.bypass);
		t->st.protect += RD(w->st.protect);
		t->st.unprotect += RD(w->st.unprotect);
		for (int r = 0; r < MESP_DROP_MAX; r++)
			t->drops[r] += RD(w->lc.drops[r]);
	}
}

static void add_totals(struct rte_tel_data *d, const struct gw_totals *t)
{
	uint64_t all = 0;

	rte_tel_data_add_dict_u64(d, "rx", t->st.rx);
	rte_tel_data_add_dict_u64(d, "tx", t->st.tx);
	rte_tel_data_add_dict_u64(d, "protected", t->st.protect);
	rte_tel_data_add_dict_u64(d, "unprotected", t->st.unprotect);
	rte_tel_data_add_dict_u64(d, "bypassed", t->st.bypass);
	for (int r = 0; r < MESP_DROP_MAX; r++)
		all += t->drops[r];
	rte_tel_data_add_dict_u64(d, "dropped", all);
}

/* /msecgw/stats[,worker] */
static int tel_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct gw_totals t;
	int w = -1;

	if (params != NULL && *params != '\0') {
		char *end;
		long v = strtol(params, &end, 10);

		if (*end != '\0' || v < 0 || v >= tel_gw->nb_workers)
			return -EINVAL;
		w = (int)v;
	}
	gw_totals(tel_gw, w, &t);
	rte_tel_data_start_dict(d);
	add_totals(d, &t);
	return 0;
}

/* /msecgw/drops[,worker]: every reason, zero ones included, so dashboards see all keys */
static int tel_drops(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct gw_totals t;
	int w = -1;

	if (params != NULL && *params != '\0') {
		char *end;
		long v = strtol(params, &end, 10);

		if (*end != '\0' || v < 0 || v >= tel_gw->nb_workers)
			return -EINVAL;
		w = (int)v;
	}
	gw_totals(tel_gw, w, &t);
	rte_tel_data_start_dict(d);
	for (int r = 0; r < MESP_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(d, mesp_drop_name(r), t.drops[r]);
	return 0;
}

/* /msecgw/sa/list: "group/0xSPI" strings */
static int tel_sa_list(const char *cmd __rte_unused, const char *params __rte_unused,
		struct rte_tel_data *d)
{
	struct gsad_sa_view v;
	char buf[64];

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&tel_gw->lock);
	uint32_t n = gsad_sa_count(tel_gw->db);
	for (uint32_t i = 0; i < n && i < 512; i++) {
		if (gsad_sa_view(tel_gw->db, i, &v) != 0)
			break;
		snprintf(buf, sizeof(buf), "%s/0x%08x", v.group, v.info.spi);
		rte_tel_data_add_array_string(d, buf);
	}
	pthread_mutex_unlock(&tel_gw->lock);
	return 0;
}

/* /msecgw/sa/stats,<spi>[,<group>] */
static int tel_sa_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct gsad_sa_view v;
	char group[GSAD_NAME_MAX] = "";
	unsigned long spi;
	char *end;
	int found = 0;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	spi = strtoul(params, &end, 0);
	if (*end == ',')
		snprintf(group, sizeof(group), "%s", end + 1);
	else if (*end != '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&tel_gw->lock);
	uint32_t n = gsad_sa_count(tel_gw->db);
	for (uint32_t i = 0; i < n; i++) {
		if (gsad_sa_view(tel_gw->db, i, &v) != 0)
			break;
		if (v.info.spi != spi || (group[0] && strcmp(group, v.group) != 0))
			continue;
		rte_tel_data_add_dict_string(d, "group", v.group);
		rte_tel_data_add_dict_string(d, "state", v.state);
		rte_tel_data_add_dict_u64(d, "out_packets", v.ctr.out_pkts);
		rte_tel_data_add_dict_u64(d, "out_bytes", v.ctr.out_bytes);
		rte_tel_data_add_dict_u64(d, "in_packets", v.ctr.in_pkts);
		rte_tel_data_add_dict_u64(d, "in_bytes", v.ctr.in_bytes);
		rte_tel_data_add_dict_u64(d, "auth_fail", v.ctr.auth_fail);
		rte_tel_data_add_dict_u64(d, "replay", v.ctr.replay);
		rte_tel_data_add_dict_u64(d, "other_drops", v.ctr.other_drops);
		rte_tel_data_add_dict_u64(d, "senders", v.info.nb_senders);
		rte_tel_data_add_dict_u64(d, "tx_seq", v.info.tx_seq_max);
		found = 1;
		break;
	}
	pthread_mutex_unlock(&tel_gw->lock);
	return found ? 0 : -ENOENT;
}

void gw_memory(struct gw *gw, struct gw_mem *m)
{
	const struct rte_mempool *mp = gw->pool;
	struct gsad_mem dm;

	memset(m, 0, sizeof(*m));
	if (mp != NULL) {
		m->mbufs = mp->size;
		m->mbuf_obj_bytes = rte_mempool_calc_obj_size(mp->elt_size, mp->flags, NULL);
		m->mbuf_pool_bytes = (uint64_t)m->mbufs * m->mbuf_obj_bytes;
	}
	pthread_mutex_lock(&gw->lock);
	gsad_memory(gw->db, &dm);
	pthread_mutex_unlock(&gw->lock);
	m->nb_sas = dm.nb_sas;
	m->sa_runtime_bytes = dm.sa_runtime;
	m->sa_lookup_bytes = dm.lookup;
	m->sa_control_bytes = dm.control;
	/* per-worker counter sets, one per SA slot (main.c workers_init) */
	m->sa_counter_bytes = (uint64_t)gw->nb_workers * gw->conf->max_sas *
		sizeof(struct mesp_sa_ctr);
	m->sa_total_bytes = m->sa_runtime_bytes + m->sa_lookup_bytes + m->sa_control_bytes +
		m->sa_counter_bytes;
}

/*
 * /msecgw/memory: packet buffers and what the SA database holds. Bytes as requested from the
 * allocators (rte_malloc, malloc), without their per-allocation overhead; the mbuf pool as
 * rte_mempool_calc_obj_size() x objects (its ring and per-lcore caches not included).
 */
static int tel_memory(const char *cmd __rte_unused, const char *params __rte_unused,
		struct rte_tel_data *d)
{
	struct gw_mem m;

	gw_memory(tel_gw, &m);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "mbufs", m.mbufs);
	rte_tel_data_add_dict_u64(d, "mbuf_obj_bytes", m.mbuf_obj_bytes);
	rte_tel_data_add_dict_u64(d, "mbuf_pool_bytes", m.mbuf_pool_bytes);
	rte_tel_data_add_dict_u64(d, "sas", m.nb_sas);
	rte_tel_data_add_dict_u64(d, "sa_runtime_bytes", m.sa_runtime_bytes);
	rte_tel_data_add_dict_u64(d, "sa_lookup_bytes", m.sa_lookup_bytes);
	rte_tel_data_add_dict_u64(d, "sa_control_bytes", m.sa_control_bytes);
	rte_tel_data_add_dict_u64(d, "sa_counter_bytes", m.sa_counter_bytes);
	rte_tel_data_add_dict_u64(d, "sa_total_bytes", m.sa_total_bytes);
	return 0;
}

int gw_telemetry_init(struct gw *gw)
{
	tel_gw = gw;
	rte_telemetry_register_cmd("/msecgw/stats", tel_stats,
			"Gateway totals. Parameters: optional worker index");
	rte_telemetry_register_cmd("/msecgw/drops", tel_drops,
			"Drops by reason. Parameters: optional worker index");
	rte_telemetry_register_cmd("/msecgw/sa/list", tel_sa_list,
			"List SAs as group/0xSPI. No parameters");
	rte_telemetry_register_cmd("/msecgw/sa/stats", tel_sa_stats,
			"Counters of one SA. Parameters: spi[,group]");
	rte_telemetry_register_cmd("/msecgw/memory", tel_memory,
			"Packet buffer and SA database memory, TSC Hz. No parameters");
	return 0;
}

void gw_print_summary(const struct gw *gw)
{
	struct gw_totals t;

	gw_totals(gw, -1, &t);
	printf("msecgw: rx %" PRIu64 " tx %" PRIu64 " protected %" PRIu64 " unprotected %" PRIu64
			" bypassed %" PRIu64 "\n", t.st.rx, t.st.tx, t.st.protect, t.st.unprotect,
			t.st.bypass);
	printf("msecgw: drops:");
	for (int r = 0; r < MESP_DROP_MAX; r++)
		printf(" %s=%" PRIu64, mesp_drop_name(r), t.drops[r]);
	printf("\n");
	/* the device's own view: what the NIC (or vdev) received, sent and could not deliver */
	for (uint16_t i = 0; i < gw->nb_ports; i++) {
		const struct gw_port *p = &gw->port[i];
		struct rte_eth_stats es;

		if (!p->started || rte_eth_stats_get(p->port_id, &es) != 0)
			continue;
		printf("msecgw: port %s ipackets %" PRIu64 " opackets %" PRIu64 " imissed %" PRIu64
				" ierrors %" PRIu64 " oerrors %" PRIu64 "\n", p->name, es.ipackets,
				es.opackets, es.imissed, es.ierrors, es.oerrors);
	}
	fflush(stdout);
}
