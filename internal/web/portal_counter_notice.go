package web

import (
	"net/http"

	"abusedesk/internal/dmca"
	"abusedesk/internal/report"
)

// The DMCA counter-notice form, 17 U.S.C. § 512(g)(3), on copyright cases
// only. It shows the four elements with the statements' wording of
// internal/dmca and warns that the counter-notice, name, address and phone
// included, goes to the complainant (§ 512(g)(2)(B)). An incomplete one is
// shown again with each missing element named by its clause, next to its
// field, with what was typed.

type cnProblem struct {
	Clause, Message string
}

type portalCNPage struct {
	CaseID                             string
	Form                               dmca.CounterNotice
	Errors                             map[string]*cnProblem
	GoodFaith, Jurisdiction, Service   string
	ClauseA, ClauseB, ClauseC, ClauseD string
}

func (s *Server) cnPage(r *http.Request, id string, cn dmca.CounterNotice) *portalCNPage {
	g, j, sv := dmca.Statements(portalLang(r))
	return &portalCNPage{CaseID: id, Form: cn, Errors: map[string]*cnProblem{}, GoodFaith: g, Jurisdiction: j, Service: sv,
		ClauseA: dmca.ClauseA, ClauseB: dmca.ClauseB, ClauseC: dmca.ClauseC, ClauseD: dmca.ClauseD}
}

func (s *Server) handlePortalCounterNoticeForm(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	c, err := s.portalCaseRow(r.Context(), sess.Account, r.PathValue("id"))
	if s.portalFailed(w, r, err) {
		return
	}
	if c.Category != "dmca" {
		// The form exists for copyright cases only.
		s.renderPortal(w, r, http.StatusNotFound, "portal_notfound", c.PublicID)
		return
	}
	s.renderPortal(w, r, http.StatusOK, "portal_counter_notice", s.cnPage(r, c.PublicID, dmca.CounterNotice{}))
}

// counterNoticeForm reads the form's fields (a checkbox is sent only when
// ticked).
func counterNoticeForm(r *http.Request) dmca.CounterNotice {
	box := func(name string) bool { v := r.PostFormValue(name); return v == "on" || v == "true" || v == "yes" }
	return dmca.CounterNotice{Signature: r.PostFormValue("signature"), Material: r.PostFormValue("material"),
		Location: r.PostFormValue("location"), GoodFaith: box("good_faith_statement"), Name: r.PostFormValue("name"),
		Address: r.PostFormValue("address"), Country: r.PostFormValue("country"), Phone: r.PostFormValue("phone"),
		Email: r.PostFormValue("email"), Jurisdiction: box("consent_to_jurisdiction"), AcceptService: box("accept_service")}
}

func (s *Server) handlePortalCounterNotice(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	cn := counterNoticeForm(r)
	_, problems, err := s.portalCounterNotice(r.Context(), sess.Account, r.PathValue("id"), cn)
	if pe, ok := err.(*portalError); ok && pe.Code == "not_copyright" {
		s.renderPortal(w, r, http.StatusNotFound, "portal_notfound", r.PathValue("id"))
		return
	}
	if s.portalFailed(w, r, err) {
		return
	}
	if len(problems) > 0 {
		p := s.cnPage(r, r.PathValue("id"), cn)
		lang := portalLang(r)
		for _, pr := range problems {
			if _, dup := p.Errors[pr.Field]; dup {
				continue
			}
			msg := pr.Message
			if lang != "en" {
				msg = s.pages.T(lang, "portal.cn.code."+cnCode(pr))
			}
			p.Errors[pr.Field] = &cnProblem{Clause: pr.Clause, Message: msg}
		}
		s.renderPortal(w, r, http.StatusUnprocessableEntity, "portal_counter_notice", p)
		return
	}
	http.Redirect(w, r, "/portal/cases/"+r.PathValue("id")+"?done=counter_notice#counter-notices", http.StatusSeeOther)
}

// cnCode groups a problem's code for the translated message.
func cnCode(p dmca.Problem) string {
	switch p.Code {
	case report.CodeDMCAElement, report.CodeTooLarge, report.CodeInvalidEmail:
		return p.Code
	}
	return report.CodeInvalid
}
