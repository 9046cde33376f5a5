package bulkclient

import (
	"errors"
	"io"
	"os"
	"time"

	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/report"
)

// Check is what the desk would say of an upload, found locally with the
// desk's own rules (report.Validator.ValidateBulk for the report part, the
// csvreport reader and its row checks for the file), without sending
// anything. The desk's answer may still differ where its configuration
// does (a smaller row or size limit).
type Check struct {
	// ReportErrors are the report part's problems (fields prefixed
	// "report." as the desk prefixes them).
	ReportErrors report.Errors
	// Report is the report part as the desk would read it (defaults
	// filled).
	Report report.Report
	// FileError refuses the whole file (a header the desk cannot use, a
	// record too large, an unclosed quote).
	FileError error
	// Size is the file's size in bytes.
	Size int64
	// Rows counts the rows read, Valid the good ones.
	Rows, Valid int
	// Rejected lists the problems of the first bad rows (at most the
	// maxRejects given), RejectedCount counts the bad rows.
	Rejected      []Reject
	RejectedCount int
}

// Stored reports whether the desk would store the report: the report part
// is good and so is at least one row.
func (c *Check) Stored() bool {
	return len(c.ReportErrors) == 0 && c.FileError == nil && c.Valid > 0
}

// CheckUpload checks u as the desk would at now.
func CheckUpload(u Upload, now time.Time, maxRejects int) (*Check, error) {
	ck := &Check{Report: u.Report}
	v := &report.Validator{Now: func() time.Time { return now }}
	for _, e := range v.ValidateBulk(&ck.Report) {
		e.Field = "report." + e.Field
		ck.ReportErrors = append(ck.ReportErrors, e)
	}
	f, err := os.Open(u.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		ck.Size = fi.Size()
	}
	rd, err := csvreport.NewReader(f, csvreport.Options{Validator: v})
	if err != nil {
		ck.FileError = err
		return ck, nil
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ck.FileError = err
			break
		}
		ck.Rows++
		if len(row.Errors) == 0 {
			ck.Valid++
			continue
		}
		ck.RejectedCount++
		for _, e := range row.Errors { // every problem of the row, as the desk lists them
			if len(ck.Rejected) < maxRejects {
				ck.Rejected = append(ck.Rejected, Reject{Line: row.Line, Field: e.Field, Code: e.Code, Message: e.Message})
			}
		}
	}
	return ck, nil
}
