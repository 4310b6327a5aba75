#!/usr/bin/env bash
# GPU benchmarks in one prepared run, for a machine that has a GPU but no build tools (the device
# machines lent to some sessions start bare). Build here first, then run this there:
#
#   here:   cmake -S . -B .devbuild -G Ninja -DCMAKE_BUILD_TYPE=Release -DVKLLM_BUILD_TESTS=OFF \
#             && ninja -C .devbuild vkllm
#           (and once: download the Vulkan loader .debs into .gl/, see the device tool's README)
#   there:  bash scripts/device-bench.sh WHAT[,WHAT...] OUT_DIR
#           WHAT: ops | sweep | tests | all (= ops, 31b, 26b-a4b) | PRESET (a vkllm synth preset)
#                 | kv:PRESET (issue #14: decode after 32K and 128K tokens with q8_0, tq3 and
#                   q8_0/tq3 caches; set VKLLM_BENCH_LAYERS to keep the run short)
#                 | experts:PRESET (issue #15: a MoE preset resident, then under an 8 GiB
#                   --vram-budget with experts uploaded only, with CPU experts (auto), and without
#                   prefetch; VKLLM_BENCH_BUDGET overrides the budget)
#
# `tests` runs the op/model suite on the GPU (issue #10: real 32-lane execution). Build it here
# with -DVKLLM_BUILD_TESTS=ON and carry .devbuild/vkllm and .devbuild/tests/vkllm_op_tests: the
# test binary has this checkout's absolute paths (/work/main/...) compiled in, so the script links
# them there, and makes the fixture models (build/fixtures/models) from the tracked ones the way the
# build does. The Khronos validation layer comes from a carried .gl/extra/vulkan-validationlayers
# .deb, unpacked under /tmp (never /); without it the tests run with VKLLM_TEST_NO_VALIDATION=1 and
# the script says so.
#
# `ops` runs the kernel roofline bench (copy bandwidth, mat-vec per type and shape); a preset such
# as `31b` or `26b-a4b` writes a full-size synthetic Q4_K_M model of that shape to local disk (about 18 / 16 GB,
# ~2-3 min on 16 cores) and run `vkllm bench model` on it: prefill and decode tok/s and decode
# bandwidth as a fraction of the measured copy roofline. Results are JSON lines in OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: device-bench.sh WHAT[,WHAT...] OUT_DIR  (WHAT: ops|sweep|tests|all|PRESET, e.g. 31b)"
what=${1:?$usage}
out=${2:?$usage}
bin=${VKLLM_BIN:-.devbuild/vkllm}
scratch=${VKLLM_SCRATCH:-/tmp/vkllm-bench}
mkdir -p "$out" "$scratch"

if [[ ! -x $bin ]]; then
    echo "device-bench: no vkllm binary at $bin (build it here first, see the header)" >&2
    exit 2
fi
# A bare machine has no Vulkan loader: unpack the carried packages when present.
if ! ldconfig -p | grep -q libvulkan.so.1 && compgen -G ".gl/*.deb" > /dev/null; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -z ${VK_DRIVER_FILES:-} && -f $nvidia_icd ]]; then export VK_DRIVER_FILES=$nvidia_icd; fi

"$bin" devices | tee "$out/devices.txt"

bench_ops() {
    # The types of issue #12's targets, at every released decode shape (about 100 cases; each
    # rotates through >= 512 MiB of weight copies, so none is L2-resident).
    "$bin" bench ops --repeat 10 --types q4_0,q8_0,q4_K,q5_K,q6_K,f16 --out "$out" |
        tee "$out/ops.txt"
}

bench_sweep() {
    # Rows per subgroup on both paths at the 31B shapes that stream the most; split-K on the
    # integer path at the small and tall shapes it is for (31B attention K/V and FFN down, the
    # 26B-A4B shared MLP); then one type at two shapes in both orders (a check that a case's figure
    # does not depend on what ran before).
    "$bin" bench ops --repeat 10 --types q4_0,q8_0,q4_K,q6_K --rows 1,2,4 \
        --shapes 5376x21504,21504x5376,5376x4096,5376x262144 --out "$out" | tee -a "$out/ops.txt"
    "$bin" bench ops --repeat 10 --types q8_0,q4_K,q6_K --rows 1,2 --split 1,2,4 \
        --shapes 5376x4096,21504x5376,2816x2112,2112x2816,5376x21504 --out "$out" |
        tee -a "$out/ops.txt"
    "$bin" bench ops --repeat 10 --types f16 --shapes 5376x8192,5376x21504,5376x8192 \
        --out "$out" | tee -a "$out/ops.txt"
}

bench_model() {
    local preset=$1 model="$scratch/$1-q4_k_m.gguf"
    local threads
    threads=$(nproc)
    # VKLLM_BENCH_LAYERS=N keeps N layers (same shapes, so the same GB/s per layer) when the
    # device time does not allow writing the full model (~17 M parameters/s per 2 cores).
    local layers=()
    if [[ -n ${VKLLM_BENCH_LAYERS:-} ]]; then layers=(--layers "$VKLLM_BENCH_LAYERS"); fi
    time "$bin" synth --preset "$preset" --quant q4_k_m --threads "$threads" "${layers[@]}" \
        -o "$model"
    "$bin" info "$model" --ctx 8192 | tail -n 20 | tee "$out/$preset-info.txt"
    # Decode on the integer mat-vec where the device takes it, then on fp32 activations.
    # VKLLM_BENCH_MODEL_ARGS adds options (e.g. --profile).
    local extra=()
    read -ra extra <<< "${VKLLM_BENCH_MODEL_ARGS:-}"
    "$bin" bench model -m "$model" --prompt 512 --gen 64 --batches 1,4 --ctx 8192 "${extra[@]}" \
        --out "$out" | tee "$out/$preset-model.txt"
    "$bin" bench model -m "$model" --prompt 512 --gen 64 --batches 1,4 --ctx 8192 --fp32-matvec \
        "${extra[@]}" --out "$out" | tee -a "$out/$preset-model.txt"
    rm -f "$model"  # the disk holds one full-size model at a time
}

