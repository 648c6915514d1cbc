package plugin

import (
	"fmt"
	"io"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
)

// validateOutput checks -o against the formats a command supports ("" is always allowed).
func validateOutput(output string, allowed ...string) error {
	if output == "" || slices.Contains(allowed, output) {
		return nil
	}
	return fmt.Errorf("unknown output format %q for -o: use one of %s", output, strings.Join(allowed, ", "))
}

// printObject prints obj (which must carry its apiVersion and kind) as json, yaml or name.
func printObject(out io.Writer, output string, obj runtime.Object) error {
	var p printers.ResourcePrinter
	switch output {
	case "json":
		p = &printers.JSONPrinter{}
	case "yaml":
		p = &printers.YAMLPrinter{}
	case "name":
		p = &printers.NamePrinter{}
	default:
		return fmt.Errorf("unknown output format %q", output)
	}
	// Like kubectl, leave managedFields out: they are noise to a reader.
	_ = meta.EachListItem(obj, func(item runtime.Object) error { return dropManagedFields(item) })
	_ = dropManagedFields(obj)
	if err := p.PrintObj(obj, out); err != nil {
		return fmt.Errorf("failed to print %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
	}
	return nil
}

func dropManagedFields(obj runtime.Object) error {
	if accessor, err := meta.Accessor(obj); err == nil {
		accessor.SetManagedFields(nil)
	}
	return nil
}

// notFound is the API server's NotFound error for a ModelSync.
func notFound(name string) error {
	return apierrors.NewNotFound(automlv1alpha1.GroupVersion.WithResource(modelSyncResource).GroupResource(), name)
}
