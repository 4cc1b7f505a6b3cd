#!/usr/bin/env node
// corpus.mjs — writes ../corpus.jsonl, the text corpus that the tokenizer
// golden tests run through every reference tokenizer (see goldens.mjs and
// ../../golden_test.go).
//
//   node shared/tokenizer/testdata/gen/corpus.mjs        (no dependencies)
//
// The output is a pure function of this file: a seeded PRNG (mulberry32, plain
// 32-bit integer arithmetic, no Math.random, no locale, no clock), fixed
// category quotas and first-come de-duplication. Running it twice, on any Node
// version, gives the same bytes. Each line is {"text": "...", "cat": "..."};
// "cat" names the category and is only used in reports.
//
// Rules for the material below: every string is well-formed Unicode (no lone
// surrogates, which JSON cannot carry to Go intact), and only characters that
// have been assigned for many Unicode versions are used (regex classes and NFC
// tables of Oniguruma, Go and ICU agree on them).

import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "corpus.jsonl");
const SEED = 0x6d6c786b; // "mlxk"

// ---------------------------------------------------------------- PRNG
function mulberry32(a) {
  return function () {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const int = (n) => Math.floor(rand() * n); // 0..n-1
const between = (lo, hi) => lo + int(hi - lo + 1); // lo..hi
const pick = (a) => a[int(a.length)];
const chance = (p) => rand() < p;
const repeat = (n, f) => Array.from({ length: n }, f);
const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

// ---------------------------------------------------------------- material
const PROSE = [
  "The quick brown fox jumps over the lazy dog.",
  "It was the best of times, it was the worst of times.",
  "A journey of a thousand miles begins with a single step.",
  "The river ran swiftly past the old mill, carrying leaves toward the sea.",
  "She opened the letter slowly, as if the words might escape.",
  "Nobody in the village remembered who had planted the oak tree.",
  "The lighthouse keeper counted the ships every evening at dusk.",
  "In the spring, the orchard was a cloud of white blossoms.",
  "He said nothing, but his silence was louder than any speech.",
  "The train was late again; the passengers sighed in unison.",
  "Mathematics is the language in which the universe is written.",
  "The library smelled of dust, ink, and forgotten afternoons.",
  "Every clock in the house had stopped at a quarter past nine.",
  "They walked along the shore until the tide came in.",
  "Bread, cheese, and a flask of water: that was all they carried.",
  "The committee will reconvene on Tuesday to review the proposal.",
  "Please ensure that all doors are locked before leaving the building.",
  "The experiment failed twice before it finally succeeded.",
  "Rain drummed on the tin roof throughout the long night.",
  "A small bird perched on the windowsill and sang without fear.",
  "The captain ordered the sails to be furled before the storm.",
  "Her laughter echoed down the empty corridor.",
  "The map showed a road where there was only forest.",
  "Snow fell silently, covering the footprints of the travellers.",
  "The merchant weighed the silver coins with great care.",
  "Why does the moon seem larger near the horizon?",
  "Is it possible to be homesick for a place you have never been?",
  "What a wonderful surprise this is!",
  "Stop! Don't touch that wire!",
  "The results, however, were far from conclusive.",
  "According to the report, sales rose by twelve percent last quarter.",
  "The old man and the sea had an understanding of sorts.",
  "Call me when you arrive; I'll be waiting by the phone.",
  "The kettle whistled, and the cat leapt off the counter.",
  "Two roads diverged in a yellow wood.",
  "The engine coughed, sputtered, and then roared to life.",
  "All happy families are alike in their own particular way.",
  "The museum's newest exhibit features fossils from the Jurassic period.",
  "You can't judge a book by its cover, but you can judge its index.",
  "The soup was too hot, the bread too stale, and the wine too sweet.",
  "We hold these truths to be self-evident.",
  "The children built a fort out of blankets and chairs.",
  "A gentle breeze stirred the curtains of the open window.",
  "He had never seen so many stars in a single sky.",
  "The meeting adjourned at 5 p.m. without a decision.",
  "Turn left at the bakery, then walk two blocks north.",
  "The orchestra tuned their instruments as the audience whispered.",
  "Knowledge is a treasure, but practice is the key to it.",
  "The bridge swayed in the wind, yet it held firm.",
  "She kept a diary in a language only she could read.",
  "There is no such thing as a free lunch.",
  "The garden gate creaked whenever the wind changed direction.",
  "Our flight departs at dawn, so pack your bags tonight.",
  "Dr. Smith and Mrs. Jones met at St. Mary's Hospital.",
  "The word \"serendipity\" was coined in 1754.",
  "Some say the world will end in fire, some say in ice.",
  "The farmer checked the fences after the storm.",
  "A penny saved is a penny earned, or so they say.",
  "The violinist played as though no one were listening.",
  "Heavy clouds gathered over the mountains by noon.",
  "I think, therefore I am.",
  "The package arrived damaged, but its contents were intact.",
  "Fortune favours the bold, and occasionally the prepared.",
  "They argued about politics until the candles burned out.",
  "The painting hung crooked, and nobody dared to straighten it.",
  "Every morning the baker rose at four to light the ovens.",
  "The tortoise, slow but steady, crossed the finish line first.",
  "Lightning split the ancient elm in two.",
  "He whistled a tune that nobody else remembered.",
  "The census counted 4,281 residents in the valley.",
  "Water boils at one hundred degrees at sea level.",
  "Our neighbours' dog barks at every passing bicycle.",
  "The recipe calls for two cups of flour and a pinch of salt.",
  "The telescope revealed rings around the distant planet.",
  "When in doubt, tell the truth.",
  "The last chapter was missing from the borrowed book.",
  "A thin layer of frost covered the windscreen.",
  "Silence fell over the room as the verdict was read.",
  "The apprentice watched the blacksmith shape the glowing iron.",
  "Fog rolled in from the harbour and swallowed the town.",
  "The students were asked to write an essay on friendship.",
  "The marketplace was crowded with traders from distant lands.",
  "She signed her name with a flourish and closed the ledger.",
  "THE END OF THE WORLD AS WE KNOW IT.",
  "the lowercase sentence without any capital letters at all",
  "O Romeo, Romeo, wherefore art thou Romeo?",
  "To be, or not to be, that is the question.",
  "The early bird catches the worm; the second mouse gets the cheese.",
  "The kingdom's treasury was empty, and the king was worried.",
  "An apple a day keeps the doctor away.",
  "The ice cracked beneath their feet, but nobody fell through.",
  "He folded the map along its old creases.",
  "The bell tower chimed twelve times at midnight.",
  "A hundred years later, the house still stood.",
  "The ship's cook served beans for the fifth day in a row.",
  "Patience is bitter, but its fruit is sweet.",
  "The detective examined the footprints with a magnifying glass.",
  "Across the valley, a wolf howled at the rising moon.",
  "All the world's a stage, and all the men and women merely players.",
  "E-mail me at the usual address (not the old one).",
  "It's 3:45 pm — time for tea; isn't it?",
  "\"Where are you going?\" she asked. \"Out,\" he replied.",
  "Well... I suppose that's one way to look at it.",
];

const CODE = [
  'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello, 世界")\n}\n',
  "func (t *Tokenizer) Encode(text string) []int {\n\tids := make([]int, 0, len(text)/4)\n\tfor _, piece := range t.split(text) {\n\t\tids = append(ids, t.bpe(piece)...)\n\t}\n\treturn ids\n}",
  "if err != nil {\n\treturn nil, fmt.Errorf(\"load %s: %w\", path, err)\n}",
  "type Config struct {\n\tName    string `json:\"name\"`\n\tVersion int    `json:\"version,omitempty\"`\n}",
  "for i := 0; i < len(xs); i++ {\n\tif xs[i] == 0 {\n\t\tcontinue\n\t}\n\tsum += xs[i] * xs[i]\n}",
  "select {\ncase v := <-ch:\n\tfmt.Println(v)\ncase <-ctx.Done():\n\treturn ctx.Err()\n}",
  "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
  "class Tokenizer:\n    def __init__(self, path: str) -> None:\n        self.vocab = {}\n\n    def encode(self, text: str) -> list[int]:\n        return [self.vocab[t] for t in text.split()]\n",
  "import numpy as np\nx = np.arange(10, dtype=np.float32)\nprint(x.mean(), x.std())",
  "with open('data.txt', 'r', encoding='utf-8') as f:\n    lines = [l.rstrip('\\n') for l in f]",
  "@dataclass\nclass Point:\n    x: float = 0.0\n    y: float = 0.0\n",
  "try:\n    value = int(s)\nexcept ValueError as e:\n    print(f\"bad value {s!r}: {e}\")",
  "print(\"%d items cost $%.2f\" % (n, total))",
  "const add = (a, b) => a + b;\nconsole.log(add(2, 3));",
  "function greet(name) {\n  return `Hello, ${name}!`;\n}\n",
  "export default async function handler(req, res) {\n  const { id } = req.query;\n  res.status(200).json({ id });\n}",
  "document.querySelectorAll('.item').forEach((el, i) => {\n  el.dataset.index = String(i);\n});",
  "let re = /\\s+(?!\\S)|\\s+/gu; // whitespace run\nif (x !== null && y >= 0) { z ??= 1; }",
  "{\"name\": \"mlxk\", \"version\": \"1.0.0\", \"private\": true}",
  "{\n  \"model_type\": \"qwen3\",\n  \"hidden_size\": 4096,\n  \"rope_theta\": 1000000.0,\n  \"eos_token_id\": [151645, 151643]\n}",
  "[{\"id\": 1, \"tags\": [\"a\", \"b\"]}, {\"id\": 2, \"tags\": []}, null, true, -3.5e-7]",
  "{\"text\": \"line one\\nline two\\ttabbed \\\"quoted\\\" \\u00e9\"}",
  "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.json; do\n  echo \"$f\"\ndone",
  "cd /tmp && ls -la | grep -v '^total' | awk '{print $9}' > files.txt 2>&1",
  "export PATH=\"$HOME/bin:$PATH\"\n[ -f ~/.bashrc ] && source ~/.bashrc",
  "curl -fsSL -H 'Accept: application/json' \"http://127.0.0.1:8080/v1/models?limit=10&offset=0\"",
  "git log --oneline -n 5 | sed -e 's/^/  /'",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name ASC LIMIT 10;",
  "<div class=\"card\"><h1>Title</h1><p>Body &amp; more</p></div>",
  "#include <stdio.h>\nint main(void) { printf(\"%s\\n\", \"hi\"); return 0; }",
  "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
  "x += 1; y -= 2; z *= 3; w /= 4; a <<= 1; b >>= 2; c &&= d; e ||= f;",
  "// TODO(mlxk): handle the case where len(buf) == 0\n/* block\n   comment */",
  "    indented_with_spaces = True\n\tindented_with_tab = True\n  \t mixed = None",
  "key: value\nlist:\n  - one\n  - two\nnested:\n  a: 1\n  b: [1, 2, 3]",
  "[section]\nname = \"mlxk\"\nthreads = 8\nratio = 0.75",
];
const IDENTS = ["foo", "bar", "baz", "qux", "tokenizer", "ids", "buf", "ctx", "userName", "HTTPServer", "snake_case_name", "x1", "_private", "MAX_LEN", "camelCaseID", "i18n"];

const CHINESE = [
  "今天天气很好，我们去公园散步吧。",
  "机器学习是人工智能的一个分支。",
  "这本书我已经读了三遍了。",
  "请问，去火车站怎么走？",
  "他说：“我明天再来。”",
  "中华人民共和国成立于一九四九年。",
  "春眠不觉晓，处处闻啼鸟。",
  "床前明月光，疑是地上霜。",
  "我们需要更多的数据来训练模型。",
  "学而时习之，不亦说乎？",
  "繁體中文與簡體中文的差別在於字形。",
  "这个价格是１２３元，太贵了！",
  "北京、上海、广州和深圳都是大城市。",
  "分词器把文本切成一个个的词元。",
  "你好，世界！",
];
const JAPANESE = [
  "今日はいい天気ですね。",
  "吾輩は猫である。名前はまだ無い。",
  "東京タワーは東京都港区にあります。",
  "すみません、駅はどこですか？",
  "カタカナとひらがなと漢字を混ぜて書きます。",
  "ｶﾀｶﾅの半角文字もあります。",
  "古池や蛙飛び込む水の音",
  "このプログラムはＵＴＦ－８で保存してください。",
  "ありがとうございました！",
  "明日の会議は午後３時からです。",
  "「こんにちは」と彼女は言った。",
  "ラーメンを食べに行きましょう。",
];
const KOREAN = [
  "안녕하세요, 만나서 반갑습니다.",
  "오늘 날씨가 정말 좋네요.",
  "한국어는 한글로 씁니다.",
  "이 문장은 토크나이저 테스트용입니다.",
  "서울은 대한민국의 수도입니다.",
  "감사합니다! 또 오세요.",
  "저는 학생이에요. 당신은요?",
  "김치찌개와 된장찌개 중에 뭐가 좋아요?",
  "세종대왕이 훈민정음을 만들었다.",
  "ㄱㄴㄷㄹ ㅏㅑㅓㅕ 자모도 있습니다.",
  "프로그래밍은 재미있어요.",
  "123번 버스를 타세요.",
];
const CJK_PUNCT = ["。", "、", "，", "！", "？", "「", "」", "『", "』", "（", "）", "：", "；", "…", "〜", "・", "《", "》", "\u3000"];

const EMOJI_SINGLE = ["😀", "😂", "🥲", "😍", "🤔", "🙃", "😭", "👍", "👎", "🙏", "🔥", "✨", "🎉", "❤️", "❤", "💔", "🚀", "🌍", "🐍", "🦀", "🐹", "🍕", "☕", "⚡", "✅", "❌", "⭐", "☀️", "☁", "❄️", "🤖", "👀", "💯", "🧠", "🪐", "🫠", "🥺", "😎", "🙈", "💩"];
const EMOJI_SEQ = [
  "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "👋🏽", "🧑🏿‍💻",
  "👨‍👩‍👧‍👦", "👩‍👩‍👦", "👨‍👨‍👧", "👩‍❤️‍👨", "👩‍❤️‍💋‍👩", "👨‍💻", "👩‍🔬", "🧑‍🚀", "👩🏾‍🍳", "🏳️‍🌈", "🏳️‍⚧️", "🏴‍☠️", "🐻‍❄️", "😶‍🌫️", "❤️‍🔥", "🧔‍♂️", "🏃‍♀️", "🏃🏻‍♂️‍➡️",
  "🇺🇸", "🇩🇪", "🇯🇵", "🇨🇳", "🇰🇷", "🇫🇷", "🇧🇷", "🇺🇦", "🇪🇺", "🇺🇳", "🇬🇧🇮🇪",
  "🏴󠁧󠁢󠁥󠁮󠁧󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿",
  "1️⃣", "#️⃣", "*️⃣", "0⃣", "©️", "®", "™️", "↔️", "▶️", "⏯",
];

const WS = [" ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r", "\r\r", "\n\r", " \n", "\n ", "\t\n", "\u00A0", "\u00A0\u00A0", "\u3000", "\u2028", "\u2029", "\u0085", "\uFEFF", "\u000B", "\u000C", "\u1680", "\u2000", "\u2003", "\u2009", "\u200A", "\u202F", "\u205F", "\u200B", "\u180E", " \u00A0 ", "\u3000\u3000"];
const WORDS = ["hello", "world", "Hello", "WORLD", "a", "I", "x", "token", "the", "cat", "123", "ok", "!", ".", "'s", "--", "é", "中文", "😀", "<b>", "▁", "Ġ"];

const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "'Ve", "'Ll", "'Re", "’s", "’t", "’ll", "n't", "N'T"];
const CONTR_BASES = ["it", "It", "IT", "don", "DON", "can", "we", "We", "they", "I", "you", "YOU", "she", "he", "John", "the cat", "1990", "x", "rock", "O"];

const SPECIALS = [
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<tool_call>", "</tool_call>", "<think>", "</think>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|vision_start|>", "<|image_pad|>", "<tool_response>",
  "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|python_tag|>", "<|reserved_special_token_5|>", "<|finetune_right_pad_id|>",
  "<|startoftext|>", "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>",
  "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>", "<unused0>", "<unused99>", "[multimodal]",
  "<s>", "</s>", "<b>", "</b>", "<table>", "<td>", "</td>", "<h1>", "<code>", "</code>",
];
const NEAR_SPECIALS = [
  "<|im_", "<|im_end", "im_end|>", "<|im_end|", "|im_end|>", "< |im_end|>", "<|IM_END|>", "<<|im_end|>>", "<|im_end|><|im_end|>", "<|im_start|>>",
  "<|begin_of", "<|begin_of_text", "begin_of_text|>", "<|eot_id", "<|reserved_special_token_|>", "<|reserved_special_token_99999|>",
  "<s", "s>", "</s", "<ss>", "<<s>>", "< s>", "<s >", "<S>", "<bos", "bos>", "<end_of_turn", "<end_of_turn >", "<think", "</think", "<thinking>", "<|start", "<|start|", "<|", "|>", "<|>", "<||>", "<unused>", "<unused-1>",
];
const CHAT_BITS = ["user", "assistant", "system", "\n", "Hello!", "What is 2+2?", "The answer is 4.", "analysis", "final", " ", "<|im_start|>user\n", "<|im_end|>\n", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<start_of_turn>model\n", "<end_of_turn>\n", "<|start|>assistant<|channel|>final<|message|>", "<think>\n\n</think>\n\n"];

const ODD = [
  "e\u0301", "a\u0300\u0301\u0302\u0303", "Ame\u0301lie", "n\u0303", "o\u0308", "\u1100\u1161\u11A8", "\u1112\u1161\u11AB\u1100\u1173\u11AF", "\u212B", "\u2126", "\u00C5", "A\u030A", "\u1E9B\u0323", "q\u0307\u0323", "Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319\u0324\u031E\u0349\u035A\u032F\u031E\u0320\u034D",
  "ﬁ", "ﬂ", "ﬀ", "ﬃ", "Ǆ", "ǅ", "ǆ", "Ĳ", "œ", "Æ", "ß", "ẞ", "ſ", "ﬅ", "㎏", "㍻", "℃", "№", "Ⅻ", "ⅻ", "①", "⑳", "½", "¾", "²", "³", "¹", "⁴", "₂",
  "مرحبا بالعالم", "السلام عليكم ورحمة الله", "١٢٣٤٥٦٧٨٩٠", "שלום עולם", "עברית נכתבת מימין לשמאל", "\u200Fשלום\u200E hello", "\u202Eabc\u202C", "\u2067rtl isolate\u2069",
  "สวัสดีครับ", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", "नमस्ते दुनिया", "हिन्दी में लिखा गया वाक्य।", "क्षत्रिय", "தமிழ்", "বাংলা ভাষা", "ગુજરાતી", "ਪੰਜਾਬੀ", "සිංහල", "ქართული", "Հայերեն", "Ελληνικά γράμματα", "Русский текст, ёлка.", "Українська мова", "Tiếng Việt có dấu", "ᠮᠣᠩᠭᠣᠯ", "ትግርኛ", "ᐃᓄᒃᑎᑐᑦ", "ᚠᚢᚦᚨᚱᚲ",
  "∀x∈ℝ: x²≥0", "∑_{i=1}^{n} i = n(n+1)/2", "∫₀^∞ e^{-x} dx = 1", "√2 ≈ 1.41421", "a ≠ b ⇒ ¬(a = b)", "∞ ∅ ∇ ∂ ∏ ∐ ⊕ ⊗ ⊂ ⊃ ∩ ∪", "𝔸𝔹ℂ𝔻", "𝕏𝕐ℤ", "𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄", "𝟘𝟙𝟚𝟛", "𝓈𝒸𝓇𝒾𝓅𝓉",
  "𝄞 𝄢 𝅘𝅥𝅮", "𐌰𐌱𐌲𐌳", "𐐀𐐨", "𒀀𒀁", "𓀀𓀁𓂀", "𠀀𠀁𪚥", "🀄🃏", "\uFFFD", "\uFFFD\uFFFD", "a\uFFFDb", "\u00AD", "soft\u00ADhyphen", "zero\u200Bwidth", "a\u200Db", "a\u200Cb", "\u2060", "\uE000", "\uF8FF", "\u{F0000}", "\u{10FFFD}", "\uFFFE", "\uFFFF",
  "\u0000", "a\u0000b", "\u0001\u0002\u0003", "\u0007", "\u001B[31mred\u001B[0m", "\u007F", "\u0080", "\u009F", "\u00FF", "Ġ", "Ċ", "ĠĠ", "▁", "▁▁", "▁▁▁hello", "<0x41>", "<0xE2>", "<0xZZ>",
  "Ａｂｃ　ＤＥＦ", "ｈｅｌｌｏ", "「」", "ℌ𝔢𝔩𝔩𝔬", "¿Qué?", "¡Hola!", "Ça va?", "naïve café résumé", "Å Ω K ǅ",
];

const SINGLE_EXTRA = ["é", "中", "あ", "한", "😀", "▁", "Ġ", "\u00A0", "\u3000", "\uFEFF", "\u0085", "\u2028", "\uFFFD", "\t", "\n", "\r", "\u000B", "\u000C", "\u0000", "ß", "ﬁ", "𝕏", "👍🏽", "🇺🇸", "\u0301", "ا", "ש", "ก", "क", "∑", "١"];

// ---------------------------------------------------------------- generators
function proseOne() {
  const n = between(1, 4);
  const sents = repeat(n, () => pick(PROSE));
  let s = sents.join(pick([" ", " ", " ", "  ", "\n", "\n\n", "\r\n"]));
  const v = int(10);
  if (v === 0) s = s.toLowerCase();
  else if (v === 1) s = s.toUpperCase();
  else if (v === 2) s = " " + s;
  else if (v === 3) s = s + "\n";
  else if (v === 4) s = "\"" + s + "\"";
  return s;
}

function codeOne() {
  let s = pick(CODE);
  if (chance(0.3)) {
    const from = pick(["x", "i", "n", "f", "v", "err", "text", "name"]);
    const to = pick(IDENTS);
    s = s.split(new RegExp(`\\b${from}\\b`, "g")).join(to);
  }
  const v = int(8);
  if (v === 0) s = s.replace(/\t/g, "    ");
  else if (v === 1) s = s.replace(/\n/g, "\r\n");
  else if (v === 2) s = s.replace(/^/gm, "\t");
  else if (v === 3) s = s.trimEnd();
  else if (v === 4) s = "```" + pick(["go", "python", "js", "json", "bash", ""]) + "\n" + s + "\n```";
  if (chance(0.25)) s = s + "\n" + pick(CODE);
  return s;
}

function cjkOne() {
  const v = int(6);
  if (v === 0) return pick(CHINESE);
  if (v === 1) return pick(JAPANESE);
  if (v === 2) return pick(KOREAN);
  const pool = [...CHINESE, ...JAPANESE, ...KOREAN];
  if (v === 3) return repeat(between(2, 4), () => pick(pool)).join(pick(["", " ", "\n", "\u3000"]));
  if (v === 4) return pick(pool) + pick([" ", ""]) + pick(PROSE) + pick([" ", ""]) + pick(pool);
  // fragments, fullwidth punctuation and CJK mixed with Latin words and digits
  return repeat(between(3, 10), () => {
    const r = int(5);
    if (r === 0) return pick(CJK_PUNCT);
    if (r === 1) return pick(["AI", "GPU", "Python", "mlx", "v2.5", "OK", "2024年", "3月", "%", "100"]);
    const src = pick(pool);
    const a = int(src.length);
    return src.slice(a, a + between(1, 6));
  }).join("");
}

function emojiOne() {
  const v = int(6);
  const any = () => (chance(0.5) ? pick(EMOJI_SINGLE) : pick(EMOJI_SEQ));
  if (v === 0) return any();
  if (v === 1) return repeat(between(2, 8), any).join("");
  if (v === 2) return repeat(between(2, 6), any).join(" ");
  if (v === 3) return pick(PROSE).replace(/ /g, () => (chance(0.2) ? " " + any() + " " : " "));
  if (v === 4) return any() + pick(["", " ", "\n"]) + pick([...CHINESE, ...JAPANESE]) + any();
  return pick(["Great job", "lol", "ok", "Ship it", "Release v1.0", "I love this"]) + pick(["", " ", "!!", "! "]) + repeat(between(1, 4), any).join("");
}

function whitespaceOne() {
  const v = int(6);
  if (v === 0) return repeat(between(1, 6), () => pick(WS)).join("");
  if (v === 1) return pick(WS) + pick(WORDS) + pick(WS);
  if (v === 2) return repeat(between(2, 8), () => pick(WORDS) + pick(WS)).join("");
  if (v === 3) return " ".repeat(between(1, 40)) + pick(WORDS) + " ".repeat(between(0, 5));
  if (v === 4) return pick(["a", "x", "hello", "1", "中"]) + pick(WS).repeat(between(2, 12)) + pick(["b", "world", "2", "文", ""]);
  return repeat(between(2, 6), () => pick(PROSE).split(" ").slice(0, between(1, 5)).join(pick(WS))).join(pick(WS));
}

function contractionOne() {
  const v = int(5);
  if (v === 0) return pick(CONTR_BASES) + pick(CONTRACTIONS);
  if (v === 1) return repeat(between(2, 5), () => pick(CONTR_BASES) + pick(CONTRACTIONS) + pick(["", " " + pick(WORDS)])).join(" ");
  if (v === 2) return pick(CONTRACTIONS) + pick(CONTRACTIONS) + pick(["", " ", "s"]);
  if (v === 3) return pick(["I'm sure you're right, but we'll see.", "They've said it's fine; I'd agree.", "DON'T YOU DARE, IT'S MINE.", "rock'n'roll ain't dead", "'twas the night before", "O'Neil's cat's toy's squeak", "he said 'hello' and 'bye'", "''s ''t '''", "it's'", "the '90s and 'til"]);
  return pick(PROSE).replace(/\b(\w+)\b/, (m) => m + pick(CONTRACTIONS));
}

function digitsOne() {
  const run = (n) => repeat(n, () => String(int(10))).join("");
  const v = int(8);
  if (v === 0) return run(between(1, 40));
  if (v === 1) return run(between(1, 7)) + pick([",", ".", " ", "-", ":", "/", "_"]) + run(between(1, 7));
  if (v === 2) return pick(["abc", "x", "v", "ID", "中", "é"]) + run(between(1, 12)) + pick(["", "def", "px", "%", "th", "年"]);
  if (v === 3) return `${thousands(between(1, 9999999))}.${run(2)} ${pick(["USD", "EUR", "€", "$", "kg", ""])}`;
  if (v === 4) return `${run(4)}-${run(2)}-${run(2)}T${run(2)}:${run(2)}:${run(2)}Z`;
  if (v === 5) return pick(["0x", "0b", "0o", "#", "+", "-", "1e", "3.14e-"]) + run(between(1, 16));
  if (v === 6) return pick(["１２３４５", "٣٤٥٦", "०१२३४", "๑๒๓", "²³¹", "½¼", "Ⅻ", "𝟘𝟙𝟚", "①②③"]) + pick(["", " ", "0"]) + run(between(0, 5));
  return repeat(between(2, 6), () => run(between(1, 5))).join(pick([" ", "", ", ", "\n"]));
}

function specialOne() {
  const any = () => (chance(0.7) ? pick(SPECIALS) : pick(NEAR_SPECIALS));
  const v = int(7);
  if (v === 0) return any();
  if (v === 1) return repeat(between(2, 5), any).join("");
  if (v === 2) return repeat(between(2, 5), any).join(pick([" ", "\n", "  ", "x"]));
  if (v === 3) return pick(WORDS) + any() + pick(WORDS);
  if (v === 4) return pick(["", " ", "\n"]) + any() + pick([" ", "", "\n"]) + pick(PROSE) + any();
  if (v === 5) return repeat(between(3, 8), () => pick(CHAT_BITS)).join("");
  return pick(SPECIALS) + pick(["Hello", " Hello", "\nHello", "hello world", "你好", "123"]);
}

function oddOne() {
  const v = int(5);
  if (v === 0) return pick(ODD);
  if (v === 1) return repeat(between(2, 5), () => pick(ODD)).join(pick(["", " ", "\n"]));
  if (v === 2) return pick(PROSE).replace(/e/g, () => (chance(0.3) ? "e\u0301" : "e"));
  if (v === 3) return pick(["word", "Text", "café"]) + pick(ODD) + pick(["", " ", "s", "123"]);
  return pick(ODD) + " " + pick([...CHINESE, ...KOREAN]) + " " + pick(EMOJI_SEQ);
}

function mixedOne(maxLen) {
  const gens = [proseOne, codeOne, cjkOne, emojiOne, whitespaceOne, contractionOne, digitsOne, specialOne, oddOne];
  const target = between(200, maxLen);
  let s = "";
  while (s.length < target) s += pick(gens)() + pick(["", " ", "\n", "\n\n", "\t"]);
  return s.slice(0, maxLen).replace(/[\uD800-\uDBFF]$/, ""); // never cut a surrogate pair
}

// ---------------------------------------------------------------- assemble
const out = [];
const seen = new Set();
const counts = {};
function add(cat, text) {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    throw new Error(`lone surrogate in ${cat}: ${JSON.stringify(text)}`);
  }
  if (seen.has(text)) return false;
  seen.add(text);
  out.push({ text, cat });
  counts[cat] = (counts[cat] ?? 0) + 1;
  return true;
}
function fill(cat, n, gen) {
  let tries = 0;
  let got = 0;
  while (got < n) {
    if (++tries > n * 50) throw new Error(`category ${cat}: only ${got} distinct strings`);
    if (add(cat, gen())) got++;
  }
}

// empty string and single characters, fixed order
add("single", "");
for (let c = 0x20; c < 0x7f; c++) add("single", String.fromCharCode(c));
for (const c of SINGLE_EXTRA) add("single", c);
// every special / near-special string on its own, and every ODD item once
for (const s of [...SPECIALS, ...NEAR_SPECIALS]) add("special", s);
for (const s of ODD) add("odd", s);
for (const s of EMOJI_SEQ) add("emoji", s);
for (const s of WS) add("whitespace", s);

fill("prose", 300, proseOne);
fill("code", 220, codeOne);
fill("cjk", 220, cjkOne);
fill("emoji", 130, emojiOne);
fill("whitespace", 220, whitespaceOne);
fill("contraction", 150, contractionOne);
fill("digits", 180, digitsOne);
fill("special", 200, specialOne);
fill("odd", 160, oddOne);
fill("mixed", 140, () => mixedOne(700));
fill("long", 60, () => mixedOne(2048));

writeFileSync(OUT, out.map((o) => JSON.stringify(o)).join("\n") + "\n");
console.log(`wrote ${out.length} strings to ${OUT}`);
for (const [k, v] of Object.entries(counts)) console.log(`  ${k.padEnd(12)} ${v}`);
