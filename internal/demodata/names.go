package demodata

// Resources, accounts and host names: ids and attributes as functions of an
// index. Ids come from a keyed bijection of the index, so they are unique
// and look like a cloud's (i-0…, eipalloc-0…) without any table.

import (
	"sort"
	"strconv"
	"strings"
)

// rtype is a kind of resource as the inventory names it.
type rtype struct{ typ, svc, idPrefix string }

var (
	rInstance = rtype{"instance", "EC2", "i-0"}
	rEIP      = rtype{"elastic-ip", "EC2", "eipalloc-0"}
	rNAT      = rtype{"nat-gateway", "EC2", "nat-0"}
	rLB       = rtype{"load-balancer", "ELB", "lb-0"}
	rSESPool  = rtype{"dedicated-ip-pool", "SES", "sespool-0"}
	rSubnet   = rtype{"subnet", "EC2", "subnet-0"}
	rPool4    = rtype{"ipv4-pool", "EC2", "ipv4pool-ec2-0"}
	rVPC      = rtype{"vpc", "EC2", "vpc-0"}
	rDist     = rtype{"distribution", "CLOUDFRONT", "E"}
	rBucket   = rtype{"bucket", "S3", "bucket-"}
	rIdentity = rtype{"email-identity", "SES", "identity-"}
)

// resRange is a run of resources of one type and region, from start to the
// next range's start.
type resRange struct {
	start  int
	t      *rtype
	region string // "" for buckets and identities: drawn per resource
}

// resRanges lists every resource range in index order.
func (p *Provider) resRanges() []resRange {
	var rs []resRange
	add := func(start, n int, t *rtype, region string) {
		if n > 0 {
			rs = append(rs, resRange{start, t, region})
		}
	}
	for i := range p.blocks {
		b := &p.blocks[i]
		switch b.svc {
		case "EC2":
			add(b.pool, b.eip, &rEIP, b.region)
			add(b.pool+b.eip, b.npool-b.eip-b.nat, &rInstance, b.region)
			add(b.pool+b.npool-b.nat, b.nat, &rNAT, b.region)
		case "ELB":
			add(b.pool, b.npool, &rLB, b.region)
		case "SES":
			add(b.pool, b.npool, &rSESPool, b.region)
		}
	}
	for i := range p.blocks {
		b := &p.blocks[i]
		for l := range b.layers {
			ly := &b.layers[l]
			t := &rSubnet
			switch ly.bits {
			case 24:
				t = &rPool4
			case 56:
				t = &rVPC
			}
			add(ly.res, ly.w, t, b.region)
		}
	}
	add(p.distRes, p.distN, &rDist, "GLOBAL")
	add(p.bucketRes, p.bucketN, &rBucket, "")
	add(p.identRes, p.identN, &rIdentity, "")
	return rs
}

// resource describes resource g.
type resource struct {
	id, account, typ, svc, region string
}

func (p *Provider) resource(rs []resRange, g int) resource {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].start > g }) - 1
	rr := rs[i]
	r := resource{id: p.resID(rr.t, g), account: p.acctID(p.accountOf(g)), typ: rr.t.typ, svc: rr.t.svc, region: rr.region}
	if r.region == "" {
		r.region = regions[mix64(p.seed^saltRes^uint64(g))%uint64(len(regions))]
	}
	return r
}

