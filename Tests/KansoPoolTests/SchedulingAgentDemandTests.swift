import KansoGGUF
import KansoPool
import Testing

/// How much context and KV cache an agent's manifest asks of its model (AgentDemand), and what a
/// model serving several agents is given.
@Suite struct SchedulingAgentDemandTests {
    let reader = ManifestReader()

    func manifest(_ body: String) throws -> AgentManifest {
        try reader.parse("name = \"a\"\nmodel = \"m.gguf\"\n" + body, path: "/agents/a.toml")
    }

    @Test func predictCountsPromptInputAndOutput() throws {
        // "Story: " is 7 bytes, " The end." 9; 4 special tokens; 512 input tokens; 64 output.
        let demand = AgentDemand(try manifest("task = \"predict\"\nprompt = \"Story: {text} The end.\"\n"))
        #expect(demand.contextLength == 7 + 9 + 4 + AgentDemand.defaultMaxInputTokens + AgentDemand.defaultPredictTokens)
        #expect(demand.prefixPositions == 7 + 4)
        #expect(demand.forkPositions == 500)
        #expect(demand.kvCache == .f16 && !demand.constrainedDecoding)
        let short = AgentDemand(try manifest("task = \"predict\"\nprompt = \"{text}\"\nmax_input_tokens = 20\nmax_tokens = 8\nkv_cache = \"q8_0\"\n"))
        #expect(short.contextLength == 4 + 20 + 8 && short.prefixPositions == 0 && short.kvCache == .q8_0)
    }

    @Test func classifyCountsItsLongestLabelAndForksEveryLabel() throws {
        let demand = AgentDemand(try manifest("task = \"classify\"\nprompt = \"T: {text}\"\nlabels = [\"ab\", \"abcd\"]\nmax_input_tokens = 100\n"))
        // A label: its bytes, the space before it, and up to 8 prompt tokens scored again.
        #expect(demand.contextLength == 3 + 4 + 100 + (4 + 1 + 8) + 1)
        #expect(demand.forkPositions == (2 + 9) + (4 + 9))
    }

    @Test func extractDecodesUnderAGrammar() throws {
        let demand = AgentDemand(try manifest("task = \"extract\"\nprompt = \"{text}\"\nschema = { type = \"object\" }\n"))
        #expect(demand.constrainedDecoding)
        #expect(demand.contextLength == 4 + AgentDemand.defaultMaxInputTokens + AgentDemand.defaultExtractTokens)
    }

    @Test func anExplicitContextLengthIsTaken() throws {
        let demand = AgentDemand(try manifest("task = \"predict\"\nprompt = \"{text}\"\ncontext_length = 2048\n"))
        #expect(demand.contextLength == 2048)
    }

    @Test func aModelServingSeveralAgentsGetsTheLargestOfTheirs() throws {
        let small = AgentDemand(try manifest("task = \"predict\"\nprompt = \"A: {text}\"\nmax_input_tokens = 10\nkv_cache = \"q8_0\"\n"))
        let large = AgentDemand(try manifest("task = \"classify\"\nprompt = \"Bb: {text}\"\nlabels = [\"x\"]\nkv_cache = \"f32\"\n"))
        let model = AgentDemand.model(serving: [small, large], batchSize: 64, threads: 2)
        #expect(model.contextLength == max(small.contextLength, large.contextLength))
        #expect(model.kvCache == .f32)
        #expect(model.prefixPositions == [small.prefixPositions, large.prefixPositions])
        #expect(model.forkPositions == 500 && model.threads == 2 && model.batchSize == 64)
        #expect(AgentDemand.model(serving: [small], batchSize: 64, threads: 1).kvCache == .q8_0)
    }
}
