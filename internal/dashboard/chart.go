package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Chart dimensions in SVG user units; the SVG scales to its box.
const (
	chartW, chartH         = 640, 200
	padL, padR, padT, padB = 56, 12, 14, 24
)

// chartOf draws one measure of both sides over the samples as an SVG line chart,
// the steps' changes marked by vertical lines labelled with the new step.
func chartOf(title, unit string, pts []point, value func(sideStats) float64, format func(float64) string) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s over time, legacy and Kubernetes">`, chartW, chartH, esc(title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="empty" text-anchor="middle">no samples yet: they appear as the controller judges each window</text></svg>`, chartW/2, chartH/2)
		return template.HTML(b.String())
	}
	hi := 0.0
	for _, p := range pts {
		hi = math.Max(hi, math.Max(value(p.Legacy), value(p.New)))
	}
	if hi == 0 {
		hi = 1
	}
	hi *= 1.1
	x := func(i int) float64 {
		if len(pts) == 1 {
			return padL
		}
		return padL + float64(i)*float64(chartW-padL-padR)/float64(len(pts)-1)
	}
	y := func(v float64) float64 { return chartH - padB - v/hi*float64(chartH-padT-padB) }
	// axes and the top value
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, padT, padL, chartH-padB)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, padL-4, padT+8, esc(format(hi/1.1)))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">0</text>`, padL-4, chartH-padB)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, padL, chartH-6, esc(pts[0].At.UTC().Format("15:04:05")))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s UTC</text>`, chartW-padR, chartH-6, esc(pts[len(pts)-1].At.UTC().Format("15:04:05")))
	for i := 1; i < len(pts); i++ {
		if pts[i].Step != pts[i-1].Step {
			xi := (x(i-1) + x(i)) / 2
			fmt.Fprintf(&b, `<line class="step" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, xi, padT, xi, chartH-padB)
			fmt.Fprintf(&b, `<text class="steplabel" x="%.1f" y="%d">step %d · %s</text>`, xi+3, padT+10, pts[i].Step, esc(pts[i].Weight))
		}
	}
	for _, side := range []struct {
		class string
		pick  func(point) sideStats
	}{{"legacy", func(p point) sideStats { return p.Legacy }}, {"kubernetes", func(p point) sideStats { return p.New }}} {
		var path strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y(value(side.pick(p))))
		}
		fmt.Fprintf(&b, `<path class="line %s" d="%s"/>`, side.class, strings.TrimSpace(path.String()))
	}
	last := pts[len(pts)-1]
	fmt.Fprintf(&b, `<desc>latest: legacy %s, Kubernetes %s %s</desc>`, esc(format(value(last.Legacy))), esc(format(value(last.New))), esc(unit))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func formatCount(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', -1, 64) }

func formatPercent(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }

func formatMillis(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " ms" }
