package report

import (
	"fmt"
	"strings"
)

// FieldError is one precise problem: where (a JSON path such as
// "incidents[3].timestamp", or a CSV column), a stable machine code, and a
// sentence for people.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Clause names the statutory clause for DMCA elements, e.g. "(iii)".
	Clause string `json:"clause,omitempty"`
}

// Error codes. They are part of the public contract: clients switch on them.
const (
	CodeRequired         = "required"
	CodeInvalid          = "invalid"
	CodeInvalidIP        = "invalid_ip"
	CodeInvalidHost      = "invalid_host"
	CodeInvalidURL       = "invalid_url"
	CodeInvalidEmail     = "invalid_email"
	CodeInvalidTimestamp = "invalid_timestamp"
	CodeTimezoneRequired = "timezone_required"
	CodeFutureTimestamp  = "timestamp_in_future"
	CodeInvalidPort      = "invalid_port"
	CodeInvalidChoice    = "invalid_choice"
	CodeTooLarge         = "too_large"
	CodeTooMany          = "too_many"
	CodeUnknownField     = "unknown_field"
	CodeWrongType        = "wrong_type"
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidHeaders   = "invalid_headers"
	CodeNoSourceIP       = "source_ip_not_found"
	CodeDMCAElement      = "dmca_element_missing"
	CodeLegalRequest     = "legal_request"
	CodeNotApplicable    = "not_applicable"
)

// Errors is a list of field errors; a non-empty list rejects the report.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Field + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}

func (es *Errors) add(field, code, format string, args ...any) {
	*es = append(*es, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Codes lists the codes of es in order, for tests and metrics.
func (es Errors) Codes() []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Code
	}
	return out
}
