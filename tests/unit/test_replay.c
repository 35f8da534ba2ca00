/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window (lib/mesp/replay.c): RFC 6479 ring, RFC 4303 §3.4.3 and Appendix A ESN.
 * Window sizes 32, 64, 1000 (not a power of two), 1024 and 65536, each with and without ESN.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "mesp_replay.h"

#define TWO32 (UINT64_C(1) << 32)

static const uint32_t windows[] = { 32, 64, 1000, 1024, 65536 };
#define NB_WINDOWS ((int)(sizeof(windows) / sizeof(windows[0])))

/* Loop index -> (window, esn): even = 32-bit SN, odd = ESN. */
static uint32_t loop_window(int i)
{
	return windows[i / 2];
}

static bool loop_esn(int i)
{
	return (i & 1) != 0;
}

static struct mesp_replay *mk(uint32_t window, bool esn)
{
	size_t sz = mesp_replay_size(window);
	struct mesp_replay *rw;

	ck_assert_uint_gt(sz, 0);
	rw = aligned_alloc(8, sz);
	ck_assert_ptr_nonnull(rw);
	memset(rw, 0xa5, sz); /* init must not rely on zeroed memory */
	ck_assert_int_eq(mesp_replay_init(rw, window, esn), 0);
	return rw;
}

/* The blocks of the ring as replay.c sizes it: ceil(W / 64) + 1, rounded up to a power of two. */
static uint64_t ring_bits(uint32_t window)
{
	uint64_t m = 1;

	while (m < (window + 63) / 64 + 1)
		m <<= 1;
	return m * 64;
}

/* Receive s as the data path does: check (low half on the wire), then update. */
static void accept(struct mesp_replay *rw, uint64_t s)
{
	uint64_t r = ~UINT64_C(0);

	ck_assert_msg(mesp_replay_check(rw, (uint32_t)s, &r) == 0, "check %llu",
			(unsigned long long)s);
	ck_assert_msg(r == s, "reconstructed %llx, sent %llx", (unsigned long long)r,
			(unsigned long long)s);
	ck_assert_msg(mesp_replay_update(rw, s) == 0, "update %llu", (unsigned long long)s);
}

/* Status of s for check(), with the reconstruction verified when it is inside the window. */
static int status(const struct mesp_replay *rw, uint64_t s)
{
	uint64_t r;
	int rc = mesp_replay_check(rw, (uint32_t)s, &r);

	/* no ck_assert on success: each one is a write to the runner, and loops make millions */
	if (rc != -ERANGE && r != s)
		ck_abort_msg("reconstructed %llx, want %llx", (unsigned long long)r,
				(unsigned long long)s);
	return rc;
}

/* Loop-friendly assertion: only a failure talks to the runner. */
#define expect(expr, ...) do { if (!(expr)) ck_abort_msg(__VA_ARGS__); } while (0)

START_TEST(test_size)
{
	size_t prev = 0;

	ck_assert_uint_eq(mesp_replay_size(0), 0);
	ck_assert_uint_eq(mesp_replay_size(MESP_REPLAY_MAX_WINDOW + 1), 0);
	ck_assert_uint_eq(mesp_replay_size(UINT32_MAX), 0);
	ck_assert_uint_gt(mesp_replay_size(1), 0);
	ck_assert_uint_gt(mesp_replay_size(MESP_REPLAY_MAX_WINDOW), 0);
	for (uint32_t w = 1; w <= MESP_REPLAY_MAX_WINDOW; w = w < 300 ? w + 1 : w * 2 - 1) {
		size_t sz = mesp_replay_size(w);

		ck_assert_uint_eq(sz % 8, 0);
		ck_assert_uint_ge(sz, prev);
		/* room for at least W bits plus a spare block */
		ck_assert_uint_ge(sz * 8, (size_t)w + 64);
		prev = sz;
	}
}
END_TEST

