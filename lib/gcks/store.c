/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key server's durable state in SQLite (doc/key-management.md §7).
 *
 * Schema: STRICT tables, so SQLite itself refuses a value of the wrong type; every row but the
 * group's own names its group through a foreign key with ON DELETE CASCADE, so deleting a
 * group's row deletes everything of the group in one statement, and a row cannot be written for
 * a group that is not stored. Table `meta` holds the schema version; a database of another
 * version is refused rather than read with the wrong meaning.
 *
 * Validate, then interpret: the file may have been edited by hand or damaged, so every value
 * read back is checked (type, length, range) before it is copied into a record, and a row that
 * does not fit gives -EIO with a message naming the table, the group and the column.
 *
 * Secrets: keys are bound with SQLITE_STATIC (SQLite copies them into its own pages, no copy of
 * ours), read straight into the record handed to the callback, and every record is wiped when
 * the callback returns and on every exit of a listing. secure_delete overwrites the content of
 * deleted rows in the file. Messages never quote a key.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "gcks_store.h"

#define SCHEMA_VERSION 1
#define STR(x) #x
#define XSTR(x) STR(x)
#define ERR_MAX 512
#define SHOW_MAX 64                     /* longest stored name quoted in a message */
#define BUSY_TIMEOUT_MS 5000
#define MEMORY_PATH ":memory:"
/* STRICT tables (3.37); upsert (3.24) and SQLITE_OPEN_NOFOLLOW (3.31) come before */
#define SQLITE_MIN 3037000

static const char schema[] =
	"CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;"
	"CREATE TABLE grp(name TEXT PRIMARY KEY, gid BLOB NOT NULL, seq_hwm INTEGER NOT NULL,"
	" state INTEGER NOT NULL, created INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
	"CREATE TABLE member(grp TEXT NOT NULL REFERENCES grp(name) ON DELETE CASCADE,"
	" subject TEXT NOT NULL, member_id INTEGER NOT NULL, role INTEGER NOT NULL,"
	" state INTEGER NOT NULL, sids BLOB NOT NULL, addr BLOB NOT NULL, joined INTEGER NOT NULL,"
	" acked INTEGER NOT NULL, cert_sha256 BLOB NOT NULL,"
	" PRIMARY KEY(grp, subject)) STRICT, WITHOUT ROWID;"
	"CREATE TABLE lkh_node(grp TEXT NOT NULL REFERENCES grp(name) ON DELETE CASCADE,"
	" id INTEGER NOT NULL, handle INTEGER NOT NULL, node_key BLOB NOT NULL,"
	" PRIMARY KEY(grp, id)) STRICT, WITHOUT ROWID;"
	"CREATE TABLE tek(grp TEXT NOT NULL REFERENCES grp(name) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, epoch INTEGER NOT NULL, spi INTEGER NOT NULL,"
	" key_type INTEGER NOT NULL, tek_key BLOB NOT NULL, created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL, retire_at INTEGER NOT NULL,"
	" PRIMARY KEY(grp, idx, epoch)) STRICT, WITHOUT ROWID;"
	"CREATE TABLE sid(grp TEXT NOT NULL REFERENCES grp(name) ON DELETE CASCADE,"
	" sid INTEGER NOT NULL, subject TEXT NOT NULL, free_epoch INTEGER NOT NULL,"
	" PRIMARY KEY(grp, sid)) STRICT, WITHOUT ROWID;"
	"CREATE TABLE spi(grp TEXT NOT NULL REFERENCES grp(name) ON DELETE CASCADE,"
	" spi INTEGER NOT NULL, PRIMARY KEY(grp, spi)) STRICT, WITHOUT ROWID;"
	/* n orders the history: rows only go away a whole group at a time, so a group's new rows
	 * always get a larger n than its older ones (no AUTOINCREMENT needed) */
	"CREATE TABLE rekey(n INTEGER PRIMARY KEY,"
	" grp TEXT NOT NULL REFERENCES grp(name) ON DELETE CASCADE,"
	" at_ms INTEGER NOT NULL, seq_first INTEGER NOT NULL, seq_last INTEGER NOT NULL,"
	" joins INTEGER NOT NULL, leaves INTEGER NOT NULL, evictions INTEGER NOT NULL,"
	" wraps INTEGER NOT NULL, messages INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" reason TEXT NOT NULL) STRICT;"
	"CREATE INDEX rekey_grp ON rekey(grp, n);";

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_GROUP_PUT,
	S_GROUP_GET,
	S_GROUP_DEL,
	S_GROUPS,
	S_MEMBER_PUT,
	S_MEMBER_DEL,
	S_MEMBERS,
	S_NODE_PUT,
	S_NODE_DEL,
	S_NODES,
	S_TEK_PUT,
	S_TEK_DEL,
	S_TEKS,
	S_SID_PUT,
	S_SIDS,
	S_SPI_ADD,
	S_SPI_USED,
	S_REKEY_ADD,
	S_REKEYS,
	S_NB
};

