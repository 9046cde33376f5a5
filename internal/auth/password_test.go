package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: not the PHC form with the default costs", h)
	}
	if err := CheckPassword(h, "correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := CheckPassword(h, "correct horse batterx"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v, want ErrMismatch", err)
	}
	h2, _ := HashPassword("correct horse battery")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if NeedsRehash(h) {
		t.Fatal("a fresh hash needs a rehash")
	}
	weak, _ := hashWith("correct horse battery", Params{Memory: 1024, Time: 1, Threads: 1})
	if err := CheckPassword(weak, "correct horse battery"); err != nil {
		t.Fatalf("hash with other costs refused: %v", err)
	}
	if !NeedsRehash(weak) {
		t.Fatal("a hash with weaker costs does not ask for a rehash")
	}
}

func TestPasswordBadHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$2a$10$abcdefghijklmnopqrstuv", "$argon2id$v=18$m=1,t=1,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=1024,t=1,p=1$!!$AAAAAAAAAAAAAAAAAAAAAA"} {
		if err := CheckPassword(h, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("CheckPassword(%q) = %v, want a decoding error", h, err)
		}
	}
}

func TestPolicy(t *testing.T) {
	if err := CheckPolicy("short"); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short password: %v", err)
	}
	if err := CheckPolicy("twelve chars"); err != nil {
		t.Fatalf("12 characters refused: %v", err)
	}
	if err := CheckPolicy(strings.Repeat("x", 2000)); err == nil {
		t.Fatal("2000-byte password accepted")
	}
}

func FuzzCheckPassword(f *testing.F) {
	h, _ := hashWith("seed password", Params{Memory: 64, Time: 1, Threads: 1})
	f.Add(h, "seed password")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		if p, _, _, err := decode(encoded); err == nil && p.Memory > 4096 {
			return // decoding is what is fuzzed; large costs only cost time
		}
		CheckPassword(encoded, pw) // must not panic
	})
}
