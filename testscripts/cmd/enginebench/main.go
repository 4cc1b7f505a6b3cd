// Command enginebench generates the benchmark models of bench/engine.sh
// and times the Go engine on them:
//
//	enginebench gen  -shape qwen2.5-0.5b -out DIR   random MLX 4-bit g64 model
//	enginebench gguf -in DIR -out FILE.gguf          the same weights as GGUF q4_0
//	enginebench run  -dir DIR [-threads 2] ...       load, TTFT, prefill, decode, RSS (JSON)
//
// The models have the shapes of real ones (Qwen2.5-0.5B, Llama-3.2-1B)
// with random weights: speed depends on shapes and formats, not values.
// The GGUF twin is what llama.cpp runs beside us (bench/engine/llama.mjs).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = genMain(os.Args[2:])
	case "gguf":
		err = ggufMain(os.Args[2:])
	case "run":
		err = runMain(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: enginebench gen|gguf|run [flags] (see the package comment)")
	os.Exit(2)
}
