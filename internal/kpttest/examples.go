package kpttest

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/internal/golden"
)

// ExpectedDir is the folder of an example that holds how to run it and what it must produce. The
// examples list it in .krmignore so that kpt does not read it as part of the package.
const ExpectedDir = ".expected"

// Config is .expected/config.yaml: how an example is run.
type Config struct {
	// Mode is "eval" (kpt fn eval with the function) or "render" (kpt fn render of the Kptfile
	// pipeline, whose mutator runs the function as `exec: <name>`).
	Mode string `json:"mode"`
	// Args are the key=value pairs given after `--` in eval mode (a ConfigMap functionConfig).
	Args []string `json:"args,omitempty"`
	// FnConfig is a file in .expected given as --fn-config in eval mode.
	FnConfig string `json:"fnConfig,omitempty"`
	// ExitCode is kpt's expected exit code.
	ExitCode int `json:"exitCode,omitempty"`
}

// RunExamples runs every example under dir through kpt twice, with the binary (container false)
// or the image (container true). The first run must produce .expected/diff.patch (the `git diff`
// of the package) and .expected/results.yaml; the second run must exit the same way and leave the
// same diff, which proves the function idempotent.
func RunExamples(t *testing.T, f *Function, dir string, container bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("failed to read examples: %v", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			runExample(t, f, filepath.Join(dir, e.Name()), container)
		})
	}
}

func runExample(t *testing.T, f *Function, example string, container bool) {
	expected := filepath.Join(example, ExpectedDir)
	raw, err := os.ReadFile(filepath.Join(expected, "config.yaml"))
	if err != nil {
		t.Fatalf("failed to read the example config: %v", err)
	}
	var cfg Config
	if err := yaml.UnmarshalStrict(raw, &cfg); err != nil {
		t.Fatalf("failed to parse %s/config.yaml: %v", expected, err)
	}

	pkg := filepath.Join(t.TempDir(), filepath.Base(example))
	copyPackage(t, example, pkg)
	if container && cfg.Mode == "render" {
		kptfile := filepath.Join(pkg, "Kptfile")
		data, err := os.ReadFile(kptfile)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("exec: "+f.Name), []byte("image: "+f.Image))
		if err := os.WriteFile(kptfile, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, pkg, "init", "-q")
	git(t, pkg, "add", "-A")
	git(t, pkg, "commit", "-q", "-m", "example")

	var firstDiff string
	for run := 1; run <= 2; run++ {
		results := t.TempDir()
		code, out := kpt(t, f, pkg, results, expected, cfg, container)
		if code != cfg.ExitCode {
			t.Fatalf("run %d: kpt exited %d, want %d:\n%s", run, code, cfg.ExitCode, out)
		}
		git(t, pkg, "add", "-A", "-N") // show new files in the diff
		diff := git(t, pkg, "diff", "--no-color")
		if run == 1 {
			firstDiff = diff
			golden.AssertFile(t, filepath.Join(expected, "diff.patch"), []byte(diff))
			got, err := os.ReadFile(filepath.Join(results, "results.yaml"))
			if err != nil {
				t.Fatalf("kpt wrote no results: %v\n%s", err, out)
			}
			if container {
				got = bytes.ReplaceAll(got, []byte("image: "+f.Image), []byte("exec: "+f.Name))
			}
			golden.AssertFile(t, filepath.Join(expected, "results.yaml"), got)
			continue
		}
		if diff != firstDiff {
			t.Errorf("the second run is not idempotent: the diff became\n%s\nafter the first run's\n%s\nkpt:\n%s", diff, firstDiff, out)
		}
	}
}

// kpt runs the example once and returns kpt's exit code and output.
func kpt(t *testing.T, f *Function, pkg, results, expected string, cfg Config, container bool) (int, string) {
	t.Helper()
	var args []string
	switch cfg.Mode {
	case "eval":
		args = []string{"fn", "eval", pkg, "--results-dir", results}
		if container {
			args = append(args, "--image", f.Image, "--image-pull-policy", "ifNotPresent")
		} else {
			args = append(args, "--exec", f.Name)
		}
		if cfg.FnConfig != "" {
			args = append(args, "--fn-config", filepath.Join(expected, cfg.FnConfig))
		}
		if len(cfg.Args) > 0 {
			args = append(append(args, "--"), cfg.Args...)
		}
	case "render":
		args = []string{"fn", "render", pkg, "--allow-exec", "--results-dir", results}
		if container {
			args = append(args, "--image-pull-policy", "ifNotPresent")
		}
	default:
		t.Fatalf("config.yaml: mode %q is not eval or render", cfg.Mode)
	}
	cmd := exec.Command("kpt", args...)
	cmd.Env = append(os.Environ(), "PATH="+f.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode(), string(out)
		}
		t.Fatalf("failed to run kpt: %v", err)
	}
	return 0, string(out)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// copyPackage copies an example without its .expected folder.
func copyPackage(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if d.Name() == ExpectedDir {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		copyFile(t, path, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatalf("failed to copy %s: %v", from, err)
	}
}

// TestFunction is the whole kpt-level test of a KRM function: it must not link the Tekton API
// types, and its examples must pass through kpt with the exec binary ("exec") and with the FROM
// scratch image ("container", skipped without Docker outside CI).
func TestFunction(t *testing.T, pkg, name string) {
	t.Run("no-tekton-types", func(t *testing.T) {
		AssertNoDependency(t, pkg, "github.com/tektoncd/", "knative.dev/")
	})
	f := Build(t, pkg, name)
	t.Run("exec", func(t *testing.T) { RunExamples(t, f, "examples", false) })
	t.Run("container", func(t *testing.T) {
		f.BuildImage(t)
		RunExamples(t, f, "examples", true)
	})
}
