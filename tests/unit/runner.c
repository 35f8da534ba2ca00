/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs every unit suite listed in suites.h. Usage: msec-unit-tests [suite...]
 * Prints "unit: N passed, N failed" last so tools/test.sh can add it to the total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "test_common.h"

#define SUITE(n) Suite *n##_suite(void);
#include "suites.h"
#undef SUITE

struct suite_entry {
	const char *name;
	Suite *(*make)(void);
};

static const struct suite_entry all[] = {
#define SUITE(n) { #n, n##_suite },
#include "suites.h"
#undef SUITE
};

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	SRunner *sr = NULL;
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!wanted(all[i].name, argc, argv))
			continue;
		if (sr == NULL)
			sr = srunner_create(all[i].make());
		else
			srunner_add_suite(sr, all[i].make());
	}
	if (sr == NULL) {
		fprintf(stderr, "no such suite\n");
		return 2;
	}
	srunner_run_all(sr, CK_NORMAL);
	int run = srunner_ntests_run(sr);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("unit: %d passed, %d failed\n", run - failed, failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
