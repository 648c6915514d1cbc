package localrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// Options configure a Runner.
type Options struct {
	// Config reaches the API server.
	Config *rest.Config
	// Dir holds the state of the runs: <Dir>/<namespace>/<run>/ with workspaces/<name>/ and
	// tasks/<task>/{results,home,logs,scripts,volumes}/.
	Dir string
	// Env is the environment every step starts from; its PATH must hold the tools the steps
	// call. nil means os.Environ().
	Env []string
	// Progress receives one line per event (run and task started and finished, step failed);
	// nil means none.
	Progress io.Writer
	// Namespace limits Start to the runs of one namespace; "" means all namespaces.
	Namespace string
	// KubeletCADir holds the CA written by NewKubeletCA. When set, the runner serves step logs
	// the way a kubelet does and registers a Node pointing at that server, so that the API
	// server's pods/log (kubectl logs, kubectl modelsync logs) reads them. Empty means no log
	// server: the logs are only in the run folders (see AnnotationLogDir on each Pod).
	KubeletCADir string
	// NodeName is the Node the step pods are bound to; empty means "localrun".
	NodeName string
	// PollInterval is how often a running run is checked for cancellation; 0 means 1s.
	PollInterval time.Duration
}

// Runner executes PipelineRuns on this machine.
type Runner struct {
	opts Options
	dyn  dynamic.Interface
	kube kubernetes.Interface
	logs *logRegistry

	mu      sync.Mutex
	claimed map[types.UID]bool // runs this process has started
	server  *logServer
}

// New checks the options and connects to the API server; nothing runs until Start or Run.
func New(opts Options) (*Runner, error) {
	if opts.Config == nil {
		return nil, errors.New("localrun: Options.Config is required")
	}
	if opts.Dir == "" {
		return nil, errors.New("localrun: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.NodeName == "" {
		opts.NodeName = "localrun"
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	r := &Runner{opts: opts, claimed: map[types.UID]bool{}, logs: newLogRegistry()}
	if r.dyn, err = dynamic.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("failed to create a dynamic client: %w", err)
	}
	if r.kube, err = kubernetes.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("failed to create a kubernetes client: %w", err)
	}
	return r, nil
}

func (r *Runner) progressf(format string, args ...any) {
	if r.opts.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Progress, "localrun: "+format+"\n", args...)
}

// claim marks a run as executed by this process; false when it already was.
func (r *Runner) claim(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.claimed[uid] {
		return false
	}
	r.claimed[uid] = true
	return true
}

func (r *Runner) isClaimed(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.claimed[uid]
}

// Close stops the log server started by Run. Start stops it itself when it returns.
func (r *Runner) Close() error {
	r.mu.Lock()
	s := r.server
	r.server = nil
	r.mu.Unlock()
	if s != nil {
		return s.close()
	}
	return nil
}

// Run executes one PipelineRun synchronously, whatever its status, and returns when it has
// ended. The outcome of the run is in its status; the error is about reaching the API server.
func (r *Runner) Run(ctx context.Context, namespace, name string) error {
	if err := r.ensureLogServer(ctx); err != nil {
		return err
	}
	u, err := r.dyn.Resource(pipelineRunsGVR).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("failed to get pipelinerun %s/%s: %w", namespace, name, err)
	}
	r.claim(u.GetUID())
	return r.execute(ctx, u)
}

// Start watches PipelineRuns and executes each one without a status condition, several at a
// time, until ctx is done. A run found Running that this process did not start was left
// behind by a runner that stopped: it is marked Failed. When Start returns, the steps still
// running have been killed and their runs marked Failed.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.ensureLogServer(ctx); err != nil {
		return err
	}
	defer r.Close()
	runCtx, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stop(nil)
	var wg sync.WaitGroup
	consider := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || ctx.Err() != nil {
			return
		}
		switch pipelinerun.ReadStatus(u).Succeeded {
		case "":
			if spec, _, _ := unstructured.NestedString(u.Object, "spec", "status"); spec == v1.PipelineRunSpecStatusPending {
				return
			}
			if !r.claim(u.GetUID()) {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.execute(runCtx, u); err != nil {
					r.progressf("run %s/%s: %v", u.GetNamespace(), u.GetName(), err)
				}
			}()
		case "Unknown":
			if !r.isClaimed(u.GetUID()) {
				r.markAbandoned(ctx, u)
			}
		}
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(r.dyn, 10*time.Minute, r.opts.Namespace, nil)
	informer := factory.ForResource(pipelineRunsGVR).Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    consider,
		UpdateFunc: func(_, obj any) { consider(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
	stop(errStopped)
	wg.Wait()
	return nil
}

var (
	errStopped   = errors.New("localrun stopped while the run was in progress")
	errTimeout   = errors.New("timeout")
	errCancelled = errors.New("cancelled")
)

// markAbandoned fails a run that a previous runner process started and never finished.
func (r *Runner) markAbandoned(ctx context.Context, u *unstructured.Unstructured) {
	err := r.updateRunStatus(ctx, u.GetNamespace(), u.GetName(), func(obj *unstructured.Unstructured) bool {
		if pipelinerun.ReadStatus(obj).Succeeded != "Unknown" || r.isClaimed(obj.GetUID()) {
			return false
		}
		setCondition(obj, "False", ReasonFailed, "the local runner restarted while this run was in progress; it was not resumed")
		setTime(obj, "completionTime", time.Now())
		return true
	})
	if err != nil {
		r.progressf("run %s/%s: %v", u.GetNamespace(), u.GetName(), err)
		return
	}
	r.progressf("run %s/%s marked Failed: the runner restarted", u.GetNamespace(), u.GetName())
}
