package localrun

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkRunOverhead measures what the runner adds to a run's own work: a 1-task, 3-step
// PipelineRun whose steps each run `true`, executed through the API server (create, status
// writes, TaskRun and Pod objects, logs), against the baseline of running the same three
// scripts directly, measured in the same loop. It reports ms per run and the ratio.
func BenchmarkRunOverhead(b *testing.B) {
	ns := env.Namespace(b)
	r := newRunner(b, func(o *Options) { o.Progress = nil })
	ctx := context.Background()
	var direct, local time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		for range 3 {
			if out, err := exec.Command("/bin/sh", "-c", "true").CombinedOutput(); err != nil {
				b.Fatalf("sh: %v\n%s", err, out)
			}
		}
		direct += time.Since(start)

		name := fmt.Sprintf("bench-%d", i)
		start = time.Now()
		apply(b, ns, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: `+name+`
spec:
  pipelineSpec:
    tasks:
      - name: t
        taskSpec:
          steps:
            - {name: a, image: x, script: "#!/bin/sh\ntrue\n"}
            - {name: b, image: x, script: "#!/bin/sh\ntrue\n"}
            - {name: c, image: x, script: "#!/bin/sh\ntrue\n"}
`)
		if err := r.Run(ctx, ns, name); err != nil {
			b.Fatal(err)
		}
		local += time.Since(start)
		if s, _, msg := condition(getRun(b, ns, name)); s != "True" {
			b.Fatalf("run %s: %s %s", name, s, msg)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Milliseconds())/n, "direct-ms/run")
	b.ReportMetric(float64(local.Milliseconds())/n, "localrun-ms/run")
	b.ReportMetric(float64(local)/float64(direct), "x-direct")
}
