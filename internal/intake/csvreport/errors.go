package csvreport

import (
	"errors"
	"fmt"
)

// HeaderError is a header that cannot be read: no ip or timestamp column,
// two columns for one field, or an empty file. Msg lists the accepted names.
type HeaderError struct {
	Line int
	Msg  string
}

func (e *HeaderError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Fatal conditions, wrapped in a *LineError by Reader.Next.
var (
	// ErrTooManyRows: the file has more rows than Options.MaxRows.
	ErrTooManyRows = errors.New("too many rows")
	// ErrRecordTooLarge: one record is larger than Options.MaxRecordBytes,
	// usually because a quote opened a field that never closes.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrUnclosedQuote: a quoted field spans lines to the end of the file
	// without closing properly, so everything after its opening quote is lost.
	ErrUnclosedQuote = errors.New("quoted field not closed")
)

// LineError is a fatal error of Reader.Next: reading stops at Line. Err is
// one of ErrTooManyRows, ErrRecordTooLarge, ErrUnclosedQuote, or the error of
// the underlying reader.
type LineError struct {
	Line int
	Msg  string
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func (e *LineError) Unwrap() error { return e.Err }

// clip keeps attacker-chosen text short inside messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
