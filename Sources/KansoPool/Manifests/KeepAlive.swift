/// How long a model stays loaded after an agent's last request (manifest key `keep_alive`).
public enum KeepAlive: Sendable, Equatable, CustomStringConvertible {
    /// "0": unload as soon as the request is answered.
    case unloadAfterRequest
    /// A duration such as "90s", "5m", "1h30m", or a bare number of seconds.
    case seconds(Double)
    /// "forever": pinned; loaded at start and never evicted.
    case forever

    /// The default when a manifest says nothing: five minutes, as interactive tools expect.
    public static let standard = KeepAlive.seconds(300)

    /// Parses the manifest's text; nil when it is not one of the accepted forms.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace().lowercased()
        if trimmed == "forever" || trimmed == "-1" { self = .forever; return }
        if let number = Double(trimmed), number >= 0 {
            self = number == 0 ? .unloadAfterRequest : .seconds(number)
            return
        }
        // A sequence of <number><unit> with units h, m, s, ms.
        var total = 0.0
        var digits = ""
        var index = trimmed.startIndex
        var sawUnit = false
        while index < trimmed.endIndex {
            let character = trimmed[index]
            if character.isNumber || character == "." {
                digits.append(character)
                index = trimmed.index(after: index)
                continue
            }
            guard let value = Double(digits) else { return nil }
            let rest = trimmed[index...]
            let unit: Double
            if rest.hasPrefix("ms") { unit = 0.001; index = trimmed.index(index, offsetBy: 2) }
            else if character == "h" { unit = 3600; index = trimmed.index(after: index) }
            else if character == "m" { unit = 60; index = trimmed.index(after: index) }
            else if character == "s" { unit = 1; index = trimmed.index(after: index) }
            else { return nil }
            total += value * unit
            digits = ""
            sawUnit = true
        }
        guard sawUnit, digits.isEmpty else { return nil }
        self = total == 0 ? .unloadAfterRequest : .seconds(total)
    }

    public var description: String {
        switch self {
        case .unloadAfterRequest: return "0"
        case .forever: return "forever"
        case .seconds(let seconds):
            if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 {
                let minutes = Int(seconds / 60)
                return minutes % 60 == 0 ? "\(minutes / 60)h" : "\(minutes)m"
            }
            return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
        }
    }

    /// Pinned models are preloaded and never evicted.
    public var isPinned: Bool { self == .forever }
}

import Glibc
