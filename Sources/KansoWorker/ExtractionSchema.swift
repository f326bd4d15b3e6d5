import KansoEngine
import KansoWire

/// The JSON Schemas extraction decodes under, compiled by the engine (KansoEngine's
/// SchemaGrammar). The worker compiles each agent's schema at its first request; the supervisor,
/// which does not link the engine, is handed `check` by kansod and runs it at manifest load, so
/// a keyword the grammar does not support is a manifest problem, not a failure at a request.
public enum ExtractionSchema {
    /// The grammar of `schema`; throws GrammarError naming the JSON pointer of what is unsupported.
    public static func compile(_ schema: JSONValue) throws -> SchemaGrammar {
        try SchemaGrammar(schemaText: schema.compactJSON)
    }

    /// Throws why `schema` cannot be used for constrained decoding.
    @Sendable public static func check(_ schema: JSONValue) throws {
        _ = try compile(schema)
    }
}
