package main_test

import (
	"testing"

	"github.com/modelsync/modelsync/internal/kpttest"
)

const pkg = "github.com/modelsync/modelsync/fn/set-automl-model"

// TestExamples runs every package under examples/ through kpt with the exec binary, twice.
func TestExamples(t *testing.T) {
	f := kpttest.Build(t, pkg, "set-automl-model")
	kpttest.RunExamples(t, f, "examples", false)
}

// TestExamplesContainer runs the same examples with the FROM scratch image.
func TestExamplesContainer(t *testing.T) {
	f := kpttest.Build(t, pkg, "set-automl-model")
	f.BuildImage(t)
	kpttest.RunExamples(t, f, "examples", true)
}
