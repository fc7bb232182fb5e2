//go:build !unix

package regfile

// openNonblock: elsewhere there are no FIFOs to open by path.
const openNonblock = 0
