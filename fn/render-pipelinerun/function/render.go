package function

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/kptdev/krm-functions-sdk/go/fn"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/yaml"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/pipelinerun"
)

// Processor runs the function on a ResourceList. A fn.Runner may only edit the items it is given,
// so the typed config and the rendering go through RenderPipelineRun.Run and Processor then adds
// (or replaces) the rendered run.
type Processor struct{ Context context.Context }

// Process implements fn.ResourceListProcessor.
func (p Processor) Process(rl *fn.ResourceList) (bool, error) {
	r := &RenderPipelineRun{}
	ok, err := fn.WithContext(p.Context, r).Process(rl)
	if err != nil || !ok || r.output == nil {
		return ok, err
	}
	for i, item := range rl.Items {
		if item.HasSameID(r.output) {
			rl.Items[i] = r.output
			return true, nil
		}
	}
	rl.Items = append(rl.Items, r.output)
	return true, nil
}

var _ fn.Runner = &RenderPipelineRun{}

// Run renders the run into r.output. On error it adds an error result and changes nothing.
func (r *RenderPipelineRun) Run(_ *fn.Context, config *fn.KubeObject, items fn.KubeObjects, results *fn.Results) bool {
	out, warnings, err := r.render(config, items)
	for _, w := range warnings {
		*results = append(*results, w)
	}
	if err != nil {
		results.ErrorE(err)
		return false
	}
	r.output = out.object
	*results = append(*results, &fn.Result{
		Message:     fmt.Sprintf("%s PipelineRun %s from %s", out.verb, out.object.GetName(), describe(out.modelSync)),
		Severity:    fn.Info,
		ResourceRef: ref(out.object),
		File:        &fn.File{Path: out.object.PathAnnotation(), Index: max(out.object.IndexAnnotation(), 0)},
	})
	return true
}

type rendered struct {
	object    *fn.KubeObject
	modelSync *fn.KubeObject
	verb      string // added, replaced or unchanged
}

func (r *RenderPipelineRun) render(config *fn.KubeObject, items fn.KubeObjects) (*rendered, []*fn.Result, error) {
	if err := r.load(config); err != nil {
		return nil, nil, err
	}
	obj, err := r.pick(items)
	if err != nil {
		return nil, nil, err
	}
	var ms automlv1alpha1.ModelSync
	if err := yaml.Unmarshal([]byte(obj.String()), &ms); err != nil {
		return nil, nil, fmt.Errorf("failed to decode %s: %w", describe(obj), err)
	}
	number := r.Number
	if number == 0 { // render the run already in the package again, or the next one
		for _, run := range runsOf(items, &ms) {
			if n, _ := pipelinerun.NumberOf(ms.Name, run.GetName()); n > number {
				number = n
			}
		}
		if number == 0 {
			number = pipelinerun.NextNumber(&ms, nil)
		}
	}
	res, err := pipelinerun.Render(&ms, pipelinerun.Input{Number: number, Parameters: r.Parameters, Trigger: r.Trigger})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to render the PipelineRun of %s: %w", describe(obj), err)
	}
	var warnings []*fn.Result
	for _, w := range res.Warnings {
		warnings = append(warnings, &fn.Result{Message: w, Severity: fn.Warning, ResourceRef: ref(obj), File: fileOf(obj)})
	}
	data, err := yaml.Marshal(res.PipelineRun.Object)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode the PipelineRun: %w", err)
	}
	out, err := fn.ParseKubeObject(data)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode the PipelineRun: %w", err)
	}
	verb := "added"
	filePath, index := path.Join(path.Dir(obj.PathAnnotation()), "pipelinerun-"+out.GetName()+".yaml"), 0
	for _, item := range items {
		if item.HasSameID(out) {
			verb, filePath, index = "replaced", item.PathAnnotation(), max(item.IndexAnnotation(), 0)
			if sameContent(item, out) {
				verb = "unchanged"
			}
		}
	}
	if err := out.SetPathAnnotation(filePath); err != nil {
		return nil, nil, err
	}
	if err := out.SetIndexAnnotation(index); err != nil {
		return nil, nil, err
	}
	return &rendered{object: out, modelSync: obj, verb: verb}, warnings, nil
}

// pick returns the ModelSync named by the config, or the only one of the package.
func (r *RenderPipelineRun) pick(items fn.KubeObjects) (*fn.KubeObject, error) {
	all := items.Where(fn.IsGVK(automlv1alpha1.GroupVersion.Group, automlv1alpha1.GroupVersion.Version, automlv1alpha1.ModelSyncKind))
	var found fn.KubeObjects
	var names []string
	for _, o := range all {
		names = append(names, describe(o))
		if (r.ModelSync == "" || o.GetName() == r.ModelSync) && (r.Namespace == "" || o.GetNamespace() == r.Namespace) {
			found = append(found, o)
		}
	}
	held := "the package holds no ModelSync"
	if len(names) > 0 {
		held = "the package holds " + strings.Join(names, ", ")
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && r.ModelSync == "" && r.Namespace == "":
		return nil, fmt.Errorf("modelSync: no ModelSync to render (%s)", held)
	case len(found) == 0:
		return nil, fmt.Errorf("modelSync: no ModelSync %q%s (%s)", r.ModelSync, inNamespace(r.Namespace), held)
	case r.ModelSync == "":
		return nil, fmt.Errorf("modelSync: required when the package holds several ModelSyncs (%s)", held)
	default:
		return nil, fmt.Errorf("namespace: required, several ModelSyncs are called %q (%s)", r.ModelSync, held)
	}
}

// runsOf returns the PipelineRuns of the package that belong to ms.
func runsOf(items fn.KubeObjects, ms *automlv1alpha1.ModelSync) fn.KubeObjects {
	return items.Where(func(o *fn.KubeObject) bool {
		if o.GetKind() != pipelinerun.Kind || !strings.HasPrefix(o.GetAPIVersion(), "tekton.dev/") || o.GetNamespace() != ms.Namespace {
			return false
		}
		_, numbered := pipelinerun.NumberOf(ms.Name, o.GetName())
		return numbered && o.GetLabel(automlv1alpha1.LabelModelSync) == ms.Name
	})
}

// sameContent compares two objects without the annotations kpt adds to record their files.
func sameContent(a, b *fn.KubeObject) bool {
	return withoutReaderAnnotations(a) == withoutReaderAnnotations(b)
}

func withoutReaderAnnotations(o *fn.KubeObject) string {
	c := o.Copy()
	for k := range c.GetAnnotations() {
		if strings.HasPrefix(k, "internal.config.kubernetes.io/") || k == kioutil.LegacyPathAnnotation ||
			k == kioutil.LegacyIndexAnnotation || k == kioutil.LegacyIdAnnotation {
			_ = c.RemoveAnnotation(k)
		}
	}
	var m map[string]any
	if err := c.As(&m); err != nil {
		return c.String()
	}
	data, _ := yaml.Marshal(m)
	return string(data)
}

func describe(o *fn.KubeObject) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

func ref(o *fn.KubeObject) *fn.ResourceRef {
	return &fn.ResourceRef{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Name: o.GetName(), Namespace: o.GetNamespace()}
}

func fileOf(o *fn.KubeObject) *fn.File {
	if o.PathAnnotation() == "" {
		return nil
	}
	return &fn.File{Path: o.PathAnnotation(), Index: max(o.IndexAnnotation(), 0)}
}
