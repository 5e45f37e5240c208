package githubfake

// routeDef says how the fake answers one operation of the description: who
// may call it, with which installation permission, and the handler.
type routeDef struct {
	auth authKind
	// perm is the installation permission the call needs ("a|b" for either),
	// write whether it needs write access.
	perm    string
	write   bool
	handler func(f *Fake, c *call)
}

// routeTable has one entry per operation of GitHub's trimmed description
// (a test checks that the two lists match).
var routeTable map[string]routeDef

func init() {
	const (
		read  = false
		write = true
	)
	issuesOrPulls := "issues|pull_requests"
	routeTable = map[string]routeDef{
		// The App and its installations.
		"GET /app":               {authJWT, "", read, (*Fake).getApp},
		"GET /app/installations": {authJWT, "", read, (*Fake).listInstallations},
		"POST /app/installations/{installation_id}/access_tokens": {authJWT, "", read, (*Fake).createToken},
		"POST /app-manifests/{code}/conversions":                  {authNone, "", read, (*Fake).convertManifest},
		"GET /installation/repositories":                          {authToken, "", read, (*Fake).installationRepos},
		"GET /repos/{owner}/{repo}/installation":                  {authJWT, "", read, (*Fake).repoInstallation},
		"GET /rate_limit":                                         {authAny, "", read, (*Fake).rateLimit},
		"GET /users/{username}":                                   {authAny, "", read, (*Fake).getUser},

		// Repositories, contents, branches, collaborators.
		"GET /repos/{owner}/{repo}":                                     {authToken, "metadata", read, (*Fake).getRepo},
		"PATCH /repos/{owner}/{repo}":                                   {authToken, "administration", write, (*Fake).patchRepo},
		"DELETE /repos/{owner}/{repo}":                                  {authToken, "administration", write, (*Fake).deleteRepo},
		"GET /repos/{owner}/{repo}/contents/{path}":                     {authToken, "contents", read, (*Fake).getContents},
		"PUT /repos/{owner}/{repo}/contents/{path}":                     {authToken, "contents", write, (*Fake).putContents},
		"DELETE /repos/{owner}/{repo}/contents/{path}":                  {authToken, "contents", write, (*Fake).deleteContents},
		"GET /repos/{owner}/{repo}/branches/{branch}":                   {authToken, "contents", read, (*Fake).getBranch},
		"GET /repos/{owner}/{repo}/collaborators/{username}/permission": {authToken, "metadata", read, (*Fake).collaboratorPermission},

		// Git Data API.
		"GET /repos/{owner}/{repo}/git/ref/{ref}":            {authToken, "contents", read, (*Fake).getRef},
		"POST /repos/{owner}/{repo}/git/refs":                {authToken, "contents", write, (*Fake).createRef},
		"PATCH /repos/{owner}/{repo}/git/refs/{ref}":         {authToken, "contents", write, (*Fake).updateRef},
		"DELETE /repos/{owner}/{repo}/git/refs/{ref}":        {authToken, "contents", write, (*Fake).deleteRef},
		"POST /repos/{owner}/{repo}/git/blobs":               {authToken, "contents", write, (*Fake).createBlob},
		"POST /repos/{owner}/{repo}/git/trees":               {authToken, "contents", write, (*Fake).createTree},
		"POST /repos/{owner}/{repo}/git/commits":             {authToken, "contents", write, (*Fake).createCommit},
		"GET /repos/{owner}/{repo}/git/commits/{commit_sha}": {authToken, "contents", read, (*Fake).getCommit},

		// Pull requests.
		"GET /repos/{owner}/{repo}/pulls":                                      {authToken, "pull_requests", read, (*Fake).listPulls},
		"POST /repos/{owner}/{repo}/pulls":                                     {authToken, "pull_requests", write, (*Fake).createPull},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}":                        {authToken, "pull_requests", read, (*Fake).getPull},
		"PATCH /repos/{owner}/{repo}/pulls/{pull_number}":                      {authToken, "pull_requests", write, (*Fake).patchPull},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/commits":                {authToken, "pull_requests", read, (*Fake).pullCommits},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/files":                  {authToken, "pull_requests", read, (*Fake).pullFiles},
		"PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch":          {authToken, "pull_requests", write, (*Fake).updateBranch},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers":    {authToken, "pull_requests", read, (*Fake).listReviewers},
		"POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers":   {authToken, "pull_requests", write, (*Fake).requestReviewers},
		"DELETE /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers": {authToken, "pull_requests", write, (*Fake).removeReviewers},

		// Issues: comments, reactions, labels, assignees.
		"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":          {authToken, issuesOrPulls, read, (*Fake).listComments},
		"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":         {authToken, issuesOrPulls, write, (*Fake).createComment},
		"GET /repos/{owner}/{repo}/issues/comments/{comment_id}":            {authToken, issuesOrPulls, read, (*Fake).getComment},
		"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":          {authToken, issuesOrPulls, write, (*Fake).patchComment},
		"DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}":         {authToken, issuesOrPulls, write, (*Fake).deleteComment},
		"GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions":  {authToken, issuesOrPulls, read, (*Fake).listReactions},
		"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": {authToken, issuesOrPulls, write, (*Fake).createReaction},
		"GET /repos/{owner}/{repo}/issues/{issue_number}/labels":            {authToken, issuesOrPulls, read, (*Fake).listLabels},
		"POST /repos/{owner}/{repo}/issues/{issue_number}/labels":           {authToken, issuesOrPulls, write, (*Fake).addLabels},
		"PUT /repos/{owner}/{repo}/issues/{issue_number}/labels":            {authToken, issuesOrPulls, write, (*Fake).setLabels},
		"DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels":         {authToken, issuesOrPulls, write, (*Fake).removeAllLabels},
		"POST /repos/{owner}/{repo}/issues/{issue_number}/assignees":        {authToken, issuesOrPulls, write, (*Fake).addAssignees},
		"DELETE /repos/{owner}/{repo}/issues/{issue_number}/assignees":      {authToken, issuesOrPulls, write, (*Fake).removeAssignees},

		// Check runs.
		"POST /repos/{owner}/{repo}/check-runs":                 {authToken, "checks", write, (*Fake).createCheckRun},
		"GET /repos/{owner}/{repo}/check-runs/{check_run_id}":   {authToken, "checks", read, (*Fake).getCheckRun},
		"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": {authToken, "checks", write, (*Fake).patchCheckRun},
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":    {authToken, "checks", read, (*Fake).listCheckRuns},
	}
}
