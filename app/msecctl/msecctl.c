/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msecctl: operator CLI for msecgw's control socket.
 *
 *   msecctl [-s SOCKET] [-j] ping | stats | groups | sa list
 *                         | sa add FILE | sa replace FILE | sa delete GROUP SPI
 *
 * Requests and replies are single JSON objects. -j prints the raw reply. Exit status 0 when the
 * gateway answered ok, 1 when it refused (its message goes to stderr), 2 for usage or I/O errors.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/msecgw/msecgw.sock"

/* SA files carry keys: every string jansson frees is wiped first. */
static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: msecctl [-s SOCKET] [-j] COMMAND\n"
		"  ping                     is the gateway there\n"
		"  stats                    totals, drops by reason, per worker\n"
		"  groups                   configured groups\n"
		"  gkm                      key-server groups: registration state, Member ID,\n"
		"                           epochs and SPIs, Sequence ID, time to expiry, counters\n"
		"  sa list                  SAs with state and counters (never keys)\n"
		"  sa add FILE              add the SA in FILE (JSON: the keys of groups[].sas[] plus\n"
		"                           \"group\"; \"replaces\" for make-before-break)\n"
		"  sa replace FILE          replace the SA with the same group and SPI\n"
		"  sa delete GROUP SPI      delete an SA\n"
		"  clock [offset MS] [synced|unsynced]\n"
		"                           the TESLA clock: show it, shift it by MS milliseconds\n"
		"                           (a simulated clock for drills and tests), or force the\n"
		"                           unsynced state (and back)\n"
		"  gcks groups              key server (msec-gcks): groups, epochs, counters\n"
		"  gcks group GROUP         one group\n"
		"  gcks members GROUP       members: identity, leaf, state, SIDs, address\n"
		"  gcks history GROUP [N]   the last N rekeys (default 50)\n"
		"  gcks evict GROUP SUBJECT evict a member (by certificate subject)\n"
		"  gcks readmit GROUP SUBJECT  let an evicted member register again\n"
		"  gcks rekey GROUP         new traffic keys now\n"
		"  gcks destroy GROUP       destroy the group (members drop its SAs)\n"
		"  -s SOCKET                control socket (default " DEFAULT_SOCKET ")\n"
		"  -j                       print the raw JSON reply\n");
}

static json_t *request(const char *path, json_t *req)
{
	struct sockaddr_un sa;
	char *text;
	size_t len, off = 0;
	json_error_t je;
	json_t *rep;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "msecctl: socket path too long\n");
		close(fd);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "msecctl: %s: %s (is msecgw running?)\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL) {
		close(fd);
		return NULL;
	}
	len = strlen(text);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1)
		off = 0;
	/* the request may carry a key: wipe our copy */
	memset(text, 0, len);
	free(text);
	if (off != len) {
		fprintf(stderr, "msecctl: write to %s failed\n", path);
		close(fd);
		return NULL;
	}
	rep = json_loadfd(fd, JSON_DISABLE_EOF_CHECK, &je);
	close(fd);
	if (rep == NULL)
		fprintf(stderr, "msecctl: bad reply from gateway: %s\n", je.text);
	return rep;
}

/* The TESLA line of an SA: counters, drops that happened, each sender's state. */
static void print_tesla(json_t *t)
{
	json_t *drops = json_object_get(t, "drops"), *senders = json_object_get(t, "senders");
	json_t *v;
	const char *k;
	size_t i;

	if (t == NULL)
		return;
	printf("  tesla: verified %lld unverified %lld held %lld (%lld bytes) beacons_sent %lld",
			(long long)json_integer_value(json_object_get(t, "verified")),
			(long long)json_integer_value(json_object_get(t, "unverified")),
			(long long)json_integer_value(json_object_get(t, "held_packets")),
			(long long)json_integer_value(json_object_get(t, "held_bytes")),
			(long long)json_integer_value(json_object_get(t, "beacons_sent")));
	json_object_foreach(drops, k, v)
		if (json_integer_value(v) != 0)
			printf(" %s=%lld", k, (long long)json_integer_value(v));
	json_array_foreach(senders, i, v)
		printf(" sender%zu=%s", i, json_string_value(json_object_get(v, "state")));
	if (json_object_get(t, "commitment") != NULL)
		printf(" chain %lld commitment %s",
				(long long)json_integer_value(json_object_get(t, "chain")),
				json_string_value(json_object_get(t, "commitment")));
	putchar('\n');
}

