package githubfake

import "net/http"

// getUser answers GET /users/{username} for any login, bots included
// ("<slug>[bot]": kmend reads its bot user's ID to sign commits as GitHub
// links them).
func (f *Fake) getUser(c *call) {
	login := c.params["username"]
	u := c.user(login)
	if u == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	created := ts(f.now())
	for k, v := range (obj{
		"name": nil, "company": nil, "blog": "", "location": nil, "email": nil,
		"hireable": nil, "bio": nil, "public_repos": 0, "public_gists": 0,
		"followers": 0, "following": 0, "created_at": created, "updated_at": created,
		"user_view_type": "public",
	}) {
		u[k] = v
	}
	c.json(http.StatusOK, u)
}

// UserID is the ID the fake gives a login (bots included).
func (f *Fake) UserID(login string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.userID(login)
}
