package githubfake

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// The JSON GitHub sends, built as maps with every field its schema requires
// (and the usual optional ones). URLs point back at the fake, with
// /api/v3 when the request used it.

type obj = map[string]any

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", kind, id)))
}

func (c *call) user(login string) obj {
	if login == "" {
		return nil
	}
	st := c.f.st
	id := st.userID(login)
	typ := "User"
	html := c.web + "/" + login
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
		html = c.web + "/apps/" + strings.TrimSuffix(login, "[bot]")
	}
	a := c.api + "/users/" + login
	return obj{
		"login":               login,
		"id":                  id,
		"node_id":             nodeID("User", id),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d", c.web, id),
		"gravatar_id":         "",
		"url":                 a,
		"html_url":            html,
		"followers_url":       a + "/followers",
		"following_url":       a + "/following{/other_user}",
		"gists_url":           a + "/gists{/gist_id}",
		"starred_url":         a + "/starred{/owner}{/repo}",
		"subscriptions_url":   a + "/subscriptions",
		"organizations_url":   a + "/orgs",
		"repos_url":           a + "/repos",
		"events_url":          a + "/events{/privacy}",
		"received_events_url": a + "/received_events",
		"type":                typ,
		"site_admin":          false,
	}
}

// account renders an installation's account. GitHub's description wants
// both the simple-user and the enterprise fields (allOf in one place, anyOf
// in another), so it gets both.
func (c *call) account(inst *installation) obj {
	u := c.user(inst.account)
	u["type"] = inst.accountType
	u["name"] = inst.account
	u["slug"] = strings.ToLower(inst.account)
	u["created_at"] = ts(inst.created)
	u["updated_at"] = ts(inst.updated)
	return u
}

func (c *call) repoURL(r *repoState) string { return c.api + "/repos/" + r.fullName() }

func (c *call) cloneURL(r *repoState) string {
	base := c.f.opts.CloneBaseURL
	if base == "" {
		base = c.web
	}
	return strings.TrimSuffix(base, "/") + "/" + r.fullName() + ".git"
}

// repository renders the "repository" schema; full adds what
// "full-repository" requires.
func (c *call) repository(r *repoState, full bool) obj {
	a := c.repoURL(r)
	host := strings.TrimPrefix(c.web, "http://")
	o := obj{
		"id":                          r.id,
		"node_id":                     nodeID("Repository", r.id),
		"name":                        r.name,
		"full_name":                   r.fullName(),
		"owner":                       c.user(r.owner),
		"private":                     r.private,
		"visibility":                  map[bool]string{true: "private", false: "public"}[r.private],
		"html_url":                    c.web + "/" + r.fullName(),
		"description":                 strOrNil(r.description),
		"fork":                        false,
		"url":                         a,
		"archive_url":                 a + "/{archive_format}{/ref}",
		"assignees_url":               a + "/assignees{/user}",
		"blobs_url":                   a + "/git/blobs{/sha}",
		"branches_url":                a + "/branches{/branch}",
		"collaborators_url":           a + "/collaborators{/collaborator}",
		"comments_url":                a + "/comments{/number}",
		"commits_url":                 a + "/commits{/sha}",
		"compare_url":                 a + "/compare/{base}...{head}",
		"contents_url":                a + "/contents/{+path}",
		"contributors_url":            a + "/contributors",
		"deployments_url":             a + "/deployments",
		"downloads_url":               a + "/downloads",
		"events_url":                  a + "/events",
		"forks_url":                   a + "/forks",
		"git_commits_url":             a + "/git/commits{/sha}",
		"git_refs_url":                a + "/git/refs{/sha}",
		"git_tags_url":                a + "/git/tags{/sha}",
		"git_url":                     "git://" + host + "/" + r.fullName() + ".git",
		"hooks_url":                   a + "/hooks",
		"issue_comment_url":           a + "/issues/comments{/number}",
		"issue_events_url":            a + "/issues/events{/number}",
		"issues_url":                  a + "/issues{/number}",
		"keys_url":                    a + "/keys{/key_id}",
		"labels_url":                  a + "/labels{/name}",
		"languages_url":               a + "/languages",
		"merges_url":                  a + "/merges",
		"milestones_url":              a + "/milestones{/number}",
		"notifications_url":           a + "/notifications{?since,all,participating}",
		"pulls_url":                   a + "/pulls{/number}",
		"releases_url":                a + "/releases{/id}",
		"ssh_url":                     "git@" + host + ":" + r.fullName() + ".git",
		"stargazers_url":              a + "/stargazers",
		"statuses_url":                a + "/statuses/{sha}",
		"subscribers_url":             a + "/subscribers",
		"subscription_url":            a + "/subscription",
		"tags_url":                    a + "/tags",
		"teams_url":                   a + "/teams",
		"trees_url":                   a + "/git/trees{/sha}",
		"clone_url":                   c.cloneURL(r),
		"mirror_url":                  nil,
		"svn_url":                     c.web + "/" + r.fullName(),
		"homepage":                    strOrNil(r.homepage),
		"language":                    nil,
		"forks":                       0,
		"forks_count":                 0,
		"stargazers_count":            0,
		"watchers":                    0,
		"watchers_count":              0,
		"size":                        0,
		"default_branch":              r.defaultBranch,
		"open_issues":                 r.openIssues(),
		"open_issues_count":           r.openIssues(),
		"is_template":                 false,
		"topics":                      []string{},
		"has_issues":                  true,
		"has_projects":                false,
		"has_wiki":                    false,
		"has_pages":                   false,
		"has_downloads":               true,
		"has_discussions":             false,
		"archived":                    r.archived,
		"disabled":                    false,
		"license":                     nil,
		"pushed_at":                   ts(r.pushed),
		"created_at":                  ts(r.created),
		"updated_at":                  ts(r.updated),
		"allow_forking":               true,
		"web_commit_signoff_required": false,
	}
	if full {
		o["network_count"] = 0
		o["subscribers_count"] = 0
		o["allow_merge_commit"] = true
		o["allow_squash_merge"] = true
		o["allow_rebase_merge"] = true
		o["delete_branch_on_merge"] = false
	}
	if c.who != nil && c.who.tok != nil {
		o["permissions"] = obj{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}
	}
	return o
}

