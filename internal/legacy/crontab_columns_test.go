package legacy

import (
	"errors"
	"fmt"
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

// TestAlikeNotesAreGrouped: forty entries run alike give one note per thing to review,
// naming how many and which lines, not forty.
func TestAlikeNotesAreGrouped(t *testing.T) {
	var b strings.Builder
	b.WriteString("# m h dom mon dow user command\n")
	for i := 0; i < 40; i++ {
		user := "www-data"
		switch {
		case i >= 37:
			user = "root"
		case i >= 27:
			user = "deploy"
		}
		fmt.Fprintf(&b, "%d 3 * * * %s cd /var/www/app/current && php artisan task:n%d >> /var/www/app/shared/storage/logs/cron.log 2>&1\n", i, user, i)
	}
	tab, err := ReadCrontab("big", []byte(b.String()), DetectUserColumn)
	if err != nil {
		t.Fatal(err)
	}
	objs, notes, err := CronJobs(tab, CronJobConfig{Image: "app:1", TimeZone: "Etc/UTC"})
	if err != nil || len(objs) != 40 {
		t.Fatalf("%d CronJobs, %v", len(objs), err)
	}
	var got []string
	for _, n := range notes {
		got = append(got, n.String())
	}
	want := []string{
		"big:1: review: read as a system crontab, the word after each schedule being the user it ran as: the header comment names a user column (\"m h dom mon dow user command\") (pass --no-system if it is part of the command)",
		"big:2: review: 40 entries (lines 2-41) write their output to files (/var/www/app/shared/storage/logs/cron.log): in a pod, leave it on stdout and stderr, where the logs are collected",
		"big:2: review: 40 entries (lines 2-41) refer to the Capistrano layout (/var/www/app/current): in the image the app lives in its working directory",
		"big:2: review: 27 entries (lines 2-28) ran as user www-data: the container runs as its image's user (set securityContext.runAsUser if it matters)",
		"big:29: review: 10 entries (lines 29-38) ran as user deploy: the container runs as its image's user (set securityContext.runAsUser if it matters)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(notes[3].Lines) != 27 || notes[3].Lines[26] != 28 {
		t.Fatalf("lines of the www-data note %v", notes[3].Lines)
	}
}
