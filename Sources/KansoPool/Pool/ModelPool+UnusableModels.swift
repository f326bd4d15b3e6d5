import KansoGGUF
import KansoWire

// Models whose file can never load as it is (the worker's ModelUnusable: not a GGUF file, an
// unsupported architecture or tensor type, a tensor missing). Retrying such a load five times
// with back-off only delays the answer, so the model is failed at once with the worker's own
// reason, its requests get ModelUnavailable with it, and it is tried again only when the file
// changes (another inode, size or modification time) or an administrator unloads it.
extension ModelPool {
    /// The file and the reason a model was marked unusable with.
    struct UnusableFile {
        let reason: String
        /// The file when its load failed (nil: it could not be read then).
        let identity: FileIdentity?
    }

    /// A load failed in a way that recurs: failed at once, no retry, queued requests answered.
    func markUnusable(_ slot: ModelSlot, reason: String) {
        slot.unusable = UnusableFile(reason: reason, identity: FileIdentity(path: slot.id))
        let shown = Self.unusableReason(reason)
        logger.error("\(slot.name): \(shown)", metadata: ["model": .string(slot.id)])
        move(slot, to: .failed(reason: shown, retryAt: nil), reason: shown)
        failQueued(slot, with: .modelUnavailable(model: slot.name, reason: shown))
    }

    /// For a failed model marked unusable: true when its file is unchanged (its queued requests
    /// then get the reason at once); false, and the mark cleared, when the file has changed
    /// since, so that the next load tries the new file.
    func refusesUnusable(_ slot: ModelSlot) -> Bool {
        guard let unusable = slot.unusable else { return false }
        guard FileIdentity(path: slot.id) == unusable.identity else {
            slot.unusable = nil
            logger.notice("\(slot.name): the model file changed since it failed to load; loading it again",
                          metadata: ["model": .string(slot.id)])
            return false
        }
        if !slot.queue.isEmpty {
            let error = PoolError.modelUnavailable(model: slot.name, reason: Self.unusableReason(unusable.reason))
            for job in slot.queue.removeAll() { job.continuation.resume(throwing: error) }
        }
        return true
    }

    static func unusableReason(_ reason: String) -> String {
        "cannot load: \(reason) (not retried until the file changes or an administrator unloads it)"
    }
}
