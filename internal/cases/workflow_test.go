package cases

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// matrixActions are the columns of wantMatrix; the test fails if Actions
// changes so that the matrix cannot silently go stale.
var matrixActions = []Action{Notify, CustomerResponse, RequestInfo, InfoReceived, Escalate, Extend, Assign, Note, Resolve, Dismiss, Merge, Reopen}

// wantMatrix is the transition table written out independently of the
// implementation: "-" refused, "=" status unchanged, else the new status.
var wantMatrix = map[Status][12]string{
	// columns: notify customer_response request_info info_received escalate extend assign note resolve dismiss merge reopen
	New:               {"customer_notified", "-", "needs_info", "-", "escalated", "=", "=", "=", "resolved", "dismissed", "merged", "-"},
	CustomerNotified:  {"-", "customer_responded", "needs_info", "-", "escalated", "=", "=", "=", "resolved", "dismissed", "merged", "-"},
	CustomerResponded: {"customer_notified", "-", "needs_info", "-", "escalated", "=", "=", "=", "resolved", "dismissed", "merged", "-"},
	NeedsInfo:         {"customer_notified", "-", "-", "new", "escalated", "-", "=", "=", "resolved", "dismissed", "merged", "-"},
	Escalated:         {"customer_notified", "customer_responded", "needs_info", "-", "-", "=", "=", "=", "resolved", "dismissed", "merged", "-"},
	Reopened:          {"customer_notified", "-", "needs_info", "-", "escalated", "=", "=", "=", "resolved", "dismissed", "merged", "-"},
	Resolved:          {"-", "-", "-", "-", "-", "-", "=", "=", "-", "-", "-", "reopened"},
	Dismissed:         {"-", "-", "-", "-", "-", "-", "=", "=", "-", "-", "-", "reopened"},
	Merged:            {"-", "-", "-", "-", "-", "-", "-", "=", "-", "-", "-", "-"},
}

// caseIn builds a consistent case in status s, as the workflow would leave it.
func caseIn(t *testing.T, s Status) Case {
	t.Helper()
	p := DefaultPolicy()
	c := p.Open("network", t0)
	if err := c.Join("ddos", true, t0, t0, p); err != nil {
		t.Fatal(err)
	}
	c.Status = s
	c.Assignee = "alice"
	switch s {
	case NeedsInfo:
		c.Deadline = time.Time{}
	case CustomerNotified:
		c.Deadline = t0.Add(p.ResponseFor(c.Category))
	case Resolved, Dismissed:
		c.Deadline, c.ClosedAt, c.Outcome = time.Time{}, t0, ReviewedNoAction
	case Merged:
		c.Deadline, c.ClosedAt, c.MergedInto = time.Time{}, t0, "c2"
	}
	if s != New {
		c.FirstActionAt = t0
	}
	return c
}

// validCmd is a command whose content is acceptable, so that only the
// transition table can refuse it.
func validCmd(a Action) Command {
	cmd := Command{Action: a, Self: "c1"}
	switch a {
	case Resolve:
		cmd.Outcome = Actioned
	case Extend:
		cmd.Extend = time.Hour
	case Assign:
		cmd.Assignee = "bob"
	case Note:
		cmd.Note = "called the customer"
	case Merge:
		cmd.Into = "c2"
	}
	return cmd
}

func TestTransitionMatrix(t *testing.T) {
	if !slices.Equal(Actions, matrixActions) {
		t.Fatalf("Actions = %v; update matrixActions and wantMatrix", Actions)
	}
	if len(wantMatrix) != len(Statuses) {
		t.Fatalf("wantMatrix has %d rows, Statuses %d", len(wantMatrix), len(Statuses))
	}
	p := DefaultPolicy()
	now := t0.Add(time.Hour)
	for _, s := range Statuses {
		row, ok := wantMatrix[s]
		if !ok {
			t.Fatalf("no row for %s", s)
		}
		var allowed []Action
		for i, a := range matrixActions {
			want := row[i]
			got, err := Next(s, a)
			c := caseIn(t, s)
			before := c
			ch, aerr := c.Apply(validCmd(a), now, p)
			switch want {
			case "-":
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeIllegalTransition || e.From != s || e.Action != a {
					t.Errorf("Next(%s, %s) = %v, %v; want illegal_transition", s, a, got, err)
				}
				if !errors.As(aerr, &e) || e.Code != CodeIllegalTransition {
					t.Errorf("Apply %s on %s: err %v; want illegal_transition", a, s, aerr)
				}
				if !reflect.DeepEqual(c, before) {
					t.Errorf("refused %s on %s changed the case", a, s)
				}
				continue
			case "=":
				want = string(s)
			}
			allowed = append(allowed, a)
			if err != nil || got != Status(want) {
				t.Errorf("Next(%s, %s) = %v, %v; want %s", s, a, got, err, want)
			}
			if aerr != nil || c.Status != Status(want) || ch.From != s || ch.To != Status(want) || ch.Action != a {
				t.Errorf("Apply %s on %s: status %s, change %+v, err %v; want %s", a, s, c.Status, ch, aerr, want)
			}
		}
		if got := Allowed(s); !slices.Equal(got, allowed) {
			t.Errorf("Allowed(%s) = %v; want %v", s, got, allowed)
		}
	}
}

