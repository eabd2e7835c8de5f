package main

import (
	"context"
	"errors"
	"io"
)

// Wired as the sandbox, mail and sync packages land.
func runSync(context.Context, []string, io.Reader, io.Writer) error { return errors.New("pending") }
