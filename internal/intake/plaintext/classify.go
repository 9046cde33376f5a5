package plaintext

import (
	"strings"
	"unicode"

	"abusedesk/internal/report"
)

// fold lowers nothing but drops the accents of the Latin letters French
// uses, and makes typographic apostrophes plain, so that "hameçonnage",
// "hameconnage" and "HAMEÇONNAGE" (after ToLower) match alike: people
// writing from phones and old mail software often lose the accents.
func fold(s string) string {
	if isASCII(s) {
		return s
	}
	return accentFolder.Replace(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var accentFolder = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "á", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "í", "i", "ô", "o", "ö", "o", "ó", "o", "ù", "u", "û", "u", "ü", "u", "ú", "u",
	"ÿ", "y", "œ", "oe", "æ", "ae", "’", "'", "‘", "'", "«", "\"", "»", "\"", "\u00a0", " ",
	"À", "A", "Â", "A", "Ç", "C", "É", "E", "È", "E", "Ê", "E", "Î", "I", "Ô", "O", "Ù", "U", "Û", "U",
)

// keyword is a phrase (already folded, lower case) and its weight: a
// specific phrase counts more than a single word.
type keyword struct {
	phrase string
	weight int
}

// classes are the subtypes Classify chooses from, in the order that breaks
// ties: the more specific network kinds first, spam last (a phishing mail
// is also unsolicited).
var classes = []struct {
	typ, subtype string
	words        []keyword
}{
	{report.TypeNetwork, "ddos", kw("ddos:3", "dos attack:2", "denial of service:3", "denial-of-service:3", "flood:2", "flooding:2", "syn flood:3",
		"udp flood:3", "amplification:2", "reflection attack:2", "deni de service:3", "attaque ddos:3", "inondation:1", "volumetric:1")},
	{report.TypeNetwork, "port_scan", kw("port scan:3", "port scans:3", "port scanning:3", "portscan:3", "port-scan:3", "scanning:1", "scanned our:2",
		"nmap:2", "masscan:2", "zmap:2", "scan de ports:3", "scan de port:3", "scans de ports:3", "balayage:2", "balayage de ports:3", "scanne nos:2")},
	{report.TypeNetwork, "intrusion", kw("brute force:3", "brute-force:3", "bruteforce:3", "failed password:2", "invalid user:2", "login attempts:2",
		"login attempt:2", "authentication failure:2", "authentication failures:2", "intrusion:2", "intrusion attempt:3", "hacking attempt:3",
		"hacking attempts:3", "unauthorized access:2", "unauthorised access:2", "dictionary attack:3", "credential stuffing:3", "password spraying:3",
		"tentatives de connexion:3", "tentative de connexion:3", "tentatives d'intrusion:3", "tentative d'intrusion:3", "force brute:3",
		"acces non autorise:2", "piratage:2", "an account failed to log on:2", "ssh attack:3", "ssh attacks:3")},
	{report.TypeContent, "phishing", kw("phishing:3", "phish:2", "credential harvesting:3", "fake login:2", "fake login page:3", "hameconnage:3", "filoutage:3",
		"fausse page de connexion:3", "usurpation:1")},
	{report.TypeContent, "malware", kw("malware:3", "trojan:3", "ransomware:3", "virus:1", "botnet:2", "command and control:2", "c2 server:2",
		"logiciel malveillant:3", "logiciels malveillants:3", "cheval de troie:3", "rancongiciel:3", "malicious file:2", "malicious software:3",
		"malicious payload:2", "maliciel:3")},
	{report.TypeContent, "web_content", kw("illegal content:3", "unlawful content:3", "contenu illicite:3", "contenus illicites:3", "contenu illegal:3",
		"terrorist content:3", "hate speech:2", "child sexual abuse:3", "contenu haineux:2")},
	{report.TypeEmail, "spam_sent", kw("spam:2", "spams:2", "spammer:2", "spamming:2", "unsolicited:2", "junk mail:2", "bulk mail:1", "pourriel:3",
		"pourriels:3", "polluriel:3", "courriel non sollicite:3", "courriels non sollicites:3", "message non sollicite:2",
		"messages non sollicites:2", "mail non sollicite:2", "mails non sollicites:2")},
}

// negatives are phrases that contain a keyword but say the opposite (mail
// footers of antivirus software, "not spam").
var negatives = kw("virus-free:1", "virus free:1", "scanned for viruses:1", "checked for viruses:1", "sans virus:1", "anti-virus:1",
	"not spam:2", "pas du spam:2", "spam folder:2", "dossier spam:2")

func kw(specs ...string) []keyword {
	out := make([]keyword, len(specs))
	for i, s := range specs {
		p, w, _ := strings.Cut(s, ":")
		out[i] = keyword{p, int(w[0] - '0')}
	}
	return out
}

// maxClassifyBytes bounds the text Classify and Language read.
const maxClassifyBytes = 256 << 10

// Classify reads the abuse type and subtype a text describes, from English
// and French keywords matched on word boundaries, accents ignored. score
// is the weight of the keywords found (0: nothing recognised, and typ and
// subtype are empty). Network, content and email types use the subtypes of
// report.Subtypes; spam is email/spam_sent.
func Classify(text string) (typ, subtype string, score int) {
	scores := classScores(text)
	best := -1
	for i, s := range scores {
		if s > 0 && (best < 0 || s > scores[best]) {
			best = i
		}
	}
	if best < 0 {
		return "", "", 0
	}
	return classes[best].typ, classes[best].subtype, scores[best]
}

// classScores is the score of each of classes, negatives deducted.
func classScores(text string) []int {
	if len(text) > maxClassifyBytes {
		text = text[:maxClassifyBytes]
	}
	t := fold(strings.ToLower(text))
	scores := make([]int, len(classes))
	for i, c := range classes {
		for _, k := range c.words {
			scores[i] += k.weight * countWord(t, k.phrase)
		}
	}
	for _, n := range negatives {
		if c := countWord(t, n.phrase); c > 0 {
			for i, cl := range classes {
				for _, k := range cl.words {
					if strings.Contains(n.phrase, k.phrase) {
						scores[i] -= k.weight * c
					}
				}
			}
		}
	}
	for i := range scores {
		scores[i] = max(scores[i], 0)
	}
	return scores
}

// countWord counts the occurrences of phrase in t that start and end on
// word boundaries (the neighbours are not letters or digits, in any
// script; Go's regexp \b knows only ASCII).
func countWord(t, phrase string) int {
	n := 0
	for i := 0; i < len(t) && n < 1000; {
		j := strings.Index(t[i:], phrase)
		if j < 0 {
			break
		}
		start, end := i+j, i+j+len(phrase)
		if boundaryBefore(t, start) && boundaryAfter(t, end) {
			n++
		}
		i = start + 1
	}
	return n
}

func boundaryBefore(t string, i int) bool {
	if i == 0 {
		return true
	}
	r := lastRune(t[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func boundaryAfter(t string, i int) bool {
	if i >= len(t) {
		return true
	}
	for _, r := range t[i:] {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}
	return true
}

func lastRune(s string) rune {
	var last rune
	for _, r := range s[max(0, len(s)-4):] {
		last = r
	}
	return last
}

// French and English stop words: the short words every sentence has.
var (
	stopFR = wordSet("le la les un une des du de et est sont nous vous notre nos votre vos je il elle ils que qui pour dans sur avec pas par ce cette ces mais ou au aux leur depuis merci bonjour madame monsieur cordialement veuillez adresse serveur heure été avons avez ont très")
	stopEN = wordSet("the a an and is are we you our your i he she they that which for in on with not by this these but or to of from their since thanks thank hello dear regards please address server time been have has was were very")
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Language says whether text is French ("fr") or English ("en"): it counts
// the stop words of each and the accented letters French uses. English is
// the answer when nothing decides.
func Language(text string) string {
	if len(text) > maxClassifyBytes {
		text = text[:maxClassifyBytes]
	}
	fr, en := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		if i := strings.IndexByte(w, '\''); i >= 0 && i < 3 { // l'adresse, d'une, n'est
			fr++
			w = w[i+1:]
		}
		if stopFR[w] {
			fr += 2
		}
		if stopEN[w] {
			en += 2
		}
		for _, r := range w {
			switch r {
			case 'é', 'è', 'ê', 'à', 'ç', 'ù', 'â', 'î', 'ô', 'û', 'ë', 'ï', 'œ':
				fr++
			}
		}
	}
	if fr > en {
		return "fr"
	}
	return "en"
}
