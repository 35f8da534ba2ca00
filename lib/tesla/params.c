/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parameter checks, interval arithmetic, chain indices and the safe-packet test.
 *
 * Every time is an unsigned 64-bit count of ns; a difference is only taken after comparing, and
 * products and sums go through the overflow builtins, so no input is undefined behaviour.
 */
#include <errno.h>
#include <stdint.h>

#include "tesla_pvt.h"

static const char *const param_errors[] = {
	[TESLA_PARAM_OK] = "parameters valid",
	[TESLA_PARAM_T_INT] = "T_int is 0: an interval must last at least 1 ns",
	[TESLA_PARAM_D_SMALL] = "d < 2: the key of an interval would be disclosed while it runs",
	[TESLA_PARAM_D_LARGE] = "d > 255: larger than RFC 5776's 8-bit disclosure delay",
	[TESLA_PARAM_N] = "N must be 1 .. 2^32 - 2 (a chain holds N + 1 keys)",
	[TESLA_PARAM_D_N] = "d > N: a chain must last longer than the disclosure delay",
	[TESLA_PARAM_WALK] = "max_walk is 0: no disclosed key could be verified",
	[TESLA_PARAM_D_T] = "D_t >= d * T_int: no packet could ever pass the safe-packet test",
};

const char *tesla_param_strerror(enum tesla_param_error why)
{
	if ((unsigned int)why >= sizeof(param_errors) / sizeof(param_errors[0]))
		return "unknown parameter error";
	return param_errors[why];
}

/*
 * A packet sent at the very start of interval i, received at once by a receiver whose clock is
 * exact, gives x = i + floor(D_t / T_int): with D_t >= d * T_int even that one is unsafe.
 */
static bool d_t_too_large(const struct tesla_params *p)
{
	uint64_t span;

	if (p->d_t <= 0)
		return false;
	if (__builtin_mul_overflow((uint64_t)p->d, p->t_int, &span))
		return false;
	return (uint64_t)p->d_t >= span;
}

static enum tesla_param_error params_why(const struct tesla_params *p)
{
	if (p->t_int == 0)
		return TESLA_PARAM_T_INT;
	if (p->d < TESLA_D_MIN)
		return TESLA_PARAM_D_SMALL;
	if (p->d > TESLA_D_MAX)
		return TESLA_PARAM_D_LARGE;
	if (p->n == 0 || p->n == UINT32_MAX)
		return TESLA_PARAM_N;
	if (p->d > p->n)
		return TESLA_PARAM_D_N;
	if (p->max_walk == 0)
		return TESLA_PARAM_WALK;
	if (d_t_too_large(p))
		return TESLA_PARAM_D_T;
	return TESLA_PARAM_OK;
}

int tesla_params_check(const struct tesla_params *p, enum tesla_param_error *why)
{
	enum tesla_param_error w;

	if (p == NULL)
		return -EINVAL;
	w = params_why(p);
	if (why != NULL)
		*why = w;
	return w == TESLA_PARAM_OK ? 0 : -EINVAL;
}

int tesla_interval(const struct tesla_params *p, uint64_t t, uint32_t *i)
{
	uint64_t k;

	if (t < p->t0)
		return -ERANGE;
	k = (t - p->t0) / p->t_int;
	if (k > UINT32_MAX)
		return -EOVERFLOW;
	*i = (uint32_t)k;
	return 0;
}

int tesla_interval_start(const struct tesla_params *p, uint32_t i, uint64_t *t)
{
	uint64_t off;

	if (__builtin_mul_overflow((uint64_t)i, p->t_int, &off) ||
	    __builtin_add_overflow(p->t0, off, t))
		return -EOVERFLOW;
	return 0;
}

/* t + D_t clamped to [0, UINT64_MAX]. */
static uint64_t add_d_t(uint64_t t, int64_t d_t)
{
	uint64_t mag;

	if (d_t >= 0)
		return t > UINT64_MAX - (uint64_t)d_t ? UINT64_MAX : t + (uint64_t)d_t;
	mag = (uint64_t)-(d_t + 1) + 1;     /* |d_t| without negating INT64_MIN */
	return t < mag ? 0 : t - mag;
}

int64_t tesla_latest_interval(const struct tesla_params *p, uint64_t t)
{
	uint64_t ts = add_d_t(t, p->d_t);
	uint64_t x;

	if (ts < p->t0)
		return -1;
	x = (ts - p->t0) / p->t_int;
	return x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
}

/*
 * RFC 4082 §3.5 step 1: safe iff x < i + d. NDSS'01 §4 adds i <= x (the sender cannot be ahead
 * of x): together they admit only the d intervals x - d < i <= x. Both sides fit int64 as i
 * is 32-bit and d at most 255.
 */
enum tesla_safety tesla_safety_x(const struct tesla_params *p, int64_t x, uint32_t i)
{
	if ((int64_t)i > x)
		return TESLA_FUTURE;
	if (x >= (int64_t)i + (int64_t)p->d)
		return TESLA_UNSAFE;
	return TESLA_SAFE;
}

enum tesla_safety tesla_safety(const struct tesla_params *p, uint64_t t, uint32_t i)
{
	return tesla_safety_x(p, tesla_latest_interval(p, t), i);
}

uint32_t tesla_chain_of(const struct tesla_params *p, uint32_t i)
{
	return (uint32_t)(i / ((uint64_t)p->n + 1));
}

uint32_t tesla_chain_pos(const struct tesla_params *p, uint32_t i)
{
	return (uint32_t)(i % ((uint64_t)p->n + 1));
}

int tesla_chain_start(const struct tesla_params *p, uint32_t c, uint32_t *i)
{
	uint64_t first = (uint64_t)c * ((uint64_t)p->n + 1);

	if (first > UINT32_MAX)
		return -ERANGE;
	*i = (uint32_t)first;
	return 0;
}

/* ceil(sqrt(N + 1)) by integer Newton steps: no libm, exact for every 32-bit N. */
uint32_t tesla_cp_every(uint32_t n)
{
	uint64_t keys = (uint64_t)n + 1;
	uint64_t r = keys, y = (keys + 1) / 2;

	while (y < r) {
		r = y;
		y = (r + keys / r) / 2;
	}
	/* r = floor(sqrt(keys)) */
	return (uint32_t)(r * r == keys ? r : r + 1);
}
