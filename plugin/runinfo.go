package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
	"github.com/modelsync/modelsync/plugin/format"
)

// runInfo is what the plugin shows of one PipelineRun.
type runInfo struct {
	Namespace  string
	Name       string
	ModelSync  string
	Number     int64 // 0 when the name is not <modelsync>-<n>
	Trigger    string
	Parameters map[string]string
	// Succeeded is the status of the run's Succeeded condition ("" before Tekton sets it).
	Succeeded metav1.ConditionStatus
	Reason    string
	Message   string
	Created   metav1.Time
	Start     *metav1.Time
	End       *metav1.Time
}

// Result is Succeeded, Failed or Running; Pending before Tekton has written a condition.
func (r *runInfo) Result() string {
	if r.Succeeded == "" {
		return "Pending"
	}
	return format.Result(r.Succeeded)
}

// Finished reports whether the run has ended.
func (r *runInfo) Finished() bool {
	return pipelinerun.Status{Succeeded: r.Succeeded}.Finished()
}

func newRunInfo(u *unstructured.Unstructured) runInfo {
	r := runInfo{
		Namespace: u.GetNamespace(),
		Name:      u.GetName(),
		ModelSync: u.GetLabels()[automlv1alpha1.LabelModelSync],
		Trigger:   u.GetAnnotations()[automlv1alpha1.AnnotationTrigger],
		Created:   u.GetCreationTimestamp(),
	}
	if r.ModelSync != "" {
		r.Number, _ = pipelinerun.NumberOf(r.ModelSync, r.Name)
	}
	if raw := u.GetAnnotations()[automlv1alpha1.AnnotationParameters]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &r.Parameters) // a hand-edited annotation shows as no parameters
	}
	st := pipelinerun.ReadStatus(u)
	r.Succeeded, r.Reason, r.Message, r.Start, r.End = st.Succeeded, st.Reason, st.Message, st.Start, st.Completion
	return r
}

// modelSyncRunsSelector selects the runs of one ModelSync, or of every ModelSync when name is "".
func modelSyncRunsSelector(name string, extra string) (string, error) {
	sel := labels.NewSelector()
	op, values := selection.Exists, []string(nil)
	if name != "" {
		op, values = selection.Equals, []string{name}
	}
	req, err := labels.NewRequirement(automlv1alpha1.LabelModelSync, op, values)
	if err != nil {
		return "", err
	}
	sel = sel.Add(*req)
	if extra != "" {
		more, err := labels.Parse(extra)
		if err != nil {
			return "", fmt.Errorf("invalid label selector %q: %w", extra, err)
		}
		reqs, _ := more.Requirements()
		sel = sel.Add(reqs...)
	}
	return sel.String(), nil
}

// listRuns lists PipelineRuns in one request and returns them newest first (by number, then
// by creation time).
func (c *clients) listRuns(ctx context.Context, ns, selector string) ([]runInfo, error) {
	list, err := c.dynamic.Resource(pipelineRunsGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, runError(err, "list", ns, "")
	}
	runs := make([]runInfo, 0, len(list.Items))
	for i := range list.Items {
		runs = append(runs, newRunInfo(&list.Items[i]))
	}
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.ModelSync != b.ModelSync {
			return a.ModelSync < b.ModelSync
		}
		if a.Number != b.Number {
			return a.Number > b.Number
		}
		return a.Created.After(b.Created.Time)
	})
	return runs, nil
}

func (c *clients) getRun(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	u, err := c.dynamic.Resource(pipelineRunsGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, runError(err, "get", ns, name)
	}
	return u, nil
}

// runError turns an API error into a one-line message naming the PipelineRun.
func runError(err error, verb, ns, name string) error {
	what := "PipelineRuns"
	if name != "" {
		what = fmt.Sprintf("pipelinerun %q", name)
	}
	switch {
	case missingResource(err):
		return fmt.Errorf("failed to %s %s: the server has no resource pipelineruns.tekton.dev (v1): is Tekton Pipelines installed?", verb, what)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("pipelinerun %q not found in namespace %q", name, ns)
	case ns == "":
		return fmt.Errorf("failed to %s %s in any namespace: %w", verb, what, err)
	default:
		return fmt.Errorf("failed to %s %s in namespace %q: %w", verb, what, ns, err)
	}
}
