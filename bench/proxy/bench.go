package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// bench holds the run's state: its directory and the processes it started.
type bench struct {
	o      options
	dir    string
	self   string
	ferry  string
	out    io.Writer
	procs  []*proc
	result map[string]wrkResult
}

// proc is a process the benchmark started, in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// wrkResult is what one wrk run measured.
type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
	detail   string // wrk's error lines, if any
	// cpuPerReq is the proxy's CPU time (user + system) per request: unlike the rate,
	// it hardly moves when other processes compete for the CPU.
	cpuPerReq time.Duration
}

func (b *bench) run() error {
	backendPort := freePort()
	if _, err := b.spawn("backend", b.o.loadCPU, []string{"GOMAXPROCS=1"}, b.self, "backend",
		"-listen", fmt.Sprintf("127.0.0.1:%d", backendPort), "-kind", b.o.backendKind); err != nil {
		return err
	}
	if err := waitPort(backendPort); err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	fmt.Fprintf(b.out, "wrk -t1 -c%d -d%s on CPU %s; backend (%s, GOMAXPROCS=1) on CPU %s; proxies on CPU %s (ferry GOMAXPROCS=1, HAProxy nbthread 1, nginx 1 worker)\n\n",
		b.o.connections, b.o.duration, b.o.loadCPU, b.o.backendKind, b.o.loadCPU, b.o.proxyCPU)
	// Rounds interleave the contenders so that load from other processes on the
	// machine hits them alike; each keeps its best round.
	b.result = map[string]wrkResult{}
	skipped := map[string]bool{}
	for round := 0; round < b.o.runs; round++ {
		for _, c := range contenders(b.o.only) {
			if skipped[c.name] {
				continue
			}
			res, err := b.measure(c, backendPort)
			if err != nil {
				fmt.Fprintf(b.out, "%s: skipped: %v\n", c.name, err)
				skipped[c.name] = true
				continue
			}
			if res.rps > b.result[c.name].rps {
				b.result[c.name] = res
			}
		}
	}
	b.table()
	if b.o.memConns > 0 {
		b.memory(backendPort)
		b.idleMemory(backendPort)
	}
	return nil
}

