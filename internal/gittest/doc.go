// Package gittest runs a real git server for tests: git's own
// `git http-backend` (the smart HTTP protocol, clone, fetch and push) served
// from Go with net/http/cgi on an httptest server.
//
// Bare repositories live at <root>/<owner>/<repo>.git, the layout the GitHub
// stand-in (internal/githubfake) reads too, so both can share one root; a
// repository's URL is <server>/<owner>/<repo>.git. Every request must carry
// basic auth as GitHub expects from an App (user x-access-token, password the
// installation token); Options.Authorize decides which token may read or
// push which repository.
//
// Helpers create a repository with one commit on main (CreateRepo), read a
// branch head or a file back (Head, ReadFile), count pushes (Pushes), and
// break the next push halfway (BreakNextPush) so tests can check that an
// interrupted push leaves the remote unchanged and that the next one
// converges.
package gittest
