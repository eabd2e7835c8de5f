// The search's copy of each inquiry's keys: status, creation and update times, template and
// creator, by rowid. A search reads them for every match (to cut its page and count it per
// status); read from the table, each costs a b-tree lookup of its own (a few microseconds, so
// most of a narrow search's time and all of a broad one's counts). The copy is read whole once
// (KeepSearchKeys) and kept current from the change log that migration 017's triggers write:
// before a search uses it, it reads the inquiries logged since it last looked. Until it is
// loaded, and for the filters it does not cover (a bulk job, the expiry window), searches read
// the table as before.

package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
)

type keyRow struct {
	created, updated int64
	creator          int32
	template         uint16
	status           uint8 // 0: no such inquiry
}

type searchKeys struct {
	catch  sync.Mutex    // one load or catch-up at a time
	reload chan struct{} // a catch-up found a gap: KeepSearchKeys reads the copy whole again

	mu        sync.RWMutex
	ready     bool
	seq       int64        // the last change applied
	texts     []textChange // the last changes to an inquiry's searched text, oldest first
	textsFrom int64        // changes to text after this one are all in texts
	rows      []keyRow     // by rowid
	statuses  []string     // interned, [0] unused
	templates []string
	statusIx  map[string]uint8
	tmplIx    map[string]uint16
}

// keyLogKeep is how many changes the log keeps (migration 017); keyCatchMax is how many a
// catch-up reads at a time.
const (
	keyLogKeep  = 100000
	keyCatchMax = 20000
)

