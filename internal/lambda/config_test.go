package lambda

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/internal/golden"
)

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("testdata", "lambdas.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg) // the defaulted config
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, out)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown field", "routes: []\nrepo: x\n", `unknown field "repo"`},
		{"no routes", "registry: file:///r\n", "at least one route"},
		{"bad kind", "registry: file:///r\nroutes: [{path: /x, kind: builder}]\n", `routes[0].kind "builder" is not one of trainer, deployer`},
		{"reserved path", "registry: file:///r\nroutes: [{path: /healthz, kind: trainer, trainer: {}}]\n", "is reserved"},
		{"relative path", "registry: file:///r\nroutes: [{path: needsTrain, kind: trainer, trainer: {}}]\n", "absolute URL path"},
		{"duplicate path", "registry: file:///r\nroutes: [{path: /a, kind: trainer, trainer: {}}, {path: /a, kind: trainer, trainer: {}}]\n", "used twice"},
		{"no registry", "routes: [{path: /a, kind: trainer, trainer: {}}]\n", "routes[0].registry"},
		{"trainer without options", "registry: file:///r\nroutes: [{path: /a, kind: trainer}]\n", "needs trainer options"},
		{"negative interval", "registry: file:///r\nroutes: [{path: /a, kind: trainer, trainer: {retrainInterval: -1h}}]\n", "must be positive"},
		{"unknown repo", "registry: file:///r\nroutes: [{path: /a, kind: deployer, deployer: {repo: nope}}]\n", `routes[0].deployer.repo "nope"`},
		{"repo dir and url", "registry: file:///r\nrepos: [{name: a, dir: /x, url: /y}]\nroutes: [{path: /a, kind: deployer, deployer: {repo: a}}]\n", "exactly one of dir"},
		{"bad repo name", "registry: file:///r\nrepos: [{name: A B, dir: /x}]\nroutes: [{path: /a, kind: trainer, trainer: {}}]\n", "repos[0].name"},
		{"escaping package path", "registry: file:///r\nrepos: [{name: a, dir: /x}]\nroutes: [{path: /a, kind: deployer, deployer: {repo: a, path: ../x}}]\n", "relative to the checkout"},
		{"bad selector", "registry: file:///r\nrepos: [{name: a, dir: /x}]\nroutes: [{path: /a, kind: deployer, deployer: {repo: a, selector: {key: k, marker: m}}}]\n", "routes[0].deployer.selector.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(p)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFlagsConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		routes  []string // kind path
		wantErr string
	}{
		{name: "trainer only", args: []string{"--registry", "file:///r"}, routes: []string{"trainer /needsTrain"}},
		{name: "git-sync", args: []string{"--registry", "file:///r", "--repo-dir", "/git/x", "--configmap-name", "cfg"},
			routes: []string{"trainer /needsTrain", "deployer /needsSync"}},
		{name: "fetch", args: []string{"--registry", "file:///r", "--repo-url", "https://x/y.git", "--sync-period", "10s"},
			routes: []string{"trainer /needsTrain", "deployer /needsSync"}},
		{name: "both repos", args: []string{"--registry", "file:///r", "--repo-dir", "/a", "--repo-url", "/b"}, wantErr: "exclusive"},
		{name: "no registry", args: []string{"--registry", ""}, wantErr: "routes[0].registry"},
		{name: "config and flags", args: []string{"--config", "testdata/lambdas.yaml", "--registry", "file:///r"}, wantErr: "--registry cannot be combined with --config"},
		{name: "config", args: []string{"--config", "testdata/lambdas.yaml"},
			routes: []string{"trainer /label-bot/needsTrain", "deployer /label-bot/needsSync", "deployer /other-app/needsSync"}},
		{name: "bad marker", args: []string{"--registry", "file:///r", "--repo-dir", "/a", "--marker", "m", "--key", "k"}, wantErr: "selector.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, f := newCommand(os.Stderr)
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.toConfig(cmd.Flags().Changed)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rt := range cfg.Routes {
				got = append(got, rt.Kind+" "+rt.Path)
			}
			if strings.Join(got, ",") != strings.Join(tt.routes, ",") {
				t.Errorf("routes = %v, want %v", got, tt.routes)
			}
			if len(cfg.Repos) == 1 && cfg.Repos[0].URL != "" && cfg.Repos[0].SyncPeriod.Duration != 10*time.Second {
				t.Errorf("sync period = %v", cfg.Repos[0].SyncPeriod)
			}
		})
	}
}
