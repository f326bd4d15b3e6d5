// Multinomial logistic regression with an L2 penalty on the weights (not the biases):
//   minimize (1/N) Σᵢ −ln softmax(W xᵢ + b)[yᵢ] + (λ/2)‖W‖².
// The examples are few (N ≈ 100) and wide (D ≈ 600), so the weights are kept in the span of
// the examples, W = Xᵀ A (A is [N][K]): a gradient step on W is exactly a step on A, and each
// iteration costs N²K through the Gram matrix G = X Xᵀ instead of N·D·K. Nesterov's accelerated
// gradient with step 1/L, L bounding the loss's curvature: the softmax's Hessian is at most ½ per
// logit, so L = ½ λmax(G + 1 1ᵀ) / N + λ (the 1 1ᵀ for the bias). Deterministic: same examples,
// same weights.

import Glibc

struct LogisticRegression {
    /// λ, the L2 penalty per unit of mean loss.
    var penalty: Double
    var iterations: Int

    /// Weights [K][D] and biases [K] fitted to `features` ([N][D]) with `labels` ([N], each in 0..<classCount).
    func fit(_ features: [[Float]], labels: [Int], classCount k: Int) -> (weights: [[Float]], bias: [Float]) {
        let n = features.count
        let gram = Self.gram(features)
        let step = 1 / (0.5 * Self.largestEigenvalue(gram, plusOnes: true) / Double(n) + penalty)
        // Parameters θ = (A [N][K], b [K]) and the look-ahead point v of Nesterov's method.
        var a = [Double](repeating: 0, count: n * k), b = [Double](repeating: 0, count: k)
        var va = a, vb = b
        var residual = [Double](repeating: 0, count: n * k)   // (P − Y)/N at v, then the step direction
        var logits = [Double](repeating: 0, count: k)
        for iteration in 0..<iterations {
            // Z = G A + b at v; residual = softmax(Z) − onehot(y), over N.
            for i in 0..<n {
                for c in 0..<k { logits[c] = vb[c] }
                for j in 0..<n {
                    let g = gram[i * n + j]
                    if g == 0 { continue }
                    for c in 0..<k { logits[c] += g * va[j * k + c] }
                }
                let top = logits.max()!
                var sum = 0.0
                for c in 0..<k { logits[c] = exp(logits[c] - top); sum += logits[c] }
                for c in 0..<k { residual[i * k + c] = (logits[c] / sum - (labels[i] == c ? 1 : 0)) / Double(n) }
            }
            var biasGradient = [Double](repeating: 0, count: k)
            for i in 0..<n { for c in 0..<k { biasGradient[c] += residual[i * k + c] } }
            // θ' = v − step·∇; v' = θ' + (t/(t+3))(θ' − θ).
            let momentum = Double(iteration) / Double(iteration + 3)
            for index in 0..<(n * k) {
                let next = va[index] - step * (residual[index] + penalty * va[index])
                va[index] = next + momentum * (next - a[index])
                a[index] = next
            }
            for c in 0..<k {
                let next = vb[c] - step * biasGradient[c]
                vb[c] = next + momentum * (next - b[c])
                b[c] = next
            }
        }
        // W = Xᵀ A.
        let width = features.first?.count ?? 0
        var weights = [[Float]](repeating: [Float](repeating: 0, count: width), count: k)
        for c in 0..<k {
            var row = [Double](repeating: 0, count: width)
            for i in 0..<n {
                let coefficient = a[i * k + c]
                let x = features[i]
                for j in 0..<width { row[j] += coefficient * Double(x[j]) }
            }
            weights[c] = row.map { Float($0) }
        }
        return (weights, b.map { Float($0) })
    }

    /// G = X Xᵀ, [N·N] row-major.
    static func gram(_ x: [[Float]]) -> [Double] {
        let n = x.count
        var gram = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var dot: Float = 0
                x[i].withUnsafeBufferPointer { left in
                    x[j].withUnsafeBufferPointer { right in
                        for d in 0..<left.count { dot += left[d] * right[d] }
                    }
                }
                gram[i * n + j] = Double(dot)
                gram[j * n + i] = Double(dot)
            }
        }
        return gram
    }

    /// The largest eigenvalue of the symmetric positive semi-definite `matrix` [n·n] (plus 1 1ᵀ
    /// when asked), by power iteration from the all-ones vector; slightly above the true value,
    /// so a step from it is safe.
    static func largestEigenvalue(_ matrix: [Double], plusOnes: Bool) -> Double {
        let n = Int(Double(matrix.count).squareRoot())
        guard n > 0 else { return 1 }
        var vector = [Double](repeating: 1 / Double(n).squareRoot(), count: n)
        var estimate = 0.0
        for _ in 0..<64 {
            let total = plusOnes ? vector.reduce(0, +) : 0
            var next = [Double](repeating: total, count: n)
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<n { sum += matrix[i * n + j] * vector[j] }
                next[i] += sum
            }
            let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { return 1 }
            estimate = norm
            vector = next.map { $0 / norm }
        }
        return max(estimate * 1.05, 1e-6)
    }
}
