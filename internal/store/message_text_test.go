package store

import (
	"strings"
	"testing"
)

func TestMessageText(t *testing.T) {
	for _, c := range []struct {
		in, clean, problem string
		chars              int
	}{
		{"  hello\r\nworld \n", "hello\nworld", "", 11},
		{" \r\n\t", "", "required", 0},
		{"caf\xe9", "caf\xe9", "invalid", 4},
		{strings.Repeat("é", MaxMessageLen), strings.Repeat("é", MaxMessageLen), "", MaxMessageLen},
		{strings.Repeat("é", MaxMessageLen+1), strings.Repeat("é", MaxMessageLen+1), "too_large", MaxMessageLen + 1},
	} {
		clean, problem, n := MessageText(c.in)
		if clean != c.clean || problem != c.problem || n != c.chars {
			t.Errorf("MessageText(%.20q) = %.20q, %q, %d; want %.20q, %q, %d", c.in, clean, problem, n, c.clean, c.problem, c.chars)
		}
	}
}
