//go:build !linux

package plugin

// sealedCopy: elsewhere the binary is executed by its path, which go-plugin hashes just before
// (a replacement in between is not detected).
func sealedCopy(path string, want []byte) (string, bool, func(), error) {
	return path, false, func() {}, nil
}
