package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/plugin/format"
)

// wait follows a trigger: first until the controller has served it (status.lastHandledTriggerAt),
// then, if it started a run numbered baseline or more, until that run ends.
func (o *TriggerOptions) wait(ctx context.Context, at string, baseline int64) error {
	// The timeout bounds the waiting only: a request in flight is not cut short by it, so that
	// the outcome is either an answer or "timed out", never a half-made request error.
	deadline, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	p := newProgress(o.Out)
	defer p.stop()

	p.update("waiting for the controller to serve the trigger")
	var ms *automlv1alpha1.ModelSync
	err := o.poll(deadline, func() (bool, error) {
		var err error
		ms, err = o.clients.getModelSync(ctx, o.Namespace, o.Name)
		return err == nil && ms.Status.LastHandledTriggerAt == at, err
	})
	if err != nil {
		return o.waitError(deadline, err, "the controller to serve the trigger (is it running?)")
	}
	run, err := o.triggeredRun(ctx, ms, baseline)
	if err != nil || run == nil {
		p.stop()
		if err == nil {
			fmt.Fprintln(o.Out, "no run started: the lambda answered that no sync is needed")
		}
		return err
	}

	p.update(fmt.Sprintf("pipelinerun %s: started", run.Name))
	err = o.poll(deadline, func() (bool, error) {
		u, err := o.clients.getRun(ctx, o.Namespace, run.Name)
		if err != nil {
			return false, err
		}
		*run = newRunInfo(u)
		p.update(fmt.Sprintf("pipelinerun %s: %s", run.Name, runProgress(run)))
		return run.Finished(), nil
	})
	if err != nil {
		return o.waitError(deadline, err, "pipelinerun "+run.Name+" to finish")
	}
	p.stop()
	took := format.Duration(run.Start, run.End, o.Now())
	if run.Succeeded == metav1.ConditionTrue {
		fmt.Fprintf(o.Out, "pipelinerun %s succeeded in %s\n", run.Name, took)
		return nil
	}
	return &ExitError{Code: 1, Err: fmt.Errorf("pipelinerun %q failed after %s: %s: %s", run.Name, took,
		format.Or(run.Reason), format.Or(format.OneLine(run.Message)))}
}

// triggeredRun finds the run a served trigger started: the first with a number ≥ baseline. No
// such run means the lambda said no (nil, nil), or the check failed (an error naming why).
func (o *TriggerOptions) triggeredRun(ctx context.Context, ms *automlv1alpha1.ModelSync, baseline int64) (*runInfo, error) {
	sel, err := modelSyncRunsSelector(ms.Name, "")
	if err != nil {
		return nil, err
	}
	runs, err := o.clients.listRuns(ctx, ms.Namespace, sel)
	if err != nil {
		return nil, err
	}
	var found *runInfo
	for i := range runs { // newest first: keep the oldest one at or past baseline
		if runs[i].Number >= baseline {
			found = &runs[i]
		}
	}
	if found != nil {
		return found, nil
	}
	if last := ms.Status.LastNeedsSync; last != nil && last.Error != "" {
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("modelsync %q: the lambda check failed: %s", ms.Name, format.OneLine(last.Error))}
	}
	if ready := meta.FindStatusCondition(ms.Status.Conditions, automlv1alpha1.ConditionReady); ready != nil && ready.Status == metav1.ConditionFalse {
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("modelsync %q is not ready: %s: %s", ms.Name, ready.Reason, format.OneLine(ready.Message))}
	}
	return nil, nil
}

// runProgress is a one-line state of a run: its result and Tekton's message.
func runProgress(r *runInfo) string {
	if r.Succeeded == "" {
		return "started"
	}
	if r.Message == "" {
		return r.Result()
	}
	return r.Result() + " (" + format.OneLine(r.Message) + ")"
}

// poll calls done every PollInterval until it reports true, fails, or the deadline passes.
func (o *TriggerOptions) poll(deadline context.Context, done func() (bool, error)) error {
	t := time.NewTicker(o.PollInterval)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-deadline.Done():
			return deadline.Err()
		case <-t.C:
		}
	}
}

func (o *TriggerOptions) waitError(deadline context.Context, err error, what string) error {
	if errors.Is(deadline.Err(), context.DeadlineExceeded) {
		return &ExitError{Code: 1, Err: fmt.Errorf("timed out after %s waiting for %s", o.Timeout, what)}
	}
	return err
}

// progress shows the state of a wait: a spinner line rewritten in place on a terminal, and a
// plain line per change of state otherwise (logs, CI, tests).
type progress struct {
	out      io.Writer
	terminal bool

	mu      sync.Mutex
	msg     string
	stopped bool
	ticker  *time.Ticker
	done    chan struct{}
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
		p.ticker = time.NewTicker(100 * time.Millisecond)
		p.done = make(chan struct{})
		go p.spin()
	}
	return p
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) spin() {
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-p.done:
			return
		case <-p.ticker.C:
		}
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return
		}
		fmt.Fprintf(p.out, "\r\033[K%s %s (%s)", spinnerFrames[i%len(spinnerFrames)], p.msg, time.Since(start).Round(time.Second))
		p.mu.Unlock()
	}
}

func (p *progress) update(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || msg == p.msg {
		return
	}
	if p.terminal && p.msg != "" {
		fmt.Fprintf(p.out, "\r\033[K✓ %s\n", p.msg)
	}
	p.msg = msg
	if !p.terminal {
		fmt.Fprintln(p.out, msg)
	}
}

func (p *progress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	if p.terminal {
		p.ticker.Stop()
		close(p.done)
		fmt.Fprint(p.out, "\r\033[K")
	}
}
