package chain

import (
	"slices"
)

// Lot bookkeeping. A balance is a short list of lots sorted by (Expiry, Available). Points are
// spent oldest expiry first, keep their expiry when they move, and lots with the same keys
// merge — so the number of lots is bounded by the number of distinct expiry days, and when it
// would pass the network's limit the two earliest-expiring lots merge, taking the earlier
// expiry: a bound that can shorten a holder's expiry but never extends it.

func lotLess(a, b Lot) int {
	if a.Expiry != b.Expiry {
		if a.Expiry < b.Expiry {
			return -1
		}
		return 1
	}
	switch {
	case a.Available < b.Available:
		return -1
	case a.Available > b.Available:
		return 1
	}
	return 0
}

// expiresBy reports whether a lot has expired on day today: a point expires in the first
// block whose time is at or past the start of its expiry day.
func (l Lot) expiredOn(today Day) bool { return l.Expiry != NeverExpires && l.Expiry <= today }

// pendingOn reports whether a lot is still locked in its return window on day today.
func (l Lot) pendingOn(today Day) bool { return l.Available > today }

// normalize drops expired lots (already counted as expired by the program's schedule), marks
// matured lots available, merges equal lots and enforces the bound on available lots. It
// returns the amount dropped, for history, and the schedule moves of any merge.
func (b *Balance) normalize(today Day, maxLots int) (expired uint64, moves []expiryMove) {
	out := b.Lots[:0]
	for _, l := range b.Lots {
		if l.expiredOn(today) {
			expired += l.Amount
			continue
		}
		if !l.pendingOn(today) {
			l.Available = 0
		}
		out = append(out, l)
	}
	b.Lots = mergeLots(out)
	return expired, b.bound(maxLots)
}

func mergeLots(lots []Lot) []Lot {
	slices.SortStableFunc(lots, lotLess)
	out := lots[:0]
	for _, l := range lots {
		if n := len(out); n > 0 && lotLess(out[n-1], l) == 0 {
			out[n-1].Amount += l.Amount
			continue
		}
		out = append(out, l)
	}
	return out
}

// Available is the spendable amount on day today.
func (b *Balance) Available(today Day) uint64 {
	var sum uint64
	for _, l := range b.Lots {
		if !l.expiredOn(today) && !l.pendingOn(today) {
			sum += l.Amount
		}
	}
	return sum
}

// Pending is the amount still locked in return windows on day today.
func (b *Balance) Pending(today Day) uint64 {
	var sum uint64
	for _, l := range b.Lots {
		if !l.expiredOn(today) && l.pendingOn(today) {
			sum += l.Amount
		}
	}
	return sum
}

// Total is available plus pending on day today.
func (b *Balance) Total(today Day) uint64 { return b.Available(today) + b.Pending(today) }

// ExpiringBy is the amount that will expire on or before day (counted as of today).
func (b *Balance) ExpiringBy(today, day Day) uint64 {
	var sum uint64
	for _, l := range b.Lots {
		if !l.expiredOn(today) && l.Expiry != NeverExpires && l.Expiry <= day {
			sum += l.Amount
		}
	}
	return sum
}

// spend removes amount of available points, oldest expiry first, and returns the lots taken
// (with their expiries). The caller has checked Available(today) ≥ amount and normalized.
func (b *Balance) spend(amount uint64, today Day) []Lot {
	var taken []Lot
	out := b.Lots[:0]
	for _, l := range b.Lots {
		if amount > 0 && !l.pendingOn(today) {
			n := min(l.Amount, amount)
			taken = append(taken, Lot{Amount: n, Expiry: l.Expiry})
			amount -= n
			l.Amount -= n
			if l.Amount == 0 {
				continue
			}
		}
		out = append(out, l)
	}
	b.Lots = out
	return taken
}

// takePending removes up to amount from the still-pending lot with exactly an order's days
// and returns how much it took. Pending lots are never merged with other days (see add), so
// while an order's points are pending they are all in that lot.
func (b *Balance) takePending(amount uint64, expiry, available, today Day) uint64 {
	for i, l := range b.Lots {
		if l.Expiry == expiry && l.Available == available && l.pendingOn(today) {
			n := min(l.Amount, amount)
			b.Lots[i].Amount -= n
			if b.Lots[i].Amount == 0 {
				b.Lots = slices.Delete(b.Lots, i, i+1)
			}
			return n
		}
	}
	return 0
}

