package runcmd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/mlxk/mlxk/shared/chattemplate"
	"github.com/mlxk/mlxk/shared/textgen"
)

const chatHelp = `Commands:
  /clear              forget the conversation
  /system [text]      set (or with no text, remove) the system prompt; clears the conversation
  /set <name> <value> change temperature, top-p, top-k, min-p, repetition-penalty, max-tokens or seed
  /exit               leave (also exit, quit, q, Ctrl-D)
`

// chat is the interactive mode: every turn sends the whole conversation
// through the chat template. Ctrl-C stops the answer being generated and
// returns to the prompt; Ctrl-D (end of input) leaves.
func (r *runner) chat(ctx context.Context) error {
	out := r.env.Stdout
	fmt.Fprint(out, "Starting interactive chat. Type 'exit' or 'quit' to end.\nType /help for commands.\n\n")
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r.env.Stdin)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var history []message
	for {
		fmt.Fprint(out, "You: ")
		line, ok, err := r.readLine(ctx, lines)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprint(out, "\nGoodbye!\n")
			return nil
		}
		text := strings.TrimSpace(line)
		switch low := strings.ToLower(text); {
		case text == "":
			continue
		case low == "exit" || low == "quit" || low == "q" || low == "/exit" || low == "/bye" || low == "/quit":
			fmt.Fprint(out, "\nGoodbye!\n")
			return nil
		case low == "/help" || low == "/?":
			fmt.Fprint(out, chatHelp)
			continue
		case low == "/clear":
			history = nil
			fmt.Fprint(out, "Conversation cleared.\n\n")
			continue
		case low == "/system" || strings.HasPrefix(low, "/system "):
			r.o.system = strings.TrimSpace(text[len("/system"):])
			history = nil
			if r.o.system == "" {
				fmt.Fprint(out, "System prompt removed; conversation cleared.\n\n")
			} else {
				fmt.Fprint(out, "System prompt set; conversation cleared.\n\n")
			}
			continue
		case strings.HasPrefix(low, "/set"):
			if err := r.set(strings.Fields(text)[1:]); err != nil {
				fmt.Fprintf(r.env.Stderr, "[ERROR] %v\n", err)
			}
			continue
		case strings.HasPrefix(text, "/"):
			fmt.Fprintf(r.env.Stderr, "[ERROR] unknown command %s; /help lists them\n", strings.Fields(text)[0])
			continue
		}
		msgs := messages(r.o.system, history, text)
		var p textgen.Prompt
		if r.o.noChatTemplate {
			s, err := chattemplate.Plain(msgs)
			if err != nil {
				fmt.Fprintf(r.env.Stderr, "\n[ERROR] %v\n", err)
				continue
			}
			p = textgen.Raw(s)
		} else if p, err = r.m.Chat(msgs, textgen.ChatOptions{}); err != nil {
			fmt.Fprintf(r.env.Stderr, "\n[ERROR] %v\n", err)
			continue
		}
		fmt.Fprint(out, "\nAssistant: ")
		t, err := r.generate(ctx, p, !r.o.noStream)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(r.env.Stderr, "\n[ERROR] %v\n", err)
			continue
		}
		if r.o.noStream {
			fmt.Fprint(out, r.batchText(t))
		}
		if t.interrupted {
			fmt.Fprint(out, "\n[Generation interrupted by user]")
		}
		fmt.Fprint(out, "\n\n")
		if r.o.verbose {
			r.printStats(t)
		}
		history = append(history, message{Role: "user", Content: text},
			message{Role: "assistant", Content: strings.TrimSpace(t.answer.String())})
	}
}

// readLine waits for the next input line. Ctrl-C at the prompt does not
// end the chat; it says how to leave.
func (r *runner) readLine(ctx context.Context, lines <-chan string) (string, bool, error) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	for {
		select {
		case l, ok := <-lines:
			return l, ok, nil
		case <-sig:
			fmt.Fprint(r.env.Stdout, "\n(Use /exit or Ctrl-D to leave.)\nYou: ")
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
}

// set changes a generation setting between turns.
func (r *runner) set(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: /set <name> <value>")
	}
	name, val := strings.ReplaceAll(strings.ToLower(args[0]), "_", "-"), args[1]
	f, ferr := strconv.ParseFloat(val, 32)
	n, nerr := strconv.Atoi(val)
	p := r.o.params
	switch {
	case name == "temperature" && ferr == nil:
		p.Temperature = float32(f)
	case name == "top-p" && ferr == nil:
		p.TopP = float32(f)
	case name == "min-p" && ferr == nil:
		p.MinP = float32(f)
	case name == "repetition-penalty" && ferr == nil:
		p.RepetitionPenalty = float32(f)
	case name == "top-k" && nerr == nil:
		p.TopK = n
	case name == "seed" && nerr == nil && n >= 0:
		s := uint64(n)
		p.Seed = &s
	case name == "max-tokens" && nerr == nil && n >= 0:
		r.o.maxTokens = n
		fmt.Fprintf(r.env.Stdout, "max-tokens = %d\n\n", n)
		return nil
	default:
		return fmt.Errorf("cannot set %s to %q", args[0], val)
	}
	if err := validParams(p); err != nil {
		return err
	}
	r.o.params = p
	fmt.Fprintf(r.env.Stdout, "%s = %s\n\n", name, val)
	return nil
}
