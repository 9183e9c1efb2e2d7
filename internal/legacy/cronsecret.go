package legacy

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DefaultCronSecret names the Secret of a crontab's secret variables when
// CronJobConfig.Secret is empty (after NamePrefix, when set).
const DefaultCronSecret = "cron-secrets"

// cronSecretVar is a variable line of a crontab that looks secret, and its key in
// the Secret.
type cronSecretVar struct {
	line                  int
	key, name, value, why string
}

// secretName is the name of the Secret of the crontab's secret variables.
func (c *CronJobConfig) secretName() string {
	switch {
	case c.Secret != "":
		return c.Secret
	case c.NamePrefix != "":
		return strings.Trim(slug(c.NamePrefix)+"-"+DefaultCronSecret, "-")
	}
	return DefaultCronSecret
}

// cronSecrets finds the variable lines that some job gets and Classify finds secret,
// in line order. Each value gets a key: the variable's name, or NAME.LINE when the
// name had another value above.
func cronSecrets(tab *Crontab) []cronSecretVar {
	byLine := map[int]EnvVar{}
	for _, job := range tab.Jobs {
		for _, v := range job.Env {
			if _, dropped := droppedCronVars[v.Name]; !dropped && v.Name != "SHELL" {
				byLine[v.Line] = v
			}
		}
	}
	lines := make([]int, 0, len(byLine))
	for line := range byLine {
		lines = append(lines, line)
	}
	sort.Ints(lines)
	keys := map[string]string{} // name and value → key
	taken := map[string]bool{}
	var out []cronSecretVar
	for _, line := range lines {
		v := byLine[line]
		secret, why := Classify(v.Name, v.Value)
		if !secret {
			continue
		}
		key, seen := keys[v.Name+"="+v.Value]
		if !seen {
			key = v.Name
			if taken[key] {
				key = fmt.Sprintf("%s.%d", v.Name, v.Line)
			}
			keys[v.Name+"="+v.Value], taken[key] = key, true
		}
		out = append(out, cronSecretVar{line: v.Line, key: key, name: v.Name, value: v.Value, why: why})
	}
	return out
}

// secretNotes tell where each secret variable went.
func secretNotes(tab *Crontab, secrets []cronSecretVar, secretName string) []Note {
	notes := make([]Note, 0, len(secrets))
	for _, s := range secrets {
		notes = append(notes, Note{File: tab.File, Line: s.line, Kind: Review, Message: fmt.Sprintf(
			"%s looks secret (%s): the jobs read it from Secret %s, key %s, which must exist before they run", s.name, s.why, secretName, s.key)})
	}
	return notes
}

// CronSecret is the Secret that holds the values of tab's variables that look
// secret, which the CronJobs of CronJobs read by key, and each key with why it is
// secret; nil when there are none. Only cfg's Secret, NamePrefix and Namespace apply.
func CronSecret(tab *Crontab, cfg CronJobConfig) (*unstructured.Unstructured, []Placement, error) {
	secrets := cronSecrets(tab)
	if len(secrets) == 0 {
		return nil, nil, nil
	}
	data := map[string]string{}
	var placed []Placement
	for _, s := range secrets {
		if _, dup := data[s.key]; dup {
			continue
		}
		data[s.key] = s.value
		placed = append(placed, Placement{Name: s.key, Secret: true, Reason: fmt.Sprintf("%s at line %d: %s", s.name, s.line, s.why)})
	}
	sort.Slice(placed, func(i, j int) bool { return placed[i].Name < placed[j].Name })
	obj, err := toObject(&corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: cfg.secretName(), Namespace: cfg.Namespace,
			Labels: map[string]string{"app.kubernetes.io/component": "cron"}},
		Type:       corev1.SecretTypeOpaque,
		StringData: data,
	})
	if err != nil {
		return nil, nil, err
	}
	return obj, placed, nil
}

// secretOptions are options whose value is user:password although their name does
// not say secret (curl -u, --user, --proxy-user).
var secretOptions = map[string]bool{"-u": true, "--user": true, "--proxy-user": true}

// commandSecretNotes say where a command itself holds something that looks secret:
// an assignment (PGPASSWORD=… pg_dump), an option (--password …, curl -u user:pass)
// or a value of a secret shape. The command is copied as it is, so these stay in the
// CronJob; the notes never quote them.
func commandSecretNotes(cmd string) []entryNote {
	const why = "which everyone who may read CronJobs sees; move the value to a variable line above the job (the import puts it in the Secret) and use $NAME in the command"
	var notes []entryNote
	words := strings.Fields(cmd)
	for i := range words {
		if what := secretWord(words, i); what != "" {
			notes = append(notes, entryNote{one: what + ": it stays in the CronJob's command, " + why,
				group: "hold something that looks secret in the command (%s): it stays in the CronJobs' commands, " + why, detail: what})
		}
	}
	return notes
}

// secretWord says what in the i-th word of a command looks secret, or "".
func secretWord(words []string, i int) string {
	w := strings.Trim(words[i], `'"`)
	prev := ""
	if i > 0 {
		prev = strings.Trim(words[i-1], `'"`)
	}
	if m := assignment.FindString(w); m != "" {
		name := strings.TrimSuffix(m, "=")
		if secret, why := Classify(name, w[len(m):]); secret {
			return fmt.Sprintf("the command sets %s, which looks secret (%s)", name, why)
		}
		return ""
	}
	if opt, value, ok := strings.Cut(w, "="); ok && strings.HasPrefix(opt, "--") {
		if secret, why := Classify(strings.TrimLeft(opt, "-"), value); secret {
			return fmt.Sprintf("the command passes %s, which looks secret (%s)", opt, why)
		}
		return ""
	}
	if strings.HasPrefix(prev, "--") && !strings.HasPrefix(w, "-") {
		if secret, why := classifyName(strings.TrimLeft(prev, "-")); secret {
			return fmt.Sprintf("the command passes %s, which looks secret (%s)", prev, why)
		}
	}
	if secretOptions[prev] && strings.Contains(w, ":") {
		return fmt.Sprintf("the command passes user:password credentials after %s", prev)
	}
	if secret, why := classifyValue(w); secret {
		return fmt.Sprintf("the command holds a value that looks secret (%s)", why)
	}
	return ""
}
