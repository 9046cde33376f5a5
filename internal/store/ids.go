package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// crockford is Crockford's base32 alphabet: no I, L, O, U, so an id read over
// the phone is not misheard.
const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewPublicID returns prefix + 14 characters: 6 for the second it was made
// (since 2024, good until 2058) and 8 for 40 random bits, e.g.
// "R-0Q8ZK3M1TW0ABX". The random part keeps ids from revealing volumes; the
// time part makes new ids land at the end of the unique index instead of on
// a random page of it, which halved the pages each group commit writes.
func NewPublicID(prefix string) string {
	var r [5]byte
	rand.Read(r[:])
	random := uint64(r[0])<<32 | uint64(r[1])<<24 | uint64(r[2])<<16 | uint64(r[3])<<8 | uint64(r[4])
	var b [14]byte
	base32Digits(b[:6], uint64(time.Now().Unix()-epoch))
	base32Digits(b[6:], random)
	return prefix + string(b[:])
}

// base32Digits writes v into dst, most significant digit first.
func base32Digits(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = crockfordAlphabet[v&31]
		v >>= 5
	}
}

// epoch is 2024-01-01T00:00:00Z.
const epoch = 1704067200

// NewToken returns an unguessable 256-bit secret, URL-safe.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is what is stored in place of a token: a database copy does not
// let anyone read statuses.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
