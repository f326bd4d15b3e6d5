// Engine benchmark (issue: the engine). To be written: see bench/README.md.
print("kanso-bench-engine: not written yet")
