package dmca

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzCheck(f *testing.F) {
	c := complete()
	f.Add(c.Signature, c.Material, c.Location, c.Name, c.Address, c.Country, c.Phone, c.Email, uint8(7))
	f.Add("", "", "", "", "", "", "", "", uint8(0))
	f.Add("/s/", "x", "y", "İ", "a\r\nb", "ÿÿ", "١٢٣٤٥٦", "a@b", uint8(3))
	f.Fuzz(func(t *testing.T, sig, material, location, name, address, country, phone, email string, flags uint8) {
		n := CounterNotice{Signature: sig, Material: material, Location: location, Name: name, Address: address,
			Country: country, Phone: phone, Email: email,
			GoodFaith: flags&1 != 0, Jurisdiction: flags&2 != 0, AcceptService: flags&4 != 0}
		ps := n.Check()
		for _, p := range ps {
			if p.Field == "" || p.Message == "" || !utf8.ValidString(p.Message) {
				t.Fatalf("bad problem %+v", p)
			}
		}
		txt := n.Text("en")
		if ps != nil {
			return
		}
		if !n.GoodFaith || !n.Jurisdiction || !n.AcceptService {
			t.Fatal("complete without every statement")
		}
		for name, v := range map[string]string{"signature": sig, "material": material, "location": location, "name": name,
			"address": address, "country": country, "phone": phone} {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("complete with %s empty", name)
			}
			if utf8.RuneCountInString(strings.TrimSpace(v)) > MaxFieldLen {
				t.Fatalf("complete with %s too long", name)
			}
		}
		if digits(phone) < MinPhoneDigits || !isAlpha2(strings.ToUpper(strings.TrimSpace(country))) {
			t.Fatalf("complete with phone %q country %q", phone, country)
		}
		if !strings.EqualFold(signatureName(sig), collapse(name)) {
			t.Fatalf("signature %q accepted for %q", sig, name)
		}
		if !strings.Contains(txt, strings.TrimSpace(material)) && !strings.Contains(material, "\n") && !strings.Contains(material, "\r") {
			t.Fatal("text lacks the material")
		}
	})
}

func FuzzAddBusinessDays(f *testing.F) {
	f.Add(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli(), uint16(1))
	f.Add(time.Date(2026, 12, 24, 23, 59, 0, 0, time.UTC).UnixMilli(), uint16(14))
	f.Add(time.Date(2027, 12, 30, 0, 0, 0, 0, time.UTC).UnixMilli(), uint16(10))
	f.Add(int64(0), uint16(0))
	f.Fuzz(func(t *testing.T, ms int64, n16 uint16) {
		// Years 1900–2200 and up to ~3 years of business days.
		const lo, hi = -2208988800000, 7258118400000
		if ms < lo || ms > hi {
			ms = lo + (ms%(hi-lo)+(hi-lo))%(hi-lo)
		}
		from := time.UnixMilli(ms)
		n := int(n16 % 800)
		got := AddBusinessDays(from, n)
		if n == 0 {
			if !got.Equal(from) {
				t.Fatalf("n=0 moved %s to %s", from, got)
			}
			return
		}
		if !got.After(from) {
			t.Fatalf("AddBusinessDays(%s, %d) = %s, not after", from, n, got)
		}
		if wd := got.Weekday(); wd == time.Saturday || wd == time.Sunday || IsFederalHoliday(got) {
			t.Fatalf("AddBusinessDays(%s, %d) = %s, a %s holiday=%v", from, n, got, wd, IsFederalHoliday(got))
		}
		if got.Sub(got.Truncate(24*time.Hour)) != from.Sub(from.Truncate(24*time.Hour)) {
			t.Fatalf("time of day changed: %s -> %s", from, got)
		}
		prev := AddBusinessDays(from, n-1)
		if !prev.Before(got) {
			t.Fatalf("not monotonic: n-1 gives %s, n gives %s", prev, got)
		}
		if back := AddBusinessDays(got, -n); IsBusinessDay(from.UTC()) && !back.Equal(from) {
			t.Fatalf("back %d from %s gives %s, want %s", n, got, back, from)
		}
	})
}
