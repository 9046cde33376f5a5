// Package intake turns submissions from every channel (JSON API, web form,
// XARF, CSV bulk; mail later) into validated reports and stores them. The
// channels' parsers live in subpackages; this package holds what they share.
package intake

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/report"
	"abusedesk/internal/routing"
	"abusedesk/internal/store"
)

// Channels.
const (
	ChannelAPI   = "api"
	ChannelForm  = "form"
	ChannelXARF  = "xarf"
	ChannelCSV   = "csv"
	ChannelMail  = "mail"
	ChannelLegal = "legal"
)

// Service is the intake core shared by the HTTP handlers and the CLI.
type Service struct {
	Store     *store.Store
	Writer    *store.Writer
	Validator *report.Validator
	Bulk      BulkLimits
	Now       func() time.Time
	// Routing chooses each report's lane; nil: the built-in rules.
	Routing *routing.Rules

	attr atomic.Pointer[attribution.Attributor]
}

// New wires a service on s with a group-commit writer. Close stops it.
func New(s *store.Store, v *report.Validator, bulk BulkLimits) *Service {
	if v == nil {
		v = &report.Validator{}
	}
	return &Service{Store: s, Writer: s.NewWriter(), Validator: v, Bulk: bulk.withDefaults(), Now: time.Now}
}

// Close waits for queued reports to commit.
func (s *Service) Close() { s.Writer.Close() }

// Submission is one report as it arrived.
type Submission struct {
	Report         *report.Report
	Channel        string
	Raw            []byte
	ContentType    string
	IdempotencyKey string
	// NoAck: the sender is a machine, which gets no acknowledgement mail.
	NoAck bool
}

// ErrInvalid wraps validation errors.
var ErrInvalid = errors.New("invalid report")

// Submit validates and stores one report. It returns the receipt once the
// report is committed, or the complete list of problems and nothing stored.
func (s *Service) Submit(ctx context.Context, sub Submission) (store.Receipt, report.Errors, error) {
	if es := s.Validator.Validate(sub.Report); len(es) > 0 {
		countRejects(sub.Channel, es.Codes())
		return store.Receipt{}, es, nil
	}
	now := s.Now()
	s.attribute(sub.Report, now)
	s.route(sub.Report, sub.Channel)
	rc, err := s.Writer.Submit(ctx, &store.NewReport{
		Report: sub.Report, Channel: sub.Channel, Raw: sub.Raw, ContentType: sub.ContentType,
		IdempotencyKey: sub.IdempotencyKey, ReceivedAt: now, NoAck: sub.NoAck,
	})
	if err != nil {
		return rc, nil, err
	}
	if !rc.Replayed {
		reportsAccepted.WithLabelValues(sub.Report.Type, sub.Channel).Inc()
		itemsAccepted.WithLabelValues(sub.Channel).Add(float64(len(sub.Report.Incidents) + len(sub.Report.URLs)))
	}
	return rc, nil, nil
}

// SubmitLegal records a request from an authority in the legal queue.
func (s *Service) SubmitLegal(ctx context.Context, q *report.LegalRequest, raw []byte, contentType string) (string, report.Errors, error) {
	if es := s.Validator.ValidateLegal(q); len(es) > 0 {
		countRejects(ChannelLegal, es.Codes())
		return "", es, nil
	}
	id, err := s.Store.InsertLegalRequest(ctx, q, raw, contentType, ChannelLegal, s.Now())
	return id, nil, err
}
