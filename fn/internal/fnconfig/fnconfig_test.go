package fnconfig_test

import (
	"testing"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	"github.com/modelsync/modelsync/fn/internal/fnconfig"
)

func TestCheckFields(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		prefix  string
		wantErr string
	}{
		{name: "all accepted", yaml: "apiVersion: v1\nkind: K\nmodel: m\n"},
		{name: "unknown top field", yaml: "apiVersion: v1\nkind: K\nmodle: m\nzzz: 1\n", wantErr: "modle: unknown field (accepted: apiVersion, kind, model)"},
		{name: "unknown nested field", yaml: "apiVersion: v1\nkind: K\nmodel: m\nextra: 1\n", prefix: "selector", wantErr: "selector.extra: unknown field (accepted: apiVersion, kind, model)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := fn.ParseKubeObject([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			err = fnconfig.CheckFields(&o.SubObject, tt.prefix, "apiVersion", "kind", "model")
			if got := errString(err); got != tt.wantErr {
				t.Errorf("error = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestCheckKeys(t *testing.T) {
	err := fnconfig.CheckKeys(map[string]string{"model": "m", "b": "x", "a": "y"}, "data", "model")
	if got, want := errString(err), "data.a: unknown field (accepted: model)"; got != want {
		t.Errorf("error = %q, want %q (the first unknown key in sorted order)", got, want)
	}
	if err := fnconfig.CheckKeys(map[string]int{"model": 1}, "data", "model"); err != nil {
		t.Errorf("accepted key rejected: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