bench_kv() {
    # Decode tok/s and flash-attention time after a deep context, per KV type pair (issue #14:
    # TQ3 at least 0.9x of q8_0 at the same depth). The profile splits the step by kernel, so the
    # flash_attn line against the KV bytes read gives its fraction of copy bandwidth.
    local preset=$1 model="$scratch/$1-q4_k_m.gguf"
    local layers=()
    if [[ -n ${VKLLM_BENCH_LAYERS:-} ]]; then layers=(--layers "$VKLLM_BENCH_LAYERS"); fi
    "$bin" synth --preset "$preset" --quant q4_k_m --threads "$(nproc)" "${layers[@]}" -o "$model"
    local depth kv
    for depth in 32768 131072; do
        for kv in "q8_0 q8_0" "tq3 tq3" "q8_0 tq3"; do
            read -r k v <<< "$kv"
            "$bin" info "$model" --ctx $((depth + 64)) --kv-k "$k" --kv-v "$v" | grep "KV" |
                tee -a "$out/$preset-kv.txt"
            "$bin" bench model -m "$model" --depth "$depth" --gen 32 --batches 1 --chunk 2048 \
                --kv-k "$k" --kv-v "$v" --profile --out "$out" | tee -a "$out/$preset-kv.txt"
        done
    done
    rm -f "$model"
}

bench_experts() {
    # Issue #15: decode and prefill with the experts resident, then streamed through an expert
    # cache under a VRAM budget (random synth weights route uniformly: the cache's worst case).
    local preset=$1 model="$scratch/$1-q4_k_m.gguf" budget=${VKLLM_BENCH_BUDGET:-8GiB}
    "$bin" synth --preset "$preset" --quant q4_k_m --threads "$(nproc)" -o "$model"
    local common=(-m "$model" --prompt 512 --gen 32 --batches 1,4 --out "$out")
    "$bin" info "$model" --ctx $((512 + 32 + 8)) --vram-budget "$budget" |
        grep -E "VRAM|experts|total" |
        tee -a "$out/$preset-experts.txt"
    "$bin" bench model "${common[@]}" | tee -a "$out/$preset-experts.txt"
    local mode
    for mode in "--expert-compute gpu" "--expert-compute auto" "--expert-compute gpu --no-prefetch"; do
        # shellcheck disable=SC2086 # the mode is two or three words on purpose
        "$bin" bench model "${common[@]}" --vram-budget "$budget" $mode |
            tee -a "$out/$preset-experts.txt"
    done
    rm -f "$model"
}

make_fixtures() {
    # What cmake/fixture_models.cmake makes at build time, with the carried vkllm.
    local dir=build/fixtures/models src=tests/fixtures/models
    mkdir -p "$dir"
    cp -n "$src"/*.gguf "$dir"/
    tar -xJf "$src/vocab-gemma4.gguf.tar.xz" -C "$dir"
    local mix
    for mix in q8_0 q4_0 q4_k_m q5_k_m; do
        "$bin" quantize "$src/tiny-dense-f16.gguf" "$dir/tiny-dense-$mix.gguf" --type "$mix" \
            > /dev/null
    done
    (cd "$dir" && grep -v '^#' "../../../$src/derived.sha256" | sha256sum -c --quiet)
}

use_validation_layer() {
    local deb
    deb=$(compgen -G ".gl/extra/vulkan-validationlayers_*.deb" | head -n 1) || true
    if [[ -z $deb ]]; then return 1; fi
    dpkg -x "$deb" /tmp/vkllm-vl
    export VK_LAYER_PATH=/tmp/vkllm-vl/usr/share/vulkan/explicit_layer.d
    export LD_LIBRARY_PATH=/tmp/vkllm-vl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}

run_tests() {
    local tests=.devbuild/tests/vkllm_op_tests
    if [[ ! -x $tests ]]; then
        echo "device-bench: no $tests (configure .devbuild with -DVKLLM_BUILD_TESTS=ON)" >&2
        return 2
    fi
    # The binary looks for fixtures under the path it was built in.
    local built_in=/work/main
    if [[ ! -e $built_in && $PWD != "$built_in" ]]; then
        mkdir -p "$(dirname "$built_in")" && ln -s "$PWD" "$built_in"
    fi
    make_fixtures
    if ! use_validation_layer; then
        echo "device-bench: no Khronos validation layer here: tests run without it" |
            tee "$out/tests-note.txt"
        export VKLLM_TEST_NO_VALIDATION=1
    fi
    local rc=0
    VKLLM_TEST_REQUIRE_DEVICE=1 "$tests" --gtest_brief=1 2>&1 | tee "$out/op-tests.txt" || rc=$?
    echo "device-bench: vkllm_op_tests exit $rc" | tee -a "$out/op-tests.txt"
}

IFS=, read -ra steps <<< "$what"
for step in "${steps[@]}"; do
    case $step in
        ops) bench_ops ;;
        sweep) bench_sweep ;;
        tests) (run_tests) ;;  # a subshell: the layer's environment stays out of the benches
        all) bench_ops; bench_model 31b; bench_model 26b-a4b ;;
        kv:*) bench_kv "${step#kv:}" ;;
        experts:*) bench_experts "${step#experts:}" ;;
        *) bench_model "$step" ;;  # any synth preset; synth names the valid ones
    esac
done
