package sourcemap

import (
	"net/url"
	"strings"
)

// NormalizeRepoURL returns the form in which repository URLs are compared
// and reported: https, lower-case host, no credentials, no port for SSH, no
// query or fragment, no trailing slash or ".git". SCP-like SSH addresses
// (git@github.com:o/r.git), ssh://, git://, http:// and scheme-less
// (github.com/o/r) spellings all map to https://host/path. Anything it
// cannot parse is returned trimmed, so it still compares with itself.
func NormalizeRepoURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		// SCP-like: [user@]host:path, where the colon comes before any
		// slash (and is not a Windows drive letter).
		if i := strings.IndexByte(s, ':'); i > 1 && !strings.Contains(s[:i], "/") {
			host := s[:i]
			if at := strings.LastIndexByte(host, '@'); at >= 0 {
				host = host[at+1:]
			}
			return finish("https://"+strings.ToLower(host), s[i+1:])
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(strings.TrimRight(s, "/"), ".git")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	switch strings.ToLower(u.Scheme) {
	case "ssh", "git", "git+ssh", "ssh+git":
		port = "" // an SSH port says nothing about the HTTPS address
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if port == "80" {
			port = ""
		}
	case "oci":
		// OCI registries (Helm charts, Flux OCIRepository) keep their
		// scheme: they are not Git repositories.
		return "oci://" + hostPort(host, port) + strings.TrimRight(u.EscapedPath(), "/")
	}
	return finish("https://"+hostPort(host, port), u.Path)
}

func hostPort(host, port string) string {
	if port == "" {
		return host
	}
	return host + ":" + port
}

func finish(base, p string) string {
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	p = strings.TrimRight(p, "/")
	if p == "" {
		return base
	}
	return base + "/" + p
}
