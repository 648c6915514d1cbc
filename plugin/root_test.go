package plugin_test

import "testing"

func TestRoot(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown-command", []string{"stats"}},
		{"bad-kubeconfig-context", []string{"status", "--context", "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertGolden(t, run(tt.args...)) })
	}
}
