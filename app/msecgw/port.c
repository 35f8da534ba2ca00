/* SPDX-License-Identifier: BSD-3-Clause */
/* Port setup: one TX queue per worker, RX queues as configured (RSS when several). */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "gw.h"

static int port_setup(struct gw *gw, struct gw_port *p, const struct gwconf_port *cp)
{
	struct rte_eth_conf ec;
	struct rte_eth_dev_info di;
	uint16_t nrx, ntx;
	int rc;

	rc = rte_eth_dev_get_port_by_name(cp->dev, &p->port_id);
	if (rc != 0) {
		GW_LOG(ERR, "port %s: no DPDK device named \"%s\" (give it with --vdev or -a)\n",
				cp->name, cp->dev);
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(p->port_id, &di);
	if (rc != 0)
		return rc;
	p->nb_rxq = cp->queues;
	p->nb_txq = gw->nb_workers;
	if (p->nb_rxq > di.max_rx_queues || p->nb_txq > di.max_tx_queues) {
		GW_LOG(ERR, "port %s (%s): needs %u RX and %u TX queues (one per worker), "
				"device offers %u and %u\n", cp->name, cp->dev, p->nb_rxq,
				p->nb_txq, di.max_rx_queues, di.max_tx_queues);
		return -EINVAL;
	}
	memset(&ec, 0, sizeof(ec));
	if (p->nb_rxq > 1) {
		/* RSS on the IP addresses: one (S,G) flow, and so one sender's replay window,
		 * stays on one worker */
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & di.flow_type_rss_offloads;
		if (ec.rx_adv_conf.rss_conf.rss_hf == 0)
			GW_LOG(WARNING, "port %s: device has no IP RSS; queues get arbitrary "
					"flows\n", cp->name);
	}
	rc = rte_eth_dev_configure(p->port_id, p->nb_rxq, p->nb_txq, &ec);
	if (rc != 0) {
		GW_LOG(ERR, "port %s: configure failed: %s\n", cp->name, strerror(-rc));
		return rc;
	}
	nrx = cp->rx_desc;
	ntx = cp->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	for (uint16_t q = 0; q < p->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nrx, rte_eth_dev_socket_id(p->port_id),
				NULL, gw->pool);
		if (rc != 0) {
			GW_LOG(ERR, "port %s: RX queue %u: %s\n", cp->name, q, strerror(-rc));
			return rc;
		}
	}
	for (uint16_t q = 0; q < p->nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, ntx, rte_eth_dev_socket_id(p->port_id),
				NULL);
		if (rc != 0) {
			GW_LOG(ERR, "port %s: TX queue %u: %s\n", cp->name, q, strerror(-rc));
			return rc;
		}
	}
	p->mtu = cp->mtu;
	rc = rte_eth_dev_set_mtu(p->port_id, cp->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		GW_LOG(WARNING, "port %s: cannot set MTU %u (%s); still enforcing it\n",
				cp->name, cp->mtu, strerror(-rc));
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		GW_LOG(ERR, "port %s: start failed: %s\n", cp->name, strerror(-rc));
		return rc;
	}
	p->started = true;
	/* multicast must reach us whatever the filters (RFC 5374 §5.2 "addressed to") */
	rc = rte_eth_allmulticast_enable(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		GW_LOG(WARNING, "port %s: allmulticast: %s\n", cp->name, strerror(-rc));
	if (cp->promiscuous)
		rte_eth_promiscuous_enable(p->port_id);
	rte_eth_macaddr_get(p->port_id, &p->mac);
	return 0;
}

int gw_ports_init(struct gw *gw)
{
	const struct gwconf *c = gw->conf;
	int rc;

	gw->nb_ports = c->nb_ports;
	for (uint16_t i = 0; i < c->nb_ports; i++) {
		struct gw_port *p = &gw->port[i];

		memcpy(p->name, c->ports[i].name, sizeof(p->name));
		memcpy(p->dev, c->ports[i].dev, sizeof(p->dev));
		p->role = c->ports[i].role;
		p->dflt = c->ports[i].dflt;
		/* bypassed traffic crosses to the first port of the other role */
		p->peer = i;
		for (uint16_t j = 0; j < c->nb_ports; j++)
			if (c->ports[j].role != p->role) {
				p->peer = j;
				break;
			}
		rc = port_setup(gw, p, &c->ports[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void gw_ports_fini(struct gw *gw)
{
	for (uint16_t i = 0; i < gw->nb_ports; i++) {
		if (!gw->port[i].started)
			continue;
		rte_eth_dev_stop(gw->port[i].port_id);
		rte_eth_dev_close(gw->port[i].port_id);
		gw->port[i].started = false;
	}
}
