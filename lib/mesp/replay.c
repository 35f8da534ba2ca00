/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window: RFC 6479 ring of 64-bit blocks with RFC 4303 Appendix A ESN handling.
 *
 * Ring: M blocks of 64 bits, M a power of two. A sequence number s lives at bit (s & 63) of block
 * ((s >> 6) & (M - 1)); neither depends on the window edge, so the window never shifts. Moving
 * the top forward clears only the blocks the top enters (at most M). The blocks from the top's
 * block back M - 1 blocks always hold exactly the numbers recorded in them; older blocks share
 * their slots with newer ones. M is the smallest power of two >= ceil(W / 64) + 1, so the
 * oldest number inside the window, top - W + 1, is at most ceil(W / 64) <= M - 1 blocks behind
 * the top block and always lands in a slot that still holds its own block.
 *
 * Range check before indexing (OpenDataPlane PR #1261): a number behind the window maps to a slot
 * that now belongs to a later block; testing that bit would reject a legitimate later packet or
 * let a replay through. Every lookup therefore checks top - s < W first.
 *
 * The window is W exactly as configured (not the larger (M - 1) * 64 the ring could hold): the
 * oldest accepted number is top - W + 1.
 *
 * Zero (RFC 4303 §2.2): the counter starts at 0 and the first packet carries 1, so the sequence
 * number 0 is never sent. With ESN that applies to the 64-bit value only: 2^32, 2 * 2^32, ... have
 * a low half of 0 on the wire and are valid; only a reconstructed value of 0 is refused.
 *
 * One writer per window (the worker that owns the sender), no concurrent readers: plain loads and
 * stores.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mesp_replay.h"

#define BLOCK_SHIFT 6
#define BLOCK_BITS (1u << BLOCK_SHIFT)

struct mesp_replay {
	uint64_t top;       /* highest recorded sequence number, 0 before the first */
	uint32_t window;    /* W */
	uint32_t mask;      /* M - 1 */
	uint8_t esn;
	uint8_t pad[7];
	uint64_t bits[];    /* M blocks */
};

static uint32_t nb_blocks(uint32_t window)
{
	uint32_t need = (window + BLOCK_BITS - 1) / BLOCK_BITS + 1;
	uint32_t m = 1;

	while (m < need)
		m <<= 1;
	return m;
}

size_t mesp_replay_size(uint32_t window)
{
	if (window == 0 || window > MESP_REPLAY_MAX_WINDOW)
		return 0;
	return sizeof(struct mesp_replay) + (size_t)nb_blocks(window) * sizeof(uint64_t);
}

int mesp_replay_init(struct mesp_replay *rw, uint32_t window, bool esn)
{
	uint32_t m;

	if (rw == NULL || window == 0 || window > MESP_REPLAY_MAX_WINDOW)
		return -EINVAL;
	m = nb_blocks(window);
	memset(rw, 0, sizeof(*rw) + (size_t)m * sizeof(uint64_t));
	rw->window = window;
	rw->mask = m - 1;
	rw->esn = esn;
	return 0;
}

/*
 * RFC 4303 A2.2: the high half of the received number from the window position. T = top,
 * Bl = low half of the bottom T - W + 1.
 *  Case A, Tl >= W - 1 (window inside one 2^32 subspace): Seql >= Bl is in this subspace,
 *    anything lower is in the next one (Th + 1).
 *  Case B, Tl < W - 1 (window straddles a subspace boundary): Seql >= Bl is in the previous
 *    subspace (Th - 1), anything lower in this one. With Th = 0 there is no previous subspace:
 *    such numbers are far ahead instead, in this one.
 * Th + 1 wraps to 0 once the 64-bit space is used up; the result then falls behind the window
 * and is refused.
 */
static inline uint64_t esn_reconstruct(uint64_t top, uint32_t seq_lo, uint32_t window)
{
	uint32_t tl = (uint32_t)top;
	uint32_t th = (uint32_t)(top >> 32);
	uint32_t bl = tl - window + 1;

	if (tl >= window - 1)
		th += seq_lo < bl;
	else if (th != 0)
		th -= seq_lo >= bl;
	return (uint64_t)th << 32 | seq_lo;
}

/* Status of s against the window, without changing it. Only call with s <= top. */
static inline int lookup_behind(const struct mesp_replay *rw, uint64_t s)
{
	uint64_t diff = rw->top - s;

	/* range first: behind the window the slot belongs to a later block */
	if (diff >= rw->window || s == 0)
		return -ERANGE;
	if (rw->bits[(s >> BLOCK_SHIFT) & rw->mask] & (UINT64_C(1) << (s & (BLOCK_BITS - 1))))
		return -EEXIST;
	return 0;
}

int mesp_replay_check(const struct mesp_replay *rw, uint32_t seq_lo, uint64_t *seq64)
{
	uint64_t s = rw->esn ? esn_reconstruct(rw->top, seq_lo, rw->window) : seq_lo;

	*seq64 = s;
	/* ahead of the top: new (s > top >= 0, so s != 0) */
	if (s > rw->top)
		return 0;
	return lookup_behind(rw, s);
}

int mesp_replay_check64(const struct mesp_replay *rw, uint64_t s)
{
	if (s > rw->top)
		return !rw->esn && s > UINT32_MAX ? -ERANGE : 0;
	return lookup_behind(rw, s);
}

int mesp_replay_update(struct mesp_replay *rw, uint64_t s)
{
	uint64_t top = rw->top;

	if (s > top) {
		/* a 32-bit window stops at 2^32 - 1: the counter must not cycle (§3.3.3) */
		if (!rw->esn && s > UINT32_MAX)
			return -ERANGE;
		/* clear the blocks the top enters; 64-bit distance, so no jump can alias to a
		 * short one */
		uint64_t n = (s >> BLOCK_SHIFT) - (top >> BLOCK_SHIFT);

		if (n > rw->mask) {
			memset(rw->bits, 0, ((size_t)rw->mask + 1) * sizeof(uint64_t));
		} else {
			uint64_t b = top >> BLOCK_SHIFT;

			for (uint32_t i = 1; i <= (uint32_t)n; i++)
				rw->bits[(b + i) & rw->mask] = 0;
		}
		rw->top = s;
	} else {
		int rc = lookup_behind(rw, s);

		if (rc != 0)
			return rc;
	}
	rw->bits[(s >> BLOCK_SHIFT) & rw->mask] |= UINT64_C(1) << (s & (BLOCK_BITS - 1));
	return 0;
}

uint64_t mesp_replay_top(const struct mesp_replay *rw)
{
	return rw->top;
}
