/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/gcks store: the key server's SQLite state (doc/key-management.md §7).
 *
 * Each test gets a fresh directory under /tmp (removed in teardown) for file databases; the
 * rest use ":memory:". Rows that no API call can write (a SIDs blob of odd length, an over-long
 * subject, ...) are written by a second, raw SQLite connection, as a hand edit or damage would.
 * The crash test kills a child process with SIGKILL in the middle of a transaction and
 * reopens the file in the parent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "gcks_store.h"

#define MAX_ROWS 16

static char dir[64];
static char db_path[128];

/* ------------------------------------------------------------------ fixtures, helpers */

static const char *const tmp_names[] = {
	"gcks.db", "gcks.db-wal", "gcks.db-shm", "gcks.db-journal", "link.db",
};

static void dir_setup(void)
{
	strcpy(dir, "/tmp/gstore-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/gcks.db", dir);
}

static void dir_teardown(void)
{
	char p[160];

	for (size_t i = 0; i < sizeof(tmp_names) / sizeof(tmp_names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, tmp_names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static struct gstore *open_ok(const char *path)
{
	struct gstore *st = NULL;
	char err[256] = "";
	int ret = gstore_open(path, &st, err, sizeof(err));

	ck_assert_msg(ret == 0, "gstore_open(%s): %d %s", path, ret, err);
	ck_assert_ptr_nonnull(st);
	return st;
}

/* Run SQL through a connection of its own, as an editor or another program would. */
static void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	ck_assert_int_eq(rc, SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg != NULL ? msg : "?");
	sqlite3_free(msg);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static unsigned int file_mode(const char *suffix)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", db_path, suffix);
	ck_assert_msg(stat(p, &sb) == 0, "%s: %s", p, strerror(errno));
	return sb.st_mode & 07777;
}

static bool file_exists(const char *suffix)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", db_path, suffix);
	return stat(p, &sb) == 0;
}

static struct gstore_group mk_group(const char *name, uint32_t i)
{
	struct gstore_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	for (unsigned int b = 0; b < sizeof(g.gid); b++)
		g.gid[b] = (uint8_t)(0xa0 + b + i);
	g.seq_hwm = 0xfffffff0u + i;
	g.state = i & 1;
	g.created = 1700000000 + i;
	return g;
}

/* Members of every shape: IPv4 with SIDs, IPv6 with scope, no address, no SIDs, all SIDs. */
static struct gstore_member mk_member(const char *subject, uint32_t i)
{
	struct gstore_member m;

	memset(&m, 0, sizeof(m));
	snprintf(m.subject, sizeof(m.subject), "%s", subject);
	m.member_id = i == 3 ? 0 : 100 + i;
	m.role = (uint8_t)(i % 3);
	m.state = (uint8_t)(200 + i);
	m.nb_sids = i == 2 ? 0 : i == 4 ? GSTORE_MAX_SIDS : (uint16_t)(i + 1);
	for (unsigned int k = 0; k < m.nb_sids; k++)
		m.sids[k] = (uint16_t)(0xfff0 - 0x101 * k - i);
	switch (i % 3) {
	case 0: {
		struct sockaddr_in *a = (struct sockaddr_in *)&m.addr;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)(848 + i));
		a->sin_addr.s_addr = htonl(0xc0000201u + i);
		m.addr_len = sizeof(*a);
		break;
	}
	case 1: {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&m.addr;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(848);
		a->sin6_addr.s6_addr[0] = 0xfe;
		a->sin6_addr.s6_addr[1] = 0x80;
		a->sin6_addr.s6_addr[15] = (uint8_t)i;
		a->sin6_scope_id = 3;
		a->sin6_flowinfo = htonl(0x12345);
		m.addr_len = sizeof(*a);
		break;
	}
	default:
		m.addr_len = 0;
		break;
	}
	m.joined = INT64_C(1700000000123) + i;
	m.acked = i == 1 ? 0 : INT64_MIN + i;
	for (unsigned int b = 0; b < sizeof(m.cert_sha256); b++)
		m.cert_sha256[b] = (uint8_t)(b * 7 + i);
	return m;
}

static struct gstore_node mk_node(uint32_t id, uint32_t v)
{
	struct gstore_node n;

	memset(&n, 0, sizeof(n));
	n.id = id;
	n.handle = v == 9 ? UINT32_MAX : v;
	/* every fourth version is an empty node: a handle and no key */
	n.has_key = v % 4 != 3;
	for (unsigned int b = 0; n.has_key && b < sizeof(n.key); b++)
		n.key[b] = (uint8_t)(id * 31 + v * 17 + b);
	return n;
}

static struct gstore_tek mk_tek(uint32_t index, uint32_t epoch, uint8_t key_len)
{
	struct gstore_tek t;

	memset(&t, 0, sizeof(t));
	t.index = index;
	t.epoch = epoch;
	t.spi = 0x80000000u ^ (index << 16) ^ epoch;
	t.key_type = (uint16_t)(49152 + index);
	t.key_len = key_len;
	for (unsigned int b = 0; b < key_len; b++)
		t.key[b] = (uint8_t)(index + epoch * 3 + b);
	t.created = 1700000000 + epoch;
	t.expires = 1700086400 + epoch;
	t.retire_at = epoch == 1 ? INT64_C(1700000500000) : 0;
	return t;
}

static struct gstore_sid mk_sid(uint16_t sid, const char *subject, uint32_t free_epoch)
{
	struct gstore_sid s;

	memset(&s, 0, sizeof(s));
	s.sid = sid;
	snprintf(s.subject, sizeof(s.subject), "%s", subject);
	s.free_epoch = free_epoch;
	return s;
}

static struct gstore_rekey mk_rekey(uint32_t i)
{
	struct gstore_rekey r;

	memset(&r, 0, sizeof(r));
	r.at = INT64_C(1700000000000) + 1000 * i;
	r.seq_first = 10 * i + 1;
	r.seq_last = 10 * i + 3;
	r.joins = i;
	r.leaves = i + 1;
	r.evictions = i + 2;
	r.wraps = UINT32_MAX - i;
	r.messages = 3;
	r.bytes = i == 2 ? UINT64_MAX - 5 : 1400 * (uint64_t)i;
	snprintf(r.reason, sizeof(r.reason), "%s", i == 3 ? "" : "batch");
	return r;
}

static void group_eq(const struct gstore_group *a, const struct gstore_group *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_mem_eq(a->gid, b->gid, sizeof(a->gid));
	ck_assert_uint_eq(a->seq_hwm, b->seq_hwm);
	ck_assert_uint_eq(a->state, b->state);
	ck_assert_int_eq(a->created, b->created);
}

static void member_eq(const struct gstore_member *a, const struct gstore_member *b)
{
	static const uint8_t zero[sizeof(struct sockaddr_storage)];

	ck_assert_str_eq(a->subject, b->subject);
	ck_assert_uint_eq(a->member_id, b->member_id);
	ck_assert_uint_eq(a->role, b->role);
	ck_assert_uint_eq(a->state, b->state);
	ck_assert_uint_eq(a->nb_sids, b->nb_sids);
	if (a->nb_sids > 0)
		ck_assert_mem_eq(a->sids, b->sids, 2u * a->nb_sids);
	for (unsigned int k = b->nb_sids; k < GSTORE_MAX_SIDS; k++)
		ck_assert_uint_eq(b->sids[k], 0);
	ck_assert_uint_eq(a->addr_len, b->addr_len);
	if (a->addr_len > 0)
		ck_assert_mem_eq(&a->addr, &b->addr, a->addr_len);
	if (b->addr_len < sizeof(b->addr))
		ck_assert_mem_eq((const uint8_t *)&b->addr + b->addr_len, zero,
			sizeof(b->addr) - b->addr_len);
	ck_assert_int_eq(a->joined, b->joined);
	ck_assert_int_eq(a->acked, b->acked);
	ck_assert_mem_eq(a->cert_sha256, b->cert_sha256, sizeof(a->cert_sha256));
}

