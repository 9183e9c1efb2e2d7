package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: demo-traffic backend|load [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "backend":
		err = backend(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-traffic:", err)
		os.Exit(1)
	}
}

func backend(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	name := fs.String("name", "backend", "name in the X-Served-By header")
	latency := fs.String("latency", "5ms-15ms", "latency range MIN-MAX")
	errorsFile := fs.String("errors-file", "", "file holding the error rate (0..1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lo, hi, err := parseRange(*latency)
	if err != nil {
		return err
	}
	var errorRate atomic.Uint64 // parts per million
	go func() {
		for ctx.Err() == nil {
			if data, err := os.ReadFile(*errorsFile); err == nil {
				if f, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64); err == nil {
					errorRate.Store(uint64(f * 1e6))
				}
			} else {
				errorRate.Store(0)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()
	srv := &http.Server{Addr: *listen, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(lo + time.Duration(rand.Int64N(int64(hi-lo)+1)))
		w.Header().Set("X-Served-By", *name)
		if rand.Uint64N(1e6) < errorRate.Load() {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "hello from "+*name+"\n")
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func load(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", "", "target URL")
	rate := fs.Int("rate", 1000, "requests per second (at most 5000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *rate < 1 || *rate > 5000 {
		return fmt.Errorf("-url is required and -rate must be 1..5000")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 10 * time.Second}
	ticks := make(chan struct{}, *rate)
	for range 128 {
		go func() {
			for range ticks {
				if resp, err := client.Get(*url); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	interval := time.Second / time.Duration(*rate)
	next := time.Now()
	for ctx.Err() == nil {
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		select {
		case ticks <- struct{}{}:
		default:
		}
	}
	close(ticks)
	return nil
}

func parseRange(s string) (time.Duration, time.Duration, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := time.ParseDuration(a)
	hi, err2 := time.ParseDuration(b)
	if !ok || err1 != nil || err2 != nil || hi < lo {
		return 0, 0, fmt.Errorf("latency %q: want MIN-MAX such as 5ms-15ms", s)
	}
	return lo, hi, nil
}
