package cutover

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCrontab(t *testing.T) {
	text := `# shop's jobs
MAILTO=ops@example.com
PATH = /usr/local/bin:/usr/bin

0 0 * * *   cd /srv/shop/current && bin/rails runner 'Payroll.close_day'
*/5 * * * * /usr/bin/php /srv/shop/current/artisan queue:retry
@hourly deploy /srv/shop/current/bin/cleanup
`
	got, err := ParseCrontab(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Schedule: "0 0 * * *", Command: "cd /srv/shop/current && bin/rails runner 'Payroll.close_day'", Line: "0 0 * * *   cd /srv/shop/current && bin/rails runner 'Payroll.close_day'"},
		{Schedule: "*/5 * * * *", Command: "/usr/bin/php /srv/shop/current/artisan queue:retry", Line: "*/5 * * * * /usr/bin/php /srv/shop/current/artisan queue:retry"},
		{Schedule: "@hourly", Command: "deploy /srv/shop/current/bin/cleanup", Line: "@hourly deploy /srv/shop/current/bin/cleanup"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseCrontab =\n%+v\nwant\n%+v", got, want)
	}
	for _, bad := range []string{"0 0 * * *", "@daily", "0 0 *"} {
		if _, err := ParseCrontab(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseCrontab(%q) = %v, want an error for line 1", bad, err)
		}
	}
}

func TestMatchBySchedule(t *testing.T) {
	entries := []Entry{{Schedule: "0 0 * * *"}, {Schedule: "@hourly"}, {Schedule: "15 3 * * 1"}}
	got := match(entries, map[string]string{"payroll-close": "0  0 * * *", "nightly-report": "@midnight", "cleanup": "0 * * * *"})
	want := []string{"nightly-report, payroll-close", "cleanup", ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("match = %q, want %q", got, want)
	}
}