START_TEST(test_init_errors)
{
	uint64_t mem[16];
	struct mesp_replay *rw = (struct mesp_replay *)mem;

	ck_assert_int_eq(mesp_replay_init(rw, 0, false), -EINVAL);
	ck_assert_int_eq(mesp_replay_init(rw, MESP_REPLAY_MAX_WINDOW + 1, true), -EINVAL);
	ck_assert_int_eq(mesp_replay_init(NULL, 64, false), -EINVAL);
	ck_assert_uint_le(mesp_replay_size(1), sizeof(mem));
	ck_assert_int_eq(mesp_replay_init(rw, 1, false), 0);
	ck_assert_uint_eq(mesp_replay_top(rw), 0);
}
END_TEST

/* RFC 4303 §2.2: sequence number 0 is never sent. */
START_TEST(test_zero)
{
	struct mesp_replay *rw = mk(loop_window(_i), loop_esn(_i));
	uint64_t r;

	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), -ERANGE);
	ck_assert_int_eq(mesp_replay_update(rw, 0), -ERANGE);
	accept(rw, 1);
	accept(rw, 5);
	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), -ERANGE);
	ck_assert_int_eq(mesp_replay_update(rw, 0), -ERANGE);
	ck_assert_uint_eq(mesp_replay_top(rw), 5);
	free(rw);
}
END_TEST

/* First packet, duplicate, check() twice then update, burst duplicates caught by update(). */
START_TEST(test_duplicate)
{
	struct mesp_replay *rw = mk(loop_window(_i), loop_esn(_i));
	uint64_t r;

	ck_assert_uint_eq(mesp_replay_top(rw), 0);
	/* check() never changes the window */
	ck_assert_int_eq(mesp_replay_check(rw, 7, &r), 0);
	ck_assert_uint_eq(r, 7);
	ck_assert_int_eq(mesp_replay_check(rw, 7, &r), 0);
	ck_assert_uint_eq(mesp_replay_top(rw), 0);
	ck_assert_int_eq(mesp_replay_update(rw, 7), 0);
	ck_assert_uint_eq(mesp_replay_top(rw), 7);
	ck_assert_int_eq(mesp_replay_check(rw, 7, &r), -EEXIST);
	ck_assert_int_eq(mesp_replay_update(rw, 7), -EEXIST);

	/* two copies of 9 in one burst: both pass the preliminary check, one is recorded */
	ck_assert_int_eq(mesp_replay_check(rw, 9, &r), 0);
	ck_assert_int_eq(mesp_replay_check(rw, 9, &r), 0);
	ck_assert_int_eq(mesp_replay_update(rw, 9), 0);
	ck_assert_int_eq(mesp_replay_update(rw, 9), -EEXIST);

	/* a late one below the top, checked twice, then recorded once */
	ck_assert_int_eq(mesp_replay_check(rw, 8, &r), 0);
	ck_assert_int_eq(mesp_replay_check(rw, 8, &r), 0);
	ck_assert_uint_eq(mesp_replay_top(rw), 9);
	ck_assert_int_eq(mesp_replay_update(rw, 8), 0);
	ck_assert_int_eq(mesp_replay_check(rw, 8, &r), -EEXIST);
	ck_assert_uint_eq(mesp_replay_top(rw), 9);
	/* a number never seen but not updated stays new */
	ck_assert_int_eq(mesp_replay_check(rw, 6, &r), 0);
	free(rw);
}
END_TEST

