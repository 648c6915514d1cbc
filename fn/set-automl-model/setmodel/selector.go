// Package setmodel finds and sets the model id that a kpt package deploys.
//
// The id lives either in a ConfigMap data key (by default `automl-model`) or, in marker mode, in any
// scalar field whose line comment names the setter (`# modelsync-set: automl-model`), such as a
// Deployment env var, a kustomize configMapGenerator literal or a Kptfile setter.
//
// The set-automl-model KRM function and the deployer lambda share this package, so the value the
// lambda reads is exactly the value the function writes. Edits change only the selected scalar
// values: comments, key order, quoting and every other node are left as they were.
package setmodel

import (
	"fmt"
	"strings"
	"unicode"
)

// DefaultKey is the ConfigMap data key that holds the model id when the selector names none.
const DefaultKey = "automl-model"

// MarkerPrefix starts the line comment that marks a field in marker mode:
// `image-model: abc # modelsync-set: automl-model`.
const MarkerPrefix = "modelsync-set:"

// Selector chooses the values that hold the model id.
//
// In ConfigMap mode (Marker empty) it selects data[Key] of every ConfigMap that has the key, narrowed
// to the ConfigMap called Name and to Namespace when they are set. In marker mode it selects every
// scalar whose line comment is `# modelsync-set: <Marker>`, in any resource, narrowed to resources
// called Name and to Namespace when they are set.
type Selector struct {
	// Name is the name of the ConfigMap (or, in marker mode, of the resource); empty means any.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Namespace narrows the selection to one namespace; empty means any.
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	// Key is the ConfigMap data key; empty means DefaultKey. Not allowed in marker mode.
	Key string `json:"key,omitempty" yaml:"key,omitempty"`
	// Marker is the setter name of marker mode; empty selects ConfigMap mode.
	Marker string `json:"marker,omitempty" yaml:"marker,omitempty"`
}

// key returns the data key of ConfigMap mode, with the default applied.
func (s Selector) key() string {
	if s.Key == "" {
		return DefaultKey
	}
	return s.Key
}

// Validate checks the selector; the error names the field at fault.
func (s Selector) Validate() error {
	if s.Marker != "" {
		if s.Key != "" {
			return fmt.Errorf("selector.key: cannot be combined with selector.marker (marker mode selects fields by their comment)")
		}
		if err := checkToken(s.Marker); err != nil {
			return fmt.Errorf("selector.marker: %w", err)
		}
	}
	if s.Key != "" && !validDataKey(s.Key) {
		return fmt.Errorf("selector.key: %q is not a valid ConfigMap data key (letters, digits, '-', '_' and '.')", s.Key)
	}
	for _, f := range [][2]string{{"selector.name", s.Name}, {"selector.namespace", s.Namespace}} {
		if f[1] != "" && strings.ContainsFunc(f[1], badRune) {
			return fmt.Errorf("%s: %q contains whitespace or control characters", f[0], f[1])
		}
	}
	return nil
}

// String describes the selection for messages.
func (s Selector) String() string {
	var b strings.Builder
	if s.Marker != "" {
		fmt.Fprintf(&b, "fields marked `# %s %s`", MarkerPrefix, s.Marker)
		if s.Name != "" {
			fmt.Fprintf(&b, " in resources named %q", s.Name)
		}
	} else {
		b.WriteString("ConfigMap")
		if s.Name != "" {
			fmt.Fprintf(&b, " %q", s.Name)
		}
		fmt.Fprintf(&b, " data key %q", s.key())
	}
	if s.Namespace != "" {
		fmt.Fprintf(&b, " in namespace %q", s.Namespace)
	}
	return b.String()
}

// ValidateModel checks a model id: it must be non-empty and free of whitespace and control
// characters, so that it fits on one line of YAML and in a kustomize literal.
func ValidateModel(model string) error {
	if err := checkToken(model); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	return nil
}

func checkToken(v string) error {
	if v == "" {
		return fmt.Errorf("is required")
	}
	if i := strings.IndexFunc(v, badRune); i >= 0 {
		return fmt.Errorf("%q contains whitespace or a control character at byte %d", v, i)
	}
	return nil
}

func badRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
}

func validDataKey(k string) bool {
	if len(k) > 253 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
