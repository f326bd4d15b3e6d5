import KansoPool
import Testing

/// The rule by which a measurement may lower a model's charge and the charge stays a bound:
/// the measured size after a load replaces the estimate's fixed part, never its variable part.
@Suite struct SchedulingMeasuredCostsTests {
    static let mebibyte = 1 << 20

    @Test func beforeAnyLoadTheEstimateIsCharged() {
        let costs = MeasuredCosts()
        #expect(costs.bytes(for: "m", estimatedBytes: 500 * Self.mebibyte, variableBytes: 40 * Self.mebibyte) == 500 * Self.mebibyte)
    }

    @Test func aLoadMeasuredSmallerLowersTheChargeButKeepsTheVariablePart() {
        var costs = MeasuredCosts()
        // Estimated 500 MiB (40 of them KV caches and scratch); the worker held 120 MiB after loading.
        costs.recordLoadedBytes(120 * Self.mebibyte, for: "m")
        #expect(costs.bytes(for: "m", estimatedBytes: 500 * Self.mebibyte, variableBytes: 40 * Self.mebibyte) == 160 * Self.mebibyte)
        // Short requests measured since do not lower it further: the caches may still grow.
        costs.recordResidentBytes(125 * Self.mebibyte, for: "m")
        #expect(costs.bytes(for: "m", estimatedBytes: 500 * Self.mebibyte, variableBytes: 40 * Self.mebibyte) == 160 * Self.mebibyte)
        // A peak above the bound proves the bound wrong: the peak is charged.
        costs.recordResidentBytes(170 * Self.mebibyte, for: "m")
        #expect(costs.bytes(for: "m", estimatedBytes: 500 * Self.mebibyte, variableBytes: 40 * Self.mebibyte) == 170 * Self.mebibyte)
        // Remembered per model; a model never measured is charged its estimate.
        #expect(costs.measurement(for: "m")?.residentAfterLoadBytes == 120 * Self.mebibyte)
        #expect(costs.bytes(for: "other", estimatedBytes: 500 * Self.mebibyte, variableBytes: 40 * Self.mebibyte) == 500 * Self.mebibyte)
    }

    @Test func aLoadMeasuredLargerRaisesTheCharge() {
        var costs = MeasuredCosts()
        costs.recordLoadedBytes(300 * Self.mebibyte, for: "m")
        #expect(costs.bytes(for: "m", estimatedBytes: 200 * Self.mebibyte, variableBytes: 50 * Self.mebibyte) == 350 * Self.mebibyte)
    }
}
