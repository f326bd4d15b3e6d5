import KansoTOML

// libFuzzer target: the TOML 1.0 parser of agent manifests, on any bytes that are UTF-8 text (as
// the manifest reader passes it), and every value of what parses.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    guard let table = try? TOMLParser.parse(text) else { return 0 }
    visit(table, depth: 0)
    return 0
}

private func visit(_ table: TOMLTable, depth: Int) {
    for (key, value) in table {
        _ = table.value(atPath: [key])
        visit(value, depth: depth + 1)
    }
}

private func visit(_ value: TOMLValue, depth: Int) {
    _ = value.typeName
    _ = value.dateTimeValue?.description
    if let table = value.tableValue { visit(table, depth: depth) }
    for item in value.arrayValue ?? [] { visit(item, depth: depth) }
}
