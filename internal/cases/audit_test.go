package cases

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func chain(n int) []Entry {
	es := make([]Entry, n)
	prev := Genesis
	for i := range es {
		es[i] = Entry{
			Seq:    int64(i + 1),
			At:     t0.Add(time.Duration(i) * time.Minute),
			Actor:  fmt.Sprintf("staff:%d", i%3),
			Action: string(Actions[i%len(Actions)]),
			CaseID: fmt.Sprintf("c%d", i%4),
			Detail: fmt.Sprintf(`{"n":%d}`, i),
		}
		es[i].Seal(prev)
		prev = es[i].Hash
	}
	return es
}

// clone deep-copies entries so that tampering with one chain leaves the
// original intact.
func clone(es []Entry) []Entry {
	out := slices.Clone(es)
	for i := range out {
		out[i].Prev, out[i].Hash = bytes.Clone(out[i].Prev), bytes.Clone(out[i].Hash)
	}
	return out
}

func chainErr(t *testing.T, err error) *ChainError {
	t.Helper()
	var ce *ChainError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ChainError, got %v", err)
	}
	return ce
}

func TestAuditChainVerifies(t *testing.T) {
	es := chain(10)
	var v Verifier
	if seq, h := v.Head(); seq != 0 || !bytes.Equal(h, Genesis) {
		t.Errorf("empty head %d %x", seq, h)
	}
	for _, e := range es {
		if err := v.Next(e); err != nil {
			t.Fatal(err)
		}
	}
	if v.Count() != 10 {
		t.Errorf("Count = %d", v.Count())
	}
	seq, head := v.Head()
	if seq != 10 || !bytes.Equal(head, es[9].Hash) {
		t.Errorf("Head = %d %x", seq, head)
	}
	if !bytes.Equal(es[0].Prev, Genesis) || len(Genesis) != 32 || len(es[0].Hash) != 32 {
		t.Error("first entry does not start from Genesis")
	}
	// Resuming from a checkpoint verifies the rest.
	r := ResumeVerifier(5, es[4].Hash)
	for _, e := range es[5:] {
		if err := r.Next(e); err != nil {
			t.Fatal(err)
		}
	}
	if r.Count() != 5 {
		t.Errorf("resumed Count = %d", r.Count())
	}
	if err := Verify(nil); err != nil {
		t.Error(err)
	}
}

func TestAuditTamper(t *testing.T) {
	es := chain(10)
	for _, tc := range []struct {
		name   string
		tamper func([]Entry) []Entry
		seq    int64
		reason string
	}{
		{"seq", func(es []Entry) []Entry { es[4].Seq = 50; return es }, 5, "gap"},
		{"at", func(es []Entry) []Entry { es[4].At = es[4].At.Add(time.Second); return es }, 5, "hash mismatch"},
		{"at millisecond", func(es []Entry) []Entry { es[4].At = es[4].At.Add(time.Millisecond); return es }, 5, "hash mismatch"},
		{"actor", func(es []Entry) []Entry { es[4].Actor = "staff:9"; return es }, 5, "hash mismatch"},
		{"action", func(es []Entry) []Entry { es[4].Action = "resolve!"; return es }, 5, "hash mismatch"},
		{"case", func(es []Entry) []Entry { es[4].CaseID = "c99"; return es }, 5, "hash mismatch"},
		{"detail", func(es []Entry) []Entry { es[4].Detail = `{"n":5} `; return es }, 5, "hash mismatch"},
		{"prev", func(es []Entry) []Entry { es[4].Prev[0] ^= 1; return es }, 5, "prev mismatch"},
		{"hash", func(es []Entry) []Entry { es[4].Hash[31] ^= 1; return es }, 5, "hash mismatch"},
		{"resealed", func(es []Entry) []Entry {
			// Rewriting an entry and its own hash still breaks the next link.
			es[4].Detail = `{"n":"forged"}`
			es[4].Seal(es[3].Hash)
			return es
		}, 6, "prev mismatch"},
		{"delete", func(es []Entry) []Entry { return slices.Delete(es, 4, 5) }, 5, "gap"},
		{"delete first", func(es []Entry) []Entry { return es[1:] }, 1, "gap"},
		{"reorder", func(es []Entry) []Entry { es[4], es[5] = es[5], es[4]; return es }, 5, "gap"},
		{"duplicate", func(es []Entry) []Entry { return slices.Insert(es, 5, es[4]) }, 6, "gap"},
		{"renumbered after delete", func(es []Entry) []Entry {
			es = slices.Delete(es, 4, 5)
			for i := 4; i < len(es); i++ {
				es[i].Seq--
			}
			return es
		}, 5, "prev mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.tamper(clone(es)))
			ce := chainErr(t, err)
			if ce.Seq != tc.seq || !bytes.Contains([]byte(ce.Reason), []byte(tc.reason)) {
				t.Errorf("got seq %d %q; want seq %d %q", ce.Seq, ce.Reason, tc.seq, tc.reason)
			}
		})
	}
	if err := Verify(es); err != nil {
		t.Fatalf("original chain damaged by the tests: %v", err)
	}
}

func TestAuditVerifierSticky(t *testing.T) {
	es := chain(4)
	es[1].Actor = "x"
	var v Verifier
	_ = v.Next(es[0])
	first := v.Next(es[1])
	if first == nil || first.Error() != "audit chain broken at seq 2: hash mismatch: the entry was changed" {
		t.Fatalf("tamper: %v", first)
	}
	if err := v.Next(es[2]); err != first || v.Count() != 1 {
		t.Errorf("after a break: %v, count %d", err, v.Count())
	}
}

// The tail is not protected by the chain alone: documented, and pinned here
// so nobody relies on it.
func TestAuditTruncationNeedsHead(t *testing.T) {
	es := chain(10)
	if err := Verify(es[:7]); err != nil {
		t.Fatal(err)
	}
}

// TestSealEncoding re-derives the hash from the documented encoding, so a
// change to it (which would invalidate every stored chain) cannot slip by.
func TestSealEncoding(t *testing.T) {
	e := Entry{Seq: 42, At: time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("X", 3600)), Actor: "staff:1", Action: "notify", CaseID: "c7", Detail: `{"a":1}`}
	prev := bytes.Repeat([]byte{7}, 32)
	e.Seal(prev)

	var buf []byte
	u := func(v uint64) { buf = binary.BigEndian.AppendUint64(buf, v) }
	b := func(s []byte) { u(uint64(len(s))); buf = append(buf, s...) }
	b([]byte("abusedesk audit entry v1"))
	b(prev)
	u(42)
	u(uint64(time.Date(2026, 1, 2, 2, 4, 5, 678_000_000, time.UTC).UnixMilli()))
	for _, s := range []string{"staff:1", "notify", "c7", `{"a":1}`} {
		b([]byte(s))
	}
	want := sha256.Sum256(buf)
	if !bytes.Equal(e.Hash, want[:]) || !bytes.Equal(e.Prev, prev) {
		t.Fatalf("hash %x; want %x", e.Hash, want)
	}
	prev[0] = 0
	if e.Prev[0] != 7 {
		t.Error("Seal keeps the caller's slice")
	}

	// Length prefixes: moving a byte between fields changes the hash.
	a := Entry{Seq: 1, At: t0, Actor: "ab", Action: "c"}
	c := Entry{Seq: 1, At: t0, Actor: "a", Action: "bc"}
	a.Seal(Genesis)
	c.Seal(Genesis)
	if bytes.Equal(a.Hash, c.Hash) {
		t.Error("ambiguous encoding")
	}
}
