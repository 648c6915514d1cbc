// Package fnconfig holds the functionConfig checks shared by the KRM functions: a typo in a field
// name is an error that lists the accepted fields, not a silently ignored setting.
package fnconfig

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kptdev/krm-functions-sdk/go/fn"
)

// CheckFields fails on the first field of o not in accepted. prefix names o in the message
// ("" for the top of the functionConfig).
func CheckFields(o *fn.SubObject, prefix string, accepted ...string) error {
	var m map[string]any
	if err := o.As(&m); err != nil {
		return fmt.Errorf("%s: must be an object: %w", orTop(prefix), err)
	}
	return CheckKeys(m, prefix, accepted...)
}

// CheckKeys fails on the first key of m (in sorted order) not in accepted.
func CheckKeys[V any](m map[string]V, prefix string, accepted ...string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(accepted, k) {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			return fmt.Errorf("%s: unknown field (accepted: %s)", name, strings.Join(accepted, ", "))
		}
	}
	return nil
}

func orTop(prefix string) string {
	if prefix == "" {
		return "functionConfig"
	}
	return prefix
}
