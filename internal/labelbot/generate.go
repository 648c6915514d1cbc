package labelbot

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// GenerateOptions shape a generated demo data set.
type GenerateOptions struct {
	// N is the number of issues.
	N int
	// Seed makes the data set reproducible: the same options give the same issues.
	Seed uint64
	// Start is the creation time of the first issue; issues are spaced about an hour apart.
	Start time.Time
	// LabelNoise is the chance that an issue carries a label whose words it does not contain
	// and the chance that it lacks one whose words it does (0 uses 0.08).
	LabelNoise float64
	// DecoyRate is the chance that an issue borrows a word of a label it does not carry (0 uses 0.2).
	DecoyRate float64
}

// demoLabel is a label of the demo data: its frequency and the words that signal it.
type demoLabel struct {
	name  string
	share float64
	words []string
}

// demoLabels are written for this project. "translation" is deliberately rare so that training
// has a label to skip.
var demoLabels = []demoLabel{
	{"bug", 0.30, strings.Fields("crash crashes panic broken wrong fails failure segfault regression nil exception traceback unexpected incorrect stuck hangs corrupted error errors")},
	{"feature", 0.24, strings.Fields("add support option allow would nice proposal request idea enable new ability extend configurable wish introduce flag could")},
	{"question", 0.16, strings.Fields("how why what possible anyone help understand clarify unsure confused wondering explain advice recommended usage example guidance")},
	{"documentation", 0.12, strings.Fields("docs documentation readme typo guide tutorial wording page link section reference manual spelling outdated describe")},
	{"performance", 0.08, strings.Fields("slow latency memory cpu throughput faster allocation leak profiling benchmark heap speed expensive quadratic cache")},
	{"security", 0.05, strings.Fields("vulnerability cve token leak injection escape secret credential exploit sanitize unauthorized permission xss tls certificate")},
	{"ui", 0.07, strings.Fields("button screen layout color font dialog render pixel theme dark icon menu click scroll responsive")},
	{"build", 0.06, strings.Fields("compile compiler makefile linker dependency toolchain ci pipeline docker image vendored module version packaging release")},
	{"translation", 0.0008, strings.Fields("locale translate language strings localized german french japanese plural rtl")},
}

// DemoLabels returns the label names of the generated data set, most frequent first.
func DemoLabels() []string {
	out := make([]string, len(demoLabels))
	for i, l := range demoLabels {
		out[i] = l.name
	}
	return out
}

// backgroundWords builds a fixed vocabulary of made-up filler words from syllables, so that
// generated text never copies anything.
func backgroundWords() []string {
	onsets := strings.Fields("b d f g k l m n p r s t v z br tr st pl")
	vowels := strings.Fields("a e i o u ai ou")
	codas := []string{"", "n", "r", "s", "l", "x"}
	var words []string
	for _, o1 := range onsets {
		for _, v1 := range vowels {
			for _, c := range codas {
				for _, v2 := range vowels[:3] {
					words = append(words, o1+v1+c+onsets[(len(words)*7)%len(onsets)]+v2)
				}
			}
		}
	}
	return words
}

// Generate makes a seeded data set of issues with known structure: each label has its own
// words, issues mix them into filler text, and noise (wrong, missing and decoy labels) keeps
// the task from being trivially separable.
func Generate(opts GenerateOptions) ([]Issue, error) {
	if opts.N <= 0 {
		return nil, fmt.Errorf("failed to generate issues: count must be positive, got %d", opts.N)
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.LabelNoise == 0 {
		opts.LabelNoise = 0.08
	}
	if opts.DecoyRate == 0 {
		opts.DecoyRate = 0.2
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	filler := backgroundWords()
	issues := make([]Issue, opts.N)
	created := opts.Start.UTC()
	for i := range issues {
		var carried, signalled []int
		for li, l := range demoLabels {
			if rng.Float64() < l.share {
				carried = append(carried, li)
			}
		}
		for _, li := range carried {
			if rng.Float64() >= opts.LabelNoise {
				signalled = append(signalled, li)
			}
		}
		if rng.Float64() < opts.LabelNoise {
			carried = append(carried, rng.IntN(len(demoLabels)-1))
		}
		var decoy []int
		if rng.Float64() < opts.DecoyRate {
			decoy = append(decoy, rng.IntN(len(demoLabels)))
		}
		title, body := generateText(rng, filler, signalled, decoy)
		issues[i] = Issue{
			Title:     title,
			Body:      body,
			Labels:    labelNames(carried),
			CreatedAt: created,
			URL:       fmt.Sprintf("https://github.example/demo/labelbot/issues/%d", i+1),
		}
		created = created.Add(time.Duration(30+rng.IntN(60)) * time.Minute)
	}
	return issues, nil
}

// generateText writes filler text with one to four words of each signalled label and one
// word of each decoy label; a signalled label's words may also appear in the title.
func generateText(rng *rand.Rand, filler []string, signalled, decoy []int) (string, string) {
	pick := func(n int, extra []int, decoy []int) []string {
		words := make([]string, 0, n+8)
		for range n {
			words = append(words, filler[rng.IntN(len(filler))])
		}
		for _, li := range extra {
			vocab := demoLabels[li].words
			for range 1 + rng.IntN(4) {
				words = append(words, vocab[rng.IntN(len(vocab))])
			}
		}
		for _, li := range decoy {
			vocab := demoLabels[li].words
			words = append(words, vocab[rng.IntN(len(vocab))])
		}
		rng.Shuffle(len(words), func(a, b int) { words[a], words[b] = words[b], words[a] })
		return words
	}
	var inTitle []int
	for _, li := range signalled {
		if rng.Float64() < 0.4 {
			inTitle = append(inTitle, li)
		}
	}
	title := pick(3+rng.IntN(5), inTitle, nil)
	body := pick(20+rng.IntN(60), signalled, decoy)
	return strings.Join(title, " "), strings.Join(body, " ")
}

func labelNames(idx []int) []string {
	seen := make(map[int]bool, len(idx))
	names := []string{}
	for li := range demoLabels {
		for _, j := range idx {
			if j == li && !seen[li] {
				seen[li] = true
				names = append(names, demoLabels[li].name)
			}
		}
	}
	return names
}