/* Window edge: top - W + 1 is accepted, top - W is not. */
START_TEST(test_edge)
{
	uint32_t w = loop_window(_i);
	bool esn = loop_esn(_i);
	struct mesp_replay *rw = mk(w, esn);
	uint64_t top = 5 * (uint64_t)w + 17, r;

	accept(rw, top);
	ck_assert_int_eq(status(rw, top - w + 1), 0);
	ck_assert_int_eq(mesp_replay_update(rw, top - w), -ERANGE);
	if (esn) {
		/* RFC 4303 A2.2: a low half below the window means the next 2^32 block; the ICV
		 * then decides */
		ck_assert_int_eq(mesp_replay_check(rw, (uint32_t)(top - w), &r), 0);
		ck_assert_uint_eq(r, top - w + TWO32);
	} else {
		ck_assert_int_eq(mesp_replay_check(rw, (uint32_t)(top - w), &r), -ERANGE);
	}
	ck_assert_int_eq(mesp_replay_update(rw, top - w + 1), 0);
	ck_assert_int_eq(status(rw, top - w + 1), -EEXIST);
	ck_assert_int_eq(mesp_replay_update(rw, top - w + 1), -EEXIST);
	ck_assert_uint_eq(mesp_replay_top(rw), top);

	/* one step forward: the old bottom falls out */
	accept(rw, top + 1);
	ck_assert_int_eq(mesp_replay_update(rw, top - w + 1), -ERANGE);
	ck_assert_int_eq(status(rw, top - w + 2), 0);
	free(rw);
}
END_TEST

/* Far behind: refused without looking at the ring. */
START_TEST(test_far_behind)
{
	uint32_t w = loop_window(_i);
	struct mesp_replay *rw = mk(w, loop_esn(_i));
	uint64_t top = 3 * ring_bits(w) + 5, r;

	accept(rw, top);
	for (uint64_t back = w; back < top; back += 37) {
		expect(mesp_replay_update(rw, top - back) == -ERANGE, "update %llu",
				(unsigned long long)(top - back));
		expect(loop_esn(_i) || mesp_replay_check(rw, (uint32_t)(top - back), &r) == -ERANGE,
				"check %llu", (unsigned long long)(top - back));
	}
	free(rw);
}
END_TEST

/*
 * check64 (the complete number, as our senders carry it in the IV): far-behind numbers are
 * refused as replays even with ESN, where the low half alone reads as the next 2^32 block;
 * duplicates, the window edge, zero and (without ESN) numbers past 2^32 - 1 likewise.
 */
START_TEST(test_check64)
{
	uint32_t w = loop_window(_i);
	bool esn = loop_esn(_i);
	struct mesp_replay *rw = mk(w, esn);
	uint64_t top = esn ? (UINT64_C(5) << 32) + 3 * ring_bits(w) : 3 * ring_bits(w) + 5;

	ck_assert_int_eq(mesp_replay_check64(rw, 0), -ERANGE);
	ck_assert_int_eq(mesp_replay_check64(rw, 1), 0);
	ck_assert_int_eq(mesp_replay_update(rw, top), 0);
	ck_assert_int_eq(mesp_replay_check64(rw, top), -EEXIST);
	ck_assert_int_eq(mesp_replay_check64(rw, top + 1), 0);
	ck_assert_int_eq(mesp_replay_check64(rw, top - w + 1), 0);
	ck_assert_int_eq(mesp_replay_check64(rw, top - w), -ERANGE);
	for (uint64_t back = w; back < top && back < (UINT64_C(1) << 36); back = back * 3 + 7)
		expect(mesp_replay_check64(rw, top - back) == -ERANGE, "check64 %llu",
				(unsigned long long)(top - back));
	if (esn)
		ck_assert_int_eq(mesp_replay_check64(rw, top + (UINT64_C(1) << 32)), 0);
	else
		ck_assert_int_eq(mesp_replay_check64(rw, UINT64_C(1) << 32), -ERANGE);
	ck_assert_int_eq(mesp_replay_update(rw, top - w + 1), 0);
	ck_assert_int_eq(mesp_replay_check64(rw, top - w + 1), -EEXIST);
	free(rw);
}
END_TEST

