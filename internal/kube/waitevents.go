package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// warningsOnly selects the events worth showing during a rollout.
const warningsOnly = "type=Warning"

// newWarnings returns warning events about the rollout's namespaces not seen before.
// A namespace's warnings are listed once, then watched; they are listed again only if
// the watch cannot start or ends. So a deep poll never waits on a listing of events.
func (w *waiter) newWarnings(ctx context.Context) []string {
	namespaces := map[string]bool{}
	for _, ref := range w.cfg.Objects {
		if ref.Namespace != "" {
			namespaces[ref.Namespace] = true
		}
	}
	var events []corev1.Event
	for ns := range namespaces {
		if got, watched := w.watches.events(ns); watched {
			events = append(events, got...)
			continue
		}
		// ResourceVersion "0" is served from the API server's watch cache, not etcd.
		list, err := w.c.Clientset.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: warningsOnly, ResourceVersion: "0"})
		if err != nil {
			continue
		}
		events = append(events, list.Items...)
		w.watches.startEvents(w.c, ns, list.ResourceVersion)
	}
	var out []string
	for _, e := range events {
		when := e.LastTimestamp.Time
		if when.IsZero() {
			when = e.EventTime.Time
		}
		key := fmt.Sprintf("%s/%d", e.UID, e.Count)
		if when.Before(w.cfg.Since.Add(-time.Second)) || w.seenEvents[key] {
			continue
		}
		w.seenEvents[key] = true
		out = append(out, fmt.Sprintf("%s/%s: %s: %s", strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, e.Reason, oneLine(e.Message)))
	}
	sort.Strings(out)
	return out
}
