// Package publish turns what kmend found in a repository into branches and
// pull requests: one change set per group of findings (by default one for
// the repository), each on a deterministic branch, each with one pull
// request that is opened once and then updated, never duplicated.
//
// The state lives in GitHub, not in kmend: a pull request's hidden
// metadata block (package render) lists the findings it fixes, and its
// branch name is derived from the repository's base branch and the group,
// so any replica can pick up where another stopped and a replayed event
// changes nothing:
//
//   - an open pull request on the group's branch is updated: the branch is
//     rebuilt from the base and pushed only when its content changed, the
//     title and body are edited only when they changed;
//   - a pull request closed without merging means "not now" for the
//     findings it listed, for as long as the repository configuration and
//     the catalog are the ones it was made with; findings it did not list
//     still get a pull request;
//   - a merged pull request closes the loop: its findings are expected to
//     be gone from the base; any that are still there are proposed again;
//   - when the base no longer has any finding an open pull request fixes,
//     that pull request is closed with a comment saying so, even when the
//     base has no finding left at all; kmend marks the body of a pull
//     request it closes so, and that one declines nothing: if the findings
//     come back, they get a new pull request;
//   - a pull request that exists already when kmend opens it (an earlier
//     attempt whose answer was lost) is taken over, not duplicated.
//
// GitHub is reached through the small Host interface, which carries no
// go-github types (package ghapp implements it); git through Git (package
// gitrepo implements it, by push or through the Git Data API).
package publish
