import Foundation

/// Clients run as another user (uid/gid 65534, nobody), so that the daemon tells them apart
/// from the test (root) by SO_PEERCRED: a python program that drops its privileges, opens
/// `connections` connections to the socket at once, sends `method` on each, and prints each
/// reply as a line of JSON (or {"closed": true} when the daemon hung up instead).
enum NobodyClient {
    static var isAvailable: Bool { getuid() == 0 && DaemonHarness.which("python3") != nil }

    static func call(_ socketPath: String, method: String, connections: Int = 1, groups: [Int] = []) throws -> [[String: Any]] {
        guard let python = DaemonHarness.which("python3") else { throw NobodyClientError.noPython }
        let program = """
        import json, os, socket, sys
        os.setgroups(\(groups)); os.setgid(65534); os.setuid(65534)
        sockets = []
        for _ in range(int(sys.argv[3])):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            sockets.append(s)
        for s in sockets:
            try:
                s.sendall(json.dumps({"method": sys.argv[2]}).encode() + b"\\0")
            except OSError:
                pass
        for s in sockets:
            s.settimeout(10)
            data = b""
            while not data.endswith(b"\\0"):
                try:
                    chunk = s.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk: break
                data += chunk
            print(data[:-1].decode() if data.endswith(b"\\0") else json.dumps({"closed": True}))
        """
        let result = try DaemonHarness.run(python, ["-c", program, socketPath, method, String(connections)])
        guard result.status == 0 else { throw NobodyClientError.failed(result.error) }
        return try result.output.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NobodyClientError.failed("not a JSON object: \(line)")
            }
            return object
        }
    }
}

enum NobodyClientError: Error, CustomStringConvertible {
    case noPython
    case failed(String)
    var description: String {
        switch self {
        case .noPython: return "python3 is not on PATH"
        case .failed(let reason): return "the client as nobody failed: \(reason)"
        }
    }
}
