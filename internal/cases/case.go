package cases

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Case is the state of a case that the rules read and change. Identity,
// account and resource belong to the store; they never influence a rule.
//
// Deadline means "the party whose move it is must act by then": the desk's
// triage time in new, reopened, customer_responded and escalated; the
// customer's response time in customer_notified; none in needs_info (the
// reporter owes us nothing) or in a closed case.
type Case struct {
	Status   Status
	Outcome  Outcome // set exactly when resolved or dismissed
	Category string  // the report type: network, email, content, dmca
	Subtypes []string
	Deadline time.Time // zero = none

	Escalated  bool // sticky: an escalated case keeps its bump after it moves on
	Assignee   string
	MergedInto string // the target case's id once merged

	Reports      int
	Reporters    int       // distinct reporters
	LastIncident time.Time // latest incident time over all reports
	Priority     int       // score 0..100, see Score

	CreatedAt     time.Time
	FirstActionAt time.Time // first command other than a note: time to first action
	ClosedAt      time.Time
}

// Open starts a case for a first report: status new, the triage deadline
// running from now. The report itself is added with Join, like every later
// one, so that counting lives in one place.
func (p Policy) Open(category string, now time.Time) Case {
	c := Case{
		Status:    New,
		Category:  category,
		Deadline:  now.Add(p.TriageFor(category)),
		CreatedAt: now,
	}
	c.Priority = p.Score(c, now)
	return c
}

// Join records one more report: its subtype, whether its reporter is new to
// this case, and its latest incident time; then recomputes the priority. A
// closed case is never joined: the caller opens a new one, so that a
// resolved case's outcome is never silently attached to newer abuse.
func (c *Case) Join(subtype string, newReporter bool, lastIncident time.Time, now time.Time, p Policy) error {
	if !c.Status.Open() {
		return refuse(CodeCaseClosed, c.Status, "", "a case that is %s takes no more reports; open a new one", c.Status)
	}
	if subtype != "" {
		if i, found := slices.BinarySearch(c.Subtypes, subtype); !found {
			// Clip so that Insert allocates: the backing array may be
			// shared with a copy of this Case.
			c.Subtypes = slices.Insert(slices.Clip(c.Subtypes), i, subtype)
		}
	}
	c.Reports++
	if newReporter {
		c.Reporters++
	}
	if lastIncident.After(c.LastIncident) {
		c.LastIncident = lastIncident
	}
	c.Priority = p.Score(*c, now)
	return nil
}

// Command is one request to change a case.
type Command struct {
	Action   Action
	Outcome  Outcome       // resolve (required), dismiss (optional)
	Assignee string        // assign; empty unassigns
	Note     string        // required for note; a comment for any other action
	Extend   time.Duration // extend
	Into     string        // merge: the target case's id
	Self     string        // this case's id, so a case is not merged into itself
}

// Change is what happened, for the audit trail. Detail maps each field that
// changed to {"from": old, "to": new} (times as UTC time.Time, or nil for
// none), plus the command's own inputs: "note" and "extend".
type Change struct {
	Action   Action
	From, To Status
	Detail   map[string]any
}

// DetailJSON is Detail as JSON text (keys sorted), ready for Entry.Detail.
func (ch Change) DetailJSON() string {
	b, err := json.Marshal(ch.Detail)
	if err != nil { // only plain values go in: cannot happen
		return "{}"
	}
	return string(b)
}

