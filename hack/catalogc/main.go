// Command catalogc compiles the built-in catalog: it loads every control of
// patches/ with full validation and writes them as Go source
// (internal/catalog/builtin_gen.go, catalog.CompiledFile), which the
// compiler lays out in the binary. Run by make catalog, built with
// -tags kmend_nocatalog so that it runs when the old file no longer
// compiles.
package main

import (
	"fmt"
	"os"

	"github.com/kmend/kmend/internal/catalog"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: catalogc OUT.go")
		os.Exit(2)
	}
	cs, err := catalog.LoadSources()
	if err == nil {
		_, err = catalog.New(cs...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalogc:", err)
		os.Exit(1)
	}
	catalog.SortByID(cs)
	b, err := catalog.CompileGo(cs)
	if err == nil {
		err = os.WriteFile(os.Args[1], b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalogc:", err)
		os.Exit(1)
	}
}
