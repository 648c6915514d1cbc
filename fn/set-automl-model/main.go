// Command set-automl-model is a KRM function that sets the model id in the ConfigMap(s) (or the
// marked fields) of a kpt package. See README.md.
package main

import (
	"context"
	_ "embed"
	"os"

	"github.com/kptdev/krm-functions-sdk/go/fn"

	"github.com/modelsync/modelsync/fn/set-automl-model/function"
)

//go:embed README.md
var readme []byte

func main() {
	if err := fn.AsMain(fn.WithContext(context.Background(), &function.SetAutomlModel{}), fn.WithDocs(readme, nil)); err != nil {
		os.Exit(1)
	}
}
