package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
)

// crockford is Crockford's base32 alphabet: no I, L, O, U, so an id read over
// the phone is not misheard.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewPublicID returns prefix + 13 characters of 64 random bits, e.g.
// "R-5Q8ZK3M1TW0AB". Random rather than sequential so ids do not reveal
// volumes.
func NewPublicID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + crockford.EncodeToString(b[:])
}

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
