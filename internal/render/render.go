package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/app"
)

// ErrNoObjects means the source rendered to nothing.
var ErrNoObjects = errors.New("the manifests render to no objects")

// Source renders the definition's manifest source. Objects keep the source's order.
func Source(def *app.Definition) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	var err error
	switch m := def.Manifests; {
	case m.Directory != "":
		objs, err = directory(m.Directory)
	case m.Kustomize != "":
		objs, err = kustomize(m.Kustomize)
	case m.Helm != nil:
		objs, err = helm(m.Helm, def.Namespace)
	default:
		return nil, errors.New("no manifest source")
	}
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, ErrNoObjects
	}
	return objs, nil
}

// directory reads every *.yaml, *.yml and *.json file of dir (not recursively) in
// name order.
func directory(dir string) ([]*unstructured.Unstructured, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	var names []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read manifests: %w", err)
		}
		decoded, err := Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objs = append(objs, decoded...)
	}
	return objs, nil
}

func kustomize(dir string) ([]*unstructured.Unstructured, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	data, err := resources.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	objs, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return objs, nil
}

// helm renders a chart the way `helm template` does, without a cluster. Hooks are
// left out: ferry's pre-deploy Job takes their place.
func helm(h *app.Helm, namespace string) ([]*unstructured.Unstructured, error) {
	chart, err := loader.Load(h.Chart)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", h.Chart, err)
	}
	opts := values.Options{ValueFiles: h.Values}
	keys := make([]string, 0, len(h.Set))
	for k := range h.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		opts.Values = append(opts.Values, k+"="+h.Set[k])
	}
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("chart values: %w", err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace, install.IncludeCRDs = true, true, true, true
	install.ReleaseName, install.Namespace = h.ReleaseName, namespace
	rel, err := install.Run(chart, vals)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", h.Chart, err)
	}
	objs, err := Decode([]byte(rel.Manifest))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", h.Chart, err)
	}
	return objs, nil
}

// Decode splits multi-document YAML or JSON into objects, flattening v1 Lists and
// skipping empty documents. Each object must have apiVersion, kind and metadata.name.
// Documents are counted from 1, empty ones included, so errors point at the right one.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		jsonData, err := sigsyaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		var raw map[string]any
		// utiljson keeps integers as int64, as unstructured objects require.
		if err := utiljson.Unmarshal(jsonData, &raw); err != nil {
			return nil, fmt.Errorf("document %d: not an object: %w", doc, err)
		}
		if len(raw) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: raw}
		if !obj.IsList() {
			if err := check(obj); err != nil {
				return nil, fmt.Errorf("document %d: %w", doc, err)
			}
			objs = append(objs, obj)
			continue
		}
		list, err := obj.ToList()
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		for i := range list.Items {
			item := list.Items[i]
			if err := check(&item); err != nil {
				return nil, fmt.Errorf("document %d item %d: %w", doc, i+1, err)
			}
			objs = append(objs, &item)
		}
	}
}

func check(obj *unstructured.Unstructured) error {
	switch {
	case obj.GetAPIVersion() == "":
		return errors.New("apiVersion is missing")
	case obj.GetKind() == "":
		return errors.New("kind is missing")
	case obj.GetName() == "":
		return fmt.Errorf("%s has no metadata.name", obj.GetKind())
	}
	return nil
}
