// Package seed fills a cache with synthetic inquiries for benchmarks and scale tests. Only tests
// import it, so it is not part of the console's binary. It writes SQL of its own (the one
// exception to db owning every statement) and so imports nothing of ours: db's own tests use it.
package seed

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Options shape a synthetic cache.
type Options struct {
	N     int       // inquiries
	Now   time.Time // the newest inquiry is created just before this; zero: time.Now()
	Span  time.Duration
	Users int // staff accounts that created inquiries (some are created outside the console)
	Seed  uint64
}

// Template is an inquiry template the seeded inquiries use.
type Template struct{ ID, Name string }

// Templates are the templates Inquiries spreads inquiries over, most used first.
var Templates = []Template{
	{ID: "itmpl_seedKYC000000000000000001", Name: "KYC"},
	{ID: "itmpl_seedKYCReview00000000002", Name: "KYC with manual review"},
	{ID: "itmpl_seedAddress0000000000003", Name: "Proof of address"},
	{ID: "itmpl_seedBusiness000000000004", Name: "Business owner"},
	{ID: "itmpl_seedAge00000000000000005", Name: "Age check"},
}

var (
	seedFirst = strings.Fields(`Ada Alan Alice Amara Ana Andre Andrés Anna Arjun Ava Ben Bea Björn Boris Carla Carlos Chen
		Chloé Dan Daria David Diego Elena Eli Emma Erik Eva Fatima Felix Finn François Grace Hana Hélène Hugo Ian
		Inês Ivan Jack Jan Jana João John Jonas José Julia Jürgen Kai Karim Kate Kenji Lara Léa Leo Lina Liam
		Lucas Luis María Maya Mia Marco Maria Mark Marta Max Mei Mila Nadia Nina Noah Noémie Nora Olga Omar
		Oscar Paul Pedro Priya Rafael Ramón Renée Rosa Sam Sara Sofía Tariq Theo Tom Uma Victor Wei Yara Yusuf
		Zoë`)
	seedLast = strings.Fields(`Adams Ahmed Álvarez Andersen Baker Becker Brown Campbell Çelik Chen Clark Costa Côté Cruz
		Davis Díaz Dubois Evans Fernández Fischer García Gómez González Green Hall Hansen Hernández Hill Hoffmann
		Ito Jansen Jiménez Johnson Jones Kim Klein Kowalski Lee Lefèvre Lewis López Martin Martínez Meyer Miller
		Moore Moreau Müller Nguyen Novak Núñez Okafor Olsen Öztürk Park Patel Peña Pérez Petrov Rossi Russo
		Sánchez Santos Schmidt Schröder Silva Singh Smith Suzuki Tanaka Taylor Thomas Torres Walker Wang White
		Williams Wilson Wong Wright Young Zhang`)
	// One person in 200 has one of these, so each names a few hundred of a million.
	seedRareLast = strings.Fields(`Abernathy Castañeda Ibáñez Oyelaran Quispe Thorvaldsen Villanueva Yamaguchi`)
	// Mailbox providers and a few companies' own domains, most used first.
	seedDomains = []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com", "proton.me",
		"acme.example", "globex.example", "initech.example", "umbrella.example", "example.org"}
	seedDomainWeights = []int{35, 15, 10, 8, 7, 3, 2, 2, 1, 1, 16}
	// Email addresses are written without accents.
	unaccent = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "à", "a", "è", "e", "ê", "e",
		"ë", "e", "ç", "c", "ñ", "n", "ö", "o", "ü", "u", "ã", "a", "ô", "o", "Á", "A", "Ç", "C", "Ö", "O")
)

// Inquiries fills the cache w (a migrated database's writer) with o.N synthetic inquiries
// spread over o.Span, with a realistic mix: old ones mostly decided or expired, the last day's
// still open. It writes in one transaction with prepared statements, so a million rows take
// well under a minute.
func Inquiries(ctx context.Context, w *sql.DB, o Options) error {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Span == 0 {
		o.Span = 3 * 365 * 24 * time.Hour
	}
	if o.Users == 0 {
		o.Users = 30
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x11_4b_de_5c))
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	if err := fill(ctx, tx, o, rng); err != nil {
		return err
	}
	return tx.Commit()
}

