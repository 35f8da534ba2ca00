/* SPDX-License-Identifier: BSD-3-Clause */
/* The list of unit suites: SUITE(name) expands to name##_suite(). Order is run order. */
SUITE(crypto)
SUITE(replay)
SUITE(gwconf)
SUITE(mesp)
SUITE(mesp_tesla)
SUITE(gsad)
SUITE(policy)
SUITE(gsakmp)
SUITE(tesla)
SUITE(lkh)
