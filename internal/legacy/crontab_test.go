package legacy

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func importFixture(t *testing.T, file string, system bool, cfg CronJobConfig) ([]*batchv1.CronJob, []Note) {
	t.Helper()
	data, err := os.ReadFile("testdata/crontab/" + file)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := ParseCrontab(file, data, system)
	if err != nil {
		t.Fatal(err)
	}
	objs, notes, err := CronJobs(tab, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return typed(t, objs), notes
}

func typed(t *testing.T, objs []*unstructured.Unstructured) []*batchv1.CronJob {
	t.Helper()
	var out []*batchv1.CronJob
	for _, o := range objs {
		var cj batchv1.CronJob
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, &cj, true); err != nil {
			t.Fatalf("%s does not convert strictly: %v", o.GetName(), err)
		}
		out = append(out, &cj)
	}
	return out
}

func notesOf(notes []Note, kind NoteKind) map[int][]string {
	out := map[int][]string{}
	for _, n := range notes {
		if n.Kind != kind {
			continue
		}
		lines := n.Lines
		if len(lines) == 0 {
			lines = []int{n.Line}
		}
		for _, line := range lines {
			out[line] = append(out[line], n.Message)
		}
	}
	return out
}

func TestCronJobsFromRealisticUserCrontab(t *testing.T) {
	jobs, notes := importFixture(t, "deploy.crontab", false, CronJobConfig{Image: "shop/web:v1", TimeZone: "Asia/Tokyo", Container: "web", ConfigMaps: []string{"web-env"}, Secrets: []string{"web-secrets"}})
	var names []string
	byName := map[string]*batchv1.CronJob{}
	for _, cj := range jobs {
		names = append(names, cj.Name)
		byName[cj.Name] = cj
	}
	want := []string{"invoices-nightly", "sitemap-refresh", "stocksync-run", "carts-expire",
		"reports-weekly-sales", "db-sessions-trim", "feed-publish", "cleanup-uploads",
		"inventory-low-stock-alert", "mailer-flush-queue", "reports-weekend-digest", "billing-close-month",
		"reports-quarterly", "fx-refresh", "curl", "partners-export-feed"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("CronJobs\n%v\nwant\n%v", names, want)
	}
	skipped := notesOf(notes, Skipped)
	if len(skipped) != 3 || skipped[38] == nil || skipped[39] == nil || skipped[40] == nil {
		t.Fatalf("skipped %v, want lines 38 (@reboot), 39 (%% stdin) and 40 (day matching)", skipped)
	}
	for line, want := range map[int]string{38: "@reboot", 39: "standard input", 40: "match either"} {
		if !strings.Contains(skipped[line][0], want) {
			t.Errorf("line %d: %q, want it to mention %q", line, skipped[line][0], want)
		}
	}
	review := notesOf(notes, Review)
	for line, want := range map[int]string{3: "SHELL", 4: "PATH", 5: "MAILTO", 9: "cron.log", 23: "/tmp/feed.log", 26: "flock", 13: "Capistrano"} {
		if !strings.Contains(strings.Join(review[line], "|"), want) {
			t.Errorf("review notes of line %d %q, want one on %s", line, review[line], want)
		}
	}
	for _, cj := range jobs {
		s := cj.Spec
		js := s.JobTemplate.Spec
		c := js.Template.Spec.Containers[0]
		switch {
		case s.Suspend == nil || !*s.Suspend:
			t.Errorf("%s is not suspended", cj.Name)
		case s.StartingDeadlineSeconds == nil || *s.StartingDeadlineSeconds != 300:
			t.Errorf("%s startingDeadlineSeconds %v", cj.Name, s.StartingDeadlineSeconds)
		case s.ConcurrencyPolicy != batchv1.ForbidConcurrent:
			t.Errorf("%s concurrencyPolicy %s", cj.Name, s.ConcurrencyPolicy)
		case *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 3:
			t.Errorf("%s history limits", cj.Name)
		case *js.BackoffLimit != 0 || js.ActiveDeadlineSeconds == nil:
			t.Errorf("%s backoffLimit %v activeDeadlineSeconds %v", cj.Name, *js.BackoffLimit, js.ActiveDeadlineSeconds)
		case c.Name != "web" || c.Image != "shop/web:v1" || c.Command[0] != "/bin/bash" || c.Command[1] != "-c":
			t.Errorf("%s container %s %s %v", cj.Name, c.Name, c.Image, c.Command)
		case len(c.Env) != 1 || c.Env[0].Name != "RAILS_ENV" || c.Env[0].Value != "production":
			t.Errorf("%s env %v, want RAILS_ENV only (SHELL, PATH, MAILTO describe the host)", cj.Name, c.Env)
		case len(c.EnvFrom) != 2 || c.EnvFrom[0].ConfigMapRef.Name != "web-env" || c.EnvFrom[1].SecretRef.Name != "web-secrets":
			t.Errorf("%s envFrom %v", cj.Name, c.EnvFrom)
		}
		zone := "Asia/Tokyo"
		if cj.Name == "partners-export-feed" {
			zone = "UTC" // CRON_TZ=UTC above it
		}
		if s.TimeZone == nil || *s.TimeZone != zone {
			t.Errorf("%s timeZone %v, want %s", cj.Name, s.TimeZone, zone)
		}
	}
	if got := *byName["stocksync-run"].Spec.JobTemplate.Spec.ActiveDeadlineSeconds; got != 600 {
		t.Errorf("a run every 10 minutes may take %ds, want 600", got)
	}
	if got := *byName["invoices-nightly"].Spec.JobTemplate.Spec.ActiveDeadlineSeconds; got != 3600 {
		t.Errorf("a nightly run may take %ds, want the default 3600", got)
	}
	digest := byName["reports-weekend-digest"]
	if digest.Spec.Schedule != "0 22 * * 0,5-6" || digest.Annotations[AnnotationLegacySchedule] != "0 22 * * 5-7" {
		t.Errorf("Friday to Sunday as 5-7: schedule %q annotations %v", digest.Spec.Schedule, digest.Annotations)
	}
	if got := byName["billing-close-month"].Spec.JobTemplate.Spec.Template.Spec.Containers[0].Command[2]; !strings.Contains(got, "+%d") {
		t.Errorf("\\%% should become %%: %q", got)
	}
	if got := byName["invoices-nightly"].Annotations[AnnotationImportedFrom]; got != "deploy.crontab:9" {
		t.Errorf("imported-from %q", got)
	}
}