static void node_eq(const struct gstore_node *a, const struct gstore_node *b)
{
	ck_assert_uint_eq(a->id, b->id);
	ck_assert_uint_eq(a->handle, b->handle);
	ck_assert_int_eq(a->has_key, b->has_key);
	ck_assert_mem_eq(a->key, b->key, sizeof(a->key));       /* zero without a key */
}

static void tek_eq(const struct gstore_tek *a, const struct gstore_tek *b)
{
	static const uint8_t zero[GSTORE_KEY_MAX];

	ck_assert_uint_eq(a->index, b->index);
	ck_assert_uint_eq(a->epoch, b->epoch);
	ck_assert_uint_eq(a->spi, b->spi);
	ck_assert_uint_eq(a->key_type, b->key_type);
	ck_assert_uint_eq(a->key_len, b->key_len);
	if (a->key_len > 0)
		ck_assert_mem_eq(a->key, b->key, a->key_len);
	if (b->key_len < GSTORE_KEY_MAX)
		ck_assert_mem_eq(b->key + b->key_len, zero, GSTORE_KEY_MAX - b->key_len);
	ck_assert_int_eq(a->created, b->created);
	ck_assert_int_eq(a->expires, b->expires);
	ck_assert_int_eq(a->retire_at, b->retire_at);
}

static void sid_eq(const struct gstore_sid *a, const struct gstore_sid *b)
{
	ck_assert_uint_eq(a->sid, b->sid);
	ck_assert_str_eq(a->subject, b->subject);
	ck_assert_uint_eq(a->free_epoch, b->free_epoch);
}

static void rekey_eq(const struct gstore_rekey *a, const struct gstore_rekey *b)
{
	ck_assert_int_eq(a->at, b->at);
	ck_assert_uint_eq(a->seq_first, b->seq_first);
	ck_assert_uint_eq(a->seq_last, b->seq_last);
	ck_assert_uint_eq(a->joins, b->joins);
	ck_assert_uint_eq(a->leaves, b->leaves);
	ck_assert_uint_eq(a->evictions, b->evictions);
	ck_assert_uint_eq(a->wraps, b->wraps);
	ck_assert_uint_eq(a->messages, b->messages);
	ck_assert_uint_eq(a->bytes, b->bytes);
	ck_assert_str_eq(a->reason, b->reason);
}

/* What the listings passed to their callbacks; stop_at (1-based) makes the callback stop. */
struct seen {
	unsigned int n;
	unsigned int stop_at;
	int stop_ret;
	char names[MAX_ROWS][GSTORE_NAME_MAX];
	struct gstore_member m[MAX_ROWS];
	struct gstore_node nd[MAX_ROWS];
	struct gstore_tek t[MAX_ROWS];
	struct gstore_sid s[MAX_ROWS];
	struct gstore_rekey r[MAX_ROWS];
};

static struct seen seen;

static int seen_next(void)
{
	ck_assert_uint_lt(seen.n, MAX_ROWS);
	seen.n++;
	return seen.n == seen.stop_at ? seen.stop_ret : 0;
}

static void seen_reset(unsigned int stop_at, int stop_ret)
{
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = stop_at;
	seen.stop_ret = stop_ret;
}

static int cb_group(void *arg, const char *name)
{
	ck_assert_ptr_eq(arg, &seen);
	snprintf(seen.names[seen.n], GSTORE_NAME_MAX, "%s", name);
	return seen_next();
}

static int cb_member(void *arg, const struct gstore_member *m)
{
	ck_assert_ptr_eq(arg, &seen);
	seen.m[seen.n] = *m;
	return seen_next();
}

static int cb_node(void *arg, const struct gstore_node *n)
{
	ck_assert_ptr_eq(arg, &seen);
	seen.nd[seen.n] = *n;
	return seen_next();
}

static int cb_tek(void *arg, const struct gstore_tek *t)
{
	ck_assert_ptr_eq(arg, &seen);
	seen.t[seen.n] = *t;
	return seen_next();
}

static int cb_sid(void *arg, const struct gstore_sid *s)
{
	ck_assert_ptr_eq(arg, &seen);
	seen.s[seen.n] = *s;
	return seen_next();
}

static int cb_rekey(void *arg, const struct gstore_rekey *r)
{
	ck_assert_ptr_eq(arg, &seen);
	seen.r[seen.n] = *r;
	return seen_next();
}

/* How many rows each listing of group gives. */
static unsigned int count_members(struct gstore *st, const char *g)
{
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_members(st, g, cb_member, &seen), 0);
	return seen.n;
}

static unsigned int count_nodes(struct gstore *st, const char *g)
{
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_nodes(st, g, cb_node, &seen), 0);
	return seen.n;
}

static unsigned int count_teks(struct gstore *st, const char *g)
{
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_teks(st, g, cb_tek, &seen), 0);
	return seen.n;
}

static unsigned int count_sids(struct gstore *st, const char *g)
{
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_sids(st, g, cb_sid, &seen), 0);
	return seen.n;
}

static unsigned int count_rekeys(struct gstore *st, const char *g)
{
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_rekeys(st, g, 1000, cb_rekey, &seen), 0);
	return seen.n;
}

/*
 * One row of every kind in group g (variant v picks the values), so that durability and
 * group deletion can be checked for every table.
 */
#define FILL_MEMBERS 5
#define FILL_NODES 3
#define FILL_TEKS 3
#define FILL_SIDS 3
#define FILL_REKEYS 4
#define FILL_SPI 0x1000u

static void fill(struct gstore *st, const char *g, uint32_t v)
{
	struct gstore_group grp = mk_group(g, v);
	char subj[64];

	ck_assert_int_eq(gstore_group_put(st, &grp), 0);
	for (uint32_t i = 0; i < FILL_MEMBERS; i++) {
		struct gstore_member m;

		snprintf(subj, sizeof(subj), "CN=m%u,O=%s", i, g);
		m = mk_member(subj, i);
		ck_assert_int_eq(gstore_member_put(st, g, &m), 0);
	}
	for (uint32_t i = 0; i < FILL_NODES; i++) {
		struct gstore_node n = mk_node(i + 1, v + i);

		ck_assert_int_eq(gstore_node_put(st, g, &n), 0);
	}
	for (uint32_t i = 0; i < FILL_TEKS; i++) {
		struct gstore_tek t = mk_tek(i, v + 1, (uint8_t)(20 + 16 * i));

		ck_assert_int_eq(gstore_tek_put(st, g, &t), 0);
	}
	for (uint32_t i = 0; i < FILL_SIDS; i++) {
		struct gstore_sid s;

		snprintf(subj, sizeof(subj), "CN=m%u,O=%s", i, g);
		s = mk_sid((uint16_t)(i + 1), i == 2 ? "" : subj, v + i);
		ck_assert_int_eq(gstore_sid_put(st, g, &s), 0);
	}
	ck_assert_int_eq(gstore_spi_add(st, g, FILL_SPI + v), 0);
	for (uint32_t i = 0; i < FILL_REKEYS; i++) {
		struct gstore_rekey r = mk_rekey(i);

		ck_assert_int_eq(gstore_rekey_add(st, g, &r), 0);
	}
}

