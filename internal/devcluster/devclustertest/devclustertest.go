package devclustertest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"ferry.dev/ferry/internal/devcluster"
)

// EnvKubeconfig names the variable that points tests at an already running cluster.
const EnvKubeconfig = "FERRY_TEST_KUBECONFIG"

// Main starts a control plane unless EnvKubeconfig is set, runs the tests, stops the
// control plane and exits. Interrupts stop the control plane before the process ends;
// a crash takes the components with it (see devcluster).
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(EnvKubeconfig) != "" {
		return m.Run()
	}
	ctx := context.Background()
	bin, err := devcluster.Binaries(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devclustertest:", err)
		return 1
	}
	base := filepath.Join(devcluster.CacheDir(), "test-clusters")
	removeStale(base)
	if err := os.MkdirAll(base, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "devclustertest:", err)
		return 1
	}
	dir, err := os.MkdirTemp(base, strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "devclustertest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cluster, err := devcluster.Start(ctx, devcluster.Config{Dir: dir, BinDir: bin})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devclustertest: start control plane:", err)
		return 1
	}
	defer cluster.Stop()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		cluster.Stop()
		os.RemoveAll(dir)
		os.Exit(130)
	}()
	os.Setenv(EnvKubeconfig, cluster.KubeconfigPath)
	return m.Run()
}

// removeStale removes run directories of test binaries that are no longer alive; their
// components died with them.
func removeStale(base string) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.SplitN(e.Name(), "-", 2)[0])
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue
		}
		os.RemoveAll(filepath.Join(base, e.Name()))
	}
}

// Kubeconfig returns the path of the test cluster's admin kubeconfig.
func Kubeconfig(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		tb.Fatal("no test cluster: call devclustertest.Main from TestMain")
	}
	return path
}

// RESTConfig returns an admin client configuration for the test cluster, with client
// rate limits raised for rollouts of hundreds of pods.
func RESTConfig(tb testing.TB) *rest.Config {
	tb.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", Kubeconfig(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	return cfg
}
