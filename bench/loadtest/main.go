package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ferry.dev/ferry/internal/loadtest"
)

// ferryReport is the slice of ferry's JSON report that the benchmark reads.
type ferryReport struct {
	Sides []struct {
		Name  string `json:"name"`
		Stats struct {
			Count int64   `json:"count"`
			P50   float64 `json:"p50Ms"`
			P99   float64 `json:"p99Ms"`
		} `json:"stats"`
		Pacing struct {
			AchievedRate float64 `json:"achievedRate"`
			LagP50       float64 `json:"lagP50Ms"`
			LagP99       float64 `json:"lagP99Ms"`
			LagMax       float64 `json:"lagMaxMs"`
		} `json:"pacing"`
	} `json:"sides"`
}

type options struct {
	ferry    string
	duration time.Duration
	rates    []int
	topRate  int
	wrkConns int
}

func main() {
	serve := flag.String("serve", "", "internal: serve on this loopback address")
	var o options
	rates := flag.String("rates", "100,500,1000,2000,4000", "rates per side to measure, comma-separated")
	flag.StringVar(&o.ferry, "ferry", "bin/ferry", "the ferry binary")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each run")
	flag.IntVar(&o.topRate, "top-rate", loadtest.MaxRate, "rate per side offered to find ferry's top rate (at most its cap)")
	flag.IntVar(&o.wrkConns, "wrk-connections", 64, "wrk connections")
	flag.Parse()
	if *serve != "" {
		must(http.ListenAndServe(*serve, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })))
		return
	}
	for _, r := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		must(err)
		o.rates = append(o.rates, n)
	}
	must(run(o))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	url, stop, err := startServer()
	if err != nil {
		return err
	}
	defer stop()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("machine: %d CPUs, load average %s\n", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	fmt.Printf("server: %s (a separate process answering \"ok\"); each run %s; both sides of ferry point at it\n\n", url, o.duration)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "offered/side\tachieved/side\tachieved/offered\tsend lag p50\tsend lag p99\tsend lag max\tlatency p50\tlatency p99\t")
	for _, rate := range o.rates {
		r, err := ferryRun(o, url, rate, 0)
		if err != nil {
			return err
		}
		l, k := r.Sides[0], r.Sides[1]
		achieved := (l.Pacing.AchievedRate + k.Pacing.AchievedRate) / 2
		// Each column is the worse of the two sides.
		fmt.Fprintf(tw, "%d\t%.1f\t%.3f\t%.3fms\t%.3fms\t%.3fms\t%.3fms\t%.3fms\t\n", rate, achieved, achieved/float64(rate),
			max(l.Pacing.LagP50, k.Pacing.LagP50), max(l.Pacing.LagP99, k.Pacing.LagP99),
			max(l.Pacing.LagMax, k.Pacing.LagMax), max(l.Stats.P50, k.Stats.P50), max(l.Stats.P99, k.Stats.P99))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// As many connections as wrk holds, half to each side: at the rate it cannot
	// reach, an open-model generator would otherwise open up to its default of 1 000
	// requests in flight per side, a test of the server under 2 000 connections and of
	// the generator's cost with them, not of its rate.
	inFlight := max(o.wrkConns/2, 1)
	top, err := ferryRun(o, url, o.topRate, inFlight)
	if err != nil {
		return err
	}
	ferryTotal := top.Sides[0].Pacing.AchievedRate + top.Sides[1].Pacing.AchievedRate
	wrkRate, err := wrkRun(o, url)
	if err != nil {
		return err
	}
	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "top rate against the same server\treq/s\tratio to wrk\t")
	fmt.Fprintf(tw, "wrk -t2 -c%d (closed loop, as fast as it can)\t%.0f\t1.00\t\n", o.wrkConns, wrkRate)
	fmt.Fprintf(tw, "ferry loadtest, %d req/s offered per side, both sides (open model), --max-in-flight %d\t%.0f\t%.2f\t\n", o.topRate, inFlight, ferryTotal, ferryTotal/wrkRate)
	return tw.Flush()
}

// startServer starts this program as the server, in its own process so that it does
// not share a Go runtime with either load generator.
func startServer() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "-serve", addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr, stop, nil
		}
	}
	stop()
	return "", nil, errors.New("server did not start")
}

// ferryRun runs ferry loadtest at rate per side; maxInFlight, when positive, bounds
// its requests in flight per side.
func ferryRun(o options, url string, rate, maxInFlight int) (*ferryReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+time.Minute)
	defer cancel()
	args := []string{"loadtest", "--legacy", url, "--kubernetes", url, "--rate", strconv.Itoa(rate),
		"--duration", o.duration.String(), "--html", "", "--min-samples", "1", "-o", "json"}
	if maxInFlight > 0 {
		args = append(args, "--max-in-flight", strconv.Itoa(maxInFlight))
	}
	cmd := exec.CommandContext(ctx, o.ferry, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var r ferryReport
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil || len(r.Sides) != 2 {
		return nil, fmt.Errorf("ferry loadtest at %d req/s: %v %v: %s", rate, err, jerr, stderr.String())
	}
	return &r, nil
}

var wrkRequests = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func wrkRun(o options, url string) (float64, error) {
	secs := max(1, int(o.duration.Seconds()))
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", o.wrkConns), fmt.Sprintf("-d%ds", secs), url+"/").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk printed no rate: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
