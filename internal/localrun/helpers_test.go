package localrun

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/internal/testenv"
)

var (
	env   *testenv.Env
	caDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "localrun-ca-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caDir = dir
	caFile, err := NewKubeletCA(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testenv.MainWith(m, &env, testenv.Options{APIServerArgs: map[string]string{"kubelet-certificate-authority": caFile}})
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func newRunner(t testing.TB, mutate ...func(*Options)) *Runner {
	t.Helper()
	opts := Options{Config: env.Config, Dir: t.TempDir(), Progress: testWriter{t}, KubeletCADir: caDir, PollInterval: 200 * time.Millisecond}
	for _, m := range mutate {
		m(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

var kinds = map[string]schema.GroupVersionResource{
	"Pipeline":    pipelinesGVR,
	"Task":        tasksGVR,
	"PipelineRun": pipelineRunsGVR,
	"Secret":      {Version: "v1", Resource: "secrets"},
	"ConfigMap":   {Version: "v1", Resource: "configmaps"},
}

func dyn(t testing.TB) dynamic.Interface {
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// apply creates the objects of a multi-document YAML in namespace ns.
func apply(t testing.TB, ns, docs string) {
	t.Helper()
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("bad YAML: %v\n%s", err, doc)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		u.SetNamespace(ns)
		gvr, ok := kinds[u.GetKind()]
		if !ok {
			t.Fatalf("apply: unknown kind %q", u.GetKind())
		}
		if _, err := dyn(t).Resource(gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("failed to create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func getRun(t testing.TB, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := dyn(t).Resource(pipelineRunsGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// runNow creates the objects and executes the run named name synchronously.
func runNow(t testing.TB, r *Runner, ns, name, docs string) *unstructured.Unstructured {
	t.Helper()
	apply(t, ns, docs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.Run(ctx, ns, name); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return getRun(t, ns, name)
}

// condition returns status, reason and message of the run's Succeeded condition.
func condition(u *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == "Succeeded" {
			return fmt.Sprint(m["status"]), fmt.Sprint(m["reason"]), fmt.Sprint(m["message"])
		}
	}
	return "", "", ""
}

func wantCondition(t testing.TB, u *unstructured.Unstructured, status, reason string, msgParts ...string) {
	t.Helper()
	s, r, m := condition(u)
	if s != status || r != reason {
		t.Fatalf("condition = %s/%s (%s), want %s/%s", s, r, m, status, reason)
	}
	for _, p := range msgParts {
		if !strings.Contains(m, p) {
			t.Errorf("message %q does not contain %q", m, p)
		}
	}
}
