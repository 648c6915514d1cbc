// Package kpttest runs KRM functions through the real kpt binary in tests: it builds a function
// (as a static binary and, where Docker works, as a FROM scratch image) and checks the example
// packages under fn/<name>/examples against their expected diff and results.
package kpttest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Function is a built KRM function.
type Function struct {
	// Name is the binary name; Kptfiles of the examples run it as `exec: <Name>`.
	Name string
	// BinDir holds the binary; it is put first on kpt's PATH.
	BinDir string
	// Image is the tag of the container image, or "" when it was not built.
	Image string
}

// ModuleRoot returns the directory of go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("failed to find the module root: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// Build compiles the Go package pkg (an import path) into a static binary called name.
func Build(t testing.TB, pkg, name string) *Function {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, name), pkg)
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("failed to build %s: %v\n%s", pkg, err, out)
	}
	return &Function{Name: name, BinDir: dir}
}

// DockerAvailable reports whether `docker info` works, with its output when it does not.
func DockerAvailable() (bool, string) {
	out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return false, strings.TrimSpace(string(out)) + " (" + err.Error() + ")"
	}
	return true, ""
}

// BuildImage builds the function's FROM scratch image with fn/image/Dockerfile (the Dockerfile of
// `make images`) under a unique tag, removed when the test ends. Without Docker it skips the test,
// except under CI (CI set), where the container tests are required and it fails instead.
func (f *Function) BuildImage(t *testing.T) {
	t.Helper()
	if ok, why := DockerAvailable(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("docker is required under CI but `docker info` fails: %s", why)
		}
		t.Skipf("skipping the container test: docker is unavailable (`docker info`: %s)", why)
	}
	root := ModuleRoot(t)
	ctx := t.TempDir()
	for _, name := range []string{"passwd", "group"} {
		copyFile(t, filepath.Join(root, "fn", "image", name), filepath.Join(ctx, name))
	}
	copyFile(t, filepath.Join(f.BinDir, f.Name), filepath.Join(ctx, f.Name))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := "modelsync-test/" + f.Name + ":" + hex.EncodeToString(suffix)
	cmd := exec.Command("docker", "build", "-q", "-f", filepath.Join(root, "fn", "image", "Dockerfile"),
		"--build-arg", "FN="+f.Name, "-t", tag, ctx)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("failed to build image %s: %v\n%s", tag, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
	f.Image = tag
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("failed to read %s: %v", from, err)
	}
	info, err := os.Stat(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, info.Mode().Perm()); err != nil {
		t.Fatalf("failed to write %s: %v", to, err)
	}
}

// AssertNoDependency fails when the Go package pkg depends on a package under any of the prefixes
// (the functions must not link the Tekton API types: they would add tens of megabytes).
func AssertNoDependency(t *testing.T, pkg string, prefixes ...string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Dir = ModuleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("failed to list the dependencies of %s: %v", pkg, err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, p := range prefixes {
			if strings.HasPrefix(dep, p) {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
