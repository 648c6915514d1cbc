// Package testenv starts the real control plane the tests run against: etcd and kube-apiserver
// built into bin/ by `make testbin`, through controller-runtime's envtest, with the ModelSync CRD
// generated into kpt-packages/modelsync and the Tekton CRDs of the tektoncd/pipeline module.
//
// One environment is shared by all tests of a test binary (see Main); tests isolate themselves
// by working in a namespace of their own (see Namespace).
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// KubeVersion is the version of the test kube-apiserver; keep it in step with the Makefile.
const KubeVersion = "1.37.2"

// Env is a running control plane.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is a direct (uncached) client whose scheme knows core types and ModelSync.
	// PipelineRuns are read and written as unstructured objects.
	Client client.Client
	// Scheme is the scheme of Client.
	Scheme *runtime.Scheme
	// Kubeconfig is the path of a kubeconfig file for the API server (for kubectl and plugins).
	Kubeconfig string
	// Root is the repository root.
	Root string

	env *envtest.Environment
	dir string
}

// Options change how the control plane starts.
type Options struct {
	// Dir, when set, holds the control plane's state (etcd's data and the kubeconfig) and is
	// left in place by Stop; it is created when missing. Empty means a temporary folder that
	// Stop removes.
	Dir string
	// APIServerArgs are extra kube-apiserver flags (name without dashes → value).
	APIServerArgs map[string]string
	// Out receives the output of etcd and kube-apiserver; nil discards it.
	Out io.Writer
}

// Start starts etcd and kube-apiserver and installs the CRDs. It fails with a hint when the
// binaries have not been built.
func Start() (*Env, error) { return StartWith(Options{}) }

// StartWith is Start with options.
func StartWith(opts Options) (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s", KubeVersion+"-linux-amd64")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("no kube-apiserver in %s: run `make testbin` (or `make test`) first: %w", assets, err)
	}
	tektonCRDs, err := TektonCRDDir(root)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := automlv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(root, "kpt-packages", "modelsync", "crd"), tektonCRDs},
		ErrorIfCRDPathMissing:    true,
		Scheme:                   scheme,
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(filepath.Join(opts.Dir, "etcd"), 0o700); err != nil {
			return nil, err
		}
		env.ControlPlane.Etcd = &envtest.Etcd{DataDir: filepath.Join(opts.Dir, "etcd"), Out: opts.Out, Err: opts.Out}
	}
	if len(opts.APIServerArgs) > 0 || opts.Out != nil {
		api := &envtest.APIServer{Out: opts.Out, Err: opts.Out}
		for k, v := range opts.APIServerArgs {
			api.Configure().Set(k, v)
		}
		env.ControlPlane.APIServer = api
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("failed to start the test control plane: %w", err)
	}
	e := &Env{Config: cfg, Scheme: scheme, Root: root, env: env}
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		_ = env.Stop()
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		if e.dir, err = os.MkdirTemp("", "modelsync-testenv-"); err != nil {
			_ = env.Stop()
			return nil, err
		}
		dir = e.dir
	}
	e.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(e.Kubeconfig, env.KubeConfig, 0o600); err != nil {
		_ = e.Stop()
		return nil, err
	}
	return e, nil
}

// Stop stops the control plane and removes its files (those of a temporary folder only).
func (e *Env) Stop() error {
	err := e.env.Stop()
	if e.dir != "" {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	return err
}

// Main starts one environment for a test binary, stores it in *env, runs the tests and stops it.
// Use it from TestMain: func TestMain(m *testing.M) { testenv.Main(m, &env) }.
func Main(m *testing.M, env **Env) { MainWith(m, env, Options{}) }

// MainWith is Main with options.
func MainWith(m *testing.M, env **Env, opts Options) {
	e, err := StartWith(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stop:", err)
	}
	os.Exit(code)
}

// Namespace creates a namespace for one test, named after it, and deletes it when the test ends.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: strings.Trim(name, "-") + "-"}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("failed to create namespace: %v", err)
	}
	t.Cleanup(func() { _ = e.Client.Delete(context.Background(), ns) })
	return ns.Name
}

// RepoRoot finds the repository root: the nearest parent folder with this module's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/modelsync/modelsync\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the modelsync repository root above the working directory")
		}
		dir = parent
	}
}

// TektonCRDDir returns config/300-crds of the tektoncd/pipeline module that go.mod requires.
func TektonCRDDir(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tektoncd/pipeline")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("failed to locate the tektoncd/pipeline module (for its CRDs): %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "300-crds")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("no Tekton CRDs at %s: run `go mod download github.com/tektoncd/pipeline`: %w", dir, err)
	}
	return dir, nil
}
