package main

import (
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

type bench struct {
	ferry, kubectl, kubeconfig, dir string
	replicas                        int
}

func main() {
	rounds := flag.Int("rounds", 5, "measured rounds of each operation")
	replicas := flag.Int("replicas", 400, "replicas of the Deployment")
	ferryBin := flag.String("ferry", "bin/ferry", "the ferry binary")
	flag.Parse()
	if err := run(*rounds, *replicas, *ferryBin); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(rounds, replicas int, ferryBin string) error {
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
	fmt.Fprintln(os.Stderr, "starting a local control plane with 10 fake nodes...")
	cluster, err := devcluster.Start(ctx, devcluster.Config{Dir: filepath.Join(dir, "cluster"), BinDir: binDir, Nodes: 10})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	ferryAbs, err := filepath.Abs(ferryBin)
	if err != nil {
		return err
	}
	b := &bench{ferry: ferryAbs, kubectl: filepath.Join(binDir, "kubectl"), kubeconfig: cluster.KubeconfigPath, dir: dir, replicas: replicas}
	if err := b.setup(); err != nil {
		return err
	}
	var ferryDeploy, kubectlDeploy, ferryRollback, kubectlRollback []time.Duration
	for i := range rounds + 1 {
		tag := fmt.Sprintf("v%d", i+2)
		// Alternate which tool goes first, so drift in the cluster favours neither.
		ops := []func() error{
			func() error { return measure(&ferryDeploy, i, func() error { return b.ferryDeploy(tag) }) },
			func() error { return measure(&kubectlDeploy, i, func() error { return b.kubectlDeploy(tag) }) },
		}
		if i%2 == 1 {
			slices.Reverse(ops)
		}
		ops = append(ops,
			func() error { return measure(&ferryRollback, i, b.ferryRollback) },
			func() error { return measure(&kubectlRollback, i, b.kubectlRollback) })
		if i%2 == 1 {
			ops[2], ops[3] = ops[3], ops[2]
		}
		for _, op := range ops {
			if err := op(); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", i, rounds)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "operation (%d replicas, median of %d)\tferry\tkubectl\tferry/kubectl\n", replicas, rounds)
	fmt.Fprintf(tw, "deploy until healthy\t%s\t%s\t%.2f\n", median(ferryDeploy), median(kubectlDeploy), ratio(ferryDeploy, kubectlDeploy))
	fmt.Fprintf(tw, "rollback until healthy\t%s\t%s\t%.2f\n", median(ferryRollback), median(kubectlRollback), ratio(ferryRollback, kubectlRollback))
	return tw.Flush()
}

// measure times fn and records it, except in round 0, which warms both sides up.
func measure(into *[]time.Duration, round int, fn func() error) error {
	start := time.Now()
	if err := fn(); err != nil {
		return err
	}
	if round > 0 {
		*into = append(*into, time.Since(start))
	}
	return nil
}

func (b *bench) setup() error {
	for _, ns := range []string{"ferry", "kubectl"} {
		if err := b.cmd(b.kubectl, "create", "namespace", ns); err != nil {
			return err
		}
	}
	appDir := filepath.Join(b.dir, "app")
	if err := os.MkdirAll(filepath.Join(appDir, "k8s"), 0o755); err != nil {
		return err
	}
	def := "app: web\nnamespace: ferry\nmanifests:\n  directory: k8s\nimage:\n  containers: [web]\nhealth:\n  timeout: 5m\n"
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

func (b *bench) write(ns, tag string) error {
	path := filepath.Join(b.dir, "app", "k8s", "web.yaml")
	if ns == "kubectl" {
		path = filepath.Join(b.dir, "kubectl.yaml")
	}
	return os.WriteFile(path, []byte(fmt.Sprintf(manifest, ns, b.replicas, tag)), 0o644)
}

func (b *bench) ferryDeploy(tag string) error {
	return b.cmd(b.ferry, "-f", filepath.Join(b.dir, "app", "ferry.yaml"), "deploy", "--image", "shop/web:"+tag)
}

func (b *bench) ferryRollback() error {
	return b.cmd(b.ferry, "-f", filepath.Join(b.dir, "app", "ferry.yaml"), "rollback")
}

func (b *bench) kubectlDeploy(tag string) error {
	if err := b.write("kubectl", tag); err != nil {
		return err
	}
	if err := b.cmd(b.kubectl, "apply", "-f", filepath.Join(b.dir, "kubectl.yaml")); err != nil {
		return err
	}
	return b.cmd(b.kubectl, "-n", "kubectl", "rollout", "status", "deployment/web", "--timeout=5m")
}

func (b *bench) kubectlRollback() error {
	if err := b.cmd(b.kubectl, "-n", "kubectl", "rollout", "undo", "deployment/web"); err != nil {
		return err
	}
	return b.cmd(b.kubectl, "-n", "kubectl", "rollout", "status", "deployment/web", "--timeout=5m")
}

func (b *bench) cmd(name string, args ...string) error {
	cmd := exec.Command(name, append([]string{"--kubeconfig", b.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

func ratio(a, b []time.Duration) float64 {
	return float64(median(a)) / float64(median(b))
}
