package lint

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// AnnotationIgnore switches rules off for one object: a comma-separated list of rule IDs.
const AnnotationIgnore = "ferry.dev/lint-ignore"

// ErrUnknownRule means a rule ID that no rule has.
var ErrUnknownRule = errors.New("unknown rule")

// Config says what the rules know besides the objects.
type Config struct {
	// Namespace is the namespace of objects that name none; default "default".
	Namespace string
	// AppContainers name the containers that run the app (ferry.yaml's
	// image.containers): ferry deploy sets their image, so the image rule skips them,
	// and they must have the legacy environment. Empty means every container.
	AppContainers []string
	// Legacy is what the legacy servers had, for the env parity rules.
	Legacy Legacy
	// Disabled are rule IDs not to run.
	Disabled []string
	// Locations say where objects were read from, for reports.
	Locations map[ObjectRef]Location
}

// Legacy is the environment the legacy app ran with.
type Legacy struct {
	// Vars are variables it had: from a dotenv file, a list, the output of env.
	Vars []LegacyVar
	// Linked are Capistrano's linked files and directories.
	Linked []LegacyPath
	// Framework is what the app is built with ("rails", "laravel", "symfony", "php"):
	// which linked paths are build output and which variables replace a linked file
	// depend on it. Empty means: detected from Linked, Vars and the manifests' commands.
	Framework string
}

// LegacyVar is one variable of the legacy environment and where it was found.
type LegacyVar struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// LegacyPath is a file or directory every legacy release had linked in from shared/.
type LegacyPath struct {
	Path   string `json:"path"`
	Dir    bool   `json:"dir"`
	Source string `json:"source"`
}

// ObjectRef identifies an object in reports.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// RefOf returns obj's identity as written (its namespace may be empty).
func RefOf(obj *unstructured.Unstructured) ObjectRef {
	return ObjectRef{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// String is kubectl's kind/name, lower-case.
func (r ObjectRef) String() string { return strings.ToLower(r.Kind) + "/" + r.Name }

// Location is where an object was read from.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Finding is one rule broken by one object.
type Finding struct {
	Rule     string    `json:"rule"`
	Severity Severity  `json:"severity"`
	Object   ObjectRef `json:"object"`
	// Field is where in the object, such as spec.jobTemplate.spec.activeDeadlineSeconds.
	Field    string    `json:"field,omitempty"`
	Message  string    `json:"message"`
	Location *Location `json:"location,omitempty"`
}

// Report is the outcome of one run.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Summary counts findings by severity.
type Summary struct {
	Objects  int `json:"objects"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Info     int `json:"info"`
}

// Worst is the highest severity found, and false when nothing was found.
func (r Report) Worst() (Severity, bool) {
	switch {
	case r.Summary.Errors > 0:
		return Error, true
	case r.Summary.Warnings > 0:
		return Warning, true
	case r.Summary.Info > 0:
		return Info, true
	}
	return Info, false
}

// Run checks objs with every rule not disabled, in object order, then rule order.
// Objects annotated with AnnotationIgnore skip the rules it names.
func Run(objs []*unstructured.Unstructured, cfg Config) (Report, error) {
	rules, err := enabled(cfg.Disabled)
	if err != nil {
		return Report{}, err
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	s := newSet(objs, cfg)
	report := Report{Findings: []Finding{}, Summary: Summary{Objects: len(objs)}}
	for _, o := range s.objects {
		ignored := o.ignored()
		for _, rule := range rules {
			if ignored[rule.ID] {
				continue
			}
			for _, p := range rule.check(s, o) {
				report.add(rule, o, p, cfg.Locations)
			}
		}
	}
	return report, nil
}

func (r *Report) add(rule Rule, o *object, p problem, locations map[ObjectRef]Location) {
	f := Finding{Rule: rule.ID, Severity: rule.Severity, Object: o.ref, Field: p.field, Message: p.message}
	if loc, ok := locations[o.ref]; ok {
		f.Location = &loc
	}
	r.Findings = append(r.Findings, f)
	switch rule.Severity {
	case Error:
		r.Summary.Errors++
	case Warning:
		r.Summary.Warnings++
	default:
		r.Summary.Info++
	}
}

func enabled(disabled []string) ([]Rule, error) {
	off := map[string]bool{}
	known := map[string]bool{}
	all := Rules()
	for _, r := range all {
		known[r.ID] = true
	}
	for _, id := range disabled {
		if !known[id] {
			return nil, fmt.Errorf("%w %q: see `ferry lint --list-rules`", ErrUnknownRule, id)
		}
		off[id] = true
	}
	out := all[:0]
	for _, r := range all {
		if !off[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// RuleByID returns the rule with id.
func RuleByID(id string) (Rule, bool) {
	for _, r := range Rules() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Fired lists the rules that have findings in r, in rule order.
func (r Report) Fired() []Rule {
	hit := map[string]bool{}
	for _, f := range r.Findings {
		hit[f.Rule] = true
	}
	var out []Rule
	for _, rule := range Rules() {
		if hit[rule.ID] {
			out = append(out, rule)
		}
	}
	return out
}