/* Everything fill(st, g, v) wrote reads back exactly. */
static void check_fill(struct gstore *st, const char *g, uint32_t v)
{
	struct gstore_group want_g = mk_group(g, v), got_g;
	char subj[64];

	ck_assert_int_eq(gstore_group_get(st, g, &got_g), 0);
	group_eq(&want_g, &got_g);

	seen_reset(0, 0);
	ck_assert_int_eq(gstore_members(st, g, cb_member, &seen), 0);
	ck_assert_uint_eq(seen.n, FILL_MEMBERS);
	for (uint32_t i = 0; i < FILL_MEMBERS; i++) {
		struct gstore_member m;

		snprintf(subj, sizeof(subj), "CN=m%u,O=%s", i, g);
		m = mk_member(subj, i);
		member_eq(&m, &seen.m[i]);
	}
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_nodes(st, g, cb_node, &seen), 0);
	ck_assert_uint_eq(seen.n, FILL_NODES);
	for (uint32_t i = 0; i < FILL_NODES; i++) {
		struct gstore_node n = mk_node(i + 1, v + i);

		node_eq(&n, &seen.nd[i]);
	}
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_teks(st, g, cb_tek, &seen), 0);
	ck_assert_uint_eq(seen.n, FILL_TEKS);
	for (uint32_t i = 0; i < FILL_TEKS; i++) {
		struct gstore_tek t = mk_tek(i, v + 1, (uint8_t)(20 + 16 * i));

		tek_eq(&t, &seen.t[i]);
	}
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_sids(st, g, cb_sid, &seen), 0);
	ck_assert_uint_eq(seen.n, FILL_SIDS);
	for (uint32_t i = 0; i < FILL_SIDS; i++) {
		struct gstore_sid s;

		snprintf(subj, sizeof(subj), "CN=m%u,O=%s", i, g);
		s = mk_sid((uint16_t)(i + 1), i == 2 ? "" : subj, v + i);
		sid_eq(&s, &seen.s[i]);
	}
	ck_assert_int_eq(gstore_spi_used(st, g, FILL_SPI + v), 1);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_rekeys(st, g, 100, cb_rekey, &seen), 0);
	ck_assert_uint_eq(seen.n, FILL_REKEYS);
	for (uint32_t i = 0; i < FILL_REKEYS; i++) {
		struct gstore_rekey r = mk_rekey(FILL_REKEYS - 1 - i);

		rekey_eq(&r, &seen.r[i]);
	}
}

/* ------------------------------------------------------------------ open */

START_TEST(open_memory)
{
	struct gstore *st = open_ok(":memory:");

	ck_assert_str_eq(gstore_errmsg(st), "");
	fill(st, "g", 1);
	check_fill(st, "g", 1);
	gstore_close(st);
	gstore_close(NULL);
	/* a second ":memory:" store is a database of its own */
	st = open_ok(":memory:");
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_groups(st, cb_group, &seen), 0);
	ck_assert_uint_eq(seen.n, 0);
	gstore_close(st);
}
END_TEST

START_TEST(open_file_modes)
{
	struct gstore_group g = mk_group("g", 0);
	struct gstore *st;
	mode_t old = umask(0);

	/* with umask 0, SQLite alone would have created the file 0644 */
	st = open_ok(db_path);
	umask(old);
	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	ck_assert_uint_eq(file_mode(""), 0600);
	ck_assert_uint_eq(file_mode("-wal"), 0600);
	ck_assert_uint_eq(file_mode("-shm"), 0600);
	gstore_close(st);
	ck_assert_uint_eq(file_mode(""), 0600);
	/* the last connection checkpointed and removed the companions */
	ck_assert(!file_exists("-wal"));
	st = open_ok(db_path);
	ck_assert_int_eq(gstore_group_get(st, "g", &g), 0);
	gstore_close(st);
}
END_TEST

START_TEST(open_refuses_wide_mode)
{
	struct gstore *st = (struct gstore *)&st;
	char p[160], err[256] = "";
	int fd;

	fd = open(db_path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
	ck_assert_int_eq(gstore_open(db_path, &st, err, sizeof(err)), -EIO);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "mode 0644") != NULL && strstr(err, db_path) != NULL, "%s", err);

	/* a world-readable -wal beside a private database */
	ck_assert_int_eq(chmod(db_path, 0600), 0);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0604), 0);
	close(fd);
	ck_assert_int_eq(gstore_open(db_path, &st, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "-wal: mode 0604") != NULL, "%s", err);
	unlink(p);
	st = open_ok(db_path);
	gstore_close(st);
}
END_TEST

START_TEST(open_version_mismatch)
{
	struct gstore *st = open_ok(db_path);
	char err[256] = "";

	gstore_close(st);
	raw_exec("UPDATE meta SET value = 99 WHERE name = 'schema_version'");
	st = (struct gstore *)&st;
	ck_assert_int_eq(gstore_open(db_path, &st, err, sizeof(err)), -EIO);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "schema version 99") != NULL &&
		strstr(err, "version 1") != NULL, "%s", err);

	raw_exec("DELETE FROM meta");
	ck_assert_int_eq(gstore_open(db_path, &st, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "no schema version") != NULL, "%s", err);
}
END_TEST