/* Every number of the window, in a scrambled order, is accepted once and then only seen. */
START_TEST(test_out_of_order)
{
	uint32_t w = loop_window(_i);
	struct mesp_replay *rw = mk(w, loop_esn(_i));
	uint64_t top = 2 * (uint64_t)w + 100;
	/* prime and no divisor of any window: i * step mod w visits every offset */
	const uint32_t step = 7919;

	accept(rw, top);
	for (uint32_t i = 1; i < w; i++) {
		uint64_t off = ((uint64_t)i * step) % w;

		if (off == 0)
			continue;
		expect(status(rw, top - off) == 0, "first check of top - %llu",
				(unsigned long long)off);
		expect(mesp_replay_update(rw, top - off) == 0, "update of top - %llu",
				(unsigned long long)off);
	}
	ck_assert_uint_eq(mesp_replay_top(rw), top);
	for (uint32_t off = 0; off < w; off++) {
		expect(status(rw, top - off) == -EEXIST, "second check of top - %u", off);
		expect(mesp_replay_update(rw, top - off) == -EEXIST, "second update of top - %u",
				off);
	}
	ck_assert_int_eq(mesp_replay_update(rw, top - w), -ERANGE);
	free(rw);
}
END_TEST

/*
 * Far ahead: fill the whole window, jump by J, then every number of the new window must be new
 * unless it was recorded before the jump (still inside) or is the new top. Jumps around the ring
 * size put the new numbers on the slots of old ones: stale bits must be gone (the aliasing that
 * OpenDataPlane PR #1261 got wrong).
 */
static void jump_case(uint32_t w, bool esn, uint64_t j)
{
	struct mesp_replay *rw = mk(w, esn);
	uint64_t t0 = 3 * (uint64_t)w + 17;
	uint64_t t1 = t0 + j;
	uint64_t lo = t1 >= w ? t1 - w + 1 : 1;

	for (uint64_t s = t0 - w + 1; s <= t0; s++)
		expect(mesp_replay_update(rw, s) == 0, "fill %llu", (unsigned long long)s);
	/* a jump of 2^31 or more cannot come from the wire alone: update with the 64-bit value */
	ck_assert_int_eq(mesp_replay_update(rw, t1), 0);
	ck_assert_uint_eq(mesp_replay_top(rw), t1);
	for (uint64_t s = lo; s <= t1; s++) {
		bool seen = s == t1 || (s <= t0 && s + w > t0);
		int want = seen ? -EEXIST : 0;

		expect(status(rw, s) == want, "W %u esn %d jump %llu: seq %llu want %d", w, esn,
				(unsigned long long)j, (unsigned long long)s, want);
	}
	if (t1 > w)
		ck_assert_int_eq(mesp_replay_update(rw, t1 - w), -ERANGE);
	/* and the window still records */
	if (lo < t1) {
		ck_assert_int_eq(mesp_replay_update(rw, t1 - 1), t0 == t1 - 1 ? -EEXIST : 0);
		ck_assert_int_eq(mesp_replay_update(rw, t1 - 1), -EEXIST);
	}
	free(rw);
}

START_TEST(test_far_ahead)
{
	uint32_t w = loop_window(_i);
	bool esn = loop_esn(_i);
	uint64_t ring = ring_bits(w);
	const uint64_t jumps[] = {
		1, 63, 64, 65, w - 1, w, w + 1, ring - 64, ring - 1, ring, ring + 1, ring + 64,
		2 * ring, 2 * ring + 3, (UINT64_C(1) << 31) - 1, UINT64_C(1) << 31,
		(UINT64_C(1) << 31) + ring,
	};

	for (size_t k = 0; k < sizeof(jumps) / sizeof(jumps[0]); k++)
		jump_case(w, esn, jumps[k]);
	if (esn) {
		jump_case(w, esn, TWO32);
		jump_case(w, esn, TWO32 + 1);
		jump_case(w, esn, (UINT64_C(1) << 40) + 12345);
	} else {
		/* up to the last 32-bit number */
		jump_case(w, esn, UINT32_MAX - (3 * (uint64_t)w + 17));
	}
}
END_TEST

