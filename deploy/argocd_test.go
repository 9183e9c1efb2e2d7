package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// healthCheck is the Lua script argocd-cm's resource.customizations.health.ferry.dev_Migration holds.
const healthCheck = "argocd/health-migration.lua"

// health runs the health check as Argo CD does: the object as global obj, a table with
// status and message back.
func health(t *testing.T, obj map[string]any) (status, message string) {
	t.Helper()
	script, err := os.ReadFile(healthCheck)
	if err != nil {
		t.Fatal(err)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(string(script)); err != nil {
		t.Fatalf("run %s: %v", healthCheck, err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("%s returned %s, not a table", healthCheck, L.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message"))
}

// toLua converts a JSON value as Argo CD does: objects and arrays to tables, numbers to
// numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

// TestArgoCDHealthCheck runs the health check on statuses a real migration wrote
// (recorded by internal/controller's tests with FERRY_RECORD_STATUS) and on edge cases.
func TestArgoCDHealthCheck(t *testing.T) {
	for _, tc := range []struct {
		fixture, status, message string
	}{
		{"progressing.json", "Progressing", "step 1/4 at 10%: gates pass; holding"},
		{"paused.json", "Suspended", "paused: step 1/4 at 10%"},
		{"completed.json", "Healthy", "completed"},
		{"aborted.json", "Degraded", "aborted, all traffic back to legacy: gate error-rate failed"},
		{"no-status.json", "Progressing", "waiting for the ferry controller"},
		{"generation-ahead.json", "Progressing", "waiting for the ferry controller to see the change"},
		{"invalid-spec.json", "Degraded", "spec.steps"},
	} {
		t.Run(strings.TrimSuffix(tc.fixture, ".json"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("argocd", "testdata", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := json.Unmarshal(data, &obj); err != nil {
				t.Fatal(err)
			}
			status, message := health(t, obj)
			if status != tc.status || !strings.Contains(message, tc.message) {
				t.Fatalf("health %s %q, want %s with %q", status, message, tc.status, tc.message)
			}
		})
	}
}