static const char *const stmt_sql[S_NB] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* an upsert, not INSERT OR REPLACE: a replace deletes the row first, which would
	 * cascade to every other row of the group */
	[S_GROUP_PUT] = "INSERT INTO grp(name, gid, seq_hwm, state, created)"
		" VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET gid = excluded.gid,"
		" seq_hwm = excluded.seq_hwm, state = excluded.state, created = excluded.created",
	[S_GROUP_GET] = "SELECT name, gid, seq_hwm, state, created FROM grp WHERE name = ?1",
	[S_GROUP_DEL] = "DELETE FROM grp WHERE name = ?1",
	[S_GROUPS] = "SELECT name FROM grp ORDER BY name",
	[S_MEMBER_PUT] = "INSERT OR REPLACE INTO member(grp, subject, member_id, role, state, sids,"
		" addr, joined, acked, cert_sha256)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_MEMBER_DEL] = "DELETE FROM member WHERE grp = ?1 AND subject = ?2",
	[S_MEMBERS] = "SELECT subject, member_id, role, state, sids, addr, joined, acked,"
		" cert_sha256 FROM member WHERE grp = ?1 ORDER BY subject",
	[S_NODE_PUT] = "INSERT OR REPLACE INTO lkh_node(grp, id, handle, node_key)"
		" VALUES(?1, ?2, ?3, ?4)",
	[S_NODE_DEL] = "DELETE FROM lkh_node WHERE grp = ?1 AND id = ?2",
	[S_NODES] = "SELECT id, handle, node_key FROM lkh_node WHERE grp = ?1 ORDER BY id",
	[S_TEK_PUT] = "INSERT OR REPLACE INTO tek(grp, idx, epoch, spi, key_type, tek_key, created,"
		" expires, retire_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_TEK_DEL] = "DELETE FROM tek WHERE grp = ?1 AND idx = ?2 AND epoch = ?3",
	[S_TEKS] = "SELECT idx, epoch, spi, key_type, tek_key, created, expires, retire_at"
		" FROM tek WHERE grp = ?1 ORDER BY idx, epoch",
	[S_SID_PUT] = "INSERT OR REPLACE INTO sid(grp, sid, subject, free_epoch)"
		" VALUES(?1, ?2, ?3, ?4)",
	[S_SIDS] = "SELECT sid, subject, free_epoch FROM sid WHERE grp = ?1 ORDER BY sid",
	[S_SPI_ADD] = "INSERT INTO spi(grp, spi) VALUES(?1, ?2)",
	[S_SPI_USED] = "SELECT 1 FROM spi WHERE grp = ?1 AND spi = ?2",
	[S_REKEY_ADD] = "INSERT INTO rekey(grp, at_ms, seq_first, seq_last, joins, leaves,"
		" evictions, wraps, messages, bytes, reason)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_REKEYS] = "SELECT at_ms, seq_first, seq_last, joins, leaves, evictions, wraps, messages,"
		" bytes, reason FROM rekey WHERE grp = ?1 ORDER BY n DESC LIMIT ?2",
};

struct gstore {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_NB];       /* prepared at open, finalized at close */
	bool busy[S_NB];                /* stepping: a nested use gets a statement of its own */
	char err[ERR_MAX];
};

/* ------------------------------------------------------------------ errors */

static int fail(struct gstore *st, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct gstore *st, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(st->err, sizeof(st->err), fmt, ap) < 0)
		st->err[0] = '\0';
	va_end(ap);
	/* messages quote names read from the file: keep them on one printable line */
	for (char *p = st->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return code;
}

/* An SQLite failure of rc while doing `what`. Constraint failures mean something to callers. */
static int db_fail(struct gstore *st, int rc, const char *what, const char *group)
{
	const char *msg = sqlite3_errmsg(st->db);

	switch (rc) {
	case SQLITE_NOMEM:
		return fail(st, -ENOMEM, "%s: out of memory", what);
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return fail(st, -ENOENT, "%s: no group '%.*s'", what, SHOW_MAX,
			group != NULL ? group : "");
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return fail(st, -EEXIST, "%s: %s", what, msg);
	default:
		return fail(st, -EIO, "%s: %s", what, msg);
	}
}

/* ------------------------------------------------------------------ arguments */

/* A NUL-terminated string of 1..size-1 bytes (or 0.. when empty_ok): fits a field of size. */
static bool str_ok(const char *s, size_t size, bool empty_ok)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strnlen(s, size);
	return n < size && (n > 0 || empty_ok);
}

/* Every call on a group's rows starts here: a store, and a valid group name. */
static int enter(struct gstore *st, const char *group)
{
	if (st == NULL)
		return -EINVAL;
	if (!str_ok(group, GSTORE_NAME_MAX, false))
		return fail(st, -EINVAL, "group name missing, empty or longer than %d bytes",
			GSTORE_NAME_MAX - 1);
	return 0;
}

/* ------------------------------------------------------------------ statements */

/*
 * The cached statement, or a fresh one when the cached one is stepping: a listing's callback
 * may call the same listing again (e.g. each group's callback walking gstore_groups()).
 */
static int stmt_get(struct gstore *st, enum stmt_id id, sqlite3_stmt **out)
{
	int rc;

	if (!st->busy[id]) {
		st->busy[id] = true;
		*out = st->stmt[id];
		return 0;
	}
	rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, 0, out, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, rc, "prepare", NULL);
	return 0;
}

static void stmt_put(struct gstore *st, enum stmt_id id, sqlite3_stmt *s)
{
	if (s != st->stmt[id]) {
		sqlite3_finalize(s);
		return;
	}
	/* reset repeats the error of a failed step, which the caller has reported already;
	 * clear_bindings cannot fail and drops the pointers to the caller's buffers */
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	st->busy[id] = false;
}

