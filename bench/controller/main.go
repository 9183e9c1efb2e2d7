package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/devcluster"
)

// The goal of the issue, at goalSize Migrations.
const (
	goalSize   = 200
	goalP99    = time.Second
	goalMemory = 200 << 20
)

func main() {
	sizes := flag.String("sizes", "20,200", "numbers of Migrations run at once, one measurement each, comma-separated")
	ferryBin := flag.String("ferry", "bin/ferry", "the ferry binary, run as `ferry controller`")
	kubeconfig := flag.String("kubeconfig", "", "use the running cluster of this kubeconfig instead of starting one")
	timeout := flag.Duration("timeout", 10*time.Minute, "how long one size may take until all its Migrations completed")
	flag.Parse()
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -sizes: %q is not a positive number\n", s)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(ns, *ferryBin, *kubeconfig, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is one size's measurement.
type result struct {
	n                          int
	reconcileP50, reconcileP99 time.Duration
	queueP50, queueP99         time.Duration
	peakMemory                 int64 // bytes
	allCompleted               time.Duration
	medianMigration            time.Duration
	reconciles, errors         int64
}

func run(sizes []int, ferryBin, kubeconfig string, timeout time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ferry-bench-controller-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if kubeconfig == "" {
		binDir, err := devcluster.Binaries(ctx, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "starting a local control plane...")
		cluster, err := devcluster.Start(ctx, devcluster.Config{Dir: filepath.Join(dir, "cluster"), BinDir: binDir, Nodes: 1})
		if err != nil {
			return err
		}
		defer cluster.Stop()
		kubeconfig = cluster.KubeconfigPath
	}
	if kubeconfig, err = filepath.Abs(kubeconfig); err != nil {
		return err
	}
	ferryAbs, err := filepath.Abs(ferryBin)
	if err != nil {
		return err
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = 500, 1000 // the benchmark's own creates and watch must not queue
	if err := crd.Install(ctx, rc); err != nil {
		return err
	}
	kc, err := newClient(rc)
	if err != nil {
		return err
	}
	admin, err := startFakeAdmin()
	if err != nil {
		return err
	}
	defer admin.close()
	var results []result
	for _, n := range sizes {
		fmt.Fprintf(os.Stderr, "%d Migrations at once...\n", n)
		r, err := measure(ctx, kc, admin, measureConfig{n: n, ferry: ferryAbs, kubeconfig: kubeconfig, dir: dir, timeout: timeout})
		if err != nil {
			return fmt.Errorf("%d Migrations: %w", n, err)
		}
		fmt.Fprintf(os.Stderr, "%d Migrations completed after %s\n", n, r.allCompleted.Round(100*time.Millisecond))
		results = append(results, r)
	}
	return report(os.Stdout, results)
}

func newClient(rc *rest.Config) (client.WithWatch, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return client.NewWithWatch(rc, client.Options{Scheme: scheme})
}

type measureConfig struct {
	n                      int
	ferry, kubeconfig, dir string
	timeout                time.Duration
}

// measure runs n Migrations at once under a fresh controller process in a fresh
// namespace, deleted at the end.
func measure(ctx context.Context, kc client.WithWatch, admin *fakeAdmin, cfg measureConfig) (result, error) {
	res := result{n: cfg.n}
	nsName := fmt.Sprintf("bench-controller-%d-%d", os.Getpid(), cfg.n)
	if err := kc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName}}); err != nil {
		return res, fmt.Errorf("create namespace: %w", err)
	}
	defer func() {
		_ = kc.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName}})
	}()
	ctrlProc, err := startController(ctx, cfg, nsName)
	if err != nil {
		return res, err
	}
	defer ctrlProc.stop()

	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	var list v1alpha1.MigrationList
	w, err := kc.Watch(ctx, &list, client.InNamespace(nsName))
	if err != nil {
		return res, fmt.Errorf("watch Migrations: %w", err)
	}
	defer w.Stop()

	created := make([]time.Time, cfg.n)
	start := time.Now()
	if err := createAll(ctx, kc, admin, nsName, created); err != nil {
		return res, err
	}
	completed := map[string]time.Duration{}
	for len(completed) < cfg.n {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("only %d of %d Migrations completed within %s (controller log: %s)", len(completed), cfg.n, cfg.timeout, ctrlProc.logPath)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return res, errors.New("the watch of the Migrations ended")
			}
			m, isMig := ev.Object.(*v1alpha1.Migration)
			if !isMig || ev.Type == watch.Deleted {
				continue
			}
			switch m.Status.Phase {
			case v1alpha1.PhaseAborted:
				return res, fmt.Errorf("the Migration %s aborted: %s", m.Name, m.Status.AbortReason)
			case v1alpha1.PhaseCompleted:
				if _, seen := completed[m.Name]; !seen {
					i, _ := strconv.Atoi(strings.TrimPrefix(m.Name, "m"))
					completed[m.Name] = time.Since(created[i])
				}
			}
		}
	}
	res.allCompleted = time.Since(start)
	res.medianMigration = median(mapValues(completed))
	if res.peakMemory, err = ctrlProc.peakMemory(); err != nil {
		return res, err
	}
	metrics, err := ctrlProc.scrape(ctx)
	if err != nil {
		return res, err
	}
	reconcile := metrics.histogram("controller_runtime_reconcile_time_seconds", `controller="migration"`)
	queue := metrics.histogram("workqueue_queue_duration_seconds", `name="migration"`)
	res.reconcileP50, res.reconcileP99 = reconcile.quantile(0.5), reconcile.quantile(0.99)
	res.queueP50, res.queueP99 = queue.quantile(0.5), queue.quantile(0.99)
	res.reconciles = metrics.sum("controller_runtime_reconcile_total", `controller="migration"`)
	res.errors = metrics.sum("controller_runtime_reconcile_errors_total", `controller="migration"`)
	return res, nil
}

