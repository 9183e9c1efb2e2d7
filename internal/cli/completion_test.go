package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	for _, tc := range []struct {
		shell string
		// check is the shell's own syntax check of a script file, when it is installed.
		check []string
		want  string
	}{
		{"bash", []string{"bash", "-n"}, "__start_ferry"},
		{"zsh", []string{"zsh", "-n"}, "#compdef ferry"},
		{"fish", []string{"fish", "--no-execute"}, "complete -c ferry"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			code, stdout, stderr := run(t, "completion", tc.shell)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Fatalf("the %s script lacks %q:\n%.400s", tc.shell, tc.want, stdout)
			}
			if _, err := exec.LookPath(tc.check[0]); err != nil {
				t.Logf("%s is not installed: its syntax check is skipped", tc.check[0])
				return
			}
			path := filepath.Join(t.TempDir(), "ferry."+tc.shell)
			if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(tc.check[0], append(tc.check[1:], path)...).CombinedOutput(); err != nil {
				t.Fatalf("%s rejects the script: %v\n%s", tc.shell, err, out)
			}
		})
	}
}

// TestCompletionCompletesCommandsAndFlagValues asks ferry what the scripts ask it.
func TestCompletionCompletesCommandsAndFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "mig"}, []string{"migrate"}},
		{[]string{"__complete", "migrate", "v"}, []string{"validate"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"__complete", "d"}, []string{"deploy", "dev", "diff"}},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("completions %q lack %q", stdout, w)
				}
			}
		})
	}
	if code, _, stderr := run(t, "completion", "tcsh"); code != ExitUsage || !strings.Contains(stderr, "use bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, stderr %q; want a usage error naming the shells", code, stderr)
	}
}
