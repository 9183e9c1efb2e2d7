package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"ferry.dev/ferry/internal/devcluster"
)

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 25%%, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: shop/web:%s
        resources: {requests: {cpu: 10m, memory: 16Mi}}
`

// Operations measured, in the order of the reports.
const (
	ferryDeploy     = "ferry deploy"
	kubectlDeploy   = "kubectl deploy"
	ferryRollback   = "ferry rollback"
	kubectlRollback = "kubectl rollback"
)

// Phases of every run, from the watch on the Deployment.
const (
	phaseBefore  = "before the change reached the API server"
	phaseRollout = "the cluster's rollout"
	phaseAfter   = "after it was rolled out, until exit"
	phaseTotal   = "total"
)

// ferryPhases name the stretches between ferry's progress lines: a phase ends when
// the line starting with its prefix arrives.
var ferryPhases = []struct{ prefix, name string }{
	{"==> ", "start: config, render, lint, lock, history"},
	{"  dry run:", "dry run"},
	{"  applying", "record the revision (pending)"},
	{"  waiting for", "apply"},
}

type bench struct {
	ferry, kubectl, kubeconfig, dir string
	replicas                        int
	client                          kubernetes.Interface
	// ns is the namespace of each tool's Deployment.
	ns map[string]string
	// times holds, per operation and phase, the duration of each measured run.
	times map[string]map[string][]time.Duration
	// warmUp is set in the first round, which is not measured.
	warmUp bool
}

func main() {
	rounds := flag.Int("rounds", 5, "measured rounds of each operation")
	replicas := flag.Int("replicas", 400, "replicas of the Deployment")
	ferryBin := flag.String("ferry", "bin/ferry", "the ferry binary")
	kubeconfig := flag.String("kubeconfig", "", "use the running cluster of this kubeconfig instead of starting one")
	flag.Parse()
	if err := run(*rounds, *replicas, *ferryBin, *kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(rounds, replicas int, ferryBin, kubeconfig string) error {
	ctx := context.Background()
	binDir, err := devcluster.Binaries(ctx, os.Stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ferry-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns := map[string]string{"ferry": "ferry", "kubectl": "kubectl"}
	if kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "starting a local control plane with 10 fake nodes...")
		cluster, err := devcluster.Start(ctx, devcluster.Config{Dir: filepath.Join(dir, "cluster"), BinDir: binDir, Nodes: 10})
		if err != nil {
			return err
		}
		defer cluster.Stop()
		kubeconfig = cluster.KubeconfigPath
	} else {
		suffix := fmt.Sprintf("-bench-%d", os.Getpid())
		ns = map[string]string{"ferry": "ferry" + suffix, "kubectl": "kubectl" + suffix}
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	ferryAbs, err := filepath.Abs(ferryBin)
	if err != nil {
		return err
	}
	b := &bench{ferry: ferryAbs, kubectl: filepath.Join(binDir, "kubectl"), kubeconfig: kubeconfig, dir: dir, replicas: replicas,
		client: client, ns: ns, times: map[string]map[string][]time.Duration{}}
	defer b.deleteNamespaces()
	if err := b.setup(); err != nil {
		return err
	}
	for i := range rounds + 1 {
		b.warmUp = i == 0
		tag := fmt.Sprintf("v%d", i+2)
		// Alternate which tool goes first, so drift in the cluster favours neither.
		ops := []func() error{
			func() error { return b.measure(ferryDeploy, "ferry", func() error { return b.ferryDeploy(tag) }) },
			func() error { return b.measure(kubectlDeploy, "kubectl", func() error { return b.kubectlDeploy(tag) }) },
		}
		rollbacks := []func() error{
			func() error { return b.measure(ferryRollback, "ferry", b.ferryRollback) },
			func() error { return b.measure(kubectlRollback, "kubectl", b.kubectlRollback) },
		}
		if i%2 == 1 {
			slices.Reverse(ops)
			slices.Reverse(rollbacks)
		}
		for _, op := range append(ops, rollbacks...) {
			if err := op(); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", i, rounds)
	}
	return b.report(rounds)
}

// measure runs fn, an operation on tool's Deployment, and records its phases, except
// in the warm-up round.
func (b *bench) measure(op, tool string, fn func() error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stamped, err := b.watch(ctx, b.ns[tool])
	if err != nil {
		return err
	}
	start := time.Now()
	if err := fn(); err != nil {
		return err
	}
	end := time.Now()
	var s stamps
	select {
	case s = <-stamped:
	case <-time.After(10 * time.Second):
	}
	if s.changed.IsZero() || s.rolledOut.IsZero() {
		return fmt.Errorf("%s: the watch did not see the Deployment change and roll out", op)
	}
	b.record(op, phaseBefore, s.changed.Sub(start))
	b.record(op, phaseRollout, s.rolledOut.Sub(s.changed))
	b.record(op, phaseAfter, end.Sub(s.rolledOut))
	b.record(op, phaseTotal, end.Sub(start))
	return nil
}

// stamps are when a Deployment's spec changed and when it was then rolled out.
type stamps struct{ changed, rolledOut time.Time }

// watch stamps the Deployment web in namespace and sends the stamps once it is rolled
// out (or, incomplete, when ctx ends).
func (b *bench) watch(ctx context.Context, namespace string) (<-chan stamps, error) {
	deployments := b.client.AppsV1().Deployments(namespace)
	d, err := deployments.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	w, err := deployments.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web", ResourceVersion: d.ResourceVersion})
	if err != nil {
		return nil, err
	}
	out := make(chan stamps, 1)
	go func() {
		defer w.Stop()
		var s stamps
		defer func() { out <- s }()
		for e := range w.ResultChan() {
			d2, ok := e.Object.(*appsv1.Deployment)
			if !ok || d2.Generation <= d.Generation {
				continue
			}
			if s.changed.IsZero() {
				s.changed = time.Now()
			}
			if rolledOut(d2) {
				s.rolledOut = time.Now()
				return
			}
		}
	}()
	return out, nil
}

// rolledOut is kubectl rollout status's test.
func rolledOut(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
}

func (b *bench) record(op, phase string, d time.Duration) {
	if b.warmUp {
		return
	}
	if b.times[op] == nil {
		b.times[op] = map[string][]time.Duration{}
	}
	b.times[op][phase] = append(b.times[op][phase], d)
}

func (b *bench) report(rounds int) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "operation (%d replicas, median of %d)\tferry\tkubectl\tferry/kubectl\n", b.replicas, rounds)
	for _, op := range [][2]string{{"deploy", ferryDeploy}, {"rollback", ferryRollback}} {
		ferry, kubectl := b.times[op[1]][phaseTotal], b.times["kubectl "+op[0]][phaseTotal]
		fmt.Fprintf(tw, "%s until healthy\t%s\t%s\t%.2f\n", op[0], median(ferry), median(kubectl), float64(median(ferry))/float64(median(kubectl)))
	}
	fmt.Fprintf(tw, "\nwhere the time goes (medians)\t%s\t%s\t%s\t%s\n", ferryDeploy, kubectlDeploy, ferryRollback, kubectlRollback)
	for _, phase := range []string{phaseBefore, phaseRollout, phaseAfter} {
		fmt.Fprintf(tw, "%s", phase)
		for _, op := range []string{ferryDeploy, kubectlDeploy, ferryRollback, kubectlRollback} {
			fmt.Fprintf(tw, "\t%s", median(b.times[op][phase]))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "\nferry before the change (medians)\tdeploy\trollback\n")
	for _, p := range ferryPhases {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.name, median(b.times[ferryDeploy][p.name]), median(b.times[ferryRollback][p.name]))
	}
	return tw.Flush()
}

func (b *bench) setup() error {
	for _, ns := range b.ns {
		if err := b.cmd(b.kubectl, "create", "namespace", ns); err != nil {
			return err
		}
	}
	appDir := filepath.Join(b.dir, "app")
	if err := os.MkdirAll(filepath.Join(appDir, "k8s"), 0o755); err != nil {
		return err
	}
	def := fmt.Sprintf("app: web\nnamespace: %s\nmanifests:\n  directory: k8s\nimage:\n  containers: [web]\nhealth:\n  timeout: 5m\n", b.ns["ferry"])
	if err := os.WriteFile(filepath.Join(appDir, "ferry.yaml"), []byte(def), 0o644); err != nil {
		return err
	}
	if err := b.write("kubectl", "v1"); err != nil {
		return err
	}
	if err := b.write("ferry", "v1"); err != nil {
		return err
	}
	if err := b.ferryDeploy("v1"); err != nil {
		return err
	}
	return b.kubectlDeploy("v1")
}

func (b *bench) deleteNamespaces() {
	for _, ns := range b.ns {
		_ = b.client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	}
}

func (b *bench) write(tool, tag string) error {
	path := filepath.Join(b.dir, "app", "k8s", "web.yaml")
	if tool == "kubectl" {
		path = filepath.Join(b.dir, "kubectl.yaml")
	}
	return os.WriteFile(path, []byte(fmt.Sprintf(manifest, b.ns[tool], b.replicas, tag)), 0o644)
}

func (b *bench) ferryDeploy(tag string) error {
	return b.ferryCmd(ferryDeploy, "-f", filepath.Join(b.dir, "app", "ferry.yaml"), "deploy", "--image", "shop/web:"+tag)
}

func (b *bench) ferryRollback() error {
	return b.ferryCmd(ferryRollback, "-f", filepath.Join(b.dir, "app", "ferry.yaml"), "rollback")
}

// ferryCmd runs ferry and records the phases its progress lines mark on stderr.
func (b *bench) ferryCmd(op string, args ...string) error {
	var out stampedLines
	start := time.Now()
	if err := b.run(&out, b.ferry, args...); err != nil {
		return err
	}
	last, next := start, 0
	for _, l := range out.lines {
		if next < len(ferryPhases) && strings.HasPrefix(l.text, ferryPhases[next].prefix) {
			b.record(op, ferryPhases[next].name, l.at.Sub(last))
			last = l.at
			next++
		}
	}
	return nil
}

func (b *bench) kubectlDeploy(tag string) error {
	if err := b.write("kubectl", tag); err != nil {
		return err
	}
	if err := b.cmd(b.kubectl, "apply", "-f", filepath.Join(b.dir, "kubectl.yaml")); err != nil {
		return err
	}
	return b.cmd(b.kubectl, "-n", b.ns["kubectl"], "rollout", "status", "deployment/web", "--timeout=5m")
}

func (b *bench) kubectlRollback() error {
	if err := b.cmd(b.kubectl, "-n", b.ns["kubectl"], "rollout", "undo", "deployment/web"); err != nil {
		return err
	}
	return b.cmd(b.kubectl, "-n", b.ns["kubectl"], "rollout", "status", "deployment/web", "--timeout=5m")
}

func (b *bench) cmd(name string, args ...string) error {
	var out stampedLines
	return b.run(&out, name, args...)
}

func (b *bench) run(out *stampedLines, name string, args ...string) error {
	cmd := exec.Command(name, append([]string{"--kubeconfig", b.kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.text())
	}
	return nil
}

// stampedLines keeps a process's output as lines stamped with when they arrived.
type stampedLines struct {
	lines   []stampedLine
	partial []byte
}

type stampedLine struct {
	at   time.Time
	text string
}

func (s *stampedLines) Write(p []byte) (int, error) {
	now := time.Now()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		s.lines = append(s.lines, stampedLine{at: now, text: string(s.partial[:i])})
		s.partial = s.partial[i+1:]
	}
}

func (s *stampedLines) text() string {
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(l.text + "\n")
	}
	b.Write(s.partial)
	return b.String()
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}
