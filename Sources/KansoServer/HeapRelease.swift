/// When to hand the memory of closed connections back to the kernel: each connection's buffers
/// are freed into malloc's arenas (one per event-loop thread), which keep the pages; after a
/// flood of connections has gone, `malloc_trim` returns them, so that the daemon's resident memory
/// falls back to its idle level (the soak test checks it).
struct HeapRelease {
    /// The most connections open since the last release.
    private var peak = 0

    /// Whether to release now: when at least 128 connections, and half of the peak, have closed.
    mutating func shouldRelease(openConnections: Int) -> Bool {
        peak = max(peak, openConnections)
        guard peak - openConnections >= 128, openConnections <= peak / 2 else { return false }
        peak = openConnections
        return true
    }
}
