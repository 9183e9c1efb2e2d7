package devcluster

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Defaults for Config.
const (
	DefaultNodes         = 10
	DefaultPodReadyDelay = 500 * time.Millisecond
	DefaultStartTimeout  = 90 * time.Second

	// SimulateAnnotation on a pod (or a pod template) makes kwok fail it: the value
	// "crashloop" keeps it Running but never Ready; "fail" ends it with exit code 1.
	SimulateAnnotation = "ferry.dev/simulate"

	// ContextName is the kubeconfig context of the local control plane.
	ContextName = "ferry-dev"

	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

//go:embed kwok-stages.yaml
var kwokStages string

// Config says where and how to run a control plane.
type Config struct {
	// Dir holds the run's certificates, etcd data, logs and kubeconfig. Required.
	Dir string
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
	// kwok (see Binaries). Required.
	BinDir string
	// Nodes is the number of fake nodes (each 16 CPU, 64 GiB, 110 pods).
	Nodes int
	// PodReadyDelay is how long a scheduled pod stays Pending before it turns Ready.
	PodReadyDelay time.Duration
	// StartTimeout bounds the whole start.
	StartTimeout time.Duration
	// Progress receives one line per start step; nil discards them.
	Progress io.Writer
}

// Cluster is a running control plane. Stop it with Stop.
type Cluster struct {
	cfg        Config
	spawner    *spawner
	components []*component
	restConfig *rest.Config
	// KubeconfigPath is the path of a self-contained admin kubeconfig.
	KubeconfigPath string
	// Server is the API server's URL.
	Server string
}

// RESTConfig returns a copy of the admin client configuration, with rate limits
// raised for rollouts of hundreds of pods.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// PIDs returns the process IDs of the running components.
func (c *Cluster) PIDs() map[string]int {
	pids := map[string]int{}
	for _, comp := range c.components {
		if comp.running() {
			pids[comp.name] = comp.cmd.Process.Pid
		}
	}
	return pids
}

// Start starts etcd, the API server, the controller manager, the scheduler and kwok,
// creates the fake nodes and returns once they are Ready. On error nothing is left
// running.
func Start(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	if cfg.Dir == "" || cfg.BinDir == "" {
		return nil, errors.New("devcluster: Dir and BinDir are required")
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()

	c := &Cluster{cfg: cfg, spawner: newSpawner()}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	certs, p, err := c.prepare()
	if err != nil {
		return nil, err
	}
	client, err := c.startAPIServer(ctx, certs, p)
	if err != nil {
		return nil, err
	}
	step := time.Now()
	if err := c.startControllers(certs, p); err != nil {
		return nil, err
	}
	if err := c.startNodes(ctx, client); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Progress, "controller-manager, scheduler and kwok ready with %d nodes in %s\n", cfg.Nodes, time.Since(step).Round(100*time.Millisecond))
	return c, nil
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Nodes <= 0 {
		cfg.Nodes = DefaultNodes
	}
	if cfg.PodReadyDelay <= 0 {
		cfg.PodReadyDelay = DefaultPodReadyDelay
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	return cfg
}

// ports are the loopback ports of one control plane's components.
type ports struct {
	etcdClient, etcdPeer, etcdMetrics int
	apiserver                         int
	controllerManager                 int
	scheduler                         int
	kwok                              int
}

// freeComponentPorts picks a free port for every component.
func freeComponentPorts() (ports, error) {
	free, err := freePorts(7)
	if err != nil {
		return ports{}, err
	}
	return ports{
		etcdClient: free[0], etcdPeer: free[1], apiserver: free[2],
		controllerManager: free[3], scheduler: free[4], kwok: free[5], etcdMetrics: free[6],
	}, nil
}

// prepare lays out the run directory: certificates, ports and the admin kubeconfig.
func (c *Cluster) prepare() (*pki, ports, error) {
	for _, d := range []string{"logs", "etcd"} {
		if err := os.MkdirAll(filepath.Join(c.cfg.Dir, d), 0o700); err != nil {
			return nil, ports{}, fmt.Errorf("create run directory: %w", err)
		}
	}
	certs, err := newPKI(filepath.Join(c.cfg.Dir, "pki"))
	if err != nil {
		return nil, ports{}, fmt.Errorf("generate certificates: %w", err)
	}
	p, err := freeComponentPorts()
	if err != nil {
		return nil, ports{}, err
	}
	c.Server = "https://127.0.0.1:" + strconv.Itoa(p.apiserver)
	if err := c.writeKubeconfig(certs); err != nil {
		return nil, ports{}, fmt.Errorf("write kubeconfig: %w", err)
	}
	return certs, p, nil
}

// startAPIServer starts etcd and kube-apiserver and returns a client once the API
// server is ready.
func (c *Cluster) startAPIServer(ctx context.Context, certs *pki, p ports) (kubernetes.Interface, error) {
	step := time.Now()
	fmt.Fprintf(c.cfg.Progress, "starting etcd and kube-apiserver on %s\n", c.Server)
	if err := c.run("etcd", etcdArgs(c.cfg.Dir, p.etcdClient, p.etcdPeer, p.etcdMetrics)...); err != nil {
		return nil, err
	}
	if err := c.run("kube-apiserver", apiserverArgs(certs, p.etcdClient, p.apiserver)...); err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(c.restConfig)
	if err != nil {
		return nil, fmt.Errorf("build client: %w", err)
	}
	if err := c.waitFor(ctx, "kube-apiserver /readyz", func(ctx context.Context) error {
		return client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(c.cfg.Progress, "kube-apiserver ready in %s\n", time.Since(step).Round(100*time.Millisecond))
	return client, nil
}

// startControllers starts kube-controller-manager, kube-scheduler and kwok.
func (c *Cluster) startControllers(certs *pki, p ports) error {
	stagesPath := filepath.Join(c.cfg.Dir, "kwok.yaml")
	stages := strings.ReplaceAll(kwokStages, "__POD_READY_DELAY_MS__", strconv.FormatInt(c.cfg.PodReadyDelay.Milliseconds(), 10))
	if err := os.WriteFile(stagesPath, []byte(stages), 0o600); err != nil {
		return fmt.Errorf("write kwok stages: %w", err)
	}
	schedulerConfig, err := c.writeSchedulerConfig()
	if err != nil {
		return fmt.Errorf("write scheduler config: %w", err)
	}
	for _, s := range []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", controllerManagerArgs(certs, c.KubeconfigPath, p.controllerManager)},
		{"kube-scheduler", []string{"--config=" + schedulerConfig, "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(p.scheduler)}},
		{"kwok", []string{
			"--kubeconfig=" + c.KubeconfigPath, "--config=" + stagesPath,
			"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
			"--server-address=127.0.0.1:" + strconv.Itoa(p.kwok),
			"--cidr=10.244.0.0/16", "--node-ip=10.255.0.1",
		}},
	} {
		if err := c.run(s.name, s.args...); err != nil {
			return err
		}
	}
	return nil
}

// startNodes creates the fake nodes and waits until they are Ready and the controller
// manager has made the default service account.
func (c *Cluster) startNodes(ctx context.Context, client kubernetes.Interface) error {
	fmt.Fprintf(c.cfg.Progress, "creating %d fake nodes\n", c.cfg.Nodes)
	if err := createNodes(ctx, client, c.cfg.Nodes); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "fake nodes Ready", func(ctx context.Context) error {
		return nodesReady(ctx, client, c.cfg.Nodes)
	}); err != nil {
		return err
	}
	return c.waitFor(ctx, "kube-controller-manager (default service account)", func(ctx context.Context) error {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1GetOptions)
		return err
	})
}

// Stop stops every component, newest first, and waits for them to exit. It is safe
// to call more than once.
func (c *Cluster) Stop() {
	for i := len(c.components) - 1; i >= 0; i-- {
		c.components[i].stop(10 * time.Second)
	}
	c.spawner.close()
}

// Exited returns the first component that exited on its own, or nil.
func (c *Cluster) Exited() error {
	for _, comp := range c.components {
		if !comp.running() {
			return comp.exitError()
		}
	}
	return nil
}

// run starts the named binary from BinDir with its output in logs/<name>.log.
func (c *Cluster) run(name string, args ...string) error {
	logPath := filepath.Join(c.cfg.Dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(c.cfg.BinDir, name), args...)
	cmd.Dir = c.cfg.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := c.spawner.start(cmd); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	comp := &component{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go comp.wait()
	c.components = append(c.components, comp)
	return nil
}

// waitFor polls check until it succeeds, a component dies, or ctx ends.
func (c *Cluster) waitFor(ctx context.Context, what string, check func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := c.Exited(); err != nil {
			return err
		}
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := check(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w: %w", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (c *Cluster) writeKubeconfig(certs *pki) error {
	c.KubeconfigPath = filepath.Join(c.cfg.Dir, "kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthority: certs.CACert}
	cfg.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{ClientCertificate: certs.AdminCert, ClientKey: certs.AdminKey}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName, Namespace: "default"}
	cfg.CurrentContext = ContextName
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*cfg, c.KubeconfigPath); err != nil {
		return err
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = 500, 1000
	c.restConfig = rc
	return nil
}

func (c *Cluster) writeSchedulerConfig() (string, error) {
	path := filepath.Join(c.cfg.Dir, "scheduler.yaml")
	content := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: 1000
  burst: 2000
leaderElection:
  leaderElect: false
`, c.KubeconfigPath)
	return path, os.WriteFile(path, []byte(content), 0o600)
}

func etcdArgs(dir string, client, peer, metrics int) []string {
	clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	return []string{
		"--name=ferry", "--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + clientURL, "--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=ferry=" + peerURL,
		"--listen-metrics-urls=http://127.0.0.1:" + strconv.Itoa(metrics),
		// A throwaway cluster: durability buys nothing and fsync costs seconds.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
}

func apiserverArgs(certs *pki, etcdPort, port int) []string {
	return []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(etcdPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + certs.ServingCert, "--tls-private-key-file=" + certs.ServingKey,
		"--client-ca-file=" + certs.CACert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + certs.SAPublic,
		"--service-account-signing-key-file=" + certs.SAPrivate,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000",
		"--endpoint-reconciler-type=none",
		"--v=1",
	}
}

func controllerManagerArgs(certs *pki, kubeconfig string, port int) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		// Tokens come from the TokenRequest API; the legacy token controller is not needed.
		"--controllers=*,-serviceaccount-token",
		"--leader-elect=false",
		"--root-ca-file=" + certs.CACert,
		"--service-account-private-key-file=" + certs.SAPrivate,
		"--cluster-signing-cert-file=" + certs.CACert, "--cluster-signing-key-file=" + certs.CAKey,
		"--service-cluster-ip-range=" + serviceCIDR,
		// The defaults (20/30) make rollouts of hundreds of pods crawl.
		"--kube-api-qps=1000", "--kube-api-burst=2000",
		"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
		"--concurrent-job-syncs=10", "--concurrent-endpoint-syncs=10",
		"--concurrent-service-endpoint-syncs=10",
		"--v=1",
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
