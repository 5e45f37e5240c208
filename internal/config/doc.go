// Package config reads kmend's two configuration files: a repository's
// .github/kmend.yaml ([Repo], [Parse], [Default]) and the server's
// configuration for `kmend serve` ([Server], [LoadServer], [Server.Write]).
// docs/config.md documents the same keys for users.
//
// Both files carry "version: 1" and are decoded strictly, in one place,
// from raw YAML to validated values: unknown keys, values of the wrong type
// and values outside their enumeration are errors ([*Error], joined) that
// name the file, the line and the key, for example
//
//	.github/kmend.yaml:4: paths.include[1]: "apps/**x": "**" must be a whole path segment (a/**/b, not a/b**)
//
// A version other than 1 is reported alone, before any other check.
//
// # Repository configuration (.github/kmend.yaml)
//
// Every key but version is optional; a repository without the file gets
// [Default].
//
//	version: 1                # required; the only version this kmend reads
//	controls:
//	  enable: [KM-001, KM-002] # only these controls are fixed (default: all)
//	  disable: [KM-010]        # these are never fixed (default: none)
//	minSeverity: medium       # info | low | medium | high | critical (default medium)
//	grouping: repository      # repository | control | severity | directory (default repository)
//	labels: [security, kmend] # labels of kmend's PRs (default [security, kmend]; [] for none)
//	reviewers: [alice, org/platform-team]  # users or org/team, at most 15
//	assignees: [alice]        # users, at most 10
//	branchPrefix: kmend/      # must end in "/" and be valid in a git branch name (default kmend/)
//	paths:
//	  include: ["deploy/**"]  # globs; empty means every file
//	  exclude: ["**/testdata/**"]
//	commits: git              # git | api (api: commits made through GitHub's API, signed by GitHub)
//	schedule: "0 6 * * 1"     # when to scan unprompted; empty for never
//
// controls: control IDs as the catalog writes them (KM-001), compared
// without regard to case. An ID may not be both enabled and disabled.
// minSeverity applies on top: a control below it is not fixed even if
// enabled.
//
// grouping: which findings share a pull request: all of a repository's,
// those of one control, of one severity, or of the files of one directory.
//
// labels: at most 50 characters each, no duplicates.
//
// reviewers, assignees: GitHub logins (a leading @ is dropped); reviewers
// may also name teams as org/team-slug.
//
// branchPrefix: git check-ref-format's rules apply: no spaces, "~", "^",
// ":", "?", "*", "[", "\", "..", "@{", "//", no component starting with "."
// or ending in ".lock", and it may not start with "-" or "refs/".
//
// paths: globs relative to the repository's root, matched against
// slash-separated paths (see [Glob]): "*" matches within one path segment,
// "**" as a whole segment matches any number of segments. A file is
// included when it matches an include glob (or there are none) and no
// exclude glob.
//
// schedule: a five-field cron expression (minute hour day-of-month month
// day-of-week, with "*", "?", numbers, ranges, lists, steps and month and
// weekday names), a descriptor (@hourly, @daily, @midnight, @weekly,
// @monthly, @yearly, @annually) or "@every <duration>" of at least an hour.
// The check is loose: it looks at the shape and the number ranges only.
// Times are UTC.
//
// # Server configuration (kmend serve)
//
//	version: 1
//	appID: 123456                       # required; KMEND_APP_ID
//	appSlug: kmend                      # optional; KMEND_APP_SLUG
//	privateKeyPath: kmend.private-key.pem  # required, RSA PEM; KMEND_PRIVATE_KEY_PATH
//	webhookSecretFile: webhook-secret   # or webhookSecret: "...", not both;
//	                                    # KMEND_WEBHOOK_SECRET_FILE, KMEND_WEBHOOK_SECRET
//	githubURL: https://github.com       # GitHub Enterprise Server's address; KMEND_GITHUB_URL
//	listenAddr: ":8080"                 # KMEND_LISTEN_ADDR
//	queueSize: 100                      # 1-100000; KMEND_QUEUE_SIZE
//	workers: 4                          # 1-256; KMEND_WORKERS
//
// An environment variable that is set and not empty overrides its key; a
// secret from the environment (value or file) replaces both secret keys of
// the file. Relative paths in the file are relative to the file's
// directory; those from the environment to the working directory. The
// private key must parse as an RSA key (PKCS #1 or #8) and the secret must
// not be empty: go-github skips the signature check with an empty secret,
// so kmend refuses to start without one. Errors name the file and line or
// the environment variable; no error, and no [Server.LogValue], contains a
// secret or key. [Server.Write] writes the file atomically with mode 0600.
package config
