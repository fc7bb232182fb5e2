package main

import (
	"errors"
	"fmt"
)

// Exit codes of every command; see the package documentation.
const (
	exitOK     = 0 // the command did what it was asked
	exitFailed = 1 // the operation failed: an error, a key not found, a failed conformance case, a copy that does not verify
	exitUsage  = 2 // the command line was wrong: unknown command, bad flag, wrong number of arguments, malformed argument
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// opError is an operation that failed: exit code 1. Every error a command's RunE returns that
// is not a usageError becomes one (see app.action); errors cobra returns by itself (flag
// parsing, argument validation, unknown commands) never are, and so are usage errors.
type opError struct{ err error }

func (e *opError) Error() string { return e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// errNotFound is a key that is not there (get, delete): exit code 1.
var errNotFound = errors.New("not found")
