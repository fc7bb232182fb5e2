//go:build !unix

package wasmhost

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

func flock(*os.File) error {
	return errors.New("wasmhost: data directories need flock(2), which this platform lacks")
}
