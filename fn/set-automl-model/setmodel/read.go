package setmodel

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ErrDisagree is wrapped by the error of ModelOf when the selected values differ.
var ErrDisagree = errors.New("the selected values disagree")

// ReadPackage reads the resources of the kpt package in dir (and its subpackages): every *.yaml and
// *.yml file and the Kptfile, honouring .krmignore and skipping hidden folders (.git, .github), so
// that dir may be the root of a git checkout. Each resource is annotated with its file.
func ReadPackage(dir string) ([]*yaml.RNode, error) {
	r := kio.LocalPackageReader{
		PackagePath:        dir,
		PackageFileName:    "Kptfile",
		MatchFilesGlob:     append(append([]string{}, kio.DefaultMatch...), "Kptfile"),
		IncludeSubpackages: true,
		PreserveSeqIndent:  true,
		FileSkipFunc:       inHiddenFolder,
	}
	nodes, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("failed to read package %s: %w", dir, err)
	}
	return nodes, nil
}

// ReadModel returns the model id that sel selects in the package in dir. See ModelOf.
func ReadModel(dir string, sel Selector) (string, error) {
	nodes, err := ReadPackage(dir)
	if err != nil {
		return "", err
	}
	model, err := ModelOf(nodes, sel)
	if err != nil {
		return "", fmt.Errorf("failed to read the model of package %s: %w", dir, err)
	}
	return model, nil
}

// ModelOf returns the model id that sel selects in nodes. It is an error (wrapping ErrNoMatch) when
// nothing matches and (wrapping ErrDisagree) when the selected values are not all the same. An
// empty value is returned as "" without error: the package names no model yet.
func ModelOf(nodes []*yaml.RNode, sel Selector) (string, error) {
	matches, err := Find(nodes, sel)
	if err != nil {
		return "", err
	}
	model := matches[0].Value
	for _, m := range matches[1:] {
		if m.Value != model {
			var lines []string
			for _, m := range matches {
				lines = append(lines, fmt.Sprintf("%s %s = %q", m.Resource, m.Field, m.Value))
			}
			return "", fmt.Errorf("%w: %s", ErrDisagree, strings.Join(lines, "; "))
		}
	}
	return model, nil
}

// inHiddenFolder reports whether a package-relative file path lies under a folder whose name starts
// with a dot.
func inHiddenFolder(relPath string) bool {
	folders := strings.Split(filepath.ToSlash(filepath.Dir(relPath)), "/")
	return slices.ContainsFunc(folders, func(f string) bool { return len(f) > 1 && f[0] == '.' && f != ".." })
}
