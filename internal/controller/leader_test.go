package controller_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
	"ferry.dev/ferry/internal/traffic/fleet/fleettest"
)

// envControllerNamespace, set, makes TestControllerProcess run a controller with
// leader election in that namespace: the leader-election tests start this test
// binary again in that mode, as real processes they can kill.
const envControllerNamespace = "FERRY_TEST_CONTROLLER_NAMESPACE"

// The election of the leader-election tests: a killed leader blocks the others for
// testLease at most.
const (
	testLease = 6 * time.Second
	testRenew = 4 * time.Second
	testRetry = time.Second
)

func TestControllerProcess(t *testing.T) {
	ns := os.Getenv(envControllerNamespace)
	if ns == "" {
		t.Skip("the controller process of the leader-election tests, which start it")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := controller.Run(ctx, devclustertest.RESTConfig(t), controller.Config{
		Namespace: ns, LeaderElect: true, LeaderElectionNamespace: ns, MetricsAddr: "0", HealthAddr: "0",
		LeaseDuration: testLease, RenewDeadline: testRenew, RetryPeriod: testRetry,
		Kube: kube.Options{Kubeconfig: devclustertest.Kubeconfig(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// controllerProcess is this test binary running TestControllerProcess.
type controllerProcess struct {
	name string
	cmd  *exec.Cmd
	log  string
}

// startController starts a controller process for the namespace; its output goes to
// a file, shown when the test fails.
func startController(t *testing.T, ns, name string) *controllerProcess {
	t.Helper()
	p := &controllerProcess{name: name, log: filepath.Join(t.TempDir(), name+".log")}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestControllerProcess$", "-test.v")
	p.cmd.Env = append(os.Environ(), envControllerNamespace+"="+ns)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.kill()
		out.Close()
		if t.Failed() {
			data, _ := os.ReadFile(p.log)
			t.Logf("controller %s:\n%s", name, tail(data, 40))
		}
	})
	return p
}

// kill ends the process with SIGKILL: no lease released, nothing cleaned up.
func (p *controllerProcess) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func tail(data []byte, lines int) []byte {
	all := bytes.Split(data, []byte("\n"))
	return bytes.Join(all[max(0, len(all)-lines):], []byte("\n"))
}

// waitLease watches the controllers' Lease until until holds for it.
func (f *fleetEnv) waitLease(t *testing.T, timeout time.Duration, until func(*coordinationv1.Lease) bool) *coordinationv1.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	w, err := f.kube.CoordinationV1().Leases(f.ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + controller.LeaderElectionID})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if l, ok := ev.Object.(*coordinationv1.Lease); ok && ev.Type != watch.Deleted && until(l) {
			return l
		}
	}
	t.Fatalf("the Lease %s never reached the state waited for within %s", controller.LeaderElectionID, timeout)
	return nil
}

func holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// election starts controller a, waits until it leads, then starts b, which waits.
func (f *fleetEnv) election(t *testing.T) (leader *controllerProcess, identity string) {
	t.Helper()
	a := startController(t, f.ns, "a")
	l := f.waitLease(t, time.Minute, func(l *coordinationv1.Lease) bool { return holder(l) != "" })
	startController(t, f.ns, "b")
	return a, holder(l)
}

// killLeader kills the leader and checks that the other process takes the Lease
// over once it has expired, and no sooner: after one lease duration from the last
// renewal, and within a few retries after that.
func (f *fleetEnv) killLeader(t *testing.T, leader *controllerProcess, identity string) {
	t.Helper()
	before, err := f.kube.CoordinationV1().Leases(f.ns).Get(context.Background(), controller.LeaderElectionID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leader.kill()
	// The renewal read before the kill, or one made just before it.
	lastRenew := before.Spec.RenewTime.Time
	l := f.waitLease(t, 3*testLease, func(l *coordinationv1.Lease) bool {
		if holder(l) == identity && l.Spec.RenewTime != nil {
			lastRenew = l.Spec.RenewTime.Time
		}
		return holder(l) != identity && holder(l) != ""
	})
	took := l.Spec.AcquireTime.Sub(lastRenew)
	if took < testLease {
		t.Errorf("the Lease was taken over %s after the killed leader's last renewal, before it expired (%s)", took, testLease)
	}
	// The follower sees a renewal up to a retry late, tries a retry apart (both with
	// 20 % jitter), and each try is a call to a busy API server: four retries of slack.
	if limit := testLease + 4*testRetry; took > limit {
		t.Errorf("the Lease was taken over %s after the killed leader's last renewal, want within %s (the lease, %s, and the retries)", took, limit, testLease)
	}
}

// migrationSteps returns a watch callback that records every step a Migration's
// status shows, failing on a step skipped or gone back to.
func migrationSteps(t *testing.T) (record func(*v1alpha1.Migration), seen *[]int32) {
	var steps []int32
	return func(m *v1alpha1.Migration) {
		s := m.Status.CurrentStep
		if s == 0 {
			return
		}
		if n := len(steps); n == 0 || steps[n-1] != s {
			if n > 0 && s != steps[n-1]+1 {
				t.Errorf("the Migration went from step %d to step %d", steps[n-1], s)
			}
			steps = append(steps, s)
		}
	}, &steps
}

// walkedUpTo checks each replica was set only to the plan's weights, in order,
// none skipped, up to highest and no further; when aborted, it was then set to 0 %
// and to nothing after.
func (f *fleetEnv) walkedUpTo(t *testing.T, plan []string, highest string, aborted bool) {
	t.Helper()
	want := plan[:slices.Index(plan, highest)+1]
	for _, r := range f.replicas {
		got := history(r)
		walk := slices.Compact(slices.Clone(got))
		if aborted {
			if len(walk) == 0 || walk[len(walk)-1] != "0%" {
				t.Errorf("%s was set to %v, want it to end at 0%%", r.Name, got)
				continue
			}
			walk = walk[:len(walk)-1]
		}
		if !slices.Equal(walk, want) {
			t.Errorf("%s was set to %v, want %v in turn: each step once, none skipped, none above %s", r.Name, got, want, highest)
		}
	}
}

func TestLeaderKilledMidStep(t *testing.T) {
	t.Parallel()
	f := newFleetEnv(t, false)
	f.addReplica(t, "proxy-a")
	f.addReplica(t, "proxy-b")
	leader, identity := f.election(t)
	// The weights set in turn: the last step is judged at 75 % beside its control.
	plan := []string{"5%", "10%", "50%", "75%", "100%"}
	if err := f.client.Create(context.Background(), f.migration("shop", "5/1s", "10/3s", "50/1s", "100/1s")); err != nil {
		t.Fatal(err)
	}
	record, steps := migrationSteps(t)
	killed := false
	m := f.waitMigration(t, "shop", 5*time.Minute, func(m *v1alpha1.Migration) bool {
		record(m)
		if !killed && m.Status.CurrentStep == 2 && m.Status.AppliedWeight == "10%" {
			killed = true
			f.killLeader(t, leader, identity)
		}
		return done(m)
	})
	if !killed {
		t.Fatal("the migration ended before the leader could be killed at its second step")
	}
	if m.Status.Phase != v1alpha1.PhaseCompleted {
		t.Fatalf("ended %s (%s), want Completed by the new leader", m.Status.Phase, m.Status.AbortReason)
	}
	if !slices.Equal(*steps, []int32{1, 2, 3, 4}) {
		t.Errorf("steps seen %v, want each of 1 to 4 in turn", *steps)
	}
	f.walkedUpTo(t, plan, "100%", false)
}

func TestLeaderKilledMidAbort(t *testing.T) {
	t.Parallel()
	f := newFleetEnv(t, false)
	f.addReplica(t, "proxy-a")
	f.addReplica(t, "proxy-b")
	leader, identity := f.election(t)
	// The weights set in turn: the last step is judged at 75 % beside its control.
	plan := []string{"5%", "10%", "50%", "75%", "100%"}
	if err := f.client.Create(context.Background(), f.migration("shop", "5/1s", "10/1h", "50/1s", "100/1s")); err != nil {
		t.Fatal(err)
	}
	record, _ := migrationSteps(t)
	f.waitMigration(t, "shop", 2*time.Minute, func(m *v1alpha1.Migration) bool {
		record(m)
		return m.Status.CurrentStep == 2 && m.Status.AppliedWeight == "10%"
	})
	// A replica that cannot be reached keeps the abort from finishing: the leader
	// retries it, and is killed in the middle of it.
	fleettest.Publish(t, f.kube, f.ns, fleetService, "proxy-gone", fleettest.Unreachable(t))
	store := kubestore.New(kubestore.Config{Client: f.client, Key: types.NamespacedName{Namespace: f.ns, Name: "shop"}})
	st, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	abort := migrate.Request{ID: "abort-1", Action: "abort", Reason: "stopped by the test", Run: st.Run, At: time.Now()}
	if err := store.PutRequest(context.Background(), abort); err != nil {
		t.Fatal(err)
	}
	f.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool {
		record(m)
		return m.Status.AbortReason != "" && m.Status.TargetWeight == "0%"
	})
	f.killLeader(t, leader, identity)
	fleettest.Withdraw(t, f.kube, f.ns, fleetService, "proxy-gone")
	m := f.waitMigration(t, "shop", 2*time.Minute, func(m *v1alpha1.Migration) bool {
		record(m)
		return done(m)
	})
	if m.Status.Phase != v1alpha1.PhaseAborted || m.Status.AppliedWeight != "0%" || m.Status.AbortReason != "stopped by the test" {
		t.Fatalf("ended %s with %s applied (%q), want Aborted at 0%% by the new leader", m.Status.Phase, m.Status.AppliedWeight, m.Status.AbortReason)
	}
	if got := f.shares(t); !slices.Equal(got, []string{"0%", "0%"}) {
		t.Errorf("after the abort the replicas send %v to kubernetes, want 0%%", got)
	}
	f.walkedUpTo(t, plan, "10%", true)
}
