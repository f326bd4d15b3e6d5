import Foundation

/// The targets `Package.swift` declares, read from its text (the test cannot run SwiftPM while
/// SwiftPM runs it): each target's name, kind, source folder and project dependencies.
struct PackageManifest {
    struct Target {
        enum Kind: String { case target, executableTarget, testTarget, systemLibrary }
        var name: String
        var kind: Kind
        /// Folder of its sources, relative to the package root.
        var path: String
        /// Targets of this package it depends on (products of other packages left out).
        var dependencies: [String]
    }

    let root: URL
    let targets: [Target]

    /// The package that holds this file.
    static let here: PackageManifest = {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return PackageManifest(root: root)
    }()

    init(root: URL) {
        self.root = root
        let text = (try? String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)) ?? ""
        var targets: [Target] = []
        for kind in [Target.Kind.target, .executableTarget, .testTarget, .systemLibrary] {
            var rest = Substring(text)
            while let start = rest.range(of: ".\(kind.rawValue)(") {
                let body = Self.balanced(rest[start.upperBound...])
                rest = rest[body.endIndex...]
                guard let name = Self.stringArgument("name", in: body) else { continue }
                let folder = kind == .testTarget ? "Tests" : "Sources"
                // `+ kernelTargetNames`: the engine's kernel targets, one per instruction set (the
                // x86 ones declared only on x86-64), listed in Package.swift by that name.
                let kernels = body.contains("+ kernelTargetNames") ? Self.kernelTargetNames : []
                targets.append(Target(name: name, kind: kind, path: Self.stringArgument("path", in: body) ?? "\(folder)/\(name)",
                                      dependencies: Self.dependencies(in: body) + kernels))
            }
        }
        self.targets = targets
    }

    func target(_ name: String) -> Target? { targets.first { $0.name == name } }

    /// `name` and every target it depends on, directly or not.
    func closure(of name: String) -> Set<String> {
        var seen: Set<String> = [], pending = [name]
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            pending += target(next)?.dependencies ?? []
        }
        return seen
    }

    /// Every `.swift` file under the target's folder, relative to the package root.
    func sourceFiles(of target: Target) -> [String] {
        let folder = root.appendingPathComponent(target.path)
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
            .map { String($0.path.dropFirst(root.path.count + 1)) }.sorted()
    }

    /// The modules a Swift file imports (`import X`, `@testable import X`, `import struct X.Y`).
    func imports(of file: String) -> [String] {
        let text = (try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            var words = line.split(separator: " ").map(String.init).drop { $0.hasPrefix("@") }
            guard words.first == "import" else { return nil }
            words = words.dropFirst()
            if let kind = words.first, ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(kind) {
                words = words.dropFirst()
            }
            return words.first.map { String($0.split(separator: ".")[0]) }
        }
    }

    /// The text inside the parentheses that open just before `text`.
    private static func balanced(_ text: Substring) -> Substring {
        var depth = 1
        var index = text.startIndex
        while index < text.endIndex {
            switch text[index] {
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth == 0 { return text[text.startIndex..<index] }
            default: break
            }
            index = text.index(after: index)
        }
        return text
    }

    private static func stringArgument(_ label: String, in body: Substring) -> String? {
        guard let range = body.range(of: "\(label): \"") else { return nil }
        let value = body[range.upperBound...]
        return value.firstIndex(of: "\"").map { String(value[..<$0]) }
    }

    /// The plain string entries of `dependencies: [...]` (a `.product(...)` is another package's).
    /// What `kernelTargetNames` in Package.swift stands for on x86-64.
    static let kernelTargetNames = ["KansoKernelCore", "KansoKernelsPortable", "KansoKernelsAVX2", "KansoKernelsAVX512"]

    private static func dependencies(in body: Substring) -> [String] {
        guard let range = body.range(of: "dependencies: [") else { return [] }
        var list = body[range.upperBound...]
        if let end = list.firstIndex(of: "]") { list = list[..<end] }
        var names: [String] = []
        var inProduct = 0
        var index = list.startIndex
        while index < list.endIndex {
            if list[index...].hasPrefix(".product(") { inProduct += 1 }
            if list[index] == ")" && inProduct > 0 { inProduct -= 1 }
            if list[index] == "\"" {
                let start = list.index(after: index)
                guard let end = list[start...].firstIndex(of: "\"") else { break }
                if inProduct == 0 { names.append(String(list[start..<end])) }
                index = end
            }
            index = list.index(after: index)
        }
        return names
    }
}
