package v1alpha1_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// validObject is a minimal ModelSync spec that the API server accepts; cases below break one field each.
func validObject(name string) map[string]any {
	return map[string]any{
		"apiVersion": "automl.cloudai.kubeflow.org/v1alpha1",
		"kind":       "ModelSync",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"needsSyncUrl": "http://lambda.ml/needsSync",
			"parameters": []any{
				map[string]any{"needsSyncName": "name", "pipelineName": "automl-model"},
			},
			"pipelineRunTemplate": map[string]any{
				"spec": map[string]any{"pipelineRef": map[string]any{"name": "update-model-pr"}},
			},
		},
	}
}

func create(t *testing.T, ns string, obj map[string]any) error {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	u.SetNamespace(ns)
	return env.Client.Create(context.Background(), u, client.FieldValidation("Strict"))
}

func TestFixtureAppliesUnchanged(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(env.Root, "testdata", "fixtures", "modelsync-sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The fixture names its own namespace; apply it there with the real kubectl, strictly.
	var fixture map[string]any
	if err := sigsyaml.Unmarshal(data, &fixture); err != nil {
		t.Fatal(err)
	}
	fixtureNS := fixture["metadata"].(map[string]any)["namespace"].(string)
	kubectl(t, "create", "namespace", fixtureNS)
	t.Cleanup(func() { kubectl(t, "delete", "namespace", fixtureNS, "--wait=false") })
	path := filepath.Join(t.TempDir(), "fixture.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "apply", "--server-side", "--validate=strict", "-f", path)

	got := &automlv1alpha1.ModelSync{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: fixtureNS, Name: "modelsync-sample"}, got); err != nil {
		t.Fatal(err)
	}
	// Nothing of the fixture's spec was pruned: reading it back gives the same values.
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(automlv1alpha1.GroupVersion.WithKind(automlv1alpha1.ModelSyncKind))
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(got), stored); err != nil {
		t.Fatal(err)
	}
	back := stored.Object["spec"].(map[string]any)
	for key, want := range fixture["spec"].(map[string]any) {
		if !reflect.DeepEqual(normalize(back[key]), normalize(want)) {
			t.Errorf("spec.%s changed on the API server:\n got  %v\n want %v", key, back[key], want)
		}
	}
	if got.GetInterval() != 5*time.Minute || got.GetTimeout() != 30*time.Second {
		t.Errorf("defaults not applied to the fixture: interval %v timeout %v", got.Spec.Interval, got.Spec.Timeout)
	}
}

// normalize makes YAML-decoded numbers comparable (int64 vs float64).
func normalize(v any) any {
	raw, _ := sigsyaml.Marshal(v)
	var out any
	_ = sigsyaml.Unmarshal(raw, &out)
	return out
}

func kubectl(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestDefaults(t *testing.T) {
	ns := env.Namespace(t)
	if err := create(t, ns, validObject("defaults")); err != nil {
		t.Fatal(err)
	}
	got := &automlv1alpha1.ModelSync{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "defaults"}, got); err != nil {
		t.Fatal(err)
	}
	s := got.Spec
	if s.Interval == nil || s.Interval.Duration != 5*time.Minute {
		t.Errorf("interval default: got %v, want 5m", s.Interval)
	}
	if s.Timeout == nil || s.Timeout.Duration != 30*time.Second {
		t.Errorf("timeout default: got %v, want 30s", s.Timeout)
	}
	if s.SuccessfulPipelineRunsHistoryLimit == nil || *s.SuccessfulPipelineRunsHistoryLimit != 10 {
		t.Errorf("successfulPipelineRunsHistoryLimit default: got %v, want 10", s.SuccessfulPipelineRunsHistoryLimit)
	}
	if s.FailedPipelineRunsHistoryLimit == nil || *s.FailedPipelineRunsHistoryLimit != 10 {
		t.Errorf("failedPipelineRunsHistoryLimit default: got %v, want 10", s.FailedPipelineRunsHistoryLimit)
	}
	if s.Suspend {
		t.Error("suspend default: got true")
	}
}

