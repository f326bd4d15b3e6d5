// The tiny GGUF fixtures of Fixtures/models and their llama.cpp golden outputs, as made by
// scripts/make_fixtures.py (run it to regenerate both; the golden JSON records the
// llama-cpp-python version that computed it).

import Foundation
import KansoTestSupport

/// What llama.cpp computed for one fixture: see the format notes at the top of scripts/make_fixtures.py.
struct FidelityGolden: Decodable {
    let fixture: String
    let llamaCppPythonVersion: String
    let architecture: String
    /// The tensor type of the 2-D weights: F32, F16, BF16, Q8_0, ..., Q6_K, or Q4_K_M (mixed).
    let weights: String
    let vocabularySize: Int
    let tiedOutput: Bool
    let prompt: [Int32]
    /// [prompt position][vocabulary]: llama.cpp's logits after each prompt token.
    let logits: [[Float]]
    /// 16 greedy tokens (32 for stories260K) after the prompt, decoded one at a time through llama.cpp's KV cache.
    let greedy: [Int32]
    /// llama.cpp's top-1 minus top-2 logit at each greedy choice.
    let greedyMargins: [Float]
    /// The greedy tokens as llama.cpp detokenizes them (stories260K only).
    let greedyText: String?
    /// max |llama.cpp − exact float64 arithmetic on the same weights| over the prompt logits.
    let exactMaxAbsDifference: Float
    let exactRmsDifference: Float
    let logitRange: Float
    let text: String
    /// llama.cpp's tokens for `text`, with the special tokens the vocabulary adds (BOS for SPM ones).
    let textTokens: [Int32]
    /// A 100-token prompt, and llama.cpp's logits at `longLogitPositions` of it.
    let longPrompt: [Int32]
    let longLogitPositions: [Int]
    let longLogits: [[Float]]
    let longExactMaxAbsDifference: Float
    /// Rows of some weight tensors as gguf-py decodes the stored blocks.
    let dequantizedRows: [DequantizedRow]

    struct DequantizedRow: Decodable {
        let tensor: String
        let row: Int
        let values: [Float]
    }
}

enum FidelityFixtures {
    /// Every fixture the script makes. Listed, not discovered, so a missing file fails a test
    /// instead of silently shrinking the parameter list.
    static let names = [
        "llama-f32", "llama-f16", "llama-bf16", "llama-q8_0", "llama-q4_0", "llama-q4_1",
        "llama-q5_0", "llama-q5_1", "llama-q4_k", "llama-q5_k", "llama-q6_k", "llama-q4_k_m",
        "qwen2-f32", "qwen2-q8_0", "qwen3-f16", "gemma3-f32", "gemma3-q8_0",
        "llama3-f16", "llama-mha-q8_0", "gemma3-scaled-f16", "llama-iq4_nl", "llama-iq4_xs",
    ]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")

    /// The real trained model of ../shared/models: its golden is here, the model is not.
    static let sharedModel = "stories260K"

    static func modelPath(_ name: String) -> String {
        if name == sharedModel, let url = SharedData.stories260K { return url.path }
        return directory.appendingPathComponent("\(name).gguf").path
    }

    static func golden(_ name: String) throws -> FidelityGolden {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(FidelityGolden.self, from: data)
    }
}

/// How far one row of logits is from the golden row.
struct LogitDeviation: CustomStringConvertible {
    var maximum: Float = 0
    /// Σ Δ² (for the root mean square over all rows).
    var squareSum: Double = 0
    var count = 0
    var worstPosition = -1
    var worstToken = -1
    var worstEngine: Float = 0
    var worstGolden: Float = 0

    var rootMeanSquare: Float { count == 0 ? 0 : Float((squareSum / Double(count)).squareRoot()) }

    mutating func add(engine: [Float], golden: [Float], position: Int) {
        for (token, (e, g)) in zip(engine, golden).enumerated() {
            let difference = abs(e - g)
            squareSum += Double(difference) * Double(difference)
            count += 1
            // A NaN is always the worst.
            if difference > maximum || difference.isNaN && !maximum.isNaN {
                maximum = difference
                worstPosition = position
                worstToken = token
                worstEngine = e
                worstGolden = g
            }
        }
    }

    var description: String {
        "max |Δ| \(maximum) at row \(worstPosition) token \(worstToken) (engine \(worstEngine), llama.cpp \(worstGolden)), rms \(rootMeanSquare)"
    }
}

/// Index of the largest value; the first one on ties, as llama.cpp's greedy sampler and numpy's argmax.
func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
