package lint

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxListed bounds how many names one finding lists.
const maxListed = 8

// provided is what a container gets as variables: names, and the envFrom sources
// whose keys the manifests do not show.
func (s *set) provided(o *object, c *corev1.Container) (map[string]bool, []string) {
	names := map[string]bool{}
	var unknown []string
	for _, e := range c.Env {
		names[e.Name] = true
	}
	for _, from := range c.EnvFrom {
		kind, name, index := "", "", map[string]map[string]bool(nil)
		switch {
		case from.ConfigMapRef != nil:
			kind, name, index = "ConfigMap", from.ConfigMapRef.Name, s.configMaps
		case from.SecretRef != nil:
			kind, name, index = "Secret", from.SecretRef.Name, s.secrets
		default:
			continue
		}
		keys, ok := index[key(o.namespace, name)]
		if !ok {
			unknown = append(unknown, kind+" "+name)
			continue
		}
		for k := range keys {
			names[from.Prefix+k] = true
		}
	}
	return names, unknown
}

func checkLegacyVars(s *set, o *object) []problem {
	if o.pod == nil || len(s.cfg.Legacy.Vars) == 0 {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if c.init || !s.isApp(c.c) {
			continue
		}
		have, unknown := s.provided(o, c.c)
		var missing []string
		for _, v := range s.cfg.Legacy.Vars {
			if !have[v.Name] {
				missing = append(missing, fmt.Sprintf("%s (%s)", v.Name, v.Source))
			}
		}
		if len(missing) == 0 {
			continue
		}
		msg := fmt.Sprintf("container %s lacks %d variable%s the legacy app had: %s", c.c.Name, len(missing), plural(len(missing)), listSome(missing))
		if len(unknown) > 0 {
			msg += fmt.Sprintf(" (the keys of %s are unknown: not in the manifests)", joinAnd(unknown))
		}
		out = append(out, problem{c.field + ".env", msg})
	}
	return out
}

// skippedDirs are linked directories that hold nothing a pod needs from elsewhere:
// logs and temporary files go to stdout and the container, gems and assets are built
// into the image.
var skippedDirs = map[string]bool{
	"log": true, "logs": true, "tmp": true, "tmp/pids": true, "tmp/cache": true, "tmp/sockets": true,
	"vendor/bundle": true, ".bundle": true, "node_modules": true, "public/assets": true, "public/packs": true,
	"storage/logs": true, "storage/framework/cache": true, "storage/framework/sessions": true, "storage/framework/views": true,
}

// replacedBy names the variable that a Rails app reads instead of a linked file.
func replacedBy(p string) string {
	switch {
	case p == "config/database.yml":
		return "DATABASE_URL"
	case p == "config/master.key" || (strings.HasPrefix(p, "config/credentials/") && strings.HasSuffix(p, ".key")):
		return "RAILS_MASTER_KEY"
	case p == "config/secrets.yml":
		return "SECRET_KEY_BASE"
	}
	return ""
}

func checkLinkedPaths(s *set, o *object) []problem {
	if o.pod == nil || len(s.cfg.Legacy.Linked) == 0 {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if c.init || !s.isApp(c.c) {
			continue
		}
		have, _ := s.provided(o, c.c)
		var missing []string
		for _, l := range s.cfg.Legacy.Linked {
			if s.linkedProvided(o, c.c, l, have) {
				continue
			}
			missing = append(missing, fmt.Sprintf("%s (%s)", l.Path, l.Source))
		}
		if len(missing) > 0 {
			out = append(out, problem{c.field + ".volumeMounts", fmt.Sprintf("container %s has %d of the legacy release's linked files and directories neither mounted nor replaced: %s", c.c.Name, len(missing), listSome(missing))})
		}
	}
	return out
}

func (s *set) linkedProvided(o *object, c *corev1.Container, l LegacyPath, have map[string]bool) bool {
	p := path.Clean(strings.TrimPrefix(l.Path, "/"))
	switch {
	case l.Dir && skippedDirs[p]:
		return true
	case !l.Dir && strings.HasPrefix(path.Base(p), ".env"):
		return len(s.cfg.Legacy.Vars) > 0 // FERRY-ENV-001 checks its variables
	case !l.Dir && replacedBy(p) != "" && have[replacedBy(p)]:
		return true
	}
	for _, m := range c.VolumeMounts {
		mount := path.Clean(m.MountPath) // with subPath, mountPath is the file itself
		if mount == p || strings.HasSuffix(mount, "/"+p) {
			return true
		}
		if !l.Dir && (mount == path.Dir(p) || strings.HasSuffix(mount, "/"+path.Dir(p))) && s.volumeHasKey(o, m.Name, path.Base(p)) {
			return true
		}
	}
	return false
}

// volumeHasKey says whether a ConfigMap or Secret volume puts a file named name in its
// directory; a source outside the manifests is given the benefit of the doubt.
func (s *set) volumeHasKey(o *object, volume, name string) bool {
	for _, r := range o.pod.refs() {
		if !strings.HasSuffix(r.field, ".volumes["+volume+"]") {
			continue
		}
		index := s.configMaps
		if r.kind == "Secret" {
			index = s.secrets
		}
		keys, known := index[key(o.namespace, r.name)]
		if r.key == "" && (!known || keys[name]) {
			return true
		}
	}
	for _, v := range o.pod.spec.Volumes {
		if v.Name != volume {
			continue
		}
		for _, items := range volumeItems(v) {
			for _, it := range items {
				if it.Path == name {
					return true
				}
			}
		}
	}
	return false
}

func volumeItems(v corev1.Volume) [][]corev1.KeyToPath {
	var out [][]corev1.KeyToPath
	if v.ConfigMap != nil {
		out = append(out, v.ConfigMap.Items)
	}
	if v.Secret != nil {
		out = append(out, v.Secret.Items)
	}
	return out
}

func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
