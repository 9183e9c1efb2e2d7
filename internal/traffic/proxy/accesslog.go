package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// accessLog writes one JSON line per request through a buffer flushed every second,
// so that logging does not cost a system call per request.
type accessLog struct {
	mu     sync.Mutex
	buf    *bufio.Writer
	file   io.Closer
	logger *slog.Logger
	stop   chan struct{}
	done   chan struct{}
}

// openAccessLog opens path ("-" for standard output); it returns nil for "".
func openAccessLog(path string) (*accessLog, error) {
	if path == "" {
		return nil, nil
	}
	var w io.Writer = os.Stdout
	var closer io.Closer
	if path != "-" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open access log: %w", err)
		}
		w, closer = f, f
	}
	a := &accessLog{buf: bufio.NewWriterSize(w, 64<<10), file: closer, stop: make(chan struct{}), done: make(chan struct{})}
	a.logger = slog.New(slog.NewJSONHandler(lockedWriter{a}, nil))
	go a.flushLoop()
	return a, nil
}

type lockedWriter struct{ a *accessLog }

func (l lockedWriter) Write(b []byte) (int, error) {
	l.a.mu.Lock()
	defer l.a.mu.Unlock()
	return l.a.buf.Write(b)
}

func (a *accessLog) flushLoop() {
	defer close(a.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.mu.Lock()
			_ = a.buf.Flush()
			a.mu.Unlock()
		}
	}
}

// logEntry is what the access log says about one request.
type logEntry struct {
	srv           *server // nil before a side was chosen
	status        int
	err           error
	clientFailure clientFailure
	forced        bool
	forceHeader   string // redacted in error messages
	d             time.Duration
	start         time.Time
}

func (a *accessLog) log(ctx *fasthttp.RequestCtx, e logEntry) {
	attrs := append(make([]slog.Attr, 0, 12),
		slog.Time("start", e.start),
		slog.String("remote", ctx.RemoteIP().String()),
		slog.String("method", string(ctx.Method())),
		slog.String("uri", string(ctx.RequestURI())),
		slog.Int("status", e.status),
	)
	if e.srv != nil {
		attrs = append(attrs, slog.String(logKeySide, e.srv.side.String()), slog.String(logKeyServer, e.srv.url))
	}
	attrs = append(attrs, slog.Int64("duration_us", e.d.Microseconds()))
	if e.forced {
		attrs = append(attrs, slog.Bool("forced", true))
	}
	if e.clientFailure != clientOK {
		attrs = append(attrs, slog.String("client_failure", e.clientFailure.String()))
	}
	if e.err != nil {
		attrs = append(attrs, slog.String(logKeyError, redactHeaders(e.err.Error(), e.forceHeader)))
	}
	a.logger.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// close flushes and closes the log; it is safe on nil.
func (a *accessLog) close() {
	if a == nil {
		return
	}
	close(a.stop)
	<-a.done
	a.mu.Lock()
	_ = a.buf.Flush()
	a.mu.Unlock()
	if a.file != nil {
		a.file.Close()
	}
}
