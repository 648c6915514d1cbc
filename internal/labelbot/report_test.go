package labelbot

import (
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/golden"
	"github.com/modelsync/modelsync/internal/registry"
)

func TestRenderReport(t *testing.T) {
	tests := []struct {
		name string
		data ReportData
	}{
		{name: "labels-absent-uncalibrated-skipped", data: ReportData{
			ID: "labelbot-demo", Created: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), Target: 0.7, TrainingSeconds: 1.25,
			Split: Split{Train: 700, Validation: 150, Test: 150},
			Metrics: registry.Metrics{
				Micro: &registry.Averages{Precision: 0.71, Recall: 0.8, F1: 0.752},
				Macro: &registry.Averages{Precision: 0.69, Recall: 0.75, F1: 0.718},
				Labels: []registry.LabelMetrics{
					{Label: "bug", Precision: 0.72, Recall: 0.9, Support: 40, Threshold: 0.21, Predicted: 50},
					{Label: "<script>", Precision: 0.66, Recall: 0.6, Support: 10, Threshold: 0.3, Predicted: 9},
					{Label: "legacy", Support: 0, Threshold: 0.4, Predicted: 2, Note: NoteAbsent},
					{Label: "rare", Support: 3, Threshold: 1, Note: NoteUncalibrated},
				},
				Skipped: []string{"translation", "wontfix"},
			},
		}},
		{name: "no-labels", data: ReportData{ID: "empty", Created: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), Target: 0.8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RenderReport(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, got)
		})
	}
}