static void print_sa_list(json_t *rep)
{
	json_t *sas = json_object_get(rep, "sas"), *sa;
	size_t i;

	printf("%-16s %-10s %-9s %-11s %-8s %-12s %12s %12s %8s %8s\n", "GROUP", "SPI",
			"DIRECTION", "SUITE", "STATE", "ORIGIN", "OUT_PKTS", "IN_PKTS", "AUTHFAIL",
			"REPLAY");
	json_array_foreach(sas, i, sa) {
		json_t *c = json_object_get(sa, "counters");

		printf("%-16s %-10s %-9s %-11s %-8s %-12s %12lld %12lld %8lld %8lld\n",
				json_string_value(json_object_get(sa, "group")),
				json_string_value(json_object_get(sa, "spi")),
				json_string_value(json_object_get(sa, "direction")),
				json_string_value(json_object_get(sa, "suite")),
				json_string_value(json_object_get(sa, "state")),
				json_string_value(json_object_get(sa, "origin")),
				(long long)json_integer_value(json_object_get(c, "out_packets")),
				(long long)json_integer_value(json_object_get(c, "in_packets")),
				(long long)json_integer_value(json_object_get(c, "auth_fail")),
				(long long)json_integer_value(json_object_get(c, "replay")));
		print_tesla(json_object_get(sa, "tesla"));
	}
}

/* One line of traffic counters and one of the non-zero drops (all of them for the total). */
static void print_totals(const char *label, json_t *t, bool all_drops)
{
	json_t *drops = json_object_get(t, "drops"), *v;
	const char *k;

	printf("%-10s rx %lld  tx %lld  protected %lld  unprotected %lld  bypassed %lld\n", label,
			(long long)json_integer_value(json_object_get(t, "rx")),
			(long long)json_integer_value(json_object_get(t, "tx")),
			(long long)json_integer_value(json_object_get(t, "protected")),
			(long long)json_integer_value(json_object_get(t, "unprotected")),
			(long long)json_integer_value(json_object_get(t, "bypassed")));
	printf("%-10s drops:", "");
	json_object_foreach(drops, k, v)
		if (all_drops || json_integer_value(v) != 0)
			printf(" %s=%lld", k, (long long)json_integer_value(v));
	printf("\n");
}

static void print_stats(json_t *rep)
{
	json_t *w;
	size_t i;

	print_totals("total", json_object_get(rep, "total"), true);
	json_array_foreach(json_object_get(rep, "workers"), i, w) {
		char label[32];

		snprintf(label, sizeof(label), "worker %zu", i);
		print_totals(label, w, false);
	}
}

