package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"ferry.dev/ferry/internal/baseline"
	"ferry.dev/ferry/internal/routes"
)

// plan is a validated run, with its mix and baseline read, ready to send.
type plan struct {
	cfg      Config
	mix      requestMix
	sched    schedule
	mode     string
	baseline *baseline.Baseline
}

// Run checks cfg, reads its log and baseline, checks that both sides are reachable,
// then sends the load and returns the report. Every check happens before any request
// is sent. When ctx is cancelled the run stops, requests in flight get cfg.Grace to
// finish, and the report covers what ran, with Interrupted set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	p, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	for _, side := range []struct{ name, url string }{{SideLegacy, p.cfg.Legacy}, {SideKubernetes, p.cfg.Kubernetes}} {
		if err := checkReachable(ctx, side.name, side.url); err != nil {
			return nil, err
		}
	}
	return p.run(ctx), nil
}

// prepare validates cfg and reads everything the run needs from files.
func prepare(cfg Config) (*plan, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &plan{}
	var err error
	if cfg.LogPath != "" {
		if p.mix, err = logMix(cfg.LogPath, cfg.LogFormat, cfg.AllowWrites); err != nil {
			return nil, err
		}
	} else {
		p.mix = pathMix(cfg.Method, cfg.Paths)
	}
	if p.sched, p.mode, err = planSchedule(cfg, p.mix); err != nil {
		return nil, err
	}
	if cfg.BaselinePath != "" {
		if p.baseline, err = baseline.Load(cfg.BaselinePath); err != nil {
			return nil, err
		}
	}
	p.cfg = cfg
	return p, nil
}

// run sends the load to both sides at once and builds the report.
func (p *plan) run(ctx context.Context) *Report {
	cfg := p.cfg
	planned := p.sched.planned()
	sides := []*sideRun{
		{name: SideLegacy, base: cfg.Legacy, rec: newRecorder(planned)},
		{name: SideKubernetes, base: cfg.Kubernetes, rec: newRecorder(planned)},
	}
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopGrace := context.AfterFunc(ctx, func() {
		cfg.Logger.Info("load test interrupted: letting requests in flight finish", "grace", cfg.Grace)
		time.AfterFunc(cfg.Grace, cancelHard)
	})
	defer stopGrace()

	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if cfg.Progress != nil {
		every := cfg.ProgressEvery
		if every == 0 {
			every = min(max(planned/10, time.Second), 10*time.Second)
		}
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			showProgress(cfg.Progress, cfg.ProgressTTY, every, planned, sides, progressDone)
		}()
	}
	cfg.Logger.Info("load test started", "mode", p.mode, "rate", p.sched.averageRate(), "planned", planned,
		"requests", p.mix.summary.Requests, "endpoints", p.mix.summary.Endpoints)
	started := time.Now()
	var wg sync.WaitGroup
	for _, s := range sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			attack(ctx, hard, cfg, s, p.mix, p.sched)
		}()
	}
	wg.Wait()
	close(progressDone)
	progressWG.Wait()
	elapsed := time.Since(started)
	cfg.Logger.Info("load test finished", "elapsed", elapsed, "interrupted", ctx.Err() != nil)
	return p.report(started, elapsed, ctx.Err() != nil, sides)
}

// report assembles the report of a finished or interrupted run.
func (p *plan) report(started time.Time, elapsed time.Duration, interrupted bool, sides []*sideRun) *Report {
	r := &Report{
		Started:     started.UTC(),
		Elapsed:     elapsed.Round(time.Millisecond).Seconds(),
		Planned:     p.sched.planned().Round(time.Millisecond).Seconds(),
		Interrupted: interrupted,
		Mode:        p.mode,
		Rate:        p.sched.averageRate(),
		Mix:         p.mix.summary,
	}
	for _, s := range sides {
		r.Sides = append(r.Sides, s.rec.side(s.name, s.base))
	}
	r.Total = EndpointRow{Endpoint: TotalEndpoint, Legacy: r.Sides[0].Stats, Kubernetes: r.Sides[1].Stats}
	r.Total.Ratio = ratios(r.Total.Kubernetes, r.Total.Legacy)
	r.Endpoints = endpointRows(sides[0].rec.endpointStats(), sides[1].rec.endpointStats(), p.baseline)
	r.tallies = pairTallies(sides[0].rec.endpointTallies(), sides[1].rec.endpointTallies())
	if p.baseline != nil {
		r.Baseline = p.baseline.Source
	}
	r.Warnings = warnings(r)
	r.Verdict = Judge(r.Total, r.Endpoints, p.cfg.Thresholds)
	r.Total.Outcome = worst(r.Verdict.Checks, TotalEndpoint)
	for i := range r.Endpoints {
		r.Endpoints[i].Outcome = worst(r.Verdict.Checks, r.Endpoints[i].Endpoint)
	}
	return r
}

// endpointRows pairs both sides' stats per endpoint, busiest first, with the
// baseline's figures where it has the endpoint.
func endpointRows(legacy, kube map[string]Stats, b *baseline.Baseline) []EndpointRow {
	names := map[string]bool{}
	for n := range legacy {
		names[n] = true
	}
	for n := range kube {
		names[n] = true
	}
	rows := make([]EndpointRow, 0, len(names))
	for n := range names {
		row := EndpointRow{Endpoint: n, Legacy: legacy[n], Kubernetes: kube[n]}
		row.Ratio = ratios(row.Kubernetes, row.Legacy)
		row.Baseline = baselineRow(b, n, row)
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		ci, cj := rows[i].Legacy.Count+rows[i].Kubernetes.Count, rows[j].Legacy.Count+rows[j].Kubernetes.Count
		if ci != cj {
			return ci > cj
		}
		return rows[i].Endpoint < rows[j].Endpoint
	})
	return rows
}

func baselineRow(b *baseline.Baseline, endpoint string, row EndpointRow) *BaselineRow {
	if b == nil {
		return nil
	}
	method, template, _ := cutEndpoint(endpoint)
	e, ok := b.Find(method, template, routes.Template)
	if !ok {
		return nil
	}
	br := &BaselineRow{Name: e.Name(), Mean: millis(e.Mean), P95: millis(e.P95), P99: millis(e.P99), Max: millis(e.Max)}
	br.Legacy, br.Kubernetes = baselineRatios(row.Legacy, br), baselineRatios(row.Kubernetes, br)
	return br
}

func cutEndpoint(endpoint string) (method, template string, ok bool) {
	return strings.Cut(endpoint, " ")
}

// IsUsage reports whether err means the run was asked for wrongly (a flag to fix)
// rather than that something failed.
func IsUsage(err error) bool {
	return errors.Is(err, ErrConfig) || errors.Is(err, ErrBeyondCap)
}

// String describes the run in one line.
func (r *Report) String() string {
	return fmt.Sprintf("%s load at %.0f req/s per side for %.1fs of %.1fs", r.Mode, r.Rate, r.Elapsed, r.Planned)
}
