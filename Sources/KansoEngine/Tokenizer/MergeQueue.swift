// A binary max-heap of merge candidates (adjacent symbol pairs), shared by the SentencePiece
// and BPE models. Ties are broken by the leftmost pair, as llama.cpp's comparators do, so
// equal-priority merges happen left to right.

protocol MergeCandidate {
    /// Index of the left symbol of the pair.
    var left: Int32 { get }
    /// Whether this candidate is merged before `other` (ignoring position).
    func precedes(_ other: Self) -> Bool
    func ties(_ other: Self) -> Bool
}

struct MergeQueue<Candidate: MergeCandidate> {
    private var heap: [Candidate] = []

    init(capacity: Int = 0) {
        heap.reserveCapacity(capacity)
    }

    var isEmpty: Bool { heap.isEmpty }

    mutating func removeAll() {
        heap.removeAll(keepingCapacity: true)
    }

    @inline(__always) private static func before(_ a: Candidate, _ b: Candidate) -> Bool {
        a.precedes(b) || (a.ties(b) && a.left < b.left)
    }

    mutating func push(_ candidate: Candidate) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let leftChild = 2 * parent + 1
                if leftChild >= count { break }
                var best = leftChild
                let rightChild = leftChild + 1
                if rightChild < count, Self.before(heap[rightChild], heap[leftChild]) { best = rightChild }
                guard Self.before(heap[best], heap[parent]) else { break }
                heap.swapAt(best, parent)
                parent = best
            }
        }
        return top
    }
}
