package xarf

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/report"
)

// checker collects every problem of one document, so the sender learns all
// of them at once (DESIGN.md: bad input gets a precise answer).
type checker struct {
	es report.Errors
}

func (c *checker) add(field, code, format string, args ...any) {
	c.es = append(c.es, report.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// join builds a field path: "reporter" + "contact" = "reporter.contact".
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// kindOf names the JSON type of a decoded value, for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown value"
}

// show renders a decoded value shortly for a message: strings quoted and
// clipped (they are attacker-chosen), other values by their JSON type.
func show(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(clip(v))
	case json.Number:
		return clip(string(v))
	case bool:
		return strconv.FormatBool(v)
	}
	return kindOf(v)
}

// clip keeps attacker-chosen text short inside messages.
func clip(s string) string {
	if len(s) > 80 {
		return cut(s, 77) + "..."
	}
	return s
}

// str reads a string member. A missing member is an error only when req; a
// member of another JSON type (null included: the schemas never allow null)
// is always one.
func (c *checker) str(o map[string]any, path, key string, req bool) (string, bool) {
	v, ok := o[key]
	if !ok {
		if req {
			c.add(join(path, key), report.CodeRequired, "%s is required", key)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be a string, not %s", key, kindOf(v))
		return "", false
	}
	if req && strings.TrimSpace(s) == "" {
		c.add(join(path, key), report.CodeRequired, "%s must not be empty", key)
		return "", false
	}
	return s, true
}

// minLen checks a string member's length in characters (JSON Schema
// minLength counts code points).
func (c *checker) minLen(o map[string]any, path, key string, req bool, min int) (string, bool) {
	s, ok := c.str(o, path, key, req)
	if ok && len([]rune(s)) < min {
		c.add(join(path, key), report.CodeInvalid, "%s must be at least %d characters long (got %q)", key, min, clip(s))
		return s, false
	}
	return s, ok
}

func (c *checker) maxLen(o map[string]any, path, key string, max int) (string, bool) {
	s, ok := c.str(o, path, key, false)
	if ok && len([]rune(s)) > max {
		c.add(join(path, key), report.CodeTooLarge, "%s is at most %d characters (got %d)", key, max, len([]rune(s)))
		return s, false
	}
	return s, ok
}

// asInt reads a JSON integer; 3.0 counts as one, as in JSON Schema.
func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// integer reads an integer member within [min, max].
func (c *checker) integer(o map[string]any, path, key string, req bool, min, max int64) (int64, bool) {
	v, ok := o[key]
	if !ok {
		if req {
			c.add(join(path, key), report.CodeRequired, "%s is required", key)
		}
		return 0, false
	}
	i, ok := asInt(v)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be an integer, not %s", key, show(v))
		return 0, false
	}
	if i < min || i > max {
		if max == math.MaxInt64 {
			c.add(join(path, key), report.CodeInvalid, "%s must be at least %d (got %d)", key, min, i)
		} else {
			c.add(join(path, key), report.CodeInvalid, "%s must be between %d and %d (got %d)", key, min, max, i)
		}
		return i, false
	}
	return i, true
}

func (c *checker) number(o map[string]any, path, key string, min, max float64) {
	v, ok := o[key]
	if !ok {
		return
	}
	n, ok := v.(json.Number)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be a number, not %s", key, show(v))
		return
	}
	f, err := n.Float64()
	if err != nil || f < min || f > max {
		c.add(join(path, key), report.CodeInvalid, "%s must be between %g and %g (got %s)", key, min, max, clip(string(n)))
	}
}

func (c *checker) boolean(o map[string]any, path, key string, req bool) (bool, bool) {
	v, ok := o[key]
	if !ok {
		if req {
			c.add(join(path, key), report.CodeRequired, "%s is required (true or false)", key)
		}
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be true or false, not %s", key, show(v))
	}
	return b, ok
}

func (c *checker) object(o map[string]any, path, key string, req bool) (map[string]any, bool) {
	v, ok := o[key]
	if !ok {
		if req {
			c.add(join(path, key), report.CodeRequired, "%s is required", key)
		}
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be an object, not %s", key, kindOf(v))
	}
	return m, ok
}

func (c *checker) array(o map[string]any, path, key string) ([]any, bool) {
	v, ok := o[key]
	if !ok {
		return nil, false
	}
	a, ok := v.([]any)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be an array, not %s", key, kindOf(v))
	}
	return a, ok
}

// choice reads a string member that must be one of choices.
func (c *checker) choice(o map[string]any, path, key string, req bool, choices ...string) (string, bool) {
	s, ok := c.str(o, path, key, req)
	if ok && !slices.Contains(choices, s) {
		c.add(join(path, key), report.CodeInvalidChoice, "%s %q is not one of %s", key, clip(s), strings.Join(choices, ", "))
		return s, false
	}
	return s, ok
}

// port reads a port member: an integer in [min, 65535]. XARF v4 starts
// ports at 1, the v3 schemas at 0.
func (c *checker) port(o map[string]any, path, key string, min int64) (*int, bool) {
	v, ok := o[key]
	if !ok {
		return nil, false
	}
	return c.portValue(join(path, key), key, v, min)
}

