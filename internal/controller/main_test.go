package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/testenv"
	"github.com/modelsync/modelsync/internal/testutil"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	// MODELSYNC_TEST_LOG=1 shows the controllers' logs.
	if os.Getenv("MODELSYNC_TEST_LOG") != "" {
		ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug - 3})))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	testenv.Main(m, &env)
}

// controllerUser is the identity the tests run the controller as: the ServiceAccount of the kpt
// package, bound to the generated RBAC. A missing permission fails the tests.
const controllerUser = "system:serviceaccount:modelsync-system:modelsync-controller"

var installRBAC sync.Once

// applyPackageRBAC installs the package's namespace, ServiceAccount, generated roles and bindings.
func applyPackageRBAC(t testing.TB) {
	t.Helper()
	installRBAC.Do(func() {
		pkg := filepath.Join(env.Root, "kpt-packages", "modelsync")
		kubectl(t, "apply", "--server-side",
			"-f", filepath.Join(pkg, "controller", "namespace.yaml"),
			"-f", filepath.Join(pkg, "controller", "service_account.yaml"),
			"-f", filepath.Join(pkg, "rbac", "role.yaml"),
			"-f", filepath.Join(pkg, "controller", "role_binding.yaml"))
	})
}

func kubectl(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// testOptions are fast options for one test namespace.
func testOptions(ns string) Options {
	opts := DefaultOptions()
	opts.MetricsAddr, opts.HealthAddr = "0", "0"
	opts.LeaderElection = false
	opts.RetryBase = 100 * time.Millisecond
	opts.Namespaces = []string{ns}
	return opts
}

// running is a controller started by a test.
type running struct {
	mgr    ctrl.Manager
	r      *Reconciler
	cancel context.CancelFunc
	done   chan error
}

// newController builds a controller as the package's ServiceAccount; adjust runs before start.
func newController(t testing.TB, opts Options) *running {
	t.Helper()
	applyPackageRBAC(t)
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: controllerUser}
	mgr, r, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &running{mgr: mgr, r: r}
}

func (c *running) start(t testing.TB) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan error, 1)
	go func() { c.done <- c.mgr.Start(ctx) }()
	t.Cleanup(c.stop)
	return c
}

// stop stops the controller and waits for it (it may be called twice).
func (c *running) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
}

func startController(t testing.TB, ns string) *running {
	t.Helper()
	return newController(t, testOptions(ns)).start(t)
}

// lambda is a loopback needs-sync endpoint. Each ModelSync asks its own path /<name>.
type lambda struct {
	srv  *httptest.Server
	mu   sync.Mutex
	by   map[string]http.HandlerFunc
	hits map[string]int
}