/* Binding stops at the first failure; *rc carries it to one check after the last bind. */
static void bind_int(sqlite3_stmt *s, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(s, i, v);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* A NULL pointer would bind SQL NULL, not an empty blob: len 0 binds a static empty one. */
static void bind_blob(sqlite3_stmt *s, int i, const void *v, size_t len, int *rc)
{
	static const uint8_t empty[1];

	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_blob(s, i, len > 0 ? v : empty, (int)len, SQLITE_STATIC);
}

/*
 * Run a bound statement that returns no rows and put it back. *changes (if not NULL) receives
 * the number of rows it changed.
 */
static int run(struct gstore *st, enum stmt_id id, sqlite3_stmt *s, int bind_rc,
	const char *what, const char *group, int *changes)
{
	int rc, ret = 0;

	if (bind_rc != SQLITE_OK) {
		ret = db_fail(st, bind_rc, what, group);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = db_fail(st, rc, what, group);
		goto out;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(st->db);
out:
	stmt_put(st, id, s);
	return ret;
}

/* ------------------------------------------------------------------ reading rows */

/* Where a row came from, for messages about rows that do not fit. */
struct row {
	struct gstore *st;
	sqlite3_stmt *s;
	const char *table;
	const char *group;      /* NULL for the groups' own table */
};

static const char *type_name(int type)
{
	switch (type) {
	case SQLITE_INTEGER:
		return "INTEGER";
	case SQLITE_FLOAT:
		return "REAL";
	case SQLITE_TEXT:
		return "TEXT";
	case SQLITE_BLOB:
		return "BLOB";
	default:
		return "NULL";
	}
}

static int corrupt(const struct row *r, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int corrupt(const struct row *r, int col, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, sizeof(why), fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
	if (r->group == NULL)
		return fail(r->st, -EIO, "corrupt %s row: %s: %s", r->table,
			sqlite3_column_name(r->s, col), why);
	return fail(r->st, -EIO, "corrupt %s row of group '%.*s': %s: %s", r->table, SHOW_MAX,
		r->group, sqlite3_column_name(r->s, col), why);
}

static int col_type(const struct row *r, int col, int want)
{
	int type = sqlite3_column_type(r->s, col);

	if (type != want)
		return corrupt(r, col, "%s, expected %s", type_name(type), type_name(want));
	return 0;
}

static int col_int(const struct row *r, int col, int64_t min, int64_t max, int64_t *v)
{
	int ret = col_type(r, col, SQLITE_INTEGER);

	if (ret < 0)
		return ret;
	*v = sqlite3_column_int64(r->s, col);
	if (*v < min || *v > max)
		return corrupt(r, col, "%" PRId64 " outside [%" PRId64 ", %" PRId64 "]", *v, min,
			max);
	return 0;
}

static int col_u32(const struct row *r, int col, uint32_t *v)
{
	int64_t x = 0;
	int ret = col_int(r, col, 0, UINT32_MAX, &x);

	*v = (uint32_t)x;
	return ret;
}

static int col_u16(const struct row *r, int col, uint16_t *v)
{
	int64_t x = 0;
	int ret = col_int(r, col, 0, UINT16_MAX, &x);

	*v = (uint16_t)x;
	return ret;
}

static int col_u8(const struct row *r, int col, uint8_t *v)
{
	int64_t x;
	int ret = col_int(r, col, 0, UINT8_MAX, &x);

	*v = (uint8_t)x;
	return ret;
}

static int col_i64(const struct row *r, int col, int64_t *v)
{
	return col_int(r, col, INT64_MIN, INT64_MAX, v);
}

/* A blob of min..max bytes into buf (max bytes); *len (if not NULL) receives its length. */
static int col_blob(const struct row *r, int col, void *buf, size_t min, size_t max, size_t *len)
{
	const void *p;
	size_t n;
	int ret = col_type(r, col, SQLITE_BLOB);

	if (ret < 0)
		return ret;
	p = sqlite3_column_blob(r->s, col);
	n = (size_t)sqlite3_column_bytes(r->s, col);
	if (n < min || n > max) {
		if (min == max)
			return corrupt(r, col, "%zu bytes, expected %zu", n, min);
		return corrupt(r, col, "%zu bytes, expected %zu to %zu", n, min, max);
	}
	if (n > 0 && p == NULL)
		return fail(r->st, -ENOMEM, "%s: out of memory", r->table);
	if (n > 0)
		memcpy(buf, p, n);
	if (len != NULL)
		*len = n;
	return 0;
}

/* Text that fits buf (size bytes with its NUL) and holds no NUL of its own. */
static int col_text(const struct row *r, int col, char *buf, size_t size, bool empty_ok)
{
	const unsigned char *p;
	size_t n;
	int ret = col_type(r, col, SQLITE_TEXT);

	if (ret < 0)
		return ret;
	p = sqlite3_column_text(r->s, col);
	n = (size_t)sqlite3_column_bytes(r->s, col);
	if (p == NULL)
		return fail(r->st, -ENOMEM, "%s: out of memory", r->table);
	if (n >= size)
		return corrupt(r, col, "%zu bytes, at most %zu", n, size - 1);
	if (n == 0 && !empty_ok)
		return corrupt(r, col, "empty");
	if (memchr(p, '\0', n) != NULL)
		return corrupt(r, col, "holds a NUL byte");
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ open, close */

static int open_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int open_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return code;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
	return code;
}

/* A companion file (-wal, -shm) that exists must be as private as the database. */
static int check_companion(struct gstore *st, const char *path, const char *suffix)
{
	char name[4096];
	struct stat sb;

	if (snprintf(name, sizeof(name), "%s%s", path, suffix) >= (int)sizeof(name))
		return fail(st, -EINVAL, "path too long");
	if (lstat(name, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(st, -EIO, "%s: %s", suffix, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return fail(st, -EIO, "%s: not a regular file", suffix);
	if ((sb.st_mode & 077) != 0)
		return fail(st, -EIO, "%s: mode %04o, group and others must have no access"
			" (the database holds keys)", suffix, (unsigned int)(sb.st_mode & 07777));
	return 0;
}

/*
 * Create the file mode 0600 before SQLite opens it: SQLite would create it with the umask's
 * mode, and it gives -wal and -shm the mode of the database file. An existing file that others
 * can read is refused rather than fixed: its keys may have been copied already. The descriptor
 * is closed before SQLite opens the file: closing any descriptor of a file drops the process's
 * POSIX locks on it, SQLite's included.
 */
static int prepare_file(struct gstore *st, const char *path)
{
	struct stat sb;
	int fd, ret;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(st, errno == ENOMEM ? -ENOMEM : -EIO, "%s", strerror(errno));
	if (fstat(fd, &sb) < 0)
		ret = fail(st, -EIO, "%s", strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		ret = fail(st, -EIO, "not a regular file");
	else if ((sb.st_mode & 077) != 0)
		ret = fail(st, -EIO, "mode %04o, group and others must have no access"
			" (the database holds keys)", (unsigned int)(sb.st_mode & 07777));
	else
		ret = 0;
	close(fd);
	if (ret == 0)
		ret = check_companion(st, path, "-wal");
	if (ret == 0)
		ret = check_companion(st, path, "-shm");
	return ret;
}

/* Run a literal statement (no values in it); want (if not NULL) is the text its row must be. */
static int exec_check(struct gstore *st, const char *sql, const char *want)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *got;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, rc, sql, NULL);
	rc = sqlite3_step(s);
	if (want == NULL) {
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			ret = db_fail(st, rc, sql, NULL);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? fail(st, -EIO, "%s: no result", sql) :
			db_fail(st, rc, sql, NULL);
		goto out;
	}
	got = sqlite3_column_text(s, 0);
	if (got == NULL || strcmp((const char *)got, want) != 0)
		ret = fail(st, -EIO, "%s: got '%s', expected '%s'", sql,
			got != NULL ? (const char *)got : "NULL", want);
out:
	rc = sqlite3_finalize(s);
	if (ret == 0 && rc != SQLITE_OK)
		ret = db_fail(st, rc, sql, NULL);
	return ret;
}

/* How many tables named `meta` or, with `other`, how many objects of any other name. */
static int count_tables(struct gstore *st, bool other, int64_t *n)
{
	static const char *const sql[2] = {
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
		"SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
	};
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(st->db, sql[other], -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, rc, "read the schema", NULL);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		ret = db_fail(st, rc, "read the schema", NULL);
	rc = sqlite3_finalize(s);
	if (ret == 0 && rc != SQLITE_OK)
		ret = db_fail(st, rc, "read the schema", NULL);
	return ret;
}

static int read_version(struct gstore *st, int64_t *version)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE name = 'schema_version'",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(st, rc, "read the schema version", NULL);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		ret = fail(st, -EIO, "no schema version in table meta");
	else if (rc != SQLITE_ROW)
		ret = db_fail(st, rc, "read the schema version", NULL);
	else if (sqlite3_column_type(s, 0) != SQLITE_INTEGER)
		ret = fail(st, -EIO, "schema version is not an integer");
	else
		*version = sqlite3_column_int64(s, 0);
	rc = sqlite3_finalize(s);
	if (ret == 0 && rc != SQLITE_OK)
		ret = db_fail(st, rc, "read the schema version", NULL);
	return ret;
}

/* Create the schema in an empty database, or check the version of an existing one. */
static int setup_schema(struct gstore *st)
{
	int64_t n = 0, version = 0;
	char *msg = NULL;
	int rc, ret;

	ret = exec_check(st, "BEGIN IMMEDIATE", NULL);
	if (ret < 0)
		return ret;
	ret = count_tables(st, false, &n);
	if (ret < 0)
		goto rollback;
	if (n > 0) {
		ret = read_version(st, &version);
		if (ret == 0 && version != SCHEMA_VERSION)
			ret = fail(st, -EIO, "database schema version %" PRId64 ", this build reads"
				" version %d only", version, SCHEMA_VERSION);
		if (ret < 0)
			goto rollback;
		return exec_check(st, "COMMIT", NULL);
	}
	ret = count_tables(st, true, &n);
	if (ret < 0)
		goto rollback;
	if (n > 0) {
		ret = fail(st, -EIO, "not a key server database (tables, but no table meta)");
		goto rollback;
	}
	rc = sqlite3_exec(st->db, schema, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ret = fail(st, rc == SQLITE_NOMEM ? -ENOMEM : -EIO, "create the schema: %s",
			msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto rollback;
	}
	/* the version is a constant of this file, not a value from outside */
	ret = exec_check(st, "INSERT INTO meta(name, value) VALUES('schema_version', "
		XSTR(SCHEMA_VERSION) ")", NULL);
	if (ret < 0)
		goto rollback;
	return exec_check(st, "COMMIT", NULL);

rollback:
	/* keep the first error: the rollback's own failure says less */
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int gstore_open(const char *path, struct gstore **out, char *err, size_t errlen)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
		SQLITE_OPEN_NOFOLLOW;
	struct gstore *st = NULL;
	bool memory;
	int rc, ret;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || path[0] == '\0' || out == NULL)
		return open_fail(err, errlen, -EINVAL, "gstore_open: no path or no result pointer");
	if (sqlite3_libversion_number() < SQLITE_MIN)
		return open_fail(err, errlen, -EIO, "%s: SQLite %s is too old (3.37 needed)", path,
			sqlite3_libversion());
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return open_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	memory = strcmp(path, MEMORY_PATH) == 0;
	if (!memory) {
		ret = prepare_file(st, path);
		if (ret < 0)
			goto fail;
	}
	rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		ret = st->db == NULL ? fail(st, -ENOMEM, "out of memory") :
			db_fail(st, rc, "open", NULL);
		goto fail;
	}
	rc = sqlite3_extended_result_codes(st->db, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* the schema cannot be changed behind SQLite's back, and it runs no functions of ours */
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (rc != SQLITE_OK) {
		ret = db_fail(st, rc, "configure", NULL);
		goto fail;
	}
	/* SQLite falls back to read-only when it cannot write the file; say so here rather than
	 * at the first write */
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		ret = fail(st, -EIO, "opened read-only (no write permission)");
		goto fail;
	}
	/* journal_mode says what it became: a file system without shared memory stays "delete" */
	ret = exec_check(st, "PRAGMA journal_mode=WAL", memory ? "memory" : "wal");
	if (ret == 0)
		ret = exec_check(st, "PRAGMA synchronous=FULL", NULL);
	if (ret == 0)
		ret = exec_check(st, "PRAGMA synchronous", "2");
	if (ret == 0)
		ret = exec_check(st, "PRAGMA foreign_keys=ON", NULL);
	if (ret == 0)
		ret = exec_check(st, "PRAGMA foreign_keys", "1");
	if (ret == 0)
		ret = exec_check(st, "PRAGMA secure_delete=ON", "1");
	if (ret == 0)
		ret = setup_schema(st);
	if (ret < 0)
		goto fail;
	for (int i = 0; i < S_NB; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			&st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			ret = db_fail(st, rc, "prepare", NULL);
			goto fail;
		}
	}
	st->err[0] = '\0';
	*out = st;
	return 0;

fail:
	open_fail(err, errlen, ret, "%s: %s", path, st->err);
	gstore_close(st);
	return ret;
}

void gstore_close(struct gstore *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < S_NB; i++)
		sqlite3_finalize(st->stmt[i]);
	/* every statement is finalized, so close cannot be busy; in WAL mode the last connection
	 * checkpoints and removes -wal and -shm */
	sqlite3_close(st->db);
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

const char *gstore_errmsg(const struct gstore *st)
{
	return st != NULL ? st->err : "no store";
}

/* ------------------------------------------------------------------ transactions */

int gstore_begin(struct gstore *st)
{
	sqlite3_stmt *s;
	int ret;

	if (st == NULL)
		return -EINVAL;
	if (!sqlite3_get_autocommit(st->db))
		return fail(st, -EINVAL, "begin: a transaction is open already");
	ret = stmt_get(st, S_BEGIN, &s);
	if (ret < 0)
		return ret;
	return run(st, S_BEGIN, s, SQLITE_OK, "begin", NULL, NULL);
}

int gstore_commit(struct gstore *st)
{
	sqlite3_stmt *s;
	int ret;

	if (st == NULL)
		return -EINVAL;
	if (sqlite3_get_autocommit(st->db))
		return fail(st, -EINVAL, "commit: no transaction is open");
	ret = stmt_get(st, S_COMMIT, &s);
	if (ret == 0)
		ret = run(st, S_COMMIT, s, SQLITE_OK, "commit", NULL, NULL);
	/* a COMMIT that fails with BUSY leaves the transaction open: end it, so that the caller
	 * knows where it stands (nothing kept) and its next write is not part of it */
	if (ret < 0)
		gstore_rollback(st);
	return ret;
}

void gstore_rollback(struct gstore *st)
{
	sqlite3_stmt *s;

	if (st == NULL || sqlite3_get_autocommit(st->db))
		return;
	if (stmt_get(st, S_ROLLBACK, &s) < 0)
		return;
	/* ROLLBACK fails only while a write statement is stepping, which never outlives a call */
	(void)run(st, S_ROLLBACK, s, SQLITE_OK, "rollback", NULL, NULL);
}

/* ------------------------------------------------------------------ listings */

union record {
	struct gstore_group g;
	struct gstore_member m;
	struct gstore_node n;
	struct gstore_tek t;
	struct gstore_sid s;
	struct gstore_rekey r;
};

union callback {
	int (*group)(void *arg, const char *name);
	int (*member)(void *arg, const struct gstore_member *m);
	int (*node)(void *arg, const struct gstore_node *n);
	int (*tek)(void *arg, const struct gstore_tek *t);
	int (*sid)(void *arg, const struct gstore_sid *s);
	int (*rekey)(void *arg, const struct gstore_rekey *r);
};

/* Decode the current row into rec (zeroed) and, when it fits, call cb. */
typedef int (*visit_fn)(const struct row *r, union record *rec, union callback cb, void *arg);

/*
 * Step through a listing, one callback per row. The record lives on this stack frame and is
 * wiped after every row and on every way out, whatever the row held.
 */
static int each(struct gstore *st, enum stmt_id id, const char *table, const char *group,
	int64_t limit, visit_fn visit, union callback cb, void *arg)
{
	struct row r = { .st = st, .table = table, .group = group };
	union record rec;
	int rc = SQLITE_OK, ret;

	ret = stmt_get(st, id, &r.s);
	if (ret < 0)
		return ret;
	if (group != NULL)
		bind_text(r.s, 1, group, &rc);
	if (limit >= 0)
		bind_int(r.s, 2, limit, &rc);
	if (rc != SQLITE_OK) {
		ret = db_fail(st, rc, table, group);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(r.s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			ret = db_fail(st, rc, table, group);
			break;
		}
		memset(&rec, 0, sizeof(rec));
		ret = visit(&r, &rec, cb, arg);
		OPENSSL_cleanse(&rec, sizeof(rec));
		if (ret != 0)
			break;
	}
out:
	stmt_put(st, id, r.s);
	return ret;
}

static int visit_group(const struct row *r, union record *rec, union callback cb, void *arg)
{
	int ret = col_text(r, 0, rec->g.name, sizeof(rec->g.name), false);

	if (ret < 0)
		return ret;
	return cb.group(arg, rec->g.name);
}

static int visit_member(const struct row *r, union record *rec, union callback cb, void *arg)
{
	struct gstore_member *m = &rec->m;
	uint8_t sids[2 * GSTORE_MAX_SIDS];
	size_t len;
	int ret;

	ret = col_text(r, 0, m->subject, sizeof(m->subject), false);
	if (ret == 0)
		ret = col_u32(r, 1, &m->member_id);
	if (ret == 0)
		ret = col_u8(r, 2, &m->role);
	if (ret == 0)
		ret = col_u8(r, 3, &m->state);
	if (ret == 0)
		ret = col_blob(r, 4, sids, 0, sizeof(sids), &len);
	if (ret == 0 && len % 2 != 0)
		ret = corrupt(r, 4, "%zu bytes, expected an even number", len);
	if (ret == 0) {
		m->nb_sids = (uint16_t)(len / 2);
		for (unsigned int i = 0; i < m->nb_sids; i++)
			m->sids[i] = (uint16_t)(sids[2 * i] << 8 | sids[2 * i + 1]);
		ret = col_blob(r, 5, &m->addr, 0, sizeof(m->addr), &len);
	}
	if (ret == 0) {
		m->addr_len = (uint32_t)len;
		ret = col_i64(r, 6, &m->joined);
	}
	if (ret == 0)
		ret = col_i64(r, 7, &m->acked);
	if (ret == 0)
		ret = col_blob(r, 8, m->cert_sha256, sizeof(m->cert_sha256),
			sizeof(m->cert_sha256), NULL);
	if (ret < 0)
		return ret;
	return cb.member(arg, m);
}

static int visit_node(const struct row *r, union record *rec, union callback cb, void *arg)
{
	struct gstore_node *n = &rec->n;
	size_t len;
	int ret;

	ret = col_u32(r, 0, &n->id);
	if (ret == 0)
		ret = col_u32(r, 1, &n->handle);
	if (ret == 0)
		ret = col_blob(r, 2, n->key, 0, sizeof(n->key), &len);
	if (ret == 0 && len != 0 && len != sizeof(n->key))
		ret = corrupt(r, 2, "%zu bytes, expected 0 or %zu", len, sizeof(n->key));
	if (ret < 0)
		return ret;
	n->has_key = len != 0;
	return cb.node(arg, n);
}

static int visit_tek(const struct row *r, union record *rec, union callback cb, void *arg)
{
	struct gstore_tek *t = &rec->t;
	size_t len;
	int ret;

	ret = col_u32(r, 0, &t->index);
	if (ret == 0)
		ret = col_u32(r, 1, &t->epoch);
	if (ret == 0)
		ret = col_u32(r, 2, &t->spi);
	if (ret == 0)
		ret = col_u16(r, 3, &t->key_type);
	if (ret == 0)
		ret = col_blob(r, 4, t->key, 0, sizeof(t->key), &len);
	if (ret == 0) {
		t->key_len = (uint8_t)len;
		ret = col_i64(r, 5, &t->created);
	}
	if (ret == 0)
		ret = col_i64(r, 6, &t->expires);
	if (ret == 0)
		ret = col_i64(r, 7, &t->retire_at);
	if (ret < 0)
		return ret;
	return cb.tek(arg, t);
}

static int visit_sid(const struct row *r, union record *rec, union callback cb, void *arg)
{
	struct gstore_sid *s = &rec->s;
	int ret;

	ret = col_u16(r, 0, &s->sid);
	if (ret == 0)
		ret = col_text(r, 1, s->subject, sizeof(s->subject), true);
	if (ret == 0)
		ret = col_u32(r, 2, &s->free_epoch);
	if (ret < 0)
		return ret;
	return cb.sid(arg, s);
}

static int visit_rekey(const struct row *r, union record *rec, union callback cb, void *arg)
{
	struct gstore_rekey *k = &rec->r;
	int64_t bytes = 0;
	int ret;

	ret = col_i64(r, 0, &k->at);
	if (ret == 0)
		ret = col_u32(r, 1, &k->seq_first);
	if (ret == 0)
		ret = col_u32(r, 2, &k->seq_last);
	if (ret == 0)
		ret = col_u32(r, 3, &k->joins);
	if (ret == 0)
		ret = col_u32(r, 4, &k->leaves);
	if (ret == 0)
		ret = col_u32(r, 5, &k->evictions);
	if (ret == 0)
		ret = col_u32(r, 6, &k->wraps);
	if (ret == 0)
		ret = col_u32(r, 7, &k->messages);
	if (ret == 0)
		ret = col_i64(r, 8, &bytes);
	if (ret == 0) {
		k->bytes = (uint64_t)bytes;
		ret = col_text(r, 9, k->reason, sizeof(k->reason), true);
	}
	if (ret < 0)
		return ret;
	return cb.rekey(arg, k);
}

/* ------------------------------------------------------------------ groups */

int gstore_group_put(struct gstore *st, const struct gstore_group *g)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	if (st == NULL)
		return -EINVAL;
	if (g == NULL)
		return fail(st, -EINVAL, "group_put: no group");
	ret = enter(st, g->name);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_GROUP_PUT, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, g->name, &rc);
	bind_blob(s, 2, g->gid, sizeof(g->gid), &rc);
	bind_int(s, 3, g->seq_hwm, &rc);
	bind_int(s, 4, g->state, &rc);
	bind_int(s, 5, g->created, &rc);
	return run(st, S_GROUP_PUT, s, rc, "group_put", g->name, NULL);
}