// Apply validates cmd against the transition table and the command's own
// rules, and applies it at time now. A refused command returns an *Error and
// leaves the case exactly as it was.
func (c *Case) Apply(cmd Command, now time.Time, p Policy) (Change, error) {
	to, err := Next(c.Status, cmd.Action)
	if err != nil {
		return Change{}, err
	}
	n := *c
	n.Status = to
	fail := func(code, format string, args ...any) (Change, error) {
		return Change{}, refuse(code, c.Status, cmd.Action, format, args...)
	}
	if cmd.Outcome != "" && OutcomesFor(cmd.Action) == nil {
		return fail(CodeOutcomeNotAllowed, "%s takes no outcome", cmd.Action)
	}
	switch cmd.Action {
	case Notify:
		n.Deadline = now.Add(p.ResponseFor(c.Category))
	case CustomerResponse, InfoReceived, Reopen:
		// The ball is back in the desk's court.
		n.Deadline = now.Add(p.TriageFor(c.Category))
		if cmd.Action == Reopen {
			n.Outcome, n.ClosedAt = "", time.Time{}
			n.Priority = p.Score(n, now)
		}
	case RequestInfo:
		n.Deadline = time.Time{}
	case Escalate:
		n.escalate(now, p)
	case Extend:
		if c.Deadline.IsZero() {
			return fail(CodeBadExtension, "the case has no deadline to extend")
		}
		if limit := p.maxExtension(); cmd.Extend <= 0 || cmd.Extend > limit {
			return fail(CodeBadExtension, "an extension must be more than zero and at most %s", limit)
		}
		n.Deadline = later(c.Deadline, now).Add(cmd.Extend)
	case Assign:
		n.Assignee = strings.TrimSpace(cmd.Assignee)
		if n.Assignee == "" && c.Assignee == "" {
			return fail(CodeAssigneeRequired, "name an assignee: the case has none to remove")
		}
	case Note:
		if strings.TrimSpace(cmd.Note) == "" {
			return fail(CodeNoteRequired, "a note needs text")
		}
	case Resolve, Dismiss:
		o := cmd.Outcome
		if o == "" && cmd.Action == Dismiss {
			o = ReviewedNoAction
		}
		if o == "" {
			return fail(CodeOutcomeRequired, "resolving needs an outcome")
		}
		if !slices.Contains(OutcomesFor(cmd.Action), o) {
			return fail(CodeOutcomeNotAllowed, "%s cannot close with %s", cmd.Action, o)
		}
		n.Outcome = o
		n.close(now)
	case Merge:
		into := strings.TrimSpace(cmd.Into)
		if into == "" {
			return fail(CodeMergeTargetRequired, "merging needs the case to merge into")
		}
		if into == strings.TrimSpace(cmd.Self) {
			return fail(CodeMergeSelf, "a case cannot be merged into itself")
		}
		n.MergedInto = into
		n.close(now)
	}
	// Only the desk's own moves count; a note is not handling the case.
	if cmd.Action != Note && n.FirstActionAt.IsZero() {
		n.FirstActionAt = now
	}
	ch := Change{Action: cmd.Action, From: c.Status, To: to, Detail: diff(*c, n)}
	if note := strings.TrimSpace(cmd.Note); note != "" {
		ch.Detail["note"] = note
	}
	if cmd.Action == Extend {
		ch.Detail["extend"] = cmd.Extend.String()
	}
	*c = n
	return ch, nil
}

// EscalateIfDue is the background job's rule: a customer_notified case whose
// response deadline has passed is escalated. It does not count as the desk's
// first action.
func (c *Case) EscalateIfDue(now time.Time, p Policy) (Change, bool) {
	if c.Status != CustomerNotified || !c.Overdue(now) {
		return Change{}, false
	}
	to, err := Next(c.Status, Escalate)
	if err != nil { // the table no longer allows it: nothing to do
		return Change{}, false
	}
	n := *c
	n.Status = to
	n.escalate(now, p)
	ch := Change{Action: Escalate, From: c.Status, To: to, Detail: diff(*c, n)}
	ch.Detail["reason"] = "response deadline passed"
	*c = n
	return ch, true
}

// escalate marks the case, gives the (senior) desk a fresh triage deadline,
// and recomputes the priority with the bump.
func (c *Case) escalate(now time.Time, p Policy) {
	c.Escalated = true
	c.Deadline = now.Add(p.TriageFor(c.Category))
	c.Priority = p.Score(*c, now)
}

func (c *Case) close(now time.Time) {
	c.Deadline = time.Time{}
	c.ClosedAt = now
}

// Overdue reports whether an open case's deadline has passed.
func (c Case) Overdue(now time.Time) bool {
	return c.Status.Open() && !c.Deadline.IsZero() && now.After(c.Deadline)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// diff lists the fields that differ between two states of a case, for the
// audit trail; status is in Change.From/To and FirstActionAt is implied by
// the entry's time.
func diff(a, b Case) map[string]any {
	d := map[string]any{}
	put := func(k string, from, to any) { d[k] = map[string]any{"from": from, "to": to} }
	if !a.Deadline.Equal(b.Deadline) {
		put("deadline", jsonTime(a.Deadline), jsonTime(b.Deadline))
	}
	if !a.ClosedAt.Equal(b.ClosedAt) {
		put("closed_at", jsonTime(a.ClosedAt), jsonTime(b.ClosedAt))
	}
	if a.Outcome != b.Outcome {
		put("outcome", string(a.Outcome), string(b.Outcome))
	}
	if a.Assignee != b.Assignee {
		put("assignee", a.Assignee, b.Assignee)
	}
	if a.MergedInto != b.MergedInto {
		put("merged_into", a.MergedInto, b.MergedInto)
	}
	if a.Escalated != b.Escalated {
		put("escalated", a.Escalated, b.Escalated)
	}
	if a.Priority != b.Priority {
		put("priority", a.Priority, b.Priority)
	}
	return d
}

func jsonTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
