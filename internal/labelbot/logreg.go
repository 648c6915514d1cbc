package labelbot

import (
	"math"
	"math/rand/v2"
)

// sgdOptions tune the logistic regression fitted for each label.
type sgdOptions struct {
	Epochs int
	// Lambda is the L2 penalty.
	Lambda float64
	// Eta0 is the initial learning rate; it decays as 1/(1 + Eta0*Lambda*t).
	Eta0 float64
}

func (o sgdOptions) withDefaults() sgdOptions {
	if o.Epochs <= 0 {
		o.Epochs = 8
	}
	if o.Lambda <= 0 {
		o.Lambda = 1e-5
	}
	if o.Eta0 <= 0 {
		o.Eta0 = 0.5
	}
	return o
}

// fitLogistic fits one binary L2-regularised logistic regression by stochastic gradient
// descent over a shuffled order drawn from rng. The weight vector is kept as scale*v so that
// the L2 shrinkage of every coordinate costs one multiplication per step.
func fitLogistic(xs []Vector, ys []bool, dim int, rng *rand.Rand, o sgdOptions) ([]float64, float64) {
	o = o.withDefaults()
	v := make([]float64, dim)
	scale, bias := 1.0, 0.0
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	t := 0.0
	for range o.Epochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			x := xs[i]
			eta := o.Eta0 / (1 + o.Eta0*o.Lambda*t)
			t++
			z := bias
			for k, j := range x.Index {
				z += scale * v[j] * float64(x.Value[k])
			}
			g := sigmoid(z)
			if ys[i] {
				g--
			}
			scale *= 1 - eta*o.Lambda
			if scale < 1e-6 {
				for j := range v {
					v[j] *= scale
				}
				scale = 1
			}
			step := eta * g / scale
			for k, j := range x.Index {
				v[j] -= step * float64(x.Value[k])
			}
			bias -= eta * g * 0.1
		}
	}
	for j := range v {
		v[j] *= scale
	}
	return v, bias
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
