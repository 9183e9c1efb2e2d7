package legacy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestSystemCrontabUnderAnotherName: a copy of /etc/cron.d/app kept in the repository
// is read with its user column; the user never becomes part of the command.
func TestSystemCrontabUnderAnotherName(t *testing.T) {
	data := readFixture(t, "app.cron.d")
	tab, err := ReadCrontab("app.cron.d", data, DetectUserColumn)
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range tab.Jobs {
		if job.User != "www-data" && job.User != "root" || strings.HasPrefix(job.Command, job.User) {
			t.Errorf("line %d: user %q command %q", job.Line, job.User, job.Command)
		}
	}
	_, notes, err := CronJobs(tab, CronJobConfig{Image: "payroll/web:v1", TimeZone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	if r := notesOf(notes, Review)[4]; !strings.Contains(strings.Join(r, "|"), "read as a system crontab") || !strings.Contains(strings.Join(r, "|"), "root, www-data") {
		t.Errorf("review notes of line 4 %q, want one saying it was read as a system crontab and why", r)
	}
}

func TestDetectUserColumn(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		system           bool
		unclear          string // the error says so, naming this
	}{
		{"system path", "/etc/cron.d/shop", "0 0 * * * mytool run\n", true, ""},
		{"header names the user", "tab", "# m h dom mon dow user  command\n0 0 * * * app-runner do-it\n", true, ""},
		{"picture names the user", "tab", "# *  *  *  *  * user-name  command to be executed\n0 0 * * * shop /bin/x\n", true, ""},
		{"crontab -e header", "tab", "# m h  dom mon dow   command\n0 0 * * * root-cleanup now\n", false, ""},
		{"known users on every entry", "tab", "0 0 * * * www-data php artisan a\n@daily root /usr/bin/b\n", true, ""},
		{"a name before a command word", "tab", "0 0 * * * shop cd /srv && x\n*/5 * * * * shop php y\n", true, ""},
		{"commands", "tab", "0 0 * * * php artisan a\n0 1 * * * /usr/bin/b --x\n0 2 * * * cd /srv && c\n", false, ""},
		{"an assignment", "tab", "0 0 * * * RAILS_ENV=production bin/rails runner X\n", false, ""},
		{"a one-word command", "tab", "0 0 * * * backup-everything\n", false, ""},
		{"no entries", "tab", "MAILTO=x\n# nothing\n", false, ""},
		{"user and command", "tab", "0 0 * * * backup --all\n0 1 * * * php artisan x\n", false, `line 1 has "backup" there, line 2 has "php"`},
		{"nothing to tell by", "tab", "0 0 * * * mytool run\n", false, `line 1 has "mytool" there`},
		{"too many names", "tab", "0 0 * * * root a\n1 0 * * * alice cd x\n2 0 * * * bob cd y\n3 0 * * * carol cd z\n", false, "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ReadCrontab(tc.file, []byte(tc.text), DetectUserColumn)
			if tc.unclear != "" {
				if !errors.Is(err, ErrUserColumnUnclear) || !strings.Contains(err.Error(), tc.unclear) || !strings.Contains(err.Error(), "--system or --no-system") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want an unclear user column at %q", err, tc.unclear)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, job := range tab.Jobs {
				if (job.User != "") != tc.system {
					t.Fatalf("line %d read with user %q, want a user column %v", job.Line, job.User, tc.system)
				}
			}
		})
	}
	// The caller's word wins over the content.
	tab, err := ReadCrontab("tab", []byte("0 0 * * * mytool run\n"), WithoutUserColumn)
	if err != nil || tab.Jobs[0].Command != "mytool run" {
		t.Fatalf("--no-system: %v %+v", err, tab)
	}
	tab, err = ReadCrontab("tab", []byte("0 0 * * * mytool run\n"), WithUserColumn)
	if err != nil || tab.Jobs[0].User != "mytool" {
		t.Fatalf("--system: %v %+v", err, tab)
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/crontab/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
