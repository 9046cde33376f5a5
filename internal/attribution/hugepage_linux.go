//go:build linux

package attribution

import (
	"syscall"
	"unsafe"
)

const (
	hugePage      = 2 << 20
	madvHugepage  = 14 // MADV_HUGEPAGE
	madvCollapse  = 25 // MADV_COLLAPSE (Linux 6.1+)
	hugeThreshold = 4 * hugePage
)

// adviseHuge asks the kernel to back the 2 MiB-aligned interior of s with
// transparent huge pages. A lookup touches 2–3 random places of a few hundred
// MB; with 4 KiB pages each is also a TLB miss and a page walk, which limits
// how many misses can overlap. The memory stays ordinary Go heap memory:
// this is advice only, and a no-op where THP is disabled.
func adviseHuge[T any](s []T, collapse bool) {
	var zero T
	size := uintptr(len(s)) * unsafe.Sizeof(zero)
	if size < hugeThreshold {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + size) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), lo-start)), hi-lo)
	_ = syscall.Madvise(b, madvHugepage)
	if collapse {
		_ = syscall.Madvise(b, madvCollapse)
	}
}