func fill(ctx context.Context, tx *sql.Tx, o Options, rng *rand.Rand) error {
	now := time.Now().UnixMilli()
	for _, t := range Templates {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO templates (id, name, created_at) VALUES (?, ?, ?)`, t.ID, t.Name, now); err != nil {
			return fmt.Errorf("seed templates: %w", err)
		}
	}
	users := make([]int64, 0, o.Users)
	for i := range o.Users {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, 'agent', '!', ?, ?)`,
			fmt.Sprintf("seed-agent-%02d@example.com", i+1), fmt.Sprintf("%s %s", seedFirst[i%len(seedFirst)], seedLast[(i*7)%len(seedLast)]), now, now)
		if err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
		id, _ := res.LastInsertId()
		users = append(users, id)
	}
	var before int64 // rows already indexed for search
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(rowid), 0) FROM inquiries`).Scan(&before); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// Building the indexes once at the end is several times faster than keeping them up to
	// date row by row; the search index and the counts the triggers keep are rebuilt the
	// same way.
	var saved []string
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'inquiries' AND type IN ('index', 'trigger') AND sql IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var drops []string
	for rows.Next() {
		var typ, name, ddl string
		if err := rows.Scan(&typ, &name, &ddl); err != nil {
			rows.Close()
			return fmt.Errorf("seed: %w", err)
		}
		saved = append(saved, ddl)
		drops = append(drops, "DROP "+strings.ToUpper(typ)+" "+name)
	}
	rows.Close()
	for _, s := range drops {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO inquiries (id, reference_id, template_id, status, name, email, fields,
		created_at, updated_at, started_at, completed_at, failed_at, decided_at, expired_at, expires_at, version_at, synced_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer stmt.Close()
	end := o.Now.UnixMilli()
	step := o.Span.Milliseconds() / int64(o.N)
	day := (24 * time.Hour).Milliseconds()
	cust := 0
	for i := range o.N {
		created := end - int64(o.N-i)*step - rng.Int64N(max(step, 1))
		age := end - created
		first, last := seedFirst[rng.IntN(len(seedFirst))], seedLast[rng.IntN(len(seedLast))]
		if rng.IntN(200) == 0 {
			last = seedRareLast[rng.IntN(len(seedRareLast))]
		}
		name := first + " " + last
		email := strings.ToLower(unaccent.Replace(first+"."+last)) + fmt.Sprintf("%d@", rng.IntN(1000)) +
			seedDomains[pickWeighted(rng, seedDomainWeights)]
		tmpl := Templates[pickWeighted(rng, []int{60, 20, 10, 7, 3})].ID
		var by any
		if rng.IntN(10) > 0 {
			by = users[rng.IntN(len(users))]
		}
		var status string
		var started, completed, failed, decided, expired any
		updated := created
		switch {
		case age < day && rng.IntN(2) == 0:
			status = "created"
		case age < day && rng.IntN(2) == 0:
			status, started = "pending", created+rng.Int64N(age+1)
			updated = started.(int64)
		default:
			started = created + rng.Int64N(day)
			status = []string{"approved", "approved", "approved", "approved", "approved", "approved", "approved",
				"declined", "failed", "expired", "expired", "expired", "completed", "needs_review"}[rng.IntN(14)]
			t := started.(int64) + rng.Int64N(day)
			switch status {
			case "approved", "declined":
				completed, decided = t, t+1
			case "failed":
				failed = t
			case "expired":
				started, expired = nil, created+day
				t = created + day
			default:
				completed = t
			}
			updated = min(t+1, end)
		}
		// Most reference IDs are customer numbers, in order; some are another system's user ids.
		var ref string
		if rng.IntN(5) == 0 {
			ref = fmt.Sprintf("usr_%X", rng.Uint64()>>24)
		} else {
			cust++
			ref = fmt.Sprintf("CUST-%07d", cust)
		}
		fields := fmt.Sprintf(`{"name-first":%q,"name-last":%q,"email-address":%q}`, first, last, email)
		if _, err := stmt.ExecContext(ctx, "inq_seed"+fmt.Sprintf("%021d", i+1), ref, tmpl, status, name, email, fields,
			created, updated, started, completed, failed, decided, expired, created+day, updated, end, by); err != nil {
			return fmt.Errorf("seed inquiry %d: %w", i, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO inquiries_fts (rowid, reference_id, name, email)
		SELECT * FROM inquiries_fts_source WHERE rowid > ?`, before); err != nil {
		return fmt.Errorf("seed search index: %w", err)
	}
	// One segment, as migration 014 leaves a backfilled index.
	if _, err := tx.ExecContext(ctx, `INSERT INTO inquiries_fts (inquiries_fts) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("seed search index: %w", err)
	}
	for _, s := range append(saved,
		`DELETE FROM inquiry_counts`,
		`INSERT INTO inquiry_counts (status, template_id, created_by, n) SELECT status, template_id, COALESCE(created_by, 0), count(*) FROM inquiries GROUP BY 1, 2, 3`) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func pickWeighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}
