package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// deployRun picks, among the runs of ModelSyncs, those whose automl-model param is the model,
// and returns the newest that succeeded and pushed the change (push-status pushed or
// would-push: the run that proposed it, not a later one that found the branch up to date),
// else the newest that succeeded, else the newest.
func deployRun(model string, runs *unstructured.UnstructuredList, listErr error) RunLink {
	if listErr != nil {
		return RunLink{Missing: listErr.Error()}
	}
	var candidates []*unstructured.Unstructured
	for i := range runs.Items {
		if runParams(&runs.Items[i])[deployModelParam] == model {
			candidates = append(candidates, &runs.Items[i])
		}
	}
	if len(candidates) == 0 {
		return RunLink{Missing: fmt.Sprintf("no PipelineRun has %s=%s (never proposed, or deleted by the history limits)", deployModelParam, model)}
	}
	sortNewestFirst(candidates)
	var succeeded *unstructured.Unstructured
	for _, u := range candidates {
		if pipelinerun.ReadStatus(u).Succeeded != metav1.ConditionTrue {
			continue
		}
		if status := pipelinerun.NamedValues(u.Object, "status", "results")["push-status"]; status == "pushed" || status == "would-push" {
			return newRunLink(u)
		}
		if succeeded == nil {
			succeeded = u
		}
	}
	if succeeded != nil {
		return newRunLink(succeeded)
	}
	return newRunLink(candidates[0])
}

// sortNewestFirst orders runs by creation time, then (for runs created in the same second)
// by start time, then by sync number and name, newest first.
func sortNewestFirst(runs []*unstructured.Unstructured) {
	number := func(u *unstructured.Unstructured) int64 {
		n, _ := pipelinerun.NumberOf(u.GetLabels()[automlv1alpha1.LabelModelSync], u.GetName())
		return n
	}
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if ca, cb := a.GetCreationTimestamp(), b.GetCreationTimestamp(); !ca.Equal(&cb) {
			return cb.Before(&ca)
		}
		sa, sb := pipelinerun.ReadStatus(a).Start, pipelinerun.ReadStatus(b).Start
		if sa != nil && sb != nil && !sa.Equal(sb) {
			return sb.Before(sa)
		}
		if na, nb := number(a), number(b); na != nb {
			return na > nb
		}
		return a.GetName() > b.GetName()
	})
}

// trainingRun follows the manifest's lineage.pipelineRun ("namespace/name"), from the list of
// runs when it is there, else with a get (it may lack the label or be in another namespace).
func (o *LineageOptions) trainingRun(ctx context.Context, l *Lineage, runs *unstructured.UnstructuredList, listErr error) RunLink {
	switch {
	case l.Manifest.Missing != "":
		return RunLink{Missing: "unknown: the model's manifest could not be read"}
	case l.Manifest.TrainingRun == "":
		return RunLink{Missing: "the model's manifest records no training run (lineage.pipelineRun)"}
	}
	ns, name := splitRef(l.Manifest.TrainingRun, o.Namespace)
	if ns == o.Namespace && listErr == nil {
		for i := range runs.Items {
			if runs.Items[i].GetName() == name {
				return newRunLink(&runs.Items[i])
			}
		}
	}
	u, err := o.clients.dynamic.Resource(pipelineRunsGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && !missingResource(err):
		return RunLink{Namespace: ns, Name: name,
			Missing: fmt.Sprintf("pipelinerun %s/%s no longer exists (the history limits may have deleted it)", ns, name)}
	case err != nil:
		return RunLink{Namespace: ns, Name: name, Missing: runError(err, "get", ns, name).Error()}
	}
	return newRunLink(u)
}

// newRunLink reads a run: status, string params and results, and the check annotations.
func newRunLink(u *unstructured.Unstructured) RunLink {
	st := pipelinerun.ReadStatus(u)
	link := RunLink{
		Namespace: u.GetNamespace(),
		Name:      u.GetName(),
		Result:    "Pending",
		Reason:    st.Reason,
		Message:   st.Message,
		Started:   st.Start,
		Completed: st.Completion,
		Params:    runParams(u),
		Results:   pipelinerun.NamedValues(u.Object, "status", "results"),
	}
	if st.Succeeded != "" {
		link.Result = (&runInfo{Succeeded: st.Succeeded}).Result()
	}
	annotations := u.GetAnnotations()
	check := &CheckLink{
		ModelSync:   u.GetLabels()[automlv1alpha1.LabelModelSync],
		Trigger:     annotations[automlv1alpha1.AnnotationTrigger],
		RequestedAt: annotations[automlv1alpha1.AnnotationRequestedAt],
	}
	if raw := annotations[automlv1alpha1.AnnotationParameters]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &check.Parameters) // a hand-edited annotation shows as no parameters
	}
	check.Generation, _ = strconv.ParseInt(annotations[automlv1alpha1.AnnotationGeneration], 10, 64)
	if check.ModelSync != "" || check.Trigger != "" {
		created := u.GetCreationTimestamp()
		check.Checked = &created
		link.Check = check
	}
	return link
}

func runParams(u *unstructured.Unstructured) map[string]string {
	return pipelinerun.NamedValues(u.Object, "spec", "params")
}

// templateParams reads the string params of a ModelSync's pipelineRunTemplate.
func templateParams(ms *automlv1alpha1.ModelSync) map[string]string {
	var spec map[string]any
	if err := json.Unmarshal(ms.Spec.PipelineRunTemplate.Spec.Raw, &spec); err != nil {
		return nil
	}
	return pipelinerun.NamedValues(spec, "params")
}
