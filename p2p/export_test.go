package p2p

// KeepersForTest returns how many keepers (peering.go) the host runs: once it is started, one
// per allowed peer, each exiting when its peer leaves the allow-list.
func KeepersForTest(h *Host) int { return int(h.keepers.Load()) }
