package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/golden"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/internal/testenv"
	"github.com/modelsync/modelsync/internal/testutil"
	"github.com/modelsync/modelsync/plugin"
	"github.com/modelsync/modelsync/plugin/steplogs"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // the tests' client logs nothing worth reading
	testenv.Main(m, &env)
}

// now is the clock of the commands under test. Objects are created at the real time, 30 days
// earlier (and a half day), so their ages print as "30d" whatever second they were created in; times the test
// writes itself (status, events) are set relative to now, so every printed value is stable.
var now = time.Now().UTC().Add(30*24*time.Hour + 12*time.Hour).Truncate(time.Second)

func ago(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-d)} }

// result is one run of the plugin.
type result struct {
	Code           int
	Stdout, Stderr string
}

// String is the golden form: exit code, stdout and stderr.
func (r result) String() string {
	return fmt.Sprintf("exit: %d\n--- stdout\n%s--- stderr\n%s", r.Code, r.Stdout, r.Stderr)
}

// syncBuffer is a buffer that a test may read while a command writes it.
type syncBuffer struct{ testutil.SyncBuffer }

// waitFor polls the buffer until it contains want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, func() (bool, string) {
		return strings.Contains(s.String(), want), fmt.Sprintf("%q in output:\n%s", want, s.String())
	})
}

// options tune one run of the plugin.
type options struct {
	logs    steplogs.Source
	stdout  *syncBuffer
	stderr  *syncBuffer
	wrapCfg func(*rest.Config)
}

// kubectl runs `kubectl modelsync args...` in-process against the test control plane.
func kubectl(ctx context.Context, o options, args ...string) result {
	if o.stdout == nil {
		o.stdout = &syncBuffer{}
	}
	if o.stderr == nil {
		o.stderr = &syncBuffer{}
	}
	common := &plugin.Common{
		IOStreams:    genericiooptions.IOStreams{In: strings.NewReader(""), Out: o.stdout, ErrOut: o.stderr},
		Now:          func() time.Time { return now },
		LogSource:    o.logs,
		PollInterval: 20 * time.Millisecond,
		WrapConfig:   o.wrapCfg,
	}
	code := plugin.Execute(ctx, common, append([]string{"--kubeconfig", env.Kubeconfig}, args...))
	return result{Code: code, Stdout: o.stdout.String(), Stderr: o.stderr.String()}
}

func run(args ...string) result { return kubectl(context.Background(), options{}, args...) }

var (
	uidPattern     = regexp.MustCompile(`("?uid"?: )"?[0-9a-f-]{36}"?`)
	rvPattern      = regexp.MustCompile(`("?resourceVersion"?: )"?[0-9]+"?`)
	createdPattern = regexp.MustCompile(`("?creationTimestamp"?: )"?[0-9TZ:-]+"?`)
)

var timePattern = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// stable replaces the values the API server chooses (uid, resourceVersion, creation time),
// and writes the times the test chose relative to the test clock ("<now-2m0s>").
func stable(s string) string {
	s = uidPattern.ReplaceAllString(s, `${1}"<uid>"`)
	s = rvPattern.ReplaceAllString(s, `${1}"<rv>"`)
	s = createdPattern.ReplaceAllString(s, `${1}"<created>"`)
	return timePattern.ReplaceAllStringFunc(s, func(v string) string {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || now.Sub(t).Abs() > 60*24*time.Hour {
			return v
		}
		return "<now-" + now.Sub(t).String() + ">"
	})
}

func assertGolden(t *testing.T, r result) {
	t.Helper()
	golden.Assert(t, []byte(stable(r.String())))
}

// namespace creates a namespace with a fixed name (so that golden files can show it). With
// -count > 1 the namespace exists already (the test control plane runs no namespace controller
// to finish deleting it): it is emptied instead.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := env.Client.Create(ctx, ns)
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			t.Fatalf("failed to create namespace %s: %v", name, err)
		}
		return name
	}
	runs := &unstructured.Unstructured{}
	runs.SetAPIVersion("tekton.dev/v1")
	runs.SetKind("PipelineRun")
	for _, obj := range []client.Object{&automlv1alpha1.ModelSync{}, runs, &corev1.Pod{}, &corev1.Event{}} {
		if err := env.Client.DeleteAllOf(ctx, obj, client.InNamespace(name), client.GracePeriodSeconds(0)); err != nil {
			t.Fatalf("failed to empty namespace %s: %v", name, err)
		}
	}
	return name
}

const templateSpec = `{"pipelineRef":{"name":"update-model-pr"},"params":[{"name":"automl-model","value":"none"},{"name":"branchName","value":"auto-update"}],"taskRunTemplate":{"serviceAccountName":"auto-update"}}`

