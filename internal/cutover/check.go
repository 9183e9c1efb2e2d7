package cutover

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Check does what Hold would do as a server-side dry run: it lists the selected
// CronJobs and asks the API server to suspend each that is not suspended yet, which
// also proves the permission to, but changes nothing. It returns what Hold would log.
func (c *Cutover) Check(ctx context.Context) (string, error) {
	jobs, err := c.list(ctx)
	if err != nil {
		return "", err
	}
	var held []string
	for _, cj := range jobs {
		if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
			held = append(held, cj.Name+" (suspended already)")
			continue
		}
		_, err := c.cfg.Kube.BatchV1().CronJobs(c.cfg.Namespace).Patch(ctx, cj.Name, types.MergePatchType,
			[]byte(`{"spec":{"suspend":true}}`), metav1.PatchOptions{FieldManager: "ferry", DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return "", fmt.Errorf("CronJob %s/%s: suspending it would fail: %w", c.cfg.Namespace, cj.Name, err)
		}
		held = append(held, cj.Name+" (to suspend)")
	}
	return "held until the migration completes: " + strings.Join(held, ", "), nil
}
