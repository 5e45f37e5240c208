#!/usr/bin/env python3
"""Trim GitHub's OpenAPI description to the paths kmend talks to.

Usage:
    python3 trim.py path/to/api.github.com.json [output.json]

The input is `generated/api.github.com.json` from the npm package
@octokit/openapi (see README.md). The output defaults to
api.github.com.trimmed.json next to this script (JSON, indented by two).

What it does:
  * keeps only the paths in KEEP_PATHS (every method on them);
  * drops every `example` / `examples` key (GitHub ships at least one
    example that does not match its own schema) and with them all of
    components.examples;
  * keeps every component that the kept paths $ref, transitively;
  * keeps only the tags that the kept operations use;
  * drops x-webhooks;
  * checks the result: it parses back, every $ref is local and resolves,
    and every kept path is present. Exits non-zero on any failure.

Python 3.8+, standard library only.
"""
import json
import os
import sys

KEEP_PATHS = [
    # GitHub App and installation
    "/app",
    "/app/installations",
    "/app/installations/{installation_id}/access_tokens",
    "/app-manifests/{code}/conversions",
    "/installation/repositories",
    "/repos/{owner}/{repo}/installation",
    # repository, contents, git data
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/git/ref/{ref}",
    "/repos/{owner}/{repo}/git/refs",
    "/repos/{owner}/{repo}/git/refs/{ref}",
    "/repos/{owner}/{repo}/git/commits",
    "/repos/{owner}/{repo}/git/commits/{commit_sha}",
    "/repos/{owner}/{repo}/git/trees",
    "/repos/{owner}/{repo}/git/blobs",
    "/repos/{owner}/{repo}/branches/{branch}",
    # pull requests
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
    "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch",
    "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
    # issues: comments, reactions, labels
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
    # permissions
    "/repos/{owner}/{repo}/collaborators/{username}/permission",
    # checks
    "/repos/{owner}/{repo}/check-runs",
    "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    # misc
    "/rate_limit",
    "/users/{username}",
]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DROP_KEYS = {"example", "examples"}


def strip_examples(node, in_properties=False):
    """Return a copy of node without `example`/`examples` keys.

    Keys directly under a schema's `properties` map are property *names*,
    not keywords, so they are kept whatever they are called.
    """
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in DROP_KEYS and not in_properties:
                continue
            out[key] = strip_examples(value, in_properties=(key == "properties" and not in_properties))
        return out
    if isinstance(node, list):
        return [strip_examples(v) for v in node]
    return node


def iter_refs(node):
    """Yield every $ref string found anywhere under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from iter_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_refs(value)


def unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def resolve(doc, ref):
    """Resolve a local JSON pointer ref ('#/a/b'); raise KeyError if absent."""
    if not ref.startswith("#/"):
        raise KeyError("non-local $ref: " + ref)
    node = doc
    for token in ref[2:].split("/"):
        token = unescape(token)
        if isinstance(node, list):
            node = node[int(token)]
        else:
            node = node[token]
    return node


def component_key(ref):
    """'#/components/schemas/foo' -> ('schemas', 'foo')."""
    parts = [unescape(t) for t in ref[2:].split("/")]
    if len(parts) < 3 or parts[0] != "components":
        raise KeyError("unexpected $ref target: " + ref)
    return parts[1], parts[2]


def trim(src):
    paths = {}
    for p in KEEP_PATHS:
        if p not in src["paths"]:
            raise SystemExit("path not in input: " + p)
        paths[p] = strip_examples(src["paths"][p])

    # Transitive closure over components reachable from the kept paths.
    components = {}
    pending = list(iter_refs(paths))
    while pending:
        ref = pending.pop()
        section, name = component_key(ref)
        if name in components.get(section, {}):
            continue
        obj = strip_examples(src["components"][section][name])
        components.setdefault(section, {})[name] = obj
        pending.extend(iter_refs(obj))

    used_tags = set()
    for item in paths.values():
        for method, op in item.items():
            if method in HTTP_METHODS:
                used_tags.update(op.get("tags", []))

    out = {}
    for key in ("openapi", "info", "servers", "externalDocs"):
        if key in src:
            out[key] = src[key]
    out["info"] = dict(out["info"])
    out["info"]["x-kmend-trimmed"] = (
        "Trimmed by trim.py to %d paths; example/examples removed." % len(paths)
    )
    out["tags"] = [t for t in src.get("tags", []) if t.get("name") in used_tags]
    out["paths"] = paths
    out["components"] = {
        section: dict(sorted(components[section].items()))
        for section in sorted(components)
    }
    return out


def check(doc):
    """Raise SystemExit if a $ref does not resolve or a path is missing."""
    errors = []
    for ref in sorted(set(iter_refs(doc))):
        try:
            resolve(doc, ref)
        except (KeyError, IndexError, ValueError) as exc:
            errors.append("unresolved $ref %s (%s)" % (ref, exc))
    for p in KEEP_PATHS:
        if p not in doc["paths"]:
            errors.append("missing path " + p)
    if strip_examples(doc) != doc:
        errors.append("an example/examples key is left")
    if errors:
        raise SystemExit("check failed:\n  " + "\n  ".join(errors))


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    src_path = argv[1]
    dst_path = argv[2] if len(argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "api.github.com.trimmed.json"
    )
    with open(src_path, encoding="utf-8") as f:
        src = json.load(f)

    out = trim(src)
    text = json.dumps(out, indent=2, ensure_ascii=False) + "\n"

    # Check what will actually be written, parsed back from the text.
    check(json.loads(text))

    with open(dst_path, "w", encoding="utf-8") as f:
        f.write(text)
    ops = sum(1 for item in out["paths"].values() for m in item if m in HTTP_METHODS)
    counts = ", ".join("%s=%d" % (k, len(v)) for k, v in out["components"].items())
    print(
        "wrote %s: %d bytes, %d paths, %d operations, components: %s; all $refs resolve"
        % (os.path.basename(dst_path), len(text.encode("utf-8")), len(out["paths"]), ops, counts)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
