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

func TestNotifierErrorsDoNotShowTheWebhookSecrets(t *testing.T) {
	const token = "abcdEFGHijklMNOPqrstUVWX"
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer broken.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens there any more: the client's error names the URL
	withSecrets := func(base string) string {
		u := strings.Replace(base, "http://", "http://ferry:"+token+"@", 1)
		return u + "/services/T0AAAAAAA/B0BBBBBBB/" + token + "?token=" + token
	}
	for _, tc := range []struct {
		name   string
		target plan.Notify
		want   string
	}{
		{"slack answers 500", plan.Notify{Slack: withSecrets(broken.URL)}, "500"},
		{"webhook answers 500", plan.Notify{Webhook: withSecrets(broken.URL)}, "500"},
		{"webhook unreachable", plan.Notify{Webhook: withSecrets(gone.URL)}, "connection refused"},
		{"not a URL", plan.Notify{Webhook: "http://ferry:" + token + "@bad host/" + token}, "REDACTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := (&Notifier{Targets: []plan.Notify{tc.target}}).Send(context.Background(), Notice{Migration: "shop", Event: "aborted"})
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one", errs)
			}
			msg := errs[0].Error()
			if strings.Contains(msg, token) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "REDACTED") {
				t.Fatalf("error %q shows the secret or lacks %q", msg, tc.want)
			}
		})
	}
}
