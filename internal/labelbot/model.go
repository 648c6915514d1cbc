package labelbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Names of the files in a model folder, next to the registry's model.json.
const (
	ClassifierFile = "classifier.json"
	ReportFile     = "report.html"
	// MetricsFile repeats the manifest's metrics alone, for publishers that build model.json
	// themselves (modelsync-registry publish --metrics).
	MetricsFile = "metrics.json"
)

// ClassifierFormat is the format tag of ClassifierFile; a loader refuses any other.
const ClassifierFormat = "labelbot.classifier/v1"

// Classifier is a trained model: the TF-IDF vocabulary and one linear scorer per label.
// It is what ClassifierFile holds, and all a predictor needs.
type Classifier struct {
	Format     string       `json:"format"`
	Vocabulary []string     `json:"vocabulary"`
	IDF        []float32    `json:"idf"`
	Labels     []LabelModel `json:"labels"`

	vecOnce sync.Once
	vec     *Vectorizer
}

// LabelModel scores one label: sigmoid(weights·x + bias), predicted when the score reaches Threshold.
type LabelModel struct {
	Name string `json:"name"`
	// Threshold is the decision threshold calibrated on validation data.
	Threshold float64 `json:"threshold"`
	// Calibrated is false when no threshold reached the target precision; the label is then
	// never predicted.
	Calibrated bool      `json:"calibrated"`
	Bias       float32   `json:"bias"`
	Weights    []float32 `json:"weights"`
}

// Prediction is a label whose score reached its threshold.
type Prediction struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

func (c *Classifier) vectorizer() *Vectorizer {
	c.vecOnce.Do(func() {
		if c.vec == nil {
			c.vec = &Vectorizer{Vocabulary: c.Vocabulary, IDF: c.IDF}
			c.vec.buildIndex()
		}
	})
	return c.vec
}

// scoreVector returns the score of every label for a feature vector.
func (c *Classifier) scoreVector(x Vector, dst []float64) []float64 {
	dst = dst[:0]
	for _, l := range c.Labels {
		z := float64(l.Bias)
		for k, j := range x.Index {
			z += float64(l.Weights[j]) * float64(x.Value[k])
		}
		dst = append(dst, sigmoid(z))
	}
	return dst
}

// Scores returns the score of every label (in the order of Labels) for an issue.
func (c *Classifier) Scores(title, body string) []float64 {
	return c.scoreVector(c.vectorizer().Transform(Tokens(title, body)), nil)
}

// Predict returns the labels whose scores reach their thresholds, highest score first.
func (c *Classifier) Predict(title, body string) []Prediction {
	scores := c.Scores(title, body)
	out := []Prediction{}
	for i, l := range c.Labels {
		if l.Calibrated && scores[i] >= l.Threshold {
			out = append(out, Prediction{Label: l.Name, Score: scores[i]})
		}
	}
	slices.SortStableFunc(out, func(a, b Prediction) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out
}

// Marshal encodes the classifier; equal classifiers give equal bytes.
func (c *Classifier) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("failed to encode classifier: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalClassifier decodes and checks a classifier file.
func UnmarshalClassifier(data []byte) (*Classifier, error) {
	var c Classifier
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", ClassifierFile, err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("invalid %s: %w", ClassifierFile, err)
	}
	c.vectorizer()
	return &c, nil
}

func (c *Classifier) validate() error {
	if c.Format != ClassifierFormat {
		return fmt.Errorf("field format is %q, want %q", c.Format, ClassifierFormat)
	}
	if len(c.IDF) != len(c.Vocabulary) {
		return fmt.Errorf("field idf has %d entries for %d vocabulary terms", len(c.IDF), len(c.Vocabulary))
	}
	for i := 1; i < len(c.Vocabulary); i++ {
		if c.Vocabulary[i-1] >= c.Vocabulary[i] {
			return fmt.Errorf("field vocabulary is not sorted and unique at index %d", i)
		}
	}
	if len(c.Labels) == 0 {
		return fmt.Errorf("field labels is empty")
	}
	names := map[string]bool{}
	for i, l := range c.Labels {
		switch {
		case l.Name == "":
			return fmt.Errorf("field labels[%d].name is empty", i)
		case names[l.Name]:
			return fmt.Errorf("field labels[%d].name %q is repeated", i, l.Name)
		case len(l.Weights) != len(c.Vocabulary):
			return fmt.Errorf("field labels[%d].weights has %d entries for %d vocabulary terms", i, len(l.Weights), len(c.Vocabulary))
		case math.IsNaN(l.Threshold) || l.Threshold < 0 || l.Threshold > 1:
			return fmt.Errorf("field labels[%d].threshold %v is not in [0, 1]", i, l.Threshold)
		}
		names[l.Name] = true
	}
	return nil
}
