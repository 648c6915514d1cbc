package setmodel_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
)

func parse(t *testing.T, in string) []*yaml.RNode {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(in), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return nodes
}

func format(t *testing.T, nodes []*yaml.RNode) string {
	t.Helper()
	var b bytes.Buffer
	if err := (kio.ByteWriter{Writer: &b}).Write(nodes); err != nil {
		t.Fatalf("write: %v", err)
	}
	return b.String()
}

const labelBot = `apiVersion: v1
kind: ConfigMap
metadata:
  name: label-bot # the app
  namespace: bots
data:
  # the model the bot serves
  automl-model: "old-model" # set by modelsync
  other: keep
`

func TestSet(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		sel     setmodel.Selector
		model   string
		want    string // replaces of the input, in order: old → new
		summary []string
	}{{
		name:    "configmap keeps quoting and comments",
		in:      labelBot,
		model:   "new-model",
		want:    strings.Replace(labelBot, `"old-model"`, `"new-model"`, 1),
		summary: []string{"ConfigMap/bots/label-bot data.automl-model set to new-model (was old-model)"},
	}, {
		name:    "already at the model",
		in:      labelBot,
		model:   "old-model",
		want:    labelBot,
		summary: []string{"ConfigMap/bots/label-bot data.automl-model already at old-model"},
	}, {
		name:  "plain value that would read as a number is quoted",
		in:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: abc\n",
		model: "20240101",
		want:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: \"20240101\"\n",
	}, {
		name:  "plain value that YAML 1.1 reads as a boolean is quoted",
		in:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: abc\n",
		model: "on",
		want:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: \"on\"\n",
	}, {
		name:  "single quotes stay",
		in:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: 'abc'\n",
		model: "xyz",
		want:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model: 'xyz'\n",
	}, {
		name: "selector by name and key among several ConfigMaps",
		in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  m: one\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  m: one\n",
		sel:   setmodel.Selector{Name: "b", Key: "m"},
		model: "two",
		want: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  m: one\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  m: two\n",
		summary: []string{"ConfigMap/b data.m set to two (was one)"},
	}, {
		name: "namespace narrows",
		in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\ndata:\n  automl-model: one\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: y\ndata:\n  automl-model: one\n",
		sel:   setmodel.Selector{Namespace: "y"},
		model: "two",
		want: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\ndata:\n  automl-model: one\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: y\ndata:\n  automl-model: two\n",
	}, {
		name: "marker in a Deployment env var and a kustomize literal",
		in: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bot\nspec:\n  template:\n    spec:\n      containers:\n" +
			"      - name: bot\n        env:\n        - name: MODEL\n          value: old # modelsync-set: automl-model\n---\n" +
			"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: k\nconfigMapGenerator:\n" +
			"- name: bot\n  literals:\n  - other=1\n  - automl-model=old # modelsync-set: automl-model\n",
		sel:   setmodel.Selector{Marker: "automl-model"},
		model: "new",
		want: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bot\nspec:\n  template:\n    spec:\n      containers:\n" +
			"      - name: bot\n        env:\n        - name: MODEL\n          value: new # modelsync-set: automl-model\n---\n" +
			"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: k\nconfigMapGenerator:\n" +
			"- name: bot\n  literals:\n  - other=1\n  - automl-model=new # modelsync-set: automl-model\n",
		summary: []string{
			"Deployment/bot spec.template.spec.containers[0].env[0].value set to new (was old)",
			"Kustomization/k configMapGenerator[0].literals[1] set to new (was old)",
		},
	}, {
		name:  "marker names another setter",
		in:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: old # modelsync-set: other\n  y: old # modelsync-set: mine\n",
		sel:   setmodel.Selector{Marker: "mine"},
		model: "new",
		want:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: old # modelsync-set: other\n  y: new # modelsync-set: mine\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := parse(t, tt.in)
			changes, err := setmodel.Set(nodes, tt.sel, tt.model)
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got := format(t, nodes); got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
			if tt.summary != nil {
				var got []string
				for _, c := range changes {
					got = append(got, c.String())
				}
				if strings.Join(got, "\n") != strings.Join(tt.summary, "\n") {
					t.Errorf("summaries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.summary, "\n"))
				}
			}
			// A second run changes nothing.
			again, err := setmodel.Set(nodes, tt.sel, tt.model)
			if err != nil {
				t.Fatalf("second Set: %v", err)
			}
			for _, c := range again {
				if c.Changed {
					t.Errorf("second run changed %s %s", c.Resource, c.Field)
				}
			}
			if got := format(t, nodes); got != tt.want {
				t.Errorf("second run output:\n%s", got)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		sel     setmodel.Selector
		model   string
		wantErr string
		noMatch bool
	}{
		{name: "missing model", in: labelBot, wantErr: "model: is required"},
		{name: "model with a space", in: labelBot, model: "a b", wantErr: `model: "a b" contains whitespace`},
		{name: "model with a newline", in: labelBot, model: "a\nb", wantErr: "model: \"a\\nb\" contains whitespace"},
		{name: "bad key", in: labelBot, model: "m", sel: setmodel.Selector{Key: "a/b"}, wantErr: `selector.key: "a/b" is not a valid`},
		{name: "marker and key", in: labelBot, model: "m", sel: setmodel.Selector{Key: "k", Marker: "m"}, wantErr: "selector.key: cannot be combined"},
		{name: "name with a newline", in: labelBot, model: "m", sel: setmodel.Selector{Name: "a\nb"}, wantErr: `selector.name: "a\nb" contains whitespace`},
		{name: "marker with a space", in: labelBot, model: "m", sel: setmodel.Selector{Marker: "a b"}, wantErr: "selector.marker:"},
		{name: "no such name", in: labelBot, model: "m", sel: setmodel.Selector{Name: "nope"}, noMatch: true,
			wantErr: `no ConfigMap "nope" data key "automl-model" (the package holds ConfigMap/bots/label-bot (data keys: automl-model, other))`},
		{name: "no such key", in: labelBot, model: "m", sel: setmodel.Selector{Key: "model"}, noMatch: true, wantErr: `no ConfigMap data key "model"`},
		{name: "no ConfigMap", in: "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n", model: "m", noMatch: true, wantErr: "the package holds no ConfigMap"},
		{name: "no marker", in: labelBot, model: "m", sel: setmodel.Selector{Marker: "x"}, noMatch: true, wantErr: "no fields marked `# modelsync-set: x` in the package"},
		{name: "data value is a map", in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  automl-model:\n    x: y\n",
			model: "m", wantErr: "ConfigMap/a: data.automl-model must be a string, not a map"},
		{name: "marked literal without =", in: "apiVersion: x/v1\nkind: K\nmetadata:\n  name: k\nliterals:\n- abc # modelsync-set: m\n",
			model: "m", sel: setmodel.Selector{Marker: "m"}, wantErr: `K/k: literals[0]: the marked literal "abc" is not of the form key=value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := parse(t, tt.in)
			before := format(t, nodes)
			_, err := setmodel.Set(nodes, tt.sel, tt.model)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if errors.Is(err, setmodel.ErrNoMatch) != tt.noMatch {
				t.Errorf("errors.Is(err, ErrNoMatch) = %v, want %v", !tt.noMatch, tt.noMatch)
			}
			if after := format(t, nodes); after != before {
				t.Errorf("resources changed on error:\n%s", after)
			}
		})
	}
}
