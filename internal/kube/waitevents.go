package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newWarnings returns warning events about the rollout's namespaces not seen before.
func (w *waiter) newWarnings(ctx context.Context) []string {
	namespaces := map[string]bool{}
	for _, ref := range w.cfg.Objects {
		if ref.Namespace != "" {
			namespaces[ref.Namespace] = true
		}
	}
	var out []string
	for ns := range namespaces {
		// ResourceVersion "0" is served from the API server's watch cache, not etcd.
		events, err := w.c.Clientset.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning", ResourceVersion: "0"})
		if err != nil {
			continue
		}
		for _, e := range events.Items {
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
	}
	sort.Strings(out)
	return out
}
