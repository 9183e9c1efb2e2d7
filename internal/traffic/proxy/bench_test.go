package proxy

import (
	"bytes"
	"net"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkHandle measures the request path (decide, pick, forward to a real backend
// on loopback, record) without a client connection, so that its allocations show.
func BenchmarkHandle(b *testing.B) {
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
	b.ReportAllocs()
	for b.Loop() {
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
