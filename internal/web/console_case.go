package web

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
)

// timelineEntry is one line of a case's history: a report joining, or an
// entry of the audit trail (state changes, notes, assignments, deadlines).
type timelineEntry struct {
	At     time.Time
	Kind   string // report | audit
	Actor  string
	Action string
	Report string
	Items  int
	Detail map[string]any
	Lines  []string // Detail as "key: from → to" for the page
	Note   string
	Seq    int64
	Hash   string
	// Repeats counts the identical entries folded into this one (up to
	// entry LastSeq).
	Repeats int
	LastSeq int64
	raw     string
}

type evidenceView struct {
	store.CaseItem
	Why string // the prefix or host pattern that decides, per the attribution in effect
}

type casePage struct {
	Case      caseView
	Resource  *store.ResourceInfo
	Allowed   []cases.Action
	Resolve   []cases.Outcome
	Dismiss   []cases.Outcome
	Timeline  []timelineEntry
	Reports   []store.CaseReport
	Evidence  []evidenceView
	Error     string
	Customer  *store.Account
	Staff     []store.User
	ExtendMax string
	Talk      *conversationView
}

func (s *Server) loadCasePage(r *http.Request, id string) (*casePage, *store.Case, error) {
	ctx := r.Context()
	c, err := s.store.CaseByPublicID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	p := &casePage{Case: s.view(c, now), Allowed: cases.Allowed(c.Status), Resolve: cases.OutcomesFor(cases.Resolve),
		Dismiss: cases.OutcomesFor(cases.Dismiss), ExtendMax: shortDuration(s.Policy.MaxExtension)}
	if ri, err := s.store.ResourceInfo(ctx, c.Resource); err == nil {
		p.Resource = ri
	}
	if p.Reports, err = s.store.CaseReports(ctx, c.ID, 200); err != nil {
		return nil, nil, err
	}
	ev, err := s.store.CaseEvidence(ctx, c, 50)
	if err != nil {
		return nil, nil, err
	}
	attr := s.intake.Attributor()
	for i, e := range ev {
		v := evidenceView{CaseItem: e}
		if attr != nil && i < 20 {
			if a, err := netip.ParseAddr(e.SourceIP); err == nil {
				v.Why = attr.Addr(a, e.At).Matched
			} else if e.URL != "" {
				if vd, ok := attr.URL(e.URL, now); ok {
					v.Why = vd.Matched
				}
			}
		}
		p.Evidence = append(p.Evidence, v)
	}
	audit, err := s.store.CaseAudit(ctx, c.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range audit {
		// A customer or reporter who reloads a page naming the other side
		// discloses again each time (each is audited): the timeline shows
		// a run of them as one line with its count.
		if n := len(p.Timeline); n > 0 && e.Action == "disclosed" && p.Timeline[n-1].Action == "disclosed" && p.Timeline[n-1].raw == e.Detail {
			p.Timeline[n-1].Repeats++
			p.Timeline[n-1].LastSeq = e.Seq
			continue
		}
		te := timelineEntry{At: e.At, Kind: "audit", Actor: e.Actor, Action: e.Action, Seq: e.Seq, raw: e.Detail}
		json.Unmarshal([]byte(e.Detail), &te.Detail)
		if n, ok := te.Detail["note"].(string); ok {
			te.Note = n
			delete(te.Detail, "note")
		}
		te.Lines = detailLines(te.Detail)
		if len(e.Hash) >= 4 {
			te.Hash = hex.EncodeToString(e.Hash[:4])
		}
		p.Timeline = append(p.Timeline, te)
	}
	// After the audit entries, so that at the same instant the case opens
	// before its first report joins it.
	for _, rep := range p.Reports {
		p.Timeline = append(p.Timeline, timelineEntry{At: rep.AddedAt, Kind: "report", Report: rep.PublicID, Items: rep.Items, Actor: rep.Channel})
	}
	sort.SliceStable(p.Timeline, func(i, j int) bool { return p.Timeline[i].At.Before(p.Timeline[j].At) })
	if p.Talk, err = s.loadConversation(ctx, c, p.Reports, now); err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

func (s *Server) handleCasePage(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.loadConsoleCase(r)
	if s.caseFailed(w, r, err, false) {
		return
	}
	if code := r.URL.Query().Get("error"); code != "" {
		// The refusal's reason, translated; the code alone if unknown (it
		// comes from the URL: never rendered as anything but text).
		p.Error = s.pages.T(consoleLang(r), "case.error."+code)
		if p.Error == "case.error."+code {
			p.Error = code
		}
	}
	s.renderConsole(w, r, http.StatusOK, "console_case", p)
}

// loadConsoleCase is loadCasePage plus what only the page's forms need:
// the staff to assign to.
func (s *Server) loadConsoleCase(r *http.Request) (*casePage, *store.Case, error) {
	p, c, err := s.loadCasePage(r, r.PathValue("id"))
	if err == nil {
		p.Staff, err = s.store.Users(r.Context())
	}
	return p, c, err
}

// caseFailed answers a case that could not be read (404 for an unknown
// id, as a page or as JSON, 500 otherwise) and says whether it did.
func (s *Server) caseFailed(w http.ResponseWriter, r *http.Request, err error, api bool) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound) && api:
		writeError(w, http.StatusNotFound, "id", "not_found", "no case "+r.PathValue("id"))
	case errors.Is(err, store.ErrNotFound):
		s.renderConsole(w, r, http.StatusNotFound, "console_notfound", r.PathValue("id"))
	default:
		s.internalError(w, r, err)
	}
	return true
}

