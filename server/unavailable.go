package server

import (
	"net/http"

	"github.com/tokenmanager/tokenmanager/server/internal/reply"
)

// restFailure answers a failure of ours on the JSON surfaces (Spectrum REST, admin, forward-auth): 503 with
// Retry-After while the database is unavailable, 500 otherwise.
func (s *Server) restFailure(w http.ResponseWriter, r *http.Request, err error) {
	status := s.env.Failure(r.Context(), w.Header(), err)
	msg := "internal server error"
	if status == http.StatusServiceUnavailable {
		msg = "service temporarily unavailable; retry later"
	}
	reply.JSON(w, status, restError{msg})
}
