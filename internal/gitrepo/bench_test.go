package gitrepo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmend/kmend/internal/gitrepo"
)

// BenchmarkCloneCommitPush is the bot's git work for one pull request on a
// 2,000-file repository: a depth-1 clone, a branch from main, three files
// changed, one commit, a forced push. "memory" keeps the clone in memory,
// "disk" writes the worktree to a directory.
func BenchmarkCloneCommitPush(b *testing.B) {
	s, _ := newServer(b, manifests(2000))
	ctx := context.Background()
	for _, mode := range []string{"memory", "disk"} {
		b.Run(mode, func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				opts := gitrepo.CloneOptions{URL: s.RepoURL(owner, name), Branch: "main", Token: token}
				if mode == "disk" {
					opts.Dir = filepath.Join(b.TempDir(), fmt.Sprint(i))
				}
				r, err := gitrepo.Clone(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Checkout(branch, "main"); err != nil {
					b.Fatal(err)
				}
				files := changes()
				files["apps/new/kustomization.yaml"] = fmt.Appendf(nil, "# %s %d\nresources: []\n", mode, i)
				if err := r.Write(files); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Commit(gitrepo.CommitOptions{Message: "kmend: fix", Author: bot, When: t0.Add(time.Duration(i) * time.Second)}); err != nil {
					b.Fatal(err)
				}
				res, err := r.Push(ctx, gitrepo.PushOptions{Branch: branch, Token: token, Force: true})
				if err != nil {
					b.Fatal(err)
				}
				if !res.Updated {
					b.Fatal("push did not update the branch")
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
