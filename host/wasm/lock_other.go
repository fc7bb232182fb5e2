//go:build !unix

package wasm

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

func flock(*os.File) error {
	return errors.New("hostwasm: data directories need flock(2), which this platform lacks")
}
