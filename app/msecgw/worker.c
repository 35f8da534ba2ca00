/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcores: run to completion. Per burst: RX, classify, protect or unprotect through
 * lib/mesp, TX; report a QSBR quiescent state once per loop. No locks, no allocation, no logging.
 */
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gw.h"

#define ETH_LEN ((uint32_t)sizeof(struct rte_ether_hdr))
#define IPV4_MF 0x2000
#define IPV4_OFF 0x1fff

enum verdict { V_DROP, V_FWD, V_ESP };

/* What classification learnt about a packet. */
struct pkt_info {
	uint8_t family;
	const void *l3;       /* the IP header */
	const uint8_t *dst, *src;
	uint32_t l3_len;      /* IP header length */
	uint8_t proto;        /* IPv4 protocol / IPv6 next header */
	int dport;            /* UDP destination port or -1 */
};

static inline void drop(struct gw_worker *w, struct rte_mbuf *m, enum mesp_drop r)
{
	w->lc.drops[r]++;
	rte_pktmbuf_free(m);
}

static inline void tx_put(struct gw_worker *w, uint16_t port, struct rte_mbuf *m)
{
	if (unlikely(w->txn[port] == GW_TXBUF)) {
		drop(w, m, MESP_DROP_TX_FULL);
		return;
	}
	w->txb[port][w->txn[port]++] = m;
}

static void tx_flush(struct gw_worker *w)
{
	const struct gw *gw = w->gw;

	for (uint16_t p = 0; p < gw->nb_ports; p++) {
		uint16_t n = w->txn[p], sent = 0;

		if (n == 0)
			continue;
		/* a few retries absorb a momentarily full ring; then count and drop */
		for (int tries = 0; sent < n && tries < 4; tries++)
			sent += rte_eth_tx_burst(gw->port[p].port_id, w->idx, &w->txb[p][sent],
					(uint16_t)(n - sent));
		w->st.tx += sent;
		for (uint16_t i = sent; i < n; i++)
			drop(w, w->txb[p][i], MESP_DROP_TX_FULL);
		w->txn[p] = 0;
	}
}

/* Link-local scopes and routing protocols pass in clear so multicast routing keeps working. */
static inline bool is_mcast_control_v4(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *d = (const uint8_t *)&ip->dst_addr;

	return (d[0] == 224 && d[1] == 0 && d[2] == 0) || ip->next_proto_id == IPPROTO_IGMP ||
		ip->next_proto_id == IPPROTO_PIM;
}

static inline bool is_mcast_control_v6(const struct rte_ipv6_hdr *ip)
{
	/* ff02::/16 link scope; ICMPv6 (MLD) directly or behind hop-by-hop; PIM */
	return (ip->dst_addr[1] & 0x0f) <= 2 || ip->proto == IPPROTO_ICMPV6 ||
		ip->proto == IPPROTO_HOPOPTS || ip->proto == IPPROTO_PIM;
}

static inline bool is_v6_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253:
	case 254:
		return true;
	default:
		return false;
	}
}

/*
 * Validate the Ethernet and IP headers and trim link-layer padding. Returns the drop reason, or
 * MESP_DROP_MAX when the packet is IP and well formed, or MESP_DROP_NOT_IP for other ethertypes.
 */
