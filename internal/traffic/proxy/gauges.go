package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// healthEvents returns the callback active health checks report changes to.
func (p *Proxy) healthEvents() func(healthEvent) {
	return func(e healthEvent) {
		level := p.Logger.Warn
		msg := "server failed its health checks"
		if e.healthy {
			level, msg = p.Logger.Info, "server passed its health checks"
		}
		level(msg, logKeySide, e.srv.side.String(), logKeyServer, e.srv.url)
	}
}

// updateGauges publishes the current weights.
func (p *Proxy) updateGauges() {
	w := p.current()
	p.metrics.weight.WithLabelValues("legacy").Set(float64(w.Legacy))
	p.metrics.weight.WithLabelValues("kubernetes").Set(float64(w.Kubernetes))
}

// upCollector reports ferry_proxy_server_up from the servers' state at scrape time,
// so that it also follows ejections running out.
type upCollector struct {
	p    *Proxy
	desc *prometheus.Desc
}

func newUpCollector(p *Proxy) *upCollector {
	return &upCollector{p: p, desc: prometheus.NewDesc("ferry_proxy_server_up",
		"1 if a server takes requests (healthy and not ejected), else 0.", []string{"side", "server"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *upCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *upCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.p.Backends() {
		v := 0.0
		if b.Available {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, b.Side, b.URL)
	}
}
