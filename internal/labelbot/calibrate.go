package labelbot

import (
	"slices"

	"github.com/modelsync/modelsync/internal/registry"
)

// Notes that explain a label's figures in model.json and the report.
const (
	NoteAbsent       = "absent from the held-out data: recall undefined, left out of the macro average"
	NoteUncalibrated = "no threshold reached the target precision on validation data: never predicted"
)

// calibrate returns the lowest threshold at which the precision on (scores, truth) is at least
// target with at least minPredicted predictions, i.e. the threshold of highest recall that meets
// the target. ok is false when no threshold does.
func calibrate(scores []float64, truth []bool, target float64, minPredicted int) (threshold float64, ok bool) {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	best, tp := 0, 0
	for k, i := range order {
		if truth[i] {
			tp++
		}
		n := k + 1
		if n < len(order) && scores[order[n]] == scores[i] {
			continue // a threshold cannot split equal scores
		}
		if n >= minPredicted && float64(tp) >= target*float64(n) {
			best = n
		}
	}
	if best == 0 {
		return 1, false
	}
	hi := scores[order[best-1]]
	if best == len(order) {
		return hi, true
	}
	lo := scores[order[best]]
	mid := lo + (hi-lo)/2
	if mid <= lo {
		mid = hi
	}
	return mid, true
}

// counts of one label's decisions on held-out data.
type counts struct{ tp, fp, fn int }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// evaluate measures the classifier's decisions (scores[i][l] against its thresholds) on
// held-out truth. Macro averages are over the labels present in the held-out data; a label
// absent from it is reported with a note rather than a division by zero.
func evaluate(c *Classifier, scores [][]float64, truth [][]bool) registry.Metrics {
	var (
		m      registry.Metrics
		total  counts
		macro  registry.Averages
		nMacro int
	)
	for l, lm := range c.Labels {
		var k counts
		for i := range scores {
			pred := lm.Calibrated && scores[i][l] >= lm.Threshold
			switch {
			case pred && truth[i][l]:
				k.tp++
			case pred:
				k.fp++
			case truth[i][l]:
				k.fn++
			}
		}
		total.tp, total.fp, total.fn = total.tp+k.tp, total.fp+k.fp, total.fn+k.fn
		p, r := ratio(k.tp, k.tp+k.fp), ratio(k.tp, k.tp+k.fn)
		out := registry.LabelMetrics{
			Label: lm.Name, Precision: p, Recall: r, Support: k.tp + k.fn,
			Threshold: lm.Threshold, Predicted: k.tp + k.fp,
		}
		switch {
		case !lm.Calibrated:
			out.Note = NoteUncalibrated
		case out.Support == 0:
			out.Note = NoteAbsent
		}
		if out.Support > 0 {
			macro.Precision += p
			macro.Recall += r
			macro.F1 += f1(p, r)
			nMacro++
		}
		m.Labels = append(m.Labels, out)
	}
	p, r := ratio(total.tp, total.tp+total.fp), ratio(total.tp, total.tp+total.fn)
	m.Micro = &registry.Averages{Precision: p, Recall: r, F1: f1(p, r)}
	if nMacro > 0 {
		n := float64(nMacro)
		m.Macro = &registry.Averages{Precision: macro.Precision / n, Recall: macro.Recall / n, F1: macro.F1 / n}
	}
	return m
}
