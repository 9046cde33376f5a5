package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"abusedesk/internal/report"
)

// DecodeStrict decodes a JSON object into v (a pointer to a struct), refusing
// unknown fields, trailing data and wrong types. Every problem comes back with
// its path ("incidents[3].source_port"), all at once: encoding/json stops at
// the first and names no index, so on failure the document is walked a second
// time against v's type. The fast path costs one ordinary Decode.
func DecodeStrict(data []byte, v any) report.Errors {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return report.Errors{{Field: "", Code: report.CodeInvalidJSON, Message: "unexpected data after the JSON object"}}
		}
		if _, err := dec.Token(); err == nil {
			return report.Errors{{Field: "", Code: report.CodeInvalidJSON, Message: "unexpected data after the JSON object"}}
		}
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		line, col := position(data, syn)
		msg := "the body is not valid JSON"
		if syn != nil {
			msg = fmt.Sprintf("the body is not valid JSON: %s at line %d, column %d", syn.Error(), line, col)
		}
		return report.Errors{{Field: "", Code: report.CodeInvalidJSON, Message: msg}}
	}
	var doc any
	d2 := json.NewDecoder(bytes.NewReader(data))
	d2.UseNumber()
	if d2.Decode(&doc) != nil {
		return report.Errors{{Field: "", Code: report.CodeInvalidJSON, Message: "the body is not valid JSON"}}
	}
	var es report.Errors
	walk(doc, reflect.TypeOf(v).Elem(), "", &es)
	if len(es) == 0 { // the walk should explain every decode error; never answer with none
		es = report.Errors{{Field: "", Code: report.CodeInvalidJSON, Message: err.Error()}}
	}
	return es
}

func position(data []byte, syn *json.SyntaxError) (line, col int) {
	if syn == nil {
		return 0, 0
	}
	off := int(syn.Offset)
	if off > len(data) {
		off = len(data)
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// walk compares a generic JSON value with the Go type it must decode into.
func walk(v any, t reflect.Type, path string, es *report.Errors) {
	for t.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		t = t.Elem()
	}
	wrong := func(want string) {
		*es = append(*es, report.FieldError{Field: path, Code: report.CodeWrongType,
			Message: fmt.Sprintf("expected %s, got %s", want, jsonKind(v))})
	}
	if v == nil {
		return // null leaves the zero value, as encoding/json does
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			wrong("an object")
			return
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[strings.ToLower(name)] = f
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f, ok := fields[strings.ToLower(k)]
			if !ok {
				*es = append(*es, report.FieldError{Field: join(path, k), Code: report.CodeUnknownField,
					Message: fmt.Sprintf("unknown field %q", clip(k))})
				continue
			}
			walk(obj[k], f.Type, join(path, k), es)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			wrong("an array")
			return
		}
		for i, e := range arr {
			walk(e, t.Elem(), path+"["+strconv.Itoa(i)+"]", es)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrong("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrong("true or false")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			wrong("an integer")
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			*es = append(*es, report.FieldError{Field: path, Code: report.CodeWrongType, Message: fmt.Sprintf("expected an integer, got %s", n)})
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "null"
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
