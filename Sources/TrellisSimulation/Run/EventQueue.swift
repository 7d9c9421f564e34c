// EventQueue.swift — the simulator's clock: a bounded priority queue of events ordered by (time, sequence).
//
// Guarantee: events at the same simulated time run in the order they were scheduled (the sequence number breaks
// ties), so a run is a pure function of the seed. The queue refuses to grow past `capacity`.

/// A min-heap of timed items.
struct EventQueue<Item> {
    private struct Entry {
        let time: UInt64
        let sequence: UInt64
        let item: Item
        func precedes(_ other: Entry) -> Bool { (time, sequence) < (other.time, other.sequence) }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// Schedules `item` at `time`; returns false (and drops it) when the queue is full.
    mutating func push(_ item: Item, at time: UInt64) -> Bool {
        guard heap.count < capacity else { return false }
        heap.append(Entry(time: time, sequence: nextSequence, item: item))
        nextSequence += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        return true
    }

    /// Removes the earliest item.
    mutating func pop() -> (time: UInt64, item: Item)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].precedes(heap[m]) { m = l }
            if r < heap.count && heap[r].precedes(heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return (top.time, top.item)
    }
}
