package redact_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/redact"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"plain", "https://example.com/notify", "https://example.com/notify"},
		{"plain with port", "http://127.0.0.1:9090/api/v1", "http://127.0.0.1:9090/api/v1"},
		{"password", "https://ferry:hunter2@example.com/hook", "https://ferry:REDACTED@example.com/hook"},
		{"password stripped by net/http", "https://ferry:***@example.com/hook", "https://ferry:REDACTED@example.com/hook"},
		{"grafana cloud", "https://123456:glc_eyJvIjoiMTIzIiwibiI6InN0YWNrIn0=@prometheus-prod-01.grafana.net/api/prom", "https://123456:REDACTED@prometheus-prod-01.grafana.net/api/prom"},
		{"token as the user", "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42", "https://REDACTED@o1.ingest.sentry.io/42"},
		{"query", "https://example.com/hook?token=abc&channel=ops", "https://example.com/hook?token=REDACTED&channel=REDACTED"},
		{"query without value", "https://example.com/hook?debug", "https://example.com/hook?debug"},
		{"fragment", "https://example.com/cb#access_token=abc", "https://example.com/cb#REDACTED"},
		{"slack", "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdEFGHijklMNOPqrstUVWX", "https://hooks.slack.com/services/REDACTED"},
		{"slack workflow", "https://hooks.slack.com/workflows/T0AAA/A0BBB/123/xyz", "https://hooks.slack.com/workflows/REDACTED"},
		{"discord", "https://discord.com/api/webhooks/123456789012345678/aBcD-eFgH_iJkL", "https://discord.com/api/webhooks/REDACTED"},
		{"discordapp", "https://discordapp.com/api/webhooks/1/x", "https://discordapp.com/api/webhooks/REDACTED"},
		{"teams", "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", "https://contoso.webhook.office.com/webhookb2/REDACTED"},
		{"telegram", "https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage", "https://api.telegram.org/REDACTED"},
		{"mattermost", "https://chat.example.com/hooks/xyz", "https://chat.example.com/hooks/REDACTED"},
		{"webhook path", "https://ci.example.com/api/webhook/build", "https://ci.example.com/api/webhook/REDACTED"},
		{"token-looking segment", "http://127.0.0.1:4000/notify/q8ZrT2vLx9NpB4sKwE7mYc/ops", "http://127.0.0.1:4000/notify/REDACTED"},
		{"hex segment", "https://example.com/h/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b/x", "https://example.com/h/REDACTED"},
		{"word segments stay", "https://example.com/api/v1/notifications/deployments-production", "https://example.com/api/v1/notifications/deployments-production"},
		{"number segments stay", "https://example.com/projects/12345678901234567890/events", "https://example.com/projects/12345678901234567890/events"},
		{"everything", "https://u:p@hooks.slack.com/services/T/B/X?x=1#y", "https://u:REDACTED@hooks.slack.com/services/REDACTED?x=REDACTED#REDACTED"},
		{"not a URL", "https://exa mple.com/%zz", "REDACTED"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.URL(tc.raw); got != tc.want {
				t.Errorf("URL(%q)\n= %q\nwant %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestErrorRedactsTheURLOfAnHTTPError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: the request fails with a *url.Error
	const secret = "abcdEFGHijklMNOPqrstUVWX"
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/hooks/"+secret+"?token="+secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = http.DefaultClient.Do(req)
	if err == nil || !strings.Contains(err.Error(), secret) {
		t.Fatalf("the test needs an error that names the URL: %v", err)
	}
	err = redact.Error(err)
	var ue *url.Error
	if strings.Contains(err.Error(), secret) || !errors.As(err, &ue) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("redacted error %q", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("the redacted error lost its cause: %v", err)
	}
	if redact.Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	plain := errors.New("answered 500")
	if redact.Error(plain) != plain {
		t.Fatal("an error without a URL changed")
	}
}

func TestToken(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"abcdEFGHijklMNOPqrstUVWX", true},
		{"9f86d081884c7d659a2feaa0c55ad015", true},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", true},
		{"xoxb-1234-5678-abcd", true},
		{"ghp_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"AKIAIOSFODNN7EXAMPLE", true},
		{"q8ZrT2vLx9NpB4sKwE7mYc", true},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true},
		{"production", false},
		{"deployments-production", false},
		{"feature_flag_checkout_v2", false},
		{"12345678901234567890", false},
		{"aaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"notifications", false},
		{"IncomingWebhook", false},
		{"v1", false},
	} {
		if got := redact.Token(tc.s); got != tc.want {
			t.Errorf("Token(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