func newLambda(t testing.TB) *lambda {
	l := &lambda{by: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := strings.TrimPrefix(req.URL.Path, "/")
		l.mu.Lock()
		l.hits[name]++
		h := l.by[name]
		l.mu.Unlock()
		if h == nil {
			http.NotFound(w, req)
			return
		}
		h(w, req)
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *lambda) url(name string) string { return l.srv.URL + "/" + name }

func (l *lambda) handle(name string, h http.HandlerFunc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by[name] = h
}

// answer makes the lambda of name answer needsSync with the given parameters.
func (l *lambda) answer(name string, needsSync bool, params map[string]string) {
	body, _ := json.Marshal(automlv1alpha1.NewNeedsSync(needsSync, params))
	l.handle(name, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

func (l *lambda) count(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hits[name]
}

// newModelSync returns a ModelSync whose lambda answers under name, mapping "name" to "automl-model".
func newModelSync(ns, name, url string) *automlv1alpha1.ModelSync {
	return &automlv1alpha1.ModelSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: automlv1alpha1.ModelSyncSpec{
			NeedsSyncURL: url,
			Parameters:   []automlv1alpha1.ParameterMapping{{NeedsSyncName: "name", PipelineName: "automl-model"}},
			PipelineRunTemplate: automlv1alpha1.PipelineRunTemplate{
				Metadata: automlv1alpha1.TemplateMetadata{
					Labels:      map[string]string{"app": "label-bot"},
					Annotations: map[string]string{"team": "ml"},
				},
				Spec: runtime.RawExtension{Raw: []byte(`{"pipelineRef":{"name":"update-model-pr"},` +
					`"params":[{"name":"automl-model","value":"none"},{"name":"branchName","value":"auto-update"}]}`)},
			},
			Interval: &metav1.Duration{Duration: time.Hour},
			Timeout:  &metav1.Duration{Duration: time.Second},
		},
	}
}

func create(t testing.TB, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("failed to create %T %s: %v", obj, obj.GetName(), err)
	}
}

func getMS(t testing.TB, ns, name string) *automlv1alpha1.ModelSync {
	t.Helper()
	ms := &automlv1alpha1.ModelSync{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ms); err != nil {
		t.Fatalf("failed to get ModelSync %s: %v", name, err)
	}
	return ms
}

// patchMS applies a JSON merge patch to a ModelSync.
func patchMS(t testing.TB, ns, name string, patch map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(patch)
	ms := &automlv1alpha1.ModelSync{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Patch(context.Background(), ms, client.RawPatch("application/merge-patch+json", raw)); err != nil {
		t.Fatalf("failed to patch ModelSync %s: %v", name, err)
	}
}

// requestSync writes a manual trigger with a fresh requested-at value and returns the value.
func requestSync(t testing.TB, ns, name string, force bool, params string) string {
	t.Helper()
	at := time.Now().UTC().Format(time.RFC3339Nano)
	annotations := map[string]any{
		automlv1alpha1.AnnotationRequestedAt: at,
		automlv1alpha1.AnnotationForce:       fmt.Sprint(force),
	}
	if params != "" {
		annotations[automlv1alpha1.AnnotationRequestedParameters] = params
	}
	patchMS(t, ns, name, map[string]any{"metadata": map[string]any{"annotations": annotations}})
	return at
}

// listRunObjects lists the PipelineRuns of a namespace straight from the API server.
func listRunObjects(t testing.TB, ns string) []unstructured.Unstructured {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(runListGVK)
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatalf("failed to list PipelineRuns: %v", err)
	}
	return list.Items
}

func runNames(t testing.TB, ns string) []string {
	var names []string
	for _, u := range listRunObjects(t, ns) {
		names = append(names, u.GetName())
	}
	return names
}

// finishRun plays Tekton: it marks a run Succeeded=True or False through the status subresource.
func finishRun(t testing.TB, ns, name string, ok bool) {
	t.Helper()
	u := newRunObject()
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("failed to get PipelineRun %s: %v", name, err)
	}
	status, reason := "True", "Succeeded"
	if !ok {
		status, reason = "False", "Failed"
	}
	now := time.Now().UTC().Format(time.RFC3339)
	u.Object["status"] = map[string]any{
		"startTime":      u.GetCreationTimestamp().UTC().Format(time.RFC3339),
		"completionTime": now,
		"conditions": []any{map[string]any{
			"type": "Succeeded", "status": status, "reason": reason, "lastTransitionTime": now,
		}},
	}
	if err := env.Client.Status().Update(context.Background(), u); err != nil {
		t.Fatalf("failed to write the status of PipelineRun %s: %v", name, err)
	}
}

// eventually polls cond until it holds or the timeout passes; cond says what it waits for.
var eventually = testutil.Eventually

// waitMS waits until the ModelSync satisfies cond.
func waitMS(t testing.TB, ns, name string, what string, cond func(*automlv1alpha1.ModelSync) bool) *automlv1alpha1.ModelSync {
	t.Helper()
	var ms *automlv1alpha1.ModelSync
	eventually(t, waitLimit, func() (bool, string) {
		ms = getMS(t, ns, name)
		status, _ := json.Marshal(ms.Status)
		return cond(ms), fmt.Sprintf("ModelSync %s: %s (status: %s)", name, what, status)
	})
	return ms
}

// eventNotes returns the notes of the events with the reason about the named object.
func eventNotes(t testing.TB, ns, name, reason string) []string {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatalf("failed to list events: %v", err)
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

func waitEvent(t testing.TB, ns, name, reason, contains string) {
	t.Helper()
	eventually(t, waitLimit, func() (bool, string) {
		for _, note := range eventNotes(t, ns, name, reason) {
			if strings.Contains(note, contains) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("event %s on %s containing %q", reason, name, contains)
	})
}

func condition(ms *automlv1alpha1.ModelSync, kind string) metav1.Condition {
	for _, c := range ms.Status.Conditions {
		if c.Type == kind {
			return c
		}
	}
	return metav1.Condition{}
}

func getRun(t testing.TB, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := newRunObject()
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("failed to get PipelineRun %s: %v", name, err)
	}
	return u
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitLimit bounds every wait of the tests. It is generous because the machines that run them
// are shared and busy; a passing test waits far less.
const waitLimit = time.Minute
