// The byte strings of a vocabulary's tokens as one prefix tree, built once per tokenizer, laid
// out in depth-first order: node i's subtree is nodes i+1 ..< subtreeEnd[i]. Walking it with a
// grammar state checks each shared prefix once, and a rejected byte skips its whole subtree.
// Layout as in llguidance's token trie (our own code).

struct TokenTrie: Sendable {
    // [nodeCount]; node 0 is the root (the empty prefix), with depth 0.
    private(set) var bytes: [UInt8] = []
    private(set) var depths: [UInt16] = []
    private(set) var subtreeEnds: [Int32] = []
    /// Tokens ending at node i: tokenIDs[tokenStarts[i] ..< tokenStarts[i + 1]]. [nodeCount + 1]
    private(set) var tokenStarts: [Int32] = []
    private(set) var tokenIDs: [Int32] = []
    private(set) var maximumDepth = 0

    var nodeCount: Int { bytes.count }

    /// `pieces[i]` is (token id, its bytes); tokens with no bytes are left out.
    init(pieces: [(token: Int32, bytes: [UInt8])]) {
        let sorted = pieces.filter { !$0.bytes.isEmpty }.sorted { left, right in
            left.bytes.lexicographicallyPrecedes(right.bytes) || (left.bytes == right.bytes && left.token < right.token)
        }
        // Sorted strings visited in order give the depth-first order of the trie: each string adds
        // the nodes of its suffix beyond the prefix it shares with the previous one.
        var path: [Int32] = [0]  // node index at each depth of the current string
        bytes.append(0)
        depths.append(0)
        subtreeEnds.append(0)
        var tokensAtNode: [[Int32]] = [[]]
        var previous: [UInt8] = []
        for piece in sorted {
            var shared = 0
            while shared < previous.count && shared < piece.bytes.count && previous[shared] == piece.bytes[shared] { shared += 1 }
            // Nodes deeper than the shared prefix are finished: their subtrees end here.
            while path.count > shared + 1 {
                subtreeEnds[Int(path.removeLast())] = Int32(bytes.count)
            }
            for depth in shared..<piece.bytes.count {
                bytes.append(piece.bytes[depth])
                depths.append(UInt16(min(depth + 1, Int(UInt16.max))))
                subtreeEnds.append(0)
                tokensAtNode.append([])
                path.append(Int32(bytes.count - 1))
            }
            tokensAtNode[Int(path.last!)].append(piece.token)
            maximumDepth = max(maximumDepth, piece.bytes.count)
            previous = piece.bytes
        }
        while let node = path.popLast() { subtreeEnds[Int(node)] = Int32(bytes.count) }
        tokenStarts.reserveCapacity(bytes.count + 1)
        for tokens in tokensAtNode {
            tokenStarts.append(Int32(tokenIDs.count))
            tokenIDs.append(contentsOf: tokens)
        }
        tokenStarts.append(Int32(tokenIDs.count))
    }

    /// Calls `visit` on every node of the subtree of `start`'s children in depth-first order with
    /// the parent's result; when it returns nil the node's subtree is skipped. `State` is what a
    /// walker carries per depth (a grammar state).
    @inline(__always)
    func walk<State>(from root: State, _ step: (State, UInt8) -> State?, accept: (Int32) -> Void) {
        var stack: [State] = [root]
        stack.reserveCapacity(maximumDepth + 1)
        var node = 1
        let count = bytes.count
        while node < count {
            let depth = Int(depths[node])
            // The parent of a node at depth d is the last node seen at depth d - 1.
            if stack.count > depth { stack.removeSubrange(depth...) }
            if let next = step(stack[depth - 1], bytes[node]) {
                stack.append(next)
                for index in Int(tokenStarts[node])..<Int(tokenStarts[node + 1]) { accept(tokenIDs[index]) }
                node += 1
            } else {
                node = Int(subtreeEnds[node])
            }
        }
    }
}
