package loadtest

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH                         = 860.0, 320.0
	padLeft, padRight, padTop, padBottom   = 64.0, 16.0, 16.0, 48.0
	legendGap                              = 150.0
	plotW, plotH                           = chartW - padLeft - padRight, chartH - padTop - padBottom
	percentileAxisMax                      = 5.0 // 99.999 %
	sideLegacyColor, sideKubernetesColor   = "#1f77b4", "#d62728"
	dashedStroke                           = "5 4"
	gridColor, axisColor, labelColor, font = "#e5e5e5", "#888", "#333", "12px sans-serif"
)

// line is one series of a chart.
type line struct {
	name, color string
	dashed      bool
	xs, ys      []float64
}

// tick is an axis mark at a value with a label.
type tick struct {
	at    float64
	label string
}

// chart is a line chart rendered as inline SVG: no script, no network.
type chart struct {
	id, title, xLabel, yLabel string
	xMin, xMax                float64
	xTicks                    []tick
	lines                     []line
}

// svg renders the chart.
func (c chart) svg() template.HTML {
	yMax := 0.0
	for _, l := range c.lines {
		for _, y := range l.ys {
			yMax = math.Max(yMax, y)
		}
	}
	yMax = niceCeil(yMax * 1.05)
	x := func(v float64) float64 { return padLeft + (v-c.xMin)/math.Max(c.xMax-c.xMin, 1e-9)*plotW }
	y := func(v float64) float64 { return padTop + plotH - v/yMax*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" role="img" aria-label="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg" style="font:%s">`,
		c.id, html.EscapeString(c.title), chartW, chartH, chartW, chartH, font)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, padLeft, padLeft+plotW, y(v), y(v), gridColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s</text>`, padLeft-6, y(v)+4, labelColor, trimFloat(v))
	}
	for _, t := range c.xTicks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x(t.at), x(t.at), padTop, padTop+plotH, gridColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x(t.at), padTop+plotH+16, labelColor, html.EscapeString(t.label))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="%s"/>`, padLeft, padTop, plotW, plotH, axisColor)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, padLeft+plotW/2, chartH-6, labelColor, html.EscapeString(c.xLabel))
	fmt.Fprintf(&b, `<text transform="translate(14 %.1f) rotate(-90)" text-anchor="middle" fill="%s">%s</text>`, padTop+plotH/2, labelColor, html.EscapeString(c.yLabel))
	for i, l := range c.lines {
		dash := ""
		if l.dashed {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, dashedStroke)
		}
		pts := make([]string, len(l.xs))
		for j := range l.xs {
			pts[j] = fmt.Sprintf("%.1f,%.1f", x(l.xs[j]), y(l.ys[j]))
		}
		fmt.Fprintf(&b, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`,
			html.EscapeString(l.name), l.color, dash, strings.Join(pts, " "))
		lx := padLeft + 8 + float64(i)*legendGap
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, lx, lx+18, padTop+12, padTop+12, l.color, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`, lx+22, padTop+16, labelColor, html.EscapeString(l.name))
	}
	b.WriteString(`</svg>`)
	// The SVG is built from numbers and escaped names only.
	return template.HTML(b.String())
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// overTimeChart shows each side's p50 (dashed) and p99 per interval.
func overTimeChart(sides []Side) chart {
	c := chart{id: "chart-latency-over-time", title: "Latency over time", xLabel: "seconds since start", yLabel: "latency (ms)"}
	for i, s := range sides {
		color := sideColor(i)
		p50, p99 := line{name: s.Name + " p50", color: color, dashed: true}, line{name: s.Name + " p99", color: color}
		for _, p := range s.Series {
			if p.Count == 0 {
				continue
			}
			p50.xs, p50.ys = append(p50.xs, p.T), append(p50.ys, float64(p.P50))
			p99.xs, p99.ys = append(p99.xs, p.T), append(p99.ys, float64(p.P99))
			c.xMax = math.Max(c.xMax, p.T)
		}
		c.lines = append(c.lines, p50, p99)
	}
	step := niceCeil(math.Max(c.xMax, 1) / 8)
	for t := 0.0; t <= c.xMax+1e-9; t += step {
		c.xTicks = append(c.xTicks, tick{t, trimFloat(t)})
	}
	return c
}

// distributionChart shows each side's latency by percentile on the log scale that
// spreads the tail: x = log10(1 / (1 - p)).
func distributionChart(sides []Side) chart {
	c := chart{id: "chart-latency-distribution", title: "Latency by percentile", xLabel: "percentile", yLabel: "latency (ms)", xMax: percentileAxisMax}
	for i, s := range sides {
		l := line{name: s.Name, color: sideColor(i)}
		for _, q := range s.Distribution {
			l.xs, l.ys = append(l.xs, percentileX(q.Percentile)), append(l.ys, float64(q.Latency))
		}
		c.lines = append(c.lines, l)
	}
	for _, t := range []struct {
		p     float64
		label string
	}{{0, "0%"}, {90, "90%"}, {99, "99%"}, {99.9, "99.9%"}, {99.99, "99.99%"}, {99.999, "99.999%"}} {
		c.xTicks = append(c.xTicks, tick{percentileX(t.p), t.label})
	}
	return c
}

func percentileX(p float64) float64 {
	if p >= 100 {
		return percentileAxisMax
	}
	return math.Min(math.Log10(1/(1-p/100)), percentileAxisMax)
}

func sideColor(i int) string {
	if i == 0 {
		return sideLegacyColor
	}
	return sideKubernetesColor
}
