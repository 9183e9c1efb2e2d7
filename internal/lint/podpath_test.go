package lint

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFindingsNameTheirWorkloadsPodSpecPath: container findings point into the pod
// spec where each workload kind keeps it.
func TestFindingsNameTheirWorkloadsPodSpecPath(t *testing.T) {
	report := runFixture(t, filepath.Join("testdata", "podspec-paths.yaml"))
	fields := map[string][]string{}
	for _, f := range report.Findings {
		fields[f.Object.Kind] = append(fields[f.Object.Kind], f.Field)
	}
	for _, tc := range []struct{ kind, want string }{
		{"Deployment", "spec.template.spec.containers[web]"},
		{"StatefulSet", "spec.template.spec.containers[web]"},
		{"DaemonSet", "spec.template.spec.containers[web]"},
		{"ReplicaSet", "spec.template.spec.containers[web]"},
		{"Job", "spec.template.spec.containers[web]"},
		{"CronJob", "spec.jobTemplate.spec.template.spec.containers[web]"},
		{"Pod", "spec.containers[web]"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			for _, f := range fields[tc.kind] {
				if strings.HasPrefix(f, tc.want) {
					return
				}
			}
			t.Fatalf("no finding about %s; fields %q", tc.want, fields[tc.kind])
		})
	}
}
