package dmcamail

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/emersion/go-message/charset"
)

// Bounds of the ACNS reader: a notice is a few kilobytes; anything far
// larger is not one, and a hostile document must not make the reader
// allocate or recurse without limit.
const (
	MaxXMLBytes    = 1 << 20 // one ACNS document
	maxXMLElements = 20000
	maxXMLDepth    = 32
	maxXMLText     = 64 << 10 // text of one element
	MaxItems       = 500      // Content/Item elements read per notice
	maxFieldLen    = 2000     // one value kept from the XML
)

// ACNS is the part of an ACNS <Infringement> notice the desk uses (ACNS 2.0
// specification, MovieLabs/acns.net, revisions 0.7 to 1.2: the Infringement
// element with Case, Complainant, Service_Provider, Source and Content).
// Values are trimmed text; an absent element is "".
type ACNS struct {
	CaseID       string
	CaseStatus   string
	CaseSeverity string
	Complainant  Party
	Provider     Party // Service_Provider
	Source       Source
	Items        []Item // Content/Item, at most MaxItems
	Notes        string
}

// Party is a Complainant or Service_Provider element.
type Party struct {
	Entity, Contact, Address, Phone, Email string
}

// Source is where the infringing copy was seen: for peer-to-peer notices
// an address and port at a time, for web notices a URL_Base.
type Source struct {
	TimeStamp   string
	IPAddress   string // IP_Address
	Port        string
	DNSName     string // DNS_Name
	Type        string // e.g. BitTorrent, HTTP
	Protocol    string // SubType's Protocol attribute
	NumberFiles string // Number_Files
	URLBase     string // URL_Base
	DejaVu      string // Deja_Vu: seen before
}

// Item is one Content/Item: a copy of a work.
type Item struct {
	TimeStamp string
	Title     string
	FileName  string
	FileSize  string
	URL       string
	Type      string
	Hash      string
	HashType  string
}

// ErrNotACNS is returned for XML whose root is not an Infringement element
// (ACNS also defines StatusUpdate and other messages that are not notices).
var ErrNotACNS = errors.New("the XML's root element is not an ACNS <Infringement>")

// node is one element of the document: names are local (the namespace is
// ignored, since senders use acns.net, movielabs.com or none at all) and in
// lower case (senders are not consistent about IP_Address / IP_address).
type node struct {
	name string
	attr map[string]string
	text []byte
	kids []*node
}

func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *node) val(path ...string) string {
	for _, p := range path {
		n = n.child(p)
	}
	if n == nil {
		return ""
	}
	return clean(string(n.text))
}

// clean trims a value, collapses each line's white space, joins lines with
// ", " (an ACNS Address is written on several lines) and bounds its length.
func clean(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	return clip(strings.Join(parts, ", "), maxFieldLen)
}

// ReadACNS reads one ACNS document. The reader is tolerant in the ways real
// notices need (non-strict mode: bare "&" in titles, HTML entities, unquoted
// attributes; any declared charset) and strict about size.
func ReadACNS(b []byte) (*ACNS, error) {
	if len(b) > MaxXMLBytes {
		return nil, fmt.Errorf("the XML is %d bytes, more than the %d an ACNS notice may have", len(b), MaxXMLBytes)
	}
	root, err := readTree(b)
	if err != nil {
		return nil, err
	}
	if root == nil || root.name != "infringement" {
		return nil, ErrNotACNS
	}
	a := &ACNS{
		CaseID:       root.val("case", "id"),
		CaseStatus:   root.val("case", "status"),
		CaseSeverity: root.val("case", "severity"),
		Complainant:  party(root.child("complainant")),
		Provider:     party(root.child("service_provider")),
		Notes:        root.val("notes"),
	}
	src := root.child("source")
	a.Source = Source{
		TimeStamp:   src.val("timestamp"),
		IPAddress:   src.val("ip_address"),
		Port:        src.val("port"),
		DNSName:     src.val("dns_name"),
		Type:        src.val("type"),
		NumberFiles: src.val("number_files"),
		URLBase:     src.val("url_base"),
		DejaVu:      src.val("deja_vu"),
	}
	if st := src.child("subtype"); st != nil {
		a.Source.Protocol = clean(st.attr["protocol"])
	}
	if c := root.child("content"); c != nil {
		for _, k := range c.kids {
			if k.name != "item" {
				continue
			}
			if len(a.Items) == MaxItems {
				break
			}
			it := Item{
				TimeStamp: k.val("timestamp"),
				Title:     k.val("title"),
				FileName:  k.val("filename"),
				FileSize:  k.val("filesize"),
				URL:       k.val("url"),
				Type:      k.val("type"),
				Hash:      k.val("hash"),
			}
			if h := k.child("hash"); h != nil {
				it.HashType = clean(h.attr["type"])
			}
			a.Items = append(a.Items, it)
		}
	}
	return a, nil
}

