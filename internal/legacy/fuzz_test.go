package legacy

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/cronexpr"
)

func addFiles(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files %s: %v", pattern, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkPosition fails unless err is a PositionError inside the input.
func checkPosition(t *testing.T, err error, data []byte) {
	t.Helper()
	var pe *PositionError
	if !errors.As(err, &pe) || pe.File != "f" || pe.Line < 1 || pe.Line > strings.Count(string(data), "\n")+1 {
		t.Fatalf("error %v is not at a line of the input", err)
	}
	if !strings.HasPrefix(err.Error(), "f:") {
		t.Fatalf("error %q does not start with the file", err)
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// FuzzParseCrontab: any input parses or fails at a line; whatever parses becomes
// CronJobs whose schedules and names Kubernetes accepts.
func FuzzParseCrontab(f *testing.F) {
	addFiles(f, "testdata/crontab/*")
	for _, s := range []string{"", "* * * * * x", "@daily x", "0 0 * * 7 a%b", "A=1\n@reboot x", "0 0 */3 * 1 x", "#\n# x\n1-5/2 * * * * y", "CRON_TZ=Asia/Tokyo\n@hourly z"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, system := range []bool{false, true} {
			tab, err := ParseCrontab("f", data, system)
			if err != nil {
				checkPosition(t, err, data)
				continue
			}
			objs, notes, err := CronJobs(tab, CronJobConfig{Image: "app:1", TimeZone: "Etc/UTC"})
			if err != nil {
				if !strings.Contains(err.Error(), "CRON_TZ") {
					t.Fatalf("CronJobs: %v", err)
				}
				continue
			}
			for _, n := range notes {
				if n.Line < 1 || n.Line > strings.Count(string(data), "\n")+1 {
					t.Fatalf("note at line %d: %v", n.Line, n)
				}
			}
			for _, o := range objs {
				schedule := o.Object["spec"].(map[string]any)["schedule"].(string)
				if _, err := cronexpr.Parse(schedule); err != nil {
					t.Fatalf("CronJob schedule %q does not parse: %v", schedule, err)
				}
				if !dnsLabel.MatchString(o.GetName()) || len(o.GetName()) > maxCronJobName {
					t.Fatalf("CronJob name %q", o.GetName())
				}
			}
		}
	})
}

// quote writes a value so that ParseDotenv reads it back unchanged.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(v) + `"`
}

// FuzzParseDotenv: any input parses or fails at a line, and what parses, written out
// quoted, parses back to the same variables.
func FuzzParseDotenv(f *testing.F) {
	addFiles(f, "testdata/env/*")
	for _, s := range []string{"", "A=1", "export A='x\ny'", "A=\"$B ${C}\"", "A=b # c", "A=\"\\\"\"", "\ufeffA=1\r\n", "A=$(x)", "A=1\nA=2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, notes, err := ParseDotenv("f", data)
		if err != nil {
			checkPosition(t, err, data)
			return
		}
		for _, n := range notes {
			if n.Line < 1 || n.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("note at line %d", n.Line)
			}
		}
		var out strings.Builder
		for _, v := range vars {
			out.WriteString(v.Name + "=" + quote(v.Value) + "\n")
		}
		again, _, err := ParseDotenv("f", []byte(out.String()))
		if err != nil {
			t.Fatalf("written back, it fails: %v\n%s", err, out.String())
		}
		if len(again) != len(vars) {
			t.Fatalf("%d variables written, %d read back", len(vars), len(again))
		}
		for i := range vars {
			if again[i].Name != vars[i].Name || again[i].Value != vars[i].Value {
				t.Fatalf("%s=%q read back as %s=%q", vars[i].Name, vars[i].Value, again[i].Name, again[i].Value)
			}
		}
	})
}

// FuzzParseCapistrano: any input parses or fails at a line.
func FuzzParseCapistrano(f *testing.F) {
	addFiles(f, "testdata/capistrano/*")
	f.Add([]byte("set :linked_dirs, %w[a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		linked, err := ParseCapistrano("f", data)
		if err != nil {
			checkPosition(t, err, data)
			return
		}
		for _, l := range linked {
			if l.Path == "" || l.Line < 1 {
				t.Fatalf("linked %+v", l)
			}
		}
	})
}
