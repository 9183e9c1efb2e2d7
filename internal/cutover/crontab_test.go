package cutover

import (
	"reflect"
	"strings"
	"testing"
)

func TestEntriesKeepTheLinesAsWritten(t *testing.T) {
	text := `# shop's jobs
MAILTO=ops@example.com

0 0 * * *   cd /srv/shop/current && bin/rails runner 'Payroll.close_day'
*/5 * * * * /usr/bin/php /srv/shop/current/artisan queue:retry
@hourly /srv/shop/current/bin/cleanup
`
	got, err := entries("crontab", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{"0 0 * * *", "0 0 * * *   cd /srv/shop/current && bin/rails runner 'Payroll.close_day'"},
		{"*/5 * * * *", "*/5 * * * * /usr/bin/php /srv/shop/current/artisan queue:retry"},
		{"@hourly", "@hourly /srv/shop/current/bin/cleanup"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := entries("crontab", []byte("0 0 * * *\n")); err == nil || !strings.Contains(err.Error(), "crontab:1") {
		t.Errorf("a schedule without a command: %v, want an error naming the line", err)
	}
}

func TestMatchBySchedule(t *testing.T) {
	es := []entry{{schedule: "0 0 * * *"}, {schedule: "@hourly"}, {schedule: "15 3 * * 1"}, {schedule: "@reboot"}}
	got := match(es, map[string]string{"payroll-close": "0  0 * * *", "nightly-report": "@midnight", "cleanup": "0 * * * *", "weekly": "15 3 * * MON"})
	want := []string{"nightly-report, payroll-close", "cleanup", "weekly", ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("match = %q, want %q", got, want)
	}
}
