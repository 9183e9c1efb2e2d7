package dashboard

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// handler is a page or action for an authenticated viewer.
type handler func(w http.ResponseWriter, r *http.Request, v *viewer)

func (s *Server) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets/static")
	mux.Handle("GET /static/", s.headers(http.StripPrefix("/static/", http.FileServerFS(static))))
	mux.Handle("GET /login", s.headers(http.HandlerFunc(s.handleLogin)))
	mux.Handle("POST /login", s.headers(http.HandlerFunc(s.handleLogin)))
	mux.Handle("POST /logout", s.guard(func(w http.ResponseWriter, r *http.Request, _ *viewer) { s.handleLogout(w, r) }))
	mux.Handle("GET /{$}", s.guard(s.handleApps))
	mux.Handle("GET /apps/{ns}/{app}", s.guard(s.handleApp))
	mux.Handle("GET /apps/{ns}/{app}/rollback", s.guard(s.handleRollbackConfirm))
	mux.Handle("POST /apps/{ns}/{app}/rollback", s.guard(s.handleRollback))
	mux.Handle("GET /migrations", s.guard(s.handleMigrations))
	mux.Handle("GET /migrations/{ns}/{name}", s.guard(s.handleMigration))
	mux.Handle("POST /migrations/{ns}/{name}/{action}", s.guard(s.handleSteer))
	mux.Handle("GET /live", s.guard(s.handleLive))
	mux.Handle("/", s.guard(func(w http.ResponseWriter, r *http.Request, v *viewer) {
		s.fail(w, r, v, http.StatusNotFound, "There is no such page.")
	}))
	s.mux = mux
}

// headers sets the headers of every answer: no framing, no inline script, no
// referrer (the one-time link carries a token).
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if s.cfg.Mode == ModeLocal && !localHost(r) {
			http.Error(w, "ferry dashboard answers only at 127.0.0.1 or localhost.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// guard authenticates the request (401 without a token or with a refused one) and,
// for a POST, checks its CSRF token (403) before h runs.
func (s *Server) guard(h handler) http.Handler {
	return s.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.authenticate(r)
		if err != nil {
			msg := "Sign in with a token to see the dashboard."
			if s.cfg.Mode == ModeLocal {
				msg = "Open the link ferry dashboard printed to sign in."
			}
			if !errors.Is(err, errNoToken) {
				msg = "Your sign-in was refused (" + err.Error() + "). " + msg
			}
			s.unauthorized(w, r, msg)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !s.sessions.checkCSRF(r, v) {
				s.fail(w, r, v, http.StatusForbidden, "This form has expired or did not come from the dashboard: reload the page and try again.")
				return
			}
		}
		h(w, r, v)
	}))
}
