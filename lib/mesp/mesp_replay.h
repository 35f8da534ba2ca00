/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Anti-replay window for one sender: RFC 6479 ring of 64-bit blocks (no bit shifting) with
 * RFC 4303 Appendix A extended sequence number (ESN) reconstruction.
 *
 * Usage on the receive path (RFC 4303 §3.4.3): mesp_replay_check() before the ICV is verified
 * (cheap rejection of replays, and the 64-bit sequence number the ICV must cover), then
 * mesp_replay_update() only after the ICV passed. The window has one writer (the worker that owns
 * the sender); no locks.
 *
 * No DPDK dependency.
 */
#ifndef MESP_REPLAY_H
#define MESP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest configurable window, in packets. */
#define MESP_REPLAY_MAX_WINDOW 65536u

/** Caller-allocated window; layout private to replay.c. */
struct mesp_replay;

/**
 * Bytes needed for a window of `window` packets (1..MESP_REPLAY_MAX_WINDOW).
 * @return the size (a multiple of 8), or 0 when `window` is out of range.
 */
size_t mesp_replay_size(uint32_t window);

/**
 * Initialise caller memory of mesp_replay_size(window) bytes, 8-byte aligned.
 * @param esn true: 64-bit extended sequence numbers (only the low 32 bits on the wire);
 *   false: plain 32-bit sequence numbers.
 * @return 0, or -EINVAL for a bad window size.
 */
int mesp_replay_init(struct mesp_replay *rw, uint32_t window, bool esn);

/**
 * Preliminary check of a received sequence number (low 32 bits as carried in ESP).
 * Reconstructs the 64-bit value (RFC 4303 A2.2 cases A and B) without changing the window.
 * @param seq64 receives the reconstructed sequence number (the ICV must be computed over it).
 * @return 0 if the packet may be new, -EEXIST if already seen, -ERANGE if behind the window or
 *   zero (sequence number 0 is never sent, RFC 4303 §2.2).
 */
int mesp_replay_check(const struct mesp_replay *rw, uint32_t seq_lo, uint64_t *seq64);

/**
 * Preliminary check of a complete 64-bit sequence number, for senders that carry it in the IV
 * (doc/wire-format.md §3): no reconstruction from the low half, so a replay from far behind the
 * window is refused here, before any crypto, instead of being read as the next 2^32 block.
 * Does not change the window.
 * @return 0 if the packet may be new, -EEXIST if already seen, -ERANGE if behind the window,
 *   zero, or (without ESN) beyond 2^32 - 1.
 */
int mesp_replay_check64(const struct mesp_replay *rw, uint64_t seq64);

/**
 * Record an authenticated sequence number, advancing the window if it is ahead.
 * Re-checks, so a duplicate inside one burst is caught here.
 * @return 0 when recorded, -EEXIST duplicate, -ERANGE behind the window.
 */
int mesp_replay_update(struct mesp_replay *rw, uint64_t seq64);

/** Highest authenticated sequence number so far (0 before the first packet). */
uint64_t mesp_replay_top(const struct mesp_replay *rw);

#endif /* MESP_REPLAY_H */
