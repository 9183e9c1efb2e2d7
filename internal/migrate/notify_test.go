package migrate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

func TestNotifierSendsSlackTextAndGenericJSON(t *testing.T) {
	var slack map[string]string
	var generic Notice
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&slack)
	}))
	defer slackSrv.Close()
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&generic)
	}))
	defer hookSrv.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer broken.Close()

	n := Notice{Migration: "shop", Event: "aborted", Step: "5%", Weights: traffic.KubernetesShare(0),
		Reason: "gate error-rate failed at 5%", Time: time.Now()}
	errs := (&Notifier{Targets: []plan.Notify{{Webhook: broken.URL}, {Slack: slackSrv.URL}, {Webhook: hookSrv.URL}}}).Send(context.Background(), n)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "500") {
		t.Fatalf("errors %v, want only the broken receiver's", errs)
	}
	if text := slack["text"]; !strings.Contains(text, "migration shop aborted at the 5% step") || !strings.Contains(text, "legacy 100% / kubernetes 0%") {
		t.Fatalf("slack text %q", text)
	}
	if generic.Event != "aborted" || generic.Step != "5%" || generic.Reason != n.Reason || generic.Weights.Legacy != traffic.Total {
		t.Fatalf("generic notice %+v", generic)
	}
}
