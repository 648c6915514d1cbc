package plugin_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

func TestSuspendResume(t *testing.T) {
	ns := namespace(t, "suspend")
	a := newModelSync(t, ns, "a", nil)
	b := newModelSync(t, ns, "b", nil)

	// Steps run in order: each one sees the state the previous one left.
	steps := []struct {
		name      string
		args      []string
		suspended map[string]bool // spec.suspend after the step
	}{
		{"suspend", []string{"suspend", "a", "-n", ns}, map[string]bool{"a": true, "b": false}},
		{"suspend-again-and-more", []string{"suspend", "a", "b", "-n", ns}, map[string]bool{"a": true, "b": true}},
		{"resume-with-unknown", []string{"resume", "nope", "a", "-n", ns}, map[string]bool{"a": false, "b": true}},
		{"resume-name", []string{"resume", "b", "-n", ns, "-o", "name"}, map[string]bool{"a": false, "b": false}},
		{"resume-not-suspended", []string{"resume", "b", "-n", ns}, map[string]bool{"a": false, "b": false}},
		{"forbidden", []string{"suspend", "a", "-n", ns, "--as", "nobody"}, map[string]bool{"a": false, "b": false}},
		{"no-name", []string{"suspend", "-n", ns}, map[string]bool{"a": false, "b": false}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			assertGolden(t, run(st.args...))
			for _, ms := range []*automlv1alpha1.ModelSync{a, b} {
				got := &automlv1alpha1.ModelSync{}
				if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ms), got); err != nil {
					t.Fatal(err)
				}
				if got.Spec.Suspend != st.suspended[ms.Name] {
					t.Errorf("modelsync %s: spec.suspend = %t, want %t", ms.Name, got.Spec.Suspend, st.suspended[ms.Name])
				}
			}
		})
	}
}
