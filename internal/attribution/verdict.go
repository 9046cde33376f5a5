package attribution

import (
	"net/netip"
	"time"
)

// Verdicts of attribution.
const (
	NotOurs    = "not_ours"   // outside the provider's address space
	Unassigned = "unassigned" // ours, but no resource held it at that time
	Assigned   = "assigned"   // held by a resource at that time
)

// ResourceInfo is what a verdict names: the resource as of now in the
// inventory (its account may change; the assignment history says who held
// the address).
type ResourceInfo struct {
	ID      string
	Type    string
	Service string
	Region  string
	Account string
}

// Verdict is the answer for one item (an address or URL at a time).
type Verdict struct {
	Verdict      string `json:"verdict"`
	Resource     string `json:"resource,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	Service      string `json:"service,omitempty"`
	Region       string `json:"region,omitempty"`
	Account      string `json:"account,omitempty"`
	// Matched is the prefix or host pattern that decided, for operators.
	Matched string `json:"matched,omitempty"`
}

// Attributor answers "who held this at that time" from the address space,
// the (ip, time) index and the host index. Resource handles in the indexes
// are positions in Resources. It is immutable; rebuild to change it.
type Attributor struct {
	Space     *AddressSpace
	Index     *Index
	Hosts     *HostIndex
	Resources []ResourceInfo
}

func (a *Attributor) assigned(h uint32, matched string) Verdict {
	v := Verdict{Verdict: Assigned, Matched: matched}
	if int(h) < len(a.Resources) {
		r := a.Resources[h]
		v.Resource, v.ResourceType, v.Service, v.Region, v.Account = r.ID, r.Type, r.Service, r.Region, r.Account
	}
	return v
}

// Addr attributes an address at t. An address held by a resource is
// assigned even if the ranges file does not list it (the inventory is the
// more precise source); otherwise the address space tells ours from not.
func (a *Attributor) Addr(addr netip.Addr, t time.Time) Verdict {
	if a.Index != nil {
		if h, p, ok := a.Index.Lookup(addr, t); ok {
			return a.assigned(h, p.String())
		}
	}
	if a.Space != nil {
		if r, ok := a.Space.Contains(addr); ok {
			return Verdict{Verdict: Unassigned, Service: r.Service, Region: r.Region, Matched: r.Prefix.String()}
		}
	}
	return Verdict{Verdict: NotOurs}
}

// URL attributes an absolute http(s) URL at t: an address literal as an
// address, a host name through the host index. A host name the inventory
// never named is not ours as far as the desk can tell: it never resolves
// names (a reporter's URL is never followed). ok is false for a string that
// is not an absolute http(s) URL.
func (a *Attributor) URL(raw string, t time.Time) (Verdict, bool) {
	host, ok := HostOfURL(raw)
	if !ok {
		return Verdict{}, false
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return a.Addr(addr, t), true
	}
	if a.Hosts != nil {
		if h, m, ok := a.Hosts.Lookup(host, t); ok {
			return a.assigned(h, m), true
		}
	}
	return Verdict{Verdict: NotOurs}, true
}

// Empty tells an attributor that knows no address space, assignment or
// host at all: such a desk cannot tell its own from others'.
func (a *Attributor) Empty() bool {
	return (a.Space == nil || a.Space.Len() == 0) && (a.Index == nil || a.Index.Len() == 0) && (a.Hosts == nil || a.Hosts.Len() == 0)
}
