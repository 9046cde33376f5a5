// Package cases is the pure domain of a case: the workflow state machine,
// deadlines, priority and the hash-chained audit trail. Every report item
// attributed to a customer resource joins the open case for (account,
// resource, category); the store decides which case that is, this package
// decides what may happen to it. It knows nothing of SQL or HTTP, so the
// store, the web console and the background jobs all share one set of rules.
package cases

import (
	"fmt"
	"slices"

	"abusedesk/internal/report"
)

// Status is where a case stands in the workflow.
type Status string

const (
	New               Status = "new"
	CustomerNotified  Status = "customer_notified"
	CustomerResponded Status = "customer_responded"
	NeedsInfo         Status = "needs_info"
	Escalated         Status = "escalated"
	Reopened          Status = "reopened"
	Resolved          Status = "resolved"
	Dismissed         Status = "dismissed"
	Merged            Status = "merged"
)

// Statuses in the order a UI lists them: the working statuses in the order a
// case usually meets them, then the closed ones.
var Statuses = []Status{New, CustomerNotified, CustomerResponded, NeedsInfo, Escalated, Reopened, Resolved, Dismissed, Merged}

// open lists the statuses in which the desk still has work; the transition
// table uses it so that "any open status" is spelled once.
var open = []Status{New, CustomerNotified, CustomerResponded, NeedsInfo, Escalated, Reopened}

// Open reports whether the case still needs work (not resolved, dismissed or merged).
func (s Status) Open() bool { return slices.Contains(open, s) }

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Action is what a person (or the escalation job) does to a case.
type Action string

const (
	Notify           Action = "notify"
	CustomerResponse Action = "customer_response"
	RequestInfo      Action = "request_info"
	InfoReceived     Action = "info_received"
	Escalate         Action = "escalate"
	Extend           Action = "extend"
	Assign           Action = "assign"
	Note             Action = "note"
	Resolve          Action = "resolve"
	Dismiss          Action = "dismiss"
	Merge            Action = "merge"
	Reopen           Action = "reopen"
)

// Actions in the order a UI offers them.
var Actions = []Action{Notify, CustomerResponse, RequestInfo, InfoReceived, Escalate, Extend, Assign, Note, Resolve, Dismiss, Merge, Reopen}

// same as a rule's target means the action leaves the status as it is.
const same Status = ""

type rule struct {
	from []Status
	to   Status
}

// transitions is the whole state machine; Next, Allowed, Apply and
// EscalateIfDue all read it and nothing else decides a status change.
//
//	action             from                                                          to
//	notify             new reopened needs_info escalated customer_responded           customer_notified
//	customer_response  customer_notified escalated                                    customer_responded
//	request_info       new reopened customer_notified customer_responded escalated    needs_info
//	info_received      needs_info                                                     new
//	escalate           new reopened customer_notified customer_responded needs_info   escalated
//	extend             new reopened customer_notified customer_responded escalated    (unchanged)
//	assign             every status but merged                                        (unchanged)
//	note               every status                                                   (unchanged)
//	resolve            every open status                                              resolved
//	dismiss            every open status                                              dismissed
//	merge              every open status                                              merged
//	reopen             resolved dismissed                                             reopened
//
// extend leaves out needs_info because that is the one open status without a
// deadline (the desk waits for the reporter, who owes us nothing). A merged
// case is over for good: its reports live on in the target, so only notes
// may still be added; it cannot be reopened (reopen the target instead).
var transitions = map[Action]rule{
	Notify:           {from: []Status{New, Reopened, NeedsInfo, Escalated, CustomerResponded}, to: CustomerNotified},
	CustomerResponse: {from: []Status{CustomerNotified, Escalated}, to: CustomerResponded},
	RequestInfo:      {from: []Status{New, Reopened, CustomerNotified, CustomerResponded, Escalated}, to: NeedsInfo},
	InfoReceived:     {from: []Status{NeedsInfo}, to: New},
	Escalate:         {from: []Status{New, Reopened, CustomerNotified, CustomerResponded, NeedsInfo}, to: Escalated},
	Extend:           {from: []Status{New, Reopened, CustomerNotified, CustomerResponded, Escalated}, to: same},
	Assign:           {from: []Status{New, CustomerNotified, CustomerResponded, NeedsInfo, Escalated, Reopened, Resolved, Dismissed}, to: same},
	Note:             {from: Statuses, to: same},
	Resolve:          {from: open, to: Resolved},
	Dismiss:          {from: open, to: Dismissed},
	Merge:            {from: open, to: Merged},
	Reopen:           {from: []Status{Resolved, Dismissed}, to: Reopened},
}

// Next returns the status a case in from reaches by a, or an *Error with
// Code CodeIllegalTransition.
func Next(from Status, a Action) (Status, error) {
	r, ok := transitions[a]
	if !ok {
		return "", refuse(CodeIllegalTransition, from, a, "unknown action %q", a)
	}
	if !from.Valid() {
		return "", refuse(CodeIllegalTransition, from, a, "unknown status %q", from)
	}
	if !slices.Contains(r.from, from) {
		return "", refuse(CodeIllegalTransition, from, a, "a case that is %s cannot be given %s", from, a)
	}
	if r.to == same {
		return from, nil
	}
	return r.to, nil
}

// Allowed lists, in Actions order, what a UI should offer for a case in
// from. Some of them may still be refused for the command's content (an
// extension too long, a resolve without outcome).
func Allowed(from Status) []Action {
	var as []Action
	for _, a := range Actions {
		if slices.Contains(transitions[a].from, from) {
			as = append(as, a)
		}
	}
	return as
}

// Outcome is the closing code a reporter sees; the values are the report
// package's, so both packages speak the same vocabulary.
type Outcome string

const (
	Actioned            Outcome = report.OutcomeActioned
	ReviewedNoAction    Outcome = report.OutcomeReviewedNoAction
	ContentDown         Outcome = report.OutcomeContentDown
	NeedMoreInformation Outcome = report.OutcomeNeedMoreInfo
	NotResolvable       Outcome = report.OutcomeNotResolvable
)

// Outcomes in the order a UI lists them.
var Outcomes = []Outcome{Actioned, ReviewedNoAction, ContentDown, NeedMoreInformation, NotResolvable}

// OutcomesFor lists the outcomes an action may close with. Dismissing says
// the desk did nothing to the resource, so ACTIONED and CONTENT_DOWN (which
// claim a result) are not among them.
func OutcomesFor(a Action) []Outcome {
	switch a {
	case Resolve:
		return slices.Clone(Outcomes)
	case Dismiss:
		return []Outcome{ReviewedNoAction, NotResolvable, NeedMoreInformation}
	}
	return nil
}

// Codes of Error: stable identifiers for APIs and translations.
const (
	CodeIllegalTransition   = "illegal_transition"
	CodeOutcomeRequired     = "outcome_required"
	CodeOutcomeNotAllowed   = "outcome_not_allowed"
	CodeBadExtension        = "bad_extension"
	CodeMergeTargetRequired = "merge_target_required"
	CodeMergeSelf           = "merge_self"
	CodeAssigneeRequired    = "assignee_required"
	CodeNoteRequired        = "note_required"
	// CodeCaseClosed: Join on a case that is no longer open.
	CodeCaseClosed = "case_closed"
)

// Error is what every refusal returns: a stable Code for APIs and
// translations, an English Message, and the status and action refused.
type Error struct {
	Code    string
	Message string
	From    Status
	Action  Action
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, &Error{Code: c}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func refuse(code string, from Status, a Action, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), From: from, Action: a}
}
