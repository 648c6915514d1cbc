package actuation

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStepScripts checks every step script of the shipped Tasks: it parses with sh -n, and it
// reads Tekton variables only through env (a value pasted into a script could inject code).
func TestStepScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(packagesDir(t), "pipelines", "*-task.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want the shipped Tasks in kpt-packages/pipelines, found %v (%v)", files, err)
	}
	for _, path := range files {
		file := filepath.Base(path)
		task := readTask(t, path)
		for _, step := range list(t, task.obj, "spec", "steps") {
			name := strings.TrimSuffix(file, "-task.yaml") + "/" + step["name"].(string)
			t.Run(name, func(t *testing.T) {
				script, _ := step["script"].(string)
				if !strings.HasPrefix(script, "#!/bin/sh\nset -eu\n") {
					t.Errorf("script does not start with #!/bin/sh and set -eu")
				}
				if m := tektonVar.FindString(script); m != "" {
					t.Errorf("script pastes %s; pass it through env", m)
				}
				path := filepath.Join(t.TempDir(), "script")
				if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
					t.Errorf("sh -n: %v\n%s", err, out)
				}
			})
		}
	}
}
