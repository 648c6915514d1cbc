// Package golden compares test output with files under testdata/. Run the tests with
// -update (or `make update-golden`) to rewrite the files from the current output.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// Path returns testdata/<test name>.golden, with subtest slashes turned into dashes.
func Path(t testing.TB) string {
	return filepath.Join("testdata", filepath.FromSlash(sanitize(t.Name()))+".golden")
}

func sanitize(name string) string {
	out := []rune(name)
	for i, r := range out {
		if r == '/' || r == ' ' {
			out[i] = '-'
		}
	}
	return string(out)
}

// Assert fails the test when got differs from the golden file of the test.
func Assert(t testing.TB, got []byte) {
	t.Helper()
	AssertFile(t, Path(t), got)
}

// AssertFile fails the test when got differs from the file at path.
func AssertFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("output differs from %s (-want +got; run with -update if the change is intended):\n%s", path, diff)
	}
}
