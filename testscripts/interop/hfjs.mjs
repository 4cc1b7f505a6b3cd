// Drives @huggingface/hub, a Hub client nobody on the mlxk team wrote:
//   node hfjs.mjs download <hubUrl> <org/name> <cacheDir> [revision]
//     snapshotDownload into a hub cache; prints the snapshot path.
//   node hfjs.mjs upload <hubUrl> <org/name> <dir>
//     createRepo (private; an existing repo is fine), then uploadFiles of
//     every file under dir; prints the commit id.
//   node hfjs.mjs scan <cacheDir>
//     scanCacheDir; prints one JSON object with the repos, their revisions,
//     refs and file counts, and every warning the scan raised.
import { snapshotDownload, scanCacheDir, createRepo, uploadFiles } from "@huggingface/hub";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

async function walk(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

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
  } else if (cmd === "upload") {
    const [hubUrl, repo, dir] = args;
    const accessToken = process.env.HF_TOKEN;
    try {
      await createRepo({ repo: { type: "model", name: repo }, accessToken, hubUrl, visibility: "private" });
    } catch (e) {
      if (!String(e && e.message).includes("already")) throw e;
    }
    const files = [];
    for (const p of await walk(dir)) {
      files.push({ path: relative(dir, p).split("\\").join("/"), content: new Blob([await readFile(p)]) });
    }
    const out = await uploadFiles({ repo: { type: "model", name: repo }, accessToken, hubUrl, files, commitTitle: "upload from @huggingface/hub" });
    console.log(out && out.commit ? out.commit.oid : "");
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
