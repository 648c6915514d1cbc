package setmodel

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ErrNoMatch is wrapped by the error of a selection that matches no value.
var ErrNoMatch = errors.New("the selector matches nothing")

// Resource identifies the resource that holds a selected value.
type Resource struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// File is the package-relative path of the file, when the reader recorded it.
	File string
	// Index is the position of the resource in its file.
	Index int
}

// String returns Kind/namespace/name, or Kind/name for a resource without a namespace, or the kind
// and file of a document without a name (a kustomization.yaml).
func (r Resource) String() string {
	switch {
	case (r.Kind == "" || r.Name == "") && r.File != "":
		return strings.TrimSpace(r.Kind + " in " + r.File)
	case r.Namespace == "":
		return r.Kind + "/" + r.Name
	default:
		return r.Kind + "/" + r.Namespace + "/" + r.Name
	}
}

// Match is one selected value.
type Match struct {
	Resource Resource
	// Field is the path of the value in the resource, e.g. `data.automl-model` or
	// `configMapGenerator[0].literals[1]`.
	Field string
	// Value is the model id currently set (for a kustomize literal, the part after '=').
	Value string

	node    *yaml.Node
	literal string // for a `key=value` literal, "key="; the model follows it
}

// Find returns the values selected by sel in document order. It never modifies nodes. A selection
// that matches nothing is an error wrapping ErrNoMatch that says what the package holds instead.
func Find(nodes []*yaml.RNode, sel Selector) ([]Match, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	var matches []Match
	var seen []string // what the package holds, for the no-match message
	for _, rn := range nodes {
		if rn == nil || rn.YNode() == nil || rn.YNode().Kind != yaml.MappingNode {
			continue
		}
		res := resourceOf(rn)
		if sel.Marker != "" {
			if sel.Name != "" && res.Name != sel.Name || sel.Namespace != "" && res.Namespace != sel.Namespace {
				continue
			}
			found, err := findMarked(rn.YNode(), "", sel.Marker, res)
			if err != nil {
				return nil, err
			}
			matches = append(matches, found...)
			continue
		}
		if res.Kind != "ConfigMap" || res.APIVersion != "v1" {
			continue
		}
		seen = append(seen, describeConfigMap(rn, res))
		if sel.Name != "" && res.Name != sel.Name || sel.Namespace != "" && res.Namespace != sel.Namespace {
			continue
		}
		m, ok, err := findDataKey(rn, sel.key(), res)
		if err != nil {
			return nil, err
		}
		if ok {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return nil, noMatchError(sel, seen)
	}
	return matches, nil
}

func resourceOf(rn *yaml.RNode) Resource {
	res := Resource{APIVersion: rn.GetApiVersion(), Kind: rn.GetKind(), Name: rn.GetName(), Namespace: rn.GetNamespace()}
	if path, index, err := kioutil.GetFileAnnotations(rn); err == nil {
		res.File = path
		res.Index, _ = strconv.Atoi(index)
	}
	return res
}

func findDataKey(rn *yaml.RNode, key string, res Resource) (Match, bool, error) {
	data := rn.Field("data")
	if data == nil || data.Value.YNode().Kind != yaml.MappingNode {
		return Match{}, false, nil
	}
	field := data.Value.Field(key)
	if field == nil {
		return Match{}, false, nil
	}
	n := field.Value.YNode()
	if n.Kind != yaml.ScalarNode {
		return Match{}, false, fmt.Errorf("%s: data.%s must be a string, not a %s", res, key, kindName(n))
	}
	return Match{Resource: res, Field: "data." + key, Value: n.Value, node: n}, true, nil
}

// findMarked walks n and returns the scalars whose line comment (or, for `key: value`, the key's
// line comment) names the setter.
func findMarked(n *yaml.Node, path, setter string, res Resource) ([]Match, error) {
	var out []Match
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := joinPath(path, k.Value)
			if v.Kind == yaml.ScalarNode && (marks(v.LineComment, setter) || marks(k.LineComment, setter)) {
				out = append(out, Match{Resource: res, Field: sub, Value: v.Value, node: v})
				continue
			}
			found, err := findMarked(v, sub, setter, res)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
	case yaml.SequenceNode:
		literals := strings.HasSuffix(path, "literals")
		for i, item := range n.Content {
			sub := path + "[" + strconv.Itoa(i) + "]"
			if item.Kind == yaml.ScalarNode && marks(item.LineComment, setter) {
				m := Match{Resource: res, Field: sub, Value: item.Value, node: item}
				if literals {
					key, value, ok := strings.Cut(item.Value, "=")
					if !ok {
						return nil, fmt.Errorf("%s: %s: the marked literal %q is not of the form key=value", res, sub, item.Value)
					}
					m.literal, m.Value = key+"=", value
				}
				out = append(out, m)
				continue
			}
			found, err := findMarked(item, sub, setter, res)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
	}
	return out, nil
}

// marks reports whether a line comment is `# modelsync-set: <setter>` (extra text after the setter
// name is allowed).
func marks(comment, setter string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#")), MarkerPrefix)
	if !ok {
		return false
	}
	fields := strings.Fields(rest)
	return len(fields) > 0 && fields[0] == setter
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	default:
		return "scalar"
	}
}

func describeConfigMap(rn *yaml.RNode, res Resource) string {
	var keys []string
	if data := rn.Field("data"); data != nil {
		keys, _ = data.Value.Fields()
	}
	slices.Sort(keys)
	return fmt.Sprintf("%s (data keys: %s)", res, strings.Join(keys, ", "))
}

func noMatchError(sel Selector, seen []string) error {
	if sel.Marker != "" {
		return fmt.Errorf("%w: no %s in the package", ErrNoMatch, sel)
	}
	const limit = 5
	held := "the package holds no ConfigMap"
	if len(seen) > 0 {
		more := ""
		if len(seen) > limit {
			more, seen = fmt.Sprintf(" and %d more", len(seen)-limit), seen[:limit]
		}
		held = "the package holds " + strings.Join(seen, "; ") + more
	}
	return fmt.Errorf("%w: no %s (%s)", ErrNoMatch, sel, held)
}
