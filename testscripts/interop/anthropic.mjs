// Drives mlxk-serve's Messages API with the official Anthropic JavaScript
// client and prints one JSON object describing what the client saw, for
// the testscripts to check (interop_anthropic.txtar).
//
// usage: node anthropic.mjs <base-url> <model> [api-key]
import Anthropic from "@anthropic-ai/sdk";
import { expectError as expectErrorWith } from "./expect.mjs";

const [base, model, apiKey] = process.argv.slice(2);
if (!base || !model) {
  console.error("usage: node anthropic.mjs <base-url> <model> [api-key]");
  process.exit(2);
}

const client = new Anthropic({ baseURL: base, apiKey: apiKey ?? "unused", maxRetries: 0, timeout: 120_000 });
const system = "You are a storyteller.";
const messages = [{ role: "user", content: "Tell me a story about Noah." }];
const out = {};

const expectError = (fn) => expectErrorWith(fn, described);

function described(e) {
  return {
    class: e.constructor.name,
    status: e.status ?? null,
    type: e.error?.error?.type ?? null,
    param: e.error?.error?.param ?? null,
    request_id: e.error?.request_id ?? null,
    message: e.message,
  };
}

// models.list (paginated iteration) and models.retrieve, in Anthropic's shape.
const listed = [];
for await (const m of client.models.list()) listed.push(m);
out.models = listed.map((m) => ({ id: m.id, type: m.type, display_name: m.display_name }));
const one = await client.models.retrieve(model);
out.retrieved = { id: one.id, type: one.type };

const textOf = (msg) => msg.content.filter((b) => b.type === "text").map((b) => b.text).join("");

// Whole and streamed with greedy decoding: the texts agree. A first short
// request puts the prompt in the prefix cache, so the requests below
// compute alike (a cold prefill and a cache hit may round differently).
await client.messages.create({ model, system, messages, temperature: 0, max_tokens: 1 });
const msg = await client.messages.create({ model, system, messages, temperature: 0, max_tokens: 24 });
out.message = {
  type: msg.type, role: msg.role, model: msg.model, id_prefix: msg.id.slice(0, 4),
  blocks: msg.content.map((b) => b.type).join(","), text: textOf(msg),
  stop_reason: msg.stop_reason, stop_sequence: msg.stop_sequence, usage: msg.usage,
};

// The raw event stream, iterated.
const events = [];
let text = "";
let deltaUsage = null;
let stopReason = null;
const stream = await client.messages.create({ model, system, messages, temperature: 0, max_tokens: 24, stream: true });
for await (const ev of stream) {
  events.push(ev.type);
  if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
  if (ev.type === "message_delta") {
    stopReason = ev.delta.stop_reason;
    deltaUsage = ev.usage;
  }
}
out.stream = {
  first: events[0], last: events[events.length - 1], same_as_whole: text === out.message.text,
  stop_reason: stopReason, same_usage: deltaUsage?.output_tokens === msg.usage.output_tokens,
};

// The stream helper that accumulates the final message.
const final = await client.messages.stream({ model, system, messages, temperature: 0, max_tokens: 24 }).finalMessage();
out.stream_helper = { same_as_whole: textOf(final) === out.message.text, stop_reason: final.stop_reason };

// A stop sequence taken from the whole answer ends the answer before it.
const words = out.message.text.trim().split(/\s+/);
const stopWord = words.length > 1 ? words[1] : null;
if (stopWord) {
  const stopped = await client.messages.create({ model, system, messages, temperature: 0, max_tokens: 24, stop_sequences: [stopWord] });
  out.stop = { stop_reason: stopped.stop_reason, sequence_matches: stopped.stop_sequence === stopWord, shorter: textOf(stopped).length < out.message.text.length };
}

// count_tokens counts the prompt the answer was computed from.
const counted = await client.messages.countTokens({ model, system, messages });
out.count = { input_tokens: counted.input_tokens, matches_usage: counted.input_tokens === msg.usage.input_tokens + (msg.usage.cache_read_input_tokens ?? 0) };

// Errors arrive as the client's typed exceptions.
out.errors = {
  not_found: await expectError(() => client.messages.create({ model: "nobody/nothing", messages, max_tokens: 4 })),
  bad_value: await expectError(() => client.messages.create({ model, messages, max_tokens: 4, temperature: 3 })),
  image: await expectError(() => client.messages.create({
    model, max_tokens: 4,
    messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] }],
  })),
};
if (apiKey) {
  const wrong = new Anthropic({ baseURL: base, apiKey: "wrong-key", maxRetries: 0 });
  out.errors.auth = await expectError(() => wrong.messages.create({ model, messages, max_tokens: 4 }));
}

console.log(JSON.stringify(out));
