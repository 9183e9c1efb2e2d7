package cutover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// DefaultStartingDeadlineSeconds bounds how late a resumed CronJob may still start a
// run: a schedule missed by more than this while it was suspended never runs.
const DefaultStartingDeadlineSeconds = 60

// ErrNoCronJobs means the selector matches no CronJob.
var ErrNoCronJobs = errors.New("no CronJob matches")

// Config names the app's CronJobs and its legacy crontab.
type Config struct {
	Kube kubernetes.Interface
	// Namespace and Selector (a label selector such as app=shop) pick the CronJobs.
	Namespace, Selector string
	// StartingDeadlineSeconds is set on each CronJob as it resumes (default 60); a
	// smaller value already set is kept.
	StartingDeadlineSeconds int64
	// LegacyCrontab, when set, is the legacy crontab whose entries must stop as the
	// CronJobs resume.
	LegacyCrontab string
}

// Cutover holds and releases an app's CronJobs.
type Cutover struct {
	cfg      Config
	selector labels.Selector
	entries  []entry
}

// New parses the selector and the legacy crontab; it does not call the API server.
func New(cfg Config) (*Cutover, error) {
	if cfg.Kube == nil || cfg.Namespace == "" {
		return nil, errors.New("cronJobs: a namespace is required")
	}
	sel, err := labels.Parse(cfg.Selector)
	if err != nil || sel.Empty() {
		return nil, fmt.Errorf("cronJobs.selector %q: want a label selector such as app=shop", cfg.Selector)
	}
	if cfg.StartingDeadlineSeconds == 0 {
		cfg.StartingDeadlineSeconds = DefaultStartingDeadlineSeconds
	}
	if cfg.StartingDeadlineSeconds < 10 {
		// The cronjob controller may not get to a run within fewer seconds.
		return nil, fmt.Errorf("cronJobs.startingDeadlineSeconds %d: use 10 or more", cfg.StartingDeadlineSeconds)
	}
	c := &Cutover{cfg: cfg, selector: sel}
	if cfg.LegacyCrontab != "" {
		data, err := os.ReadFile(cfg.LegacyCrontab)
		if err != nil {
			return nil, fmt.Errorf("cronJobs.legacyCrontab: %w", err)
		}
		if c.entries, err = entries(cfg.LegacyCrontab, data); err != nil {
			return nil, fmt.Errorf("cronJobs.legacyCrontab: %w", err)
		}
	}
	return c, nil
}

func (c *Cutover) list(ctx context.Context) ([]batchv1.CronJob, error) {
	list, err := c.cfg.Kube.BatchV1().CronJobs(c.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: c.selector.String()})
	if err != nil {
		return nil, fmt.Errorf("list CronJobs in %s: %w", c.cfg.Namespace, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("%w %s in namespace %s", ErrNoCronJobs, c.selector, c.cfg.Namespace)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// Hold suspends every selected CronJob not suspended yet: until the migration
// completes, the legacy crontab runs the app's jobs, and they must not run twice.
func (c *Cutover) Hold(ctx context.Context, logf func(string, ...any)) error {
	jobs, err := c.list(ctx)
	if err != nil {
		return err
	}
	var held []string
	for _, cj := range jobs {
		if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
			held = append(held, cj.Name)
			continue
		}
		if err := c.patch(ctx, cj.Name, `{"spec":{"suspend":true}}`); err != nil {
			return err
		}
		held = append(held, cj.Name+" (suspended now)")
	}
	logf("CronJobs held suspended until the migration completes, while the legacy crontab runs: %s", strings.Join(held, ", "))
	return nil
}

// Release resumes every selected CronJob with a starting deadline, so that schedules
// missed while suspended do not fire, and logs the legacy crontab entries to stop now.
func (c *Cutover) Release(ctx context.Context, logf func(string, ...any)) error {
	jobs, err := c.list(ctx)
	if err != nil {
		return err
	}
	schedules := map[string]string{}
	for _, cj := range jobs {
		deadline := c.cfg.StartingDeadlineSeconds
		if d := cj.Spec.StartingDeadlineSeconds; d != nil && *d < deadline {
			deadline = *d
		}
		// One patch: the controller never sees the CronJob resumed without its deadline.
		if err := c.patch(ctx, cj.Name, fmt.Sprintf(`{"spec":{"startingDeadlineSeconds":%d,"suspend":false}}`, deadline)); err != nil {
			return err
		}
		schedules[cj.Name] = cj.Spec.Schedule
		logf("CronJob %s resumed (%s) with startingDeadlineSeconds %d: runs missed while it was suspended are skipped", cj.Name, cj.Spec.Schedule, deadline)
	}
	if c.cfg.LegacyCrontab == "" {
		logf("stop the legacy crontab's jobs for this app now: its CronJobs run them from here on")
		return nil
	}
	logf("stop these entries of the legacy crontab %s now, on every legacy host:", c.cfg.LegacyCrontab)
	for i, m := range match(c.entries, schedules) {
		if m != "" {
			logf("  %s    (now CronJob %s)", c.entries[i].line, m)
		} else {
			logf("  %s", c.entries[i].line)
		}
	}
	return nil
}

func (c *Cutover) patch(ctx context.Context, name, patch string) error {
	_, err := c.cfg.Kube.BatchV1().CronJobs(c.cfg.Namespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "ferry"})
	if err != nil {
		return fmt.Errorf("CronJob %s/%s: %w", c.cfg.Namespace, name, err)
	}
	return nil
}
