package host

import (
	"errors"
	"fmt"
	"os"
)

// checkWritable logs a warning for each of paths (a drivers directory, a manifest, an artifact)
// that users other than its owner may write: whoever can write the directory or the manifest
// can point the driver at another artifact and pin its sha256, so the pin only means as much as
// those permissions. The driver is loaded all the same, unless the operator asked for refusal
// (WithRefuseWritable): then the first such path is the error, wrapping ErrWritable.
func checkWritable(cfg config, driver string, paths ...string) error {
	logger := cfg.logger
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue // the load itself reports what is missing
		}
		perm := fi.Mode().Perm()
		if perm&0o022 == 0 {
			continue
		}
		who := "group"
		if perm&0o002 != 0 {
			who = "world"
		}
		if cfg.refuseWritable {
			return fmt.Errorf("%w: %s is %s-writable (mode %v): anyone who can write it can change which code runs",
				ErrWritable, p, who, perm)
		}
		logger.Warn("driver file is "+who+"-writable: anyone who can write it can change which code runs",
			"driver", driver, "path", p, "mode", perm.String())
	}
	return nil
}

// ErrWritable is wrapped by the error of a load refused under WithRefuseWritable.
var ErrWritable = errors.New("driver file writable by others")