func TestCronJobsFromSystemCrontab(t *testing.T) {
	jobs, notes := importFixture(t, "shop.cron.d", true, CronJobConfig{Image: "shop/web:v1", TimeZone: "Etc/UTC", NamePrefix: "shop", CPU: "100m", Memory: "256Mi"})
	got := map[string]string{}
	for _, cj := range jobs {
		got[cj.Name] = cj.Annotations[AnnotationLegacyUser]
		c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
		if c.Resources.Requests.Cpu().String() != "100m" || c.Resources.Limits.Memory().String() != "256Mi" {
			t.Errorf("%s resources %v", cj.Name, c.Resources)
		}
		if c.Command[0] != "/bin/sh" {
			t.Errorf("%s command %v", cj.Name, c.Command)
		}
	}
	want := map[string]string{"shop-images-purge-variants": "deploy", "shop-send-queued-mail": "www-data", "shop-backup-uploads": "deploy"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CronJobs and users %v, want %v", got, want)
	}
	if s := notesOf(notes, Skipped); len(s) != 1 || !strings.Contains(s[7][0], "run-parts") {
		t.Fatalf("skipped %v, want the run-parts line 7", s)
	}
	if r := notesOf(notes, Review); !strings.Contains(strings.Join(r[11], "|"), "sudo") || r[4] != nil {
		t.Fatalf("review notes %v: want sudo on line 11 and nothing for MAILTO=\"\"", r)
	}
}

func TestParseCrontabErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string
		system bool
		want   string
	}{
		{"too few fields", "# header\n\n* * * * \n", false, "tab:3: want 5 time fields and a command, got 4 fields"},
		{"no command", "MAILTO=x\n0 0 * * *\n", false, "tab:2: the schedule has no command"},
		{"minute out of range", "61 * * * * /bin/true\n", false, "tab:1: schedule"},
		{"unknown macro", "@fortnightly /bin/true\n", false, "tab:1: unknown schedule"},
		{"bad day of week", "0 0 * * 9 /bin/true\n", false, "tab:1: schedule"},
		{"backwards range", "0 0 * * 5-2 /bin/true\n", false, "runs backwards"},
		{"no user column", "0 0 * * * /usr/bin/backup\n", true, "tab:1: no user column"},
		{"user but no command", "@daily root\n", true, "tab:1: the schedule has no command"},
		{"only stdin", "0 0 * * * %input\n", false, "tab:1: the schedule has no command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCrontab("tab", []byte(tc.text), tc.system)
			var pe *PositionError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &pe) {
				t.Fatalf("error %v, want a position error with %q", err, tc.want)
			}
		})
	}
}

func TestCronJobsConfigErrors(t *testing.T) {
	tab, err := ParseCrontab("tab", []byte("0 0 * * * /bin/true\nCRON_TZ=Mars/Olympus\n0 1 * * * /bin/true\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  CronJobConfig
		want string
	}{
		{"no image", CronJobConfig{TimeZone: "Etc/UTC"}, "no image"},
		{"no time zone", CronJobConfig{Image: "x:1"}, "tab:1: no time zone"},
		{"unknown zone", CronJobConfig{Image: "x:1", TimeZone: "Asia/Nowhere"}, `unknown time zone "Asia/Nowhere"`},
		{"local zone", CronJobConfig{Image: "x:1", TimeZone: "Local"}, `unknown time zone "Local"`},
		{"unknown CRON_TZ", CronJobConfig{Image: "x:1", TimeZone: "Etc/UTC"}, `tab:3: CRON_TZ: unknown time zone "Mars/Olympus"`},
		{"bad quantity", CronJobConfig{Image: "x:1", TimeZone: "Etc/UTC", Memory: "lots"}, `resource quantity "lots"`},
		{"short deadline", CronJobConfig{Image: "x:1", TimeZone: "Etc/UTC", StartingDeadline: 1}, "starting deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, _, err := CronJobs(tab, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || objs != nil {
				t.Fatalf("got %d objects, error %v; want %q and nothing", len(objs), err, tc.want)
			}
		})
	}
}

func TestSplitPercent(t *testing.T) {
	for _, tc := range []struct {
		in, cmd, stdin string
		hasStdin       bool
	}{
		{"date +\\%F", "date +%F", "", false},
		{"mail -s hi x%line one%line two", "mail -s hi x", "line one\nline two", true},
		{"echo 100\\%%", "echo 100%", "", true},
		{"plain", "plain", "", false},
	} {
		cmd, stdin, has := splitPercent(tc.in)
		if cmd != tc.cmd || stdin != tc.stdin || has != tc.hasStdin {
			t.Errorf("splitPercent(%q) = %q, %q, %v", tc.in, cmd, stdin, has)
		}
	}
}

func TestCommandNotes(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string // substrings, in order
	}{
		{"bundle exec rake x", nil},
		{"rake x > /dev/null 2>&1", nil},
		{"rake x >> log/cron.log 2>&1", []string{"log/cron.log"}},
		{"rake x 2>/var/log/err.log", []string{"/var/log/err.log"}},
		{"cd /srv/app/current && rake x", []string{"/srv/app/current"}},
		{"cd /srv/app/releases/20240101 && rake x", []string{"/srv/app/releases/20240101"}},
		{"flock -n /tmp/x.lock rake x", []string{"flock"}},
		{"sudo -u app rake x", []string{"sudo"}},
		{"echo pseudo", nil},
	} {
		got := commandNotes(tc.cmd)
		if len(got) != len(tc.want) {
			t.Errorf("%q: notes %+v, want %d", tc.cmd, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i].one, w) {
				t.Errorf("%q: note %q, want %q in it", tc.cmd, got[i].one, w)
			}
		}
	}
}

