package pipelinerun

import (
	"fmt"
	"strings"
)

// Legacy (tekton.dev/v1beta1) fields of a PipelineRunSpec and where they live in tekton.dev/v1.
// Each conversion is reported as a warning so that users can update their templates.
const specField = "spec.pipelineRunTemplate.spec"

// convertLegacy rewrites the v1beta1-only fields of spec into their v1 form, in place.
func convertLegacy(spec map[string]any) ([]string, error) {
	var warnings []string
	steps := []func(map[string]any) ([]string, error){
		moveServiceAccountName,
		movePodTemplate,
		moveTimeout,
		convertServiceAccountNames,
		convertTaskRunSpecs,
		convertResources,
	}
	for _, step := range steps {
		w, err := step(spec)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
	}
	return warnings, nil
}

// moveField moves spec[from] to spec[to[0]][to[1]]..., failing when the target is already set.
func moveField(spec map[string]any, from string, to ...string) (bool, error) {
	v, ok := spec[from]
	if !ok {
		return false, nil
	}
	delete(spec, from)
	parent := spec
	for i, key := range to[:len(to)-1] {
		next, ok := parent[key]
		if !ok || next == nil {
			next = map[string]any{}
			parent[key] = next
		}
		obj, ok := next.(map[string]any)
		if !ok {
			return false, errorf(specField+"."+strings.Join(to[:i+1], "."), "must be an object")
		}
		parent = obj
	}
	last := to[len(to)-1]
	if _, exists := parent[last]; exists {
		return false, errorf(specField+"."+from, "cannot be combined with %s.%s (the v1 form of the same setting); keep one",
			specField, strings.Join(to, "."))
	}
	parent[last] = v
	return true, nil
}

func moveWarning(from string, to ...string) string {
	return fmt.Sprintf("%s.%s is a tekton.dev/v1beta1 field; rendered as %s.%s", specField, from, specField, strings.Join(to, "."))
}

func moveServiceAccountName(spec map[string]any) ([]string, error) {
	return moveOne(spec, "serviceAccountName", "taskRunTemplate", "serviceAccountName")
}

func movePodTemplate(spec map[string]any) ([]string, error) {
	return moveOne(spec, "podTemplate", "taskRunTemplate", "podTemplate")
}

func moveTimeout(spec map[string]any) ([]string, error) {
	return moveOne(spec, "timeout", "timeouts", "pipeline")
}

func moveOne(spec map[string]any, from string, to ...string) ([]string, error) {
	moved, err := moveField(spec, from, to...)
	if err != nil || !moved {
		return nil, err
	}
	return []string{moveWarning(from, to...)}, nil
}

// convertServiceAccountNames turns v1beta1 serviceAccountNames[{taskName, serviceAccountName}]
// into v1 taskRunSpecs[{pipelineTaskName, serviceAccountName}].
func convertServiceAccountNames(spec map[string]any) ([]string, error) {
	v, ok := spec["serviceAccountNames"]
	if !ok {
		return nil, nil
	}
	delete(spec, "serviceAccountNames")
	list, ok := v.([]any)
	if !ok {
		return nil, errorf(specField+".serviceAccountNames", "must be a list")
	}
	specs, _ := spec["taskRunSpecs"].([]any)
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, errorf(fmt.Sprintf("%s.serviceAccountNames[%d]", specField, i), "must be an object")
		}
		specs = append(specs, map[string]any{
			"pipelineTaskName":   obj["taskName"],
			"serviceAccountName": obj["serviceAccountName"],
		})
	}
	spec["taskRunSpecs"] = specs
	return []string{fmt.Sprintf("%s.serviceAccountNames is a tekton.dev/v1beta1 field; rendered as %s.taskRunSpecs", specField, specField)}, nil
}

// convertTaskRunSpecs renames the v1beta1 fields of taskRunSpecs entries.
func convertTaskRunSpecs(spec map[string]any) ([]string, error) {
	list, ok := spec["taskRunSpecs"].([]any)
	if !ok {
		return nil, nil
	}
	var warnings []string
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			continue
		}
		for _, rename := range [][2]string{{"taskServiceAccountName", "serviceAccountName"}, {"taskPodTemplate", "podTemplate"}} {
			from, to := rename[0], rename[1]
			moved, err := moveField(obj, from, to)
			if err != nil {
				return nil, errorf(fmt.Sprintf("%s.taskRunSpecs[%d].%s", specField, i, from), "cannot be combined with %s", to)
			}
			if moved {
				warnings = append(warnings, fmt.Sprintf("%s.taskRunSpecs[%d].%s is a tekton.dev/v1beta1 field; rendered as %s",
					specField, i, from, to))
			}
		}
	}
	return warnings, nil
}

// convertResources turns PipelineResources (removed from Tekton) into params: each param P of
// an embedded resource R of type git becomes the param R-P (so url → R-url, revision →
// R-revision), which is what the shipped pipelines declare. Other types, and resources that
// reference a PipelineResource object, cannot be converted.
func convertResources(spec map[string]any) ([]string, error) {
	v, ok := spec["resources"]
	if !ok {
		return nil, nil
	}
	delete(spec, "resources")
	list, ok := v.([]any)
	if !ok {
		return nil, errorf(specField+".resources", "must be a list")
	}
	params, err := paramList(spec)
	if err != nil {
		return nil, err
	}
	var warnings []string
	for i, item := range list {
		field := fmt.Sprintf("%s.resources[%d]", specField, i)
		res, ok := item.(map[string]any)
		if !ok {
			return nil, errorf(field, "must be an object")
		}
		name, _ := res["name"].(string)
		if name == "" {
			return nil, errorf(field+".name", "is required")
		}
		if _, ok := res["resourceRef"]; ok {
			return nil, errorf(field+".resourceRef", "PipelineResources were removed from Tekton and a reference to one cannot be converted; embed it as resourceSpec or use params")
		}
		rs, ok := res["resourceSpec"].(map[string]any)
		if !ok {
			return nil, errorf(field+".resourceSpec", "is required (PipelineResources were removed from Tekton)")
		}
		if typ, _ := rs["type"].(string); typ != "git" {
			return nil, errorf(field+".resourceSpec.type", "only resources of type git can be converted to params, got %q", typ)
		}
		rparams, _ := rs["params"].([]any)
		var made []string
		for j, p := range rparams {
			obj, ok := p.(map[string]any)
			pname, _ := obj["name"].(string)
			if !ok || pname == "" {
				return nil, errorf(fmt.Sprintf("%s.resourceSpec.params[%d].name", field, j), "is required")
			}
			target := name + "-" + pname
			if hasParam(params, target) {
				return nil, errorf(field, "resource %q would become param %q, which the template already sets; keep one", name, target)
			}
			params = append(params, map[string]any{"name": target, "value": obj["value"]})
			made = append(made, fmt.Sprintf("%q", target))
		}
		warnings = append(warnings, fmt.Sprintf("%s: PipelineResources were removed from Tekton; git resource %q rendered as param(s) %s for a pipeline that clones itself (like the shipped update-model-pr)",
			field, name, strings.Join(made, ", ")))
	}
	if len(params) > 0 {
		spec["params"] = params
	}
	return warnings, nil
}

func hasParam(params []any, name string) bool {
	for _, p := range params {
		if obj, ok := p.(map[string]any); ok && obj["name"] == name {
			return true
		}
	}
	return false
}