func (r *repoState) openIssues() int {
	n := 0
	for _, is := range r.issues {
		if is.state == "open" {
			n++
		}
	}
	return n
}

func (c *call) label(l *labelState, r *repoState) obj {
	return obj{
		"id":          l.id,
		"node_id":     nodeID("Label", l.id),
		"url":         c.repoURL(r) + "/labels/" + pathEscape(l.name),
		"name":        l.name,
		"description": l.description, // a string: pull-request-simple does not allow null here
		"color":       l.color,
		"default":     false,
	}
}

func (c *call) labels(r *repoState, is *issueState) []obj {
	out := []obj{}
	for _, name := range is.labels {
		if l, ok := r.labels[strings.ToLower(name)]; ok {
			out = append(out, c.label(l, r))
		}
	}
	return out
}

func (c *call) users(logins []string) []obj {
	out := []obj{}
	for _, l := range logins {
		out = append(out, c.user(l))
	}
	return out
}

// issue renders an issue (a pull request's issue side too).
func (c *call) issue(r *repoState, is *issueState) obj {
	a := c.repoURL(r) + "/issues/" + strconv.Itoa(is.number)
	html := c.web + "/" + r.fullName() + "/issues/" + strconv.Itoa(is.number)
	var assignee any
	if len(is.assignees) > 0 {
		assignee = c.user(is.assignees[0])
	}
	o := obj{
		"id":                 is.id,
		"node_id":            nodeID("Issue", is.id),
		"url":                a,
		"repository_url":     c.repoURL(r),
		"labels_url":         a + "/labels{/name}",
		"comments_url":       a + "/comments",
		"events_url":         a + "/events",
		"html_url":           html,
		"number":             is.number,
		"state":              is.state,
		"title":              is.title,
		"body":               strOrNil(is.body),
		"user":               c.user(is.user),
		"labels":             c.labels(r, is),
		"assignee":           assignee,
		"assignees":          c.users(is.assignees),
		"milestone":          nil,
		"locked":             false,
		"active_lock_reason": nil,
		"comments":           len(r.issueComments(is.number)),
		"closed_at":          tsOrNil(is.closed),
		"created_at":         ts(is.created),
		"updated_at":         ts(is.updated),
		"author_association": c.association(r, is.user),
	}
	if is.pr != nil {
		p := c.repoURL(r) + "/pulls/" + strconv.Itoa(is.number)
		ph := c.web + "/" + r.fullName() + "/pull/" + strconv.Itoa(is.number)
		o["html_url"] = ph
		o["pull_request"] = obj{
			"url":       p,
			"html_url":  ph,
			"diff_url":  ph + ".diff",
			"patch_url": ph + ".patch",
			"merged_at": tsOrNil(is.pr.mergedAt),
		}
		o["draft"] = is.pr.draft
	}
	return o
}