int gstore_group_get(struct gstore *st, const char *name, struct gstore_group *out)
{
	struct row r = { .st = st, .table = "grp" };
	struct gstore_group g;
	int rc = SQLITE_OK, ret;

	if (st == NULL)
		return -EINVAL;
	if (out == NULL)
		return fail(st, -EINVAL, "group_get: no result pointer");
	ret = enter(st, name);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_GROUP_GET, &r.s);
	if (ret < 0)
		return ret;
	bind_text(r.s, 1, name, &rc);
	if (rc != SQLITE_OK) {
		ret = db_fail(st, rc, "group_get", name);
		goto out;
	}
	rc = sqlite3_step(r.s);
	if (rc == SQLITE_DONE) {
		ret = fail(st, -ENOENT, "group_get: no group '%s'", name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = db_fail(st, rc, "group_get", name);
		goto out;
	}
	/* the record is filled in a copy: *out changes only when the whole row fits */
	memset(&g, 0, sizeof(g));
	ret = col_text(&r, 0, g.name, sizeof(g.name), false);
	if (ret == 0)
		ret = col_blob(&r, 1, g.gid, sizeof(g.gid), sizeof(g.gid), NULL);
	if (ret == 0)
		ret = col_u32(&r, 2, &g.seq_hwm);
	if (ret == 0)
		ret = col_u32(&r, 3, &g.state);
	if (ret == 0)
		ret = col_i64(&r, 4, &g.created);
	if (ret == 0)
		*out = g;
out:
	stmt_put(st, S_GROUP_GET, r.s);
	return ret;
}