/* The ODP case spelled out, W = 64: two 64-bit blocks in the ring, so s and s + 128 share a bit. */
START_TEST(test_alias_same_bit)
{
	struct mesp_replay *rw = mk(64, loop_esn(_i));
	uint64_t r;

	accept(rw, 140);
	accept(rw, 200);
	/* 72 = 200 - 128 maps to the bit of 200 but is behind the window: refused, not "seen" */
	ck_assert_int_eq(mesp_replay_update(rw, 72), -ERANGE);
	if (!loop_esn(_i))
		ck_assert_int_eq(mesp_replay_check(rw, 72, &r), -ERANGE);
	/* 268 = 140 + 128 lands on 140's bit after the window moves: it must read as new */
	accept(rw, 300);
	ck_assert_int_eq(status(rw, 268), 0);
	accept(rw, 268);
	ck_assert_int_eq(status(rw, 268), -EEXIST);
	/* and 140 itself is now far behind */
	ck_assert_int_eq(mesp_replay_update(rw, 140), -ERANGE);
	free(rw);
}
END_TEST

/* ESN across 2^32: case A going up, case B for late packets (RFC 4303 A2.2). */
START_TEST(test_esn_wrap)
{
	uint32_t w = windows[_i];
	struct mesp_replay *rw = mk(w, true);
	uint64_t r;

	accept(rw, 0xFFFFFFF0u);
	/* case A: low half below the bottom means the next subspace */
	ck_assert_int_eq(mesp_replay_check(rw, 5, &r), 0);
	ck_assert_uint_eq(r, TWO32 + 5);
	/* 2^32 has a low half of 0 and is a valid sequence number */
	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), 0);
	ck_assert_uint_eq(r, TWO32);
	ck_assert_int_eq(mesp_replay_update(rw, TWO32), 0);
	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), -EEXIST);
	ck_assert_uint_eq(r, TWO32);
	accept(rw, TWO32 + 5);
	ck_assert_uint_eq(mesp_replay_top(rw), TWO32 + 5);

	/* case B: top just above 2^32, the late 0xFFFFFFFE belongs to the previous subspace */
	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFFEu, &r), 0);
	ck_assert_uint_eq(r, 0xFFFFFFFEu);
	ck_assert_int_eq(mesp_replay_update(rw, r), 0);
	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFFEu, &r), -EEXIST);
	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFF0u, &r), -EEXIST);
	ck_assert_uint_eq(r, 0xFFFFFFF0u);
	ck_assert_int_eq(mesp_replay_check(rw, 3, &r), 0);
	ck_assert_uint_eq(r, TWO32 + 3);
	ck_assert_int_eq(mesp_replay_check(rw, 6, &r), 0);
	ck_assert_uint_eq(r, TWO32 + 6);

	/* bottom of the window: top - W + 1 is in the old subspace (all W here are > 5) */
	uint64_t bottom = TWO32 + 5 - w + 1;

	ck_assert_int_eq(mesp_replay_check(rw, (uint32_t)bottom, &r), 0);
	ck_assert_uint_eq(r, bottom);
	/* one below the bottom: case B puts it in the current subspace, far ahead */
	ck_assert_int_eq(mesp_replay_check(rw, (uint32_t)(bottom - 1), &r), 0);
	ck_assert_uint_eq(r, TWO32 + (uint32_t)(bottom - 1));
	ck_assert_int_eq(mesp_replay_update(rw, bottom - 1), -ERANGE);

	/* the window keeps working in the new subspace */
	accept(rw, TWO32 + 100000);
	ck_assert_int_eq(mesp_replay_check(rw, 100000, &r), -EEXIST);
	ck_assert_uint_eq(r, TWO32 + 100000);
	free(rw);
}
END_TEST

/* ESN at the start: top = 0, nothing before it; a large low half is ahead, not 2^64 - x. */
START_TEST(test_esn_start)
{
	struct mesp_replay *rw = mk(windows[_i], true);
	uint64_t r;

	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFF0u, &r), 0);
	ck_assert_uint_eq(r, 0xFFFFFFF0u);
	ck_assert_int_eq(mesp_replay_check(rw, 1, &r), 0);
	ck_assert_uint_eq(r, 1);
	accept(rw, 3);
	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFF0u, &r), 0);
	ck_assert_uint_eq(r, 0xFFFFFFF0u);
	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), -ERANGE);
	free(rw);
}
END_TEST

