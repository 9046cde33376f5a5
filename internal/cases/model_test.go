package cases

import (
	"errors"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"pgregory.net/rapid"

	"abusedesk/internal/report"
)

// TestCaseModel drives one case with random commands, reports, escalation
// runs and time advances, and checks the invariants after every step.
func TestCaseModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := DefaultPolicy()
		now := t0
		cat := rapid.SampledFrom(report.Types).Draw(t, "category")
		c := p.Open(cat, now)
		var firstAction time.Time // the model's memory of FirstActionAt

		subtypes := append([]string{""}, report.Subtypes[cat]...)
		actions := append(slices.Clone(Actions), "bogus")
		outcomes := append([]Outcome{"", "BOGUS"}, Outcomes...)
		extensions := []time.Duration{0, -time.Hour, time.Minute, 36 * time.Hour, p.MaxExtension, p.MaxExtension + time.Second}

		t.Repeat(map[string]func(*rapid.T){
			"advance": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.Int64Range(0, 4*24*60).Draw(t, "minutes")) * time.Minute)
			},
			"command": func(t *rapid.T) {
				cmd := Command{
					Action:   rapid.SampledFrom(actions).Draw(t, "action"),
					Outcome:  rapid.SampledFrom(outcomes).Draw(t, "outcome"),
					Assignee: rapid.SampledFrom([]string{"", "alice", " bob "}).Draw(t, "assignee"),
					Note:     rapid.SampledFrom([]string{"", " ", "checked"}).Draw(t, "note"),
					Extend:   rapid.SampledFrom(extensions).Draw(t, "extend"),
					Into:     rapid.SampledFrom([]string{"", "c1", "c2"}).Draw(t, "into"),
					Self:     "c1",
				}
				before := c
				ch, err := c.Apply(cmd, now, p)
				if err != nil {
					var e *Error
					if !errors.As(err, &e) || e.Code == "" || e.Message == "" || e.From != before.Status || e.Action != cmd.Action {
						t.Fatalf("refusal is not a full *Error: %#v", err)
					}
					if !reflect.DeepEqual(c, before) {
						t.Fatalf("refused %+v changed the case:\n%+v\n%+v", cmd, before, c)
					}
					return
				}
				want, nerr := Next(before.Status, cmd.Action)
				if nerr != nil || c.Status != want || ch.From != before.Status || ch.To != want || ch.Action != cmd.Action {
					t.Fatalf("%s from %s: status %s, change %+v; table says %s, %v", cmd.Action, before.Status, c.Status, ch, want, nerr)
				}
				if before.Status == Merged && !reflect.DeepEqual(c, before) {
					t.Fatalf("%s changed a merged case", cmd.Action)
				}
				if cmd.Action == Note && !reflect.DeepEqual(c, before) {
					t.Fatal("a note changed the case")
				}
				if cmd.Action != Note && firstAction.IsZero() {
					firstAction = now
				}
			},
			"join": func(t *rapid.T) {
				before := c
				sub := rapid.SampledFrom(subtypes).Draw(t, "subtype")
				nr := rapid.Bool().Draw(t, "newReporter")
				at := now.Add(-time.Duration(rapid.Int64Range(-30, 600).Draw(t, "ago")) * time.Minute)
				err := c.Join(sub, nr, at, now, p)
				if !before.Status.Open() {
					if err == nil || !reflect.DeepEqual(c, before) {
						t.Fatalf("Join on %s: %v", before.Status, err)
					}
					return
				}
				if err != nil || c.Reports != before.Reports+1 || c.LastIncident.Before(before.LastIncident) {
					t.Fatalf("Join: %v %+v", err, c)
				}
				if c.Priority < p.Score(before, now) {
					t.Fatalf("a report lowered the priority: %d < %d", c.Priority, p.Score(before, now))
				}
			},
			"escalation job": func(t *rapid.T) {
				before := c
				ch, ok := c.EscalateIfDue(now, p)
				due := before.Status == CustomerNotified && now.After(before.Deadline)
				if ok != due {
					t.Fatalf("EscalateIfDue = %v on %s deadline %v at %v", ok, before.Status, before.Deadline, now)
				}
				if !ok && !reflect.DeepEqual(c, before) {
					t.Fatal("EscalateIfDue changed a case it did not escalate")
				}
				if ok && (c.Status != Escalated || !c.Escalated || ch.To != Escalated) {
					t.Fatalf("EscalateIfDue: %+v", c)
				}
			},
			"": func(t *rapid.T) { checkInvariants(t, c, firstAction) },
		})
	})
}

