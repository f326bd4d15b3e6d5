import Foundation
@testable import KansoEngine

/// A deliberately naive forward pass in Double over a fixture's own arrays: every position
/// recomputed from scratch, no cache, no batching, no threads. It encodes the architectures as
/// llama.cpp's graphs define them (src/models/llama.cpp, qwen2.cpp, qwen3.cpp, gemma3.cpp), so the
/// engine's optimized paths can be checked against it on synthetic models.
struct ModelReference {
    let spec: SyntheticModel
    let weights: [String: [Float]]

    init(spec: SyntheticModel, fixture: ModelFixtureWriter) {
        self.spec = spec
        var weights: [String: [Float]] = [:]
        for t in fixture.tensors { weights[t.name] = t.data }
        self.weights = weights
    }

    func w(_ name: String) -> [Double] { weights[name]!.map(Double.init) }

    /// y = W·x for a GGUF matrix stored [columns, rows] (row-major rows of `columns`).
    func matmul(_ name: String, _ x: [Double]) -> [Double] {
        let m = w(name)
        let columns = x.count
        let rows = m.count / columns
        return (0..<rows).map { r in (0..<columns).reduce(0.0) { $0 + m[r * columns + $1] * x[$1] } }
    }

    func rms(_ x: [Double], _ weight: [Double]) -> [Double] {
        let mean = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        let scale = 1 / (mean + 1e-6).squareRoot()
        return x.indices.map { x[$0] * scale * weight[$0] }
    }

    var isGemma: Bool { spec.architecture == "gemma3" }
    var neox: Bool { spec.architecture != "llama" }

    func isSliding(_ layer: Int) -> Bool { spec.slidingWindow > 0 && layer % 6 < 5 }

    func rope(_ head: [Double], position: Int, layer: Int) -> [Double] {
        let d = spec.headDimension
        let sliding = isSliding(layer)
        let base = Double(sliding ? 10000 : spec.ropeBase)
        let scale = sliding ? 1.0 : 1.0 / Double(spec.ropeScalingFactor ?? 1)
        var out = head
        for i in 0..<d / 2 {
            let factor = spec.ropeFrequencyFactors ? 1 + Double(i) : 1
            let theta = Double(position) * scale * pow(base, -2 * Double(i) / Double(d)) / factor
            let (a, b) = neox ? (i, i + d / 2) : (2 * i, 2 * i + 1)
            out[a] = head[a] * cos(theta) - head[b] * sin(theta)
            out[b] = head[a] * sin(theta) + head[b] * cos(theta)
        }
        return out
    }

    /// Logits after each position of `tokens`.
    func logits(_ tokens: [Int32]) -> [[Double]] {
        let e = spec.embedding, d = spec.headDimension
        let embeddings = w("token_embd.weight")
        var xs: [[Double]] = tokens.map { t in
            let row = Array(embeddings[(Int(t) * e)..<(Int(t) * e + e)])
            return isGemma ? row.map { $0 * Double(e).squareRoot() } : row
        }
        for l in 0..<spec.layers {
            let p = "blk.\(l)."
            var queries: [[Double]] = [], keys: [[Double]] = [], values: [[Double]] = []
            for (position, x) in xs.enumerated() {
                let h = rms(x, w(p + "attn_norm.weight"))
                var q = matmul(p + "attn_q.weight", h), k = matmul(p + "attn_k.weight", h), v = matmul(p + "attn_v.weight", h)
                if spec.hasBiases {
                    q = zip(q, w(p + "attn_q.bias")).map(+)
                    k = zip(k, w(p + "attn_k.bias")).map(+)
                    v = zip(v, w(p + "attn_v.bias")).map(+)
                }
                func heads(_ vector: [Double], norm: String?) -> [Double] {
                    stride(from: 0, to: vector.count, by: d).flatMap { start -> [Double] in
                        var head = Array(vector[start..<(start + d)])
                        if let norm { head = rms(head, w(norm)) }
                        return rope(head, position: position, layer: l)
                    }
                }
                queries.append(heads(q, norm: spec.hasQueryKeyNorms ? p + "attn_q_norm.weight" : nil))
                keys.append(heads(k, norm: spec.hasQueryKeyNorms ? p + "attn_k_norm.weight" : nil))
                values.append(v)
            }
            for position in xs.indices {
                var attention = [Double](repeating: 0, count: spec.heads * d)
                for head in 0..<spec.heads {
                    let kvHead = head / (spec.heads / spec.kvHeads)
                    let visible = (0...position).filter { !isSliding(l) || position - $0 < spec.slidingWindow }
                    let q = Array(queries[position][(head * d)..<(head * d + d)])
                    let scores = visible.map { t in
                        (0..<d).reduce(0.0) { $0 + q[$1] * keys[t][kvHead * d + $1] } / Double(d).squareRoot()
                    }
                    let maximum = scores.max()!
                    let exps = scores.map { exp($0 - maximum) }
                    let total = exps.reduce(0, +)
                    for (j, t) in visible.enumerated() {
                        for c in 0..<d { attention[head * d + c] += exps[j] / total * values[t][kvHead * d + c] }
                    }
                }
                var out = matmul(p + "attn_output.weight", attention)
                if spec.hasPostNorms { out = rms(out, w(p + "post_attention_norm.weight")) }
                xs[position] = zip(xs[position], out).map(+)
                let h = rms(xs[position], w(p + "ffn_norm.weight"))
                let gate = matmul(p + "ffn_gate.weight", h), up = matmul(p + "ffn_up.weight", h)
                let middle = zip(gate, up).map { g, u -> Double in
                    let activated = isGemma
                        ? 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)))
                        : g / (1 + exp(-g))
                    return activated * u
                }
                var down = matmul(p + "ffn_down.weight", middle)
                if spec.hasPostNorms { down = rms(down, w(p + "post_ffw_norm.weight")) }
                xs[position] = zip(xs[position], down).map(+)
            }
        }
        let output = spec.tiedOutput ? "token_embd.weight" : "output.weight"
        return xs.map { matmul(output, rms($0, w("output_norm.weight"))) }
    }
}
