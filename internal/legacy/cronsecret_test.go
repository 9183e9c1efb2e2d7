package legacy

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// backupSecrets are the values of backup.crontab's variable lines that look secret.
var backupSecrets = []string{"Sup3r-S3cret-Backup", "0ther-S3cret-Reports", "abcdEFGHijklMNOPqrstUVWX"}

// inlineSecrets are secrets written into backup.crontab's commands themselves.
var inlineSecrets = []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Pa55w0rd-Curl"}

func backupCrontab(t *testing.T) *Crontab {
	t.Helper()
	data, err := os.ReadFile("testdata/crontab/backup.crontab")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := ParseCrontab("backup.crontab", data, false)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestCronJobsReadSecretVariablesFromASecret(t *testing.T) {
	tab := backupCrontab(t)
	objs, notes, err := CronJobs(tab, CronJobConfig{Image: "shop/web:v1", TimeZone: "Etc/UTC"})
	if err != nil {
		t.Fatal(err)
	}
	jobs := typed(t, objs)
	if len(jobs) != 3 {
		t.Fatalf("%d CronJobs, want 3", len(jobs))
	}
	type env struct{ name, value, secret, key string }
	envOf := func(i int) []env {
		var out []env
		for _, e := range jobs[i].Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env {
			got := env{name: e.Name, value: e.Value}
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				got.secret, got.key = e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key
			}
			out = append(out, got)
		}
		return out
	}
	want := []env{{"PGHOST", "db.internal", "", ""}, {"PGUSER", "backup", "", ""},
		{"PGPASSWORD", "", "cron-secrets", "PGPASSWORD"}, {"SLACK_WEBHOOK_URL", "", "cron-secrets", "SLACK_WEBHOOK_URL"}}
	if got := envOf(0); !reflect.DeepEqual(got, want) {
		t.Errorf("env of the first job\n%v\nwant\n%v", got, want)
	}
	// PGPASSWORD has another value from line 11 on: another key.
	want[2].key = "PGPASSWORD.11"
	for _, i := range []int{1, 2} {
		if got := envOf(i); !reflect.DeepEqual(got, want) {
			t.Errorf("env of job %d\n%v\nwant\n%v", i, got, want)
		}
	}
	data, _ := json.Marshal(objs)
	for _, v := range backupSecrets {
		if strings.Contains(string(data), v) {
			t.Errorf("a CronJob carries the secret value %q", v)
		}
	}
	review := notesOf(notes, Review)
	for line, want := range map[int]string{
		5:  "PGPASSWORD looks secret",
		6:  "SLACK_WEBHOOK_URL looks secret",
		11: "Secret cron-secrets, key PGPASSWORD.11",
		13: "AWS_SECRET_ACCESS_KEY",
	} {
		if !strings.Contains(strings.Join(review[line], "|"), want) {
			t.Errorf("review notes of line %d %q, want one with %q", line, review[line], want)
		}
	}
	if !strings.Contains(strings.Join(review[13], "|"), "user:password") {
		t.Errorf("review notes of line 13 %q, want one on curl's user:password", review[13])
	}
	for _, n := range notes {
		for _, v := range append(backupSecrets, inlineSecrets...) {
			if strings.Contains(n.Message, v) {
				t.Errorf("a note quotes a secret: %s", n)
			}
		}
	}
}

func TestCronSecretHoldsTheSecretVariables(t *testing.T) {
	tab := backupCrontab(t)
	secret, placed, err := CronSecret(tab, CronJobConfig{NamePrefix: "shop", Namespace: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	if secret.GetName() != "shop-cron-secrets" || secret.GetNamespace() != "batch" || secret.GetKind() != "Secret" {
		t.Fatalf("Secret %s/%s %s", secret.GetNamespace(), secret.GetName(), secret.GetKind())
	}
	want := map[string]any{"PGPASSWORD": backupSecrets[0], "PGPASSWORD.11": backupSecrets[1],
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/" + backupSecrets[2]}
	if got := secret.Object["stringData"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("stringData %v", got)
	}
	var keys []string
	for _, p := range placed {
		if !p.Secret || p.Reason == "" {
			t.Errorf("placement %+v", p)
		}
		keys = append(keys, p.Name)
	}
	if !reflect.DeepEqual(keys, []string{"PGPASSWORD", "PGPASSWORD.11", "SLACK_WEBHOOK_URL"}) {
		t.Errorf("keys %v", keys)
	}
	// A crontab without secret variables makes no Secret.
	plain, err := ParseCrontab("plain", []byte("RAILS_ENV=production\n@daily /bin/true\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if s, placed, err := CronSecret(plain, CronJobConfig{}); s != nil || len(placed) != 0 || err != nil {
		t.Fatalf("CronSecret of a crontab without secrets: %v %v %v", s, placed, err)
	}
}
