// Package p2p is Loyal's network layer: a libp2p host whose identity is the validator's
// consensus key, admitting only an allow-list of peers, and three versioned protocols whose
// payloads are opaque bytes to this package (the node encodes, decodes and validates them):
//
//   - ConsensusProtocol (/loyal/consensus/1.0.0): one-way consensus messages.
//   - TxsProtocol (/loyal/txs/1.0.0): one-way transaction gossip, a batch per message.
//   - SyncProtocol (/loyal/sync/1.0.0): block sync, one request and one response per stream.
//
// # Identity and admission
//
// A peer id is derived from a secp256k1 public key, and the Noise handshake proves that the
// peer holds the key, so a connected peer's id proves which validator (chain address)
// speaks: see PeerIDOf, ValidatorPeerID and AddressOf. The host admits only the peers on its
// allow-list (checked before dialing and after the handshake, both directions), and only over
// TCP with Noise and yamux. libp2p's resource manager runs with fixed limits
// (ResourceLimits).
//
// The allow-list has two parts: Config.Observers, always allowed, and a dynamic part, the
// validator set in force and the observers the node adds to it. The dynamic part starts as
// Config.Validators and follows the chain: when a block changes the validator set, the node
// calls SetAllowed with the new set at once, so that a joining validator is admitted, dialed and
// kept connected before it must vote, and a leaving one is disconnected and refused from then
// on. A validator whose consensus key was rotated can be kept as an observer under its old
// key, to follow the chain read-only, while its new key is admitted as a validator. Peers
// that stay keep their connections and their standing (violations, bans, blocks); a removed
// peer's queued and in-flight messages are dropped. SetAllowed is safe to call at any time,
// concurrently with everything else: each allow-list is immutable, and a change swaps in a
// whole new one.
//
// # Wire
//
// Every message is a frame: a uvarint length, then that many bytes. Each protocol has a size
// limit; a frame above it, a malformed length, or a frame that stalls resets the stream and
// counts as a violation of the peer, as do messages over the peer's per-protocol rate
// (dropped) and content the node reports with Penalize. A peer that spends its violation
// budget is disconnected and banned for a while. Every read has a deadline.
//
// A one-way message is queued per peer and protocol and written on a long-lived stream; the
// queue is bounded and drops rather than blocking the caller, so delivery is best effort
// (see Send). The node's consensus and mempool must tolerate loss and duplicates, as they
// must anyway.
//
// # Usage
//
//	h, err := p2p.New(p2p.Config{
//		Key:         consensusKey, // *ecdsa.PrivateKey from the keystore
//		ListenAddrs: []string{"/ip4/0.0.0.0/tcp/8646"},
//		Validators:  rules.Validators, // ledger.RulesAt(next height); allowed, multiaddrs dialed
//		Observers:   cfg.Observers,
//		Logger:      logger,
//	})
//	if err != nil { ... }
//	defer h.Close()
//	h.Handle(p2p.ConsensusProtocol, func(from peer.ID, addr chain.Address, msg []byte) {
//		ev, err := decodeConsensus(msg)
//		if err != nil {
//			h.Penalize(from, err.Error())
//			return
//		}
//		events <- ev // hand over to the consensus goroutine; do not block long here
//	})
//	h.Handle(p2p.TxsProtocol, onTxBatch)
//	h.HandleRequests(func(ctx context.Context, from peer.ID, addr chain.Address, req []byte) ([]byte, error) {
//		return serveBlocks(ctx, req)
//	})
//	if err := h.Start(); err != nil { ... } // dials the validators, keeps them connected
//
//	// After committing a block that changes the validator set (rules: the new set in force):
//	if err := h.SetAllowed(rules.Validators, retiredKeys); err != nil { ... }
//
//	h.Broadcast(ctx, p2p.ConsensusProtocol, vote) // to every connected allowed peer
//	h.Send(ctx, proposerID, p2p.TxsProtocol, batch)
//	resp, err := h.Request(ctx, peerID, syncReq)
//
// Handlers run on the reading goroutine of the stream the message came on; Close waits for
// them, so they must not call Close.
//
// # Discovery
//
// The host dials the validators' multiaddrs (Config.Validators', then SetAllowed's) and
// Config.Bootstrap, and keeps those peers connected with backoff. AddAddrs feeds it addresses found otherwise. With Config.MDNS
// it also finds peers on the LAN with multicast DNS (mdns.go, after libp2p's mDNS spec, on
// github.com/hashicorp/mdns): it advertises its addresses as DNS-SD TXT records
// "dnsaddr=<multiaddr>/p2p/<id>" under Config.MDNSService and queries that service every
// Config.MDNSInterval. Answers are untrusted: malformed records are skipped, reading is
// bounded, only allowed peers' IP + TCP addresses are kept, and only for a few query periods
// unless announced again. mDNS uses the machine's default multicast interface; without one
// the host logs a warning and runs without discovery. With mDNS on, Close may wait up to a
// second for a query in flight.
package p2p
