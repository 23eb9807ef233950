package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

const (
	passphrase   = "correct horse battery staple"
	cmdTimeout   = 60 * time.Second // one CLI run, --wait included
	startTimeout = 30 * time.Second // loyald start until it prints its API URL
	stopTimeout  = 30 * time.Second // SIGTERM until loyald exits
	logTail      = 60               // node log lines shown with a failure
)

// world is one test's coalition: its directories, the wallet keys by name and the node.
// Its methods take the calling test's t, so subtests can share one world.
type world struct {
	home     string // HOME of every process: nothing reaches the real one
	keystore string
	passFile string
	nodeHome string
	addr     map[string]chain.Address // key name → address
	env      []string                 // added to every process's environment

	log     *lineLog // every run of loyald, stdout and stderr
	node    *nodeProc
	cleanup func(func())   // the top-level test's Cleanup: processes outlive subtests
	client  *wallet.Client // the running node's API, for what the CLI has no command for
	http    *http.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{
		home:     filepath.Join(root, "home"),
		keystore: filepath.Join(root, "keystore"),
		passFile: filepath.Join(root, "passphrase"),
		nodeHome: filepath.Join(root, "loyald"),
		addr:     map[string]chain.Address{},
		log:      &lineLog{},
		cleanup:  t.Cleanup,
		http:     &http.Client{Timeout: cmdTimeout},
	}
	if err := os.Mkdir(w.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.passFile, []byte(passphrase+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// environ is the environment of every process run: the test's own, minus whatever could
// point the tools at another keystore, node or home, and with HOME set to the world's.
func (w *world) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LOYAL") || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "HOME="+w.home), w.env...)
}

// fatalf fails t with the node's log tail appended.
func (w *world) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf(format+"\n--- loyald log (last %d lines)\n%s", append(args, logTail, w.log.tail(logTail))...)
}

// result is one finished run of a binary.
type result struct {
	argv   []string
	code   int
	stdout string
	stderr string
	err    error // the binary could not be started, or was stopped for taking too long
}

// String shows the command line, the exit status and both outputs, for failure messages.
func (r result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", quoteArgs(r.argv))
	if r.err != nil {
		fmt.Fprintf(&b, "run error: %v\n", r.err)
	}
	fmt.Fprintf(&b, "exit status %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
	return b.String()
}

func quoteArgs(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// run runs a binary to completion, bounded by cmdTimeout.
func (w *world) run(path string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = w.environ()
	cmd.Dir = w.home
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{argv: append([]string{filepath.Base(path)}, args...), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		r.code = exit.ExitCode()
	default:
		r.code, r.err = -1, err
	}
	return r
}

// loyal runs the wallet CLI with the world's keystore, passphrase file, light KDF and (once
// the node runs) node URL, all given explicitly.
func (w *world) loyal(args ...string) result {
	global := []string{"--keystore", w.keystore, "--passphrase-file", w.passFile, "--light-kdf", "--timeout", "45s"}
	if w.node != nil && w.node.url != "" {
		global = append(global, "--node", w.node.url)
	}
	return w.run(bin.loyal, append(global, args...)...)
}

// ok runs the CLI and fails t unless it exits 0 with nothing on stderr.
func (w *world) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := w.loyal(args...)
	if r.code != 0 || r.err != nil || r.stderr != "" {
		w.fatalf(t, "command failed:\n%s", r)
	}
	return r
}

// okJSON runs the CLI with --json and decodes its output strictly into v.
func (w *world) okJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	r := w.ok(t, append(args, "--json")...)
	if err := decodeStrict([]byte(r.stdout), v); err != nil {
		w.fatalf(t, "decoding the --json output into %T: %v\n%s", v, err, r)
	}
}

// fails checks the CLI's error contract: exit status 1, nothing on stdout, and exactly one
// line "loyal: ..." on stderr that contains want (the API's stable error code).
func (w *world) fails(t *testing.T, want string, args ...string) {
	t.Helper()
	r := w.loyal(args...)
	if r.code != 1 || r.err != nil || r.stdout != "" ||
		strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "loyal: ") || !strings.Contains(r.stderr, want) {
		w.fatalf(t, "want exit status 1 and one stderr line \"loyal: ...%s...\", got:\n%s", want, r)
	}
}

// parallel runs several CLI commands at once (transactions from different senders, so that
// they share a block) and returns their results in order. It does not judge them.
func (w *world) parallel(cmds ...[]string) []result {
	out := make([]result, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Go(func() { out[i] = w.loyal(c...) })
	}
	wg.Wait()
	return out
}

// decodeStrict decodes one JSON document, refusing unknown fields and trailing data, so a
// field the node adds or renames shows up here.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// newKey creates a named key with `loyal key new` and remembers its address.
func (w *world) newKey(t *testing.T, name string) chain.Address {
	t.Helper()
	var k struct {
		Name    string        `json:"name"`
		Address chain.Address `json:"address"`
		File    string        `json:"file"`
	}
	w.okJSON(t, &k, "key", "new", name)
	if k.Name != name || k.Address == (chain.Address{}) || !strings.HasPrefix(k.File, w.keystore) {
		w.fatalf(t, "key new %s printed %+v", name, k)
	}
	w.addr[name] = k.Address
	return k.Address
}

// --- the node process ---

// nodeProc is one run of `loyald start`.
type nodeProc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the process has exited and its output is drained
	err  error         // cmd.Wait's error, valid after done
}