func TestInvalidSpecsRejected(t *testing.T) {
	ns := env.Namespace(t)
	set := func(path string, v any) func(map[string]any) {
		return func(o map[string]any) {
			keys := strings.Split(path, ".")
			m := o
			for _, k := range keys[:len(keys)-1] {
				next, ok := m[k].(map[string]any)
				if !ok {
					next = map[string]any{}
					m[k] = next
				}
				m = next
			}
			if v == nil {
				delete(m, keys[len(keys)-1])
			} else {
				m[keys[len(keys)-1]] = v
			}
		}
	}
	params := func(p ...map[string]any) func(map[string]any) {
		list := make([]any, len(p))
		for i := range p {
			list[i] = p[i]
		}
		return set("spec.parameters", list)
	}
	cases := []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"url-missing", set("spec.needsSyncUrl", nil), "spec.needsSyncUrl: Required value"},
		{"url-ftp", set("spec.needsSyncUrl", "ftp://lambda/needsSync"), "spec.needsSyncUrl: Invalid value: \"ftp://lambda/needsSync\": needsSyncUrl must be an absolute http or https URL with a host"},
		{"url-relative", set("spec.needsSyncUrl", "/needsSync"), "needsSyncUrl must be an absolute http or https URL"},
		{"url-no-host", set("spec.needsSyncUrl", "http://"), "needsSyncUrl must be an absolute http or https URL"},
		{"url-empty", set("spec.needsSyncUrl", ""), "spec.needsSyncUrl: Invalid value: \"\": spec.needsSyncUrl in body should be at least 1 chars long"},
		{"template-missing", set("spec.pipelineRunTemplate", nil), "spec.pipelineRunTemplate: Required value"},
		{"template-spec-missing", set("spec.pipelineRunTemplate.spec", nil), "spec.pipelineRunTemplate.spec: Required value"},
		{"template-spec-string", set("spec.pipelineRunTemplate.spec", "run it"), "spec.pipelineRunTemplate.spec: Invalid value: \"string\": spec.pipelineRunTemplate.spec in body must be of type object"},
		{"template-name", set("spec.pipelineRunTemplate.metadata.name", "fixed"), "spec.pipelineRunTemplate.metadata: Invalid value: pipelineRunTemplate.metadata.name and generateName may not be set"},
		{"template-generate-name", set("spec.pipelineRunTemplate.metadata.generateName", "run-"), "pipelineRunTemplate.metadata.name and generateName may not be set"},
		{"template-namespace", set("spec.pipelineRunTemplate.metadata.namespace", "other"), "spec.pipelineRunTemplate.metadata: Invalid value: pipelineRunTemplate.metadata.namespace may not be set"},
		{"success-limit-negative", set("spec.successfulPipelineRunsHistoryLimit", -1), "spec.successfulPipelineRunsHistoryLimit: Invalid value: -1: spec.successfulPipelineRunsHistoryLimit in body should be greater than or equal to 0"},
		{"failed-limit-negative", set("spec.failedPipelineRunsHistoryLimit", -3), "spec.failedPipelineRunsHistoryLimit: Invalid value: -3: spec.failedPipelineRunsHistoryLimit in body should be greater than or equal to 0"},
		{"limit-not-integer", set("spec.failedPipelineRunsHistoryLimit", "ten"), "spec.failedPipelineRunsHistoryLimit: Invalid value: \"string\": spec.failedPipelineRunsHistoryLimit in body must be of type integer"},
		{"interval-too-short", set("spec.interval", "5s"), "spec.interval: Invalid value: \"5s\": interval must be at least 10s"},
		{"interval-not-duration", set("spec.interval", "five minutes"), "spec.interval: Invalid value: \"five minutes\": spec.interval in body should match"},
		{"interval-days", set("spec.interval", "1d"), "spec.interval: Invalid value: \"1d\": spec.interval in body should match"},
		{"timeout-zero", set("spec.timeout", "0s"), "spec.timeout: Invalid value: \"0s\": timeout must be between 1s and 10m"},
		{"timeout-too-long", set("spec.timeout", "1h"), "spec.timeout: Invalid value: \"1h\": timeout must be between 1s and 10m"},
		{"param-needs-sync-name-missing", params(map[string]any{"pipelineName": "a"}), "spec.parameters[0].needsSyncName: Required value"},
		{"param-pipeline-name-missing", params(map[string]any{"needsSyncName": "a"}), "spec.parameters[0].pipelineName: Required value"},
		{"param-pipeline-name-invalid", params(map[string]any{"needsSyncName": "a", "pipelineName": "$(params.x)"}), "spec.parameters[0].pipelineName: Invalid value: \"$(params.x)\": spec.parameters[0].pipelineName in body should match"},
		{"param-duplicate-needs-sync-name", params(map[string]any{"needsSyncName": "a", "pipelineName": "x"}, map[string]any{"needsSyncName": "a", "pipelineName": "y"}), "spec.parameters[1]: Duplicate value: {\"needsSyncName\":\"a\"}"},
		{"param-duplicate-pipeline-name", params(map[string]any{"needsSyncName": "a", "pipelineName": "x"}, map[string]any{"needsSyncName": "b", "pipelineName": "x"}), "spec.parameters: Invalid value: parameters[].pipelineName must be unique"},
		{"name-too-long", set("metadata.name", strings.Repeat("m", 53)), "metadata.name must be at most 52 characters"},
		{"suspend-not-bool", set("spec.suspend", "yes"), "spec.suspend: Invalid value: \"string\": spec.suspend in body must be of type boolean"},
		{"unknown-field", set("spec.needsSyncURL", "http://typo"), "unknown field \"spec.needsSyncURL\""},
	}
	if len(cases) < 15 {
		t.Fatalf("want at least 15 invalid cases, have %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := validObject("invalid")
			tc.mutate(obj)
			err := create(t, ns, obj)
			if err == nil {
				t.Fatalf("the API server accepted the ModelSync, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name the problem:\n got  %s\n want ...%s...", err, tc.want)
			}
		})
	}
	// The base object is valid, so each rejection above is caused by its one change.
	if err := create(t, ns, validObject("valid")); err != nil {
		t.Fatalf("the base object is rejected: %v", err)
	}
}
