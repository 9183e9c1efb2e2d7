package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
)

// idleConns is how many keep-alive connections BenchmarkIdleConnections holds.
const idleConns = 4000

// BenchmarkIdleConnections reports what a keep-alive client connection that has sent
// one request and now idles (parked) costs the proxy: Go heap (heap-B/conn, after a GC) and
// resident memory (rss-B/conn) of this process, which holds the clients' side too (a
// bare net.Conn each). Run it with -benchtime=1x.
func BenchmarkIdleConnections(b *testing.B) {
	be := startFastBackend(b, "legacy-1")
	cfg := testConfig(urls(be), urls(be))
	if v := os.Getenv("FERRY_BENCH_MAX_REQUEST_HEADER"); v != "" {
		cfg.Limits.MaxRequestHeader, _ = strconv.Atoi(v)
	}
	p := startProxy(b, cfg)
	request := []byte("GET /products/1 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: bench\r\nCookie: _shop_session=abc\r\n\r\n")
	for b.Loop() {
		heap0, rss0 := memoryInUse(b)
		conns := make([]net.Conn, 0, idleConns)
		buf := make([]byte, 4096)
		for range idleConns {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := c.Write(request); err != nil {
				b.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := readResponse(c, buf); err != nil {
				b.Fatal(err)
			}
		}
		waitFor(b, func() bool { return p.clients.parkedCount() == idleConns }, "every idle connection parked")
		heap1, rss1 := memoryInUse(b)
		b.ReportMetric(float64(heap1-heap0)/idleConns, "heap-B/conn")
		b.ReportMetric(float64(rss1-rss0)/idleConns, "rss-B/conn")
		for _, c := range conns {
			c.Close()
		}
	}
}

// readResponse reads one response of the fast backend (small, with Content-Length)
// from c into buf without a bufio.Reader of its own.
func readResponse(c net.Conn, buf []byte) (int, error) {
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		head, body, ok := bytes.Cut(buf[:n], []byte("\r\n\r\n"))
		if !ok {
			continue
		}
		br := bufio.NewReader(bytes.NewReader(head))
		for {
			line, err := br.ReadString('\n')
			if v, ok := bytes.CutPrefix(bytes.TrimSpace([]byte(line)), []byte("Content-Length: ")); ok {
				want, _ := strconv.Atoi(string(v))
				if len(body) >= want {
					return n, nil
				}
			}
			if err == io.EOF {
				break
			}
		}
	}
}

// memoryInUse returns the live Go heap after a full collection and the resident set
// size of the process.
func memoryInUse(tb testing.TB) (heap, rss int64) {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skip("no /proc/self/statm")
	}
	fields := bytes.Fields(data)
	pages, _ := strconv.ParseInt(string(fields[1]), 10, 64)
	return int64(ms.HeapAlloc), pages * int64(os.Getpagesize())
}
