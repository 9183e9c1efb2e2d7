package legacy

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Placement says where a variable goes and why.
type Placement struct {
	Name   string `json:"name"`
	Secret bool   `json:"secret"`
	Reason string `json:"reason"`
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
