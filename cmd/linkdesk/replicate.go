package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"
	_ "github.com/benbjohnson/litestream/file" // file:// replicas
	_ "github.com/benbjohnson/litestream/s3"   // s3:// replicas (?endpoint=… for S3-compatible servers)
)

// Continuous replication with Litestream: serve streams the database's WAL to a replica (a
// folder or an S3 bucket); `linkdesk restore` and `serve --restore-if-missing` bring it back.

type replicateConfig struct {
	to               string
	restoreIfMissing bool
}

func replicateFlags(fs *flag.FlagSet) *replicateConfig {
	r := &replicateConfig{}
	fs.StringVar(&r.to, "replicate-to", env("REPLICATE_TO", ""), "stream the database to a replica: file:///path or s3://bucket/path (add ?endpoint=http://host:9000&forcePathStyle=true for MinIO-style servers; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) [LINKDESK_REPLICATE_TO]")
	fs.BoolVar(&r.restoreIfMissing, "restore-if-missing", envBool("RESTORE_IF_MISSING", false), "when the database file is missing, restore it from --replicate-to before starting [LINKDESK_RESTORE_IF_MISSING]")
	return r
}

// prepare runs before the database opens. With a replica and no database file, serve never
// starts a new empty database beside a replica that holds one: it restores the replica's copy
// (--restore-if-missing) or refuses to start, in words.
func (r *replicateConfig) prepare(ctx context.Context, path string, log *slog.Logger) error {
	if r.to == "" {
		if r.restoreIfMissing {
			return errors.New("serve: --restore-if-missing needs --replicate-to, the replica to restore from")
		}
		return nil
	}
	if _, err := os.Stat(path); err == nil || !os.IsNotExist(err) {
		return err
	}
	has, err := replicaHasData(ctx, r.to)
	if err != nil {
		return fmt.Errorf("serve: the database file %s is missing and the replica %s cannot be read, so Linkdesk will not start an empty database beside it: %w", path, r.to, err)
	}
	if !has {
		log.Info("replication: new database; the replica is empty", "replica", r.to)
		return nil
	}
	if !r.restoreIfMissing {
		return fmt.Errorf("serve: the database file %s is missing but the replica %s holds a copy: start with --restore-if-missing (or run linkdesk restore) rather than starting empty", path, r.to)
	}
	if err := restoreFrom(ctx, r.to, path, time.Time{}); err != nil {
		return fmt.Errorf("serve: restore %s from %s: %w", path, r.to, err)
	}
	log.Info("replication: restored the missing database from the replica", "replica", r.to)
	return nil
}

// replicaHasData reports whether the replica holds any copy.
func replicaHasData(ctx context.Context, from string) (bool, error) {
	client, err := litestream.NewReplicaClientFromURL(from)
	if err != nil {
		return false, err
	}
	for level := litestream.SnapshotLevel; level >= 0; level-- {
		itr, err := client.LTXFiles(ctx, level, 0, false)
		if err != nil {
			return false, err
		}
		found := itr.Next()
		if err := itr.Close(); err != nil {
			return false, err
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// replica is a running replication.
type replica struct {
	to    string
	db    *litestream.DB
	store *litestream.Store
	state watchState // replicate_watch.go
}

// start streams path to the replica until stop.
func (r *replicateConfig) start(ctx context.Context, path string, log *slog.Logger) (*replica, error) {
	if r.to == "" {
		return nil, nil
	}
	client, err := litestream.NewReplicaClientFromURL(r.to)
	if err != nil {
		return nil, fmt.Errorf("serve: --replicate-to: %w", err)
	}
	ldb := litestream.NewDB(path)
	ldb.Replica = litestream.NewReplicaWithClient(ldb, client)
	store := litestream.NewStore([]*litestream.DB{ldb}, litestream.DefaultCompactionLevels)
	// Litestream's lines go to serve's log (NewStore gave the database the default logger).
	store.Logger = log.With("subsystem", "replication")
	ldb.SetLogger(store.Logger)
	if err := store.Open(ctx); err != nil {
		return nil, fmt.Errorf("serve: start replication to %s: %w", r.to, err)
	}
	log.Info("replication: streaming the database", "replica", r.to)
	return &replica{to: r.to, db: ldb, store: store}, nil
}

// stop syncs what is left and stops.
func (rp *replica) stop() error {
	if rp == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Ship the last writes first: Close alone skips a database Litestream has not polled yet.
	return errors.Join(rp.db.SyncAndWait(ctx), rp.store.Close(ctx))
}

// restoreFrom writes the replica's newest copy (or the one at at) to path.
func restoreFrom(ctx context.Context, from, path string, at time.Time) error {
	client, err := litestream.NewReplicaClientFromURL(from)
	if err != nil {
		return err
	}
	rp := litestream.NewReplicaWithClient(nil, client)
	opt := litestream.NewRestoreOptions()
	opt.OutputPath, opt.Timestamp = path, at
	opt.IntegrityCheck = litestream.IntegrityCheckFull
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return rp.Restore(ctx, opt)
}

func runRestore(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("restore", "Restore the database from a replica written by serve --replicate-to.")
	from := fs.String("from", "", "the replica: file:///path or s3://bucket/path[?endpoint=…]")
	to := fs.String("to", "", "the database file to write; must not exist")
	at := fs.String("at", "", "restore the database as it was at this time (RFC 3339, e.g. 2026-12-07T06:00:00Z); default the newest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("restore: --from and --to are required, e.g. linkdesk restore --from file:///backups/linkdesk --to /var/lib/linkdesk/linkdesk.db")
	}
	var t time.Time
	if *at != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("restore: --at %q is not a time like 2026-12-07T06:00:00Z", *at)
		}
	}
	if err := restoreFrom(ctx, *from, *to, t); err != nil {
		if errors.Is(err, litestream.ErrNoSnapshots) {
			return fmt.Errorf("restore: the replica %s holds no copy of a database", *from)
		}
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "Restored %s from %s.\n", *to, *from)
	return nil
}
