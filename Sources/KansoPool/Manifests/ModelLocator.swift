import Foundation

/// Finds an agent's model file (DESIGN.md, Agents): an absolute path as it is; a path with a
/// folder relative to the manifest; a bare file name beside the manifest, then on each folder of
/// the model search path in order. A miss lists every place searched, for `Status`.
public struct ModelLocator: Sendable {
    public let searchPath: [String]

    public init(searchPath: [String]) {
        self.searchPath = searchPath
    }

    public enum Outcome: Sendable, Equatable {
        case found(path: String, bytes: Int)
        case missing(searched: [String])
    }

    public func locate(_ model: String, manifestDirectory: String) -> Outcome {
        let candidates: [String]
        if model.hasPrefix("/") {
            candidates = [model]
        } else if model.contains("/") {
            candidates = [(manifestDirectory as NSString).appendingPathComponent(model)]
        } else {
            candidates = ([manifestDirectory] + searchPath).map { ($0 as NSString).appendingPathComponent(model) }
        }
        for candidate in candidates {
            let path = (candidate as NSString).standardizingPath
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
               let attributes = try? FileManager.default.attributesOfItem(atPath: path),
               let size = attributes[.size] as? NSNumber {
                return .found(path: path, bytes: size.intValue)
            }
        }
        return .missing(searched: candidates.map { ($0 as NSString).standardizingPath })
    }
}
