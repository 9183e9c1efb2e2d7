package legacy

import (
	"fmt"
	"regexp"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// droppedCronVars are crontab variables that describe the legacy host, not the job.
var droppedCronVars = map[string]string{
	"MAILTO":   "cron mailed each job's output there; nothing mails it in Kubernetes: alert on failed Jobs instead",
	"MAILFROM": "cron mailed each job's output; nothing mails it in Kubernetes",
	"CRON_TZ":  "", // becomes spec.timeZone
	"PATH":     "not carried over: the image's PATH applies",
	"HOME":     "not carried over: the image's HOME applies",
	"LOGNAME":  "not carried over",
	"USER":     "not carried over",
}

func cronZone(env []EnvVar, fallback string) string {
	zone := fallback
	for _, v := range env {
		if v.Name == "CRON_TZ" {
			zone = v.Value
		}
	}
	return zone
}

// envNotes are the notes on the variable lines that some job uses, once each.
func envNotes(tab *Crontab) []Note {
	seen := map[int]bool{}
	var notes []Note
	for _, job := range tab.Jobs {
		for _, v := range job.Env {
			if seen[v.Line] {
				continue
			}
			seen[v.Line] = true
			msg := droppedCronVars[v.Name]
			switch {
			case v.Name == "SHELL":
				msg = fmt.Sprintf("jobs run with %s -c: the image must have it", v.Value)
			case v.Name == "MAILTO" && v.Value == "":
				msg = ""
			}
			if msg != "" {
				notes = append(notes, Note{File: tab.File, Line: v.Line, Kind: Review, Message: v.Name + ": " + msg})
			}
		}
	}
	return notes
}

func sortNotes(notes []Note) {
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].Line < notes[j].Line })
}

var (
	runParts      = regexp.MustCompile(`\brun-parts\b`)
	fileRedirect  = regexp.MustCompile(`[0-9]?>>?\s*([^\s&|;<>()'"]+)`)
	capistranoDir = regexp.MustCompile(`/[^\s'";&|]*/(current|releases/[0-9]+|shared)\b[^\s'";&|]*`)
	flock         = regexp.MustCompile(`\bflock\b`)
	switchUser    = regexp.MustCompile(`(^|[\s;&|('"])(sudo|su)\s`)
)

// commandNotes says what in a command may behave differently in a pod.
func commandNotes(cmd string) []entryNote {
	const logs = "in a pod, leave it on stdout and stderr, where the logs are collected"
	var notes []entryNote
	for _, m := range fileRedirect.FindAllStringSubmatch(cmd, -1) {
		if m[1] != "/dev/null" {
			notes = append(notes, entryNote{one: fmt.Sprintf("writes its output to %s: %s", m[1], logs),
				group: "write their output to files (%s): " + logs, detail: m[1]})
		}
	}
	if m := capistranoDir.FindString(cmd); m != "" {
		const where = "in the image the app lives in its working directory"
		notes = append(notes, entryNote{one: fmt.Sprintf("refers to the Capistrano layout (%s): %s", m, where),
			group: "refer to the Capistrano layout (%s): " + where, detail: m})
	}
	if flock.MatchString(cmd) {
		const why = "concurrencyPolicy Forbid does that across pods now"
		notes = append(notes, entryNote{one: "uses flock against overlapping runs: " + why, group: "use flock against overlapping runs: " + why})
	}
	if switchUser.MatchString(cmd) {
		const why = "the container runs as its image's user"
		notes = append(notes, entryNote{one: "switches user with sudo or su: " + why, group: "switch user with sudo or su: " + why})
	}
	return notes
}

// jobContainer runs job's command with its variables; those with a key in
// secretKeys (by line) come from the crontab's Secret.
func jobContainer(job Job, secretKeys map[int]string, cfg CronJobConfig) corev1.Container {
	shell := "/bin/sh"
	var env []corev1.EnvVar
	index := map[string]int{}
	for _, v := range job.Env {
		if v.Name == "SHELL" {
			shell = v.Value
			continue
		}
		if _, dropped := droppedCronVars[v.Name]; dropped {
			continue
		}
		e := corev1.EnvVar{Name: v.Name, Value: v.Value}
		if key, ok := secretKeys[v.Line]; ok {
			e = corev1.EnvVar{Name: v.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: cfg.secretName()}, Key: key}}}
		}
		if i, ok := index[v.Name]; ok {
			env[i] = e
			continue
		}
		index[v.Name] = len(env)
		env = append(env, e)
	}
	c := corev1.Container{Name: cfg.Container, Image: cfg.Image, Command: []string{shell, "-c", job.Command}, Env: env,
		SecurityContext: jobContainerSecurity(), VolumeMounts: []corev1.VolumeMount{{Name: scratchVolume, MountPath: "/tmp"}}}
	for _, name := range cfg.ConfigMaps {
		c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}})
	}
	for _, name := range cfg.Secrets {
		c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}})
	}
	if cfg.CPU != "" || cfg.Memory != "" {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if cfg.CPU != "" {
		c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cfg.CPU)
	}
	if cfg.Memory != "" {
		c.Resources.Requests[corev1.ResourceMemory] = resource.MustParse(cfg.Memory)
		c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(cfg.Memory)}
	}
	return c
}

// toObject converts a typed object to an unstructured one without the empty fields
// (creationTimestamp: null, status: {}) that typed objects always carry.
func toObject(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	prune(m)
	return &unstructured.Unstructured{Object: m}, nil
}

func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(v)
			if len(v) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range v {
				if im, ok := item.(map[string]any); ok {
					prune(im)
				}
			}
		}
	}
}

// scratchVolume is the emptyDir a job writes its scratch files to (/tmp), its root
// file system being read-only; scratchLimit bounds it.
const (
	scratchVolume = "tmp"
	scratchLimit  = "1Gi"
)

func scratch() corev1.Volume {
	return corev1.Volume{Name: scratchVolume, VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse(scratchLimit))}}}
}

// jobPodSecurity and jobContainerSecurity are the restricted Pod Security Standard,
// which ferry lint's pod-security rules check: a job that ran as root under cron must
// move to an image whose user is not root.
func jobPodSecurity() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
}

func jobContainerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}
