// Package db owns the SQLite file: opening it with the right pragmas, migrations, and every query
// the console runs. No other package writes SQL.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver, which the readers use
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned by single-row lookups that find nothing.
var ErrNotFound = errors.New("not found")

// DB holds one writer connection (SQLite allows one writer at a time; a single connection
// avoids SQLITE_BUSY between our own goroutines) and a pool of readers (WAL lets them run
// beside the writer).
type DB struct {
	W    *sql.DB
	R    *sql.DB
	Path string

	smu   sync.Mutex
	stmts map[string]*sql.Stmt // reads prepared once, by their text (see read)

	sessions *sessionCache // SessionUser's answers; nil on a DB not opened by OpenWith
	upsert   *sql.Stmt     // upsertInquirySQL on the writer (see upserting); nil likewise
}

// Options size the readers' memory. Each reader connection keeps its own page cache of up to
// CacheMiB (so at most readers × CacheMiB of heap, filled only as pages are read), and maps up
// to MmapMiB of the file into memory: mapped pages are the operating system's file cache,
// shared by every connection and evictable, and a read from them copies nothing. At a million
// inquiries the file is about 1 GiB.
type Options struct {
	CacheMiB int // page cache per reader connection
	MmapMiB  int // memory-mapped I/O; 0 turns it off
}

// DefaultOptions are what Open uses and serve's flags default to.
var DefaultOptions = Options{CacheMiB: 32, MmapMiB: 2048}

func dsn(path string, readOnly bool, o Options) string {
	// busy_timeout first, so the pragmas after it already wait instead of failing.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -o.CacheMiB*1024)) // negative: KiB
		q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", int64(o.MmapMiB)<<20))
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// openWriter opens the writer's pool through a driver of its own, so the pre-update hook is
// on this DB's writer alone.
func openWriter(dsn string, sessions *sessionCache) *sql.DB {
	drv := &sqlite.Driver{}
	drv.MustRegisterDeterministicScalarFunction("linkdesk_fold", 1, foldSQL)
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		h, ok := c.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("db: the sqlite driver's connection %T takes no hooks", c)
		}
		h.RegisterPreUpdateHook(sessions.changed)
		return nil
	})
	return sql.OpenDB(connector{drv, dsn})
}

// connector opens connections with drv, whose registrations are its own.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// Open opens (creating if needed) the database at path and applies pending migrations. The
// file, its WAL and shared-memory files are its owner's alone (0600): they hold password hashes,
// sessions and the cookie keys.
func Open(ctx context.Context, path string) (*DB, error) { return OpenWith(ctx, path, DefaultOptions) }

// OpenWith is Open with the readers' memory sized by o.
func OpenWith(ctx context.Context, path string, o Options) (*DB, error) {
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	sessions := &sessionCache{now: time.Now}
	w := openWriter(dsn(path, false, o), sessions)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	d := &DB{W: w, Path: path, sessions: sessions}
	if err := d.Migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	var err error
	if d.upsert, err = w.PrepareContext(ctx, upsertInquirySQL); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true, o))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open readers %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.R = r
	return d, nil
}

// ErrNoDatabase means the database file named does not exist.
var ErrNoDatabase = errors.New("no database")

// OpenExisting opens the database at path like Open, but refuses to create one: a mistyped
// --db must not become an empty database that a command reports success on.
func OpenExisting(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: check --db (only serve and migrate create one)", ErrNoDatabase, path)
	}
	return Open(ctx, path)
}

// ownerOnly creates the database file 0600 if it is missing (SQLite gives its WAL and
// shared-memory files the database file's mode) and takes group and other access away from
// one created before with more.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("db: create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 == 0 || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("db: make %s its owner's alone: %w", p, err)
		}
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	d.smu.Lock()
	var errs []error
	for _, st := range d.stmts {
		errs = append(errs, st.Close())
	}
	d.smu.Unlock()
	if d.upsert != nil {
		errs = append(errs, d.upsert.Close())
	}
	return errors.Join(append(errs, d.R.Close(), d.W.Close())...)
}