func (p *nodeProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the process with SIGKILL if it still runs and waits for it; for cleanups.
func (p *nodeProc) kill() {
	if !p.exited() {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// startNode runs `loyald start --home H`, reads its output until it prints the API URL
// (the config listens on port 0) and keeps collecting the output in w.log.
func (w *world) startNode(t *testing.T) {
	t.Helper()
	w.startNodeWith(t, "start", "--home", w.nodeHome)
}

// startNodeWith is startNode running loyald with args, which must start the node of w.nodeHome.
func (w *world) startNodeWith(t *testing.T, args ...string) {
	t.Helper()
	if w.node != nil && !w.node.exited() {
		w.fatalf(t, "startNode: loyald already runs")
	}
	urls := make(chan string, 1)
	w.log.begin("=== e2e: loyald "+quoteArgs(args), func(line string) {
		if u, ok := strings.CutPrefix(line, "loyald: API on "); ok {
			select {
			case urls <- strings.TrimSpace(u):
			default:
			}
		}
	})
	cmd := exec.Command(bin.loyald, args...)
	cmd.Env = w.environ()
	cmd.Dir = w.home
	cmd.Stdout, cmd.Stderr = w.log, w.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting loyald: %v", err)
	}
	p := &nodeProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	w.cleanup(p.kill) // no process outlives the test, whatever happens
	w.node = p
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case p.url = <-urls:
	case <-p.done:
		w.fatalf(t, "loyald exited before serving its API: %v", p.err)
	case <-timer.C:
		w.fatalf(t, "loyald did not print \"loyald: API on URL\" within %v", startTimeout)
	}
	w.client = &wallet.Client{BaseURL: p.url, HTTP: w.http}
}

// crashNode sends SIGKILL to the node and waits until it is gone.
func (w *world) crashNode(t *testing.T) {
	t.Helper()
	p := w.node
	if err := p.cmd.Process.Kill(); err != nil {
		w.fatalf(t, "SIGKILL: %v", err)
	}
	<-p.done
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) {
		w.fatalf(t, "loyald after SIGKILL: %v, want killed by a signal", p.err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && (!ws.Signaled() || ws.Signal() != syscall.SIGKILL) {
		w.fatalf(t, "loyald after SIGKILL: %v, want killed by SIGKILL", p.err)
	}
	w.log.begin("=== e2e: loyald killed with SIGKILL", nil)
}

// stopNode sends SIGTERM and requires a clean exit with status 0.
func (w *world) stopNode(t *testing.T) {
	t.Helper()
	p := w.node
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		w.fatalf(t, "SIGTERM: %v", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		w.fatalf(t, "loyald did not exit within %v of SIGTERM", stopTimeout)
	}
	if p.err != nil {
		w.fatalf(t, "loyald after SIGTERM: %v, want exit status 0", p.err)
	}
}

// lineLog collects a process's output by lines and shows its tail on failure. Safe for
// concurrent use.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	onLine  func(string) // called for each complete line, with mu held
}

// begin marks the start of a new run in the log and sets the line callback.
func (l *lineLog) begin(marker string, onLine func(string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.lines = append(l.lines, string(l.partial))
		l.partial = nil
	}
	l.lines = append(l.lines, marker)
	l.onLine = onLine
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		l.lines = append(l.lines, line)
		if l.onLine != nil {
			l.onLine(line)
		}
	}
	return len(p), nil
}

func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines[max(0, len(l.lines)-n):]
	s := strings.Join(lines, "\n")
	if len(l.partial) > 0 {
		s += "\n" + string(l.partial)
	}
	return s + "\n"
}

// --- the merchant endpoints, as a shop back end calls them ---

// answer is one HTTP answer of the node.
type answer struct {
	req    string // "POST URL body", for failure messages
	status int
	body   []byte
}

func (a answer) String() string {
	return fmt.Sprintf("%s\n→ %d %s", a.req, a.status, bytes.TrimSpace(a.body))
}

// token is the merchant endpoints' bearer token, as `loyald init` wrote it.
func (w *world) token(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.nodeHome, "api.token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// post sends body to a merchant endpoint (path like "/v1/merchant/earn?wait=10s") with the
// bearer token. It fails t only if the request cannot be made at all.
func (w *world) post(t *testing.T, token, path, body string) answer {
	t.Helper()
	a, err := postMerchant(context.Background(), w.http, w.node.url, token, path, body)
	if err != nil {
		w.fatalf(t, "%s: %v", a.req, err)
	}
	return a
}

func postMerchant(ctx context.Context, hc *http.Client, base, token, path, body string) (answer, error) {
	a := answer{req: "POST " + base + path + " " + body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		return a, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	a.body, err = io.ReadAll(resp.Body)
	return a, err
}

// submitted decodes a merchant endpoint's answer, which must have the given HTTP status.
func (w *world) submitted(t *testing.T, a answer, status int) api.Submitted {
	t.Helper()
	var s api.Submitted
	if a.status != status {
		w.fatalf(t, "want HTTP %d:\n%s", status, a)
	}
	if err := decodeStrict(a.body, &s); err != nil {
		w.fatalf(t, "decoding the answer: %v\n%s", err, a)
	}
	return s
}

// apiError decodes an error answer, which must have the given HTTP status and code.
func (w *world) apiError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	var e api.ErrorBody
	if err := decodeStrict(a.body, &e); a.status != status || err != nil || e.Error.Code != code || e.Error.Message == "" {
		w.fatalf(t, "want HTTP %d with error code %q:\n%s", status, code, a)
	}
}
