import Foundation
import Testing

/// The layout of DESIGN.md, enforced (as tailscale's depaware test does for its packages): from
/// Package.swift's dependencies and from every source file's `import` lines, a target may only
/// depend on targets below it, and the three promises of the layout hold: `kansoctl` never links
/// the engine, the supervisor (`KansoPool`) does not import it, and `KansoEngine` and
/// `KansoWire` import nothing of the project but leaves. A wrong import fails here, naming the
/// file.
@Suite("Layout: dependency direction")
struct DependencyDirectionTests {
    /// DESIGN.md's layout, top to bottom; a dependency may only point down. The last layer holds
    /// the leaves, which import nothing of the project.
    static let layers: [[String]] = [
        ["kansoctl"],
        ["kansod"],
        ["KansoServer"],
        ["KansoPool"],
        ["KansoWorker"],
        ["KansoSystemd"],
        ["KansoWire"],
        ["KansoEngine"],
        ["KansoKernelsAVX512", "KansoKernelsAVX2", "KansoKernelsPortable"],
        ["KansoKernelCore"],
        ["KansoChatTemplate", "KansoTOML", "KansoJSON", "KansoGGUF", "KansoConcurrency", "CKernelSupport", "CSystemd"],
    ]
    static let leaves = Set(layers.last!)
    static let layerOf: [String: Int] = Dictionary(uniqueKeysWithValues: layers.enumerated().flatMap { index, names in
        names.map { ($0, index) }
    })
    /// The engine and what only the worker process may link. (CKernelSupport is C headers only:
    /// the server uses its malloc_trim after a flood of connections.)
    static let engine: Set<String> = ["KansoEngine", "KansoWorker", "KansoKernelCore", "KansoKernelsPortable",
                                      "KansoKernelsAVX2", "KansoKernelsAVX512"]

    static let package = PackageManifest.here
    /// The product's targets: everything under Sources/ (tests and benchmarks may use any of them).
    static var productTargets: [PackageManifest.Target] {
        package.targets.filter { $0.path.hasPrefix("Sources/") }
    }

    @Test("every target under Sources/ has its place in the layout")
    func everyTargetIsPlaced() {
        let unplaced = Self.productTargets.map(\.name).filter { Self.layerOf[$0] == nil }
        #expect(unplaced.isEmpty, "not in DESIGN.md's layout (place them in DependencyDirectionTests.layers): \(unplaced)")
        #expect(Self.productTargets.count >= 12, "Package.swift was not read: \(Self.package.targets.map(\.name))")
    }

    @Test("Package.swift: every dependency points down the layout")
    func declaredDependenciesPointDown() {
        let violations = Self.productTargets.flatMap { target in
            target.dependencies.compactMap { Self.violation(from: target.name, to: $0, at: "Package.swift") }
        }
        #expect(violations.isEmpty, "\n\(violations.joined(separator: "\n"))")
    }

    @Test("imports: every project module a source file imports is declared and points down the layout")
    func importsPointDown() {
        var violations: [String] = []
        let projectModules = Set(Self.package.targets.map(\.name))
        for target in Self.productTargets {
            for file in Self.package.sourceFiles(of: target) {
                for module in Self.package.imports(of: file) where projectModules.contains(module) {
                    if let violation = Self.violation(from: target.name, to: module, at: file) {
                        violations.append(violation)
                    } else if !target.dependencies.contains(module) {
                        violations.append("\(file): imports \(module), which \(target.name) does not declare in Package.swift")
                    }
                }
            }
        }
        #expect(violations.isEmpty, "\n\(violations.joined(separator: "\n"))")
    }

    @Test("kansoctl never links the engine, and the supervisor (KansoPool, KansoServer) does not either")
    func engineStaysInTheWorker() {
        for name in ["kansoctl", "KansoPool", "KansoServer"] {
            let linked = Self.package.closure(of: name).intersection(Self.engine)
            #expect(linked.isEmpty, "\(name) links \(linked.sorted()) through \(Self.package.target(name)?.dependencies ?? [])")
        }
    }

    @Test("KansoEngine and KansoWire depend on leaves only")
    func engineAndWireStandAlone() {
        // The engine also links its kernel targets (one per instruction set), which sit just below it.
        let kernels: Set<String> = ["KansoKernelCore", "KansoKernelsPortable", "KansoKernelsAVX2", "KansoKernelsAVX512"]
        for name in ["KansoEngine", "KansoWire"] {
            let outside = Set(Self.package.target(name)?.dependencies ?? []).subtracting(Self.leaves).subtracting(name == "KansoEngine" ? kernels : [])
            #expect(outside.isEmpty, "\(name) depends on \(outside.sorted())")
        }
    }

    /// Why `from` may not depend on `to`, or nil when it may.
    static func violation(from: String, to: String, at place: String) -> String? {
        guard let upper = layerOf[from], let lower = layerOf[to] else { return nil }
        if leaves.contains(from) {
            return "\(place): \(from) is a leaf and depends on \(to); leaves import nothing of the project"
        }
        if lower <= upper {
            return "\(place): \(from) depends on \(to), which is not below it in DESIGN.md's layout"
        }
        return nil
    }
}
