package labelbot

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/internal/registry"
)

func generate(t testing.TB, n int, seed uint64) []Issue {
	t.Helper()
	issues, err := Generate(GenerateOptions{N: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return issues
}

func labelMetrics(m registry.Metrics, name string) (registry.LabelMetrics, bool) {
	for _, l := range m.Labels {
		if l.Label == name {
			return l, true
		}
	}
	return registry.LabelMetrics{}, false
}

// On generated data with known structure, the thresholds calibrated on validation data hold
// their precision on the newest, held-out issues.
func TestTrainCalibratedPrecision(t *testing.T) {
	tests := []struct {
		seed   uint64
		n      int
		target float64
	}{
		{seed: 1, n: 12000, target: 0.7},
		{seed: 2, n: 12000, target: 0.8},
		{seed: 3, n: 12000, target: 0.6},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("seed-%d-target-%.1f", tc.seed, tc.target), func(t *testing.T) {
			res, err := Train(generate(t, tc.n, tc.seed), TrainOptions{Seed: tc.seed, TargetPrecision: tc.target})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Metrics
			t.Logf("macro %+v micro %+v", *m.Macro, *m.Micro)
			if d := math.Abs(m.Macro.Precision - tc.target); d > 0.05 {
				t.Errorf("macro precision %.3f is %.3f from the target %.2f (tolerance 0.05)", m.Macro.Precision, d, tc.target)
			}
			if m.Macro.Recall < 0.3 {
				t.Errorf("macro recall %.3f: the classifier hardly finds the labels", m.Macro.Recall)
			}
			for _, l := range m.Labels {
				if l.Support > 0 && (l.Recall <= 0 || l.Note != "") {
					t.Errorf("label %+v: want a calibrated label with a measured recall", l)
				}
			}
			if !slices.Equal(m.Skipped, []string{"translation"}) {
				t.Errorf("skipped = %v, want the rare label [translation]", m.Skipped)
			}
		})
	}
}

// With the labels shuffled among the issues, text says nothing about labels: the same
// procedure must not reach the target, or the test above could pass by construction.
func TestTrainShuffledLabelsMissTarget(t *testing.T) {
	issues := generate(t, 12000, 1)
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(issues), func(a, b int) { issues[a].Labels, issues[b].Labels = issues[b].Labels, issues[a].Labels })
	res, err := Train(issues, TrainOptions{Seed: 1, TargetPrecision: 0.7})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("macro %+v; %v labels calibrated", *res.Metrics.Macro, res.Metrics.Extra["calibratedLabels"])
	if res.Metrics.Macro.Precision > 0.7-0.2 {
		t.Errorf("macro precision %.3f on shuffled labels: calibration is not measuring anything", res.Metrics.Macro.Precision)
	}
	for _, l := range res.Metrics.Labels {
		if l.Predicted >= 30 && l.Precision > 0.5 {
			t.Errorf("label %+v reaches precision %.3f on shuffled labels", l, l.Precision)
		}
	}
}

// The same data and seed give byte-identical classifiers, whatever the parallelism and the
// order of the input.
func TestTrainDeterministic(t *testing.T) {
	issues := generate(t, 4000, 5)
	var files [][]byte
	// The split is by creation time, so the order of the input does not matter either.
	shuffled := slices.Clone(issues)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
	for i, workers := range []int{1, 4, 4} {
		data := issues
		if i == 2 {
			data = shuffled
		}
		res, err := Train(data, TrainOptions{Seed: 9, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		b, err := res.Classifier.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("run %d gave a different classifier (%d vs %d bytes)", i, len(files[i]), len(files[0]))
		}
	}
	other, err := Train(issues, TrainOptions{Seed: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := other.Classifier.Marshal()
	if bytes.Equal(files[0], b) {
		t.Error("a different seed gave the same classifier: the seed is not used")
	}
}

// A label that training keeps but the held-out data lacks is reported with a note, not as NaN,
// and left out of the macro average.
func TestTrainLabelAbsentFromHoldout(t *testing.T) {
	issues := generate(t, 4000, 4)
	// The oldest 60% carry "legacy"; training sees it, the newest issues never do.
	for i := range issues[:2400] {
		if i%5 == 0 {
			issues[i].Labels = append(issues[i].Labels, "legacy")
		}
	}
	res, err := Train(issues, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, ok := labelMetrics(res.Metrics, "legacy")
	if !ok {
		t.Fatalf("label legacy not reported: %+v", res.Metrics.Labels)
	}
	if l.Support != 0 || l.Note == "" || math.IsNaN(l.Precision) || math.IsNaN(l.Recall) {
		t.Errorf("legacy = %+v, want support 0, finite figures and a note", l)
	}
	for _, v := range []float64{res.Metrics.Macro.Precision, res.Metrics.Macro.Recall, res.Metrics.Micro.Precision} {
		if math.IsNaN(v) {
			t.Fatalf("an average is NaN: %+v %+v", *res.Metrics.Macro, *res.Metrics.Micro)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	few := generate(t, 3, 1)
	tests := []struct {
		name    string
		issues  []Issue
		opts    TrainOptions
		wantErr string
	}{
		{name: "empty", issues: nil, wantErr: "the data set has no issues"},
		{name: "too-few-to-split", issues: few, wantErr: "3 issues are too few to split"},
		{name: "no-label-common-enough", issues: generate(t, 200, 1), opts: TrainOptions{MinExamples: 1000},
			wantErr: "no label has 1000 training examples"},
		{name: "bad-target", issues: few, opts: TrainOptions{TargetPrecision: 1.5}, wantErr: "target precision 1.5 is not in (0, 1]"},
		{name: "bad-fractions", issues: few, opts: TrainOptions{ValidationFraction: 0.5, TestFraction: 0.45},
			wantErr: "must be positive and leave at least 10% for training"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(tc.issues, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}