int gstore_group_del(struct gstore *st, const char *name)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, changes = 0, ret;

	ret = enter(st, name);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_GROUP_DEL, &s);
	if (ret < 0)
		return ret;
	/* ON DELETE CASCADE removes the group's other rows in this statement */
	bind_text(s, 1, name, &rc);
	ret = run(st, S_GROUP_DEL, s, rc, "group_del", name, &changes);
	if (ret == 0 && changes == 0)
		ret = fail(st, -ENOENT, "group_del: no group '%s'", name);
	return ret;
}

int gstore_groups(struct gstore *st, int (*cb)(void *arg, const char *name), void *arg)
{
	if (st == NULL)
		return -EINVAL;
	if (cb == NULL)
		return fail(st, -EINVAL, "groups: no callback");
	return each(st, S_GROUPS, "grp", NULL, -1, visit_group, (union callback){ .group = cb },
		arg);
}

/* ------------------------------------------------------------------ members */

int gstore_member_put(struct gstore *st, const char *group, const struct gstore_member *m)
{
	uint8_t sids[2 * GSTORE_MAX_SIDS];
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (m == NULL)
		return fail(st, -EINVAL, "member_put: no member");
	if (!str_ok(m->subject, sizeof(m->subject), false))
		return fail(st, -EINVAL, "member_put: subject empty or longer than %zu bytes",
			sizeof(m->subject) - 1);
	if (m->nb_sids > GSTORE_MAX_SIDS)
		return fail(st, -EINVAL, "member_put: %u SIDs, at most %d", m->nb_sids,
			GSTORE_MAX_SIDS);
	if (m->addr_len > sizeof(m->addr))
		return fail(st, -EINVAL, "member_put: address length %u, at most %zu", m->addr_len,
			sizeof(m->addr));
	/* network order: the file reads the same on any host */
	for (unsigned int i = 0; i < m->nb_sids; i++) {
		sids[2 * i] = (uint8_t)(m->sids[i] >> 8);
		sids[2 * i + 1] = (uint8_t)m->sids[i];
	}
	ret = stmt_get(st, S_MEMBER_PUT, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_text(s, 2, m->subject, &rc);
	bind_int(s, 3, m->member_id, &rc);
	bind_int(s, 4, m->role, &rc);
	bind_int(s, 5, m->state, &rc);
	bind_blob(s, 6, sids, 2u * m->nb_sids, &rc);
	bind_blob(s, 7, &m->addr, m->addr_len, &rc);
	bind_int(s, 8, m->joined, &rc);
	bind_int(s, 9, m->acked, &rc);
	bind_blob(s, 10, m->cert_sha256, sizeof(m->cert_sha256), &rc);
	return run(st, S_MEMBER_PUT, s, rc, "member_put", group, NULL);
}

int gstore_member_del(struct gstore *st, const char *group, const char *subject)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, changes = 0, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (!str_ok(subject, GSTORE_SUBJECT_MAX, false))
		return fail(st, -EINVAL, "member_del: subject missing, empty or over %d bytes",
			GSTORE_SUBJECT_MAX - 1);
	ret = stmt_get(st, S_MEMBER_DEL, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_text(s, 2, subject, &rc);
	ret = run(st, S_MEMBER_DEL, s, rc, "member_del", group, &changes);
	if (ret == 0 && changes == 0)
		ret = fail(st, -ENOENT, "member_del: no such member in group '%s'", group);
	return ret;
}

int gstore_members(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_member *m), void *arg)
{
	int ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (cb == NULL)
		return fail(st, -EINVAL, "members: no callback");
	return each(st, S_MEMBERS, "member", group, -1, visit_member,
		(union callback){ .member = cb }, arg);
}

