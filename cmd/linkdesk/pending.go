package main

import (
	"context"
	"errors"
	"io"
)

// Wired as the sandbox, mail and sync packages land.
func runSandbox(context.Context, []string, io.Reader, io.Writer) error { return errors.New("pending") }
func runMailcatcher(context.Context, []string, io.Reader, io.Writer) error {
	return errors.New("pending")
}
func runSync(context.Context, []string, io.Reader, io.Writer) error { return errors.New("pending") }
