// Command proxy-bench measures ferry's proxy against the backend directly, HAProxy and
// nginx (and net/http's ReverseProxy for reference) with wrk on loopback, and ferry's
// memory under many keep-alive connections. It must not import ferry's packages: it
// drives the ferry binary, like the other proxies. Run it with make bench-proxy.
package main