// createAll creates len(created) Migrations m0, m1, … as fast as the API server takes
// them and stamps when each was created.
func createAll(ctx context.Context, kc client.Client, admin *fakeAdmin, ns string, created []time.Time) error {
	const workers = 20
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				m := migration(ns, fmt.Sprintf("m%d", i), admin.url(ns, i))
				if err := kc.Create(ctx, m); err != nil {
					errs <- fmt.Errorf("create Migration %s: %w", m.Name, err)
					return
				}
				created[i] = time.Now()
			}
		})
	}
	var err error
feed:
	for i := range created {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// migration is the short plan of every Migration: steps 1, 5, 10, 50, 100 %, interval,
// warmup and holds of 1s, the final step judged with the default control.
func migration(ns, name, adminURL string) *v1alpha1.Migration {
	second := &metav1.Duration{Duration: time.Second}
	m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, w := range []string{"1", "5", "10", "50", "100"} {
		m.Spec.Steps = append(m.Spec.Steps, v1alpha1.Step{Weight: w, Hold: second})
	}
	m.Spec.Router.Proxy = &v1alpha1.ProxyRouter{Admin: adminURL}
	m.Spec.Metrics.Proxy = &v1alpha1.ProxyMetrics{}
	m.Spec.Interval, m.Spec.Warmup = second, second
	return m
}

// controllerProc is `ferry controller` running as a child process.
type controllerProc struct {
	cmd         *exec.Cmd
	metricsAddr string
	logPath     string
	exited      chan struct{}
}

func startController(ctx context.Context, cfg measureConfig, ns string) (*controllerProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.dir, fmt.Sprintf("controller-%d.log", cfg.n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.ferry, "controller", "--kubeconfig", cfg.kubeconfig, "--namespace", ns,
		"--metrics-addr", addr, "--health-addr", "0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start ferry controller: %w", err)
	}
	p := &controllerProc{cmd: cmd, metricsAddr: addr, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	// The child is up once its metrics endpoint answers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.scrape(ctx); err == nil {
			return p, nil
		}
		select {
		case <-p.exited:
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("ferry controller exited at start: %s", strings.TrimSpace(string(log)))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("ferry controller's metrics endpoint did not answer within 30s (log: %s)", logPath)
		}
	}
}

