package release

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/kube"
)

// LabelPreDeploy marks a pre-deploy Job and its pods with the revision it ran for.
const LabelPreDeploy = "ferry.dev/pre-deploy"

// PreDeployJob builds the pre-deploy Job of revision from the named Deployment's pod
// template in objs (which already carries the new image): one container, its command
// replaced, run once, labelled so no Service selects its pod.
func PreDeployJob(p *app.PreDeploy, appName string, revision int, objs []*unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var template map[string]any
	for _, obj := range objs {
		if obj.GetKind() == "Deployment" && obj.GetName() == p.FromDeployment {
			t, found, err := unstructured.NestedMap(obj.Object, "spec", "template")
			if err != nil || !found {
				return nil, fmt.Errorf("preDeploy: deployment %s has no pod template", p.FromDeployment)
			}
			template = t
			namespace := obj.GetNamespace()
			return buildJob(p, appName, revision, namespace, template)
		}
	}
	return nil, fmt.Errorf("preDeploy.fromDeployment: no Deployment named %s in the manifests", p.FromDeployment)
}

func buildJob(p *app.PreDeploy, appName string, revision int, namespace string, template map[string]any) (*unstructured.Unstructured, error) {
	containers, _, _ := unstructured.NestedSlice(template, "spec", "containers")
	var chosen map[string]any
	for _, c := range containers {
		m, ok := c.(map[string]any)
		if ok && (p.Container == "" || m["name"] == p.Container) {
			chosen = m
			break
		}
	}
	if chosen == nil {
		return nil, fmt.Errorf("preDeploy.container: deployment %s has no container named %s", p.FromDeployment, p.Container)
	}
	command := make([]any, len(p.Command))
	for i, c := range p.Command {
		command[i] = c
	}
	chosen["command"] = command
	delete(chosen, "args")
	for _, probe := range []string{"readinessProbe", "livenessProbe", "startupProbe", "lifecycle"} {
		delete(chosen, probe)
	}
	spec, _, _ := unstructured.NestedMap(template, "spec")
	spec["containers"] = []any{chosen}
	spec["restartPolicy"] = "Never"
	labels := map[string]any{LabelManagedBy: ManagedBy, LabelApp: appName, LabelPreDeploy: fmt.Sprint(revision)}
	annotations, _, _ := unstructured.NestedMap(template, "metadata", "annotations")
	podMeta := map[string]any{"labels": labels}
	if annotations != nil {
		podMeta["annotations"] = annotations
	}
	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata": map[string]any{
			"name":      fmt.Sprintf("%s-pre-deploy-r%d", appName, revision),
			"namespace": namespace,
			"labels":    labels,
		},
		"spec": map[string]any{
			"backoffLimit":            int64(0),
			"activeDeadlineSeconds":   int64(p.Timeout / time.Second),
			"ttlSecondsAfterFinished": int64(7 * 24 * 3600),
			"template":                map[string]any{"metadata": podMeta, "spec": spec},
		},
	}}
	return job, nil
}

// preDeploy runs the definition's pre-deploy Job, if any, and waits for it to
// complete: no workload changes unless it succeeds.
func (s *session) preDeploy(ctx context.Context, r *Release, objs []*unstructured.Unstructured) error {
	p := s.cfg.Def.PreDeploy
	if p == nil {
		return nil
	}
	job, err := PreDeployJob(p, s.cfg.Def.App, r.Revision, objs)
	if err != nil {
		return s.fail(ctx, r, err.Error())
	}
	s.printf("  pre-deploy job %s: %v\n", job.GetName(), p.Command)
	start := time.Now()
	if _, err := s.cfg.Client.Apply(ctx, job, false); err != nil {
		return s.fail(ctx, r, "pre-deploy job: "+err.Error())
	}
	_, err = s.cfg.Client.WaitHealthy(ctx, kube.WaitConfig{
		Objects: []kube.Ref{kube.RefOf(job)}, Since: start, Timeout: p.Timeout, OnUpdate: s.showUpdate,
	})
	if err != nil {
		return s.fail(ctx, r, "pre-deploy job "+job.GetName()+": "+err.Error()+"; no workload was changed")
	}
	return nil
}