/* ------------------------------------------------------------------ LKH nodes */

int gstore_node_put(struct gstore *st, const char *group, const struct gstore_node *n)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (n == NULL)
		return fail(st, -EINVAL, "node_put: no node");
	ret = stmt_get(st, S_NODE_PUT, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, n->id, &rc);
	bind_int(s, 3, n->handle, &rc);
	/* an empty node keeps its handle and an empty blob */
	bind_blob(s, 4, n->key, n->has_key ? sizeof(n->key) : 0, &rc);
	return run(st, S_NODE_PUT, s, rc, "node_put", group, NULL);
}

int gstore_node_del(struct gstore *st, const char *group, uint32_t id)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, changes = 0, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_NODE_DEL, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, id, &rc);
	ret = run(st, S_NODE_DEL, s, rc, "node_del", group, &changes);
	if (ret == 0 && changes == 0)
		ret = fail(st, -ENOENT, "node_del: no node %u in group '%s'", id, group);
	return ret;
}

int gstore_nodes(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_node *n), void *arg)
{
	int ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (cb == NULL)
		return fail(st, -EINVAL, "nodes: no callback");
	return each(st, S_NODES, "lkh_node", group, -1, visit_node,
		(union callback){ .node = cb }, arg);
}

/* ------------------------------------------------------------------ traffic keys */

