package main_test

import (
	"testing"

	"github.com/modelsync/modelsync/internal/kpttest"
)

const pkg = "github.com/modelsync/modelsync/fn/render-pipelinerun"

// TestFunction runs every package under examples/ through kpt, twice, with the exec binary and
// with the container image, and checks that the binary does not link the Tekton API types.
func TestFunction(t *testing.T) { kpttest.TestFunction(t, pkg, "render-pipelinerun") }
