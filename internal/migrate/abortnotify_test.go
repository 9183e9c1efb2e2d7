package migrate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
)

// A receiver that fails to take the notice of a manual abort with no runner is in
// the migration's recorded log, its URL redacted.
func TestAFailedNotificationOfAManualAbortIsRecorded(t *testing.T) {
	t.Parallel()
	const token = "abcdEFGHijklMNOPqrstUVWX"
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(broken.Close)
	e := newEnv(t, 50, "60s")
	e.stopAtFirstJudgement(t)
	e.cfg.Notify = &migrate.Notifier{Targets: []plan.Notify{{Webhook: broken.URL + "/hooks/" + token}}}
	var told []string
	e.cfg.OnEvent = func(ev migrate.Event) { told = append(told, ev.Message) }
	if err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "abort"}); err != nil {
		t.Fatalf("abort: %v", err)
	}
	st, err := e.cfg.Store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !hasEvent(st, "notify http://"+strings.TrimPrefix(broken.URL, "http://")) || !hasEvent(st, "503") || !hasEvent(st, "REDACTED") {
		t.Fatalf("the recorded log lacks the failed notification: %v", st.Events)
	}
	if hasEvent(st, token) || strings.Contains(strings.Join(told, "\n"), token) {
		t.Fatalf("the log shows the webhook's token: %v", st.Events)
	}
	if !strings.Contains(strings.Join(told, "\n"), "503") {
		t.Fatalf("OnEvent was not told of the failed notification: %q", told)
	}
}