START_TEST(open_foreign_file)
{
	struct gstore *st;
	char err[256] = "", link[160];
	int fd;

	/* an SQLite database of some other program */
	fd = open(db_path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	raw_exec("CREATE TABLE t(x)");
	ck_assert_int_eq(gstore_open(db_path, &st, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "not a key server database") != NULL, "%s", err);
	unlink(db_path);

	/* not SQLite at all */
	fd = open(db_path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(write(fd, "not a database, just some bytes.", 32), 32);
	close(fd);
	ck_assert_int_eq(gstore_open(db_path, &st, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "not a database") != NULL, "%s", err);

	/* a symbolic link, even to a good database */
	unlink(db_path);
	gstore_close(open_ok(db_path));
	snprintf(link, sizeof(link), "%s/link.db", dir);
	ck_assert_int_eq(symlink(db_path, link), 0);
	ck_assert_int_eq(gstore_open(link, &st, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "link.db") != NULL, "%s", err);

	/* a directory, and a file in a directory that does not exist */
	ck_assert_int_eq(gstore_open(dir, &st, err, sizeof(err)), -EIO);
	ck_assert_int_eq(gstore_open("/nonexistent-dir/x.db", &st, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "/nonexistent-dir/x.db") != NULL, "%s", err);
}
END_TEST

START_TEST(open_bad_args)
{
	struct gstore *st = (struct gstore *)&st;
	char err[256] = "";

	ck_assert_int_eq(gstore_open(NULL, &st, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(st);
	ck_assert_str_ne(err, "");
	ck_assert_int_eq(gstore_open("", &st, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(gstore_open(":memory:", NULL, err, sizeof(err)), -EINVAL);
	/* no room for a message is fine */
	ck_assert_int_eq(gstore_open(NULL, &st, NULL, 0), -EINVAL);
	ck_assert_str_eq(gstore_errmsg(NULL), "no store");
}
END_TEST

/* ------------------------------------------------------------------ tables */

START_TEST(groups_put_get_del)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group a = mk_group("beta", 1), b = mk_group("alpha", 2), got;

	ck_assert_int_eq(gstore_group_put(st, &a), 0);
	ck_assert_int_eq(gstore_group_put(st, &b), 0);
	ck_assert_int_eq(gstore_group_get(st, "beta", &got), 0);
	group_eq(&a, &got);
	ck_assert_int_eq(gstore_group_get(st, "alpha", &got), 0);
	group_eq(&b, &got);

	/* overwrite: the same name, new values; the group's rows stay */
	ck_assert_int_eq(gstore_spi_add(st, "beta", 7), 0);
	a = mk_group("beta", 5);
	ck_assert_int_eq(gstore_group_put(st, &a), 0);
	ck_assert_int_eq(gstore_group_get(st, "beta", &got), 0);
	group_eq(&a, &got);
	ck_assert_int_eq(gstore_spi_used(st, "beta", 7), 1);

	seen_reset(0, 0);
	ck_assert_int_eq(gstore_groups(st, cb_group, &seen), 0);
	ck_assert_uint_eq(seen.n, 2);
	ck_assert_str_eq(seen.names[0], "alpha");
	ck_assert_str_eq(seen.names[1], "beta");

	ck_assert_int_eq(gstore_group_del(st, "alpha"), 0);
	ck_assert_int_eq(gstore_group_get(st, "alpha", &got), -ENOENT);
	ck_assert_msg(strstr(gstore_errmsg(st), "alpha") != NULL, "%s", gstore_errmsg(st));
	ck_assert_int_eq(gstore_group_del(st, "alpha"), -ENOENT);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_groups(st, cb_group, &seen), 0);
	ck_assert_uint_eq(seen.n, 1);
	gstore_close(st);
}
END_TEST

START_TEST(members_put_del)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g = mk_group("g", 0);
	struct gstore_member m[5];
	char subj[32];

	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	/* put in reverse order: the listing is by subject */
	for (int i = 4; i >= 0; i--) {
		snprintf(subj, sizeof(subj), "CN=member%d", i);
		m[i] = mk_member(subj, (uint32_t)i);
		ck_assert_int_eq(gstore_member_put(st, "g", &m[i]), 0);
	}
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_members(st, "g", cb_member, &seen), 0);
	ck_assert_uint_eq(seen.n, 5);
	for (int i = 0; i < 5; i++)
		member_eq(&m[i], &seen.m[i]);

	/* overwrite by subject: fewer SIDs, another address family, evicted */
	m[0].nb_sids = 1;
	m[0].member_id = 0;
	m[0].addr_len = 0;
	memset(&m[0].addr, 0, sizeof(m[0].addr));
	m[0].acked = 42;
	ck_assert_int_eq(gstore_member_put(st, "g", &m[0]), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_members(st, "g", cb_member, &seen), 0);
	ck_assert_uint_eq(seen.n, 5);
	member_eq(&m[0], &seen.m[0]);

	ck_assert_int_eq(gstore_member_del(st, "g", "CN=member2"), 0);
	ck_assert_int_eq(gstore_member_del(st, "g", "CN=member2"), -ENOENT);
	ck_assert_int_eq(gstore_member_del(st, "other", "CN=member1"), -ENOENT);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_members(st, "g", cb_member, &seen), 0);
	ck_assert_uint_eq(seen.n, 4);
	member_eq(&m[3], &seen.m[2]);

	/* a member of a group that is not stored */
	ck_assert_int_eq(gstore_member_put(st, "nogroup", &m[1]), -ENOENT);
	ck_assert_msg(strstr(gstore_errmsg(st), "no group 'nogroup'") != NULL, "%s",
		gstore_errmsg(st));
	ck_assert_uint_eq(count_members(st, "nogroup"), 0);
	gstore_close(st);
}
END_TEST

START_TEST(nodes_put_del)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g = mk_group("g", 0);
	static const uint32_t ids[] = { 7, 1, UINT32_MAX, 3, 0x7fffffff };
	static const uint32_t sorted[] = { 1, 3, 7, 0x7fffffff, UINT32_MAX };
	struct gstore_node n;

	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	for (unsigned int i = 0; i < 5; i++) {
		n = mk_node(ids[i], i);
		ck_assert_int_eq(gstore_node_put(st, "g", &n), 0);
	}
	/* node 3 was put empty (version 3); an empty node put with key bytes stores none */
	n = mk_node(3, 9);
	n.has_key = false;
	ck_assert_int_eq(gstore_node_put(st, "g", &n), 0);
	memset(n.key, 0, sizeof(n.key));
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_nodes(st, "g", cb_node, &seen), 0);
	ck_assert_uint_eq(seen.n, 5);
	for (unsigned int i = 0; i < 5; i++)
		ck_assert_uint_eq(seen.nd[i].id, sorted[i]);
	node_eq(&n, &seen.nd[1]);
	n = mk_node(UINT32_MAX, 2);
	node_eq(&n, &seen.nd[4]);
	/* and back to a key */
	n = mk_node(3, 8);
	ck_assert(n.has_key);
	ck_assert_int_eq(gstore_node_put(st, "g", &n), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_nodes(st, "g", cb_node, &seen), 0);
	node_eq(&n, &seen.nd[1]);

	ck_assert_int_eq(gstore_node_del(st, "g", 7), 0);
	ck_assert_int_eq(gstore_node_del(st, "g", 7), -ENOENT);
	ck_assert_uint_eq(count_nodes(st, "g"), 4);
	n = mk_node(1, 1);
	ck_assert_int_eq(gstore_node_put(st, "nogroup", &n), -ENOENT);
	gstore_close(st);
}
END_TEST

START_TEST(teks_put_del_order)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g = mk_group("g", 0);
	/* (index, epoch) put out of order; listed ascending by index, then epoch */
	static const uint32_t put[][2] = {
		{ 1, 2 }, { 0, 10 }, { 1, 1 }, { 0, 2 }, { 2, 1 }, { 0, 9 }, { 1, UINT32_MAX },
	};
	static const uint32_t want[][2] = {
		{ 0, 2 }, { 0, 9 }, { 0, 10 }, { 1, 1 }, { 1, 2 }, { 1, UINT32_MAX }, { 2, 1 },
	};
	struct gstore_tek t;

	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	for (unsigned int i = 0; i < 7; i++) {
		t = mk_tek(put[i][0], put[i][1], (uint8_t)(i * 10));     /* 0..60 bytes */
		ck_assert_int_eq(gstore_tek_put(st, "g", &t), 0);
	}
	t = mk_tek(0, 2, GSTORE_KEY_MAX);
	ck_assert_int_eq(gstore_tek_put(st, "g", &t), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_teks(st, "g", cb_tek, &seen), 0);
	ck_assert_uint_eq(seen.n, 7);
	for (unsigned int i = 0; i < 7; i++) {
		ck_assert_uint_eq(seen.t[i].index, want[i][0]);
		ck_assert_uint_eq(seen.t[i].epoch, want[i][1]);
	}
	tek_eq(&t, &seen.t[0]);
	t = mk_tek(0, 10, 10);
	tek_eq(&t, &seen.t[2]);
	t = mk_tek(1, 2, 0);
	tek_eq(&t, &seen.t[4]);

	ck_assert_int_eq(gstore_tek_del(st, "g", 0, 9), 0);
	ck_assert_int_eq(gstore_tek_del(st, "g", 0, 9), -ENOENT);
	ck_assert_int_eq(gstore_tek_del(st, "g", 9, 0), -ENOENT);
	ck_assert_uint_eq(count_teks(st, "g"), 6);
	ck_assert_int_eq(gstore_tek_put(st, "nogroup", &t), -ENOENT);
	gstore_close(st);
}
END_TEST

