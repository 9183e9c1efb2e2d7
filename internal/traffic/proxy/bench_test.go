package proxy

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/traffic"
)

// BenchmarkHandle measures the request path (decide, pick, forward to a real backend
// on loopback, record) without a client connection, so that its allocations show.
func BenchmarkHandle(b *testing.B) {
	handle := handleLoop(b)
	b.ReportAllocs()
	for b.Loop() {
		handle()
	}
}

// handleLoop starts a proxy and returns one round of BenchmarkHandle's request.
func handleLoop(b *testing.B) func() {
	be := startFastBackend(b, "legacy-1")
	cfg := testConfig(urls(be), urls(be))
	p := startProxy(b, cfg)
	mustWeights(b, p, 5000)
	var template fasthttp.Request
	template.SetRequestURI("http://shop.example/products/1?page=2")
	template.Header.Set("User-Agent", "bench")
	template.Header.Set("Cookie", "_shop_session=abc; ferry_side=legacy")
	template.Header.Set("Authorization", "Bearer abc")
	var ctx fasthttp.RequestCtx
	ctx.Init(&template, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 40000}, nil)
	return func() {
		template.CopyTo(&ctx.Request)
		ctx.Response.Reset()
		p.handle(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
}

// BenchmarkHandleUpload is BenchmarkHandle for a POST with a small body, which takes
// the upload path (the body read through a bodyReader).
func BenchmarkHandleUpload(b *testing.B) {
	be := startFastBackend(b, "legacy-1")
	cfg := testConfig(urls(be), urls(be))
	p := startProxy(b, cfg)
	var template fasthttp.Request
	template.SetRequestURI("http://shop.example/cart")
	template.Header.SetMethod(fasthttp.MethodPost)
	template.Header.SetContentType("application/x-www-form-urlencoded")
	body := []byte("item=42&quantity=2&note=gift")
	var ctx fasthttp.RequestCtx
	ctx.Init(&template, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 40000}, nil)
	var r bytes.Reader
	b.ReportAllocs()
	for b.Loop() {
		template.CopyTo(&ctx.Request)
		r.Reset(body)
		ctx.Request.SetBodyStream(&r, len(body))
		ctx.Response.Reset()
		p.handle(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
}

// BenchmarkRouteLookup measures what per-endpoint statistics add to each request: its
// template built in a buffer on the stack and looked up in the route table, and the
// route's counts and latency bin. It prints that cost beside BenchmarkHandle's whole
// request path (which includes it) as a ratio.
func BenchmarkRouteLookup(b *testing.B) {
	handle, rounds := handleLoop(b), 2000
	handle() // connections open
	start := time.Now()
	for range rounds {
		handle()
	}
	handleNs := float64(time.Since(start).Nanoseconds()) / float64(rounds)
	handleAllocs := testing.AllocsPerRun(200, handle)
	stats := newStatsRecorder(10*time.Second, time.Minute)
	be := startFastBackend(b, "legacy-1")
	p := startProxy(b, testConfig(urls(be), urls(be)))
	method, path := []byte("GET"), []byte("/products/1/reviews/3f2b1c9e-1d2a-4b7c-9e8f-0a1b2c3d4e5f")
	p.routes.lookup(method, path, 200)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		r := p.routes.lookup(method, path, 200)
		stats.record(traffic.Legacy, r.index, 200, false, 3*time.Millisecond, now)
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/handleNs, "of-handle")
	b.Logf("per request: route %.0f ns (%.0f allocs) of %.0f ns for the whole request path (%.0f allocs): ratio %.3f",
		perOp, testing.AllocsPerRun(100, func() { p.routes.lookup(method, path, 200) }), handleNs, handleAllocs, perOp/handleNs)
}
