package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/score"
)

func newScore(g *globals) *cobra.Command {
	sel := &selection{}
	var format string
	var top int
	cmd := &cobra.Command{
		Use:   "score PATH... | -",
		Short: "Give the posture score, per namespace and app, and the riskiest findings first",
		Long: `score rates the inputs from 0 to 100: the severity-weighted share of
(object, control) pairs that pass (weights: critical 10, high 6, medium 3,
low 1, info 0.5). Exempted pairs are left out. It shows the score of the
whole set, of each namespace and of each app (the app.kubernetes.io/part-of,
app.kubernetes.io/name or app label), then the findings in risk order:
severity weight × exposure, where exposure adds 1.0 for privileged or host
access, 0.5 when a LoadBalancer/NodePort Service or an Ingress exposes the
workload, and 0.25 for a mutable image reference. See docs/score.md.`,
		Example: `  kmend score ./deploy
  kmend score -o json ./deploy | jq .overall.score`,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := g.prepare(sel, args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			set := in.set
			for _, e := range inputErrors(set) {
				fmt.Fprintf(cmd.ErrOrStderr(), "kmend: %s\n", formatInputError(e))
			}
			res := score.Compute(set.Objects, in.controls, runChecks(set, in.controls, in.check))
			w := cmd.OutOrStdout()
			switch format {
			case "json":
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return withCode(exitError, err)
				}
			case "table":
				writeScore(w, res, top)
			default:
				return withCode(exitError, fmt.Errorf("-o %q: want table or json", format))
			}
			if len(set.Errors) > 0 {
				return withCode(exitError, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "table", "output `FORMAT`: table or json")
	cmd.Flags().IntVar(&top, "top", 10, "show the `N` riskiest findings")
	cmd.Flags().StringSliceVar(&sel.controls, "controls", nil, "score only these control `IDs`")
	return cmd
}

func writeScore(w io.Writer, res score.Result, top int) {
	o := res.Overall
	fmt.Fprintf(w, "Posture score: %.1f / 100  (%d objects, %d of %d checks failing, %d findings)\n", o.Score, o.Objects, o.Failed, o.Pairs, o.Findings)
	for _, part := range []struct {
		title  string
		groups []score.Group
	}{{"namespace", res.ByNamespace}, {"app", res.ByApp}} {
		fmt.Fprintf(w, "\nBy %s (lowest first)\n", part.title)
		for _, g := range part.groups {
			fmt.Fprintf(w, "  %6.1f  %-28s %3d objects  %3d findings\n", g.Score, g.Name, g.Objects, g.Findings)
		}
	}
	if len(res.Ranked) == 0 {
		return
	}
	fmt.Fprintf(w, "\nRiskiest findings\n")
	for i, r := range res.Ranked {
		if i == top {
			fmt.Fprintf(w, "  … and %d more (--top N)\n", len(res.Ranked)-top)
			break
		}
		f := r.Finding
		fmt.Fprintf(w, "  %5.1f  %-8s %-8s %s", r.Risk, f.Severity, f.ControlID, f.Object)
		if f.Container != "" {
			fmt.Fprintf(w, " [%s]", f.Container)
		}
		fmt.Fprintf(w, "  %s", f.Reason)
		if len(r.Exposure) > 0 {
			fmt.Fprintf(w, "  (%s)", joinComma(r.Exposure))
		}
		fmt.Fprintln(w)
	}
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
