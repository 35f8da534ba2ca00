/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TESLA clock (doc/tesla.md, "Clock and sync states"): Unix time in nanoseconds, read by
 * workers once per loop with clock_gettime(CLOCK_REALTIME) (the vDSO: about 20 ns, no system
 * call), plus an offset an operator or a test may set (`msecctl clock offset`, a simulated
 * clock). Extrapolating the TSC with DPDK's estimate of its frequency was tried first and
 * drifted by milliseconds between two processes on one host within a second, which the
 * safe-packet test turns into tesla_future and tesla_unsafe drops.
 *
 * The control thread decides whether the local clock counts as synchronised: the kernel's view
 * (adjtimex: not STA_UNSYNC, no TIME_ERROR, maximum error within clock.max_error_ms), or always
 * with clock.check "none"; `msecctl clock unsynced` forces the unsynced state.
 */
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "gw.h"

static bool kernel_synced(uint32_t max_error_ms)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	return state != -1 && state != TIME_ERROR && !(tx.status & STA_UNSYNC) &&
		tx.maxerror >= 0 && (uint64_t)tx.maxerror <= (uint64_t)max_error_ms * 1000u;
}

void gw_clock_init(struct gw *gw)
{
	memset(&gw->clock, 0, sizeof(gw->clock));
	gw_clock_update(gw);
}

void gw_clock_update(struct gw *gw)
{
	struct gw_clock *c = &gw->clock;
	bool synced;

	synced = !c->force_unsynced && (!gw->conf->clock_check ||
			kernel_synced(gw->conf->clock_max_error_ms));
	__atomic_store_n(&c->synced, synced, __ATOMIC_RELAXED);
}

uint64_t gw_clock_ns(const struct gw *gw)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
		(uint64_t)__atomic_load_n(&gw->clock.offset_ns, __ATOMIC_RELAXED);
}
