package lint

import (
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/legacy"
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

// frameworkPaths is what each framework keeps in linked paths: build output and
// scratch that a pod makes itself, files that variables replace, and what to do with
// the rest. The "" entry holds for every framework.
type frameworkPaths struct {
	// generated are directories that hold nothing a pod needs from elsewhere: logs go
	// to stdout, caches and dependencies are built into the image.
	generated []string
	// replaced are paths that the app reads variables instead of: any one of the
	// alternatives, each a list of variables that must all be given (a name ending
	// in _ is any variable with that prefix), with a value other than the listed
	// local ones when the manifests show it.
	replaced map[string][]replacement
	// hints say what to do with a path that is neither mounted nor replaced.
	hints map[string]string
}

type replacement struct {
	vars []string
	// notLocal are values that keep the state on the pod's own disk.
	notLocal []string
}

const (
	uploadsHint  = "uploads: mount a volume or move them to object storage"
	sessionsHint = "file sessions are per pod: keep them in Redis or the database"
)

var frameworks = map[string]frameworkPaths{
	"": {
		generated: []string{"log", "logs", "tmp", "node_modules"},
		hints:     map[string]string{"public/uploads": uploadsHint, "uploads": uploadsHint},
	},
	"rails": {
		generated: []string{"tmp/pids", "tmp/cache", "tmp/sockets", "vendor/bundle", ".bundle", "public/assets", "public/packs"},
		replaced: map[string][]replacement{
			"config/database.yml": {{vars: []string{"DATABASE_URL"}}},
			"config/master.key":   {{vars: []string{"RAILS_MASTER_KEY"}}},
			"config/secrets.yml":  {{vars: []string{"SECRET_KEY_BASE"}}},
		},
		hints: map[string]string{"public/system": uploadsHint + " (Active Storage, Paperclip)", "storage": uploadsHint + " (Active Storage's local service)"},
	},
	"laravel": {
		generated: []string{"vendor", "bootstrap/cache", "storage/logs", "storage/framework/cache", "storage/framework/views", "storage/debugbar"},
		replaced: map[string][]replacement{
			".env":                       {{vars: []string{"APP_KEY", "DB_"}}, {vars: []string{"APP_KEY", "DATABASE_URL"}}},
			"storage":                    {{vars: []string{"FILESYSTEM_DISK", "SESSION_DRIVER"}, notLocal: []string{"local", "public", "file"}}},
			"storage/app":                {{vars: []string{"FILESYSTEM_DISK"}, notLocal: []string{"local", "public"}}},
			"storage/app/public":         {{vars: []string{"FILESYSTEM_DISK"}, notLocal: []string{"local", "public"}}},
			"storage/framework/sessions": {{vars: []string{"SESSION_DRIVER"}, notLocal: []string{"file"}}},
			"storage/oauth-private.key":  {{vars: []string{"PASSPORT_PRIVATE_KEY"}}},
			"storage/oauth-public.key":   {{vars: []string{"PASSPORT_PUBLIC_KEY"}}},
		},
		hints: map[string]string{
			"storage":                    "Laravel keeps uploads in storage/app and file sessions in storage/framework/sessions: set FILESYSTEM_DISK to s3 (or mount a volume) and SESSION_DRIVER to redis or database; logs, views and cache need nothing",
			"storage/app":                "uploads: set FILESYSTEM_DISK to s3 or mount a volume",
			"storage/app/public":         "public uploads: set FILESYSTEM_DISK to s3 or mount a volume",
			"storage/framework/sessions": sessionsHint + " (SESSION_DRIVER)",
			".env":                       "give the app its variables (ferry import env), at least APP_KEY and the DB_ settings",
		},
	},
	"symfony": {
		generated: []string{"vendor", "var", "var/cache", "var/log", "var/logs", "app/cache", "app/logs"},
		replaced: map[string][]replacement{
			".env":       {{vars: []string{"APP_SECRET"}}},
			".env.local": {{vars: []string{"APP_SECRET"}}},
			"config/secrets/prod/prod.decrypt.private.php": {{vars: []string{"SYMFONY_DECRYPTION_SECRET"}}},
		},
		hints: map[string]string{
			"var/sessions":              sessionsHint + " (framework.session.handler_id)",
			"app/sessions":              sessionsHint + " (framework.session.handler_id)",
			"app/config/parameters.yml": "mount it, or read its values from variables with %env()%",
			"public/uploads":            uploadsHint,
			"public/media":              uploadsHint,
		},
	},
	"php": {
		generated: []string{"vendor"},
		hints:     map[string]string{"wp-content/uploads": uploadsHint, "wp-config.php": "mount it, or read its settings from variables"},
	},
}

// pathsOf merges the common entry with framework's; an unknown framework gets every
// framework's build output and scratch, so that none is reported for nothing.
func pathsOf(framework string) frameworkPaths {
	out := frameworkPaths{replaced: map[string][]replacement{}, hints: map[string]string{}}
	for name, f := range frameworks {
		if name != "" && name != framework && framework != "" {
			continue
		}
		out.generated = append(out.generated, f.generated...)
		for p, r := range f.replaced {
			out.replaced[p] = append(out.replaced[p], r...)
		}
		for p, h := range f.hints {
			if framework != "" || out.hints[p] == "" {
				out.hints[p] = h
			}
		}
	}
	return out
}

// framework is the configured framework, else the one the legacy inputs and the
// manifests' commands show.
func (s *set) framework() string {
	if s.cfg.Legacy.Framework != "" {
		return s.cfg.Legacy.Framework
	}
	if s.detected != nil {
		return *s.detected
	}
	e := legacy.FrameworkEvidence{}
	for _, l := range s.cfg.Legacy.Linked {
		e.Linked = append(e.Linked, l.Path)
	}
	for _, v := range s.cfg.Legacy.Vars {
		e.Vars = append(e.Vars, v.Name)
	}
	for _, o := range s.objects {
		if o.pod == nil {
			continue
		}
		for _, c := range o.pod.containers() {
			e.Commands = append(e.Commands, strings.Join(append(append([]string(nil), c.c.Command...), c.c.Args...), " "))
		}
	}
	f, _ := legacy.DetectFramework(e)
	s.detected = (*string)(&f)
	return string(f)
}

func checkLinkedPaths(s *set, o *object) []problem {
	if o.pod == nil || len(s.cfg.Legacy.Linked) == 0 {
		return nil
	}
	framework := s.framework()
	paths := pathsOf(framework)
	var out []problem
	for _, c := range o.pod.containers() {
		if c.init || !s.isApp(c.c) {
			continue
		}
		have, _ := s.provided(o, c.c)
		var missing []string
		for _, l := range s.cfg.Legacy.Linked {
			if s.linkedProvided(o, c.c, l, have, paths) {
				continue
			}
			item := fmt.Sprintf("%s (%s)", l.Path, l.Source)
			if hint := paths.hints[path.Clean(strings.TrimPrefix(l.Path, "/"))]; hint != "" {
				item = fmt.Sprintf("%s (%s: %s)", l.Path, l.Source, hint)
			}
			missing = append(missing, item)
		}
		if len(missing) > 0 {
			what := "the legacy release's"
			if framework != "" {
				what = "the legacy " + frameworkTitle(framework) + " release's"
			}
			out = append(out, problem{c.field + ".volumeMounts", fmt.Sprintf("container %s has %d of %s linked files and directories neither mounted nor replaced: %s", c.c.Name, len(missing), what, listSome(missing))})
		}
	}
	return out
}

func frameworkTitle(f string) string {
	if f == "php" {
		return "PHP"
	}
	return strings.ToUpper(f[:1]) + f[1:]
}

func (s *set) linkedProvided(o *object, c *corev1.Container, l LegacyPath, have map[string]bool, paths frameworkPaths) bool {
	p := path.Clean(strings.TrimPrefix(l.Path, "/"))
	if l.Dir && slices.Contains(paths.generated, p) {
		return true
	}
	if !l.Dir && strings.HasPrefix(path.Base(p), ".env") && len(s.cfg.Legacy.Vars) > 0 {
		return true // FERRY-ENV-001 checks its variables
	}
	for _, r := range paths.replaced[p] {
		if s.replacedBy(o, c, r, have) {
			return true
		}
	}
	if !l.Dir && strings.HasPrefix(path.Base(p), ".env") {
		for _, r := range paths.replaced[".env"] {
			if s.replacedBy(o, c, r, have) {
				return true
			}
		}
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

// replacedBy says whether the container gets every variable of r, none with a value
// that keeps the state on the pod's disk.
func (s *set) replacedBy(o *object, c *corev1.Container, r replacement, have map[string]bool) bool {
	for _, v := range r.vars {
		name, ok := v, have[v]
		if strings.HasSuffix(v, "_") {
			ok = false
			for n := range have {
				if strings.HasPrefix(n, v) {
					name, ok = n, true
					break
				}
			}
		}
		if !ok {
			return false
		}
		if value, known := s.value(o, c, name); known && slices.Contains(r.notLocal, strings.ToLower(value)) {
			return false
		}
	}
	return true
}

// value is a variable's value in a container when the manifests show it: a literal
// env value or a key of a ConfigMap in the manifests.
func (s *set) value(o *object, c *corev1.Container, name string) (string, bool) {
	for i := len(c.Env) - 1; i >= 0; i-- {
		e := c.Env[i]
		if e.Name != name {
			continue
		}
		if e.ValueFrom == nil {
			return e.Value, true
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
			v, ok := s.configData[key(o.namespace, ref.Name)][ref.Key]
			return v, ok
		}
		return "", false
	}
	for i := len(c.EnvFrom) - 1; i >= 0; i-- {
		from := c.EnvFrom[i]
		if from.ConfigMapRef == nil || !strings.HasPrefix(name, from.Prefix) {
			continue
		}
		if v, ok := s.configData[key(o.namespace, from.ConfigMapRef.Name)][strings.TrimPrefix(name, from.Prefix)]; ok {
			return v, true
		}
	}
	return "", false
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