func party(n *node) Party {
	return Party{
		Entity:  n.val("entity"),
		Contact: n.val("contact"),
		Address: n.val("address"),
		Phone:   n.val("phone"),
		Email:   n.val("email"),
	}
}

// readTree builds the element tree of b within the bounds above.
func readTree(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.AutoClose = nil
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		return charset.Reader(label, in)
	}
	var root *node
	var stack []*node
	elements := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if root != nil && len(stack) == 0 {
				break // trailing junk after the document is not our concern
			}
			return nil, fmt.Errorf("the XML is not well-formed: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxXMLElements {
				return nil, fmt.Errorf("the XML has more than %d elements", maxXMLElements)
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("the XML nests deeper than %d elements", maxXMLDepth)
			}
			n := &node{name: strings.ToLower(t.Name.Local)}
			for _, at := range t.Attr {
				if n.attr == nil {
					n.attr = map[string]string{}
				}
				n.attr[strings.ToLower(at.Name.Local)] = at.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return root, nil // a second document: read the first
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 && root != nil {
				return root, nil
			}
		case xml.CharData:
			if len(stack) > 0 {
				n := stack[len(stack)-1]
				if room := maxXMLText - len(n.text); room > 0 {
					if len(t) > room {
						t = t[:room]
					}
					n.text = append(n.text, t...)
				}
			}
		}
	}
	if root == nil {
		return nil, errors.New("the XML has no element")
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("the XML ends inside <%s>", stack[len(stack)-1].name)
	}
	return root, nil
}

// Inline notices sit in the mail's text between marker lines such as
// "----Begin ACNS XML-----" / "----End ACNS XML-----" (dash-escaped to
// "- ----Begin…" in a PGP clear-signed text, RFC 4880 §7.1), or with no
// marker at all; the element itself is what is looked for.
var (
	acnsStart  = regexp.MustCompile(`(?i)<(?:[a-z0-9_.-]+:)?infringement\b`)
	acnsEnd    = regexp.MustCompile(`(?i)</(?:[a-z0-9_.-]+:)?infringement\s*>`)
	acnsMarker = regexp.MustCompile(`(?i)^(?:- )?-+\s*(?:begin|start|end)\s+acns(?:\s+xml)?\s*-*\s*$`)
	xmlProlog  = regexp.MustCompile(`^\s*<\?xml\b`)
)

// inlineXML is one ACNS document found in the text: the XML and the lines
// (0-based, inclusive) it and its marker lines occupy.
type inlineXML struct {
	xml         string
	first, last int
}

// findInline finds up to max <Infringement> documents in lines.
func findInline(lines []string, max int) []inlineXML {
	var out []inlineXML
	for i := 0; i < len(lines) && len(out) < max; i++ {
		loc := acnsStart.FindStringIndex(lines[i])
		if loc == nil {
			continue
		}
		var b strings.Builder
		b.WriteString(lines[i][loc[0]:])
		end := -1
		if e := acnsEnd.FindStringIndex(lines[i][loc[0]:]); e != nil {
			end = i
			b.Reset()
			b.WriteString(lines[i][loc[0] : loc[0]+e[1]])
		}
		for j := i + 1; end < 0 && j < len(lines) && b.Len() <= MaxXMLBytes; j++ {
			b.WriteByte('\n')
			if e := acnsEnd.FindStringIndex(lines[j]); e != nil {
				b.WriteString(lines[j][:e[1]])
				end = j
				break
			}
			b.WriteString(lines[j])
		}
		if end < 0 {
			// No end tag: hand what there is to the reader, which names
			// the problem; the rest of the text stays readable.
			end = i
			for end+1 < len(lines) && strings.TrimSpace(lines[end+1]) != "" && end-i < 2000 {
				end++
			}
		}
		first := i
		for first > 0 && first > i-3 && (xmlProlog.MatchString(lines[first-1]) || acnsMarker.MatchString(strings.TrimSpace(lines[first-1]))) {
			first--
		}
		last := end
		for last+1 < len(lines) && last < end+2 && acnsMarker.MatchString(strings.TrimSpace(lines[last+1])) {
			last++
		}
		out = append(out, inlineXML{xml: b.String(), first: first, last: last})
		i = last
	}
	return out
}
