import Dispatch
import Glibc

/// POSIX signals as an async sequence: the handlers only enqueue, the supervisor acts.
enum SignalEvents {
    static func stream(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "kansod.signals")
            var sources: [DispatchSourceSignal] = []
            for number in signals {
                signal(number, SIG_IGN)  // the dispatch source receives it instead of the default action
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                sources.append(source)
            }
            let installed = sources
            continuation.onTermination = { _ in installed.forEach { $0.cancel() } }
        }
    }
}
