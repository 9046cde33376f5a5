package dmcamail

import (
	"os"
	"path/filepath"
	"testing"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// FuzzParse: Parse never panics, keeps the contract (not recognised means
// nothing returned; recognised means a report or a missing entry), bounds
// what it returns, and its reports validate without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Subject: DMCA\n\n/s/ A\n"))
	f.Add([]byte("Subject: x\n\n<Infringement><Source><IP_Address>::1</IP_Address><Port>99999999999</Port></Source></Infringement>\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/xml\n\n<Infringement>&bogus;<Content><Item><URL>x</URL></Item></Content></Infringement>\n--b--\n"))
	f.Add([]byte("Subject: contrefaçon\n\n-----BEGIN PGP SIGNED MESSAGE-----\n- - x\n\nSincerely,\n\n- 12\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		reps, missing, ok := Parse(mailpart.Parse(raw))
		if !ok {
			if reps != nil || missing != nil {
				t.Fatalf("not recognised, yet %v %v", reps, missing)
			}
			return
		}
		if len(reps) == 0 && len(missing) == 0 {
			t.Fatal("recognised with neither report nor missing entry")
		}
		for _, e := range missing {
			if e.Field == "" || e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete missing entry %+v", e)
			}
		}
		if len(reps) > MaxNotices {
			t.Fatalf("%d reports", len(reps))
		}
		for _, r := range reps {
			if r.Type != report.TypeDMCA || r.DMCA == nil || r.Description == "" || len(r.Description) > maxDescription {
				t.Fatalf("report %s dmca=%v description of %d bytes", r.Type, r.DMCA != nil, len(r.Description))
			}
			if len(r.DMCA.Works) > MaxWorks || len(r.DMCA.Infringing) > MaxInfringing {
				t.Fatalf("%d works, %d items", len(r.DMCA.Works), len(r.DMCA.Infringing))
			}
			r.Reporter = report.Reporter{Name: "x", Email: "x@example.org"}
			validator().Validate(r)
		}
	})
}

// FuzzReadACNS: the XML reader never panics and keeps its bounds.
func FuzzReadACNS(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><Infringement xmlns="http://www.acns.net/ACNS"><Case><ID>1</ID></Case><Source><SubType Protocol="BITTORRENT"/></Source><Content><Item><Title>A & B</Title><Hash Type="SHA1">x</Hash></Item></Content></Infringement>`))
	f.Add([]byte(`<x:Infringement xmlns:x="urn:x"><x:Complainant><x:Address>a
b</x:Address></x:Complainant></x:Infringement><junk`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><Infringement>&a;&nbsp;</Infringement>`))
	f.Add([]byte(`<Infringement><Case>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadACNS(b)
		if (a == nil) == (err == nil) {
			t.Fatalf("ReadACNS returned %v and %v", a, err)
		}
		if a != nil && len(a.Items) > MaxItems {
			t.Fatalf("%d items", len(a.Items))
		}
	})
}
