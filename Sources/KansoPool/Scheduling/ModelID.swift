/// Names one model in the pool's scheduling decisions: the resolved path of its GGUF file, the
/// same key `MeasuredCosts` remembers figures under. Many agents may share one model.
public typealias ModelID = String