// association is author_association: OWNER, COLLABORATOR or NONE.
func (c *call) association(r *repoState, login string) string {
	switch {
	case strings.EqualFold(login, r.owner):
		return "OWNER"
	case r.perms[strings.ToLower(login)] != "":
		return "COLLABORATOR"
	default:
		return "NONE"
	}
}

// prLinks are the _links of a pull request.
func (c *call) prLinks(r *repoState, is *issueState, sha string) obj {
	p := c.repoURL(r) + "/pulls/" + strconv.Itoa(is.number)
	i := c.repoURL(r) + "/issues/" + strconv.Itoa(is.number)
	return obj{
		"self":            obj{"href": p},
		"html":            obj{"href": c.web + "/" + r.fullName() + "/pull/" + strconv.Itoa(is.number)},
		"issue":           obj{"href": i},
		"comments":        obj{"href": i + "/comments"},
		"review_comments": obj{"href": p + "/comments"},
		"review_comment":  obj{"href": c.repoURL(r) + "/pulls/comments{/number}"},
		"commits":         obj{"href": p + "/commits"},
		"statuses":        obj{"href": c.repoURL(r) + "/statuses/" + sha},
	}
}

// pullSimple renders "pull-request-simple" (lists); pull adds what
// "pull-request" requires from the git objects.
func (c *call) pullSimple(r *repoState, is *issueState) obj {
	pr := is.pr
	p := c.repoURL(r) + "/pulls/" + strconv.Itoa(is.number)
	html := c.web + "/" + r.fullName() + "/pull/" + strconv.Itoa(is.number)
	var assignee any
	if len(is.assignees) > 0 {
		assignee = c.user(is.assignees[0])
	}
	side := func(branch, sha string) obj {
		return obj{
			"label": r.owner + ":" + branch,
			"ref":   branch,
			"sha":   sha,
			"user":  c.user(r.owner),
			"repo":  c.repository(r, false),
		}
	}
	return obj{
		"id":                  pr.id,
		"node_id":             nodeID("PullRequest", pr.id),
		"number":              is.number,
		"url":                 p,
		"html_url":            html,
		"diff_url":            html + ".diff",
		"patch_url":           html + ".patch",
		"issue_url":           c.repoURL(r) + "/issues/" + strconv.Itoa(is.number),
		"commits_url":         p + "/commits",
		"review_comments_url": p + "/comments",
		"review_comment_url":  c.repoURL(r) + "/pulls/comments{/number}",
		"comments_url":        c.repoURL(r) + "/issues/" + strconv.Itoa(is.number) + "/comments",
		"statuses_url":        c.repoURL(r) + "/statuses/" + pr.headSHA,
		"state":               is.state,
		"locked":              false,
		"title":               is.title,
		"body":                strOrNil(is.body),
		"user":                c.user(is.user),
		"labels":              c.labels(r, is),
		"milestone":           nil,
		"assignee":            assignee,
		"assignees":           c.users(is.assignees),
		"requested_reviewers": c.users(pr.reviewers),
		"requested_teams":     c.teams(r, pr.teamReviewers),
		"created_at":          ts(is.created),
		"updated_at":          ts(is.updated),
		"closed_at":           tsOrNil(is.closed),
		"merged_at":           tsOrNil(pr.mergedAt),
		"merge_commit_sha":    strOrNil(pr.mergeCommitSHA),
		"head":                side(pr.head, pr.headSHA),
		"base":                side(pr.base, pr.baseSHA),
		"_links":              c.prLinks(r, is, pr.headSHA),
		"author_association":  c.association(r, is.user),
		"auto_merge":          nil,
		"draft":               pr.draft,
		"active_lock_reason":  nil,
	}
}

func (c *call) teams(r *repoState, slugs []string) []obj {
	out := []obj{}
	for _, s := range slugs {
		id := c.f.st.userID("team:" + r.owner + "/" + s)
		a := fmt.Sprintf("%s/orgs/%s/teams/%s", c.api, r.owner, s)
		out = append(out, obj{
			"id":               id,
			"node_id":          nodeID("Team", id),
			"url":              a,
			"html_url":         fmt.Sprintf("%s/orgs/%s/teams/%s", c.web, r.owner, s),
			"members_url":      a + "/members{/member}",
			"repositories_url": a + "/repos",
			"name":             s,
			"slug":             s,
			"description":      nil,
			"privacy":          "closed",
			"permission":       "pull",
			"parent":           nil,
			"type":             "organization",
		})
	}
	return out
}

