package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/golden"
)

// TestMigrateStatusGolden: the table and JSON say the same: step 2 of 3 counted from
// 1 in both, weights as percentages named for their side in both.
func TestMigrateStatusGolden(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "migration.yaml")
	if err := os.WriteFile(plan, []byte("name: shop\nsteps: [{weight: 10}, {weight: 50}, {weight: 100}]\n"+
		"router: {proxy: {admin: \"http://127.0.0.1:1\"}}\nmetrics: {proxy: {}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := `{"revision": 7, "name": "shop", "run": "r1", "phase": "running", "step": 1,
  "stepStarted": "2026-11-30T10:05:00Z", "started": "2026-11-30T10:00:00Z", "updated": "2026-11-30T10:06:00Z",
  "target": {"legacy": 5000, "kubernetes": 5000}, "applied": {"legacy": 9000, "kubernetes": 1000},
  "gates": [{"gate": "error-rate", "verdict": "pending", "message": "legacy 0.10% (1000 requests), kubernetes 0.12% (400 requests): 600 more needed", "needMore": 600}],
  "events": [{"time": "2026-11-30T10:05:00Z", "message": "step 2 (50%): applying weights"}]}`
	if err := os.MkdirAll(filepath.Join(dir, ".ferry"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".ferry", "migration-shop.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, golden string }{
		{"table", "migrate-status.txt"},
		{"json", "migrate-status.json"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, stdout, stderr := run(t, "migrate", "status", "--plan", plan, "-o", tc.format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// The table shows the log's times in the local time zone.
			local := time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC).Local().Format(time.TimeOnly)
			golden.Check(t, filepath.Join("testdata", "golden", tc.golden+".golden"), strings.ReplaceAll(stdout, "  "+local+"  ", "  HH:MM:SS  "))
		})
	}
	_, stdout, _ := run(t, "migrate", "status", "--plan", plan, "-o", "json")
	var st migrationStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	_, table, _ := run(t, "migrate", "status", "--plan", plan)
	for _, same := range []string{st.StepDisplay, st.StepWeight, st.AppliedWeights.String(), st.TargetWeights.String()} {
		if !strings.Contains(table, same) {
			t.Errorf("the table lacks %q, which the JSON says:\n%s", same, table)
		}
	}
}
