//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package bulkclient

import "os"

// IsTerminal reports whether f is a character device: without termios,
// the closest guess (it takes /dev/null for one).
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