// prStats are the numbers of a full pull request that come from git.
type prStats struct {
	commits, additions, deletions, changedFiles int
	mergeable                                   any // true, false or nil
	mergeableState                              string
}

func (c *call) pull(r *repoState, is *issueState, s prStats) obj {
	o := c.pullSimple(r, is)
	pr := is.pr
	o["merged"] = pr.merged
	o["mergeable"] = s.mergeable
	o["rebaseable"] = s.mergeable
	o["mergeable_state"] = s.mergeableState
	o["merged_by"] = c.user(pr.mergedBy)
	o["comments"] = len(r.issueComments(is.number))
	o["review_comments"] = 0
	o["maintainer_can_modify"] = pr.maintainerCanModify
	o["commits"] = s.commits
	o["additions"] = s.additions
	o["deletions"] = s.deletions
	o["changed_files"] = s.changedFiles
	return o
}

func (c *call) comment(r *repoState, cm *commentState) obj {
	a := c.repoURL(r) + "/issues/comments/" + strconv.FormatInt(cm.id, 10)
	html := fmt.Sprintf("%s/%s/issues/%d#issuecomment-%d", c.web, r.fullName(), cm.issue, cm.id)
	if is := r.issues[cm.issue]; is != nil && is.pr != nil {
		html = fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", c.web, r.fullName(), cm.issue, cm.id)
	}
	return obj{
		"id":                 cm.id,
		"node_id":            nodeID("IssueComment", cm.id),
		"url":                a,
		"html_url":           html,
		"issue_url":          c.repoURL(r) + "/issues/" + strconv.Itoa(cm.issue),
		"body":               cm.body,
		"user":               c.user(cm.user),
		"created_at":         ts(cm.created),
		"updated_at":         ts(cm.updated),
		"author_association": c.association(r, cm.user),
		"reactions":          c.reactionRollup(a, cm.reactions),
	}
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func (c *call) reactionRollup(url string, rs []*reactionState) obj {
	o := obj{"url": url + "/reactions", "total_count": len(rs)}
	for _, k := range reactionContents {
		o[k] = 0
	}
	for _, rx := range rs {
		o[rx.content] = o[rx.content].(int) + 1
	}
	return o
}

func (c *call) reaction(rx *reactionState) obj {
	return obj{
		"id":         rx.id,
		"node_id":    nodeID("Reaction", rx.id),
		"user":       c.user(rx.user),
		"content":    rx.content,
		"created_at": ts(rx.created),
	}
}

// integration renders the App.
func (c *call) integration() obj {
	app := c.f.st.app
	return obj{
		"id":           app.id,
		"slug":         app.slug,
		"node_id":      nodeID("Integration", app.id),
		"client_id":    app.clientID,
		"owner":        c.user(app.owner),
		"name":         app.name,
		"description":  app.appDescription(),
		"external_url": app.appExternalURL(c.web),
		"html_url":     c.web + "/apps/" + app.slug,
		"created_at":   ts(app.created),
		"updated_at":   ts(app.created),
		"permissions":  app.appPermissions(),
		"events":       app.appEvents(),
	}
}

func (c *call) installation(inst *installation) obj {
	return obj{
		"id":                        inst.id,
		"app_id":                    c.f.st.app.id,
		"app_slug":                  c.f.st.app.slug,
		"client_id":                 c.f.st.app.clientID,
		"target_id":                 c.f.st.userID(inst.account),
		"target_type":               inst.accountType,
		"account":                   c.account(inst),
		"repository_selection":      inst.selection,
		"access_tokens_url":         fmt.Sprintf("%s/app/installations/%d/access_tokens", c.api, inst.id),
		"repositories_url":          c.api + "/installation/repositories",
		"html_url":                  fmt.Sprintf("%s/settings/installations/%d", c.web, inst.id),
		"permissions":               inst.permissions,
		"events":                    inst.events,
		"created_at":                ts(inst.created),
		"updated_at":                ts(inst.updated),
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              nil,
		"suspended_at":              nil,
	}
}

func gitUser(s object.Signature) obj {
	return obj{"name": s.Name, "email": s.Email, "date": ts(s.When)}
}

// gitCommit renders the Git Data API's "git-commit".
func (c *call) gitCommit(r *repoState, co *object.Commit) obj {
	a := c.repoURL(r) + "/git/commits/"
	parents := []obj{}
	for _, p := range co.ParentHashes {
		parents = append(parents, obj{
			"sha":      p.String(),
			"url":      a + p.String(),
			"html_url": c.web + "/" + r.fullName() + "/commit/" + p.String(),
		})
	}
	return obj{
		"sha":       co.Hash.String(),
		"node_id":   nodeID("Commit", int64(co.Hash[0])<<8|int64(co.Hash[1])),
		"url":       a + co.Hash.String(),
		"html_url":  c.web + "/" + r.fullName() + "/commit/" + co.Hash.String(),
		"author":    gitUser(co.Author),
		"committer": gitUser(co.Committer),
		"message":   co.Message,
		"tree":      obj{"sha": co.TreeHash.String(), "url": c.repoURL(r) + "/git/trees/" + co.TreeHash.String()},
		"parents":   parents,
		"verification": obj{
			"verified":    false,
			"reason":      map[bool]string{true: "unknown_key", false: "unsigned"}[co.PGPSignature != ""],
			"signature":   strOrNil(co.PGPSignature),
			"payload":     nil,
			"verified_at": nil,
		},
	}
}

// commit renders the "commit" schema (pull request commits, branches).
func (c *call) commit(r *repoState, co *object.Commit) obj {
	a := c.repoURL(r) + "/commits/" + co.Hash.String()
	parents := []obj{}
	for _, p := range co.ParentHashes {
		parents = append(parents, obj{
			"sha":      p.String(),
			"url":      c.repoURL(r) + "/commits/" + p.String(),
			"html_url": c.web + "/" + r.fullName() + "/commit/" + p.String(),
		})
	}
	return obj{
		"sha":          co.Hash.String(),
		"node_id":      nodeID("Commit", int64(co.Hash[0])<<8|int64(co.Hash[1])),
		"url":          a,
		"html_url":     c.web + "/" + r.fullName() + "/commit/" + co.Hash.String(),
		"comments_url": a + "/comments",
		"commit": obj{
			"url":           c.repoURL(r) + "/git/commits/" + co.Hash.String(),
			"author":        gitUser(co.Author),
			"committer":     gitUser(co.Committer),
			"message":       co.Message,
			"comment_count": 0,
			"tree":          obj{"sha": co.TreeHash.String(), "url": c.repoURL(r) + "/git/trees/" + co.TreeHash.String()},
			"verification": obj{
				"verified":    false,
				"reason":      "unsigned",
				"signature":   nil,
				"payload":     nil,
				"verified_at": nil,
			},
		},
		"author":    nil,
		"committer": nil,
		"parents":   parents,
	}
}

func (c *call) checkRun(r *repoState, cr *checkRunState) obj {
	a := c.repoURL(r) + "/check-runs/" + strconv.FormatInt(cr.id, 10)
	prs := []obj{}
	for _, is := range r.pulls() {
		if is.state == "open" && is.pr.headSHA == cr.headSHA {
			repo := obj{"id": r.id, "url": c.repoURL(r), "name": r.name}
			prs = append(prs, obj{
				"id":     is.pr.id,
				"number": is.number,
				"url":    c.repoURL(r) + "/pulls/" + strconv.Itoa(is.number),
				"head":   obj{"ref": is.pr.head, "sha": is.pr.headSHA, "repo": repo},
				"base":   obj{"ref": is.pr.base, "sha": is.pr.baseSHA, "repo": repo},
			})
		}
	}
	details := cr.detailsURL
	if details == "" {
		details = c.web + "/apps/" + c.f.st.app.slug
	}
	return obj{
		"id":            cr.id,
		"node_id":       nodeID("CheckRun", cr.id),
		"head_sha":      cr.headSHA,
		"external_id":   cr.externalID,
		"url":           a,
		"html_url":      fmt.Sprintf("%s/%s/runs/%d", c.web, r.fullName(), cr.id),
		"details_url":   details,
		"status":        cr.status,
		"conclusion":    strOrNil(cr.conclusion),
		"started_at":    tsOrNil(cr.started),
		"completed_at":  tsOrNil(cr.completed),
		"name":          cr.name,
		"check_suite":   obj{"id": c.f.st.userID("suite:" + cr.headSHA)},
		"app":           c.integration(),
		"pull_requests": prs,
		"output": obj{
			"title":             strOrNil(cr.title),
			"summary":           strOrNil(cr.summary),
			"text":              strOrNil(cr.text),
			"annotations_count": cr.annotations,
			"annotations_url":   a + "/annotations",
		},
	}
}

func pathEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), " ", "%20")
}