static json_t *load_sa_file(const char *file)
{
	json_error_t je;
	json_t *o = json_load_file(file, JSON_REJECT_DUPLICATES, &je);

	if (o == NULL)
		fprintf(stderr, "msecctl: %s:%d:%d: %s\n", file, je.line, je.column, je.text);
	else if (!json_is_object(o)) {
		fprintf(stderr, "msecctl: %s: expected a JSON object\n", file);
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* "gcks VERB [GROUP [SUBJECT|N]]" -> {"cmd": "gcks-VERB", ...} (app/msec-gcks/ctl.c) */
static json_t *gcks_request(int argc, char **argv)
{
	static const struct {
		const char *verb;
		int args;               /* after the verb: 0, 1 (group), 2 (group subject) */
	} verbs[] = {
		{ "groups", 0 }, { "group", 1 }, { "members", 1 }, { "history", 1 },
		{ "rekey", 1 }, { "destroy", 1 }, { "evict", 2 }, { "readmit", 2 },
	};
	char cmd[32];

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		bool history = strcmp(argv[0], "history") == 0;
		json_t *req;

		if (strcmp(argv[0], verbs[i].verb) != 0)
			continue;
		if (argc - 1 != verbs[i].args && !(history && argc == 3))
			return NULL;
		snprintf(cmd, sizeof(cmd), "gcks-%s", verbs[i].verb);
		req = json_pack("{s:s}", "cmd", cmd);
		if (verbs[i].args >= 1)
			json_object_set_new(req, "group", json_string(argv[1]));
		if (verbs[i].args == 2)
			json_object_set_new(req, "subject", json_string(argv[2]));
		if (history && argc == 3)
			json_object_set_new(req, "limit", json_integer(atoi(argv[2])));
		return req;
	}
	return NULL;
}

static void print_gcks(json_t *rep)
{
	const char *k;
	json_t *v;

	json_object_foreach(rep, k, v) {
		if (strcmp(k, "ok") == 0)
			continue;
		json_dumpf(v, stdout, JSON_INDENT(2));
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	const char *path = getenv("MSECGW_SOCKET") ? getenv("MSECGW_SOCKET") : DEFAULT_SOCKET;
	bool raw = false;
	json_t *req = NULL, *rep;
	const char *cmd;
	int c, rc;

	json_set_alloc_funcs(json_alloc, json_wipe_free);

	while ((c = getopt(argc, argv, "s:jh")) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			raw = true;
			break;
		default:
			usage();
			return c == 'h' ? 0 : 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage();
		return 2;
	}
	cmd = argv[0];
	if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "stats") == 0 || strcmp(cmd, "groups") == 0 ||
			strcmp(cmd, "gkm") == 0) {
		req = json_pack("{s:s}", "cmd", cmd);
	} else if (strcmp(cmd, "sa") == 0 && argc >= 2) {
		if (strcmp(argv[1], "list") == 0 && argc == 2) {
			req = json_pack("{s:s}", "cmd", "sa-list");
		} else if ((strcmp(argv[1], "add") == 0 || strcmp(argv[1], "replace") == 0) &&
				argc == 3) {
			json_t *sa = load_sa_file(argv[2]);
			char op[16];

			if (sa == NULL)
				return 2;
			snprintf(op, sizeof(op), "sa-%s", argv[1]);
			req = json_pack("{s:s, s:o, s:s}", "cmd", op, "sa", sa, "source", argv[2]);
		} else if (strcmp(argv[1], "delete") == 0 && argc == 4) {
			char *end;
			unsigned long long spi = strtoull(argv[3], &end, 0);

			if (*end != '\0' || spi > 0xffffffffULL) {
				fprintf(stderr, "msecctl: SPI: expected a number, got \"%s\"\n",
						argv[3]);
				return 2;
			}
			req = json_pack("{s:s, s:s, s:I}", "cmd", "sa-delete", "group", argv[2],
					"spi", (json_int_t)spi);
		}
	}
	if (strcmp(cmd, "gcks") == 0 && argc >= 2)
		req = gcks_request(argc - 1, argv + 1);
	if (strcmp(cmd, "clock") == 0) {
		req = json_pack("{s:s}", "cmd", "clock");
		for (int i = 1; req != NULL && i < argc; i++) {
			char *end;

			if (strcmp(argv[i], "offset") == 0 && i + 1 < argc) {
				double ms = strtod(argv[++i], &end);

				if (*end != '\0' || end == argv[i]) {
					fprintf(stderr, "msecctl: clock offset: expected a number of "
							"milliseconds, got \"%s\"\n", argv[i]);
					json_decref(req);
					return 2;
				}
				json_object_set_new(req, "offset_ms", json_real(ms));
			} else if (strcmp(argv[i], "synced") == 0 ||
					strcmp(argv[i], "unsynced") == 0) {
				json_object_set_new(req, "unsynced",
						json_boolean(argv[i][0] == 'u'));
			} else {
				json_decref(req);
				req = NULL;
			}
		}
	}
	if (req == NULL) {
		usage();
		return 2;
	}
	rep = request(path, req);
	json_decref(req);
	if (rep == NULL)
		return 2;
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "msecctl: %s\n",
				json_string_value(json_object_get(rep, "error")) ?: "refused");
		rc = 1;
	} else {
		rc = 0;
		if (raw)
			json_dumpf(rep, stdout, JSON_INDENT(2)), putchar('\n');
		else if (strcmp(cmd, "stats") == 0)
			print_stats(rep);
		else if (strcmp(cmd, "sa") == 0 && strcmp(argv[1], "list") == 0)
			print_sa_list(rep);
		else if (strcmp(cmd, "groups") == 0 || strcmp(cmd, "gkm") == 0)
			json_dumpf(json_object_get(rep, "groups"), stdout, JSON_INDENT(2)),
				putchar('\n');
		else if (strcmp(cmd, "gcks") == 0 && json_object_size(rep) > 1)
			print_gcks(rep);
		else if (strcmp(cmd, "clock") == 0)
			printf("now %lld ms, offset %.3f ms, %s (check %s%s)\n",
					(long long)json_integer_value(json_object_get(rep, "now_ms")),
					json_real_value(json_object_get(rep, "offset_ms")),
					json_is_true(json_object_get(rep, "synced")) ? "synced" :
					"unsynced",
					json_string_value(json_object_get(rep, "check")) ?: "?",
					json_is_true(json_object_get(rep, "forced_unsynced")) ?
					", forced unsynced" : "");
		else
			printf("ok\n");
	}
	json_decref(rep);
	return rc;
}