// add inserts a lot, merging with an equal one, then enforces the bound on lots. It returns
// the schedule moves of any merge.
func (b *Balance) add(l Lot, maxLots int) []expiryMove {
	i, found := slices.BinarySearchFunc(b.Lots, l, lotLess)
	if found {
		b.Lots[i].Amount += l.Amount
		return nil
	}
	b.Lots = slices.Insert(b.Lots, i, l)
	return b.bound(maxLots)
}

// bound keeps at most maxLots available lots by merging the two earliest-expiring ones into
// one with the earlier expiry. Only available lots count and merge: anyone can send an
// account available points (dust transfers), while pending lots come only from the program's
// own earns, one per earn day, and must stay separate so a reversal finds an order's points.
// It returns the amounts whose expiry moved, so the program's expiry schedule stays exact.
func (b *Balance) bound(maxLots int) (moves []expiryMove) {
	for {
		first, second, n := -1, -1, 0
		for i, l := range b.Lots {
			if l.Available != 0 {
				continue
			}
			n++
			switch {
			case first < 0:
				first = i
			case second < 0:
				second = i
			}
		}
		if maxLots <= 0 || n <= maxLots {
			return moves
		}
		a, c := b.Lots[first], b.Lots[second]
		if a.Expiry != c.Expiry {
			moves = append(moves, expiryMove{amount: c.Amount, from: c.Expiry, to: a.Expiry})
		}
		b.Lots[first].Amount += c.Amount
		b.Lots = slices.Delete(b.Lots, second, second+1)
	}
}

type expiryMove struct {
	amount   uint64
	from, to Day
}

// EarnedInWindow is the amount earned, net of reversals, within window days ending today
// (window 0 = lifetime): what tiers are measured on.
func (b *Balance) EarnedInWindow(today Day, window uint32) uint64 {
	if window == 0 {
		return b.Earned
	}
	var sum uint64
	for _, d := range b.EarnedDays {
		if inWindow(d.Day, today, window) {
			sum += d.Amount
		}
	}
	return sum
}

func inWindow(day, today Day, window uint32) bool {
	return uint64(day)+uint64(window) > uint64(today)
}

// recordEarn adds to the lifetime and windowed earned totals, dropping days past the window.
func (b *Balance) recordEarn(amount uint64, today Day, window uint32) {
	b.Earned += amount
	b.pruneEarnedDays(today, window)
	if window == 0 {
		return
	}
	if n := len(b.EarnedDays); n > 0 && b.EarnedDays[n-1].Day == today {
		b.EarnedDays[n-1].Amount += amount
		return
	}
	b.EarnedDays = append(b.EarnedDays, DayAmount{Day: today, Amount: amount})
}

// recordReversal lowers the earned totals by a reversal of an order earned on day.
func (b *Balance) recordReversal(amount uint64, day Day) {
	b.Earned -= min(b.Earned, amount)
	for i := range b.EarnedDays {
		if b.EarnedDays[i].Day == day {
			b.EarnedDays[i].Amount -= min(b.EarnedDays[i].Amount, amount)
			if b.EarnedDays[i].Amount == 0 {
				b.EarnedDays = slices.Delete(b.EarnedDays, i, i+1)
			}
			return
		}
	}
}

func (b *Balance) pruneEarnedDays(today Day, window uint32) {
	if window == 0 {
		b.EarnedDays = nil
		return
	}
	i := 0
	for i < len(b.EarnedDays) && !inWindow(b.EarnedDays[i].Day, today, window) {
		i++
	}
	b.EarnedDays = b.EarnedDays[i:]
	if len(b.EarnedDays) == 0 {
		b.EarnedDays = nil
	}
}

// Tier is the account's tier in a program with policy p, as of today.
func (b *Balance) Tier(p Policy, today Day) string {
	return TierOf(p, b.EarnedInWindow(today, p.TierWindowDays))
}

// TierOf returns the name of the highest tier whose threshold earned reaches, or "".
func TierOf(p Policy, earned uint64) string {
	name := ""
	for _, t := range p.Tiers {
		if earned >= t.Threshold {
			name = t.Name
		}
	}
	return name
}
