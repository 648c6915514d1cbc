package function_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	"github.com/modelsync/modelsync/fn/set-automl-model/function"
	"github.com/modelsync/modelsync/internal/golden"
)

const items = `items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: label-bot
    namespace: prod
    annotations:
      internal.config.kubernetes.io/path: configmap.yaml
  data:
    automl-model: "m-1" # the served model
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: label-bot
    namespace: staging
  data:
    automl-model: m-1
`

func resourceList(config string) string {
	return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n" + items + "functionConfig:\n" + config
}

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		config string
		ok     bool
	}{
		{name: "typed config", ok: true, config: `  apiVersion: fn.kpt.dev/v1alpha1
  kind: SetAutomlModel
  metadata: {name: set}
  model: m-2
  selector: {namespace: prod}
`},
		{name: "configmap config", ok: true, config: `  apiVersion: v1
  kind: ConfigMap
  metadata: {name: set}
  data: {model: m-2, name: label-bot}
`},
		{name: "already at the model", ok: true, config: `  apiVersion: v1
  kind: ConfigMap
  metadata: {name: set}
  data: {model: m-1}
`},
		{name: "missing model", config: `  apiVersion: fn.kpt.dev/v1alpha1
  kind: SetAutomlModel
  metadata: {name: set}
  selector: {name: label-bot}
`},
		{name: "unknown selector field", config: `  apiVersion: fn.kpt.dev/v1alpha1
  kind: SetAutomlModel
  metadata: {name: set}
  model: m-2
  selector: {nmae: label-bot}
`},
		{name: "unknown configmap key", config: `  apiVersion: v1
  kind: ConfigMap
  metadata: {name: set}
  data: {model: m-2, selector: x}
`},
		{name: "unknown kind", config: `  apiVersion: fn.kpt.dev/v1alpha1
  kind: SetModel
  metadata: {name: set}
  model: m-2
`},
		{name: "no match", config: `  apiVersion: v1
  kind: ConfigMap
  metadata: {name: set}
  data: {model: m-2, namespace: dev}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := fn.Run(fn.WithContext(context.Background(), &function.SetAutomlModel{}), []byte(resourceList(tt.config)))
			if (err == nil) != tt.ok {
				t.Fatalf("fn.Run error = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && !strings.Contains(string(out), items) {
				t.Errorf("items changed on error:\n%s", out)
			}
			golden.Assert(t, out)
		})
	}
}
