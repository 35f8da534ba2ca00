/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SA callbacks for a group member whose keys nobody uses (benchmarks, fuzzers): lib/gm
 * requires all three, these accept every epoch and do nothing with it.
 */
#ifndef TEST_GM_NOP_H
#define TEST_GM_NOP_H

#include <stdint.h>

#include "gm.h"

static inline int test_gm_nop_install(void *arg, const struct gm_sa *sa)
{
	(void)arg;
	(void)sa;
	return 0;
}

/* sa_send and sa_remove */
static inline int test_gm_nop_epoch(void *arg, const char *group, uint32_t index,
		uint32_t epoch)
{
	(void)arg;
	(void)group;
	(void)index;
	(void)epoch;
	return 0;
}

#endif
