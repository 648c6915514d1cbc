package pipelinerun_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// TestRenderedRunsAreAccepted creates each input ModelSync on the API server, renders its first
// run with the server's copy (defaults and UID filled in) and creates the run: Tekton's v1 CRD
// schema accepts it, the owner reference resolves, and nothing of the rendered object is pruned.
func TestRenderedRunsAreAccepted(t *testing.T) {
	ctx := context.Background()
	inputs := map[string]map[string]string{
		"legacy-fixture.yaml":     {"name": "projects/1/locations/us-central1/models/TCN1"},
		"v1-workspaces.yaml":      {"runId": "r1"},
		"mapping-override.yaml":   {"name": "m", "report": "r"},
		"labels-annotations.yaml": {"name": "m"},
		"legacy-all.yaml":         nil,
	}
	for input, params := range inputs {
		t.Run(input, func(t *testing.T) {
			ns := env.Namespace(t)
			ms := load(t, input)
			ms.Namespace, ms.UID, ms.ResourceVersion, ms.Generation = ns, "", "", 0
			if err := env.Client.Create(ctx, ms, client.FieldValidation("Strict")); err != nil {
				t.Fatalf("create ModelSync: %v", err)
			}
			res, err := pipelinerun.Render(ms, pipelinerun.Input{Number: 1, Parameters: params})
			if err != nil {
				t.Fatal(err)
			}
			run := res.PipelineRun.DeepCopy()
			if err := env.Client.Create(ctx, run, client.FieldValidation("Strict")); err != nil {
				t.Fatalf("the API server rejects the rendered run: %v", err)
			}
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(run.GroupVersionKind())
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(run), stored); err != nil {
				t.Fatal(err)
			}
			want, got := res.PipelineRun.Object["spec"], stored.Object["spec"]
			if normalize(want) != normalize(got) {
				t.Errorf("stored spec differs from the rendered one:\n got  %s\n want %s", normalize(got), normalize(want))
			}
			owners := stored.GetOwnerReferences()
			if len(owners) != 1 || owners[0].UID != ms.UID || owners[0].Kind != automlv1alpha1.ModelSyncKind {
				t.Errorf("owner references: %+v", owners)
			}
			// A second create of the same sync is refused: the one-run guard of DESIGN.md.
			if err := env.Client.Create(ctx, res.PipelineRun.DeepCopy()); err == nil {
				t.Error("a second create of run 1 succeeded; want AlreadyExists")
			}
		})
	}
}

func normalize(v any) string {
	out, _ := json.Marshal(v)
	return string(out)
}

// TestLegacyShapeIsRejectedUnconverted shows that the API server's check above has teeth: the
// fixture's template, created as a v1 PipelineRun without conversion, is refused.
func TestLegacyShapeIsRejectedUnconverted(t *testing.T) {
	ns := env.Namespace(t)
	ms := load(t, "legacy-fixture.yaml")
	var spec map[string]any
	if err := json.Unmarshal(ms.Spec.PipelineRunTemplate.Spec.Raw, &spec); err != nil {
		t.Fatal(err)
	}
	run := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": pipelinerun.APIVersion, "kind": pipelinerun.Kind,
		"metadata": map[string]any{"name": "raw", "namespace": ns}, "spec": spec,
	}}
	err := env.Client.Create(context.Background(), run, client.FieldValidation("Strict"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.resources"`) {
		t.Fatalf("want the unconverted legacy template rejected for spec.resources, got %v", err)
	}
}