// handleCustomer shows the identity of the customer behind a case; every
// view is written to the audit trail (who looked, when, at which case).
func (s *Server) handleCustomer(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	p, c, err := s.loadConsoleCase(r)
	if s.caseFailed(w, r, err, false) {
		return
	}
	acct, err := s.customerIdentity(r, c, sess.User.Email, "console")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internalError(w, r, err)
		return
	}
	if acct == nil {
		acct = &store.Account{ExtID: c.Account}
	}
	p.Customer = acct
	s.renderConsole(w, r, http.StatusOK, "console_case", p)
}

func (s *Server) customerIdentity(r *http.Request, c *store.Case, actor, channel string) (*store.Account, error) {
	if err := s.store.RecordAudit(r.Context(), store.Audit{Actor: actor, Action: "customer_viewed", CaseID: c.ID, CasePub: c.PublicID,
		Detail: map[string]any{"account": c.Account, "channel": channel}, At: s.now()}); err != nil {
		return nil, err
	}
	return s.store.AccountIdentity(r.Context(), c.Account)
}

// detailLines words an audit entry's detail: "deadline: 2026-11-25 10:00
// UTC → 2026-11-26 10:00 UTC", in key order.
func detailLines(d map[string]any) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	show := func(v any) string {
		switch x := v.(type) {
		case nil:
			return "—"
		case string:
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC().Format("2006-01-02 15:04 UTC")
			}
			if x == "" {
				return "—"
			}
			return x
		default:
			return fmt.Sprint(x)
		}
	}
	var out []string
	for _, k := range keys {
		if m, ok := d[k].(map[string]any); ok {
			if from, ok := m["from"]; ok {
				out = append(out, k+": "+show(from)+" → "+show(m["to"]))
				continue
			}
		}
		out = append(out, k+": "+show(d[k]))
	}
	return out
}

// commandFrom reads an action's form or JSON fields.
func commandFrom(get func(string) string) (cases.Command, error) {
	cmd := cases.Command{Action: cases.Action(get("action")), Outcome: cases.Outcome(get("outcome")), Assignee: strings.TrimSpace(get("assignee")),
		Note: strings.TrimSpace(get("note")), Into: strings.TrimSpace(get("into"))}
	if e := strings.TrimSpace(get("extend")); e != "" {
		d, err := parseExtension(e)
		if err != nil {
			return cmd, &cases.Error{Code: "bad_extension", Message: err.Error(), Action: cmd.Action}
		}
		cmd.Extend = d
	}
	if !slices.Contains(cases.Actions, cmd.Action) {
		return cmd, &cases.Error{Code: "unknown_action", Message: "unknown action " + strconv.Quote(string(cmd.Action)), Action: cmd.Action}
	}
	if len(cmd.Note) > 20000 {
		return cmd, &cases.Error{Code: "note_too_long", Message: "a note has at most 20,000 characters", Action: cmd.Action}
	}
	return cmd, nil
}

