package loadtest

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var reportTemplate string

// htmlReport is what the HTML template reads.
type htmlReport struct {
	*Report
	Rows                     []EndpointRow
	OverTime, Distribution   template.HTML
	Thresholds, Mix, Summary string
}

// WriteHTML writes the report as one self-contained HTML page: styles, charts
// (inline SVG) and the script that sorts the endpoints table are in the page, which
// fetches nothing. It lists every endpoint.
func (r *Report) WriteHTML(w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"ms": ms, "pct": pct, "times": times, "upper": func(o Outcome) string { return strings.ToUpper(string(o)) },
		"add": func(a, b int64) int64 { return a + b }, "rank": outcomeRank,
	}).Parse(reportTemplate)
	if err != nil {
		return fmt.Errorf("parse report template: %w", err)
	}
	data := htmlReport{
		Report:       r,
		Rows:         append([]EndpointRow{r.Total}, r.Endpoints...),
		OverTime:     overTimeChart(r.Sides).svg(),
		Distribution: distributionChart(r.Sides).svg(),
		Thresholds:   r.Verdict.Thresholds.String(),
		Mix:          r.mixLine(),
		Summary:      r.String(),
	}
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// outcomeRank orders outcomes for sorting, the worst highest.
func outcomeRank(o Outcome) int {
	switch o {
	case Fail:
		return 2
	case Pass:
		return 1
	}
	return 0
}
