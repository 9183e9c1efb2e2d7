package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// page is what every template gets.
type page struct {
	Title string
	// Nav is the section the page belongs to: "apps" or "migrations".
	Nav    string
	Viewer *viewer
	CSRF   string
	// Live is the path whose changes the page hears of over /live; empty: none.
	Live   string
	Local  bool
	Notice string
	Error  string
	Data   any
}

// templates are the pages by name, each the layout with the page's own "main".
type templates map[string]*template.Template

var funcs = template.FuncMap{
	"when": func(t time.Time) template.HTML {
		if t.IsZero() {
			return "—"
		}
		u := t.UTC()
		return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, u.Format(time.RFC3339), u.Format("2006-01-02 15:04:05 UTC")))
	},
	"took": func(from, to time.Time) string {
		if from.IsZero() || to.IsZero() {
			return "—"
		}
		return to.Sub(from).Round(time.Second).String()
	},
	"lower": strings.ToLower,
	"op":    func(b byte) string { return string(b) },
	"opclass": func(b byte) string {
		switch b {
		case '+':
			return "add"
		case '-':
			return "del"
		}
		return "ctx"
	},
	"mul100": func(f float64) float64 { return f * 100 },
}

func parseTemplates() (templates, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	files, err := fs.Glob(assets, "assets/templates/page_*.html")
	if err != nil {
		return nil, err
	}
	out := templates{}
	for _, f := range files {
		t, err := template.Must(layout.Clone()).ParseFS(assets, f)
		if err != nil {
			return nil, fmt.Errorf("dashboard templates: %w", err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(f), "page_"), ".html")
		out[name] = t
	}
	return out, nil
}

// render writes page name with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	p.Local = s.cfg.Mode == ModeLocal
	if p.Viewer != nil {
		p.CSRF = s.sessions.csrf(p.Viewer)
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.cfg.Log.Error("render page", "page", name, "error", err)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderMain writes only page name's live region, for /live.
func (s *Server) renderMain(name string, p *page) ([]byte, error) {
	p.Local = s.cfg.Mode == ModeLocal
	p.CSRF = s.sessions.csrf(p.Viewer)
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "main", p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fail answers with a page that says what went wrong in one sentence.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	s.render(w, r, status, "error", &page{Title: http.StatusText(status), Viewer: v, Error: msg})
}

// unauthorized answers 401 with the way to sign in.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="ferry dashboard"`)
	s.render(w, r, http.StatusUnauthorized, "login", &page{Title: "Sign in", Error: msg})
}
