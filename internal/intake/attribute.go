package intake

import (
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/report"
)

// SetAttributor installs the attribution indexes (nil or empty: none). The
// swap is atomic; reports in flight use the one they started with.
func (s *Service) SetAttributor(a *attribution.Attributor) {
	if a != nil && a.Empty() {
		a = nil
	}
	s.attr.Store(a)
}

// attribute gives each item of r its verdict as of the item's time (URLs
// without a time: the time of receipt) and sets the report's outcome when no
// item is the provider's. Without an address space nothing is attributed:
// a desk that has imported no ranges cannot say what is not its own.
func (s *Service) attribute(r *report.Report, received time.Time) {
	a := s.attr.Load()
	if a == nil {
		return
	}
	items, ours := 0, 0
	set := func(dst *report.Attribution, v attribution.Verdict) {
		*dst = report.Attribution{Verdict: v.Verdict, Resource: v.Resource, Account: v.Account}
		items++
		if v.Verdict != attribution.NotOurs {
			ours++
		}
	}
	for i := range r.Incidents {
		in := &r.Incidents[i]
		set(&in.Attribution, a.Addr(in.Source, in.At))
	}
	for i := range r.URLs {
		if v, ok := a.URL(r.URLs[i].URL, received); ok {
			set(&r.URLs[i].Attribution, v)
		}
	}
	if r.DMCA != nil {
		for i := range r.DMCA.Infringing {
			it := &r.DMCA.Infringing[i]
			if it.URL != "" {
				if v, ok := a.URL(it.URL, received); ok {
					set(&it.Attribution, v)
				}
			} else if it.Addr.IsValid() {
				set(&it.Attribution, a.Addr(it.Addr, it.At))
			}
		}
	}
	r.NotOurs = items - ours
	if items > 0 && ours == 0 {
		r.Outcome = report.OutcomeNotResolvable
	}
}

// attributeAddr is the bulk path's per-row verdict.
func (s *Service) attributeAddr(a *attribution.Attributor, in *report.Incident) bool {
	if a == nil {
		return true
	}
	v := a.Addr(in.Source, in.At)
	in.Attribution = report.Attribution{Verdict: v.Verdict, Resource: v.Resource, Account: v.Account}
	return v.Verdict != attribution.NotOurs
}
