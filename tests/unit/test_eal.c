/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK environment for the suites that need mbufs: EAL once per process, a pool per suite. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "test_common.h"

struct rte_mempool *test_eal_pool(const char *name)
{
	char *argv[] = { "msec-unit-tests", "-l", "0", "--no-huge", "--no-shconf", "--no-pci",
		"--no-telemetry", "-m", "128", "--log-level=*:error", NULL };
	struct rte_mempool *mp;

	/* EAL initialises once per process; another suite may have done it (lcore count > 0) */
	if (rte_lcore_count() == 0 && rte_eal_init(RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed: %s\n", name, rte_strerror(rte_errno));
		abort();
	}
	mp = rte_mempool_lookup(name);
	if (mp == NULL)
		mp = rte_pktmbuf_pool_create(name, 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL) {
		fprintf(stderr, "%s: mempool: %s\n", name, rte_strerror(rte_errno));
		abort();
	}
	return mp;
}
