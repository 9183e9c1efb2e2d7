package legacy_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"ferry.dev/ferry/internal/cronexpr"
	"ferry.dev/ferry/internal/legacy"
	"ferry.dev/ferry/internal/lint"
)

func importShapes(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile("testdata/crontab/shapes.crontab")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := legacy.ParseCrontab("shapes.crontab", data, false)
	if err != nil {
		t.Fatal(err)
	}
	objs, notes, err := legacy.CronJobs(tab, legacy.CronJobConfig{Image: "registry.example.com/app/web:2026.11.21-4f3c2a1", TimeZone: "Etc/UTC", Container: "web", CPU: "100m", Memory: "256Mi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		if n.Kind == legacy.Skipped {
			t.Fatalf("skipped: %s", n)
		}
	}
	if len(objs) != len(tab.Jobs) {
		t.Fatalf("%d CronJobs of %d entries", len(objs), len(tab.Jobs))
	}
	return objs
}

// TestImportedCronJobsPassLint: whatever the schedule, what import writes is what
// ferry lint, and so ferry deploy, accepts.
func TestImportedCronJobsPassLint(t *testing.T) {
	objs := importShapes(t)
	report, err := lint.Run(objs, lint.Config{Namespace: "app", AppContainers: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Findings {
		if f.Severity >= lint.Warning {
			t.Errorf("%s %s %s: %s", f.Severity, f.Rule, f.Object.Name, f.Message)
		}
	}
}

// TestImportedSchedulesFireWhenCronDid checks every emitted schedule with the parser
// Kubernetes uses: it parses, and over a year it fires at exactly the minutes the
// legacy line fired at as classic cron reads it.
func TestImportedSchedulesFireWhenCronDid(t *testing.T) {
	start := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC) // a leap year
	end := start.AddDate(1, 0, 0)
	for _, obj := range importShapes(t) {
		var cj batchv1.CronJob
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &cj); err != nil {
			t.Fatal(err)
		}
		legacyLine := cj.Spec.Schedule
		if s, ok := cj.Annotations[legacy.AnnotationLegacySchedule]; ok {
			legacyLine = s
		}
		t.Run(legacyLine, func(t *testing.T) {
			kube, err := cron.ParseStandard(cj.Spec.Schedule)
			if err != nil {
				t.Fatalf("Kubernetes does not read %q: %v", cj.Spec.Schedule, err)
			}
			// ? is any day where it is read at all (a review note says so), as * is.
			classic, err := cronexpr.ParseClassic(strings.ReplaceAll(legacyLine, "?", "*"))
			if err != nil {
				t.Fatal(err)
			}
			next := kube.Next(start.Add(-time.Minute))
			fired := 0
			for m := start; m.Before(end); m = m.Add(time.Minute) {
				cronRuns, kubeRuns := classic.Matches(m), next.Equal(m)
				if cronRuns != kubeRuns {
					t.Fatalf("at %s cron runs %v, Kubernetes runs %q %v", m.Format("2006-01-02 15:04 Mon"), cronRuns, cj.Spec.Schedule, kubeRuns)
				}
				if kubeRuns {
					fired++
					next = kube.Next(m)
				}
			}
			if fired == 0 {
				t.Fatalf("%q never fires in 2028", legacyLine)
			}
		})
	}
}