int gstore_tek_put(struct gstore *st, const char *group, const struct gstore_tek *t)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (t == NULL)
		return fail(st, -EINVAL, "tek_put: no traffic key");
	if (t->key_len > sizeof(t->key))
		return fail(st, -EINVAL, "tek_put: key length %u, at most %zu", t->key_len,
			sizeof(t->key));
	ret = stmt_get(st, S_TEK_PUT, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, t->index, &rc);
	bind_int(s, 3, t->epoch, &rc);
	bind_int(s, 4, t->spi, &rc);
	bind_int(s, 5, t->key_type, &rc);
	bind_blob(s, 6, t->key, t->key_len, &rc);
	bind_int(s, 7, t->created, &rc);
	bind_int(s, 8, t->expires, &rc);
	bind_int(s, 9, t->retire_at, &rc);
	return run(st, S_TEK_PUT, s, rc, "tek_put", group, NULL);
}

int gstore_tek_del(struct gstore *st, const char *group, uint32_t index, uint32_t epoch)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, changes = 0, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_TEK_DEL, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, index, &rc);
	bind_int(s, 3, epoch, &rc);
	ret = run(st, S_TEK_DEL, s, rc, "tek_del", group, &changes);
	if (ret == 0 && changes == 0)
		ret = fail(st, -ENOENT, "tek_del: no epoch %u of data SA %u in group '%s'", epoch,
			index, group);
	return ret;
}