// newModelSync creates a ModelSync with a v1 template and a name → automl-model mapping.
func newModelSync(t *testing.T, ns, name string, mutate func(*automlv1alpha1.ModelSync)) *automlv1alpha1.ModelSync {
	t.Helper()
	ms := &automlv1alpha1.ModelSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"team": "nlp"}},
		Spec: automlv1alpha1.ModelSyncSpec{
			NeedsSyncURL: "http://lambdas." + ns + "/needsSync",
			Parameters:   []automlv1alpha1.ParameterMapping{{NeedsSyncName: "name", PipelineName: "automl-model"}},
			PipelineRunTemplate: automlv1alpha1.PipelineRunTemplate{
				Metadata: automlv1alpha1.TemplateMetadata{Labels: map[string]string{"app": "label-bot"}},
				Spec:     runtime.RawExtension{Raw: []byte(templateSpec)},
			},
		},
	}
	if mutate != nil {
		mutate(ms)
	}
	status := ms.Status
	if err := env.Client.Create(context.Background(), ms); err != nil {
		t.Fatalf("failed to create modelsync %s: %v", name, err)
	}
	if status.LastNeedsSync != nil || len(status.Conditions) > 0 || status.LastRun != nil {
		ms.Status = status
		if err := env.Client.Status().Update(context.Background(), ms); err != nil {
			t.Fatalf("failed to update the status of modelsync %s: %v", name, err)
		}
	}
	return ms
}

// setStatus writes the status of a ModelSync through the status subresource, as the controller would.
func setStatus(t *testing.T, ms *automlv1alpha1.ModelSync, mutate func(*automlv1alpha1.ModelSyncStatus)) {
	t.Helper()
	ctx := context.Background()
	fresh := &automlv1alpha1.ModelSync{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ms), fresh); err != nil {
		t.Fatalf("failed to get modelsync %s: %v", ms.Name, err)
	}
	mutate(&fresh.Status)
	if err := env.Client.Status().Update(ctx, fresh); err != nil {
		t.Fatalf("failed to update the status of modelsync %s: %v", ms.Name, err)
	}
}

func condition(typ string, status metav1.ConditionStatus, reason, message string, age time.Duration) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: *ago(age)}
}

// runState is the Tekton status the test writes on a run.
type runState struct {
	Succeeded metav1.ConditionStatus // "" leaves the run without status
	Reason    string
	Message   string
	Started   time.Duration // ago
	Took      time.Duration // 0 while running
}

// newRun creates run n of ms as the controller would (rendered by internal/pipelinerun) and
// plays Tekton by writing its status through the status subresource.
func newRun(t *testing.T, ms *automlv1alpha1.ModelSync, n int64, trigger automlv1alpha1.Trigger, params map[string]string, st runState) *unstructured.Unstructured {
	t.Helper()
	res, err := pipelinerun.Render(ms, pipelinerun.Input{Number: n, Parameters: params, Trigger: trigger})
	if err != nil {
		t.Fatalf("failed to render run %d of %s: %v", n, ms.Name, err)
	}
	u := res.PipelineRun
	if err := env.Client.Create(context.Background(), u); err != nil {
		t.Fatalf("failed to create pipelinerun %s: %v", u.GetName(), err)
	}
	if st.Succeeded != "" {
		setRunStatus(t, u, st)
	}
	return u
}

func setRunStatus(t *testing.T, u *unstructured.Unstructured, st runState) {
	t.Helper()
	status := map[string]any{
		"startTime": ago(st.Started).UTC().Format(time.RFC3339),
		"conditions": []any{map[string]any{
			"type": "Succeeded", "status": string(st.Succeeded), "reason": st.Reason, "message": st.Message,
			"lastTransitionTime": now.Format(time.RFC3339),
		}},
	}
	if st.Took > 0 {
		status["completionTime"] = ago(st.Started - st.Took).UTC().Format(time.RFC3339)
	}
	patch, _ := json.Marshal(map[string]any{"status": status})
	if err := env.Client.Status().Patch(context.Background(), u, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatalf("failed to write the status of pipelinerun %s: %v", u.GetName(), err)
	}
}

// newPod creates the pod of one task of a run, with step containers and a sidecar.
func newPod(t *testing.T, ns, run, task string, steps ...string) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: run + "-" + task + "-pod",
		Labels: map[string]string{steplogs.LabelPipelineRun: run, steplogs.LabelPipelineTask: task, steplogs.LabelTaskRun: run + "-" + task},
	}}
	for _, s := range steps {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: steplogs.StepPrefix + s, Image: "example.invalid/step"})
	}
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "sidecar-proxy", Image: "example.invalid/sidecar"})
	if err := env.Client.Create(context.Background(), pod); err != nil {
		t.Fatalf("failed to create pod: %v", err)
	}
}

// newEvent records an event on a ModelSync, as the controller's recorder would.
func newEvent(t *testing.T, ms *automlv1alpha1.ModelSync, name, typ, reason, message string, age time.Duration) {
	t.Helper()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ms.Namespace, Name: ms.Name + "." + name},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: automlv1alpha1.GroupVersion.String(), Kind: automlv1alpha1.ModelSyncKind,
			Namespace: ms.Namespace, Name: ms.Name, UID: ms.UID,
		},
		Type: typ, Reason: reason, Message: message,
		Source:        corev1.EventSource{Component: "modelsync-controller"},
		LastTimestamp: *ago(age), FirstTimestamp: *ago(age), Count: 1,
	}
	if err := env.Client.Create(context.Background(), ev); err != nil {
		t.Fatalf("failed to create event: %v", err)
	}
}

// mapSource serves step logs from memory, keyed by pod/container.
type mapSource map[string]string

func (m mapSource) Open(_ context.Context, s steplogs.Step, _ bool) (io.ReadCloser, error) {
	text, ok := m[s.Key()]
	if !ok {
		return nil, fmt.Errorf("no log for %s", s.Key())
	}
	return io.NopCloser(strings.NewReader(text)), nil
}