START_TEST(sids_put)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g = mk_group("g", 0);
	char longest[GSTORE_SUBJECT_MAX];
	struct gstore_sid s[3];

	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	s[0] = mk_sid(65535, "CN=a", 4);
	s[1] = mk_sid(1, longest, 0);
	s[2] = mk_sid(300, "", UINT32_MAX);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(gstore_sid_put(st, "g", &s[i]), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_sids(st, "g", cb_sid, &seen), 0);
	ck_assert_uint_eq(seen.n, 3);
	sid_eq(&s[1], &seen.s[0]);
	sid_eq(&s[2], &seen.s[1]);
	sid_eq(&s[0], &seen.s[2]);

	/* freed: the holder goes, the epoch from which it is free comes */
	s[1] = mk_sid(1, "", 17);
	ck_assert_int_eq(gstore_sid_put(st, "g", &s[1]), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_sids(st, "g", cb_sid, &seen), 0);
	ck_assert_uint_eq(seen.n, 3);
	sid_eq(&s[1], &seen.s[0]);
	ck_assert_int_eq(gstore_sid_put(st, "nogroup", &s[1]), -ENOENT);
	gstore_close(st);
}
END_TEST

START_TEST(spis_never_twice)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group a = mk_group("a", 0), b = mk_group("b", 0);

	ck_assert_int_eq(gstore_group_put(st, &a), 0);
	ck_assert_int_eq(gstore_group_put(st, &b), 0);
	ck_assert_int_eq(gstore_spi_used(st, "a", 0xdeadbeef), 0);
	ck_assert_int_eq(gstore_spi_add(st, "a", 0xdeadbeef), 0);
	ck_assert_int_eq(gstore_spi_add(st, "a", UINT32_MAX), 0);
	ck_assert_int_eq(gstore_spi_add(st, "a", 0), 0);
	ck_assert_int_eq(gstore_spi_used(st, "a", 0xdeadbeef), 1);
	ck_assert_int_eq(gstore_spi_used(st, "a", UINT32_MAX), 1);
	ck_assert_int_eq(gstore_spi_used(st, "a", 0), 1);
	ck_assert_int_eq(gstore_spi_used(st, "a", 1), 0);
	ck_assert_int_eq(gstore_spi_add(st, "a", 0xdeadbeef), -EEXIST);
	/* per group */
	ck_assert_int_eq(gstore_spi_used(st, "b", 0xdeadbeef), 0);
	ck_assert_int_eq(gstore_spi_add(st, "b", 0xdeadbeef), 0);
	ck_assert_int_eq(gstore_spi_used(st, "nogroup", 0xdeadbeef), 0);
	ck_assert_int_eq(gstore_spi_add(st, "nogroup", 1), -ENOENT);
	gstore_close(st);
}
END_TEST

START_TEST(rekeys_newest_first)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group a = mk_group("a", 0), b = mk_group("b", 0);
	struct gstore_rekey r;

	ck_assert_int_eq(gstore_group_put(st, &a), 0);
	ck_assert_int_eq(gstore_group_put(st, &b), 0);
	/* interleaved with another group's; `at` going backwards does not change the order */
	for (uint32_t i = 0; i < 6; i++) {
		r = mk_rekey(i);
		if (i == 4)
			r.at = 0;
		ck_assert_int_eq(gstore_rekey_add(st, "a", &r), 0);
		r.seq_first = 1000 + i;
		ck_assert_int_eq(gstore_rekey_add(st, "b", &r), 0);
	}
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_rekeys(st, "a", 3, cb_rekey, &seen), 0);
	ck_assert_uint_eq(seen.n, 3);
	for (uint32_t i = 0; i < 3; i++) {
		r = mk_rekey(5 - i);
		if (5 - i == 4)
			r.at = 0;
		rekey_eq(&r, &seen.r[i]);
	}
	ck_assert_uint_eq(count_rekeys(st, "a"), 6);
	ck_assert_uint_eq(seen.r[5].seq_first, 1);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_rekeys(st, "b", UINT32_MAX, cb_rekey, &seen), 0);
	ck_assert_uint_eq(seen.n, 6);
	ck_assert_uint_eq(seen.r[0].seq_first, 1005);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_rekeys(st, "a", 0, cb_rekey, &seen), 0);
	ck_assert_uint_eq(seen.n, 0);
	r = mk_rekey(1);
	ck_assert_int_eq(gstore_rekey_add(st, "nogroup", &r), -ENOENT);
	gstore_close(st);
}
END_TEST

/* Every listing stops at the callback's first non-zero return and returns that value. */
START_TEST(callbacks_stop)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g2 = mk_group("h", 0);

	fill(st, "g", 0);
	ck_assert_int_eq(gstore_group_put(st, &g2), 0);
	seen_reset(1, 5);
	ck_assert_int_eq(gstore_groups(st, cb_group, &seen), 5);
	ck_assert_uint_eq(seen.n, 1);
	seen_reset(2, -ENOMEM);
	ck_assert_int_eq(gstore_members(st, "g", cb_member, &seen), -ENOMEM);
	ck_assert_uint_eq(seen.n, 2);
	seen_reset(2, 1);
	ck_assert_int_eq(gstore_nodes(st, "g", cb_node, &seen), 1);
	ck_assert_uint_eq(seen.n, 2);
	seen_reset(1, 1);
	ck_assert_int_eq(gstore_teks(st, "g", cb_tek, &seen), 1);
	ck_assert_uint_eq(seen.n, 1);
	seen_reset(3, -1);
	ck_assert_int_eq(gstore_sids(st, "g", cb_sid, &seen), -1);
	ck_assert_uint_eq(seen.n, 3);
	seen_reset(2, 2);
	ck_assert_int_eq(gstore_rekeys(st, "g", 10, cb_rekey, &seen), 2);
	ck_assert_uint_eq(seen.n, 2);
	/* a stopped listing leaves its statement ready for the next */
	ck_assert_uint_eq(count_members(st, "g"), FILL_MEMBERS);
	gstore_close(st);
}
END_TEST

/* A callback that walks the same listing again and writes (as the engine's loader may). */
static struct gstore *nest_st;
static unsigned int nest_inner;

static int cb_inner(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	nest_inner++;
	return 0;
}

static int cb_outer(void *arg, const char *name)
{
	struct gstore_member m = mk_member("CN=added", 1);

	(void)arg;
	ck_assert_int_eq(gstore_groups(nest_st, cb_inner, NULL), 0);
	ck_assert_int_eq(gstore_member_put(nest_st, name, &m), 0);
	return 0;
}

START_TEST(callbacks_nest)
{
	struct gstore_group a = mk_group("a", 0), b = mk_group("b", 0);

	nest_st = open_ok(":memory:");
	nest_inner = 0;
	ck_assert_int_eq(gstore_group_put(nest_st, &a), 0);
	ck_assert_int_eq(gstore_group_put(nest_st, &b), 0);
	ck_assert_int_eq(gstore_groups(nest_st, cb_outer, NULL), 0);
	ck_assert_uint_eq(nest_inner, 4);
	ck_assert_uint_eq(count_members(nest_st, "a"), 1);
	ck_assert_uint_eq(count_members(nest_st, "b"), 1);
	/* the cached statement is free again */
	ck_assert_int_eq(gstore_groups(nest_st, cb_inner, NULL), 0);
	ck_assert_uint_eq(nest_inner, 6);
	gstore_close(nest_st);
}
END_TEST

/* ------------------------------------------------------------------ transactions */