func (c *checker) portValue(field, key string, v any, min int64) (*int, bool) {
	i, ok := asInt(v)
	if !ok {
		c.add(field, report.CodeInvalidPort, "%s must be a port number (an integer from %d to 65535), not %s", key, min, show(v))
		return nil, false
	}
	if i < min || i > 65535 {
		c.add(field, report.CodeInvalidPort, "%s must be a port number from %d to 65535 (got %d)", key, min, i)
		return nil, false
	}
	p := int(i)
	return &p, true
}

// ports reads a v3 port member, which is one port or an array of ports.
func (c *checker) ports(o map[string]any, path, key string) []int {
	v, ok := o[key]
	if !ok {
		return nil
	}
	if a, isArray := v.([]any); isArray {
		var out []int
		for i, e := range a {
			if p, ok := c.portValue(index(join(path, key), i), key, e, 0); ok {
				out = append(out, *p)
			}
		}
		return out
	}
	if p, ok := c.portValue(join(path, key), key, v, 0); ok {
		return []int{*p}
	}
	return nil
}

// ip reads an IPv4 or IPv6 address member.
func (c *checker) ip(o map[string]any, path, key string, req bool) (string, bool) {
	v, ok := o[key]
	if !ok {
		if req {
			c.add(join(path, key), report.CodeRequired, "%s is required", key)
		}
		return "", false
	}
	s, isString := v.(string)
	if !isString {
		c.add(join(path, key), report.CodeInvalidIP, "%s must be an IPv4 or IPv6 address, not %s", key, kindOf(v))
		return "", false
	}
	a, ok := report.ParseIP(s)
	if !ok {
		c.add(join(path, key), report.CodeInvalidIP, "%s %q is not an IPv4 or IPv6 address", key, clip(s))
		return "", false
	}
	return a.String(), true
}

func (c *checker) email(o map[string]any, path, key string, req bool) (string, bool) {
	s, ok := c.str(o, path, key, req)
	if !ok {
		return "", false
	}
	if !validEmail(s) {
		c.add(join(path, key), report.CodeInvalidEmail, "%s %q is not an email address (expected name@example.org)", key, clip(s))
		return "", false
	}
	a, _ := mail.ParseAddress(strings.TrimSpace(s))
	return a.Address, true
}

// validEmail accepts what report.Validator accepts for reporter.email: a
// bare RFC 5322 address.
func validEmail(s string) bool {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && strings.Contains(a.Address, "@") && len(s) <= 254
}

func (c *checker) host(o map[string]any, path, key string, req bool) (string, bool) {
	s, ok := c.str(o, path, key, req)
	if !ok {
		return "", false
	}
	if !report.ValidHost(s) {
		c.add(join(path, key), report.CodeInvalidHost, "%s %q is not a host name", key, clip(s))
		return "", false
	}
	return strings.TrimSuffix(strings.ToLower(s), "."), true
}

// uri reads a JSON Schema "uri": absolute, with a scheme. Whether it is an
// http(s) URL the desk can take is report.Validator's concern.
func (c *checker) uri(o map[string]any, path, key string, req bool) (string, bool) {
	s, ok := c.str(o, path, key, req)
	if !ok {
		return "", false
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || strings.ContainsAny(s, " \t\r\n") {
		c.add(join(path, key), report.CodeInvalidURL, "%s %q is not an absolute URI (e.g. https://example.org/page)", key, clip(s))
		return "", false
	}
	return strings.TrimSpace(s), true
}

// dateTime reads an RFC 3339 date-time. A time without a zone is refused
// (DESIGN.md: a time without a zone is never assumed) unless carried is set:
// then it goes into an incident's timestamp unchanged and report.Validator
// refuses it with timezone_required, so that the rule has one home.
func (c *checker) dateTime(o map[string]any, path, key string, req, carried bool) (string, bool) {
	s, ok := c.str(o, path, key, req)
	if !ok {
		return "", false
	}
	_, err := report.ParseTimestamp(strings.TrimSpace(s))
	switch {
	case err == report.ErrTimezoneMissing && carried:
		return s, true
	case err == report.ErrTimezoneMissing:
		c.add(join(path, key), report.CodeTimezoneRequired, "%s %q has no time zone: add Z or an offset such as +01:00 (a time without a zone is never assumed)", key, clip(s))
		return "", false
	case err != nil:
		c.add(join(path, key), report.CodeInvalidTimestamp, "%s %q is not an ISO 8601 date-time with a zone, e.g. 2026-03-02T10:00:00+01:00", key, clip(s))
		return "", false
	}
	return s, true
}

// instant parses a date-time that dateTime accepted, for ordering; the zero
// time when it has no zone.
func instant(s string) time.Time {
	t, _ := report.ParseTimestamp(strings.TrimSpace(s))
	return t
}

// unknownKeys reports members outside allowed, for the schema objects that
// say additionalProperties: false.
func (c *checker) unknownKeys(o map[string]any, path string, allowed ...string) {
	keys := make([]string, 0, len(o))
	for k := range o {
		if !slices.Contains(allowed, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.add(join(path, k), report.CodeUnknownField, "%s is not a member of %s (allowed: %s)", clip(k), path, strings.Join(allowed, ", "))
	}
}
