package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the node's Prometheus metrics, on a registry of its own (two nodes in one
// process, as in tests, do not collide).
type Metrics struct {
	Registry     *prometheus.Registry
	Height       prometheus.Gauge
	CommittedTxs prometheus.Counter
	Blocks       prometheus.Counter
	MempoolTxs   prometheus.Gauge
	MempoolBytes prometheus.Gauge
	MempoolFull  prometheus.Counter
	QueuedTxs    prometheus.Gauge
	Rejected     *prometheus.CounterVec
	BlockApply   prometheus.Histogram
	Round        prometheus.Gauge
	Proposals    *prometheus.CounterVec
	PeerDrops    *prometheus.CounterVec
	APILatency   *prometheus.HistogramVec
}

// NewMetrics registers the node's metrics and the Go runtime's on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Height: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "loyal", Name: "height", Help: "Height of the last committed block.",
		}),
		CommittedTxs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "loyal", Name: "committed_txs_total", Help: "Transactions committed since the node started.",
		}),
		Blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "loyal", Name: "blocks_total", Help: "Blocks committed since the node started.",
		}),
		MempoolTxs: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "loyal", Subsystem: "mempool", Name: "txs", Help: "Transactions waiting in the mempool.",
		}),
		MempoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "loyal", Subsystem: "mempool", Name: "bytes", Help: "Bytes of the transactions waiting in the mempool.",
		}),
		MempoolFull: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "loyal", Subsystem: "mempool", Name: "full_total", Help: "Transactions refused because the mempool (or its share for queued transactions) was full.",
		}),
		QueuedTxs: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "loyal", Subsystem: "mempool", Name: "queued_txs", Help: "Transactions in the mempool that cannot run yet (a nonce before theirs is missing).",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "loyal", Name: "rejected_txs_total", Help: "Transactions refused by the mempool or dropped from a block, by error code.",
		}, []string{"code"}),
		BlockApply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "loyal", Name: "block_commit_seconds", Help: "Time to build, execute and durably commit a block.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		Round: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "loyal", Subsystem: "consensus", Name: "round",
			Help: "Consensus round of the height being decided; above 0 means rounds failed (a proposer down, a partition).",
		}),
		Proposals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "loyal", Subsystem: "consensus", Name: "proposals_total",
			Help: "Peers' proposals of the current height checked, by result: valid, invalid (its block failed), conflicting (a second block for a round: kept as evidence, not checked).",
		}, []string{"result"}),
		PeerDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "loyal", Subsystem: "consensus", Name: "dropped_messages_total",
			Help: "Peers' consensus messages dropped and their peer penalised, by reason: malformed, not_proposer and not_signer (dropped before any signature work), bad_signature.",
		}, []string{"reason"}),
		APILatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "loyal", Subsystem: "api", Name: "request_duration_seconds", Help: "HTTP API request latency by route and status class.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route", "code"}),
	}
	m.Registry.MustRegister(m.Height, m.CommittedTxs, m.Blocks, m.MempoolTxs, m.MempoolBytes, m.MempoolFull, m.QueuedTxs, m.Rejected, m.BlockApply, m.Round, m.Proposals, m.PeerDrops, m.APILatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
