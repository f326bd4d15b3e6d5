import Foundation
import KansoTestSupport
import Testing

/// The instruction sets the kernel modules are compiled for stay in them, so a build runs on any
/// x86-64-v2 CPU and only the dispatch table decides what runs: scripts/check-kernel-isolation.sh
/// over the objects of this build's engine and kernel modules (one per source file: objects of
/// files since moved away are not looked at) finds AVX-512 code only in KansoKernelsAVX512 and
/// AVX code only there and in KansoKernelsAVX2.
@Suite struct KernelIsolationTests {
    static let modules = ["KansoEngine", "KansoKernelCore", "KansoKernelsPortable", "KansoKernelsAVX2", "KansoKernelsAVX512"]

    /// The folder of this build's products: the one holding the modules' `.build` folders.
    static let productsDirectory: URL = {
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("KansoEngine.build").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    /// The object of each Swift source of `module` (its folder's links followed).
    static func objects(of module: String) throws -> [String] {
        try swiftFiles(in: SharedData.repositoryRoot.appendingPathComponent("Sources/\(module)").path).map { name in
            productsDirectory.appendingPathComponent("\(module).build/\(name).o").path
        }
    }

    /// The names of the Swift files in `folder` and below, through links to folders too (the
    /// AVX-512 module's X86/ and Plain/ are links).
    static func swiftFiles(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).flatMap { name -> [String] in
            var isFolder: ObjCBool = false
            let path = folder + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return [] }
            return isFolder.boolValue ? try swiftFiles(in: path) : name.hasSuffix(".swift") ? [name] : []
        }
    }

    @Test(.enabled(if: isX86, "the x86 kernel modules exist on x86-64 only"))
    func instructionSetsStayInTheirModules() throws {
        var objects: [String] = []
        for module in Self.modules { objects += try Self.objects(of: module) }
        for object in objects { #expect(FileManager.default.fileExists(atPath: object), "no object \(object)") }
        #expect(objects.filter { $0.contains("KansoKernelsAVX512.build/") }.count > 20, "the links X86/ and Plain/ were not followed: \(objects)")
        let process = Process()
        process.executableURL = SharedData.repositoryRoot.appendingPathComponent("scripts/check-kernel-isolation.sh")
        process.arguments = objects
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        // and it saw the AVX-512 module's code (a check that finds nothing proves nothing)
        let wide = text.split(separator: "\n").last.flatMap { $0.split(separator: " ").first }.flatMap { Int($0) } ?? 0
        #expect(wide > 0, "\(text)")
    }

    static var isX86: Bool {
        #if arch(x86_64)
        return true
        #else
        return false
        #endif
    }
}