START_TEST(txn_commit_rollback)
{
	struct gstore *st = open_ok(db_path);
	struct gstore_group g = mk_group("g", 0), got;
	struct gstore_member m = mk_member("CN=m", 0);
	struct gstore_node n = mk_node(1, 1);

	ck_assert_int_eq(gstore_commit(st), -EINVAL);
	gstore_rollback(st);            /* no-op */
	ck_assert_int_eq(gstore_group_put(st, &g), 0);  /* autocommit */

	ck_assert_int_eq(gstore_begin(st), 0);
	ck_assert_int_eq(gstore_begin(st), -EINVAL);
	ck_assert_int_eq(gstore_member_put(st, "g", &m), 0);
	ck_assert_int_eq(gstore_node_put(st, "g", &n), 0);
	g.seq_hwm = 5000;
	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	/* the transaction sees its own writes */
	ck_assert_uint_eq(count_members(st, "g"), 1);
	gstore_rollback(st);
	ck_assert_uint_eq(count_members(st, "g"), 0);
	ck_assert_uint_eq(count_nodes(st, "g"), 0);
	ck_assert_int_eq(gstore_group_get(st, "g", &got), 0);
	ck_assert_uint_eq(got.seq_hwm, mk_group("g", 0).seq_hwm);

	ck_assert_int_eq(gstore_begin(st), 0);
	ck_assert_int_eq(gstore_member_put(st, "g", &m), 0);
	/* a failed statement inside a transaction leaves the transaction and its rows */
	ck_assert_int_eq(gstore_node_put(st, "nogroup", &n), -ENOENT);
	ck_assert_int_eq(gstore_node_put(st, "g", &n), 0);
	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	ck_assert_int_eq(gstore_commit(st), 0);
	ck_assert_int_eq(gstore_commit(st), -EINVAL);
	gstore_close(st);

	st = open_ok(db_path);
	ck_assert_uint_eq(count_members(st, "g"), 1);
	ck_assert_uint_eq(count_nodes(st, "g"), 1);
	ck_assert_int_eq(gstore_group_get(st, "g", &got), 0);
	ck_assert_uint_eq(got.seq_hwm, 5000);

	/* close with a transaction open: it is rolled back */
	ck_assert_int_eq(gstore_begin(st), 0);
	ck_assert_int_eq(gstore_member_del(st, "g", "CN=m"), 0);
	gstore_close(st);
	st = open_ok(db_path);
	ck_assert_uint_eq(count_members(st, "g"), 1);
	gstore_close(st);
}
END_TEST

/* WAL: another connection reads the last committed state while a transaction is open. */
START_TEST(txn_reader_sees_committed)
{
	struct gstore *a = open_ok(db_path), *b = open_ok(db_path);
	struct gstore_group g = mk_group("g", 0);

	ck_assert_int_eq(gstore_group_put(a, &g), 0);
	ck_assert_int_eq(gstore_begin(a), 0);
	ck_assert_int_eq(gstore_spi_add(a, "g", 1), 0);
	ck_assert_int_eq(gstore_spi_used(a, "g", 1), 1);
	ck_assert_int_eq(gstore_spi_used(b, "g", 1), 0);
	ck_assert_int_eq(gstore_commit(a), 0);
	ck_assert_int_eq(gstore_spi_used(b, "g", 1), 1);
	gstore_close(b);
	gstore_close(a);
}
END_TEST

/*
 * kill -9 in the middle of a transaction: the parent reopens the file and finds every
 * committed row of every table and nothing of the open transaction.
 */
START_TEST(crash_keeps_committed)
{
	struct gstore *st;
	struct gstore_member m = mk_member("CN=uncommitted", 0);
	struct gstore_group got;
	int status;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the child reports through its exit status (a failed check in fill() ends it
		 * before the SIGKILL, which the parent sees) */
		struct gstore_group g = mk_group("g", 0);

		if (gstore_open(db_path, &st, NULL, 0) != 0)
			_exit(10);
		if (gstore_begin(st) != 0)
			_exit(11);
		fill(st, "g", 3);
		if (gstore_commit(st) != 0)
			_exit(12);
		if (gstore_begin(st) != 0)
			_exit(13);
		g.seq_hwm = 1;
		if (gstore_group_put(st, &g) != 0 || gstore_member_put(st, "g", &m) != 0 ||
		    gstore_member_del(st, "g", "CN=m0,O=g") != 0 || gstore_spi_add(st, "g", 9) != 0)
			_exit(14);
		kill(getpid(), SIGKILL);
		_exit(15);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %#x",
		status);
	/* nothing checkpointed or cleaned up */
	ck_assert(file_exists("-wal"));

	st = open_ok(db_path);
	check_fill(st, "g", 3);
	ck_assert_int_eq(gstore_spi_used(st, "g", 9), 0);
	ck_assert_int_eq(gstore_group_get(st, "g", &got), 0);
	ck_assert_uint_ne(got.seq_hwm, 1);
	gstore_close(st);
}
END_TEST

/* Every table survives close and reopen. */
START_TEST(durable_every_table)
{
	struct gstore *st = open_ok(db_path);

	fill(st, "g1", 1);
	ck_assert_int_eq(gstore_begin(st), 0);
	fill(st, "g2", 2);
	ck_assert_int_eq(gstore_commit(st), 0);
	gstore_close(st);
	st = open_ok(db_path);
	check_fill(st, "g1", 1);
	check_fill(st, "g2", 2);
	gstore_close(st);
}
END_TEST

START_TEST(group_del_cascades)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g = mk_group("a", 0), got;

	fill(st, "a", 1);
	fill(st, "b", 2);
	ck_assert_int_eq(gstore_group_del(st, "a"), 0);
	ck_assert_int_eq(gstore_group_get(st, "a", &got), -ENOENT);
	ck_assert_uint_eq(count_members(st, "a"), 0);
	ck_assert_uint_eq(count_nodes(st, "a"), 0);
	ck_assert_uint_eq(count_teks(st, "a"), 0);
	ck_assert_uint_eq(count_sids(st, "a"), 0);
	ck_assert_uint_eq(count_rekeys(st, "a"), 0);
	ck_assert_int_eq(gstore_spi_used(st, "a", FILL_SPI + 1), 0);
	check_fill(st, "b", 2);
	/* a group of the same name starts empty */
	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	ck_assert_uint_eq(count_members(st, "a"), 0);
	ck_assert_uint_eq(count_rekeys(st, "a"), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_groups(st, cb_group, &seen), 0);
	ck_assert_uint_eq(seen.n, 2);
	gstore_close(st);
}
END_TEST

/* ------------------------------------------------------------------ errors */

