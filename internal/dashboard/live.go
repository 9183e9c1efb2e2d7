package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// liveGap is the least time between two updates of one open page: a burst of
// changes (a health check of every app) becomes one update.
const liveGap = 250 * time.Millisecond

// liveView renders the live region of the page at path for v, with the topics whose
// changes concern it.
func (s *Server) liveView(ctx context.Context, v *viewer, path string) (name string, p *page, wants func(string) bool, err error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	is := func(t string) func(string) bool { return func(topic string) bool { return topic == t } }
	switch {
	case path == "/":
		p, err = s.appsPage(ctx, v)
		return "apps", p, is("apps"), err
	case path == "/migrations":
		p, err = s.migrationsPage(ctx, v)
		return "migrations", p, is("migrations"), err
	case len(parts) == 3 && parts[0] == "apps":
		var msg string
		p, _, msg = s.appPage(ctx, v, parts[1], parts[2], 0, 0)
		if p == nil {
			err = fmt.Errorf("%s", msg)
		}
		return "app", p, is("app/" + parts[1] + "/" + parts[2]), err
	case len(parts) == 3 && parts[0] == "migrations":
		var msg string
		p, _, msg = s.migrationPage(ctx, v, parts[1], parts[2])
		if p == nil {
			err = fmt.Errorf("%s", msg)
		}
		return "migration", p, is("migration/" + parts[1] + "/" + parts[2]), err
	}
	return "", nil, nil, fmt.Errorf("no live page at %s", path)
}

// handleLive streams a page's live region as server-sent events: one "update" event
// with the region's HTML as soon as the stream opens, then one after every change the
// watches see that concerns it. The first one carries what changed between the page's
// render and its subscription here (or while it was reconnecting), which no later
// change would.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request, v *viewer) {
	path := r.URL.Query().Get("path")
	ctx := r.Context()
	name, _, wants, err := s.liveView(ctx, v, path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	sub, unsubscribe := s.source.subscribe(wants)
	defer unsubscribe()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(25 * time.Second)
	defer keepalive.Stop()
	if !s.sendLive(ctx, w, flusher, v, name, path) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
			continue
		case <-sub.notify:
		}
		if !s.sendLive(ctx, w, flusher, v, name, path) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(liveGap):
		}
	}
}

// sendLive renders the live region of page name at path and sends it as an "update"
// event (or a "gone" one when the page no longer exists); false: the stream ends.
func (s *Server) sendLive(ctx context.Context, w http.ResponseWriter, flusher http.Flusher, v *viewer, name, path string) bool {
	_, p, _, err := s.liveView(ctx, v, path)
	if err != nil {
		fmt.Fprintf(w, "event: gone\ndata: %s\n\n", strings.ReplaceAll(err.Error(), "\n", " "))
		flusher.Flush()
		return false
	}
	html, err := s.renderMain(name, p)
	if err != nil {
		s.cfg.Log.Error("render live update", "page", name, "error", err)
		return false
	}
	var buf bytes.Buffer
	buf.WriteString("event: update\n")
	for line := range strings.SplitSeq(string(html), "\n") {
		buf.WriteString("data: ")
		buf.WriteString(line)
		buf.WriteString("\n")
	}
	buf.WriteString("\n")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return false
	}
	flusher.Flush()
	return true
}
