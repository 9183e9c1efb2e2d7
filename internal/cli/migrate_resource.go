package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
)

// fieldManager owns the fields `ferry migrate apply` sets (server-side apply) and
// spec.paused (a merge patch).
const fieldManager = "ferry"

// DefaultSteerTimeout bounds the wait for the controller to acknowledge a command.
const DefaultSteerTimeout = time.Minute

// migrationResource is one Migration resource, steered from the command line.
type migrationResource struct {
	c      client.WithWatch
	key    types.NamespacedName
	server string
}

// resource connects to the Migration name in the namespace of the flags or the
// kubeconfig.
func (o *migrateOptions) resource(name string) (*migrationResource, error) {
	kc, err := kube.New(*o.kube)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(kc.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, kube.Explain(kc.Config.Host, err)
	}
	return &migrationResource{c: c, key: types.NamespacedName{Namespace: kc.Namespace, Name: name}, server: kc.Config.Host}, nil
}

func (r *migrationResource) String() string {
	return fmt.Sprintf("migration %s in namespace %s", r.key.Name, r.key.Namespace)
}

// explain makes an error of the API one line in ferry's words.
func (r *migrationResource) explain(err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s not found: create it with `ferry migrate apply -f PLAN`", r)
	case noMigrationKind(err):
		return errors.New("the cluster has no Migration resource (ferry.dev/v1alpha1): install ferry's CRD (config/crd) and run `ferry controller`")
	}
	return kube.Explain(r.server, err)
}

// noMigrationKind reports whether the API server does not serve Migrations.
func noMigrationKind(err error) bool {
	return strings.Contains(err.Error(), "no matches for kind") || strings.Contains(err.Error(), "the server could not find the requested resource")
}

func (r *migrationResource) get(ctx context.Context) (*v1alpha1.Migration, error) {
	var m v1alpha1.Migration
	if err := r.c.Get(ctx, r.key, &m); err != nil {
		return nil, r.explain(err)
	}
	return &m, nil
}

// wait watches the Migration from the version from until done is true of one, and
// returns it; errNotAcknowledged when ctx ends first.
func (r *migrationResource) wait(ctx context.Context, from *v1alpha1.Migration, done func(*v1alpha1.Migration) bool) (*v1alpha1.Migration, error) {
	last := from
	for !done(last) {
		w, err := r.c.Watch(ctx, &v1alpha1.MigrationList{}, &client.ListOptions{
			Namespace: r.key.Namespace, FieldSelector: fields.OneTermEqualSelector("metadata.name", r.key.Name),
			Raw: &metav1.ListOptions{ResourceVersion: last.ResourceVersion, AllowWatchBookmarks: true},
		})
		if ctx.Err() != nil {
			return last, errNotAcknowledged
		}
		if err != nil {
			return last, r.explain(err)
		}
		last, err = r.follow(ctx, w, last, done)
		w.Stop()
		if err != nil {
			return last, err
		}
	}
	return last, nil
}

// follow reads one watch until done is true, the watch ends (nil error: watch again
// from the version returned) or ctx ends.
func (r *migrationResource) follow(ctx context.Context, w watch.Interface, last *v1alpha1.Migration, done func(*v1alpha1.Migration) bool) (*v1alpha1.Migration, error) {
	for {
		select {
		case <-ctx.Done():
			return last, errNotAcknowledged
		case ev, ok := <-w.ResultChan():
			if !ok {
				return last, nil
			}
			switch ev.Type {
			case watch.Deleted:
				return last, fmt.Errorf("%s was deleted", r)
			case watch.Error:
				if st, isStatus := ev.Object.(*metav1.Status); isStatus && st.Code == 410 {
					fresh, err := r.get(ctx) // the version is too old to watch from: start afresh
					if err != nil {
						return last, err
					}
					return fresh, nil
				}
				return last, r.explain(apierrors.FromObject(ev.Object))
			}
			if m, isMig := ev.Object.(*v1alpha1.Migration); isMig {
				if m.Name == "" { // a bookmark: only its version counts
					last = last.DeepCopy()
					last.ResourceVersion = m.ResourceVersion
					continue
				}
				last = m
				if done(m) {
					return m, nil
				}
			}
		}
	}
}

var errNotAcknowledged = errors.New("no controller acknowledged")

// steer is how a steering command waits for the controller.
type steer struct {
	wait    bool
	timeout time.Duration
	reason  string
}

// ended refuses a command for a Migration that has ended.
func ended(m *v1alpha1.Migration, action string) error {
	switch m.Status.Phase {
	case v1alpha1.PhaseCompleted, v1alpha1.PhaseAborted:
		return fmt.Errorf("migration %s has already %s: nothing to %s", m.Name, strings.ToLower(string(m.Status.Phase)), action)
	}
	return nil
}