func TestNextUnknown(t *testing.T) {
	for _, tc := range []struct {
		s Status
		a Action
	}{{"bogus", Notify}, {"", Note}, {New, "bogus"}, {New, ""}} {
		var e *Error
		if _, err := Next(tc.s, tc.a); !errors.As(err, &e) || e.Code != CodeIllegalTransition {
			t.Errorf("Next(%q, %q): %v; want illegal_transition", tc.s, tc.a, err)
		}
	}
	if Allowed("bogus") != nil {
		t.Error("Allowed(bogus) offers actions")
	}
}

func TestStatusPredicates(t *testing.T) {
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		closed := s == Resolved || s == Dismissed || s == Merged
		if s.Open() == closed {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
	}
	if Status("open").Valid() || Status("").Valid() || Status("").Open() {
		t.Error("unknown statuses accepted")
	}
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "not *Error: " + err.Error()
	}
	return ""
}

func TestOutcomes(t *testing.T) {
	p := DefaultPolicy()
	if got := OutcomesFor(Resolve); !slices.Equal(got, Outcomes) || len(got) != 5 {
		t.Errorf("OutcomesFor(resolve) = %v", got)
	}
	if got := OutcomesFor(Dismiss); !slices.Equal(got, []Outcome{ReviewedNoAction, NotResolvable, NeedMoreInformation}) {
		t.Errorf("OutcomesFor(dismiss) = %v", got)
	}
	for _, a := range Actions {
		if a != Resolve && a != Dismiss && OutcomesFor(a) != nil {
			t.Errorf("OutcomesFor(%s) = %v", a, OutcomesFor(a))
		}
	}
	// Resolving OutcomesFor's result must not alter the package's list.
	OutcomesFor(Resolve)[0] = "X"
	if Outcomes[0] != Actioned {
		t.Fatal("OutcomesFor(Resolve) aliases Outcomes")
	}

	for _, tc := range []struct {
		a       Action
		o       Outcome
		code    string
		outcome Outcome
	}{
		{Resolve, "", CodeOutcomeRequired, ""},
		{Resolve, "BOGUS", CodeOutcomeNotAllowed, ""},
		{Resolve, Actioned, "", Actioned},
		{Resolve, ReviewedNoAction, "", ReviewedNoAction},
		{Resolve, ContentDown, "", ContentDown},
		{Resolve, NeedMoreInformation, "", NeedMoreInformation},
		{Resolve, NotResolvable, "", NotResolvable},
		{Dismiss, "", "", ReviewedNoAction},
		{Dismiss, NotResolvable, "", NotResolvable},
		{Dismiss, NeedMoreInformation, "", NeedMoreInformation},
		{Dismiss, Actioned, CodeOutcomeNotAllowed, ""},
		{Dismiss, ContentDown, CodeOutcomeNotAllowed, ""},
		{Escalate, Actioned, CodeOutcomeNotAllowed, ""},
		{Merge, Actioned, CodeOutcomeNotAllowed, ""},
	} {
		c := caseIn(t, CustomerNotified)
		before := c
		now := t0.Add(2 * time.Hour)
		_, err := c.Apply(Command{Action: tc.a, Outcome: tc.o, Into: "c9"}, now, p)
		if code(err) != tc.code {
			t.Errorf("%s with %q: code %q; want %q", tc.a, tc.o, code(err), tc.code)
			continue
		}
		if err != nil {
			if !reflect.DeepEqual(c, before) {
				t.Errorf("%s with %q: refused but changed the case", tc.a, tc.o)
			}
			continue
		}
		if c.Outcome != tc.outcome {
			t.Errorf("%s with %q: outcome %q; want %q", tc.a, tc.o, c.Outcome, tc.outcome)
		}
	}
}

