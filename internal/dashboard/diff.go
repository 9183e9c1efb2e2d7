package dashboard

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/kube"
)

// hidden stands in for every value of a Secret's data: the page shows keys only.
const hidden = "(hidden)"

// redacted is obj as the page may show it: a Secret's values replaced by hidden, and
// the annotations that could carry them dropped.
func redacted(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj.GetKind() != "Secret" || obj.GroupVersionKind().Group != "" {
		return obj
	}
	cp := obj.DeepCopy()
	for _, field := range []string{"data", "stringData"} {
		m, ok := cp.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = hidden
		}
	}
	ann := cp.GetAnnotations()
	delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	if len(ann) == 0 {
		ann = nil
	}
	cp.SetAnnotations(ann)
	return cp
}

// Change says how an object differs between two revisions.
type Change string

// Changes of an object from one revision to another.
const (
	Added     Change = "added"
	Removed   Change = "removed"
	Changed   Change = "changed"
	Unchanged Change = "unchanged"
)

// ObjectDiff is one object's difference between two revisions.
type ObjectDiff struct {
	Object string // kind/name, with the namespace when it has one
	Change Change
	Lines  []DiffLine
}

// DiffLine is one line of a diff: Op is ' ', '+' or '-'.
type DiffLine struct {
	Op   byte
	Text string
}

// maxDiffLines bounds the lines compared line by line; bigger objects are shown
// as replaced whole.
const maxDiffLines = 3000

// DiffManifests compares two revisions' manifests object by object, in the order of
// from then the objects only to has; Secrets' values never appear.
func DiffManifests(from, to []*unstructured.Unstructured) []ObjectDiff {
	type entry struct {
		name string
		obj  *unstructured.Unstructured
	}
	index := func(objs []*unstructured.Unstructured) (map[string]entry, []string) {
		m := map[string]entry{}
		var order []string
		for _, o := range objs {
			ref := kube.RefOf(o)
			name := ref.String()
			if ref.Namespace != "" {
				name = ref.Namespace + "/" + name
			}
			if _, dup := m[ref.Key()]; !dup {
				order = append(order, ref.Key())
			}
			m[ref.Key()] = entry{name: name, obj: o}
		}
		return m, order
	}
	a, aOrder := index(from)
	b, bOrder := index(to)
	var keys []string
	keys = append(keys, aOrder...)
	var extra []string
	for _, k := range bOrder {
		if _, ok := a[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	keys = append(keys, extra...)
	var out []ObjectDiff
	for _, k := range keys {
		ea, inA := a[k]
		eb, inB := b[k]
		switch {
		case inA && !inB:
			out = append(out, ObjectDiff{Object: ea.name, Change: Removed, Lines: prefixed('-', yamlLines(ea.obj))})
		case !inA && inB:
			out = append(out, ObjectDiff{Object: eb.name, Change: Added, Lines: prefixed('+', yamlLines(eb.obj))})
		default:
			la, lb := yamlLines(ea.obj), yamlLines(eb.obj)
			d := ObjectDiff{Object: eb.name, Change: Unchanged, Lines: prefixed(' ', lb)}
			if strings.Join(la, "\n") != strings.Join(lb, "\n") {
				d.Change = Changed
				d.Lines = lineDiff(la, lb)
			}
			out = append(out, d)
		}
	}
	return out
}

func yamlLines(obj *unstructured.Unstructured) []string {
	data, err := yaml.Marshal(redacted(obj).Object)
	if err != nil {
		return []string{"(this object cannot be shown)"}
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func prefixed(op byte, lines []string) []DiffLine {
	out := make([]DiffLine, len(lines))
	for i, l := range lines {
		out[i] = DiffLine{Op: op, Text: l}
	}
	return out
}

// lineDiff is a longest-common-subsequence diff of a and b, with up to three lines
// of context around each change.
func lineDiff(a, b []string) []DiffLine {
	if len(a)*len(b) > maxDiffLines*maxDiffLines/4 {
		return append(prefixed('-', a), prefixed('+', b)...)
	}
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []DiffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			all = append(all, DiffLine{' ', a[i]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			all = append(all, DiffLine{'+', b[j]})
			j++
		default:
			all = append(all, DiffLine{'-', a[i]})
			i++
		}
	}
	return withContext(all, 3)
}

// withContext keeps the changed lines and ctx unchanged lines around each, marking
// each gap with a "…" line.
func withContext(lines []DiffLine, ctx int) []DiffLine {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == ' ' {
			continue
		}
		for k := max(0, i-ctx); k <= min(len(lines)-1, i+ctx); k++ {
			keep[k] = true
		}
	}
	var out []DiffLine
	gap := false
	for i, l := range lines {
		if !keep[i] {
			gap = true
			continue
		}
		if gap && len(out) > 0 {
			out = append(out, DiffLine{' ', "…"})
		}
		gap = false
		out = append(out, l)
	}
	return out
}