// applyCase applies cmd as actor; an assignee must be a member of staff.
func (s *Server) applyCase(r *http.Request, id, actor string, cmd cases.Command, p cases.Policy, now time.Time) (*store.Case, cases.Change, error) {
	if cmd.Action == cases.Assign && cmd.Assignee != "" {
		u, err := s.store.UserByEmail(r.Context(), cmd.Assignee)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			return nil, cases.Change{}, &cases.Error{Code: "assignee_unknown", Message: "no member of staff has the email " + strconv.Quote(cmd.Assignee), Action: cmd.Action}
		}
		if err != nil {
			return nil, cases.Change{}, err
		}
		cmd.Assignee = u.Email
	}
	return s.store.ApplyCase(r.Context(), id, actor, cmd, p, now)
}

// parseExtension reads "24h", "90m", "2d" or a number of hours.
func parseExtension(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Hour, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, errors.New("extension: " + strconv.Quote(s) + " is not a duration (e.g. 24h, 2d)")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("extension: " + strconv.Quote(s) + " is not a duration (e.g. 24h, 2d)")
	}
	return d, nil
}

// handleCaseAction applies one action from the case page and comes back to
// it (POST/redirect/GET), with the refusal's message if any.
func (s *Server) handleCaseAction(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	id := r.PathValue("id")
	cmd, err := commandFrom(r.PostFormValue)
	if err == nil {
		_, _, err = s.applyCase(r, id, sess.User.Email, cmd, s.Policy, s.now())
	}
	var ce *cases.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.renderConsole(w, r, http.StatusNotFound, "console_notfound", id)
		return
	case errors.As(err, &ce):
		http.Redirect(w, r, "/console/cases/"+id+"?error="+url.QueryEscape(ce.Code)+"#actions", http.StatusSeeOther)
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/cases/"+id+"#timeline", http.StatusSeeOther)
}

// bulkActions are those offered on a selection in the queue.
var bulkActions = []cases.Action{cases.Assign, cases.Notify, cases.Escalate, cases.Resolve, cases.Dismiss, cases.Note}

// handleBulk applies one action to each selected case; each case is its own
// transaction (one refusal does not undo the others) and the result says
// how many were done and why the others were refused.
func (s *Server) handleBulkCases(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	r.ParseForm()
	ids := r.PostForm["case"]
	lang := consoleLang(r)
	done, refused := s.applyBulk(r, sess.User.Email, ids, r.PostFormValue, func(ce *cases.Error) string {
		if t := s.pages.T(lang, "case.error."+ce.Code); t != "case.error."+ce.Code {
			return t
		}
		return ce.Message
	})
	msg := strconv.Itoa(done) + "/" + strconv.Itoa(len(ids))
	if len(refused) > 0 {
		msg += " — " + strings.Join(refused, "; ")
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/console") {
		back = "/console"
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"done="+url.QueryEscape(msg), http.StatusSeeOther)
}

// applyBulk applies one command to each case; reason words a refusal.
func (s *Server) applyBulk(r *http.Request, actor string, ids []string, get func(string) string, reason func(*cases.Error) string) (int, []string) {
	cmd, err := commandFrom(get)
	if err != nil {
		return 0, []string{err.Error()}
	}
	done := 0
	var refused []string
	if len(ids) > 1000 {
		return 0, []string{"at most 1,000 cases at once"}
	}
	for _, id := range ids {
		_, _, err := s.applyCase(r, id, actor, cmd, s.Policy, s.now())
		var ce *cases.Error
		switch {
		case err == nil:
			done++
		case errors.As(err, &ce):
			refused = append(refused, id+": "+reason(ce))
		case errors.Is(err, store.ErrNotFound):
			refused = append(refused, id+": no such case")
		default:
			s.log.Error("bulk action", "case", id, "err", err)
			refused = append(refused, id+": internal error")
		}
	}
	return done, refused
}
