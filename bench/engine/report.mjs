// Prints the side-by-side table of bench/engine.sh from its JSON lines.
import {readFileSync} from "node:fs";

const rows = readFileSync(process.argv[2], "utf8").trim().split("\n").map(l => JSON.parse(l));
const shapes = [...new Set(rows.map(r => r.shape))];
const f = (v, d = 1) => v.toFixed(d);
const lines = [];
for (const s of shapes) {
    const go = rows.find(r => r.shape === s && r.engine === "mlxk-go");
    const ll = rows.find(r => r.shape === s && r.engine === "llama.cpp");
    if (!go || !ll) continue;
    lines.push(`${s}, ${go.threads} threads, prompt ${go.prompt_tokens} (Go: ${go.chunk} per call, llama.cpp: one batch), decode ${go.gen_tokens}` +
        ` (weights: ${f(go.weight_mb, 0)} MB MLX 4-bit g64 / ${f(ll.weight_mb, 0)} MB GGUF q4_0)`);
    lines.push(`  ${"".padEnd(28)}${"Go engine".padStart(12)}${"llama.cpp".padStart(12)}${"Go/llama".padStart(10)}`);
    const row = (name, a, b, d, higherBetter = true) => lines.push(
        `  ${name.padEnd(28)}${f(a, d).padStart(12)}${f(b, d).padStart(12)}${(f(higherBetter ? a / b : b / a, 2) + "x").padStart(10)}`);
    row("prefill tok/s", go.prefill_tok_s, ll.prefill_tok_s, 1);
    row("decode tok/s (after prompt)", go.decode_tok_s, ll.decode_tok_s, 1);
    row("decode tok/s (empty context)", go.decode0_tok_s, ll.decode0_tok_s, 1);
    row("time to first token, ms", go.ttft32_ms, ll.ttft32_ms, 0, false);
    if (go.ttft32_warm_ms) lines.push(`  ${"  (Go, weight pages mapped)".padEnd(28)}${f(go.ttft32_warm_ms, 0).padStart(12)}`);
    row("load, s", go.load_s, ll.load_s, 2, false);
    row("peak RSS, MB", go.peak_rss_mb, ll.peak_rss_mb, 0, false);
    const budget = 1.15 * go.weight_mb + go.kv_mb;
    lines.push(`  Go peak RSS ${f(go.peak_rss_mb, 0)} MB vs budget 1.15 x weights + KV = ${f(budget, 0)} MB: ${go.peak_rss_mb <= budget ? "within" : "OVER"};` +
        ` node runtime alone ${f(ll.node_base_rss_mb, 0)} MB`);
    lines.push(`  other processes used ${f(go.others_cpus, 2)} (Go run) and ${f(ll.others_cpus, 2)} (llama.cpp run) CPUs on average` +
        (Math.max(go.others_cpus, ll.others_cpus) > 0.2 ? " -- NOISY: the machine was shared, figures are low and uneven" : ""));
    lines.push("");
}
console.log(lines.join("\n"));