// setPaused sets spec.paused and waits until the controller has reconciled the
// generation that says so.
func (r *migrationResource) setPaused(ctx context.Context, paused bool, s steer) (*v1alpha1.Migration, error) {
	action := map[bool]string{true: "pause", false: "resume"}[paused]
	m, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	if err := ended(m, action); err != nil {
		return nil, err
	}
	patch := []byte(fmt.Sprintf(`{"spec":{"paused":%t}}`, paused))
	if err := r.c.Patch(ctx, m, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(fieldManager)); err != nil {
		return nil, r.explain(err)
	}
	if !s.wait {
		return m, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	gen := m.Generation
	m, err = r.wait(ctx, m, func(m *v1alpha1.Migration) bool { return m.Status.ObservedGeneration >= gen })
	if errors.Is(err, errNotAcknowledged) {
		return m, fmt.Errorf("%w spec.paused=%t of %s within %s: is `ferry controller` running for namespace %s? spec.paused stays %t",
			err, paused, r, s.timeout, r.key.Namespace, paused)
	}
	return m, err
}

// request queues a promote or an abort as a request annotation and waits until the
// controller has taken it and recorded what it made of it. The request's ID is its
// nonce: it names the run and, for a promote, the step it was asked at, so the same
// command given twice (a retry after a timeout) is one request, applied once.
func (r *migrationResource) request(ctx context.Context, action string, s steer) (*v1alpha1.Migration, error) {
	m, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	if err := ended(m, action); err != nil {
		return nil, err
	}
	store := kubestore.New(kubestore.Config{Client: r.c, Key: r.key})
	st, err := store.Load(ctx)
	switch {
	case errors.Is(err, migrate.ErrNoMigration):
		return nil, fmt.Errorf("%s has not started: nothing to %s", r, action)
	case err != nil && !(errors.Is(err, migrate.ErrUnusableState) && action == "abort"):
		return nil, err
	case st.Phase == migrate.PhaseAborting && action != "abort":
		return nil, fmt.Errorf("%s is aborting: nothing to %s", r, action)
	}
	id := action + "-" + st.Run
	if action == "promote" {
		id += fmt.Sprintf("-%d", st.Step+1)
	}
	if st.Run == "" {
		id = action + "-r" + strings.TrimPrefix(st.Version, "-")
	}
	req := migrate.Request{ID: id, Action: action, Reason: s.reason, Run: st.Run, At: time.Now()}
	if kubestore.Acknowledged(m, id) {
		return m, fmt.Errorf("the controller already took this %s (request %s): see `ferry migrate status %s`", action, id, r.key.Name)
	}
	if err := store.PutRequest(ctx, req); err != nil {
		return nil, r.explain(errors.Unwrap(err))
	}
	if !s.wait {
		return m, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	taken, err := r.wait(ctx, m, func(m *v1alpha1.Migration) bool { return kubestore.Acknowledged(m, id) })
	if errors.Is(err, errNotAcknowledged) {
		return taken, fmt.Errorf("%w the %s request of %s within %s: is `ferry controller` running for namespace %s? The request stays queued; withdraw it with `kubectl annotate -n %s migration %s %s%s-`",
			err, action, r, s.timeout, r.key.Namespace, r.key.Namespace, r.key.Name, kubestore.RequestPrefix, id)
	}
	if err != nil {
		return taken, err
	}
	// Taken; what the engine made of it is recorded by its next save, and an abort
	// is done when the weights are back on legacy.
	revision := taken.Status.Revision
	landed := func(m *v1alpha1.Migration) bool { return m.Status.Revision > revision }
	if action == "abort" {
		landed = func(m *v1alpha1.Migration) bool { return m.Status.Phase == v1alpha1.PhaseAborted }
	}
	after, err := r.wait(ctx, taken, landed)
	switch {
	case errors.Is(err, errNotAcknowledged) && action == "abort":
		return after, fmt.Errorf("the controller took the abort of %s but has not finished it within %s: see `ferry migrate status %s`", r, s.timeout, r.key.Name)
	case err == nil:
		taken = after
	case !errors.Is(err, errNotAcknowledged):
		return after, err
	}
	for _, e := range taken.Status.Events {
		if strings.Contains(e.Message, "request "+id+":") {
			return taken, errors.New(e.Message)
		}
	}
	return taken, nil
}

// renderMigrationResource writes the Migration's status: as JSON or YAML exactly as
// the resource holds it (without the engine's record), or as a table.
func renderMigrationResource(g *globalOptions, m *v1alpha1.Migration) error {
	status := m.Status.DeepCopy()
	if g.output != "table" {
		return render(g.stdout, g.output, status, nil)
	}
	return render(g.stdout, g.output, status, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "Migration:\t%s/%s %s\n", m.Namespace, m.Name, or(string(status.Phase), "Pending"))
		if status.StepDisplay != "" {
			fmt.Fprintf(tw, "Step:\t%s, %s to kubernetes (applied %s)\n", status.StepDisplay, status.TargetWeight, status.AppliedWeight)
		}
		if m.Spec.Paused {
			fmt.Fprintf(tw, "Paused:\tspec.paused is set: `ferry migrate resume %s` clears it\n", m.Name)
		}
		if status.AbortReason != "" {
			fmt.Fprintf(tw, "Reason:\t%s\n", status.AbortReason)
		}
		for _, g := range status.Gates {
			fmt.Fprintf(tw, "Gate %s:\t%s: %s\n", g.Name, g.Verdict, g.Message)
		}
		for _, c := range status.Conditions {
			msg := ""
			if c.Message != "" {
				msg = ": " + c.Message
			}
			fmt.Fprintf(tw, "%s:\t%s (%s)%s\n", c.Type, c.Status, c.Reason, msg)
		}
		fmt.Fprintln(tw, "Log:")
		for _, e := range status.Events[max(0, len(status.Events)-8):] {
			fmt.Fprintf(tw, "  %s  %s\n", e.Time.Local().Format(time.TimeOnly), e.Message)
		}
	})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// apply creates or updates the Migration from a plan file by server-side apply, and
// says which it did: created, configured or unchanged.
func (r *migrationResource) apply(ctx context.Context, spec v1alpha1.MigrationSpec) (*v1alpha1.Migration, string, error) {
	var before v1alpha1.Migration
	existed := true
	if err := r.c.Get(ctx, r.key, &before); apierrors.IsNotFound(err) {
		existed = false
	} else if err != nil {
		return nil, "", r.explain(err)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, "", err
	}
	var specMap map[string]any
	if err := json.Unmarshal(raw, &specMap); err != nil {
		return nil, "", err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "Migration",
		"metadata": map[string]any{"name": r.key.Name, "namespace": r.key.Namespace},
		"spec":     specMap,
	}}
	if err := r.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		if apierrors.IsInvalid(err) {
			return nil, "", fmt.Errorf("the API server refused %s: %s", r, invalidCauses(err))
		}
		return nil, "", r.explain(err)
	}
	var m v1alpha1.Migration
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &m); err != nil {
		return nil, "", err
	}
	switch {
	case !existed:
		return &m, "created", nil
	case m.Generation != before.Generation:
		return &m, "configured", nil
	}
	return &m, "unchanged", nil
}

