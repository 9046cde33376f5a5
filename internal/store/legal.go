package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"abusedesk/internal/report"
)

// InsertLegalRequest records a request from an authority in the legal queue,
// with its raw submission.
func (s *Store) InsertLegalRequest(ctx context.Context, q *report.LegalRequest, raw []byte, contentType, channel string, at time.Time) (string, error) {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer t.Rollback()
	sum := sha256.Sum256(raw)
	if raw == nil {
		raw = []byte{}
	}
	rawID, err := s.insertRaw(ctx, sqlTx{t, s}, hex.EncodeToString(sum[:]), contentType, int64(len(raw)), channel, at.UTC(), raw)
	if err != nil {
		return "", err
	}
	ids, _ := json.Marshal(q.Identifiers)
	if q.Identifiers == nil {
		ids = []byte("[]")
	}
	pid := NewPublicID("L-")
	a := q.Authority
	var id int64
	if _, err := (sqlTx{t, s}).scan(ctx, s.Q("insert-legal-request"), []any{pid, "received", q.Language,
		a.Name, a.Email, a.Organization, a.Country, a.Phone, q.Reference, q.LegalBasis, q.Description,
		string(ids), rawID, at.UTC()}, &id); err != nil {
		return "", err
	}
	if err := s.AddMailEventTx(ctx, t, MailEvent{Kind: EventLegalReceived, Detail: map[string]any{"legal_id": id}, At: at}); err != nil {
		return "", err
	}
	return pid, t.Commit()
}

// APIKey is a key that raises a client's rate limit.
type APIKey struct {
	ID   int64
	Name string
}

// AddAPIKey creates a key and returns it; only its hash is kept.
func (s *Store) AddAPIKey(ctx context.Context, name string) (string, error) {
	key := "adk_" + NewToken()
	_, err := s.W.ExecContext(ctx, s.Q("insert-api-key"), name, HashToken(key), time.Now().UTC())
	return key, err
}

// LookupAPIKey finds a live key.
func (s *Store) LookupAPIKey(ctx context.Context, key string) (*APIKey, error) {
	var k APIKey
	err := s.R.QueryRowContext(ctx, s.Q("api-key"), HashToken(key)).Scan(&k.ID, &k.Name)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	return &k, err
}

// Counts returns the number of reports and incidents stored.
func (s *Store) Counts(ctx context.Context) (reports, incidents int64, err error) {
	if err = s.R.QueryRowContext(ctx, s.Q("count-reports")).Scan(&reports); err != nil {
		return
	}
	err = s.R.QueryRowContext(ctx, s.Q("count-incidents")).Scan(&incidents)
	return
}

// RawSubmission reads a stored submission back, bytes and hash.
func (s *Store) RawSubmission(ctx context.Context, rawID int64) (sha string, body []byte, err error) {
	var ct, ch string
	var size int64
	var at time.Time
	if err = s.R.QueryRowContext(ctx, s.Q("raw-meta"), rawID).Scan(&sha, &ct, &size, &ch, &at, &body); err != nil {
		return
	}
	if body != nil {
		return sha, body, nil
	}
	rows, err := s.R.QueryContext(ctx, s.Q("raw-chunks"), rawID)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err = rows.Scan(&b); err != nil {
			return
		}
		body = append(body, b...)
	}
	return sha, body, rows.Err()
}
