package labelbot

import (
	"testing"
)

func TestCalibrate(t *testing.T) {
	tests := []struct {
		name         string
		scores       []float64
		truth        []bool
		target       float64
		minPredicted int
		want         float64
		wantOK       bool
	}{
		{name: "perfect-ranking-takes-all-positives", scores: []float64{.9, .8, .7, .2, .1}, truth: []bool{true, true, true, false, false},
			target: 1, minPredicted: 1, want: .45, wantOK: true},
		{name: "lowest-threshold-meeting-target", scores: []float64{.9, .8, .7, .6, .5, .4}, truth: []bool{true, false, true, true, false, false},
			target: .75, minPredicted: 1, want: .55, wantOK: true},
		{name: "min-predicted-rules-out-a-lucky-top", scores: []float64{.9, .8, .7, .6}, truth: []bool{true, false, false, false},
			target: .7, minPredicted: 2, want: 1, wantOK: false},
		{name: "ties-are-not-split", scores: []float64{.9, .5, .5, .1}, truth: []bool{true, true, false, false},
			target: .7, minPredicted: 1, want: .7, wantOK: true},
		{name: "everything-meets-target", scores: []float64{.3, .2}, truth: []bool{true, true},
			target: .7, minPredicted: 1, want: .2, wantOK: true},
		{name: "nothing", target: .7, minPredicted: 1, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := calibrate(tc.scores, tc.truth, tc.target, tc.minPredicted)
			if ok != tc.wantOK || abs(got-tc.want) > 1e-9 {
				t.Errorf("calibrate = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func abs(f float64) float64 { return max(f, -f) }
