package cases

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"time"
)

// Entry is one line of the audit trail. Entries are only ever appended;
// each one's Hash covers its content and the previous entry's Hash, so that
// changing, removing or reordering any entry breaks the chain from there on.
//
// The chain proves order and integrity, not completeness at the tail:
// dropping the newest entries leaves a valid shorter chain. Keep the head
// (Verifier.Head) somewhere else, e.g. in logs or a metric, to catch that.
type Entry struct {
	Seq    int64 // 1, 2, 3… without gaps: the writer assigns last+1 under the same lock that reads the last Hash
	At     time.Time
	Actor  string
	Action string
	CaseID string
	Detail string // JSON text
	Prev   []byte
	Hash   []byte
}

// Genesis is the Prev of the first entry.
var Genesis = make([]byte, sha256.Size)

// hashDomain is hashed first, so that these hashes can never be confused
// with SHA-256 of anything else, and a later encoding can change the tag.
const hashDomain = "abusedesk audit entry v1"

// Seal sets e.Prev = prev and e.Hash = SHA-256 over the domain tag, prev,
// Seq, At (UTC Unix milliseconds, the precision every store keeps) and the
// length-prefixed Actor, Action, CaseID and Detail. Length prefixes make the
// encoding unambiguous: ("ab","c") and ("a","bc") hash differently.
func (e *Entry) Seal(prev []byte) {
	e.Prev = bytes.Clone(prev)
	e.Hash = e.sum()
}

func (e *Entry) sum() []byte {
	h := sha256.New()
	writeBytes(h, []byte(hashDomain))
	writeBytes(h, e.Prev)
	writeUint(h, uint64(e.Seq))
	writeUint(h, uint64(e.At.UnixMilli()))
	for _, s := range []string{e.Actor, e.Action, e.CaseID, e.Detail} {
		writeBytes(h, []byte(s))
	}
	return h.Sum(nil)
}

func writeUint(h hash.Hash, v uint64) {
	h.Write(binary.BigEndian.AppendUint64(nil, v))
}

func writeBytes(h hash.Hash, b []byte) {
	writeUint(h, uint64(len(b)))
	h.Write(b)
}

// ChainError names where a chain breaks.
type ChainError struct {
	// Seq is the position at which the chain breaks: the Seq that was due
	// (one after the last good entry). A deleted entry is named by its own
	// Seq, a changed entry by its Seq even if the Seq itself was changed.
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Verifier checks a chain streamed in Seq order, so the whole trail need
// never be in memory. The zero value expects the chain from its start
// (Seq 1, Prev = Genesis). After the first break every call returns that
// same error: what follows a break cannot be trusted either.
type Verifier struct {
	seq   int64  // last verified Seq
	head  []byte // last verified Hash; nil = Genesis
	count int64
	err   *ChainError
}

// ResumeVerifier continues from a checkpoint: the entry (seq, hash) was
// verified before, the next one must follow it.
func ResumeVerifier(seq int64, hash []byte) *Verifier {
	return &Verifier{seq: seq, head: bytes.Clone(hash)}
}

// Next verifies e as the entry after the last one verified.
func (v *Verifier) Next(e Entry) error {
	if v.err != nil {
		return v.err
	}
	prev := v.head
	if prev == nil {
		prev = Genesis
	}
	want := v.seq + 1
	switch {
	case e.Seq != want:
		v.err = &ChainError{Seq: want, Reason: fmt.Sprintf("gap in seq: found %d where %d was due", e.Seq, want)}
	case !bytes.Equal(e.Prev, prev):
		v.err = &ChainError{Seq: want, Reason: "prev mismatch: not the hash of the entry before"}
	case !bytes.Equal(e.Hash, e.sum()):
		v.err = &ChainError{Seq: want, Reason: "hash mismatch: the entry was changed"}
	}
	if v.err != nil {
		return v.err
	}
	v.seq, v.head = e.Seq, bytes.Clone(e.Hash)
	v.count++
	return nil
}

// Count is the number of entries verified so far.
func (v *Verifier) Count() int64 { return v.count }

// Head is the last verified entry's Seq and Hash (0 and Genesis before any).
func (v *Verifier) Head() (int64, []byte) {
	if v.head == nil {
		return v.seq, bytes.Clone(Genesis)
	}
	return v.seq, bytes.Clone(v.head)
}

// Verify checks a whole chain held in memory, from Seq 1.
func Verify(entries []Entry) error {
	var v Verifier
	for _, e := range entries {
		if err := v.Next(e); err != nil {
			return err
		}
	}
	return nil
}
