package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo wipes its state folder at the start, but never a folder that is not its own.
func TestRunRefusesToWipeForeignFolder(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Dir: dir, BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "refusing to wipe it") {
		t.Fatalf("Run = %v, want a refusal to wipe %s", err, dir)
	}
	if data, err := os.ReadFile(keep); err != nil || string(data) != "mine" {
		t.Errorf("the folder's file was touched: %q, %v", data, err)
	}
}

// A missing tool is named before anything starts.
func TestRunNamesMissingTools(t *testing.T) {
	_, err := Run(context.Background(), Options{Dir: filepath.Join(t.TempDir(), "demo"), BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "missing tools [kubectl-modelsync") || !strings.Contains(err.Error(), "run `make demo`") {
		t.Fatalf("Run = %v, want the missing tools named", err)
	}
}
