package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// options are the benchmark's knobs.
type options struct {
	ferry       string
	duration    time.Duration
	warmup      time.Duration
	connections int
	memConns    int
	idleWait    time.Duration
	proxyCPU    string
	loadCPU     string
	backendKind string
	runs        int
	only        string
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "backend":
			os.Exit(runBackend(os.Args[2:]))
		case "reverseproxy":
			os.Exit(runReverseProxy(os.Args[2:]))
		}
	}
	var o options
	flag.StringVar(&o.ferry, "ferry", "bin/ferry", "the ferry binary to measure")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "wrk run length per contender")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "wrk warm-up before each measured run")
	flag.IntVar(&o.connections, "c", 64, "wrk connections")
	flag.IntVar(&o.memConns, "mem-conns", 10000, "concurrent keep-alive connections for the memory run (0 skips it)")
	flag.DurationVar(&o.idleWait, "idle-wait", time.Second, "how long the idle connections idle before their memory is measured (ferry parks them after 0.1-0.2s)")
	flag.StringVar(&o.proxyCPU, "proxy-cpu", "0", "CPU list the proxies are pinned to")
	flag.StringVar(&o.loadCPU, "load-cpu", "1", "CPU list wrk and the backend are pinned to")
	flag.StringVar(&o.backendKind, "backend", "nethttp", "the trivial backend: nethttp or raw")
	flag.IntVar(&o.runs, "runs", 3, "rounds over all contenders (each keeps its best)")
	flag.StringVar(&o.only, "only", "", "comma-separated contenders to run (direct,ferry,haproxy,nginx,reverseproxy); default all")
	flag.Parse()
	if o.idleWait < 0 || o.idleWait > 10*time.Minute {
		fmt.Fprintf(os.Stderr, "proxy-bench: -idle-wait %s: want 0 to 10m\n", o.idleWait)
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "proxy-bench:", err)
		os.Exit(1)
	}
}

func run(o options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "ferry-proxy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ferry, err := filepath.Abs(o.ferry)
	if err != nil {
		return err
	}
	b := &bench{o: o, dir: dir, self: self, ferry: ferry, out: out}
	defer b.stopAll()
	return b.run()
}
