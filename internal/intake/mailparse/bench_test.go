package mailparse

import (
	"os"
	"testing"
)

// BenchmarkParse reads the mailbox's sample mails (a complaint, a French
// complaint, an ARF report, robot noise) with every parser.
func BenchmarkParse(b *testing.B) {
	var mails [][]byte
	for _, n := range []string{"ssh-en.eml", "ssh-fr-nozone.eml", "arf.eml", "robot-noise.eml"} {
		raw, err := os.ReadFile("../../mailbox/testdata/" + n)
		if err != nil {
			b.Fatal(err)
		}
		mails = append(mails, raw)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Parse(mails[i%len(mails)], Options{})
	}
}