START_TEST(bad_arguments)
{
	struct gstore *st = open_ok(":memory:");
	struct gstore_group g = mk_group("g", 0), got;
	struct gstore_member m = mk_member("CN=m", 0);
	struct gstore_node n = mk_node(1, 1);
	struct gstore_tek t = mk_tek(0, 1, 32);
	struct gstore_sid s = mk_sid(1, "CN=m", 0);
	struct gstore_rekey r = mk_rekey(1);
	char name63[GSTORE_NAME_MAX], name64[GSTORE_NAME_MAX + 1];

	memset(name63, 'n', sizeof(name63) - 1);
	name63[sizeof(name63) - 1] = '\0';
	memset(name64, 'n', sizeof(name64) - 1);
	name64[sizeof(name64) - 1] = '\0';

	/* no store */
	ck_assert_int_eq(gstore_begin(NULL), -EINVAL);
	ck_assert_int_eq(gstore_commit(NULL), -EINVAL);
	gstore_rollback(NULL);
	ck_assert_int_eq(gstore_group_put(NULL, &g), -EINVAL);
	ck_assert_int_eq(gstore_group_get(NULL, "g", &got), -EINVAL);
	ck_assert_int_eq(gstore_group_del(NULL, "g"), -EINVAL);
	ck_assert_int_eq(gstore_groups(NULL, cb_group, &seen), -EINVAL);
	ck_assert_int_eq(gstore_member_put(NULL, "g", &m), -EINVAL);
	ck_assert_int_eq(gstore_member_del(NULL, "g", "CN=m"), -EINVAL);
	ck_assert_int_eq(gstore_members(NULL, "g", cb_member, &seen), -EINVAL);
	ck_assert_int_eq(gstore_node_put(NULL, "g", &n), -EINVAL);
	ck_assert_int_eq(gstore_node_del(NULL, "g", 1), -EINVAL);
	ck_assert_int_eq(gstore_nodes(NULL, "g", cb_node, &seen), -EINVAL);
	ck_assert_int_eq(gstore_tek_put(NULL, "g", &t), -EINVAL);
	ck_assert_int_eq(gstore_tek_del(NULL, "g", 0, 1), -EINVAL);
	ck_assert_int_eq(gstore_teks(NULL, "g", cb_tek, &seen), -EINVAL);
	ck_assert_int_eq(gstore_sid_put(NULL, "g", &s), -EINVAL);
	ck_assert_int_eq(gstore_sids(NULL, "g", cb_sid, &seen), -EINVAL);
	ck_assert_int_eq(gstore_spi_add(NULL, "g", 1), -EINVAL);
	ck_assert_int_eq(gstore_spi_used(NULL, "g", 1), -EINVAL);
	ck_assert_int_eq(gstore_rekey_add(NULL, "g", &r), -EINVAL);
	ck_assert_int_eq(gstore_rekeys(NULL, "g", 1, cb_rekey, &seen), -EINVAL);

	/* no record, no callback */
	ck_assert_int_eq(gstore_group_put(st, NULL), -EINVAL);
	ck_assert_int_eq(gstore_group_get(st, "g", NULL), -EINVAL);
	ck_assert_int_eq(gstore_groups(st, NULL, NULL), -EINVAL);
	ck_assert_int_eq(gstore_member_put(st, "g", NULL), -EINVAL);
	ck_assert_int_eq(gstore_members(st, "g", NULL, NULL), -EINVAL);
	ck_assert_int_eq(gstore_node_put(st, "g", NULL), -EINVAL);
	ck_assert_int_eq(gstore_nodes(st, "g", NULL, NULL), -EINVAL);
	ck_assert_int_eq(gstore_tek_put(st, "g", NULL), -EINVAL);
	ck_assert_int_eq(gstore_teks(st, "g", NULL, NULL), -EINVAL);
	ck_assert_int_eq(gstore_sid_put(st, "g", NULL), -EINVAL);
	ck_assert_int_eq(gstore_sids(st, "g", NULL, NULL), -EINVAL);
	ck_assert_int_eq(gstore_rekey_add(st, "g", NULL), -EINVAL);
	ck_assert_int_eq(gstore_rekeys(st, "g", 1, NULL, NULL), -EINVAL);
	ck_assert_str_ne(gstore_errmsg(st), "");

	/* group names: missing, empty, too long; 63 bytes fit */
	ck_assert_int_eq(gstore_group_get(st, NULL, &got), -EINVAL);
	ck_assert_int_eq(gstore_group_del(st, ""), -EINVAL);
	memcpy(g.name, name64, sizeof(g.name));         /* no NUL in the field */
	ck_assert_int_eq(gstore_group_put(st, &g), -EINVAL);
	ck_assert_msg(strstr(gstore_errmsg(st), "63") != NULL, "%s", gstore_errmsg(st));
	g.name[0] = '\0';
	ck_assert_int_eq(gstore_group_put(st, &g), -EINVAL);
	memcpy(g.name, name63, sizeof(name63));
	ck_assert_int_eq(gstore_group_put(st, &g), 0);
	ck_assert_int_eq(gstore_group_get(st, name63, &got), 0);
	group_eq(&g, &got);
	ck_assert_int_eq(gstore_member_put(st, name64, &m), -EINVAL);
	ck_assert_int_eq(gstore_member_put(st, NULL, &m), -EINVAL);
	ck_assert_int_eq(gstore_member_del(st, name64, "CN=m"), -EINVAL);
	ck_assert_int_eq(gstore_members(st, name64, cb_member, &seen), -EINVAL);
	ck_assert_int_eq(gstore_node_put(st, name64, &n), -EINVAL);
	ck_assert_int_eq(gstore_node_del(st, "", 1), -EINVAL);
	ck_assert_int_eq(gstore_nodes(st, NULL, cb_node, &seen), -EINVAL);
	ck_assert_int_eq(gstore_tek_put(st, "", &t), -EINVAL);
	ck_assert_int_eq(gstore_tek_del(st, name64, 0, 1), -EINVAL);
	ck_assert_int_eq(gstore_teks(st, name64, cb_tek, &seen), -EINVAL);
	ck_assert_int_eq(gstore_sid_put(st, name64, &s), -EINVAL);
	ck_assert_int_eq(gstore_sids(st, "", cb_sid, &seen), -EINVAL);
	ck_assert_int_eq(gstore_spi_add(st, name64, 1), -EINVAL);
	ck_assert_int_eq(gstore_spi_used(st, "", 1), -EINVAL);
	ck_assert_int_eq(gstore_rekey_add(st, name64, &r), -EINVAL);
	ck_assert_int_eq(gstore_rekeys(st, NULL, 1, cb_rekey, &seen), -EINVAL);

	/* members: subject empty or without room for its NUL, too many SIDs, address too long */
	m.subject[0] = '\0';
	ck_assert_int_eq(gstore_member_put(st, name63, &m), -EINVAL);
	memset(m.subject, 'x', sizeof(m.subject));
	ck_assert_int_eq(gstore_member_put(st, name63, &m), -EINVAL);
	m.subject[sizeof(m.subject) - 1] = '\0';
	ck_assert_int_eq(gstore_member_put(st, name63, &m), 0);
	ck_assert_int_eq(gstore_member_del(st, name63, NULL), -EINVAL);
	ck_assert_int_eq(gstore_member_del(st, name63, ""), -EINVAL);
	m.nb_sids = GSTORE_MAX_SIDS + 1;
	ck_assert_int_eq(gstore_member_put(st, name63, &m), -EINVAL);
	ck_assert_msg(strstr(gstore_errmsg(st), "65 SIDs") != NULL, "%s", gstore_errmsg(st));
	m.nb_sids = UINT16_MAX;
	ck_assert_int_eq(gstore_member_put(st, name63, &m), -EINVAL);
	m.nb_sids = GSTORE_MAX_SIDS;
	m.addr_len = sizeof(m.addr) + 1;
	ck_assert_int_eq(gstore_member_put(st, name63, &m), -EINVAL);
	m.addr_len = sizeof(m.addr);
	ck_assert_int_eq(gstore_member_put(st, name63, &m), 0);
	seen_reset(0, 0);
	ck_assert_int_eq(gstore_members(st, name63, cb_member, &seen), 0);
	member_eq(&m, &seen.m[0]);

	/* traffic key longer than its field; SID subject and rekey reason without their NUL */
	t.key_len = GSTORE_KEY_MAX + 1;
	ck_assert_int_eq(gstore_tek_put(st, name63, &t), -EINVAL);
	memset(s.subject, 'x', sizeof(s.subject));
	ck_assert_int_eq(gstore_sid_put(st, name63, &s), -EINVAL);
	memset(r.reason, 'x', sizeof(r.reason));
	ck_assert_int_eq(gstore_rekey_add(st, name63, &r), -EINVAL);
	gstore_close(st);
}
END_TEST

