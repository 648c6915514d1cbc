package setmodel_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
)

func writePackage(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func configMap(name, key, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  " + key + ": " + value + "\n"
}

func TestReadModel(t *testing.T) {
	kptfile := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\npipeline:\n  mutators:\n" +
		"  - image: set-automl-model\n    configMap:\n      model: m-7 # modelsync-set: automl-model\n"
	tests := []struct {
		name    string
		files   map[string]string
		sel     setmodel.Selector
		want    string
		wantErr string
		is      error
	}{
		{name: "one ConfigMap", files: map[string]string{"cm.yaml": configMap("label-bot", "automl-model", "m-1")}, want: "m-1"},
		{name: "two agreeing ConfigMaps in a subpackage", files: map[string]string{
			"cm.yaml": configMap("a", "automl-model", "m-2"), "sub/cm.yaml": configMap("b", "automl-model", "m-2"),
		}, want: "m-2"},
		{name: "selector picks one of two", files: map[string]string{
			"a.yaml": configMap("a", "automl-model", "m-1"), "b.yml": configMap("b", "automl-model", "m-2"),
		}, sel: setmodel.Selector{Name: "b"}, want: "m-2"},
		{name: "empty value", files: map[string]string{"cm.yaml": configMap("a", "automl-model", `""`)}, want: ""},
		{name: "marker in the Kptfile", files: map[string]string{"Kptfile": kptfile}, sel: setmodel.Selector{Marker: "automl-model"}, want: "m-7"},
		{name: "disagreeing ConfigMaps", files: map[string]string{
			"a.yaml": configMap("a", "automl-model", "m-1"), "b.yaml": configMap("b", "automl-model", "m-2"),
		}, is: setmodel.ErrDisagree, wantErr: `ConfigMap/a data.automl-model = "m-1"; ConfigMap/b data.automl-model = "m-2"`},
		{name: "no match", files: map[string]string{"a.yaml": configMap("a", "model", "m-1")}, is: setmodel.ErrNoMatch,
			wantErr: `no ConfigMap data key "automl-model" (the package holds ConfigMap/a (data keys: model))`},
		{name: "hidden folders are skipped", files: map[string]string{
			"cm.yaml": configMap("a", "automl-model", "m-3"), ".git/x.yaml": "a: [b", ".github/workflows/ci.yml": configMap("b", "automl-model", "m-9"),
		}, want: "m-3"},
		{name: "krmignore is honoured", files: map[string]string{
			"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n", ".krmignore": "old\n",
			"cm.yaml": configMap("a", "automl-model", "m-3"), "old/cm.yaml": configMap("b", "automl-model", "m-0"),
		}, want: "m-3"},
		{name: "invalid YAML", files: map[string]string{"a.yaml": "a: [b"}, wantErr: "failed to read package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writePackage(t, tt.files)
			got, err := setmodel.ReadModel(dir, tt.sel)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("error %v does not wrap %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadModel: %v", err)
			}
			if got != tt.want {
				t.Errorf("ReadModel = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadModelMissingDir(t *testing.T) {
	if _, err := setmodel.ReadModel(filepath.Join(t.TempDir(), "nope"), setmodel.Selector{}); err == nil {
		t.Fatal("ReadModel of a missing directory succeeded")
	}
}