static enum mesp_drop parse(struct rte_mbuf *m, struct pkt_info *pi)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const struct rte_ether_hdr *eth;

	if (unlikely(m->nb_segs != 1))
		return MESP_DROP_NO_ROOM;
	if (unlikely(len < ETH_LEN))
		return MESP_DROP_MALFORMED;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
		uint32_t hl, tot;

		if (unlikely(len < ETH_LEN + sizeof(*ip) || (ip->version_ihl >> 4) != 4))
			return MESP_DROP_MALFORMED;
		hl = (ip->version_ihl & 0xfu) * 4;
		tot = rte_be_to_cpu_16(ip->total_length);
		if (unlikely(hl < sizeof(*ip) || tot < hl || tot > len - ETH_LEN))
			return MESP_DROP_MALFORMED;
		if (tot < len - ETH_LEN)
			rte_pktmbuf_trim(m, (uint16_t)(len - ETH_LEN - tot));
		pi->family = AF_INET;
		pi->l3 = ip;
		pi->dst = (const uint8_t *)&ip->dst_addr;
		pi->src = (const uint8_t *)&ip->src_addr;
		pi->l3_len = hl;
		pi->proto = ip->next_proto_id;
		pi->dport = -1;
		if (pi->proto == IPPROTO_UDP && tot >= hl + 4 &&
				(ip->fragment_offset & rte_cpu_to_be_16(IPV4_OFF)) == 0)
			pi->dport = rte_be_to_cpu_16(((const struct rte_udp_hdr *)
					((const uint8_t *)ip + hl))->dst_port);
		return MESP_DROP_MAX;
	}
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
		uint32_t tot;

		if (unlikely(len < ETH_LEN + sizeof(*ip) || (*(const uint8_t *)ip >> 4) != 6))
			return MESP_DROP_MALFORMED;
		tot = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
		if (unlikely(tot > len - ETH_LEN || ip->payload_len == 0))
			return MESP_DROP_MALFORMED;
		if (tot < len - ETH_LEN)
			rte_pktmbuf_trim(m, (uint16_t)(len - ETH_LEN - tot));
		pi->family = AF_INET6;
		pi->l3 = ip;
		pi->dst = ip->dst_addr;
		pi->src = ip->src_addr;
		pi->l3_len = sizeof(*ip);
		pi->proto = ip->proto;
		pi->dport = -1;
		if (pi->proto == IPPROTO_UDP && tot >= sizeof(*ip) + 4)
			pi->dport = rte_be_to_cpu_16(((const struct rte_udp_hdr *)(ip + 1))->dst_port);
		return MESP_DROP_MAX;
	}
	return MESP_DROP_NOT_IP;
}

static inline bool is_mcast(const struct pkt_info *pi)
{
	return pi->family == AF_INET ? (pi->dst[0] & 0xf0) == 0xe0 : pi->dst[0] == 0xff;
}

static inline bool is_control(const struct pkt_info *pi)
{
	return pi->family == AF_INET ? is_mcast_control_v4(pi->l3) : is_mcast_control_v6(pi->l3);
}

/* Apply a port's default for traffic no rule covers. */
static inline enum verdict port_default(struct gw_worker *w, const struct gw_port *p,
		struct rte_mbuf *m, enum mesp_drop reason)
{
	if (p->dflt == GWCONF_ACT_BYPASS) {
		m->port = p->peer;
		return V_FWD;
	}
	drop(w, m, reason);
	return V_DROP;
}

