package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"sync"
	"time"
)

// runBackend serves the trivial backend: a short fixed answer to every request.
// "nethttp" is a plain net/http server; "raw" a hand-written HTTP/1.1 keep-alive
// responder that costs so little that the proxy in front is what gets measured.
func runBackend(args []string) int {
	fs := flag.NewFlagSet("backend", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	kind := fs.String("kind", "nethttp", "nethttp or raw")
	_ = fs.Parse(args)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	body := []byte("hello from the legacy app\n")
	if *kind == "raw" {
		serveRaw(ln, body)
		return 0
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	_ = (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	return 0
}

// serveRaw answers every request on a keep-alive connection with the same response.
// It reads a request head up to the blank line and assumes no body (wrk sends GETs).
func serveRaw(ln net.Listener, body []byte) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReaderSize(c, 16<<10)
			w := bufio.NewWriterSize(c, 16<<10)
			for {
				for {
					line, err := r.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 {
						break
					}
				}
				_, _ = w.Write(resp)
				if r.Buffered() == 0 {
					if w.Flush() != nil {
						return
					}
				}
			}
		}()
	}
}

// runReverseProxy is the reference proxy: net/http/httputil.ReverseProxy with the
// Transport tuned for a proxy (many idle connections per host) and a buffer pool.
func runReverseProxy(args []string) int {
	fs := flag.NewFlagSet("reverseproxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	backend := fs.String("backend", "", "host:port")
	_ = fs.Parse(args)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", *backend
			r.SetXForwarded()
		},
		Transport: &http.Transport{
			MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: 90 * time.Second,
			DisableCompression: true, ForceAttemptHTTP2: false,
		},
		BufferPool: &bufferPool{},
		ErrorLog:   nil,
	}
	srv := &http.Server{Addr: *listen, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
