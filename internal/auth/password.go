// Package auth holds the credentials of staff: password hashing with a
// memory-hard function, and the random tokens behind sessions and CSRF
// fields. It knows nothing of HTTP or SQL.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs. The defaults are OWASP's second
// recommended set (m=19 MiB, t=2, p=1): memory-hard, ~25 ms on the
// reference machine, cheap enough that a login is not a denial of service.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is what new hashes use.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen follows NIST SP 800-63B §5.1.1.2 for passwords chosen
	// by the user without other factors (15 characters); 12 is the floor
	// most desks accept; we ask 12 and no composition rules.
	MinPasswordLen = 12
	maxPasswordLen = 1024 // bounds the hashing work an attacker can ask for
)

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// CheckPolicy says why a new password is refused, or nil.
func CheckPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("the password must have at least %d characters (it has %d)", MinPasswordLen, n)
	case len(pw) > maxPasswordLen:
		return fmt.Errorf("the password must have at most %d bytes", maxPasswordLen)
	}
	return nil
}

// HashPassword returns the PHC string of pw:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (RFC 9106 parameters,
// base64 without padding as the reference implementation writes it).
func HashPassword(pw string) (string, error) {
	return hashWith(pw, Default)
}

func hashWith(pw string, p Params) (string, error) {
	if len(pw) > maxPasswordLen {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLen)
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword compares pw with an encoded hash in constant time. It
// returns ErrMismatch for a wrong password and another error for a hash it
// cannot read.
func CheckPassword(encoded, pw string) error {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return err
	}
	if len(pw) > maxPasswordLen {
		return ErrMismatch
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash tells whether a hash was made with other costs than the
// current defaults (rehash it at the next successful login).
func NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != Default
}

// DummyCheck spends the time of a password check; used when the account
// does not exist, so that timing does not tell which emails are staff.
func DummyCheck(pw string) {
	argon2.IDKey([]byte(pw), make([]byte, saltLen), Default.Time, Default.Memory, Default.Threads, keyLen)
}

func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("argon2 version %q not supported", parts[2])
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 parameters %q: %v", parts[3], err)
	}
	if p.Memory == 0 || p.Memory > 1<<22 || p.Time == 0 || p.Time > 64 || threads == 0 || threads > 64 {
		return p, nil, nil, fmt.Errorf("argon2 parameters %q out of range", parts[3])
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("argon2 salt: %v", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, errors.New("argon2 hash: bad key")
	}
	return p, salt, key, nil
}