/* L2 for a packet whose data now starts at its IP header: multicast MAC from the group. */
static inline int push_l2(const struct gw_port *out, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth;
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, ETH_LEN);
	if (unlikely(eth == NULL))
		return -1;
	if ((ip[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;
		const uint8_t *d = (const uint8_t *)&h->dst_addr;

		/* RFC 1112 §6.4: 01:00:5e + low 23 bits of the group */
		eth->dst_addr.addr_bytes[0] = 0x01;
		eth->dst_addr.addr_bytes[1] = 0x00;
		eth->dst_addr.addr_bytes[2] = 0x5e;
		eth->dst_addr.addr_bytes[3] = d[1] & 0x7f;
		eth->dst_addr.addr_bytes[4] = d[2];
		eth->dst_addr.addr_bytes[5] = d[3];
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	} else {
		const struct rte_ipv6_hdr *h = (const struct rte_ipv6_hdr *)ip;

		/* RFC 2464 §7: 33:33 + low 32 bits of the group */
		eth->dst_addr.addr_bytes[0] = 0x33;
		eth->dst_addr.addr_bytes[1] = 0x33;
		memcpy(&eth->dst_addr.addr_bytes[2], &h->dst_addr[12], 4);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	}
	rte_ether_addr_copy(&out->mac, &eth->src_addr);
	return 0;
}

/* Encrypt k packets for unprotected port p and queue them for TX. */
static void send_esp(struct gw_worker *w, uint16_t p, struct mesp_sa **sa, struct rte_mbuf **pm,
		uint16_t k)
{
	const struct gw_port *port = &w->gw->port[p];
	uint16_t good, sent = 0;

	if (unlikely(port->role != GWCONF_ROLE_UNPROTECTED)) {
		/* the group names a port that is not unprotected */
		for (uint16_t i = 0; i < k; i++)
			drop(w, pm[i], MESP_DROP_NO_SA);
		return;
	}
	good = mesp_outb_burst(&w->lc, sa, pm, k, port->mtu);
	for (uint16_t i = good; i < k; i++)
		rte_pktmbuf_free(pm[i]);        /* counted by mesp */
	for (uint16_t i = 0; i < good; i++) {
		if (unlikely(push_l2(port, pm[i]) != 0)) {
			drop(w, pm[i], MESP_DROP_NO_ROOM);
			continue;
		}
		sent++;
		tx_put(w, p, pm[i]);
	}
	w->st.protect += sent;
}

/* Plaintext side -> group ESP side. */
static void from_protected(struct gw_worker *w, const struct gsad_snap *snap, uint16_t pidx,
		struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	const struct gw *gw = w->gw;
	const struct gw_port *port = &gw->port[pidx];
	struct gsad_outb_key key[MESP_MAX_BURST];
	struct gsad_result res[MESP_MAX_BURST];
	struct rte_mbuf *lk[MESP_MAX_BURST];
	struct mesp_sa *sa[MESP_MAX_BURST];
	struct rte_mbuf *esp[MESP_MAX_BURST];
	uint16_t nl = 0, ne = 0, p0 = 0;
	bool mixed = false;

	/* classify; multicast data goes on to the policy lookup */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_info pi;
		enum mesp_drop why;

		why = parse(m, &pi);
		if (why == MESP_DROP_NOT_IP) {
			if (port_default(w, port, m, MESP_DROP_NOT_IP) == V_FWD)
				goto fwd;
			continue;
		}
		if (unlikely(why != MESP_DROP_MAX)) {
			drop(w, m, why);
			continue;
		}
		if (!is_mcast(&pi)) {
			if (port_default(w, port, m, MESP_DROP_NOT_MULTICAST) == V_FWD)
				goto fwd;
			continue;
		}
		if (is_control(&pi)) {
			m->port = port->peer;
			goto fwd;
		}
		key[nl].family = pi.family;
		key[nl].dport = pi.dport;
		key[nl].dst = pi.dst;
		key[nl].src = pi.src;
		lk[nl++] = m;
		continue;
fwd:
		w->st.bypass++;
		tx_put(w, m->port, m);
	}
	if (nl == 0)
		return;

	/* policy and sender SA for the whole burst at once (misses overlap, gsad.c) */
	gsad_outb_lookup_bulk(snap, key, nl, now, res);
	for (uint16_t i = 0; i < nl; i++) {
		struct rte_mbuf *m = lk[i];

		switch (res[i].action) {
		case GSAD_PROTECT:
			if (unlikely(res[i].sa == NULL)) {
				drop(w, m, res[i].why);
				continue;
			}
			m->port = res[i].out_port;
			if (ne == 0)
				p0 = m->port;
			else
				mixed |= m->port != p0;
			rte_pktmbuf_adj(m, ETH_LEN);
			sa[ne] = res[i].sa;
			esp[ne++] = m;
			continue;
		case GSAD_BYPASS:
			m->port = port->peer;
			break;
		case GSAD_DISCARD:
			drop(w, m, MESP_DROP_POLICY_DISCARD);
			continue;
		default:
			if (port_default(w, port, m, MESP_DROP_POLICY_DISCARD) != V_FWD)
				continue;
			break;
		}
		w->st.bypass++;
		tx_put(w, m->port, m);
	}
	if (ne == 0)
		return;
	/* usually a whole burst leaves on one unprotected port: one mesp call, no sorting */
	if (likely(!mixed)) {
		send_esp(w, p0, sa, esp, ne);
		return;
	}
	/* otherwise one mesp call per port, so that each gets its own MTU */
	while (ne != 0) {
		struct mesp_sa *psa[MESP_MAX_BURST];
		struct rte_mbuf *pm[MESP_MAX_BURST];
		uint16_t k = 0, rest = 0;

		p0 = esp[0]->port;
		for (uint16_t i = 0; i < ne; i++) {
			if (esp[i]->port == p0) {
				psa[k] = sa[i];
				pm[k++] = esp[i];
			} else {
				sa[rest] = sa[i];
				esp[rest++] = esp[i];
			}
		}
		ne = rest;
		send_esp(w, p0, psa, pm, k);
	}
}