// measure starts a contender, warms it up and runs wrk against it once.
func (b *bench) measure(c contender, backendPort int) (wrkResult, error) {
	port := backendPort
	if c.start != nil {
		port = freePort()
		p, err := c.start(b, port, backendPort)
		if err != nil {
			return wrkResult{}, err
		}
		defer b.stop(p)
		if err := waitPort(port); err != nil {
			return wrkResult{}, fmt.Errorf("%w; its output: %s", err, strings.TrimSpace(p.logs.String()))
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if _, err := b.wrk(url, b.o.connections, b.o.warmup); err != nil {
		return wrkResult{}, err
	}
	before := cpuTime(b.procFor(c))
	res, err := b.wrk(url, b.o.connections, b.o.duration)
	if err == nil && res.rps > 0 {
		res.cpuPerReq = (cpuTime(b.procFor(c)) - before) / time.Duration(res.rps*b.o.duration.Seconds())
	}
	return res, err
}

// procFor returns the process measured for a contender: the last one started, or for
// the backend directly, the backend.
func (b *bench) procFor(c contender) *proc {
	if c.start == nil {
		return b.procs[0]
	}
	return b.procs[len(b.procs)-1]
}

// cpuTime returns the user and system time of a process and its children (nginx's
// worker) so far.
func cpuTime(p *proc) time.Duration {
	var total time.Duration
	for _, pid := range family(p) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name in parentheses; utime and stime are 14 and 15.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		total += time.Duration(ut+st) * time.Second / 100 // USER_HZ
	}
	return total
}

// family returns the pids of a process (the one taskset became) and its children.
func family(p *proc) []int {
	pids := []int{p.cmd.Process.Pid}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pids[0], pids[0])); err == nil {
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// wrk runs wrk pinned to the load CPU and parses its report. Its timeout is the run's
// length, so slow answers under many connections count as latency, not as errors.
func (b *bench) wrk(url string, conns int, d time.Duration) (wrkResult, error) {
	secs := strconv.Itoa(int(d.Seconds()+0.5)) + "s"
	out, err := exec.Command("taskset", "-c", b.o.loadCPU, "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+secs, "--timeout", secs, "--latency", url).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads Requests/sec, the 50 % and 99 % latencies and error counts.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no rate: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, q := range []struct {
		label string
		dst   *time.Duration
	}{{"50%", &r.p50}, {"99%", &r.p99}} {
		m := regexp.MustCompile(`(?m)^\s+` + q.label + `\s+([\d.]+)(us|ms|s)\s*$`).FindStringSubmatch(out)
		if m == nil {
			return r, fmt.Errorf("wrk printed no %s latency: %s", q.label, out)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[2]]
		*q.dst = time.Duration(v * float64(unit))
	}
	for _, re := range []string{`Non-2xx or 3xx responses:\s+(\d+)`, `Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`} {
		if m := regexp.MustCompile(re).FindStringSubmatch(out); m != nil {
			for _, s := range m[1:] {
				n, _ := strconv.Atoi(s)
				r.errors += n
			}
			r.detail = strings.TrimSpace(r.detail + "; " + m[0])
		}
	}
	return r, nil
}

// table prints the results with ratios to the backend and ferry's ratios to the
// other proxies.
func (b *bench) table() {
	direct := b.result["backend directly"]
	tw := tabwriter.NewWriter(b.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\treq/s\tp50\tp99\terrors\tof direct\tCPU/request\t")
	for _, c := range contenders(b.o.only) {
		r, ok := b.result[c.name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t%s\t%s\t\n", c.name, r.rps, r.p50, r.p99, r.errors,
			ratio(r.rps, direct.rps), r.cpuPerReq.Round(100*time.Nanosecond))
	}
	tw.Flush()
	f := b.result["ferry proxy"]
	fmt.Fprintln(b.out)
	for _, peer := range []string{"HAProxy", "nginx", "net/http ReverseProxy (reference)"} {
		p, ok := b.result[peer]
		if !ok || f.rps == 0 {
			continue
		}
		fmt.Fprintf(b.out, "ferry / %-34s req/s %s   p50 %s   p99 %s   CPU/request %s\n", peer+":", ratio(f.rps, p.rps),
			ratio(float64(f.p50), float64(p.p50)), ratio(float64(f.p99), float64(p.p99)),
			ratio(float64(f.cpuPerReq), float64(p.cpuPerReq)))
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// eachProxy starts each proxy contender in turn, gives it to measure with its port
// and stops it; one that does not start gets a row saying so.
func (b *bench) eachProxy(tw io.Writer, backendPort int, measure func(c contender, p *proc, port int)) {
	for _, c := range contenders(b.o.only) {
		if c.start == nil || c.key == "reverseproxy" {
			continue
		}
		port := freePort()
		p, err := c.start(b, port, backendPort)
		if err != nil || waitPort(port) != nil {
			fmt.Fprintf(tw, "%s\tdid not start\t\t\t\n", c.name)
			continue
		}
		measure(c, p, port)
		b.stop(p)
	}
}

// memory holds o.memConns keep-alive connections open through each proxy with wrk and
// reports the proxy's peak resident memory (VmHWM; for nginx its worker's).
func (b *bench) memory(backendPort int) {
	fmt.Fprintf(b.out, "\npeak memory with %d concurrent keep-alive connections (wrk -c%d, %s):\n", b.o.memConns, b.o.memConns, b.o.duration)
	tw := tabwriter.NewWriter(b.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "proxy\tpeak RSS\treq/s\terrors\t")
	b.eachProxy(tw, backendPort, func(c contender, p *proc, port int) {
		res, err := b.wrk(fmt.Sprintf("http://127.0.0.1:%d/", port), b.o.memConns, b.o.duration)
		peak := peakRSS(p)
		if err != nil {
			fmt.Fprintf(tw, "%s\t%s\twrk failed: %v\t\t\n", c.name, mib(peak), err)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%d\t  %s\n", c.name, mib(peak), res.rps, res.errors, strings.TrimPrefix(res.detail, "; "))
	})
	tw.Flush()
}

// idleMemory opens o.memConns keep-alive connections to each proxy, sends one request
// on each and reads its answer, lets them idle for o.idleWait and reports the proxy's
// resident memory then (VmRSS; for nginx its worker's), the part of it that is not the
// program's mapped files (RssAnon: ferry's binary is some hundred times HAProxy's),
// and the growth of that part per connection.
func (b *bench) idleMemory(backendPort int) {
	fmt.Fprintf(b.out, "\nmemory with %d idle keep-alive connections (each sent one request, then idles %s):\n", b.o.memConns, b.o.idleWait)
	tw := tabwriter.NewWriter(b.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "proxy\tRSS\tanonymous RSS\tper connection\t")
	b.eachProxy(tw, backendPort, func(c contender, p *proc, port int) {
		before := procStatus(p, "RssAnon:")
		conns, err := openIdle(port, b.o.memConns)
		if err == nil {
			time.Sleep(b.o.idleWait) // what is measured is this long an idle
		}
		rss, anon := procStatus(p, "VmRSS:"), procStatus(p, "RssAnon:")
		for _, conn := range conns {
			conn.Close()
		}
		if err != nil {
			fmt.Fprintf(tw, "%s\t%v\t\t\t\n", c.name, err)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f KiB\t\n", c.name, mib(rss), mib(anon), float64(anon-before)/float64(len(conns)))
	})
	tw.Flush()
}

// openIdle opens n connections to port and sends one request on each, reading its
// whole answer.
func openIdle(port, n int) ([]net.Conn, error) {
	request := []byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: proxy-bench\r\n\r\n")
	conns := make([]net.Conn, 0, n)
	for i := range n {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return conns, fmt.Errorf("connection %d: %w", i+1, err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(request); err != nil {
			return conns, fmt.Errorf("connection %d: %w", i+1, err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return conns, fmt.Errorf("connection %d: %w", i+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return conns, fmt.Errorf("connection %d: status %d", i+1, resp.StatusCode)
		}
		_ = c.SetDeadline(time.Time{})
	}
	return conns, nil
}

func mib(kb int) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// peakRSS returns the largest VmHWM (kB) among the process and its children.
func peakRSS(p *proc) int { return procStatus(p, "VmHWM:") }

// procStatus returns the largest value (kB) of a /proc/PID/status field among the
// process and its children.
func procStatus(p *proc, field string) int {
	peak := 0
	for _, pid := range family(p) {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), field); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				peak = max(peak, n)
			}
		}
		f.Close()
	}
	return peak
}

// spawn starts a process pinned to cpus in its own process group.
func (b *bench) spawn(name, cpus string, env []string, argv ...string) (*proc, error) {
	cmd := exec.Command("taskset", append([]string{"-c", cpus}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logs: logs}
	b.procs = append(b.procs, p)
	return p, nil
}

// stop ends a process group: SIGTERM, then SIGKILL after five seconds.
func (b *bench) stop(p *proc) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func (b *bench) stopAll() {
	for _, p := range b.procs {
		b.stop(p)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until something accepts connections on the loopback port.
func waitPort(port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on 127.0.0.1:%d after 10s", port)
}
