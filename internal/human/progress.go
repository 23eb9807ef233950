package human

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress shows a long job's progress on w (standard error): on a terminal a bar with the
// rate and the time left, otherwise one plain line per interval, for logs. Total is in units
// (bytes of an export, or blocks); detail says what the units stand for so far.
type Progress struct {
	w        io.Writer
	bar      *progressbar.ProgressBar // nil: plain lines
	total    int64
	start    time.Time
	lastLine time.Time
	every    time.Duration
}

// NewProgress starts showing progress towards total units. bytes says the units are bytes
// (shown as sizes); terminal says w is a terminal.
func NewProgress(w io.Writer, description string, total int64, bytes, terminal bool) *Progress {
	now := time.Now()
	p := &Progress{w: w, total: total, start: now, lastLine: now, every: 10 * time.Second} // a short job prints no line
	if terminal {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(description),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(100 * time.Millisecond), progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(),
		}
		if bytes {
			opts = append(opts, progressbar.OptionShowBytes(true))
		}
		p.bar = progressbar.NewOptions64(total, opts...)
	}
	return p
}

// Set reports done units; detail (e.g. "height 1200, 340,000 txs") goes into the plain
// lines and the bar's description.
func (p *Progress) Set(done int64, detail string) {
	if p.bar != nil {
		p.bar.Describe(detail)
		_ = p.bar.Set64(done)
		return
	}
	now := time.Now()
	if now.Sub(p.lastLine) < p.every {
		return
	}
	p.lastLine = now
	elapsed := now.Sub(p.start)
	line := fmt.Sprintf("%s, %s elapsed", detail, elapsed.Round(time.Second))
	if done > 0 && p.total > 0 {
		left := time.Duration(float64(elapsed) * float64(p.total-done) / float64(done))
		line += fmt.Sprintf(", %d%%, about %s left", done*100/p.total, left.Round(time.Second))
	}
	fmt.Fprintln(p.w, line)
}

// Finish ends the display.
func (p *Progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