/* ESN at the end of the 64-bit space: the next subspace does not exist, nothing wraps to new. */
START_TEST(test_esn_exhausted)
{
	struct mesp_replay *rw = mk(64, true);
	uint64_t top = UINT64_MAX - 16, r;

	ck_assert_int_eq(mesp_replay_update(rw, top), 0);
	ck_assert_int_eq(mesp_replay_check(rw, (uint32_t)(top - 3), &r), 0);
	ck_assert_uint_eq(r, top - 3);
	ck_assert_int_eq(mesp_replay_check(rw, 5, &r), -ERANGE);
	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), -ERANGE);
	accept(rw, UINT64_MAX);
	ck_assert_int_eq(mesp_replay_check(rw, (uint32_t)UINT64_MAX, &r), -EEXIST);
	free(rw);
}
END_TEST

/* 32-bit sequence numbers: no reconstruction, no wrap, the window stops at 2^32 - 1. */
START_TEST(test_no_esn)
{
	struct mesp_replay *rw = mk(windows[_i], false);
	uint64_t r;

	accept(rw, 0xFFFFFFF0u);
	ck_assert_int_eq(mesp_replay_check(rw, 5, &r), -ERANGE);
	ck_assert_uint_eq(r, 5);
	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFF1u, &r), 0);
	ck_assert_uint_eq(r, 0xFFFFFFF1u);
	accept(rw, 0xFFFFFFFFu);
	ck_assert_int_eq(mesp_replay_check(rw, 0xFFFFFFFFu, &r), -EEXIST);
	ck_assert_int_eq(mesp_replay_check(rw, 0, &r), -ERANGE);
	ck_assert_int_eq(mesp_replay_check(rw, 1, &r), -ERANGE);
	/* a 64-bit value cannot enter a 32-bit window */
	ck_assert_int_eq(mesp_replay_update(rw, TWO32), -ERANGE);
	ck_assert_int_eq(mesp_replay_update(rw, TWO32 + 5), -ERANGE);
	ck_assert_uint_eq(mesp_replay_top(rw), 0xFFFFFFFFu);
	ck_assert_int_eq(status(rw, 0xFFFFFFF5u), 0);
	free(rw);
}
END_TEST

/* Window of 1: only strictly increasing numbers. */
START_TEST(test_window_one)
{
	struct mesp_replay *rw = mk(1, loop_esn(_i));

	accept(rw, 10);
	ck_assert_int_eq(mesp_replay_update(rw, 10), -EEXIST);
	ck_assert_int_eq(mesp_replay_update(rw, 9), -ERANGE);
	accept(rw, 11);
	accept(rw, 1000);
	ck_assert_int_eq(mesp_replay_update(rw, 999), -ERANGE);
	free(rw);
}
END_TEST

Suite *replay_suite(void);

Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc;

	tc = tcase_create("setup");
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_init_errors);
	suite_add_tcase(s, tc);

	/* loop index: window = windows[i / 2], ESN = i & 1 */
	tc = tcase_create("window");
	tcase_add_loop_test(tc, test_zero, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_duplicate, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_edge, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_far_behind, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_check64, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_out_of_order, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_far_ahead, 0, 2 * NB_WINDOWS);
	tcase_add_loop_test(tc, test_alias_same_bit, 0, 2);
	tcase_add_loop_test(tc, test_window_one, 0, 2);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	/* loop index: window = windows[i] */
	tc = tcase_create("esn");
	tcase_add_loop_test(tc, test_esn_wrap, 0, NB_WINDOWS);
	tcase_add_loop_test(tc, test_esn_start, 0, NB_WINDOWS);
	tcase_add_test(tc, test_esn_exhausted);
	tcase_add_loop_test(tc, test_no_esn, 0, NB_WINDOWS);
	suite_add_tcase(s, tc);
	return s;
}
