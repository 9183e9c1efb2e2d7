package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// contender is one thing wrk is pointed at.
type contender struct {
	key  string
	name string
	// start launches it listening on port in front of backend and returns its process.
	start func(b *bench, port, backend int) (*proc, error)
}

// contenders returns the contenders selected by only (comma-separated keys; empty
// selects all), the backend directly first.
func contenders(only string) []contender {
	all := []contender{
		{key: "direct", name: "backend directly"},
		{key: "ferry", name: "ferry proxy", start: startFerry},
		{key: "haproxy", name: "HAProxy", start: startHAProxy},
		{key: "nginx", name: "nginx", start: startNginx},
		{key: "reverseproxy", name: "net/http ReverseProxy (reference)", start: startReverseProxy},
	}
	if only == "" {
		return all
	}
	var out []contender
	for _, c := range all {
		if strings.Contains(","+only+",", ","+c.key+",") {
			out = append(out, c)
		}
	}
	return out
}

// startFerry runs ferry with one core (GOMAXPROCS=1, like one nginx worker or one
// HAProxy thread), sending 10 % to the Kubernetes pool; both pools point at the same
// backend, so every contender does the same work for the client. Everything else is
// ferry's default (up to 1024 connections per backend server, stats and metrics on).
func startFerry(b *bench, port, backend int) (*proc, error) {
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
admin:
  listen: 127.0.0.1:%d
weights:
  kubernetes: 10%%
sticky:
  disabled: true
backends:
  legacy:
    servers: [http://127.0.0.1:%d]
  kubernetes:
    servers: ["http://localhost:%d"]
limits:
  maxConnections: 40000
`, port, freePort(), backend, backend)
	path := filepath.Join(b.dir, "ferry.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return b.spawn("ferry", b.o.proxyCPU, []string{"GOMAXPROCS=1"}, b.ferry, "proxy", "run", "--config", path)
}

// startHAProxy runs HAProxy with one thread, upstream keep-alive and X-Forwarded-For.
func startHAProxy(b *bench, port, backend int) (*proc, error) {
	cfg := fmt.Sprintf(`global
  nbthread 1
  maxconn 10100
  # the file descriptor limit here may be below what HAProxy wants for maxconn
  no strict-limits
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend fe
  bind 127.0.0.1:%d
  http-request set-header X-Forwarded-Proto http
  default_backend be
backend be
  server s1 127.0.0.1:%d maxconn 16384
`, port, backend)
	path := filepath.Join(b.dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return b.spawn("haproxy", b.o.proxyCPU, nil, "haproxy", "-db", "-f", path)
}

// startNginx runs nginx with one worker and an upstream keep-alive pool.
func startNginx(b *bench, port, backend int) (*proc, error) {
	prefix := filepath.Join(b.dir, "nginx")
	if err := os.MkdirAll(filepath.Join(prefix, "logs"), 0o755); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`worker_processes 1;
worker_rlimit_nofile 19999;
daemon off;
master_process on;
error_log stderr warn;
pid %[1]s/nginx.pid;
events { worker_connections 19999; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  keepalive_requests 1000000;
  upstream be {
    server 127.0.0.1:%[3]d;
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:%[2]d;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`, prefix, port, backend)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return b.spawn("nginx", b.o.proxyCPU, nil, "nginx", "-p", prefix, "-c", path, "-e", "stderr")
}

// startReverseProxy runs the reference: net/http's ReverseProxy with a tuned
// Transport and a buffer pool, one core.
func startReverseProxy(b *bench, port, backend int) (*proc, error) {
	return b.spawn("reverseproxy", b.o.proxyCPU, []string{"GOMAXPROCS=1"}, b.self, "reverseproxy",
		"-listen", fmt.Sprintf("127.0.0.1:%d", port), "-backend", fmt.Sprintf("127.0.0.1:%d", backend))
}