int gstore_teks(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_tek *t), void *arg)
{
	int ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (cb == NULL)
		return fail(st, -EINVAL, "teks: no callback");
	return each(st, S_TEKS, "tek", group, -1, visit_tek, (union callback){ .tek = cb }, arg);
}

/* ------------------------------------------------------------------ sender IDs */

int gstore_sid_put(struct gstore *st, const char *group, const struct gstore_sid *sd)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (sd == NULL)
		return fail(st, -EINVAL, "sid_put: no SID");
	if (!str_ok(sd->subject, sizeof(sd->subject), true))
		return fail(st, -EINVAL, "sid_put: subject longer than %zu bytes",
			sizeof(sd->subject) - 1);
	ret = stmt_get(st, S_SID_PUT, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, sd->sid, &rc);
	bind_text(s, 3, sd->subject, &rc);
	bind_int(s, 4, sd->free_epoch, &rc);
	return run(st, S_SID_PUT, s, rc, "sid_put", group, NULL);
}

int gstore_sids(struct gstore *st, const char *group,
		int (*cb)(void *arg, const struct gstore_sid *s), void *arg)
{
	int ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (cb == NULL)
		return fail(st, -EINVAL, "sids: no callback");
	return each(st, S_SIDS, "sid", group, -1, visit_sid, (union callback){ .sid = cb }, arg);
}

/* ------------------------------------------------------------------ SPIs */

int gstore_spi_add(struct gstore *st, const char *group, uint32_t spi)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_SPI_ADD, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, spi, &rc);
	/* a plain INSERT: the primary key turns a second use into -EEXIST */
	return run(st, S_SPI_ADD, s, rc, "spi_add", group, NULL);
}

int gstore_spi_used(struct gstore *st, const char *group, uint32_t spi)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	ret = stmt_get(st, S_SPI_USED, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, spi, &rc);
	if (rc != SQLITE_OK) {
		ret = db_fail(st, rc, "spi_used", group);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		ret = db_fail(st, rc, "spi_used", group);
out:
	stmt_put(st, S_SPI_USED, s);
	return ret;
}

/* ------------------------------------------------------------------ rekey history */

int gstore_rekey_add(struct gstore *st, const char *group, const struct gstore_rekey *k)
{
	sqlite3_stmt *s;
	int rc = SQLITE_OK, ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (k == NULL)
		return fail(st, -EINVAL, "rekey_add: no entry");
	if (!str_ok(k->reason, sizeof(k->reason), true))
		return fail(st, -EINVAL, "rekey_add: reason longer than %zu bytes",
			sizeof(k->reason) - 1);
	ret = stmt_get(st, S_REKEY_ADD, &s);
	if (ret < 0)
		return ret;
	bind_text(s, 1, group, &rc);
	bind_int(s, 2, k->at, &rc);
	bind_int(s, 3, k->seq_first, &rc);
	bind_int(s, 4, k->seq_last, &rc);
	bind_int(s, 5, k->joins, &rc);
	bind_int(s, 6, k->leaves, &rc);
	bind_int(s, 7, k->evictions, &rc);
	bind_int(s, 8, k->wraps, &rc);
	bind_int(s, 9, k->messages, &rc);
	/* two's complement: visit_rekey() turns it back */
	bind_int(s, 10, (int64_t)k->bytes, &rc);
	bind_text(s, 11, k->reason, &rc);
	return run(st, S_REKEY_ADD, s, rc, "rekey_add", group, NULL);
}

int gstore_rekeys(struct gstore *st, const char *group, unsigned int limit,
		int (*cb)(void *arg, const struct gstore_rekey *r), void *arg)
{
	int ret;

	ret = enter(st, group);
	if (ret < 0)
		return ret;
	if (cb == NULL)
		return fail(st, -EINVAL, "rekeys: no callback");
	return each(st, S_REKEYS, "rekey", group, limit, visit_rekey,
		(union callback){ .rekey = cb }, arg);
}