/*
 * Rows that do not fit the structs, written by hand: each gives -EIO and a message naming
 * the table and the column, never an overflow.
 */
struct corruption {
	const char *sql;
	int (*list)(struct gstore *st);
	const char *msg;
};

static int list_members(struct gstore *st)
{
	seen_reset(0, 0);
	return gstore_members(st, "g", cb_member, &seen);
}

static int list_nodes(struct gstore *st)
{
	seen_reset(0, 0);
	return gstore_nodes(st, "g", cb_node, &seen);
}

static int list_teks(struct gstore *st)
{
	seen_reset(0, 0);
	return gstore_teks(st, "g", cb_tek, &seen);
}

static int list_sids(struct gstore *st)
{
	seen_reset(0, 0);
	return gstore_sids(st, "g", cb_sid, &seen);
}

static int list_rekeys(struct gstore *st)
{
	seen_reset(0, 0);
	return gstore_rekeys(st, "g", 100, cb_rekey, &seen);
}

static int list_groups(struct gstore *st)
{
	seen_reset(0, 0);
	return gstore_groups(st, cb_group, &seen);
}

static int get_group(struct gstore *st)
{
	struct gstore_group got;
	int ret;

	memset(&got, 0x5a, sizeof(got));
	ret = gstore_group_get(st, "g", &got);

	/* a row that does not fit leaves the caller's record alone */
	ck_assert_uint_eq(got.seq_hwm, 0x5a5a5a5a);
	return ret;
}

#define LONG300 "hex(zeroblob(150))"    /* 300 characters */

static const struct corruption corruptions[] = {
	{ "UPDATE member SET sids = x'010203'", list_members,
		"corrupt member row of group 'g': sids: 3 bytes, expected an even number" },
	{ "UPDATE member SET sids = zeroblob(130)", list_members,
		"sids: 130 bytes, expected 0 to 128" },
	{ "UPDATE member SET subject = " LONG300 " WHERE subject = 'CN=m1,O=g'", list_members,
		"subject: 300 bytes, at most 255" },
	{ "UPDATE member SET subject = CAST(x'410042' AS TEXT) WHERE subject = 'CN=m3,O=g'",
		list_members,
		"subject: holds a NUL byte" },
	{ "UPDATE member SET addr = zeroblob(129)", list_members,
		"addr: 129 bytes, expected 0 to 128" },
	{ "UPDATE member SET cert_sha256 = zeroblob(31)", list_members,
		"cert_sha256: 31 bytes, expected 32" },
	{ "UPDATE member SET member_id = 4294967296", list_members,
		"member_id: 4294967296 outside [0, 4294967295]" },
	{ "UPDATE member SET role = 256", list_members, "role: 256 outside [0, 255]" },
	{ "UPDATE member SET state = -1", list_members, "state: -1 outside [0, 255]" },
	{ "UPDATE lkh_node SET node_key = zeroblob(31)", list_nodes,
		"corrupt lkh_node row of group 'g': node_key: 31 bytes, expected 0 or 32" },
	{ "UPDATE lkh_node SET node_key = zeroblob(33)", list_nodes,
		"33 bytes, expected 0 to 32" },
	{ "UPDATE lkh_node SET node_key = x'01'", list_nodes, "1 bytes, expected 0 or 32" },
	{ "UPDATE lkh_node SET handle = -1", list_nodes, "handle: -1 outside" },
	{ "UPDATE tek SET tek_key = zeroblob(65)", list_teks,
		"tek_key: 65 bytes, expected 0 to 64" },
	{ "UPDATE tek SET key_type = 65536", list_teks, "key_type: 65536 outside [0, 65535]" },
	{ "UPDATE tek SET idx = 4294967296 WHERE idx = 1", list_teks, "idx: 4294967296 outside" },
	{ "UPDATE sid SET subject = " LONG300, list_sids, "subject: 300 bytes, at most 255" },
	{ "UPDATE sid SET sid = 65536 WHERE sid = 2", list_sids, "sid: 65536 outside [0, 65535]" },
	{ "UPDATE rekey SET reason = 'a reason longer than thirty-one bytes'", list_rekeys,
		"reason: 37 bytes, at most 31" },
	{ "UPDATE rekey SET wraps = -5", list_rekeys, "wraps: -5 outside" },
	{ "INSERT INTO grp VALUES(" LONG300 ", zeroblob(8), 0, 0, 0)", list_groups,
		"corrupt grp row: name: 300 bytes, at most 63" },
	{ "UPDATE grp SET gid = zeroblob(7)", get_group, "gid: 7 bytes, expected 8" },
	{ "UPDATE grp SET seq_hwm = -1", get_group, "seq_hwm: -1 outside [0, 4294967295]" },
	{ "UPDATE grp SET state = 4294967296", get_group, "state: 4294967296 outside" },
};

/*
 * One test for every case rather than a loop test: under the sanitizers each forked test costs
 * a leak check, and the suite must stay fast. Messages name the case's SQL.
 */
START_TEST(corrupt_rows)
{
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corruption *c = &corruptions[i];
		struct gstore *st = open_ok(db_path);
		int ret;

		ck_assert_int_eq(gstore_begin(st), 0);
		fill(st, "g", 0);
		ck_assert_int_eq(gstore_commit(st), 0);
		/* the second connection writes while the store is open, as an editor would */
		raw_exec(c->sql);
		ret = c->list(st);
		ck_assert_msg(ret == -EIO, "%s: %d", c->sql, ret);
		ck_assert_msg(strstr(gstore_errmsg(st), c->msg) != NULL,
			"%s: got '%s', want '%s'", c->sql, gstore_errmsg(st), c->msg);
		/* the store works on, and the row still does not fit */
		ck_assert_int_eq(gstore_spi_add(st, "g", 77), 0);
		ck_assert_int_eq(c->list(st), -EIO);
		gstore_close(st);
		ck_assert_int_eq(unlink(db_path), 0);
	}
}
END_TEST

Suite *gcks_store_suite(void);

Suite *gcks_store_suite(void)
{
	Suite *s = suite_create("gcks_store");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, open_memory);
	tcase_add_test(tc, open_file_modes);
	tcase_add_test(tc, open_refuses_wide_mode);
	tcase_add_test(tc, open_version_mismatch);
	tcase_add_test(tc, open_foreign_file);
	tcase_add_test(tc, open_bad_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_test(tc, groups_put_get_del);
	tcase_add_test(tc, members_put_del);
	tcase_add_test(tc, nodes_put_del);
	tcase_add_test(tc, teks_put_del_order);
	tcase_add_test(tc, sids_put);
	tcase_add_test(tc, spis_never_twice);
	tcase_add_test(tc, rekeys_newest_first);
	tcase_add_test(tc, callbacks_stop);
	tcase_add_test(tc, callbacks_nest);
	tcase_add_test(tc, group_del_cascades);
	suite_add_tcase(s, tc);

	tc = tcase_create("durability");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, txn_commit_rollback);
	tcase_add_test(tc, txn_reader_sees_committed);
	tcase_add_test(tc, crash_keeps_committed);
	tcase_add_test(tc, durable_every_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, corrupt_rows);
	suite_add_tcase(s, tc);
	return s;
}
