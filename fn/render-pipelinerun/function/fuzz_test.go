package function_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/kptdev/krm-functions-sdk/go/fn"
)

// FuzzRun renders from arbitrary items and configs: the function must never panic, must leave the
// items unchanged when it fails, and must be idempotent when it succeeds.
func FuzzRun(f *testing.F) {
	sample, err := os.ReadFile(fixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample), "", "name", "m-2", int64(0))
	f.Add(string(sample), "modelsync-sample", "other", "x", int64(2))
	f.Add("apiVersion: automl.cloudai.kubeflow.org/v1alpha1\nkind: ModelSync\nmetadata:\n  name: a\nspec:\n  pipelineRunTemplate:\n    spec: {pipelineRef: {name: p}, params: 3}\n",
		"a", "name", "m", int64(1))
	f.Fuzz(func(t *testing.T, itemsYAML, modelSync, key, value string, number int64) {
		objs, err := fn.ParseKubeObjects([]byte(itemsYAML))
		if err != nil {
			return
		}
		data := map[string]string{key: value}
		if modelSync != "" {
			data["modelSync"] = modelSync
		}
		if number != 0 {
			data["number"] = strconv.FormatInt(number, 10)
		}
		config := fn.NewEmptyKubeObject()
		if config.SetAPIVersion("v1") != nil || config.SetKind("ConfigMap") != nil || config.SetName("r") != nil ||
			config.SetNestedStringMap(data, "data") != nil {
			return
		}
		rl := &fn.ResourceList{Items: objs, FunctionConfig: config}
		before := rl.Items.String()
		if !process(t, rl) {
			if after := rl.Items.String(); after != before {
				t.Fatalf("items changed on failure:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			return
		}
		after := rl.Items.String()
		rl.Results = nil
		if !process(t, rl) {
			t.Fatalf("second run failed: %v", rl.Results)
		}
		if again := rl.Items.String(); again != after {
			t.Fatalf("second run changed the items:\n%s\nthen:\n%s", after, again)
		}
	})
}