// stop ends the child with SIGTERM, or SIGKILL when it does not exit within 10s.
func (p *controllerProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// peakMemory is the child's peak resident set size (VmHWM).
func (p *controllerProc) peakMemory() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read the controller's peak memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("the controller's /proc status has no VmHWM")
}

func (p *controllerProc) scrape(ctx context.Context) (exposition, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.metricsAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics endpoint: %s", resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return exposition(strings.Split(string(data), "\n")), nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// exposition is the lines of a Prometheus text exposition.
type exposition []string

// samples returns the value and labels of every sample of metric whose labels contain
// match.
func (e exposition) samples(metric, match string) (labels []string, values []float64) {
	for _, line := range e {
		rest, ok := strings.CutPrefix(line, metric+"{")
		if !ok {
			continue
		}
		l, v, ok := strings.Cut(rest, "} ")
		if !ok || !strings.Contains(l, match) {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			continue
		}
		labels, values = append(labels, l), append(values, f)
	}
	return labels, values
}

func (e exposition) sum(metric, match string) int64 {
	_, values := e.samples(metric, match)
	var s float64
	for _, v := range values {
		s += v
	}
	return int64(s)
}

// bucket is one cumulative bucket of a histogram.
type bucket struct{ le, count float64 }

type histogram []bucket

func (e exposition) histogram(metric, match string) histogram {
	labels, values := e.samples(metric+"_bucket", match)
	var h histogram
	for i, l := range labels {
		_, le, ok := strings.Cut(l, `le="`)
		if !ok {
			continue
		}
		le, _, _ = strings.Cut(le, `"`)
		bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		if err != nil {
			continue
		}
		h = append(h, bucket{bound, values[i]})
	}
	slices.SortFunc(h, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	return h
}

// quantile interpolates linearly within the bucket that holds it, as Prometheus's
// histogram_quantile does; in the +Inf bucket it is the largest finite bound.
func (h histogram) quantile(q float64) time.Duration {
	if len(h) == 0 || h[len(h)-1].count == 0 {
		return 0
	}
	rank := q * h[len(h)-1].count
	lower, below := 0.0, 0.0
	for _, b := range h {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return seconds(lower)
			}
			return seconds(lower + (b.le-lower)*(rank-below)/(b.count-below))
		}
		lower, below = b.le, b.count
	}
	return seconds(lower)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func report(out io.Writer, results []result) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Migrations\treconcile p50\treconcile p99\tqueue wait p50\tqueue wait p99\tpeak memory\tall completed after\tmedian Migration\treconciles (errors)\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d (%d)\t\n", r.n, ms(r.reconcileP50), ms(r.reconcileP99), ms(r.queueP50), ms(r.queueP99),
			mib(r.peakMemory), r.allCompleted.Round(100*time.Millisecond), r.medianMigration.Round(100*time.Millisecond), r.reconciles, r.errors)
	}
	if len(results) > 1 {
		a, b := results[0], results[len(results)-1]
		fmt.Fprintf(tw, "%d / %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", b.n, a.n,
			ratio(b.reconcileP50, a.reconcileP50), ratio(b.reconcileP99, a.reconcileP99), ratio(b.queueP50, a.queueP50), ratio(b.queueP99, a.queueP99),
			ratio(b.peakMemory, a.peakMemory), ratio(b.allCompleted, a.allCompleted), ratio(b.medianMigration, a.medianMigration),
			ratio(b.reconciles, a.reconciles))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "(reconcile: one Reconcile call; queue wait: from due to picked up; both from controller-runtime's histograms,")
	fmt.Fprintln(out, " interpolated within buckets. Peak memory: VmHWM of the ferry controller process. Metrics are synthetic.)")
	for _, r := range results {
		if r.n != goalSize {
			continue
		}
		fmt.Fprintf(out, "goal at %d: reconcile p99 under %s: %s (%s); peak memory under %s: %s (%s)\n", goalSize,
			goalP99, ms(r.reconcileP99), met(r.reconcileP99 < goalP99), mib(goalMemory), mib(r.peakMemory), met(r.peakMemory < goalMemory))
	}
	return nil
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

func ratio[T time.Duration | int64](a, b T) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64) + "×"
}

func mapValues(m map[string]time.Duration) []time.Duration {
	var out []time.Duration
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
