package actuation

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/modelsync/modelsync/internal/golden"
)

// TestPackages renders every package with the real kpt (a rendered package must not change:
// the checked-in files are already what render writes), then applies every resource to the
// real API server with kubectl --dry-run=server, which validates them against the built-in
// schemas and the ModelSync and Tekton CRDs.
func TestPackages(t *testing.T) {
	ensureNamespace(t, "label-bot-prod")
	cases := []struct {
		name string
		// exec lists exec functions the package's pipeline runs (their binaries must be on the PATH).
		exec bool
	}{
		{name: "label-bot", exec: true},
		{name: "lambdas"},
		{name: "pipelines"},
		{name: "samples"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := os.Getenv("PATH")
			if c.exec {
				path = binDir(t) + string(os.PathListSeparator) + path
			}
			src := filepath.Join(packagesDir(t), c.name)
			dir := filepath.Join(t.TempDir(), c.name)
			if out, err := exec.Command("cp", "-R", src, dir).CombinedOutput(); err != nil {
				t.Fatalf("copy: %v\n%s", err, out)
			}
			render := exec.Command("kpt", "fn", "render", dir, "--allow-exec", "--truncate-output=false")
			render.Env = append(os.Environ(), "PATH="+path, "HOME="+t.TempDir())
			if out, err := render.CombinedOutput(); err != nil {
				t.Fatalf("kpt fn render: %v\n%s", err, out)
			}
			if out, _ := exec.Command("git", "diff", "--no-index", "--stat", src, dir).CombinedOutput(); len(out) > 0 {
				t.Errorf("kpt fn render changed the package; render it and commit the result:\n%s", out)
			}
			// The Kptfile is local configuration: it is not applied.
			if err := os.Remove(filepath.Join(dir, "Kptfile")); err != nil {
				t.Fatal(err)
			}
			apply := exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "apply", "--dry-run=server", "-R", "-f", dir, "-o", "name")
			var stdout, stderr bytes.Buffer
			apply.Stdout, apply.Stderr = &stdout, &stderr
			if err := apply.Run(); err != nil {
				t.Fatalf("kubectl apply --dry-run=server: %v\n%s", err, stderr.String())
			}
			names := strings.Fields(stdout.String())
			sort.Strings(names)
			golden.Assert(t, []byte(strings.Join(names, "\n")+"\n"))
		})
	}
}
