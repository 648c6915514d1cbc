package labelbot

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// titlePrefix marks title tokens, which are features of their own next to the plain token:
// a word in the title says more about an issue than the same word deep in its body.
const titlePrefix = "t:"

// Token length bounds: shorter tokens are mostly noise, longer ones hashes and paths.
const (
	minTokenLen = 2
	maxTokenLen = 40
)

// appendTokens lowercases s, splits it on anything that is not a letter or digit, and appends
// the tokens (with prefix) to dst.
func appendTokens(dst []string, s, prefix string) []string {
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		n := end - start
		if n >= minTokenLen && n <= maxTokenLen {
			dst = append(dst, prefix+strings.ToLower(s[start:end]))
		}
		start = -1
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	return dst
}

// Tokens returns the features' tokens of an issue: body and title words, plus prefixed title words.
func Tokens(title, body string) []string {
	toks := make([]string, 0, 64)
	toks = appendTokens(toks, title, "")
	toks = appendTokens(toks, title, titlePrefix)
	return appendTokens(toks, body, "")
}

// Vector is a sparse feature vector: sorted indices and their values.
type Vector struct {
	Index []int32
	Value []float32
}

// Vectorizer turns text into L2-normalised TF-IDF vectors over a fixed vocabulary.
type Vectorizer struct {
	// Vocabulary is sorted, so that a term's index is its rank.
	Vocabulary []string
	// IDF holds the inverse document frequency of each term.
	IDF []float32

	index map[string]int32
}

// FitVectorizer builds the vocabulary from the documents: terms found in at least minDF of them,
// the maxTerms most frequent (ties broken by the term), with smoothed IDF weights.
func FitVectorizer(docs [][]string, minDF, maxTerms int) *Vectorizer {
	df := map[string]int{}
	seen := map[string]struct{}{}
	for _, doc := range docs {
		clear(seen)
		for _, t := range doc {
			if _, ok := seen[t]; !ok {
				seen[t] = struct{}{}
				df[t]++
			}
		}
	}
	terms := make([]string, 0, len(df))
	for t, n := range df {
		if n >= minDF {
			terms = append(terms, t)
		}
	}
	slices.SortFunc(terms, func(a, b string) int {
		if df[a] != df[b] {
			return df[b] - df[a]
		}
		return strings.Compare(a, b)
	})
	if maxTerms > 0 && len(terms) > maxTerms {
		terms = terms[:maxTerms]
	}
	slices.Sort(terms)
	v := &Vectorizer{Vocabulary: terms, IDF: make([]float32, len(terms))}
	n := float64(len(docs))
	for i, t := range terms {
		v.IDF[i] = float32(math.Log((1+n)/(1+float64(df[t]))) + 1)
	}
	v.buildIndex()
	return v
}

func (v *Vectorizer) buildIndex() {
	v.index = make(map[string]int32, len(v.Vocabulary))
	for i, t := range v.Vocabulary {
		v.index[t] = int32(i)
	}
}

// Transform turns tokens into a vector: sublinear term frequency times IDF, L2-normalised.
// Terms outside the vocabulary are ignored.
func (v *Vectorizer) Transform(tokens []string) Vector {
	ids := make([]int32, 0, len(tokens))
	for _, t := range tokens {
		if i, ok := v.index[t]; ok {
			ids = append(ids, i)
		}
	}
	slices.Sort(ids)
	vec := Vector{Index: make([]int32, 0, len(ids)), Value: make([]float32, 0, len(ids))}
	var norm float64
	for k := 0; k < len(ids); {
		n := 1
		for k+n < len(ids) && ids[k+n] == ids[k] {
			n++
		}
		w := (1 + math.Log(float64(n))) * float64(v.IDF[ids[k]])
		vec.Index = append(vec.Index, ids[k])
		vec.Value = append(vec.Value, float32(w))
		norm += w * w
		k += n
	}
	if norm > 0 {
		inv := 1 / math.Sqrt(norm)
		for k := range vec.Value {
			vec.Value[k] = float32(float64(vec.Value[k]) * inv)
		}
	}
	return vec
}
