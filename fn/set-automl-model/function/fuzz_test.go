package function_test

import (
	"context"
	"testing"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	"github.com/modelsync/modelsync/fn/set-automl-model/function"
)

// FuzzRun runs the function on arbitrary items and configs: it must never panic, must leave the
// items unchanged when it fails, and must change nothing when run a second time.
func FuzzRun(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: x # c\n", "m-2", "", "", "")
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 'x'\n", "123", "a", "k", "")
	f.Add("apiVersion: x/v1\nkind: K\nmetadata:\n  name: k\nliterals:\n- a=b # modelsync-set: m\n", "yes", "", "", "m")
	f.Add("apiVersion: x/v1\nkind: K\nmetadata:\n  name: k\nspec: {a: [b, c]}\n", "a b", "", "", "m")
	f.Fuzz(func(t *testing.T, itemsYAML, model, name, key, marker string) {
		objs, err := fn.ParseKubeObjects([]byte(itemsYAML))
		if err != nil {
			return
		}
		config := fn.NewEmptyKubeObject()
		_ = config.SetAPIVersion("v1")
		_ = config.SetKind("ConfigMap")
		_ = config.SetName("set")
		data := map[string]string{"model": model}
		for k, v := range map[string]string{"name": name, "key": key, "marker": marker} {
			if v != "" {
				data[k] = v
			}
		}
		if err := config.SetNestedStringMap(data, "data"); err != nil {
			return
		}
		rl := &fn.ResourceList{Items: objs, FunctionConfig: config}
		before := rl.Items.String()
		ok, err := fn.WithContext(context.Background(), &function.SetAutomlModel{}).Process(rl)
		if err != nil {
			t.Fatalf("Process returned an error instead of a result: %v", err)
		}
		after := rl.Items.String()
		if !ok {
			if after != before {
				t.Fatalf("items changed on failure:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			return
		}
		rl.Results = nil
		if ok, _ := fn.WithContext(context.Background(), &function.SetAutomlModel{}).Process(rl); !ok {
			t.Fatalf("second run failed: %v", rl.Results)
		}
		if again := rl.Items.String(); again != after {
			t.Fatalf("second run changed the items:\n%s\nthen:\n%s", after, again)
		}
	})
}
