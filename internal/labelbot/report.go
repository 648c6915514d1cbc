package labelbot

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"time"

	"github.com/modelsync/modelsync/internal/registry"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

var reportTemplate = template.Must(template.New("report.html.tmpl").
	Funcs(template.FuncMap{"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }}).
	ParseFS(templates, "templates/report.html.tmpl"))

// ReportData is what the HTML report shows.
type ReportData struct {
	ID              string
	Created         time.Time
	Target          float64
	TrainingSeconds float64
	Split           Split
	Metrics         registry.Metrics
}

// Geometry of the bar chart, in pixels.
const (
	chartLeft  = 140
	chartPlot  = 400
	chartRow   = 34
	chartBarH  = 13
	chartRight = 50
)

type chartBar struct {
	Label                      string
	P, R                       float64
	TextX, TextY, X, PY, RY, H int
	PW, RW                     string
}

type chart struct {
	Width, Height, Left, Plot int
	TargetX                   string
	Bars                      []chartBar
}

func newChart(m registry.Metrics, target float64) chart {
	c := chart{Left: chartLeft, Plot: chartPlot, Width: chartLeft + chartPlot + chartRight, Height: max(1, len(m.Labels)) * chartRow}
	c.TargetX = fmt.Sprintf("%.1f", chartLeft+target*chartPlot)
	for i, l := range m.Labels {
		top := i*chartRow + 3
		c.Bars = append(c.Bars, chartBar{
			Label: l.Label, P: l.Precision, R: l.Recall,
			TextX: chartLeft - 6, TextY: top + chartBarH + 4,
			X: chartLeft, PY: top, RY: top + chartBarH + 1, H: chartBarH,
			PW: fmt.Sprintf("%.1f", l.Precision*chartPlot), RW: fmt.Sprintf("%.1f", l.Recall*chartPlot),
		})
	}
	return c
}

// RenderReport writes the HTML report: a per-label table and an inline SVG bar chart.
func RenderReport(d ReportData) ([]byte, error) {
	var buf bytes.Buffer
	err := reportTemplate.Execute(&buf, struct {
		ReportData
		Created string
		Chart   chart
	}{d, d.Created.UTC().Format(time.RFC3339), newChart(d.Metrics, d.Target)})
	if err != nil {
		return nil, fmt.Errorf("failed to render report: %w", err)
	}
	return buf.Bytes(), nil
}
