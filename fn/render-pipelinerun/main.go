// Command render-pipelinerun is a KRM function that adds to a kpt package the PipelineRun the
// modelsync controller would create for one of its ModelSyncs. See README.md.
package main

import (
	"context"
	_ "embed"
	"os"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	"github.com/modelsync/modelsync/fn/render-pipelinerun/function"
)

//go:embed README.md
var readme []byte

func main() {
	if err := fn.AsMain(function.Processor{Context: context.Background()}, fn.WithDocs(readme, nil)); err != nil {
		os.Exit(1)
	}
}
