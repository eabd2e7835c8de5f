// Package durable writes files that survive a crash: the dev sandbox's state and the mail
// catcher's messages are on disk before they answer.
package durable

import (
	"os"
	"path/filepath"
)

// WriteFile replaces path with b durably: a temporary file beside it (its name ends ".tmp"
// and a few digits, so readers can skip one a crash left), fsync, rename, and an fsync of the
// folder so the rename itself survives a crash.
func WriteFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
