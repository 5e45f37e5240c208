package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/remediate"
)

func newCatalog(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List, show and validate remediation controls",
		Long: `The catalog is kmend's set of controls: the built-in one (patches/ in the
source, embedded in the binary) plus custom controls added with --catalog DIR,
one directory per control holding control.yaml and its fixtures
(failing.yaml, fixed.yaml, passing.yaml). See docs/catalog.md.`,
	}
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the controls",
		Example: `  kmend catalog list
  kmend catalog list --catalog ./my-controls -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := g.catalog()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(cat.All())
			}
			fmt.Fprintf(w, "%-9s %-9s %-7s %-11s %s\n", "ID", "SEVERITY", "FIX", "PSS", "TITLE")
			for _, c := range cat.All() {
				pss := c.PSS
				if pss == "" {
					pss = "-"
				}
				fmt.Fprintf(w, "%-9s %-9s %-7s %-11s %s\n", c.ID, c.Severity, c.Fix.Fixability, pss, c.Title)
			}
			return nil
		},
	}
	list.Flags().StringVarP(&format, "output", "o", "table", "output `FORMAT`: table or json")
	show := &cobra.Command{
		Use:     "show CONTROL",
		Short:   "Show one control in full (same as kmend explain CONTROL)",
		Example: `  kmend catalog show KM-010`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := g.catalog()
			if err != nil {
				return err
			}
			cs := lookupControl(cat, args[0])
			if len(cs) == 0 {
				return withCode(exitError, fmt.Errorf("unknown control %q (kmend catalog list shows them)", args[0]))
			}
			for _, c := range cs {
				explainControl(cmd.OutOrStdout(), c)
			}
			return nil
		},
	}
	validate := &cobra.Command{
		Use:   "validate [DIR...]",
		Short: "Validate catalog directories strictly and run each control's fixtures",
		Long: `validate loads each DIR (the built-in catalog when none is given) with strict
checking — unknown fields, bad matchers, templates that do not render — and
runs every control on its fixtures: failing.yaml must fail it, passing.yaml
must pass it, and for auto/review fixes kmend fix on failing.yaml must give
fixed.yaml byte for byte. Errors name the file and line.`,
		Example: `  kmend catalog validate ./my-controls`,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			var controls []*catalog.Control
			if len(args) == 0 {
				cs, err := catalog.LoadSources()
				if err != nil {
					fmt.Fprintln(w, err)
					return withCode(exitError, fmt.Errorf("patches: invalid catalog"))
				}
				controls = cs
			}
			for _, d := range args {
				cs, err := catalog.LoadDir(d)
				if err != nil {
					fmt.Fprintln(w, err)
					return withCode(exitError, fmt.Errorf("%s: invalid catalog", d))
				}
				controls = append(controls, cs...)
			}
			if _, err := catalog.New(controls...); err != nil {
				return withCode(exitError, err)
			}
			failed := 0
			for _, c := range controls {
				fsys, dir := remediate.FixtureFS(c)
				if err := remediate.RunFixtures(c, fsys, dir); err != nil {
					failed++
					fmt.Fprintf(w, "FAIL %s (%s)\n%v\n", c.ID, c.Source, err)
					continue
				}
				fmt.Fprintf(w, "ok   %s %s\n", c.ID, c.Title)
			}
			fmt.Fprintf(w, "%d controls, %d failed\n", len(controls), failed)
			if failed > 0 {
				return withCode(exitFindings, nil)
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, validate)
	return cmd
}
