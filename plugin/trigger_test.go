package plugin_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

func getModelSync(t *testing.T, ns, name string) *automlv1alpha1.ModelSync {
	t.Helper()
	ms := &automlv1alpha1.ModelSync{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestTrigger(t *testing.T) {
	ns := namespace(t, "trigger")
	newModelSync(t, ns, "deployer", nil)
	newModelSync(t, ns, "paused", func(ms *automlv1alpha1.ModelSync) { ms.Spec.Suspend = true })
	at := now.UTC().Format(time.RFC3339Nano)

	// Steps run in order against one ModelSync; each checks the annotations it leaves.
	steps := []struct {
		name        string
		args        []string
		annotations map[string]string // nil: unchanged since the previous step
	}{
		{"plain", []string{"trigger", "deployer", "-n", ns}, map[string]string{automlv1alpha1.AnnotationRequestedAt: at}},
		{"force", []string{"trigger", "deployer", "-n", ns, "--force", "--param", "name=model-9"}, map[string]string{
			automlv1alpha1.AnnotationRequestedAt: at, automlv1alpha1.AnnotationForce: "true",
			automlv1alpha1.AnnotationRequestedParameters: `{"name":"model-9"}`}},
		{"plain-clears-force", []string{"trigger", "deployer", "-n", ns, "-o", "name"}, map[string]string{automlv1alpha1.AnnotationRequestedAt: at}},
		{"bad-param", []string{"trigger", "deployer", "-n", ns, "--force", "--param", "name"}, nil},
		{"empty-param-key", []string{"trigger", "deployer", "-n", ns, "--force", "--param", "=x"}, nil},
		{"duplicate-param", []string{"trigger", "deployer", "-n", ns, "--force", "--param", "name=a", "--param", "name=b"}, nil},
		{"unmapped-param", []string{"trigger", "deployer", "-n", ns, "--force", "--param", "model=x"}, nil},
		{"param-without-force", []string{"trigger", "deployer", "-n", ns, "--param", "name=x"}, nil},
		{"unknown", []string{"trigger", "nope", "-n", ns}, nil},
		{"forbidden", []string{"trigger", "deployer", "-n", ns, "--as", "nobody"}, nil},
		{"bad-output", []string{"trigger", "deployer", "-n", ns, "-o", "yaml"}, nil},
		{"suspended", []string{"trigger", "paused", "-n", ns}, nil},
		{"dry-run-and-wait", []string{"trigger", "deployer", "-n", ns, "--dry-run", "--wait"}, nil},
	}
	var want map[string]string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			assertGolden(t, run(st.args...))
			if st.annotations != nil {
				want = st.annotations
			}
			if got := getModelSync(t, ns, "deployer").Annotations; !cmp.Equal(got, want) {
				t.Errorf("annotations (-want +got):\n%s", cmp.Diff(want, got))
			}
		})
	}
}

func TestTriggerDryRun(t *testing.T) {
	ns := namespace(t, "trigger-dry-run")
	ms := newModelSync(t, ns, "deployer", func(ms *automlv1alpha1.ModelSync) {
		ms.Status.LastNeedsSync = &automlv1alpha1.NeedsSyncResult{Time: *ago(time.Minute), NeedsSync: true, Parameters: map[string]string{"name": "model-5"}}
		ms.Status.LastRun = &automlv1alpha1.RunStatus{Name: "deployer-3", Number: 3}
	})
	newRun(t, ms, 4, automlv1alpha1.TriggerInterval, map[string]string{"name": "model-4"}, runState{})
	legacy := newModelSync(t, ns, "legacy", func(ms *automlv1alpha1.ModelSync) {
		ms.Spec.PipelineRunTemplate.Spec.Raw = []byte(`{"pipelineRef":{"name":"update-model-pr"},"serviceAccountName":"auto-update",` +
			`"resources":[{"name":"repo","resourceSpec":{"type":"git","params":[{"name":"url","value":"https://example.com/r.git"},{"name":"revision","value":"main"}]}}]}`)
	})

	tests := []struct {
		name   string
		args   []string
		ms     *automlv1alpha1.ModelSync
		params map[string]string // what the controller would render with; nil for an error case
	}{
		{"force-yaml", []string{"trigger", "deployer", "-n", ns, "--dry-run", "--force", "--param", "name=model-9"}, ms, map[string]string{"name": "model-9"}},
		{"force-json", []string{"trigger", "deployer", "-n", ns, "--dry-run", "--force", "--param", "name=model-9", "-o", "json"}, ms, map[string]string{"name": "model-9"}},
		{"last-answer", []string{"trigger", "deployer", "-n", ns, "--dry-run"}, ms, map[string]string{"name": "model-5"}},
		{"legacy", []string{"trigger", "legacy", "-n", ns, "--dry-run"}, legacy, map[string]string{}},
		{"bad-output", []string{"trigger", "deployer", "-n", ns, "--dry-run", "-o", "name"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := getModelSync(t, ns, "deployer").ResourceVersion
			r := run(tt.args...)
			assertGolden(t, r)
			if after := getModelSync(t, ns, "deployer").ResourceVersion; after != before {
				t.Errorf("a dry run changed the ModelSync (resourceVersion %s → %s)", before, after)
			}
			if tt.params == nil {
				return
			}
			// The printed run is what the controller would create: the same rendering of the
			// ModelSync as read from the API server, with the next number.
			fresh := getModelSync(t, ns, tt.ms.Name)
			next := pipelinerun.NextNumber(fresh, runNames(t, ns, tt.ms.Name))
			want, err := pipelinerun.Render(fresh, pipelinerun.Input{Number: next, Parameters: tt.params,
				Trigger: automlv1alpha1.TriggerManual, RequestedAt: now.Format(time.RFC3339Nano)})
			if err != nil {
				t.Fatal(err)
			}
			got := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(r.Stdout), &got.Object); err != nil {
				t.Fatalf("the output is not a YAML/JSON object: %v", err)
			}
			if diff := cmp.Diff(want.PipelineRun.Object, got.Object); diff != "" {
				t.Errorf("dry-run output differs from the controller's rendering (-want +got):\n%s", diff)
			}
			// The API server accepts it (server-side dry run: nothing is stored).
			if err := env.Client.Create(context.Background(), got, client.DryRunAll); err != nil {
				t.Errorf("the API server rejects the dry-run PipelineRun: %v", err)
			}
		})
	}
	if names := runNames(t, ns, "deployer"); len(names) != 1 {
		t.Errorf("dry runs created runs: %v", names)
	}
}

func runNames(t *testing.T, ns, modelSync string) []string {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion("tekton.dev/v1")
	list.SetKind("PipelineRunList")
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{automlv1alpha1.LabelModelSync: modelSync}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list.Items {
		names = append(names, u.GetName())
	}
	return names
}
