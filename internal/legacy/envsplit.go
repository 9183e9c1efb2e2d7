package legacy

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// secretWords are name words (split at _ . -) that make a variable secret; a word that
// ends in one of secretSuffixes does too (APIKEY, AUTHTOKEN).
var (
	secretWords = map[string]bool{
		"KEY": true, "KEYS": true, "SECRET": true, "SECRETS": true, "TOKEN": true, "TOKENS": true,
		"PASSWORD": true, "PASSWORDS": true, "PASSWD": true, "PASS": true, "PWD": true,
		"CREDENTIAL": true, "CREDENTIALS": true, "PRIVATE": true, "SALT": true, "DSN": true,
	}
	secretSuffixes = []string{"KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD"}
	nameWords      = regexp.MustCompile(`[_.\-]+`)
	// dsnPassword is a user:password@host value outside URL syntax (Go's MySQL DSN).
	dsnPassword = regexp.MustCompile(`^[^\s:/@]+:[^\s@]+@`)
)

// Placement says where a variable goes and why.
type Placement struct {
	Name   string `json:"name"`
	Secret bool   `json:"secret"`
	Reason string `json:"reason"`
}

// Classify applies the split rule to one variable (without its references): it is
// secret by its name or because its value holds a password.
func Classify(name, value string) (bool, string) {
	for _, w := range nameWords.Split(strings.ToUpper(name), -1) {
		if secretWords[w] {
			return true, fmt.Sprintf("the name has the word %s", w)
		}
		for _, suffix := range secretSuffixes {
			if strings.HasSuffix(w, suffix) {
				return true, fmt.Sprintf("the name has a word ending in %s", suffix)
			}
		}
	}
	if u, err := url.Parse(value); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true, "the value is a URL with a password"
		}
	}
	if dsnPassword.MatchString(value) {
		return true, "the value has user:password@"
	}
	return false, "no secret word in the name, no password in the value"
}

// EnvConfig names the objects an env file becomes and overrides the split rule.
type EnvConfig struct {
	// ConfigMap and Secret name the two objects.
	ConfigMap string
	Secret    string
	// Namespace, when set, goes on both.
	Namespace string
	// Secrets and Config force variables into the Secret or the ConfigMap.
	Secrets []string
	Config  []string
}

// Split places every variable: forced by cfg, else by Classify, and a variable that
// expands a secret one is secret too.
func Split(vars []Var, cfg EnvConfig) []Placement {
	force := map[string]bool{}
	for _, n := range cfg.Config {
		force[n] = false
	}
	for _, n := range cfg.Secrets {
		force[n] = true
	}
	secret := map[string]bool{}
	out := make([]Placement, 0, len(vars))
	for _, v := range vars {
		p := Placement{Name: v.Name}
		if s, ok := force[v.Name]; ok {
			p.Secret, p.Reason = s, "forced by a flag"
		} else {
			p.Secret, p.Reason = Classify(v.Name, v.Value)
			for _, ref := range v.Refs {
				if secret[ref] && !p.Secret {
					p.Secret, p.Reason = true, "the value expands the secret "+ref
				}
			}
		}
		secret[v.Name] = p.Secret
		out = append(out, p)
	}
	return out
}

// EnvObjects makes the ConfigMap and the Secret for vars as placed by Split. Either
// may have no keys.
func EnvObjects(vars []Var, placed []Placement, cfg EnvConfig) (configMap, secret *unstructured.Unstructured, err error) {
	data, secretData := map[string]string{}, map[string]string{}
	for i, v := range vars {
		if placed[i].Secret {
			secretData[v.Name] = v.Value
		} else {
			data[v.Name] = v.Value
		}
	}
	labels := map[string]string{"app.kubernetes.io/component": "env"}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: cfg.ConfigMap, Namespace: cfg.Namespace, Labels: labels},
		Data:       data,
	}
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: cfg.Secret, Namespace: cfg.Namespace, Labels: labels},
		Type:       corev1.SecretTypeOpaque,
		StringData: secretData,
	}
	if configMap, err = toObject(cm); err != nil {
		return nil, nil, err
	}
	if secret, err = toObject(s); err != nil {
		return nil, nil, err
	}
	return configMap, secret, nil
}

// SecretKeys lists the names placed in the Secret, sorted.
func SecretKeys(placed []Placement) []string {
	var keys []string
	for _, p := range placed {
		if p.Secret {
			keys = append(keys, p.Name)
		}
	}
	sort.Strings(keys)
	return keys
}
