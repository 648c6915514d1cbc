package localrun

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// refPattern matches the Tekton variable references localrun knows about. Anything else that
// looks like $(...) — a shell command substitution such as $(date -u) — is left alone, as
// Tekton leaves it.
var refPattern = regexp.MustCompile(`\$\(((?:params|context|tasks|workspaces|results|steps|resources)(?:\.|\[)[^()]*)\)`)

// lookupFunc returns the value of a normalized reference (params.x, tasks.t.results.r, ...).
type lookupFunc func(key string) (string, error)

// normalizeRef turns params["x"] and params['x'] (with any accessor after them, such as
// [*]) into params.x.
func normalizeRef(ref string) string {
	for _, q := range []string{`"`, `'`} {
		prefix := "params[" + q
		if rest, ok := strings.CutPrefix(ref, prefix); ok {
			if name, after, ok := strings.Cut(rest, q+"]"); ok {
				return "params." + name + after
			}
		}
	}
	return ref
}

// wholeRef returns the normalized reference when s is exactly one $(...) reference.
func wholeRef(s string) string {
	m := refPattern.FindStringSubmatchIndex(s)
	if m == nil || m[0] != 0 || m[1] != len(s) {
		return ""
	}
	return normalizeRef(s[m[2]:m[3]])
}

// arrayRef splits params.x[*] or params.x[2] into x and "*" or "2".
func arrayRef(key string) (name, index string, ok bool) {
	rest, ok := strings.CutPrefix(key, "params.")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", "", false
	}
	i := strings.LastIndex(rest, "[")
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1 : len(rest)-1], true
}

// paramValue resolves a params.* key from string and array params. who names the declarer
// in errors ("pipeline", "task").
func paramValue(key string, strs map[string]string, arrays map[string][]string, who string) (string, error) {
	if name, index, ok := arrayRef(key); ok {
		vals, ok := arrays[name]
		if !ok {
			return "", fmt.Errorf("$(%s): the %s declares no array param %q", key, who, name)
		}
		if index == "*" {
			return "", fmt.Errorf("$(%s): an array can only be used as a whole element of an array (args, command, an array param)", key)
		}
		i, err := strconv.Atoi(index)
		if err != nil || i < 0 {
			return "", fmt.Errorf("$(%s): bad index %q", key, index)
		}
		if vals == nil { // a static check: the values are not known yet
			return "", nil
		}
		if i >= len(vals) {
			return "", fmt.Errorf("$(%s): index %d out of range (%d elements)", key, i, len(vals))
		}
		return vals[i], nil
	}
	name := strings.TrimPrefix(key, "params.")
	if v, ok := strs[name]; ok {
		return v, nil
	}
	if _, ok := arrays[name]; ok {
		return "", fmt.Errorf("$(%s): %q is an array param: use $(%s[*]) as a whole element of an array", key, name, key)
	}
	return "", fmt.Errorf("$(%s): the %s declares no param %q", key, who, name)
}

// expandList expands each element of list; an element that is exactly $(params.x[*]) for an
// array param becomes the array's elements.
func expandList(list []string, lookup lookupFunc, arrays map[string][]string) ([]string, error) {
	var out []string
	for _, s := range list {
		if name, index, ok := arrayRef(wholeRef(s)); ok && index == "*" {
			if vals, ok := arrays[name]; ok {
				out = append(out, vals...)
				continue
			}
		}
		v, err := expand(s, lookup)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
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
