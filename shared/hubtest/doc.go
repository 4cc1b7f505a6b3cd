// Package hubtest is a fake Hugging Face Hub for tests: real HTTP on
// loopback, the response headers, status codes and error codes of the
// public Hub (reference/hf-protocol.md §2, §3, §6), and fault knobs that
// break responses in the ways real networks and CDNs do. It uses the
// standard library only, so tests of the pull and cache code never touch
// the real Hub and never need Python.
//
// # Two servers
//
// New starts the hub (API and resolve) on 127.0.0.1 and a "CDN" for LFS
// bytes that is advertised as localhost:<port>. The different host name is
// deliberate: a client that keeps the Authorization header on the
// cross-host redirect (Go drops it only when the host name differs, Python
// when host:port differs) is caught, because the CDN answers 400 to any
// request carrying Authorization, as S3 does with presigned URLs. LFS
// resolves answer 302 with a presigned CDN URL
// (/lfs/<sha256>?X-Amz-Signature=<hmac>&Expires=<unix>); the signature is
// an HMAC with a secret of this hub, so a forged or expired URL gets 403.
//
// # Repos
//
// A repo is org/name with branches (name → Commit, a map of repo path to
// content), tags and visibility (private, gated, disabled, the tokens
// granted access). Files the Hub's default .gitattributes would put in LFS
// (cachewrite.IsLFS) are LFS files: their content is served by the CDN and
// identified by sha256; other files are served by resolve itself with their
// git blob sha1 as ETag. Commit ids are derived from the files exactly as
// cachewrite derives them for a snapshot without an explicit commit
// (sha1 over the sorted "path etag\n" lines), so a folder served by the hub
// and the same folder laid out with cachewrite (mkcache) get the same
// commit. Replacing a repo keeps its old commits resolvable by id, as on the
// real Hub.
//
// File paths are served as given, even hostile ones such as "../x", so
// tests can check that clients refuse them.
//
// # LoadDir: repos from a folder tree
//
// LoadDir(root) reads repos from folders, the form txtar test scripts use
// (-- _hub/org/name/config.json --):
//
//	root/<org>/<name>/            the files of branch main of org/name
//	root/<org>/<name>@<branch>/   branch <branch> (path-unescaped, so
//	                              name@refs%2Fpr%2F1 is branch refs/pr/1)
//	root/<org>/<name>.hub.json    optional options for org/name
//
// The sidecar is JSON with these optional keys (unknown keys are errors,
// so typos fail loudly):
//
//	{
//	  "private": false, "gated": false, "disabled": false,
//	  "approved_tokens": ["hf_alice"],
//	  "branches": {"dev": "other-tree"},
//	  "tags": {"v1.0": "main"}
//	}
//
// "branches" maps a branch name to a folder relative to root/<org>/ (such a
// folder is not itself a repo); "tags" maps a tag to a branch name or a
// commit id of the repo.
//
// # Access rules (§2.7)
//
// A bearer token not in Options.Tokens (or added with AddToken) gets 401
// "Invalid credentials in Authorization header" on every hub route. A
// missing repo, or a private one the caller may not read, answers 401
// RepoNotFound to anonymous callers and 404 RepoNotFound to authenticated
// ones. The user named like the repo's org (or a member of that org,
// Options.Orgs / AddOrg), and the tokens in ApprovedTokens, may read
// private repos and download gated ones. Gated
// repos serve metadata (info, tree, refs) to everyone unless
// Options.StrictGated is set; resolve answers 401 GatedRepo to anonymous
// callers and 403 GatedRepo to callers who are not approved. Disabled repos
// answer 403 "Access to this resource is disabled.".
//
// Writes need a token whose user owns the repo's namespace: the user's
// name or one of its orgs. Without a token a write answers 401 ("Invalid
// username or password.", with RepoNotFound on repo routes, as the Hub
// answers a push by someone who forgot to log in); a token of another
// user, or one in Options.ReadOnlyTokens (SetReadOnly), answers 403
// "You don't have the rights…". ApprovedTokens grant reading only.
//
// # Upload (§4)
//
// The hub takes pushes the way huggingface_hub sends them, so a push can
// be checked by downloading the result through the read side:
//
//	POST   /api/repos/create                       new repo: main holds DefaultGitattributes
//	DELETE /api/repos/delete
//	POST   /api/models/{repo}/branch/{b}            from {"startingPoint"} or main
//	DELETE /api/models/{repo}/branch/{b}
//	POST   /api/models/{repo}/preupload/{rev}       "lfs" or "regular" per file, oid if present
//	POST   /{repo}.git/info/lfs/objects/batch       always "transfer": "basic"
//	PUT    <CDN>/upload/{sha256}?X-Amz-Signature=…  the bytes (presigned, no Authorization)
//	POST   /{repo}.git/info/lfs/objects/verify      200 when stored, else 404
//	POST   /api/models/{repo}/commit/{rev}          NDJSON; moves the branch
//
// Preupload says "lfs" when the revision's .gitattributes (or the
// request's gitAttributes) tracks the path, when the sample holds a NUL
// byte, or from Options.LFSThreshold bytes (10 MiB); empty files are
// regular. The batch remembers each object's announced size; the CDN
// stores a PUT only of that size and hashing to the sha256 of its URL, so
// a client that sends the wrong bytes fails there, and it refuses
// Authorization as it does on downloads. BytesUploaded counts what it
// accepted, so tests can assert that a client skipped what the Hub had.
//
// A commit applies file, lfsFile, deletedFile and deletedFolder lines to
// the branch head under one lock: a stale parentCommit gets 412, a regular
// file over the threshold 400, an lfsFile not in the store (or of another
// size) 400, a missing deletedFile 404 EntryNotFound. lfsFile paths no
// .gitattributes rule covers get a rule appended, as on the Hub. Commit
// ids are sha1 over the repo, parent, message and files: deterministic,
// and new even for an empty commit. Repos are copied on write, so readers
// never see half a commit. Not served: tags, create_pr, the multipart
// transfer, dataset and space repos.
//
// # Faults
//
// Fault adds a FaultSpec: a status code, a truncated body (connection
// aborted), a stall, a Range request answered with the whole body, a body
// shorter than announced, a flipped byte, or a missing header, for the next
// N matching requests of a route (resolve, cdn, info, tree, refs, paths,
// the upload routes create, branch, preupload, batch, upload, verify,
// commit, or any), optionally only for one file. Throttle slows every file body. A fault is
// consumed only by a request it can act on: body faults by GETs that
// produce a body (not by HEADs, errors or redirects), ignore-range only by
// requests with a Range header.
//
// Every request to either server is recorded (Requests) so tests can assert
// what a client sent: authorization, Range, If-None-Match, status.
package hubtest
