package controller

import (
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// TestPackage checks the kpt package: the API server accepts it, the Deployment's arguments are
// flags the binary knows, and the generated RBAC asks for nothing it should not.
func TestPackage(t *testing.T) {
	t.Parallel()
	applyPackageRBAC(t)
	dir := filepath.Join(env.Root, "kpt-packages", "modelsync", "controller")
	kubectl(t, "apply", "--dry-run=server", "-f", dir)

	raw, err := os.ReadFile(filepath.Join(dir, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := sigsyaml.UnmarshalStrict(raw, &d); err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	opts := DefaultOptions()
	fs := flag.NewFlagSet("modelsync-controller", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts.BindFlags(fs)
	if err := fs.Parse(c.Args); err != nil {
		t.Fatalf("the Deployment passes an argument the controller does not know: %v", err)
	}
	if err := opts.Validate(); err != nil || !opts.LeaderElection || opts.LeaderElectionNamespace != d.Namespace {
		t.Errorf("Deployment options: %+v (%v)", opts, err)
	}
	if d.Spec.Template.Spec.ServiceAccountName != "modelsync-controller" || d.Namespace != "modelsync-system" {
		t.Errorf("the Deployment runs as %s/%s, want the package's ServiceAccount", d.Namespace, d.Spec.Template.Spec.ServiceAccountName)
	}

	role, err := os.ReadFile(filepath.Join(env.Root, "kpt-packages", "modelsync", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, forbidden := range []string{"secrets", "'*'", `"*"`, "- '*'"} {
		if strings.Contains(string(role), forbidden) {
			t.Errorf("the generated RBAC grants %s", forbidden)
		}
	}
	if !regexp.MustCompile(`(?s)kind: Role\n.*namespace: modelsync-system\n.*leases`).Match(role) {
		t.Error("the leader election lease should be granted by a Role in modelsync-system only")
	}
}

// TestMetricsAndLeaderElection runs the controller as a Deployment would (leader election on,
// metrics served) and scrapes its endpoint after a sync.
func TestMetricsAndLeaderElection(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	l := newLambda(t)
	l.answer("scraped", true, map[string]string{"name": "m"})
	opts := testOptions(ns)
	opts.MetricsAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	opts.LeaderElection, opts.LeaderElectionNamespace = true, "modelsync-system"
	newController(t, opts).start(t)
	create(t, newModelSync(ns, "scraped", l.url("scraped")))
	waitMS(t, ns, "scraped", "run 1", func(m *automlv1alpha1.ModelSync) bool { return len(m.Status.Active) == 1 })

	lease := &coordinationv1.Lease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: "modelsync-system", Name: LeaderElectionID}, lease); err != nil {
		t.Fatalf("no leader election lease: %v", err)
	}
	metrics := scrape(t, "http://"+opts.MetricsAddr+"/metrics")
	for _, re := range []string{
		`modelsync_checks_total\{result="needs_sync"\} [1-9]`,
		`modelsync_check_duration_seconds_count [1-9]`,
		`modelsync_runs_created_total\{trigger="interval"\} [1-9]`,
		`modelsync_active_runs [1-9]`,
		`controller_runtime_reconcile_total\{controller="modelsync",result="success"\} [1-9]`,
	} {
		if !regexp.MustCompile(`(?m)^` + re).MatchString(metrics) {
			t.Errorf("metrics endpoint has no line matching %s", re)
		}
	}
	finishRun(t, ns, "scraped-1", false)
	waitMS(t, ns, "scraped", "run 1 finished", func(m *automlv1alpha1.ModelSync) bool { return m.Status.LastFailedRun != nil })
	eventually(t, 10*time.Second, func() (bool, string) {
		return regexp.MustCompile(`(?m)^modelsync_runs_finished_total\{result="failed"\} [1-9]`).MatchString(scrape(t, "http://"+opts.MetricsAddr+"/metrics")),
			"modelsync_runs_finished_total{result=\"failed\"}"
	})
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func scrape(t testing.TB, url string) string {
	t.Helper()
	var body []byte
	eventually(t, 10*time.Second, func() (bool, string) {
		resp, err := http.Get(url)
		if err != nil {
			return false, "the metrics endpoint: " + err.Error()
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == 200, "the metrics endpoint: " + resp.Status
	})
	return string(body)
}