// invalidCauses is the API server's refusal, each field with its message.
func invalidCauses(err error) string {
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Details == nil || len(st.Status().Details.Causes) == 0 {
		return err.Error()
	}
	var out []string
	for _, c := range st.Status().Details.Causes {
		out = append(out, strings.TrimSpace(c.Field+": "+c.Message))
	}
	return strings.Join(out, "; ")
}

// readPlanFile reads a plan file for the cluster ("-" is stdin).
func readPlanFile(path string) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	return data, nil
}

func newMigrateApplyCommand(g *globalOptions, o *migrateOptions) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "apply [-f PLAN] [--name NAME]",
		Short: "Create or update the Migration resource from a plan file, for `ferry controller` to run",
		Long: `Create or update the Migration resource (ferry.dev/v1alpha1) from a plan file, by
server-side apply with the field manager "ferry", in --namespace or the kubeconfig's
namespace. The Migration is named --name, or the plan's name.

The plan file is the one ` + "`ferry migrate start`" + ` reads, with its secrets named by
reference to a Secret in the Migration's namespace: router.proxy.tokenSecretRef,
metrics.prometheus.bearerTokenSecretRef, metrics.datadog.apiKeySecretRef and
appKeySecretRef, notify[].slack or notify[].webhook as {name: SECRET, key: KEY}. A
plan with a secret inline, in a file or in an environment variable is refused.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := readPlanFile(o.plan)
			if err != nil {
				return err
			}
			p, err := parseClusterPlan(data)
			if err != nil {
				return fmt.Errorf("%s: %w", o.plan, err)
			}
			if p.State != "" {
				fmt.Fprintln(g.stderr, "note: state is for `ferry migrate start`; a Migration keeps its state in its status")
			}
			name = or(name, p.Name)
			if name == "" {
				return usageError{errors.New("the plan has no name: give the Migration one with --name")}
			}
			r, err := o.resource(name)
			if err != nil {
				return err
			}
			m, did, err := r.apply(cmd.Context(), p.MigrationSpec)
			if err != nil {
				return err
			}
			if g.output != "table" {
				m.APIVersion, m.Kind = v1alpha1.GroupVersion.String(), "Migration"
				return render(g.stdout, g.output, m, nil)
			}
			fmt.Fprintf(g.stdout, "migration.ferry.dev/%s %s (namespace %s)\n", m.Name, did, m.Namespace)
			return nil
		},
	}
	// kubectl's spelling; the plan is migrate's -f/--file, as for every migrate command.
	alias(cmd.Flags(), o.planFlag, "filename")
	cmd.Flags().StringVar(&name, "name", "", "the Migration's name (default: the plan's name)")
	return cmd
}
