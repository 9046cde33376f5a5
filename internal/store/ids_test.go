package store

import (
	"strings"
	"testing"
	"time"
)

func TestPublicIDs(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 10000; i++ {
		id := NewPublicID("R-")
		if len(id) != 16 || !strings.HasPrefix(id, "R-") || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
		// Ids made in the same second share their time part, and the time
		// part never goes back.
		if prev != "" && id[2:8] < prev[2:8] {
			t.Fatalf("%q sorts before %q", id, prev)
		}
		prev = id
	}
	a := NewPublicID("")
	time.Sleep(1100 * time.Millisecond)
	if b := NewPublicID(""); b[:6] <= a[:6] {
		t.Errorf("a second later, %q does not sort after %q", b, a)
	}
}
