package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

type bulkBody struct {
	ID            string             `json:"id"`
	Accepted      int                `json:"accepted"`
	Rejected      []store.BulkReject `json:"rejected"`
	RejectedCount int                `json:"rejected_count"`
	StatusURL     string             `json:"status_url"`
	StatusAPIURL  string             `json:"status_api_url"`
}

type bulkErrorBody struct {
	Errors        report.Errors      `json:"errors"`
	Rejected      []store.BulkReject `json:"rejected,omitempty"`
	RejectedCount int                `json:"rejected_count,omitempty"`
}

// handleBulk is POST /api/v1/reports/bulk: multipart/form-data with a
// "report" part (JSON: the common fields) and then a "file" part (CSV). The
// file is streamed, never held whole.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, http.StatusUnsupportedMediaType, "", "unsupported_media_type", "send multipart/form-data with a \"report\" part (JSON) and a \"file\" part (CSV)")
		return
	}
	// The limit covers the file and the report part; the file's own limit is
	// checked exactly while it streams.
	r.Body = http.MaxBytesReader(w, r.Body, s.intake.Bulk.MaxBytes+s.cfg.MaxBodyBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid_multipart", "the multipart body could not be read: "+err.Error())
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "Idempotency-Key", report.CodeTooLarge, "an Idempotency-Key is at most 255 characters")
		return
	}
	var common *report.Report
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.bulkReadError(w, err)
			return
		}
		switch part.FormName() {
		case "report":
			body, err := io.ReadAll(io.LimitReader(part, s.cfg.MaxBodyBytes+1))
			if err != nil {
				s.bulkReadError(w, err)
				return
			}
			if int64(len(body)) > s.cfg.MaxBodyBytes {
				writeError(w, http.StatusRequestEntityTooLarge, "report", report.CodeTooLarge, "the report part is too large")
				return
			}
			common = &report.Report{}
			if es := intake.DecodeStrict(body, common); len(es) > 0 {
				for i := range es {
					es[i].Field = prefixField("report", es[i].Field)
				}
				writeErrors(w, http.StatusUnprocessableEntity, es)
				return
			}
		case "file":
			if common == nil {
				writeError(w, http.StatusUnprocessableEntity, "report", report.CodeRequired, "send the \"report\" part (JSON: type, subtype, reporter…) before the \"file\" part")
				return
			}
			out, es, err := s.intake.SubmitBulk(r.Context(), common, part, part.Header.Get("Content-Type"), key)
			switch {
			case errors.Is(err, intake.ErrTooLarge):
				writeError(w, http.StatusRequestEntityTooLarge, "file", report.CodeTooLarge, "the file is larger than "+humanBytes(s.intake.Bulk.MaxBytes)+": split it")
			case err != nil:
				s.bulkReadError(w, err)
			case len(es) > 0:
				for i := range es {
					if es[i].Field != "file" {
						es[i].Field = prefixField("report", es[i].Field)
					}
				}
				b := bulkErrorBody{Errors: es}
				if out != nil {
					b.Rejected, b.RejectedCount = out.Rejected, out.RejectedCount
				}
				writeJSON(w, http.StatusUnprocessableEntity, b)
			default:
				if out.Rejected == nil {
					out.Rejected = []store.BulkReject{}
				}
				code := http.StatusCreated
				if out.Replayed { // the first upload's receipt and counts
					w.Header().Set("Idempotent-Replayed", "true")
					code = http.StatusOK
				}
				w.Header().Set("Location", "/api/v1/reports/"+out.PublicID)
				writeJSON(w, code, bulkBody{ID: out.PublicID, Accepted: out.Accepted, Rejected: out.Rejected,
					RejectedCount: out.RejectedCount, StatusURL: s.statusURL(r, out.Receipt, common.Language),
					StatusAPIURL: s.statusAPIURL(r, out.Receipt)})
			}
			// Anything after the file is ignored: the answer is given.
			return
		default:
			// Unknown parts are refused like unknown JSON fields.
			writeError(w, http.StatusUnprocessableEntity, part.FormName(), report.CodeUnknownField, "unknown part "+strconv.Quote(clipName(part.FormName()))+": send \"report\" and \"file\"")
			return
		}
	}
	writeError(w, http.StatusUnprocessableEntity, "file", report.CodeRequired, "the CSV \"file\" part is missing")
}

func (s *Server) bulkReadError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "file", report.CodeTooLarge, "the upload is too large")
		return
	}
	s.log.Warn("bulk upload", "err", err)
	writeError(w, http.StatusBadRequest, "", "read_error", "the upload could not be read: "+err.Error())
}

func prefixField(prefix, field string) string {
	if field == "" {
		return prefix
	}
	return prefix + "." + field
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
