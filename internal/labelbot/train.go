package labelbot

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/modelsync/modelsync/internal/registry"
)

// TrainOptions configure Train. Zero values take the documented defaults.
type TrainOptions struct {
	// TargetPrecision is the precision each label's threshold is calibrated to (default 0.7).
	TargetPrecision float64
	// MinExamples is the number of training issues a label needs; rarer labels are skipped (default 20).
	MinExamples int
	// MinPredicted is the fewest validation issues a threshold must select, so that a lucky
	// handful of top scores cannot pass for the target precision (default 10).
	MinPredicted int
	// ValidationFraction and TestFraction are the shares of the newest issues held out for
	// calibration and for measurement (default 0.15 each).
	ValidationFraction, TestFraction float64
	// MinDF and MaxTerms bound the vocabulary (default 2 and 50000).
	MinDF, MaxTerms int
	// Epochs of stochastic gradient descent per label (default 8).
	Epochs int
	// Seed drives every random choice; the same data, options and seed give the same model.
	Seed uint64
	// Workers fit labels in parallel (default GOMAXPROCS); it does not change the result.
	Workers int
}

func (o TrainOptions) withDefaults() TrainOptions {
	o.TargetPrecision = cmp.Or(o.TargetPrecision, 0.7)
	o.MinExamples = cmp.Or(o.MinExamples, 20)
	o.MinPredicted = cmp.Or(o.MinPredicted, 10)
	o.ValidationFraction = cmp.Or(o.ValidationFraction, 0.15)
	o.TestFraction = cmp.Or(o.TestFraction, 0.15)
	o.MinDF = cmp.Or(o.MinDF, 2)
	o.MaxTerms = cmp.Or(o.MaxTerms, 50000)
	o.Epochs = cmp.Or(o.Epochs, 8)
	o.Workers = cmp.Or(o.Workers, runtime.GOMAXPROCS(0))
	return o
}

func (o TrainOptions) validate() error {
	switch {
	case o.TargetPrecision <= 0 || o.TargetPrecision > 1:
		return fmt.Errorf("target precision %v is not in (0, 1]", o.TargetPrecision)
	case o.ValidationFraction <= 0 || o.TestFraction <= 0 || o.ValidationFraction+o.TestFraction >= 0.9:
		return fmt.Errorf("validation fraction %v and test fraction %v must be positive and leave at least 10%% for training",
			o.ValidationFraction, o.TestFraction)
	case o.MinExamples < 1 || o.MinPredicted < 1 || o.MinDF < 1 || o.MaxTerms < 1 || o.Epochs < 1:
		return fmt.Errorf("min examples, min predicted, min df, max terms and epochs must be positive")
	}
	return nil
}

// Split counts the issues of each part of the time-ordered split.
type Split struct {
	Train, Validation, Test int
}

// TrainResult is a trained classifier with its held-out measurements.
type TrainResult struct {
	Classifier *Classifier
	// Metrics are measured on the test split (the newest issues) at the calibrated thresholds.
	Metrics registry.Metrics
	Split   Split
}

