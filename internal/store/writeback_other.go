//go:build !linux

package store

import "time"

// startWriteback does nothing here; see writeback_linux.go.
func startWriteback(path string, interval time.Duration) (stop func()) { return func() {} }
