package tokenizer

import (
	"os"
	"strings"
	"testing"
)

// englishText is ordinary English prose for the encoding benchmark.
const englishText = `The lighthouse keeper had not expected visitors in November. The ferry stopped running after the first storms, and the few fishermen who still worked the northern banks kept to the harbour on the far side of the island. So when she saw the small boat rounding the point, its sail patched and its hull low in the water, she put down the lamp she had been cleaning and went out onto the gallery to watch.

There were two people aboard, a man at the tiller and a girl of perhaps twelve who sat in the bow with her arms wrapped around a canvas bag. They did not wave. They brought the boat into the lee of the rocks with the care of someone who knew the water, and the man jumped down into the shallows and pulled it up onto the shingle before the next wave could take it back.

"We saw your light," he said when she came down the path to meet them, as if that explained everything. Perhaps it did. She had kept the light for thirty-one years, and in all that time she had never once thought of it as an invitation. It was a warning: keep away, there are rocks here, the sea is shallower than it looks. But people read what they need to read, she supposed, and a light in the dark means different things to different eyes.

She took them up to the cottage, lit the stove, and put the kettle on. The girl said nothing at all. The man talked about the weather, about the price of diesel, about a cousin on the mainland who might or might not be expecting them, and all the while his eyes kept going to the window and the grey water beyond it. When the tea was ready she set three cups on the table and waited. It was, she had found, the most effective question there was.

Engineers who build software for other people learn the same lesson sooner or later: the specification describes what the customer asked for, the logs describe what the system actually did, and the truth usually lies somewhere in between. A tokenizer is a small thing, a few hundred lines that turn text into numbers, but it sits at the front of every request, and a mistake there quietly changes every answer that follows. It has to be exact, it has to be fast, and above all it has to agree, byte for byte, with the tools that trained the model in the first place.
`

// BenchmarkEncodeEnglish encodes English prose with the tokenizer in
// $MLXK_TOKENIZER_DIR (a directory holding tokenizer.json), skipping when
// it is not set. "warm" keeps the BPE cache between iterations, as a
// server does; "cold" empties it before each one.
func BenchmarkEncodeEnglish(b *testing.B) {
	dir := os.Getenv("MLXK_TOKENIZER_DIR")
	if dir == "" {
		b.Skip("set MLXK_TOKENIZER_DIR to a directory with tokenizer.json")
	}
	tok, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(englishText, 4)
	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n := 0
			for b.Loop() {
				if mode == "cold" {
					b.StopTimer()
					tok.model.cache.m = make(map[string][]int32)
					b.StartTimer()
				}
				n += len(tok.Encode(text, false))
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkDecodeStream streams the ids of the English text back.
func BenchmarkDecodeStream(b *testing.B) {
	dir := os.Getenv("MLXK_TOKENIZER_DIR")
	if dir == "" {
		b.Skip("set MLXK_TOKENIZER_DIR to a directory with tokenizer.json")
	}
	tok, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	ids := tok.Encode(englishText, false)
	b.SetBytes(int64(len(englishText)))
	for b.Loop() {
		sd := tok.NewStreamDecoder()
		for _, id := range ids {
			sd.Add(id)
		}
		sd.Flush()
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkLoad measures reading tokenizer.json.
func BenchmarkLoad(b *testing.B) {
	dir := os.Getenv("MLXK_TOKENIZER_DIR")
	if dir == "" {
		b.Skip("set MLXK_TOKENIZER_DIR to a directory with tokenizer.json")
	}
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
