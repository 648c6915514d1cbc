package plugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestMissingCRD removes the ModelSync CRD for a moment (this file sorts last, so the other
// tests have run) and checks that every command says what is missing.
func TestMissingCRD(t *testing.T) {
	ctx := context.Background()
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "modelsyncs.automl.cloudai.kubeflow.org"}, crd); err != nil {
		t.Fatal(err)
	}
	saved := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": crd.GetAPIVersion(), "kind": crd.GetKind(),
		"metadata": map[string]any{"name": crd.GetName()}, "spec": crd.Object["spec"],
	}}
	if err := env.Client.Delete(ctx, crd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Client.Create(ctx, saved); err != nil {
			t.Errorf("failed to restore the ModelSync CRD: %v", err)
		}
		eventually(t, func() bool { return run("status", "-A").Code == 0 })
	})
	eventually(t, func() bool { return strings.Contains(run("status", "-A").Stderr, "has no resource") })

	tests := []struct {
		name string
		args []string
	}{
		{"status", []string{"status", "-A"}},
		{"describe", []string{"status", "deployer", "-n", "default"}},
		{"trigger", []string{"trigger", "deployer", "-n", "default"}},
		{"runs", []string{"runs", "deployer", "-n", "default"}},
		{"suspend", []string{"suspend", "deployer", "-n", "default"}},
		{"lineage", []string{"lineage", "model-1", "-n", "default"}},
		{"lineage-registry", []string{"lineage", "model-1", "-n", "default", "--registry", "file:///nonexistent/registry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertGolden(t, run(tt.args...)) })
	}
}

func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
	}
}
