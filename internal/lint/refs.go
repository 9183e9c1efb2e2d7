package lint

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// objRef is a pod's reference to a ConfigMap or Secret, or to one key of it.
type objRef struct {
	kind     string // ConfigMap or Secret
	name     string
	key      string
	field    string
	optional bool
}

// refs lists every ConfigMap and Secret reference of a pod.
func (p *pod) refs() []objRef {
	var out []objRef
	for _, c := range p.containers() {
		for i, from := range c.c.EnvFrom {
			field := fmt.Sprintf("%s.envFrom[%d]", c.field, i)
			if r := from.ConfigMapRef; r != nil {
				out = append(out, objRef{"ConfigMap", r.Name, "", field, ptr.Deref(r.Optional, false)})
			}
			if r := from.SecretRef; r != nil {
				out = append(out, objRef{"Secret", r.Name, "", field, ptr.Deref(r.Optional, false)})
			}
		}
		for _, e := range c.c.Env {
			if e.ValueFrom == nil {
				continue
			}
			field := c.field + ".env[" + e.Name + "]"
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				out = append(out, objRef{"ConfigMap", r.Name, r.Key, field, ptr.Deref(r.Optional, false)})
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				out = append(out, objRef{"Secret", r.Name, r.Key, field, ptr.Deref(r.Optional, false)})
			}
		}
	}
	for _, v := range p.spec.Volumes {
		field := p.path + ".volumes[" + v.Name + "]"
		if cm := v.ConfigMap; cm != nil {
			out = append(out, itemRefs("ConfigMap", cm.Name, cm.Items, field, ptr.Deref(cm.Optional, false))...)
		}
		if sec := v.Secret; sec != nil {
			out = append(out, itemRefs("Secret", sec.SecretName, sec.Items, field, ptr.Deref(sec.Optional, false))...)
		}
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if cm := src.ConfigMap; cm != nil {
				out = append(out, itemRefs("ConfigMap", cm.Name, cm.Items, field, ptr.Deref(cm.Optional, false))...)
			}
			if sec := src.Secret; sec != nil {
				out = append(out, itemRefs("Secret", sec.Name, sec.Items, field, ptr.Deref(sec.Optional, false))...)
			}
		}
	}
	return out
}

func itemRefs(kind, name string, items []corev1.KeyToPath, field string, optional bool) []objRef {
	if len(items) == 0 {
		return []objRef{{kind, name, "", field, optional}}
	}
	out := make([]objRef, 0, len(items))
	for _, it := range items {
		out = append(out, objRef{kind, name, it.Key, field, optional})
	}
	return out
}

// missingRefs reports the references to kind that the manifests cannot satisfy.
func missingRefs(s *set, o *object, kind string, have map[string]map[string]bool) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	seen := map[string]bool{}
	for _, r := range o.pod.refs() {
		if r.kind != kind || r.optional || seen[r.name+"\x00"+r.key] {
			continue
		}
		seen[r.name+"\x00"+r.key] = true
		keys, ok := have[key(o.namespace, r.name)]
		switch {
		case !ok:
			out = append(out, problem{r.field, fmt.Sprintf("refers to %s %s, which is not in the manifests", kind, r.name)})
		case r.key != "" && !keys[r.key]:
			out = append(out, problem{r.field, fmt.Sprintf("refers to key %s of %s %s, which has no such key", r.key, kind, r.name)})
		}
	}
	return out
}

func checkConfigMapRefs(s *set, o *object) []problem {
	return missingRefs(s, o, "ConfigMap", s.configMaps)
}

func checkSecretRefs(s *set, o *object) []problem { return missingRefs(s, o, "Secret", s.secrets) }