func TestDeadlines(t *testing.T) {
	p := DefaultPolicy()
	for cat, want := range map[string]time.Duration{"network": 24 * time.Hour, "email": 48 * time.Hour, "content": 48 * time.Hour, "dmca": 24 * time.Hour, "legal": 72 * time.Hour} {
		if c := p.Open(cat, t0); !c.Deadline.Equal(t0.Add(want)) || c.Status != New || !c.CreatedAt.Equal(t0) {
			t.Errorf("Open(%s): %+v; want deadline +%s", cat, c, want)
		}
	}

	c := p.Open("email", t0)
	step := func(now time.Time, cmd Command, wantStatus Status, wantDeadline time.Time) Change {
		t.Helper()
		ch, err := c.Apply(cmd, now, p)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Action, err)
		}
		if c.Status != wantStatus || !c.Deadline.Equal(wantDeadline) {
			t.Fatalf("%s: status %s deadline %v; want %s %v", cmd.Action, c.Status, c.Deadline, wantStatus, wantDeadline)
		}
		return ch
	}
	t1 := t0.Add(3 * time.Hour)
	ch := step(t1, Command{Action: Notify}, CustomerNotified, t1.Add(48*time.Hour))
	if !c.FirstActionAt.Equal(t1) {
		t.Errorf("FirstActionAt = %v; want %v", c.FirstActionAt, t1)
	}
	dl := ch.Detail["deadline"].(map[string]any)
	if !dl["from"].(time.Time).Equal(t0.Add(48*time.Hour)) || !dl["to"].(time.Time).Equal(t1.Add(48*time.Hour)) {
		t.Errorf("notify detail %v", ch.Detail)
	}
	var decoded map[string]any
	if err := json.Unmarshal([]byte(ch.DetailJSON()), &decoded); err != nil || decoded["deadline"] == nil {
		t.Errorf("DetailJSON %q: %v", ch.DetailJSON(), err)
	}

	t2 := t1.Add(time.Hour)
	step(t2, Command{Action: CustomerResponse}, CustomerResponded, t2.Add(48*time.Hour))
	step(t2, Command{Action: RequestInfo}, NeedsInfo, time.Time{})
	t3 := t2.Add(5 * 24 * time.Hour)
	step(t3, Command{Action: InfoReceived}, New, t3.Add(48*time.Hour))
	step(t3, Command{Action: Escalate}, Escalated, t3.Add(48*time.Hour))
	if !c.Escalated {
		t.Error("escalate did not set Escalated")
	}
	t4 := t3.Add(time.Hour)
	step(t4, Command{Action: Resolve, Outcome: Actioned}, Resolved, time.Time{})
	if !c.ClosedAt.Equal(t4) {
		t.Errorf("ClosedAt = %v", c.ClosedAt)
	}
	t5 := t4.Add(24 * time.Hour)
	step(t5, Command{Action: Reopen}, Reopened, t5.Add(48*time.Hour))
	if c.Outcome != "" || !c.ClosedAt.IsZero() || !c.Escalated {
		t.Errorf("reopen: %+v", c)
	}
	if !c.FirstActionAt.Equal(t1) {
		t.Errorf("FirstActionAt moved to %v", c.FirstActionAt)
	}
}

