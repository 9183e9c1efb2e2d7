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

// WriteHTML writes the report as one self-contained HTML page: styles and charts
// (inline SVG) are in the page, which fetches nothing.
func (r *Report) WriteHTML(w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"ms": ms, "pct": pct, "times": times, "upper": func(o Outcome) string { return strings.ToUpper(string(o)) },
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
