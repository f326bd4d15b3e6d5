#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (Swift's -sanitize=fuzzer with AddressSanitizer, in
# .build/fuzz) and runs each for a bounded time on a working corpus seeded from Fuzz/Corpus.
# Prints, per target: executions, coverage (edges and features, libFuzzer's cov/ft), corpus size
# and crashes. A crash leaves its input in .build/fuzz/crashes/TARGET/ and fails the script: make
# it a regression test (Fuzz/README.md) and fix it.
#
#   scripts/fuzz.sh                 every target for 600 s
#   scripts/fuzz.sh --ci            every target for 40 s (CI: about 8 minutes with the build)
#   scripts/fuzz.sh --seconds 3600 toml gguf
#
# The tokenizer target reads llama.cpp's vocab files from ../shared/vocab (or $KANSO_SHARED_DIR);
# without them it is skipped with a message. Needs clang's libFuzzer runtime (Swift toolchains on
# Linux ship it).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        --ci) seconds=40 ;;
        --seconds) seconds=$2; shift ;;
        gguf|varlink|toml|schema|tokenizer|vocabulary) targets+=("$1") ;;
        *) echo "usage: scripts/fuzz.sh [--ci] [--seconds N] [gguf|varlink|toml|schema|tokenizer|vocabulary ...]" >&2; exit 64 ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || targets=(toml varlink gguf schema tokenizer vocabulary)

shared=${KANSO_SHARED_DIR:-$(cd .. && pwd)/shared}
work=.build/fuzz
# SwiftPM's --sanitize fuzzer handles the entry point; the second -sanitize= must name both
# sanitizers, as a later -sanitize= replaces an earlier one instead of adding to it.
build_flags=(-c release --scratch-path "$work" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address)

started=$(date +%s)
for target in "${targets[@]}"; do
    echo "building fuzz-$target"
    KANSO_FUZZ=1 swift build "${build_flags[@]}" --product "fuzz-$target" 2>&1 | grep -E "error|warning: unre|Compiling fuzz|Build of" || true
    [ -x "$work/release/fuzz-$target" ] || { echo "fuzz-$target did not build" >&2; exit 1; }
done
echo "built in $(( $(date +%s) - started )) s"

summary=()
failed=0
for target in "${targets[@]}"; do
    corpus=$work/corpus/$target
    crashes=$work/crashes/$target
    mkdir -p "$corpus" "$crashes"
    options=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$crashes/" -rss_limit_mb=2048 -timeout=10)
    seeds=(Fuzz/Corpus/$target)
    environment=()
    case $target in
        gguf)
            # Model files as seeds: the test fixtures and the real stories260K, cut to their
            # first 64 KiB (header, metadata, tensor table; the target pads the rest with zeros).
            seeds+=(Tests/KansoEngineTests/Fixtures/models)
            [ -f "$shared/models/stories260K.gguf" ] && seeds+=("$shared/models")
            options+=(-max_len=65536) ;;
        vocabulary)
            # Vocabularies from model files: two made for it (SentencePiece with byte tokens,
            # byte-level BPE), the GGUF seeds and fixtures, stories260K's (512 tokens) when
            # present, each cut to its first 64 KiB.
            seeds+=(Fuzz/Corpus/gguf Tests/KansoEngineTests/Fixtures/models)
            [ -f "$shared/models/stories260K.gguf" ] && seeds+=("$shared/models")
            options+=(-max_len=65536) ;;
        varlink) options+=(-dict=Fuzz/Dictionaries/json.dict -max_len=8192) ;;
        toml) options+=(-dict=Fuzz/Dictionaries/toml.dict -max_len=8192) ;;
        schema)
            cat Fuzz/Dictionaries/json.dict Fuzz/Dictionaries/schema.dict > "$work/schema.dict"
            options+=(-dict="$work/schema.dict" -max_len=8192) ;;
        tokenizer)
            vocab=$shared/vocab
            if [ ! -f "$vocab/ggml-vocab-llama-spm.gguf" ]; then
                echo "skipped fuzz-tokenizer: llama.cpp's vocab files are not in $vocab"
                summary+=("tokenizer: skipped (no $vocab)")
                continue
            fi
            # The reference texts as seeds, besides the repository's.
            cp "$vocab"/*.inp "$corpus"/ 2>/dev/null || true
            names=(llama-spm gpt-2 llama-bpe qwen2 bert-bge)
            list=$(printf "$vocab/ggml-vocab-%s.gguf:" "${names[@]}")
            environment=(KANSO_FUZZ_VOCAB="${list%:}")
            options+=(-max_len=4096 -timeout=30) ;;
    esac
    echo "fuzzing $target for $seconds s"
    log=$work/$target.log
    status=0
    env "${environment[@]}" "$work/release/fuzz-$target" "${options[@]}" "$corpus" "${seeds[@]}" > "$log" 2>&1 || status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    units=$(find "$corpus" -type f | wc -l)
    found=$(find "$crashes" -type f | wc -l)
    line="$target: ${executions:-0} executions (${rate:-0}/s), ${coverage:-cov: ? ft: ?}, corpus $units, crashes $found"
    if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
        failed=1
        line="$line (exit $status; see $log)"
        grep -E "ERROR|SUMMARY|Fatal error|fatalError|Test unit written" "$log" | head -8 || true
    fi
    summary+=("$line")
done

echo
echo "fuzzing summary ($seconds s per target, $(( $(date +%s) - started )) s in all):"
printf '  %s\n' "${summary[@]}"
exit $failed