// maxStmts bounds the prepared statements kept: the list's SQL depends only on which filters
// are set, so a few hundred shapes cover real use; beyond that queries are prepared each time.
const maxStmts = 512

// read runs a query on the readers through a statement prepared once for its text: SQLite's
// parsing and planning are a good part of a small query's cost, and the session lookup every
// page makes cost more to parse than to run.
func (d *DB) read(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.smu.Lock()
	st := d.stmts[query]
	d.smu.Unlock()
	if st == nil {
		var err error
		if st, err = d.R.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		d.smu.Lock()
		if prev := d.stmts[query]; prev != nil {
			st.Close()
			st = prev
		} else if len(d.stmts) < maxStmts {
			if d.stmts == nil {
				d.stmts = map[string]*sql.Stmt{}
			}
			d.stmts[query] = st
		} else {
			defer st.Close() // the rows keep their own reference until they are read
		}
		d.smu.Unlock()
	}
	return st.QueryContext(ctx, args...)
}

// scanner is a row to scan: *sql.Rows or *sql.Row.
type scanner interface{ Scan(...any) error }

// readRow is read for a query of one row: sql.ErrNoRows when there is none.
func (d *DB) readRow(ctx context.Context, dest []any, query string, args ...any) error {
	found := false
	err := d.eachRow(ctx, func(r scanner) error { found = true; return r.Scan(dest...) }, query, args...)
	if err == nil && !found {
		return sql.ErrNoRows
	}
	return err
}

// readAll is read for every row, each through scan.
func readAll[T any](ctx context.Context, d *DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := d.eachRow(ctx, func(r scanner) error {
		v, err := scan(r)
		out = append(out, v)
		return err
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachRow is read with fn called on every row, until it returns an error.
func (d *DB) eachRow(ctx context.Context, fn func(scanner) error, query string, args ...any) error {
	rows, err := d.read(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Ping checks that the database answers (for /healthz).
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.R.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations newer than PRAGMA user_version, each in its own
// transaction, in file-name order.
func (d *DB) Migrate(ctx context.Context) error { return d.migrate(ctx, math.MaxInt) }

// migrate applies the pending migrations numbered up to upTo (tests build old schemas with it).
func (d *DB) migrate(ctx context.Context, upTo int) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("db: list migrations: %w", err)
	}
	sort.Strings(names)
	var current int
	if err := d.W.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("db: migration %s: name must start with a number", base)
		}
		if v <= current || v > upTo {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("db: read migration %s: %w", base, err)
		}
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
			return err
		})
		if err != nil {
			return fmt.Errorf("db: apply migration %s: %w", base, err)
		}
		current = v
	}
	return nil
}

// Tx runs fn in a write transaction, committing if fn returns nil.
func (d *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Deferred so a panic in fn cannot leave the one writer connection inside a transaction.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Backup writes a consistent copy of the database to path with VACUUM INTO: a new file, its
// owner's alone (0600), without the cookie keys or the sessions, so a copy cannot sign anyone
// in (a console restored from it makes new keys, and everyone signs in again).
func (d *DB) Backup(ctx context.Context, path string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // VACUUM INTO fills an empty file
	if err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := d.W.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	// secure_delete overwrites what is deleted, so the keys are not left in free pages.
	q := url.Values{}
	q.Add("_pragma", "journal_mode(DELETE)")
	q.Add("_pragma", "secure_delete(1)")
	c, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `DELETE FROM settings WHERE key = 'session_keys'; DELETE FROM sessions;`); err != nil {
		return fmt.Errorf("db: backup to %s: drop the cookie keys: %w", path, err)
	}
	return c.Close()
}

// Now is the time unit the schema uses: unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }

// ms converts a time to the schema's unit; the zero time becomes NULL.
func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMS converts a nullable column back; NULL becomes the zero time.
func fromMS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64)
}
