import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl status`: the daemon, its budget, and every agent with its model's state.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon's state, budget and agents.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        try reportingFailures {
            let status = try connection.perform { try $0.status() }
            if connection.json { try connection.printJSON(status) } else { print(Self.render(status)) }
        }
    }

    static func render(_ status: StatusReply) -> String {
        var lines: [String] = []
        let marker = status.state == "ready" ? "●" : "○"
        lines.append("\(marker) kansod \(status.version) — \(status.state) (\(status.activation), \(status.socket))")
        lines.append("    PID: \(status.pid)   Uptime: \(Format.duration(status.uptimeSeconds))   Connections: \(status.connections)   Calls: \(status.calls)")
        lines.append("    Agents: \(status.agentsDirectory) (\(status.agents.count) loaded, \(status.problems.count) rejected)")
        lines.append("    Models: \(status.modelSearchPath.joined(separator: ":"))")
        lines.append("    Budget: \(Format.bytes(status.budget.usedBytes)) of \(Format.bytes(status.budget.bytes)) in use (\(status.budget.source))")
        if let pid = status.budget.spareWorkerPid, let bytes = status.budget.spareWorkerBytes {
            lines.append("     Spare: worker \(pid) waits for the next load, holding \(Format.bytes(bytes))")
        }
        if let power = status.power {
            lines.append("    Power: \(power.profile) (\(power.reason)): \(power.threadsPerWorker) threads per worker, "
                + "\(power.maximumConcurrentWorkers) computing at once, keep-alive ×\(power.keepAliveScale), "
                + "background \(power.backgroundAllowed ? "allowed" : "paused")" + (power.memoryPressure ? ", memory pressure" : ""))
            if let cap = power.wattCap {
                let average = cap.averageWatts.map { String(format: "%.1f W", $0) } ?? "not measured yet"
                let paused = cap.normalPaused ? "normal and background paused" : cap.backgroundPaused ? "background paused" : "nothing paused"
                let throttle = cap.duty.map { $0 < 1 ? String(format: ", workers throttled to %.0f%% of the time", $0 * 100) : ", workers not throttled" } ?? ""
                lines.append("    Watt cap: \(String(format: "%.1f W", cap.capWatts))\(cap.source.map { " (\($0))" } ?? ""), average \(average): \(paused)\(throttle)")
            }
        }
        for agent in status.energy {
            lines.append(String(format: "    Energy: %@ %.2f J for %d requests, %d tokens%@", agent.agent, agent.joules, agent.requests,
                                agent.tokens, agent.tokensPerJoule.map { String(format: ", %.1f tokens/J", $0) } ?? ""))
        }
        lines.append("")
        lines.append(Table.render(
            header: ["AGENT", "TASK", "STATE", "MODEL", "SIZE", "PRIORITY", "KEEP-ALIVE"],
            rows: status.agents.map { agent in
                [agent.name, agent.task, agent.state, agent.model, agent.modelBytes.map(Format.bytes) ?? "-",
                 agent.priority, agent.keepAlive]
            }))
        if !status.models.isEmpty {
            lines.append("")
            lines.append(Table.render(
                header: ["MODEL", "STATE", "PID", "MEMORY (EST/CHARGED/MEASURED)", "CONTEXT", "AGENTS", "RUNNING", "QUEUED", "REQUESTS", "TOKENS", "LOAD", "IDLE", "UNLOAD IN", "EVICTIONS"],
                rows: status.models.map { model in
                    [(model.path as NSString).lastPathComponent, model.state + (model.reason.map { " (\($0))" } ?? ""),
                     model.pid.map(String.init) ?? "-",
                     "\(Format.bytes(model.estimatedBytes)) / \(model.chargedBytes.map(Format.bytes) ?? "-") / \(model.measuredBytes.map(Format.bytes) ?? "-")",
                     model.contextLength.map { "\($0) \(model.kvCache ?? "")" } ?? "-",
                     model.agents.joined(separator: ","),
                     "\(model.running ?? 0)" + (model.sequences.map { "/\($0)" } ?? ""),
                     "\(model.queued)", "\(model.requests)", "\(model.generatedTokens)",
                     model.loadMilliseconds.map { String(format: "%.0f ms", $0) } ?? "-",
                     model.idleSeconds.map(Format.duration) ?? "-", model.unloadInSeconds.map(Format.duration) ?? "-",
                     "\(model.evictions)" + (model.lastEvictionReason.map { " (\($0))" } ?? "")]
                }))
        }
        let unavailable = status.agents.filter { $0.reason != nil }
        if !unavailable.isEmpty {
            lines.append("")
            lines.append("Unavailable:")
            for agent in unavailable { lines.append("  \(agent.name): \(agent.reason!)") }
        }
        if !status.problems.isEmpty {
            lines.append("")
            lines.append("Rejected manifests:")
            for problem in status.problems {
                lines.append("  \(problem.file)" + (problem.key.map { ": key '\($0)'" } ?? "") + ": \(problem.message)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