func TestJobName(t *testing.T) {
	for _, tc := range []struct {
		comment, cmd, want string
	}{
		{"", "cd /app && bundle exec rake invoices:nightly --silent", "invoices-nightly"},
		{"", "/bin/bash -l -c 'cd /app && RAILS_ENV=production bundle exec rake a:b >> x 2>&1'", "a-b"},
		{"", "bin/rails runner -e production 'Report.daily'", "report-daily"},
		{"", "php artisan queue:prune-batches", "queue-prune-batches"},
		{"", "php /var/www/cron/send_mail.php > /dev/null", "send-mail"},
		{"", "/usr/local/bin/cleanup.sh --days 3", "cleanup"},
		{"", "timeout 600 nice -n 10 /opt/bin/reindex", "reindex"},
		{"", "sudo -u deploy /srv/bin/backup-db", "backup-db"},
		{"", "[ -f /tmp/go ] && ./bin/worker", "worker"},
		{"", "!!!", "job"},
		{"Nightly invoices (finance)", "rake invoices:nightly", "invoices-nightly"}, // the task says what it does
		{"Nightly invoices (finance)", "curl -fsS https://example.com/x", "nightly-invoices-finance"},
		{"Ansible: payroll backup", "mysqldump payroll > /tmp/x", "payroll-backup"},
		{"", "php artisan payroll:close-day", "payroll-close-day"},
		{"", "cd /var/www/payroll/current && php /var/www/payroll/current/artisan payroll:close-day --force >> storage/logs/cron.log 2>&1", "payroll-close-day"},
		{"", "/usr/bin/php8.2 -d memory_limit=-1 /srv/app/artisan queue:work --stop-when-empty", "queue-work"},
		{"", "php bin/console app:reindex", "app-reindex"},
		{"", "php /srv/app/current/bin/console app:reindex --env=prod", "app-reindex"},
		{"", "cd /srv/app && bin/console cache:pool:prune", "cache-pool-prune"},
		{"", "bundle exec rake reports:daily", "reports-daily"},
		{"", "bundle exec rake RAILS_ENV=production reports:daily", "reports-daily"},
		{"", "bin/rails runner 'Payroll.close_day'", "payroll-close-day"},
		{"", `bin/rails runner "Payroll.close_day(Date.yesterday)"`, "payroll-close-day"},
		{"", "bin/rails runner -e production script/close_day.rb", "close-day"},
		{"", "/srv/app/bin/cleanup.sh", "cleanup"},
		{"", "bash /srv/app/bin/rotate.sh --keep 3", "rotate"},
		{"", "python3 manage.py clearsessions", "clearsessions"},
		{"Clean up", "php -f /srv/www/cron/purge_cache.php", "purge-cache"},
		{"m h  dom mon dow   command", "rake x:y", "x-y"},
		{"A very long comment that goes on and on about what the job does", "x", "a-very-long-comment-that-goes-on-and-on"},
	} {
		if got := jobName(Job{Comment: tc.comment, Command: tc.cmd}); got != tc.want {
			t.Errorf("jobName(%q, %q) = %q, want %q", tc.comment, tc.cmd, got, tc.want)
		}
	}
	taken := map[string]bool{}
	long := strings.Repeat("x", 60)
	for _, want := range []string{"cron-a", "cron-a-2", "cron-a-3"} {
		if got := uniqueName(taken, "cron", "a"); got != want {
			t.Errorf("uniqueName = %q, want %q", got, want)
		}
	}
	if got := uniqueName(taken, "", long); len(got) > maxCronJobName {
		t.Errorf("uniqueName of a long name is %d characters", len(got))
	}
	// However many collide, names stay unique, DNS labels and short enough.
	seen := map[string]bool{}
	for i := 0; i < 120; i++ {
		got := uniqueName(taken, "payroll", strings.Repeat("close-day-", 6))
		if seen[got] || len(got) > maxCronJobName || !dnsLabel.MatchString(got) {
			t.Fatalf("collision %d: %q", i, got)
		}
		seen[got] = true
	}
}
