package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/redact"
	"ferry.dev/ferry/internal/traffic"
)

// Notice is what receivers are told when a migration aborts or completes, and when
// an abort could send legacy only part of the traffic (abort-limited: the alert that
// legacy is short of capacity while Kubernetes misbehaves).
type Notice struct {
	Migration string          `json:"migration"`
	Event     string          `json:"event"` // aborted, abort-limited, completed
	Step      string          `json:"step"`  // the Kubernetes share of the step it ended at
	Weights   traffic.Weights `json:"weights"`
	Reason    string          `json:"reason"`
	Time      time.Time       `json:"time"`
}

// Text is the notice as one line for chat.
func (n Notice) Text() string {
	return fmt.Sprintf("ferry: migration %s %s at the %s step — %s. Weights now %s.", n.Migration, n.Event, n.Step, n.Reason, n.Weights)
}

// Notifier posts notices to Slack-compatible and generic webhooks.
type Notifier struct {
	Targets []plan.Notify
	Client  *http.Client
}

// Send posts n to every target and returns the failures; one failing receiver does
// not keep the others from being told. The failures show each URL redacted: a
// webhook URL is its own credential.
func (nf *Notifier) Send(ctx context.Context, n Notice) []error {
	client := nf.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var errs []error
	for _, t := range nf.Targets {
		url, body := t.Webhook, any(n)
		if t.Slack != "" {
			url, body = t.Slack, map[string]string{"text": n.Text()}
		}
		if err := post(ctx, client, url, body); err != nil {
			errs = append(errs, fmt.Errorf("notify %s: %w", redact.URL(url), redact.Error(err)))
		}
	}
	return errs
}

func post(ctx context.Context, client *http.Client, url string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
