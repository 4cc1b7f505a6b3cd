// Drives @huggingface/hub, a Hub client nobody on the mlxk team wrote:
//   node hfjs.mjs download <hubUrl> <org/name> <cacheDir> [revision]
//     snapshotDownload into a hub cache; prints the snapshot path.
//   node hfjs.mjs scan <cacheDir>
//     scanCacheDir; prints one JSON object with the repos, their revisions,
//     refs and file counts, and every warning the scan raised.
import { snapshotDownload, scanCacheDir } from "@huggingface/hub";

const [cmd, ...args] = process.argv.slice(2);
try {
  if (cmd === "download") {
    const [hubUrl, repo, cacheDir, revision] = args;
    const path = await snapshotDownload({
      repo: { type: "model", name: repo },
      hubUrl,
      cacheDir,
      revision: revision || "main",
      accessToken: process.env.HF_TOKEN || undefined,
    });
    console.log(path);
  } else if (cmd === "scan") {
    const info = await scanCacheDir(args[0]);
    const out = {
      repos: info.repos.map((r) => ({
        id: r.id.name,
        size: r.size,
        files: r.filesCount,
        revisions: r.revisions.map((v) => ({ commit: v.commitOid, refs: v.refs, files: v.files.length, size: v.size })),
      })),
      warnings: info.warnings.map((w) => String(w && w.message ? w.message : w)),
    };
    console.log(JSON.stringify(out));
  } else {
    console.error("usage: hfjs.mjs download <hubUrl> <repo> <cacheDir> [rev] | scan <cacheDir>");
    process.exit(2);
  }
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
}