/* Group ESP side -> plaintext side. */
static void from_unprotected(struct gw_worker *w, const struct gsad_snap *snap, uint16_t pidx,
		struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	const struct gw *gw = w->gw;
	const struct gw_port *port = &gw->port[pidx];
	struct gsad_inb_key key[MESP_MAX_BURST];
	struct gsad_result res[MESP_MAX_BURST];
	struct rte_mbuf *lk[MESP_MAX_BURST];
	struct mesp_sa *sa[MESP_MAX_BURST];
	struct rte_mbuf *esp[MESP_MAX_BURST];
	uint16_t nl = 0, ne = 0, good, delivered = 0;

	/* classify; ESP to a multicast group goes on to the SA lookup */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_info pi;
		enum mesp_drop why;

		why = parse(m, &pi);
		if (why == MESP_DROP_NOT_IP) {
			if (port_default(w, port, m, MESP_DROP_NOT_IP) == V_FWD)
				goto fwd;
			continue;
		}
		if (unlikely(why != MESP_DROP_MAX)) {
			drop(w, m, why);
			continue;
		}
		if (!is_mcast(&pi)) {
			if (port_default(w, port, m, MESP_DROP_NOT_MULTICAST) == V_FWD)
				goto fwd;
			continue;
		}
		if (pi.proto != IPPROTO_ESP) {
			if (pi.family == AF_INET6 && is_v6_ext(pi.proto) &&
					!is_control(&pi)) {
				drop(w, m, MESP_DROP_IPV6_EXT);
				continue;
			}
			if (is_control(&pi)) {
				m->port = port->peer;
				goto fwd;
			}
			/* plaintext for a protected group must not enter in clear (RFC 4301
			 * §5.2 step 4: SPD-I check) */
			if (gsad_is_protected(snap, pi.family, pi.dst, pi.src)) {
				drop(w, m, MESP_DROP_POLICY_DISCARD);
				continue;
			}
			if (port_default(w, port, m, MESP_DROP_POLICY_DISCARD) == V_FWD)
				goto fwd;
			continue;
		}
		if (pi.family == AF_INET) {
			const struct rte_ipv4_hdr *ip = pi.l3;

			if (unlikely(ip->fragment_offset &
					rte_cpu_to_be_16(IPV4_MF | IPV4_OFF))) {
				drop(w, m, MESP_DROP_FRAGMENT);
				continue;
			}
		}
		if (unlikely(rte_pktmbuf_pkt_len(m) < ETH_LEN + pi.l3_len + 8)) {
			drop(w, m, MESP_DROP_MALFORMED);
			continue;
		}
		/* the SPI sits 34 (IPv4) or 54 (IPv6) bytes into the frame: not 4-byte aligned */
		memcpy(&key[nl].spi_be, rte_pktmbuf_mtod_offset(m, const uint8_t *,
				ETH_LEN + pi.l3_len), sizeof(key[nl].spi_be));
		key[nl].family = pi.family;
		key[nl].dst = pi.dst;
		key[nl].src = pi.src;
		m->l3_len = pi.l3_len;
		lk[nl++] = m;
		continue;
fwd:
		w->st.bypass++;
		tx_put(w, m->port, m);
	}
	if (nl == 0)
		return;

	/* SA by longest match for the whole burst at once (misses overlap, gsad.c) */
	gsad_inb_lookup_bulk(snap, key, nl, now, res);
	for (uint16_t i = 0; i < nl; i++) {
		struct rte_mbuf *m = lk[i];

		if (res[i].sa == NULL) {
			drop(w, m, res[i].why);
			continue;
		}
		m->port = res[i].out_port;
		rte_pktmbuf_adj(m, ETH_LEN);
		sa[ne] = res[i].sa;
		esp[ne++] = m;
	}
	if (ne == 0)
		return;
	good = mesp_inb_burst(&w->lc, sa, esp, ne);
	for (uint16_t i = good; i < ne; i++)
		rte_pktmbuf_free(esp[i]);
	for (uint16_t i = 0; i < good; i++) {
		uint16_t p = esp[i]->port;

		if (unlikely(push_l2(&gw->port[p], esp[i]) != 0)) {
			drop(w, esp[i], MESP_DROP_NO_ROOM);
			continue;
		}
		delivered++;
		tx_put(w, p, esp[i]);
	}
	w->st.unprotect += delivered;
}

void gw_worker_rx(struct gw_worker *w, const struct gsad_snap *snap, uint16_t pidx,
		struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	if (w->gw->port[pidx].role == GWCONF_ROLE_PROTECTED)
		from_protected(w, snap, pidx, pkts, n, now);
	else
		from_unprotected(w, snap, pidx, pkts, n, now);
}

/* mesp_lcore.deliver: a packet the TESLA store verified and released, data at the inner IP
 * header, m->port its protected port. */
