package labelbot

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const benchIssues = 20000

// featurize is the baseline of BenchmarkTrain: the feature extraction that Train does (same
// split, same parallelism), with no model fitted.
func featurize(issues []Issue) {
	o := TrainOptions{}.withDefaults()
	extractFeatures(issues, len(issues)*7/10, o)
}

// BenchmarkFeatures20k measures feature extraction alone on 20,000 generated issues.
func BenchmarkFeatures20k(b *testing.B) {
	issues := generate(b, benchIssues, 1)
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		featurize(issues)
	}
	b.ReportMetric(float64(benchIssues)*float64(b.N)/b.Elapsed().Seconds(), "issues/s")
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkTrain20k measures a whole training run (features, eight epochs per label,
// calibration, evaluation) on 20,000 generated issues, and reports it as a multiple of the
// feature extraction measured in the same run, in wall-clock and in CPU time.
func BenchmarkTrain20k(b *testing.B) {
	issues := generate(b, benchIssues, 1)
	base, baseCPU := time.Duration(1<<63-1), time.Duration(1<<63-1)
	for range 3 { // the fastest of three: the machine is shared
		start, cpu := time.Now(), cpuTime()
		featurize(issues)
		base, baseCPU = min(base, time.Since(start)), min(baseCPU, cpuTime()-cpu)
	}
	var res *TrainResult
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		var err error
		if res, err = Train(issues, TrainOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	perRun := b.Elapsed() / time.Duration(b.N)
	perRunCPU := (cpuTime() - cpu) / time.Duration(b.N)
	b.ReportMetric(perRun.Seconds(), "s/train")
	b.ReportMetric(float64(perRun)/float64(base), "x-features")
	b.ReportMetric(perRunCPU.Seconds(), "cpu-s/train")
	b.ReportMetric(float64(perRunCPU)/float64(max(1, baseCPU)), "cpu-x-features")
	b.ReportMetric(res.Metrics.Macro.Precision, "macro-precision")
	b.ReportMetric(res.Metrics.Macro.Recall, "macro-recall")
	b.ReportMetric(res.Metrics.Micro.Precision, "micro-precision")
	b.ReportMetric(res.Metrics.Micro.Recall, "micro-recall")
}

func benchModel(b *testing.B) (*Classifier, []Issue) {
	res, err := Train(generate(b, 5000, 1), TrainOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return res.Classifier, generate(b, 1000, 2)
}

// BenchmarkPredict measures in-process predictions (tokenise, vectorise, score, threshold).
func BenchmarkPredict(b *testing.B) {
	c, issues := benchModel(b)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		iss := issues[i%len(issues)]
		c.Predict(iss.Title, iss.Body)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "predictions/s")
}

// BenchmarkServePredict measures POST /predict through HTTP on loopback, in parallel.
func BenchmarkServePredict(b *testing.B) {
	dir := b.TempDir()
	writeModel(b, dir, "bench", 1)
	s, err := NewServer(ServerOptions{Source: DirSource{Dir: dir}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	issues := generate(b, 1000, 2)
	bodies := make([][]byte, len(issues))
	for i, iss := range issues {
		bodies[i], _ = json.Marshal(PredictRequest{Title: iss.Title, Body: iss.Body})
	}
	client := srv.Client()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			resp, err := client.Post(srv.URL+"/predict", "application/json", bytes.NewReader(bodies[i%len(bodies)]))
			if err != nil {
				b.Error(err)
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "predictions/s")
}
