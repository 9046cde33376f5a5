package intake

import (
	"slices"
	"testing"

	"abusedesk/internal/report"
)

func TestDecodeStrictPaths(t *testing.T) {
	cases := map[string][]string{
		`{"type":"network","incidents":[{"source_ip":"1.2.3.4"},{"source_port":"22","colour":1}],"bogus":true}`: {
			"bogus:unknown_field", "incidents[1].colour:unknown_field", "incidents[1].source_port:wrong_type"},
		`{"reporter":{"name":5,"email":"a@b.c","extra":null}}`: {"reporter.extra:unknown_field", "reporter.name:wrong_type"},
		`{"share_contact_with_customer":"yes"}`:                {"share_contact_with_customer:wrong_type"},
		`{"incidents":{}}`:                                     {"incidents:wrong_type"},
		`{"type":"network"`:                                    {":invalid_json"},
		`{"type":"network"} {"type":"dmca"}`:                   {":invalid_json"},
		``:                                                     {":invalid_json"},
		`[1,2]`:                                                {":wrong_type"},
		`{"incidents":[{"target_port":1.5}]}`:                  {"incidents[0].target_port:wrong_type"},
	}
	for in, want := range cases {
		var r report.Report
		es := DecodeStrict([]byte(in), &r)
		var got []string
		for _, e := range es {
			got = append(got, e.Field+":"+e.Code)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s\n got  %v\n want %v", in, got, want)
		}
	}
	var r report.Report
	if es := DecodeStrict([]byte(`{"type":"network","incidents":[{"source_ip":"1.2.3.4","source_port":22}]}`), &r); es != nil || *r.Incidents[0].SourcePort != 22 {
		t.Errorf("valid document: %v", es)
	}
}

// FuzzDecodeReport: decoding never panics, every error names a code, and a
// decoded report can be validated without panicking.
func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"type":"network","subtype":"ddos","reporter":{"name":"a","email":"a@b.c"},"incidents":[{"source_ip":"203.0.113.7","target":"x.example","timestamp":"2026-03-02T10:00:00Z","log":"l"}]}`))
	f.Add([]byte(`{"type":"dmca","dmca":{"signature":"s","works":["w"],"infringing":[{"ip":"::1","timestamp":"2026-03-02T10:00:00"}]}}`))
	f.Add([]byte(`{"type":"email","email_message":{"headers":"Received: from a ([203.0.113.1]) by b; Tue, 3 Mar 2026 09:15:02 +0100\n"}}`))
	f.Add([]byte(`{"urls":[{"url":"https://x.example","extra":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r report.Report
		es := DecodeStrict(data, &r)
		for _, e := range es {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
		}
		if len(es) == 0 {
			(&report.Validator{}).Validate(&r)
		}
	})
}
