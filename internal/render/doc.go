// Package render writes the text of kmend's pull requests: the title, the
// body and, when the body would be too long, the comments that continue
// it, from the templates embedded under templates/. It knows nothing of
// GitHub's API: it takes a ChangeSet (built from remediate's results with
// FromResults) and returns strings.
//
// A fix pull request's body has a table of the fixed findings (control,
// severity, object, container, file:line, why: unset, risky with the
// observed value, or inherited), what each control protects against and
// what to watch for when merging, the diff, the manual fallback (per
// object, the strategic-merge patch, the RFC 6902 patch and kubectl
// commands, folded in <details>), a footer, and a hidden metadata block —
// an HTML comment holding versioned JSON (the group, the sorted
// fingerprints of the fixed findings, the catalog) that ParseMetadata
// reads back, so the pull request itself is the bot's state.
//
// GitHub refuses a body or a comment longer than 65,536 characters.
// Length counts on the safe side (UTF-16 code units, line feeds twice).
// When the body would be too long, the diffs are folded first, then the
// manual fallback, the diffs, the controls' texts and the table of
// findings left for review move, in that order, to follow-up comments,
// each within the limit; the body says what is continued in comments and
// always keeps the metadata block. Items are placed whole: a table row, a
// code block, a patch is never cut; a table or a fold continued in the
// next comment is opened again with its header.
//
// Everything that comes from a repository (object names, observed values,
// file paths) is escaped before it reaches Markdown: it cannot end a table
// cell, open HTML, close the metadata comment, mention a user or break a
// line; code blocks get a fence longer than any run of backticks inside.
//
// Onboarding renders the pull request kmend opens when installed, which
// adds StarterConfig as .github/kmend.yaml.
package render
