package web

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
)

// searchFilter reads what one search box can hold — a case id (C-…), a
// report id (R-…), an IP, a CIDR, a URL, a host, a reporter's email, or
// an account id — into a filter. Searches cover every status, newest
// first.
func searchFilter(q string) (store.CaseFilter, error) {
	q = strings.TrimSpace(q)
	f := store.CaseFilter{Status: "all", Sort: store.SortNewest}
	switch {
	case q == "":
		return f, fmt.Errorf("empty search")
	case strings.HasPrefix(q, "C-") && len(q) == 16:
		f.Case = q
	case strings.HasPrefix(q, "R-") && len(q) == 16:
		f.Report = q
	case strings.Contains(q, "/") && !strings.Contains(q, "://"):
		p, err := netip.ParsePrefix(q)
		if err != nil {
			return f, fmt.Errorf("%q is not a CIDR prefix: %v", q, err)
		}
		f.Prefix = p.Masked()
	case strings.Contains(q, "://"):
		u, err := url.Parse(q)
		if err != nil || u.Host == "" {
			return f, fmt.Errorf("%q is not a URL", q)
		}
		f.URL = q
	case strings.Contains(q, "@"):
		f.Reporter = strings.ToLower(q)
	default:
		if a, err := netip.ParseAddr(strings.Trim(q, "[]")); err == nil {
			f.IP = a.Unmap()
		} else if strings.Contains(q, ".") && !strings.ContainsAny(q, " \t") {
			f.Host = strings.ToLower(strings.TrimSuffix(q, "."))
		} else {
			f.Account = q
		}
	}
	return f, nil
}

// queueFilter reads the queue's and the API's query parameters.
func queueFilter(v url.Values) (store.CaseFilter, error) {
	f := store.CaseFilter{Lane: v.Get("lane"), Status: v.Get("status"), Category: v.Get("category"), Assignee: v.Get("assignee"),
		Sort: v.Get("sort"), After: v.Get("after"), Account: v.Get("account"), Reporter: v.Get("reporter"), Report: v.Get("report"),
		Host: v.Get("host"), URL: v.Get("url")}
	if f.Status != "" && f.Status != "open" && f.Status != "all" && !cases.Status(f.Status).Valid() {
		return f, fmt.Errorf("status: unknown value %q", f.Status)
	}
	switch f.Sort {
	case "", store.SortDue, store.SortPriority, store.SortNewest:
	default:
		return f, fmt.Errorf("sort: unknown value %q (due, priority, newest)", f.Sort)
	}
	if l := v.Get("priority"); l != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(l), "P"))
		if err != nil || n < 1 || n > 4 {
			return f, fmt.Errorf("priority: %q is not P1…P4", l)
		}
		f.Level = n
	}
	f.Overdue = v.Get("overdue") == "1" || v.Get("overdue") == "true"
	if ip := v.Get("ip"); ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return f, fmt.Errorf("ip: %q is not an IP address", ip)
		}
		f.IP = a.Unmap()
	}
	if c := v.Get("cidr"); c != "" {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return f, fmt.Errorf("cidr: %q is not a prefix", c)
		}
		f.Prefix = p.Masked()
	}
	if n := v.Get("limit"); n != "" {
		l, err := strconv.Atoi(n)
		if err != nil || l < 1 || l > 500 {
			return f, fmt.Errorf("limit: %q is not 1…500", n)
		}
		f.Limit = l
	}
	if q := v.Get("q"); q != "" {
		sf, err := searchFilter(q)
		if err != nil {
			return f, err
		}
		sf.Lane, sf.Level, sf.Overdue, sf.After, sf.Limit = f.Lane, f.Level, f.Overdue, f.After, f.Limit
		if f.Status != "" {
			sf.Status = f.Status
		}
		if f.Sort != "" {
			sf.Sort = f.Sort
		}
		return sf, nil
	}
	if (f.IP.IsValid() || f.Prefix.IsValid() || f.Reporter != "" || f.Report != "" || f.Host != "" || f.URL != "" || f.Account != "") && f.Status == "" {
		f.Status = "all" // a lookup, not the queue
		if f.Sort == "" {
			f.Sort = store.SortNewest
		}
	}
	return f, nil
}
