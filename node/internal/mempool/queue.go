package mempool

// queue is the arrival order of the held entries: an intrusive doubly linked list, so an
// entry is appended and unlinked in O(1) with no allocation of its own.
type queue struct {
	head, tail *entry
}

// push appends e, which must not be in a queue.
func (q *queue) push(e *entry) {
	e.prev, e.next = q.tail, nil
	if q.tail == nil {
		q.head = e
	} else {
		q.tail.next = e
	}
	q.tail = e
}

// unlink removes e, which must be in q.
func (q *queue) unlink(e *entry) {
	if e.prev == nil {
		q.head = e.next
	} else {
		e.prev.next = e.next
	}
	if e.next == nil {
		q.tail = e.prev
	} else {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
}
