package intake

import (
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/report"
	"abusedesk/internal/routing"
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
		*dst = report.Attribution{Verdict: v.Verdict, Resource: v.Resource, Account: v.Account, Service: v.Service, Region: v.Region}
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
	in.Attribution = report.Attribution{Verdict: v.Verdict, Resource: v.Resource, Account: v.Account, Service: v.Service, Region: v.Region}
	return v.Verdict != attribution.NotOurs
}

// route sets the report's lane by the routing rules, from what validation
// and attribution found.
func (s *Service) route(r *report.Report, channel string) {
	in := routing.Input{Type: r.Type, Subtype: r.Subtype, ReporterKind: r.Reporter.Kind, Channel: channel,
		ViaSendingService: r.ViaSendingService}
	seen := map[report.Attribution]bool{}
	add := func(a report.Attribution) {
		a.Resource, a.Account = "", ""
		if a.Verdict == "" || seen[a] {
			return
		}
		seen[a] = true
		in.Verdicts = append(in.Verdicts, a.Verdict)
		in.Services = append(in.Services, a.Service)
		in.Regions = append(in.Regions, a.Region)
	}
	for i := range r.Incidents {
		add(r.Incidents[i].Attribution)
	}
	for i := range r.URLs {
		add(r.URLs[i].Attribution)
	}
	if r.DMCA != nil {
		for i := range r.DMCA.Infringing {
			add(r.DMCA.Infringing[i].Attribution)
		}
	}
	lane, rule := s.Routing.Route(in)
	r.Lane, r.Rule = lane, rule.String()
}

// bulkSeen collects the distinct attributions of an upload's rows (a few:
// verdict, service, region), for routing the upload once it is read. Only
// the parser goroutine writes it.
type bulkSeen struct {
	set      map[report.Attribution]bool
	last     report.Attribution
	assigned bool // some row is attributed to a customer: the report feeds cases
}

func (b *bulkSeen) attribute(s *Service, a *attribution.Attributor, in *report.Incident) bool {
	ours := s.attributeAddr(a, in)
	k := in.Attribution
	if k.Verdict == attribution.Assigned {
		b.assigned = true
	}
	k.Resource, k.Account = "", ""
	if k != b.last { // rows of one upload mostly repeat the previous key
		if b.set == nil {
			b.set = map[report.Attribution]bool{}
		}
		b.set[k], b.last = true, k
	}
	return ours
}

// routeBulk routes an upload as one report whose items are its rows, and
// says which rule decided.
func (s *Service) routeBulk(common *report.Report, b *bulkSeen) (lane, rule string) {
	r := *common
	r.Incidents = make([]report.Incident, 0, len(b.set))
	for k := range b.set {
		r.Incidents = append(r.Incidents, report.Incident{Attribution: k})
	}
	s.route(&r, ChannelCSV)
	return r.Lane, r.Rule
}

// Attributor is the attribution in effect (nil when none), e.g. for the
// console to show why an item was attributed as it was.
func (s *Service) Attributor() *attribution.Attributor { return s.attr.Load() }
