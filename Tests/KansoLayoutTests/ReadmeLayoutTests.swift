import Foundation
import Testing

/// README.md's "Layout" table names exactly the targets Package.swift builds from Sources/, so a
/// reader can find any room from the tree (and `swift package describe` agrees with both).
@Suite("Layout: README")
struct ReadmeLayoutTests {
    @Test("README's layout table lists every product target, and nothing else")
    func readmeListsTheTargets() throws {
        let package = PackageManifest.here
        let readme = try String(contentsOf: package.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Layout\n").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        let listed = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        }
        let built = package.targets.filter { $0.path.hasPrefix("Sources/") }.map(\.name)
        #expect(Set(listed) == Set(built), "README lists \(Set(listed).subtracting(built).sorted()) that are not built, and omits \(Set(built).subtracting(listed).sorted())")
        #expect(listed.count == Set(listed).count, "a target is listed twice")
    }
}