func TestExtend(t *testing.T) {
	p := DefaultPolicy()
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name     string
		deadline time.Time
		ext      time.Duration
		code     string
		want     time.Time
	}{
		{"from future deadline", now.Add(10 * time.Hour), 24 * time.Hour, "", now.Add(34 * time.Hour)},
		{"overdue: from now", now.Add(-10 * time.Hour), 24 * time.Hour, "", now.Add(24 * time.Hour)},
		{"max", now, 30 * 24 * time.Hour, "", now.Add(30 * 24 * time.Hour)},
		{"over max", now, 30*24*time.Hour + time.Nanosecond, CodeBadExtension, time.Time{}},
		{"zero", now, 0, CodeBadExtension, time.Time{}},
		{"negative", now, -time.Hour, CodeBadExtension, time.Time{}},
		{"no deadline", time.Time{}, time.Hour, CodeBadExtension, time.Time{}},
	} {
		c := caseIn(t, CustomerNotified)
		c.Deadline = tc.deadline
		before := c
		ch, err := c.Apply(Command{Action: Extend, Extend: tc.ext}, now, p)
		if code(err) != tc.code {
			t.Errorf("%s: code %q; want %q", tc.name, code(err), tc.code)
			continue
		}
		if err != nil {
			if !reflect.DeepEqual(c, before) {
				t.Errorf("%s: refused but changed", tc.name)
			}
			continue
		}
		if !c.Deadline.Equal(tc.want) || c.Status != CustomerNotified || ch.Detail["extend"] != tc.ext.String() {
			t.Errorf("%s: deadline %v status %s detail %v; want %v", tc.name, c.Deadline, c.Status, ch.Detail, tc.want)
		}
	}
	p.MaxExtension = time.Hour
	c := caseIn(t, New)
	if _, err := c.Apply(Command{Action: Extend, Extend: 2 * time.Hour}, now, p); code(err) != CodeBadExtension {
		t.Errorf("policy MaxExtension ignored: %v", err)
	}
}

func TestEscalateIfDue(t *testing.T) {
	p := DefaultPolicy()
	c := caseIn(t, New)
	c.FirstActionAt = time.Time{}
	if _, err := c.Apply(Command{Action: Notify}, t0, p); err != nil {
		t.Fatal(err)
	}
	due := c.Deadline
	first := c.FirstActionAt
	for _, now := range []time.Time{t0, due.Add(-time.Second), due} {
		if _, ok := c.EscalateIfDue(now, p); ok || c.Overdue(now) {
			t.Errorf("escalated or overdue at %v before deadline %v", now, due)
		}
	}
	before := c.Priority
	now := due.Add(time.Second)
	if !c.Overdue(now) {
		t.Error("not overdue after deadline")
	}
	ch, ok := c.EscalateIfDue(now, p)
	if !ok || c.Status != Escalated || !c.Escalated || ch.From != CustomerNotified || ch.To != Escalated || ch.Action != Escalate {
		t.Fatalf("EscalateIfDue: %v %+v %+v", ok, c, ch)
	}
	// The priority is recomputed at now (the DDoS is no longer ongoing), bump included.
	plain := c
	plain.Escalated = false
	if c.Priority != p.Score(c, now) || c.Priority != p.Score(plain, now)+p.EscalationBump || ch.Detail["reason"] == nil {
		t.Errorf("priority %d -> %d, detail %v", before, c.Priority, ch.Detail)
	}
	if !c.Deadline.Equal(now.Add(p.TriageFor("network"))) || c.Overdue(now) {
		t.Errorf("escalated deadline %v", c.Deadline)
	}
	if !c.FirstActionAt.Equal(first) {
		t.Error("the job counted as the desk's first action")
	}
	if _, ok := c.EscalateIfDue(now.Add(1000*time.Hour), p); ok {
		t.Error("escalated twice")
	}
	// Only customer_notified is the job's business.
	for _, s := range Statuses {
		if s == CustomerNotified {
			continue
		}
		c := caseIn(t, s)
		c.Deadline = t0
		before := c
		if _, ok := c.EscalateIfDue(t0.Add(1000*time.Hour), p); ok || !reflect.DeepEqual(c, before) {
			t.Errorf("EscalateIfDue escalated a %s case", s)
		}
	}
}

func TestOverdueClosed(t *testing.T) {
	c := caseIn(t, Resolved)
	c.Deadline = t0 // inconsistent on purpose: closed is never overdue
	if c.Overdue(t0.Add(time.Hour)) {
		t.Error("closed case overdue")
	}
}

