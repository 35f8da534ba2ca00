/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decode a hex string (no separators) into out; returns the byte count or -1. */
static inline int test_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (hex[0] != '\0' && hex[1] != '\0') {
		unsigned int v;
		char b[3] = { hex[0], hex[1], 0 };

		if (n == cap || sscanf(b, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return hex[0] == '\0' ? (int)n : -1;
}

struct rte_mempool;

/**
 * Initialise DPDK's EAL once per process (no hugepages, no PCI, no shared config) and return
 * an mbuf pool of that name, created on first use. Aborts when EAL cannot start.
 */
struct rte_mempool *test_eal_pool(const char *name);

#endif
