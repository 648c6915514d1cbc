package localrun

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// refPattern matches the Tekton variable references localrun knows about. Anything else that
// looks like $(...) — a shell command substitution such as $(date -u) — is left alone, as
// Tekton leaves it.
var refPattern = regexp.MustCompile(`\$\(((?:params|context|tasks|workspaces|results|steps|resources)(?:\.|\[)[^()]*)\)`)

// lookupFunc returns the value of a normalized reference (params.x, tasks.t.results.r, ...).
type lookupFunc func(key string) (string, error)

// normalizeRef turns params["x"] and params['x'] into params.x. Array and object accessors
// ([*], [0], .key on an object) are returned unchanged and fail in the lookup.
func normalizeRef(ref string) string {
	for _, q := range []string{`"`, `'`} {
		prefix := "params[" + q
		if strings.HasPrefix(ref, prefix) && strings.HasSuffix(ref, q+"]") {
			return "params." + strings.TrimSuffix(strings.TrimPrefix(ref, prefix), q+"]")
		}
	}
	return ref
}

// expand replaces every reference in s with its value. The first reference that cannot be
// resolved is the error.
func expand(s string, lookup lookupFunc) (string, error) {
	var firstErr error
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		if firstErr != nil {
			return m
		}
		key := normalizeRef(refPattern.FindStringSubmatch(m)[1])
		v, err := lookup(key)
		if err != nil {
			firstErr = err
			return m
		}
		return v
	})
	return out, firstErr
}

// expandAll expands each string of ss in place.
func expandAll(ss []string, lookup lookupFunc) ([]string, error) {
	out := make([]string, len(ss))
	for i, s := range ss {
		v, err := expand(s, lookup)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// refs returns the normalized references in s.
func refs(s string) []string {
	var keys []string
	for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
		keys = append(keys, normalizeRef(m[1]))
	}
	return keys
}

// mapLookup resolves keys from values; what it does not hold is an unknown variable.
func mapLookup(values map[string]string, where string) lookupFunc {
	return func(key string) (string, error) {
		if v, ok := values[key]; ok {
			return v, nil
		}
		return "", fmt.Errorf("%s: unknown variable $(%s) (known: %s)", where, key, knownList(values))
	}
}

func knownList(values map[string]string) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 12 {
		keys = append(keys[:12], "...")
	}
	return strings.Join(keys, ", ")
}

// taskResultRef splits tasks.T.results.R into T and R.
func taskResultRef(key string) (task, result string, ok bool) {
	rest, ok := strings.CutPrefix(key, "tasks.")
	if !ok {
		return "", "", false
	}
	task, result, ok = strings.Cut(rest, ".results.")
	return task, result, ok && task != "" && result != ""
}

// hostPath is a container path and the host folder it stands for.
type hostPath struct {
	container, host string
}

// mapPaths rewrites absolute container paths (/tekton/..., a workspace's mount path, a
// volume's mount path) in s to their host folders. A path only matches as a whole: it must
// not be preceded or followed by a character that would make it part of a longer name.
func mapPaths(s string, paths []hostPath) string {
	sorted := append([]hostPath(nil), paths...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i].container) > len(sorted[j].container) })
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		if s[i] == '/' && (i == 0 || !nameChar(s[i-1])) {
			for _, p := range sorted {
				end := i + len(p.container)
				if strings.HasPrefix(s[i:], p.container) && (end == len(s) || !pathChar(s[end])) {
					b.WriteString(p.host)
					i = end
					matched = true
					break
				}
			}
		}
		if !matched {
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

func pathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '~'
}

// nameChar reports whether c, just before a '/', makes the path relative to something else
// ($HOME/x, ./x, a/x). A '-' or ':' is fine: ${VAR:-/scratch}.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '~' || c == '/'
}