const (
	base32      = "abcdefghijklmnopqrstuvwxyz234567"
	base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

func (p *Provider) resID(t *rtype, g int) string { return string(p.appendResID(nil, t, g)) }

func (p *Provider) appendResID(dst []byte, t *rtype, g int) []byte {
	x := permute(uint64(g), 64, p.seed^saltRes)
	if t == &rDist { // CloudFront style: E and 13 capitals
		var b [13]byte
		for i := range b {
			b[i] = base32Upper[x&31]
			x >>= 5
		}
		return append(append(dst, 'E'), b[:]...)
	}
	dst = append(dst, t.idPrefix...)
	for i := 60; i >= 0; i -= 4 { // 16 hex digits
		dst = append(dst, "0123456789abcdef"[x>>uint(i)&15])
	}
	return dst
}

// accountOf is resource g's account: skewed, a few accounts hold much.
func (p *Provider) accountOf(g int) int {
	u := unit(mix64(p.seed ^ saltAcct ^ uint64(g)*0x9e3779b97f4a7c15))
	return min(p.acctN-1, int(float64(p.acctN)*u*u))
}

// acctID is a twelve-digit account number, unique per index.
func (p *Provider) acctID(i int) string {
	const mod = 1_000_000_000_000
	n := (uint64(i)*982451653 + mix64(p.seed^saltAcct)%mod) % mod // 982451653 is prime: a bijection mod 10^12
	s := strconv.FormatUint(n, 10)
	return "acct-" + strings.Repeat("0", 12-len(s)) + s
}

type account struct {
	id, name, securityEmail, email, language string
}

var (
	enFirst = []string{"Northwind", "Blue Harbor", "Silver Maple", "Redwood", "Granite", "Lakeside", "Bright Path", "Copper Hill", "Evergreen", "Summit", "Harbor Light", "Oak Ridge", "Pioneer", "Riverbend", "Starfield", "Tidewater"}
	enLast  = []string{"Analytics", "Logistics", "Media", "Games", "Labs", "Software", "Hosting", "Retail", "Health", "Studios", "Networks", "Robotics", "Foods", "Travel", "Security", "Ventures"}
	enForm  = []string{"Ltd", "Inc.", "LLC", "PLC", "Pty Ltd", "GmbH"}
	frFirst = []string{"Boulangerie", "Atelier", "Maison", "Société", "Groupe", "Cabinet", "Compagnie", "Librairie", "Fromagerie", "Agence"}
	frLast  = []string{"Numérique", "du Lac", "des Alpes", "Lumière", "Horizon", "Belle-Île", "Étoile", "Provence", "Rivoli", "Montmartre"}
	frForm  = []string{"SARL", "SAS", "SA", "EURL"}
	adjs    = []string{"blue", "quiet", "rapid", "amber", "lunar", "north", "crisp", "bold", "misty", "solar", "green", "swift"}
	nouns   = []string{"harbor", "falcon", "maple", "orbit", "pixel", "canyon", "meadow", "beacon", "summit", "river", "garden", "forge"}
)

// slug makes a DNS label of a name: lowercase ASCII letters, digits and
// hyphens (the French words lose their accents).
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'é', 'è', 'ê':
			r = 'e'
		case 'î':
			r = 'i'
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func (p *Provider) account(i int) account {
	h := mix64(p.seed ^ saltName ^ uint64(i)*0xd6e8feb86659fd93)
	pick := func(list []string) string {
		s := list[h%uint64(len(list))]
		h /= uint64(len(list))
		return s
	}
	a := account{id: p.acctID(i), language: "en"}
	fr := h%10 < 3
	h /= 10
	var first, last string
	if fr {
		a.language = "fr"
		first, last = pick(frFirst), pick(frLast)
		a.name = first + " " + last + " " + pick(frForm)
	} else {
		first, last = pick(enFirst), pick(enLast)
		a.name = first + " " + last + " " + pick(enForm)
	}
	domain := slug(first+" "+last) + "-" + strconv.Itoa(i) + ".example"
	a.email = "admin@" + domain
	if fr {
		a.email = "contact@" + domain
	}
	switch h % 8 {
	case 0: // no security contact: notices go to the owner's address
	case 1, 2, 3:
		a.securityEmail = "abuse@" + domain
	default:
		a.securityEmail = "security@" + domain
		if fr {
			a.securityEmail = "securite@" + domain
		}
	}
	return a
}

// hostName is a DNS label unique to h.
func hostName(h int) string {
	x := mix64(uint64(h))
	return adjs[x%uint64(len(adjs))] + "-" + nouns[(x>>8)%uint64(len(nouns))] + "-" + strconv.Itoa(h)
}

// hostPattern is host h as the inventory lists it.
func (p *Provider) hostPattern(h int) string {
	switch hostKindOf(h) {
	case hostCDN:
		x := permute(uint64(h), 64, p.seed^saltHost)
		var b [13]byte
		for i := range b {
			b[i] = base32[x&31]
			x >>= 5
		}
		return "d" + string(b[:]) + ".example-cdn.net"
	case hostWildcard:
		return "*." + hostName(h) + ".example-cdn.net"
	case hostCustom:
		return "www." + hostName(h) + ".example"
	case hostBucket:
		return hostName(h) + ".s3.example-storage.net"
	default:
		return hostName(h) + ".mail-service.example.net"
	}
}

// unit maps 64 random bits to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }
