package main_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	"github.com/modelsync/modelsync/fn/set-automl-model/function"
	"github.com/modelsync/modelsync/internal/kpttest"
)

const benchResources = 1000

// benchPackage returns a ResourceList of n resources (Deployments, Services and ConfigMaps) where
// one field holds the model, marked with the given line comment, and the function config.
func benchPackage(n int, marker string, config map[string]string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")
	b.WriteString("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: label-bot\n    annotations:\n" +
		"      config.kubernetes.io/path: label-bot.yaml\n  data:\n    automl-model: old-model # " + marker + "\n")
	for i := 1; i < n; i++ {
		path := fmt.Sprintf("      config.kubernetes.io/path: app-%d.yaml\n", i/3)
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: app-%d\n    annotations:\n%s"+
				"  spec:\n    replicas: 2\n    selector:\n      matchLabels:\n        app: app-%d\n    template:\n"+
				"      metadata:\n        labels:\n          app: app-%d\n      spec:\n        containers:\n"+
				"        - name: app # the only container\n          image: registry.example.com/app:%d\n"+
				"          env:\n          - name: LOG_LEVEL\n            value: info\n", i, path, i, i, i)
		case 1:
			fmt.Fprintf(&b, "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: app-%d\n    annotations:\n%s"+
				"  spec:\n    selector:\n      app: app-%d\n    ports:\n    - port: 80\n      targetPort: 8080\n", i, path, i)
		default:
			fmt.Fprintf(&b, "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: app-%d\n    annotations:\n%s"+
				"  data:\n    log-level: \"info\"\n    feature: 'on'\n", i, path)
		}
	}
	b.WriteString("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: config\n  data:\n")
	for k, v := range config {
		fmt.Fprintf(&b, "    %s: %s\n", k, v)
	}
	return []byte(b.String())
}

// baselineCPU is the CPU time of an in-process no-op over the same ResourceList (parse and write
// only), measured by the first sub-benchmark. CPU time rather than wall time: the ratios then hold
// on a loaded machine.
var baselineCPU float64

// selfCPU returns the CPU time (user and system) used by this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds the CPU time per run, per resource, and its ratio to the no-op baseline.
func report(b *testing.B, cpu time.Duration) {
	perOp := float64(cpu.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	b.ReportMetric(perOp/benchResources, "cpu-ns/resource")
	if baselineCPU > 0 {
		b.ReportMetric(perOp/baselineCPU, "x-noop")
	}
}

// inProcess runs p over input b.N times in this process.
func inProcess(b *testing.B, p fn.ResourceListProcessor, input []byte, want string) time.Duration {
	start := selfCPU()
	for b.Loop() {
		out, err := fn.Run(p, input)
		if err != nil || !bytes.Contains(out, []byte(want)) {
			b.Fatalf("the function failed: %v\n%s", err, out)
		}
	}
	return selfCPU() - start
}

// runProcess runs the binary over input b.N times and returns the CPU time of the processes.
func runProcess(b *testing.B, bin string, input []byte) time.Duration {
	b.Helper()
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command(bin)
		cmd.Stdin = bytes.NewReader(input)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", bin, err, out.Bytes())
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if !bytes.Contains(out.Bytes(), []byte("new-model")) {
			b.Fatalf("%s did not set the model:\n%s", bin, out.Bytes())
		}
	}
	return cpu
}

// BenchmarkSetAutomlModel measures set-automl-model on a 1,000-resource package, in process and
// as the exec binary, against an in-process no-op over the same ResourceList (x-noop) and, when
// APPLY_SETTERS names its binary (`make bench` builds it), kpt's apply-setters on the equivalent
// package.
func BenchmarkSetAutomlModel(b *testing.B) {
	configMapMode := benchPackage(benchResources, "served model", map[string]string{"model": "new-model"})
	markerMode := benchPackage(benchResources, "modelsync-set: automl-model", map[string]string{"model": "new-model", "marker": "automl-model"})
	setters := benchPackage(benchResources, "kpt-set: ${automl-model}", map[string]string{"automl-model": "new-model"})

	b.Run("baseline-noop", func(b *testing.B) {
		noop := fn.ResourceListProcessorFunc(func(*fn.ResourceList) (bool, error) { return true, nil })
		cpu := inProcess(b, noop, configMapMode, "old-model")
		baselineCPU = float64(cpu.Nanoseconds()) / float64(b.N)
		report(b, cpu)
	})
	for _, tc := range []struct {
		name  string
		input []byte
	}{{"configmap", configMapMode}, {"marker", markerMode}} {
		b.Run("in-process-"+tc.name, func(b *testing.B) {
			report(b, inProcess(b, fn.WithContext(context.Background(), &function.SetAutomlModel{}), tc.input, "new-model"))
		})
	}
	f := kpttest.Build(b, pkg, "set-automl-model")
	bin := filepath.Join(f.BinDir, f.Name)
	b.Run("exec-configmap", func(b *testing.B) { report(b, runProcess(b, bin, configMapMode)) })
	b.Run("exec-marker", func(b *testing.B) { report(b, runProcess(b, bin, markerMode)) })
	b.Run("exec-apply-setters", func(b *testing.B) {
		setter := os.Getenv("APPLY_SETTERS")
		if setter == "" {
			b.Skip("APPLY_SETTERS is not set: run `make bench` to build kpt's apply-setters for the comparison")
		}
		report(b, runProcess(b, setter, setters))
	})
}
