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
	flag.StringVar(&o.proxyCPU, "proxy-cpu", "0", "CPU list the proxies are pinned to")
	flag.StringVar(&o.loadCPU, "load-cpu", "1", "CPU list wrk and the backend are pinned to")
	flag.StringVar(&o.backendKind, "backend", "nethttp", "the trivial backend: nethttp or raw")
	flag.IntVar(&o.runs, "runs", 3, "rounds over all contenders (each keeps its best)")
	flag.StringVar(&o.only, "only", "", "comma-separated contenders to run (direct,ferry,haproxy,nginx,reverseproxy); default all")
	flag.Parse()
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
