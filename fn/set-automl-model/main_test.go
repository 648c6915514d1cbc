package main_test

import (
	"testing"

	"github.com/modelsync/modelsync/internal/kpttest"
)

const pkg = "github.com/modelsync/modelsync/fn/set-automl-model"

// TestFunction runs every package under examples/ through kpt, twice, with the exec binary and
// with the container image, and checks that the binary does not link the Tekton API types.
func TestFunction(t *testing.T) { kpttest.TestFunction(t, pkg, "set-automl-model") }