// KeepSearchKeys reads every inquiry's keys into memory, for searches to use from then on, and
// reads them whole again whenever a search finds the change log pruned past what the copy had
// read, until ctx ends. The console runs it in the background from the start (a million
// inquiries take a second or two). A load that fails is passed to warn, and searches read the
// table from then on (nothing asks again while the copy is unused).
func (l *Lister) KeepSearchKeys(ctx context.Context, warn func(error)) {
	for {
		if err := l.LoadSearchKeys(ctx); err != nil && ctx.Err() == nil {
			warn(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-l.keys.reload:
		}
	}
}

// LoadSearchKeys reads every inquiry's keys into memory once (KeepSearchKeys keeps them).
func (l *Lister) LoadSearchKeys(ctx context.Context) error {
	k := l.keys
	k.catch.Lock()
	defer k.catch.Unlock()
	return k.load(ctx, l.d)
}

// load reads the table and the log's position in one snapshot; call with catch held.
func (k *searchKeys) load(ctx context.Context, d *DB) error {
	tx, err := d.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("db: load search keys: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(max(seq), 0) FROM inquiry_key_changes").Scan(&seq); err != nil {
		return fmt.Errorf("db: load search keys: %w", err)
	}
	var n, top int64 // inquiries, and the largest rowid
	if err := tx.QueryRowContext(ctx, "SELECT count(*), COALESCE(max(rowid), 0) FROM inquiries").Scan(&n, &top); err != nil {
		return fmt.Errorf("db: load search keys: %w", err)
	}
	unusable := func(why string) error {
		k.mu.Lock()
		k.ready = false
		k.mu.Unlock()
		return fmt.Errorf("db: load search keys: %s; searches read them from the table", why)
	}
	// The copy is a slice by rowid: rowids far sparser than the rows would waste it.
	if top > 4*n+1<<20 {
		return unusable(fmt.Sprintf("%d inquiries with rowids up to %d", n, top))
	}
	rows, err := tx.QueryContext(ctx, "SELECT rowid, status, created_at, updated_at, template_id, COALESCE(created_by, 0) FROM inquiries")
	if err != nil {
		return fmt.Errorf("db: load search keys: %w", err)
	}
	defer rows.Close()
	next := &searchKeys{rows: make([]keyRow, top+1), statuses: []string{""}, templates: []string{""},
		statusIx: map[string]uint8{}, tmplIx: map[string]uint16{}}
	for rows.Next() {
		var r int64
		var v keyFields
		if err := rows.Scan(&r, &v.status, &v.created, &v.updated, &v.template, &v.creator); err != nil {
			return fmt.Errorf("db: load search keys: %w", err)
		}
		if r > top || !next.set(r, v) {
			return unusable(fmt.Sprintf("inquiry %d has keys the copy cannot hold (a creator id over 32 bits, or over 255 statuses or 65,535 templates)", r))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: load search keys: %w", err)
	}
	k.mu.Lock()
	k.ready, k.seq, k.texts, k.textsFrom, k.rows = true, seq, nil, seq, next.rows
	k.statuses, k.templates, k.statusIx, k.tmplIx = next.statuses, next.templates, next.statusIx, next.tmplIx
	k.mu.Unlock()
	return nil
}

type textChange struct{ seq, r int64 }

// keyTexts is how many text changes the copy remembers.
const keyTexts = 4096

type keyFields struct {
	status, template string
	created, updated int64
	creator          int64
}

// set stores one inquiry's keys; call with mu held (or on a copy no one else sees). It reports
// false for what the copy cannot hold: a rowid far beyond the rows, a creator id beyond 32
// bits, more than 255 statuses or 65,535 templates.
func (k *searchKeys) set(r int64, v keyFields) bool {
	if r <= 0 || r > int64(len(k.rows))+1<<20 || v.creator < 0 || v.creator > math.MaxInt32 {
		return false
	}
	s, ok := intern(k.statusIx, &k.statuses, v.status, math.MaxUint8)
	if !ok {
		return false
	}
	t, ok := intern(k.tmplIx, &k.templates, v.template, math.MaxUint16)
	if !ok {
		return false
	}
	for int64(len(k.rows)) <= r {
		k.rows = append(k.rows, make([]keyRow, max(1024, len(k.rows)/4))...)
	}
	k.rows[r] = keyRow{created: v.created, updated: v.updated, creator: int32(v.creator), template: t, status: s}
	return true
}

// intern returns the number of s in list, adding it, or false when list already holds limit.
func intern[T uint8 | uint16](ix map[string]T, list *[]string, s string, limit int) (T, bool) {
	if n, ok := ix[s]; ok {
		return n, true
	}
	if len(*list) > limit {
		return 0, false
	}
	n := T(len(*list))
	*list = append(*list, s)
	ix[s] = n
	return n, true
}

// currentKeys brings the copy up to date with every change committed before it was called,
// and reports whether it may be used.
func (l *Lister) currentKeys(ctx context.Context) (bool, error) {
	k := l.keys
	k.mu.RLock()
	ready := k.ready
	k.mu.RUnlock()
	if !ready {
		return false, nil
	}
	k.catch.Lock()
	defer k.catch.Unlock()
	k.mu.RLock()
	ready = k.ready // a search before this one may have found a gap
	k.mu.RUnlock()
	if !ready {
		return false, nil
	}
	for {
		n, gap, err := l.catchUp(ctx)
		switch {
		case err != nil:
			return false, err
		case gap:
			// Changes were pruned before the copy read them: KeepSearchKeys reads it whole
			// again (once: searches see it not ready and read the table meanwhile).
			k.mu.Lock()
			k.ready = false
			k.mu.Unlock()
			select {
			case k.reload <- struct{}{}:
			default: // already asked
			}
			return false, nil
		case n < keyCatchMax:
			return true, nil
		}
	}
}

// catchUp applies the next keyCatchMax changes at most, reporting how many it read and whether
// the log had lost some before them; call with catch held.
func (l *Lister) catchUp(ctx context.Context) (n int, gap bool, err error) {
	k := l.keys
	k.mu.RLock()
	seq := k.seq
	k.mu.RUnlock()
	rows, err := l.query(ctx, "SELECT seq, r, text FROM inquiry_key_changes WHERE seq > ? ORDER BY seq LIMIT "+strconv.Itoa(keyCatchMax), seq)
	if err != nil {
		return 0, false, fmt.Errorf("db: search keys: %w", err)
	}
	var changed []int64
	var texts []textChange
	last := seq
	for rows.Next() {
		var s, r int64
		var text bool
		if err := rows.Scan(&s, &r, &text); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("db: search keys: %w", err)
		}
		gap = gap || s != last+1
		last = s
		if text {
			texts = append(texts, textChange{s, r})
		}
		changed = append(changed, r)
	}
	if err := rows.Close(); err != nil {
		return 0, false, fmt.Errorf("db: search keys: %w", err)
	}
	if len(changed) == 0 || gap {
		return len(changed), gap, nil
	}
	// The changed inquiries as they are now (read after their changes, so never older); one
	// not found was deleted.
	ids, _ := json.Marshal(changed)
	rows, err = l.query(ctx, "SELECT rowid, status, created_at, updated_at, template_id, COALESCE(created_by, 0) FROM inquiries WHERE rowid IN (SELECT value FROM json_each(?))", string(ids))
	if err != nil {
		return 0, false, fmt.Errorf("db: search keys: %w", err)
	}
	defer rows.Close()
	found := make(map[int64]keyFields, len(changed))
	for rows.Next() {
		var r int64
		var v keyFields
		if err := rows.Scan(&r, &v.status, &v.created, &v.updated, &v.template, &v.creator); err != nil {
			return 0, false, fmt.Errorf("db: search keys: %w", err)
		}
		found[r] = v
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("db: search keys: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range changed {
		v, ok := found[r]
		switch {
		case ok && !k.set(r, v):
			return 0, true, nil // a key the copy cannot hold: as if lost, it reloads (and says why)
		case !ok && r > 0 && r < int64(len(k.rows)):
			k.rows[r] = keyRow{}
		}
	}
	k.seq = last
	k.texts = append(k.texts, texts...)
	if drop := len(k.texts) - keyTexts; drop > 0 {
		k.textsFrom = k.texts[drop-1].seq
		k.texts = slices.Delete(k.texts, 0, drop)
	}
	return len(changed), false, nil
}

// keysCover reports whether the copy holds every key the filter's conditions other than the
// search need.
func (f *ListFilter) keysCover() bool {
	return f.Batch == 0 && f.ExpiringBefore.IsZero() && f.AssignedTo == 0 && f.Tag == ""
}

// matches returns the rows among rowids that pass the filter's conditions other than status
// and search; call after currentKeys.
func (k *searchKeys) matches(f *ListFilter, rowids []int64) []matchRow {
	k.mu.RLock()
	defer k.mu.RUnlock()
	tmpl, tmplKnown := k.tmplIx[f.TemplateID]
	if f.TemplateID != "" && !tmplKnown {
		return nil
	}
	from, to := f.CreatedFrom.UnixMilli(), f.CreatedTo.UnixMilli()
	out := make([]matchRow, 0, len(rowids))
	for _, r := range rowids {
		if r <= 0 || r >= int64(len(k.rows)) || k.rows[r].status == 0 {
			continue
		}
		row := k.rows[r]
		if f.TemplateID != "" && row.template != tmpl || f.CreatedBy != 0 && int64(row.creator) != f.CreatedBy ||
			!f.CreatedFrom.IsZero() && row.created < from || !f.CreatedTo.IsZero() && row.created >= to {
			continue
		}
		o := row.created
		if f.Sort == SortUpdated {
			o = row.updated
		}
		out = append(out, matchRow{rowid: r, o: o, status: k.statuses[row.status]})
	}
	return out
}

// seen returns the last change the copy has applied.
func (k *searchKeys) seen() int64 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.seq
}

// textSince returns the inquiries with a rowid up to upTo whose searched text changed after
// change seq, or false when the copy cannot tell (it forgets old changes); call after
// currentKeys.
func (k *searchKeys) textSince(seq, upTo int64) ([]int64, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.textsFrom > seq {
		return nil, false
	}
	var out []int64
	for _, c := range k.texts {
		if c.seq > seq && c.r <= upTo {
			out = append(out, c.r)
		}
	}
	return out, true
}