// Train fits a one-vs-rest logistic regression on TF-IDF features of title and body. Issues are
// ordered by creation time; the oldest train the model, the next ones calibrate each label's
// threshold to the target precision, and the newest measure it.
func Train(issues []Issue, opts TrainOptions) (*TrainResult, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("failed to train: %w", err)
	}
	if len(issues) == 0 {
		return nil, fmt.Errorf("failed to train: the data set has no issues")
	}
	sorted := slices.Clone(issues)
	slices.SortStableFunc(sorted, func(a, b Issue) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.URL, b.URL))
	})
	n := len(sorted)
	split := Split{Test: int(math.Round(float64(n) * o.TestFraction)), Validation: int(math.Round(float64(n) * o.ValidationFraction))}
	split.Train = n - split.Test - split.Validation
	if split.Test == 0 || split.Validation == 0 || split.Train == 0 {
		return nil, fmt.Errorf("failed to train: %d issues are too few to split into training, validation and test data", n)
	}
	labels, skipped := chooseLabels(sorted[:split.Train], sorted, o.MinExamples)
	if len(labels) == 0 {
		return nil, fmt.Errorf("failed to train: no label has %d training examples (labels seen: %v)", o.MinExamples, skipped)
	}

	vec, xs := extractFeatures(sorted, split.Train, o)
	truth := make([][]bool, n)
	for i, iss := range sorted {
		truth[i] = make([]bool, len(labels))
		for l, name := range labels {
			truth[i][l] = slices.Contains(iss.Labels, name)
		}
	}

	c := &Classifier{Format: ClassifierFormat, Vocabulary: vec.Vocabulary, IDF: vec.IDF, Labels: make([]LabelModel, len(labels)), vec: vec}
	labelIdx := make([]int, len(labels))
	for i := range labelIdx {
		labelIdx[i] = i
	}
	parallelMap(labelIdx, o.Workers, func(l int) struct{} {
		ys := make([]bool, split.Train)
		for i := range ys {
			ys[i] = truth[i][l]
		}
		rng := rand.New(rand.NewPCG(o.Seed, uint64(l)))
		w, b := fitLogistic(xs[:split.Train], ys, len(vec.Vocabulary), rng, sgdOptions{Epochs: o.Epochs})
		w32 := make([]float32, len(w))
		for j, x := range w {
			w32[j] = float32(x)
		}
		c.Labels[l] = LabelModel{Name: labels[l], Bias: float32(b), Weights: w32}
		return struct{}{}
	})

	scores := parallelMap(xs[split.Train:], o.Workers, func(x Vector) []float64 { return c.scoreVector(x, nil) })
	valScores, testScores := scores[:split.Validation], scores[split.Validation:]
	valTruth, testTruth := truth[split.Train:split.Train+split.Validation], truth[split.Train+split.Validation:]
	for l := range c.Labels {
		s, t := make([]float64, len(valScores)), make([]bool, len(valScores))
		for i := range valScores {
			s[i], t[i] = valScores[i][l], valTruth[i][l]
		}
		c.Labels[l].Threshold, c.Labels[l].Calibrated = calibrate(s, t, o.TargetPrecision, o.MinPredicted)
	}

	m := evaluate(c, testScores, testTruth)
	m.Skipped = skipped
	m.Extra = map[string]float64{
		"targetPrecision":    o.TargetPrecision,
		"trainIssues":        float64(split.Train),
		"validationIssues":   float64(split.Validation),
		"testIssues":         float64(split.Test),
		"vocabularySize":     float64(len(vec.Vocabulary)),
		"calibratedLabels":   float64(countCalibrated(c)),
		"minTrainingExample": float64(o.MinExamples),
	}
	return &TrainResult{Classifier: c, Metrics: m, Split: split}, nil
}

// extractFeatures tokenises every issue, fits the vocabulary on the first nTrain and turns
// every issue into a TF-IDF vector.
func extractFeatures(issues []Issue, nTrain int, o TrainOptions) (*Vectorizer, []Vector) {
	tokens := parallelMap(issues, o.Workers, func(iss Issue) []string { return Tokens(iss.Title, iss.Body) })
	vec := FitVectorizer(tokens[:nTrain], o.MinDF, o.MaxTerms)
	return vec, parallelMap(tokens, o.Workers, vec.Transform)
}

// chooseLabels returns the labels with at least min training examples, most frequent first,
// and the sorted names of every other label seen anywhere in the data.
func chooseLabels(train, all []Issue, min int) (kept, skipped []string) {
	freq := map[string]int{}
	for _, iss := range all {
		for _, l := range iss.Labels {
			freq[l] += 0
		}
	}
	for _, iss := range train {
		seen := map[string]bool{}
		for _, l := range iss.Labels {
			if !seen[l] {
				seen[l] = true
				freq[l]++
			}
		}
	}
	for l, k := range freq {
		if k >= min {
			kept = append(kept, l)
		} else {
			skipped = append(skipped, l)
		}
	}
	slices.SortFunc(kept, func(a, b string) int { return cmp.Or(freq[b]-freq[a], cmp.Compare(a, b)) })
	slices.Sort(skipped)
	return kept, skipped
}

func countCalibrated(c *Classifier) int {
	n := 0
	for _, l := range c.Labels {
		if l.Calibrated {
			n++
		}
	}
	return n
}

// parallelMap applies f to every element with up to workers goroutines; out[i] = f(in[i]),
// so the result does not depend on scheduling.
func parallelMap[T, U any](in []T, workers int, f func(T) U) []U {
	out := make([]U, len(in))
	workers = max(1, min(workers, len(in)))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(in); i += workers {
				out[i] = f(in[i])
			}
		})
	}
	wg.Wait()
	return out
}