func checkInvariants(t *rapid.T, c Case, firstAction time.Time) {
	if !c.Status.Valid() {
		t.Fatalf("status %q", c.Status)
	}
	closedWithOutcome := c.Status == Resolved || c.Status == Dismissed
	if (c.Outcome != "") != closedWithOutcome {
		t.Fatalf("%s with outcome %q", c.Status, c.Outcome)
	}
	if closedWithOutcome && !slices.Contains(OutcomesFor(map[Status]Action{Resolved: Resolve, Dismissed: Dismiss}[c.Status]), c.Outcome) {
		t.Fatalf("%s with outcome %q", c.Status, c.Outcome)
	}
	if (c.Status == Merged) != (c.MergedInto != "") {
		t.Fatalf("%s merged into %q", c.Status, c.MergedInto)
	}
	if c.Status.Open() {
		if !c.ClosedAt.IsZero() {
			t.Fatalf("open %s with ClosedAt %v", c.Status, c.ClosedAt)
		}
		// The ball is in someone's court, with a clock, except while the
		// desk waits for the reporter.
		if (c.Status == NeedsInfo) != c.Deadline.IsZero() {
			t.Fatalf("%s with deadline %v", c.Status, c.Deadline)
		}
	} else if c.ClosedAt.IsZero() || !c.Deadline.IsZero() {
		t.Fatalf("closed %s: ClosedAt %v Deadline %v", c.Status, c.ClosedAt, c.Deadline)
	}
	if c.Status == CustomerNotified && c.Deadline.IsZero() {
		t.Fatal("customer_notified without a deadline")
	}
	if c.Status == Escalated && !c.Escalated {
		t.Fatal("escalated status without the flag")
	}
	if c.Priority < 0 || c.Priority > 100 {
		t.Fatalf("priority %d", c.Priority)
	}
	if !c.FirstActionAt.Equal(firstAction) {
		t.Fatalf("FirstActionAt %v; model %v", c.FirstActionAt, firstAction)
	}
	if !sort.StringsAreSorted(c.Subtypes) || len(slices.Compact(slices.Clone(c.Subtypes))) != len(c.Subtypes) {
		t.Fatalf("subtypes %v", c.Subtypes)
	}
	if c.Reporters > c.Reports || c.Reports < 0 {
		t.Fatalf("%d reporters for %d reports", c.Reporters, c.Reports)
	}
}

// FirstActionAt never changes once set: kept as its own check so a broken
// model above cannot hide it.
func TestFirstActionAtStable(t *testing.T) {
	p := DefaultPolicy()
	c := p.Open("email", t0)
	if _, err := c.Apply(Command{Action: Note, Note: "x"}, t0, p); err != nil || !c.FirstActionAt.IsZero() {
		t.Fatal("note set FirstActionAt")
	}
	t1 := t0.Add(time.Hour)
	if _, err := c.Apply(Command{Action: Notify}, t1, p); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range []Command{{Action: Extend, Extend: time.Hour}, {Action: Escalate}, {Action: Resolve, Outcome: Actioned}, {Action: Reopen}} {
		if _, err := c.Apply(cmd, t1.Add(time.Duration(i+1)*time.Hour), p); err != nil {
			t.Fatal(err)
		}
		if !c.FirstActionAt.Equal(t1) {
			t.Fatalf("%s moved FirstActionAt", cmd.Action)
		}
	}
}
