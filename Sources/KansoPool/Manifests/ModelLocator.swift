import SystemPackage
import Glibc

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
            candidates = [FilePath(manifestDirectory).appending(model).lexicallyNormalized().string]
        } else {
            candidates = ([manifestDirectory] + searchPath).map { FilePath($0).appending(model).lexicallyNormalized().string }
        }
        for path in candidates {
            var status = stat()
            if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG {
                return .found(path: path, bytes: Int(status.st_size))
            }
        }
        return .missing(searched: candidates)
    }
}
