package web

import "net/http"

// routePortal registers the customer portal and its JSON API.
func (s *Server) routePortal(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
	customer := s.requirePortal
	// Logging in: the pages exist in French under /fr; the POSTs are rate
	// limited per client address (they write mail events, or try tokens).
	for _, pre := range []string{"", "/fr"} {
		mux.HandleFunc("GET "+pre+"/portal/login", s.handlePortalLoginPage)
		limited("POST "+pre+"/portal/login", s.handlePortalLoginRequest)
		limited("GET "+pre+"/portal/login/{token}", s.handlePortalLink)
		limited("POST "+pre+"/portal/login/{token}", s.handlePortalRedeem)
	}
	mux.HandleFunc("POST /portal/logout", customer(s.handlePortalLogout))
	mux.HandleFunc("GET /portal", customer(s.handlePortalCases))
	mux.HandleFunc("GET /portal/{$}", customer(s.handlePortalCases))
	mux.HandleFunc("GET /portal/cases/{id}", customer(s.handlePortalCase))
	mux.HandleFunc("POST /portal/cases/{id}/answer", customer(s.handlePortalAnswer))
	mux.HandleFunc("POST /portal/cases/{id}/extension", customer(s.handlePortalExtension))
	mux.HandleFunc("POST /portal/cases/{id}/messages", customer(s.handlePortalMessage))
	mux.HandleFunc("POST /portal/cases/{id}/consent", customer(s.handlePortalConsent))
	mux.HandleFunc("GET /portal/cases/{id}/counter-notice", customer(s.handlePortalCounterNoticeForm))
	mux.HandleFunc("POST /portal/cases/{id}/counter-notice", customer(s.handlePortalCounterNotice))
	mux.HandleFunc("GET /portal/keys", customer(s.handlePortalKeys))
	mux.HandleFunc("POST /portal/keys", customer(s.handlePortalKeyCreate))
	mux.HandleFunc("POST /portal/keys/{id}/revoke", customer(s.handlePortalKeyRevoke))

	key := s.requirePortalKey
	mux.HandleFunc("GET /api/v1/portal/cases", key(s.apiPortalCases))
	mux.HandleFunc("GET /api/v1/portal/cases/{id}", key(s.apiPortalCase))
	mux.HandleFunc("POST /api/v1/portal/cases/{id}/answer", key(s.apiPortalAnswer))
	mux.HandleFunc("POST /api/v1/portal/cases/{id}/extension", key(s.apiPortalExtension))
	mux.HandleFunc("POST /api/v1/portal/cases/{id}/messages", key(s.apiPortalMessage))
	mux.HandleFunc("POST /api/v1/portal/cases/{id}/consent", key(s.apiPortalConsent))
	mux.HandleFunc("POST /api/v1/portal/cases/{id}/counter-notice", key(s.apiPortalCounterNotice))
}
