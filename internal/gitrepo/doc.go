// Package gitrepo is what kmend's bot does with git: clone a repository
// (shallow, one branch, over HTTPS with an installation token), create or
// reset its own branch from the base, write and remove files inside the
// worktree only, commit as the App's bot user, and push that one branch —
// never the default branch or a protected one.
//
// Clone keeps the repository in memory, or writes it to a directory (then
// Close releases its open files). Every step is deterministic and idempotent: Checkout resets the branch and
// the worktree to the base, Commit makes no commit when nothing changed
// (ErrNothingToCommit), the same inputs give the same tree, and Push is a
// no-op when the remote branch already holds the same change (the same tree,
// parents, message and author, whatever the commit time).
//
// Repositories that require signed commits get their commit through GitHub's
// Git Data API instead (CommitViaAPI): GitHub signs commits it creates for an
// App, so they show as Verified. CommitViaAPI talks to the small GitData
// interface, with plain Go types; GitHubData implements it with go-github.
//
// Tokens never appear in errors: URLs are shown without credentials and any
// error text that would contain the token is redacted. Errors wrap
// sentinels (ErrEscapes, ErrNothingToCommit, ErrProtectedBranch, ErrAuth,
// ErrRepoNotFound, ...) for errors.Is.
package gitrepo
