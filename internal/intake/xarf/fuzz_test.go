package xarf

import (
	"testing"

	"abusedesk/internal/report"
)

// FuzzMap: Map never panics, answers either a report or errors, keeps its
// text within the contract's limits, and what it returns validates without
// panicking.
func FuzzMap(f *testing.F) {
	f.Add(v4(nil))
	f.Add(v4(map[string]any{"category": "messaging", "type": "spam", "protocol": "smtp", "smtp_from": "win@spammer.example",
		"source_identifier": "mail.spammer.example", "evidence": []any{map[string]any{"content_type": "message/rfc822", "payload": b64(spamMessage)}}}))
	f.Add(v4(map[string]any{"category": "copyright", "type": "usenet", "source_identifier": "news.example.net", "newsgroup": "alt.x", "message_info": map[string]any{}}))
	f.Add(v3(nil, nil))
	f.Add(v3(map[string]any{"Version": nil}, map[string]any{"ReportType": "Spam", "Samples": []any{map[string]any{"ContentType": "message/rfc822", "Base64Encoded": true, "Payload": b64(spamMessage)}}}))
	f.Add(v3(nil, map[string]any{"ReportType": "PotentiallyCompromisedAccount", "SourceIp": nil, "Account": map[string]any{"AccountIdentifier": "karl"}}))
	f.Add([]byte(`{"xarf_version":"4.0.0","reporter":{"contact":"a@b.c"},"source_identifier":"[::ffff:192.0.2.1]"}`))
	f.Add([]byte(`{"Version":"3","Report":{"ReportClass":"Content","ReportType":"Phishing","SourceUrl":"http://[::1]:x/"}}`))
	f.Add([]byte(`[1, "x", null]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, es := Map(data)
		if (r == nil) == (len(es) == 0) {
			t.Fatalf("Map returned report %v with errors %v", r != nil, es)
		}
		for _, e := range es {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete error %+v", e)
			}
		}
		if r == nil {
			return
		}
		if len(r.Description) > report.DefaultLimits.MaxTextBytes {
			t.Fatalf("description of %d bytes", len(r.Description))
		}
		for _, in := range r.Incidents {
			if len(in.Log) > report.DefaultLimits.MaxLogBytes {
				t.Fatalf("log of %d bytes", len(in.Log))
			}
		}
		validator().Validate(r)
	})
}