static void tesla_deliver(void *arg, struct rte_mbuf *m)
{
	struct gw_worker *w = arg;
	uint16_t p = m->port;

	if (unlikely(p >= w->gw->nb_ports || push_l2(&w->gw->port[p], m) != 0)) {
		drop(w, m, MESP_DROP_NO_ROOM);
		return;
	}
	w->st.unprotect++;
	/* a released interval can be many packets: flush rather than overflow */
	if (w->txn[p] == GW_TXBUF)
		tx_flush(w);
	tx_put(w, p, m);
}

/* TESLA housekeeping, a few times per millisecond: key beacons due on the SAs we send on,
 * expiry of held packets whose key never came. */
static void tesla_house(struct gw_worker *w, const struct gsad_snap *snap)
{
	const struct gsad_tesla_sa *t;
	uint32_t n;

	t = gsad_snap_tesla(snap, &n);
	for (uint32_t k = 0; k < n; k++) {
		const struct gw_port *port = &w->gw->port[t[k].out_port];
		struct rte_mbuf *b[2];
		uint16_t nb;

		mesp_tesla_poll(&w->lc, t[k].sa);
		if (port->role != GWCONF_ROLE_UNPROTECTED)
			continue;
		nb = mesp_tesla_beacons(&w->lc, t[k].sa, w->gw->pool, b);
		for (uint16_t j = 0; j < nb; j++) {
			if (push_l2(port, b[j]) != 0) {
				drop(w, b[j], MESP_DROP_NO_ROOM);
				continue;
			}
			tx_put(w, t[k].out_port, b[j]);
		}
	}
	tx_flush(w);
}

void gw_worker_prepare(struct gw_worker *w)
{
	w->lc.idx = w->idx;
	w->lc.pool = w->gw->pool;
	w->lc.deliver = tesla_deliver;
	w->lc.deliver_arg = w;
}

int gw_worker_main(void *arg)
{
	struct gw_worker *w = arg;
	struct gw *gw = w->gw;
	struct rte_mbuf *pkts[MESP_MAX_BURST];
	uint64_t house_every = rte_get_tsc_hz() / 4000, next_house = 0;
	uint32_t drain = 0;

	/* the job manager of the cipher + MAC suites, before the loop: no allocation per packet
	 * (a failure here only means the first such packet tries again) */
	(void)mcrypto_thread_init();
	gw_worker_prepare(w);
	rte_rcu_qsbr_thread_register(gw->qsv, w->idx);
	rte_rcu_qsbr_thread_online(gw->qsv, w->idx);
	for (;;) {
		/* the snapshot stays valid until this worker's next quiescent report */
		const struct gsad_snap *snap = gsad_snap_get(gw->db);
		uint64_t now = rte_rdtsc();
		uint32_t got = 0;

		uint32_t nb_tesla;

		/* TESLA SAs need the time: per loop for beacons and expiry, per burst below */
		(void)gsad_snap_tesla(snap, &nb_tesla);
		if (nb_tesla != 0) {
			w->lc.now_ns = gw_clock_ns(gw);
			w->lc.clock_synced = __atomic_load_n(&gw->clock.synced,
					__ATOMIC_RELAXED);
			if (now >= next_house) {
				tesla_house(w, snap);
				next_house = now + house_every;
			}
		}

		/* on stop, drain: keep going while the RX queues still hold packets, bounded so
		 * that a port under full load cannot hold the shutdown */
		if (__atomic_load_n(&gw->stop, __ATOMIC_RELAXED) && drain++ == GW_DRAIN_BURSTS)
			break;
		for (uint16_t q = 0; q < w->nb_rxq; q++) {
			const struct gw_rxq *rq = &w->rxq[q];
			uint16_t n = rte_eth_rx_burst(gw->port[rq->port].port_id, rq->queue, pkts,
					gw->burst);

			if (n == 0)
				continue;
			w->st.rx += n;
			got += n;
			/* arrival time for the safe-packet test: as close to the RX as it gets */
			if (nb_tesla != 0)
				w->lc.now_ns = gw_clock_ns(gw);
			gw_worker_rx(w, snap, rq->port, pkts, n, now);
			tx_flush(w);
		}
		rte_rcu_qsbr_quiescent(gw->qsv, w->idx);
		if (drain != 0 && got == 0)
			break;
	}
	rte_rcu_qsbr_thread_offline(gw->qsv, w->idx);
	rte_rcu_qsbr_thread_unregister(gw->qsv, w->idx);
	return 0;
}
