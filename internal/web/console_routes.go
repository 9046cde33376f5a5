package web

import (
	"net/http"

	"abusedesk/internal/store"
)

// routeConsole registers the staff console and the staff API.
func (s *Server) routeConsole(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
	analyst := func(h http.HandlerFunc) http.HandlerFunc { return s.requireSession("", h) }
	mux.HandleFunc("GET /console/login", s.handleLoginPage)
	limited("POST /console/login", s.handleLogin) // per-address rate limit: slows password guessing
	mux.HandleFunc("POST /console/logout", s.handleLogout)
	mux.HandleFunc("GET /console", analyst(s.handleQueue))
	mux.HandleFunc("GET /console/{$}", analyst(s.handleQueue))
	mux.HandleFunc("POST /console/cases/bulk", analyst(s.handleBulkCases))
	mux.HandleFunc("GET /console/cases/{id}", analyst(s.handleCasePage))
	mux.HandleFunc("POST /console/cases/{id}/actions", analyst(s.handleCaseAction))
	mux.HandleFunc("GET /console/cases/{id}/customer", analyst(s.handleCustomer))
	mux.HandleFunc("GET /console/dashboard", analyst(s.handleDashboard))
	mux.HandleFunc("GET /console/admin", s.requireSession(store.RoleAdmin, s.handleAdmin))
	mux.HandleFunc("POST /console/cases/{id}/messages/{mid}/{decision}", analyst(s.handleMessageDecision))
	mux.HandleFunc("GET /console/outbox", analyst(s.handleOutbox))
	mux.HandleFunc("GET /console/outbox/{mid}", analyst(s.handleOutboxMail))
	mux.HandleFunc("POST /console/outbox/{mid}/retry", analyst(s.handleOutboxRetry))
	mux.HandleFunc("GET /console/mailbox", analyst(s.handleMailbox))
	mux.HandleFunc("GET /console/mailbox/{id}", analyst(s.handleMailboxMail))
	mux.HandleFunc("GET /console/mailbox/{id}/raw", analyst(s.handleMailboxRaw))
	mux.HandleFunc("POST /console/mailbox/{id}/requeue", analyst(s.handleMailboxRequeue))
	mux.HandleFunc("POST /console/mailbox/{id}/handle", analyst(s.handleMailboxHandle))
	mux.HandleFunc("GET /console/sink", analyst(s.handleSink))
	mux.HandleFunc("GET /console/sink/{n}", analyst(s.handleSinkMail))

	mux.HandleFunc("GET /api/v1/cases", s.requireStaffToken(s.apiListCases))
	mux.HandleFunc("POST /api/v1/cases/actions", s.requireStaffToken(s.apiBulkAction))
	mux.HandleFunc("GET /api/v1/cases/{id}", s.requireStaffToken(s.apiGetCase))
	mux.HandleFunc("POST /api/v1/cases/{id}/actions", s.requireStaffToken(s.apiCaseAction))
	mux.HandleFunc("GET /api/v1/cases/{id}/customer", s.requireStaffToken(s.apiCustomer))
	mux.HandleFunc("POST /api/v1/cases/{id}/messages/{mid}/{decision}", s.requireStaffToken(s.apiMessageDecision))
	mux.HandleFunc("GET /api/v1/dashboard", s.requireStaffToken(s.apiDashboard))
}
