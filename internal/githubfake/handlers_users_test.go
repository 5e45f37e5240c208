package githubfake

import (
	"context"
	"testing"
)

func TestGetUserAnswersBots(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", nil)
	gh, _ := installClient(t, f, f.Install("acme", "shop"))
	login := f.App().Slug + "[bot]"
	u, _, err := gh.Users.Get(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetLogin() != login || u.GetType() != "Bot" || u.GetID() != f.UserID(login) {
		t.Fatalf("user %s: %+v (want ID %d)", login, u, f.UserID(login))
	}
}