func TestJoin(t *testing.T) {
	p := DefaultPolicy()
	c := p.Open("content", t0)
	if c.Reports != 0 || c.Priority != 15 {
		t.Fatalf("Open: %+v", c)
	}
	for _, j := range []struct {
		sub string
		nr  bool
		at  time.Time
	}{{"phishing", true, t0.Add(-time.Hour)}, {"malware", false, t0.Add(-3 * time.Hour)}, {"phishing", true, t0}, {"", false, time.Time{}}} {
		prio := c.Priority
		if err := c.Join(j.sub, j.nr, j.at, t0, p); err != nil {
			t.Fatal(err)
		}
		if c.Priority < prio {
			t.Errorf("priority fell %d -> %d", prio, c.Priority)
		}
	}
	if !slices.Equal(c.Subtypes, []string{"malware", "phishing"}) || c.Reports != 4 || c.Reporters != 2 || !c.LastIncident.Equal(t0) {
		t.Errorf("after joins: %+v", c)
	}

	// A copy taken before a Join must not see the new subtype.
	snapshot := c
	if err := c.Join("web_content", false, t0, t0, p); err != nil {
		t.Fatal(err)
	}
	if len(snapshot.Subtypes) != 2 || snapshot.Subtypes[0] != "malware" {
		t.Errorf("Join wrote through a shared slice: %v", snapshot.Subtypes)
	}

	for _, s := range []Status{Resolved, Dismissed, Merged} {
		c := caseIn(t, s)
		before := c
		if err := c.Join("ddos", true, t0, t0, p); code(err) != CodeCaseClosed || !reflect.DeepEqual(c, before) {
			t.Errorf("Join on %s: %v", s, err)
		}
	}
}

func TestMerge(t *testing.T) {
	p := DefaultPolicy()
	c := caseIn(t, CustomerResponded)
	for _, tc := range []struct {
		into, self, code string
	}{{"", "c1", CodeMergeTargetRequired}, {"  ", "c1", CodeMergeTargetRequired}, {"c1", "c1", CodeMergeSelf}} {
		if _, err := c.Apply(Command{Action: Merge, Into: tc.into, Self: tc.self}, t0, p); code(err) != tc.code {
			t.Errorf("merge %q into %q: %v; want %s", tc.self, tc.into, err, tc.code)
		}
	}
	now := t0.Add(time.Hour)
	ch, err := c.Apply(Command{Action: Merge, Into: "c7", Self: "c1"}, now, p)
	if err != nil || c.Status != Merged || c.MergedInto != "c7" || !c.ClosedAt.Equal(now) || !c.Deadline.IsZero() || c.Outcome != "" {
		t.Fatalf("merge: %+v %v", c, err)
	}
	if m := ch.Detail["merged_into"].(map[string]any); m["to"] != "c7" {
		t.Errorf("detail %v", ch.Detail)
	}
	before := c
	if _, err := c.Apply(Command{Action: Note, Note: "merged, see c7"}, now, p); err != nil || !reflect.DeepEqual(c, before) {
		t.Errorf("note on merged: %v", err)
	}
}

func TestAssignAndNote(t *testing.T) {
	p := DefaultPolicy()
	c := p.Open("dmca", t0)
	if _, err := c.Apply(Command{Action: Assign}, t0, p); code(err) != CodeAssigneeRequired {
		t.Errorf("unassign an unassigned case: %v", err)
	}
	for _, n := range []string{"", "  \n"} {
		if _, err := c.Apply(Command{Action: Note, Note: n}, t0, p); code(err) != CodeNoteRequired {
			t.Errorf("note %q: %v", n, err)
		}
	}
	ch, err := c.Apply(Command{Action: Note, Note: " looked at it "}, t0, p)
	if err != nil || ch.Detail["note"] != "looked at it" || !c.FirstActionAt.IsZero() {
		t.Errorf("note: %v %v %v", err, ch.Detail, c.FirstActionAt)
	}
	t1 := t0.Add(time.Minute)
	ch, err = c.Apply(Command{Action: Assign, Assignee: " alice "}, t1, p)
	if err != nil || c.Assignee != "alice" || !c.FirstActionAt.Equal(t1) {
		t.Fatalf("assign: %v %+v", err, c)
	}
	if a := ch.Detail["assignee"].(map[string]any); a["from"] != "" || a["to"] != "alice" {
		t.Errorf("assign detail %v", ch.Detail)
	}
	if _, err := c.Apply(Command{Action: Assign}, t1.Add(time.Minute), p); err != nil || c.Assignee != "" {
		t.Errorf("unassign: %v %q", err, c.Assignee)
	}
	if !c.FirstActionAt.Equal(t1) {
		t.Errorf("FirstActionAt moved")
	}
}

func TestErrorIs(t *testing.T) {
	_, err := Next(Merged, Reopen)
	if !errors.Is(err, &Error{Code: CodeIllegalTransition}) || errors.Is(err, &Error{Code: CodeMergeSelf}) {
		t.Errorf("errors.Is by code: %v", err)
	}
	if err.Error() == "" {
		t.Error("empty message")
	}
}
