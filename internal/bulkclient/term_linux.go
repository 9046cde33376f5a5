package bulkclient

import (
	"os"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal: the TCGETS ioctl answers
// only for one (a file, a pipe or /dev/null, which is a character device
// too, refuse it).
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
