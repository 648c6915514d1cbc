package setmodel

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Change is the outcome for one selected value.
type Change struct {
	Match
	// Old is the model id the value held before; equal to the new id when Changed is false.
	Old string
	// Changed is false when the value was already at the model.
	Changed bool
}

// Set sets the model id in every value that sel selects and reports each one. It validates model
// and sel and finds every value before it writes anything, so on error nodes are unchanged.
//
// Only the selected scalars change. A value keeps its quoting style unless the new id would read as
// another type (a number, a boolean, null) unquoted; it is then double-quoted.
func Set(nodes []*yaml.RNode, sel Selector, model string) ([]Change, error) {
	if err := ValidateModel(model); err != nil {
		return nil, err
	}
	matches, err := Find(nodes, sel)
	if err != nil {
		return nil, err
	}
	changes := make([]Change, 0, len(matches))
	for _, m := range matches {
		c := Change{Match: m, Old: m.Value, Changed: m.Value != model}
		if c.Changed {
			setScalar(m.node, m.literal+model)
			c.Value = model
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// setScalar replaces the value of a scalar node and keeps it a string.
func setScalar(n *yaml.Node, value string) {
	n.Value = value
	n.Tag = yaml.NodeTagString
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && !plainIsString(value) {
		n.Style = yaml.DoubleQuotedStyle
	}
}

// plainIsString reports whether value, written unquoted, reads back as a string in YAML 1.2 and in
// the YAML 1.1 that Kubernetes tools still use.
func plainIsString(value string) bool {
	if yaml.IsValueNonString(value) {
		return false
	}
	probe := yaml.Node{Kind: yaml.ScalarNode, Value: value}
	return probe.ShortTag() == yaml.NodeTagString
}

// Summary returns a one-line message for a change, without the resource and field (the KRM
// function reports them beside it): "set to <model> (was <old>)" or "already at <model>".
func (c Change) Summary() string {
	if !c.Changed {
		return "already at " + c.Value
	}
	return fmt.Sprintf("set to %s (was %s)", c.Value, orNone(c.Old))
}

// String describes a change with its resource and field.
func (c Change) String() string {
	return fmt.Sprintf("%s %s %s", c.Resource, c.Field, c.Summary())
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
