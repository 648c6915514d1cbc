package localrun

import "testing"

func TestMapPaths(t *testing.T) {
	paths := []hostPath{{"/tekton", "/run/t"}, {"/scratch", "/run/t/volumes/scratch"}, {"/workspace/src", "/run/ws/src"}}
	for in, want := range map[string]string{
		`OUT="${SOURCE_PATH:-/scratch}/out"`:      `OUT="${SOURCE_PATH:-/run/t/volumes/scratch}/out"`,
		"cp x /tekton/results/id":                 "cp x /run/t/results/id",
		"HOME=/tekton/home":                       "HOME=/run/t/home",
		"/scratchpad /a/scratch $HOME/scratch":    "/scratchpad /a/scratch $HOME/scratch",
		"cd /workspace/src && ls /workspace/srcs": "cd /run/ws/src && ls /workspace/srcs",
		"/tekton": "/run/t",
	} {
		if got := mapPaths(in, paths); got != want {
			t.Errorf("mapPaths(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExpand(t *testing.T) {
	lookup := mapLookup(map[string]string{"params.a": "A", "params.b.c": "BC"}, "test")
	for in, want := range map[string]string{
		`$(params.a) $(params["b.c"]) $(params['a'])`: "A BC A",
		`ID=$(date -u +%Y) $(echo x)`:                 `ID=$(date -u +%Y) $(echo x)`,
	} {
		got, err := expand(in, lookup)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := expand("$(params.zzz)", lookup); err == nil {
		t.Error("an unknown param expanded")
	}
}
