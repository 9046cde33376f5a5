//go:build !linux

package attribution

func adviseHuge[T any](s []T, collapse bool) {}
