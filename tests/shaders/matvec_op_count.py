#!/usr/bin/env python3
"""SPIR-V instructions per weight element in each mat-vec variant's inner loop (issue #12).

A GPU streaming weights at copy bandwidth leaves only ~1.4 x bits-per-weight instructions per
element (q4_K ~ 6), so the inner loop's instruction count is a GPU-free proxy for whether a kernel
can reach the roofline. For every weight type this compiles shaders/matvec.comp as the build does,
freezes the spec constants the runtime uses on GPUs (rows per subgroup 2, one column, 16-byte x
loads), lets spirv-opt unroll and optimise, finds the innermost remaining loop (the walk over the
row's blocks) and divides its instructions by the weight elements one iteration consumes
(rows x elements per work item). OpLabel, merge annotations, OpPhi and debug lines are not counted:
they cost nothing at run time.

  matvec_op_count.py SHADER_DIR [--check BASELINE] [--write BASELINE]

The integer dot-product kernels (shaders/matvec_q8.comp, the path devices with accelerated
4x8-bit dot products take) are counted the same way, as "int8:<type>", and also held to a fixed
budget: ~1.4 x bits per weight, what an H100/H200 leaves per element at copy bandwidth.

--check fails (exit 1) when a variant needs more than its baseline count + 5 %, or an integer
variant more than its budget.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

TYPES = ["f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
         "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"]
ROWS = 2  # runtime/ops/matvec.cpp k_rows_per_subgroup
# constant_id: 0 workgroup, 1 ROWS, 2 ROWS_PER_WG, 3 NCOLS, 4 X_VEC4
SPEC = f"0:128 1:{ROWS} 2:8 3:1 4:1"
SKIP = {"OpLabel", "OpLoopMerge", "OpSelectionMerge", "OpPhi", "OpLine", "OpNoLine"}
# Integer kernels: elements one item covers (quant_dot.glsl: QK / ITEMS) and the budget.
INT_TYPES = {"q4_0": (32, 6.0), "q8_0": (32, 8.0), "q4_k": (64, 6.0), "q5_k": (64, 7.5),
             "q6_k": (64, 9.0)}
INT_SPEC = f"0:128 1:{ROWS} 2:8 3:1"  # matvec_q8.comp has no X_VEC4


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def item_elems(shader_dir, define, tmp):
    probe = os.path.join(tmp, "probe.glsl")
    with open(probe, "w") as f:
        f.write('#define WEIGHT_BINDING 0\n#include "quant_dispatch.glsl"\n'
                "VKLLM_ITEM_ELEMS ITEM_ELEMS\n")
    out = run(["cpp", "-P", f"-D{define}", "-I", os.path.join(shader_dir, "common"), probe])
    expr = out.split("VKLLM_ITEM_ELEMS", 1)[1].strip().splitlines()[0]
    return eval(expr.replace("u", ""), {})


def inner_loop_ops(disassembly):
    """Instructions of the innermost loop: blocks from its header up to its merge block."""
    lines = [l.strip() for l in disassembly.splitlines()]
    label_at = {}
    for i, l in enumerate(lines):
        m = re.match(r"(%\S+) = OpLabel", l)
        if m:
            label_at[m.group(1)] = i
    loops = []  # (header line, merge line)
    for i, l in enumerate(lines):
        m = re.match(r"OpLoopMerge (%\S+) (%\S+)", l)
        if m:
            header = max(j for j in label_at.values() if j <= i)
            loops.append((header, label_at[m.group(1)]))
    innermost = [lp for lp in loops
                 if not any(o != lp and lp[0] < o[0] < lp[1] for o in loops)]
    if len(innermost) != 1:
        raise RuntimeError(f"expected one innermost loop, found {len(innermost)}")
    begin, end = innermost[0]
    count = 0
    for l in lines[begin:end]:
        # "%id = OpX ..." or "OpX ..."
        words = l.split()
        op = words[2] if len(words) > 2 and words[1] == "=" else (words[0] if words else "")
        if op.startswith("Op") and op not in SKIP:
            count += 1
    return count


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    shader_dir = args[0]
    check = args[args.index("--check") + 1] if "--check" in args else None
    write = args[args.index("--write") + 1] if "--write" in args else None
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        def count(name, source, define, spec, elems):
            spv = os.path.join(tmp, name.replace(":", "_") + ".spv")
            opt = spv + ".opt"
            run(["glslc", "--target-env=vulkan1.2", "-O", "-fshader-stage=compute",
                 "-I", os.path.join(shader_dir, "common"), f"-D{define}",
                 os.path.join(shader_dir, source), "-o", spv])
            run(["spirv-opt", "--set-spec-const-default-value", spec, "--freeze-spec-const",
                 "--fold-spec-const-op-composite",
                 "-O", "--loop-unroll", "-O", spv, "-o", opt])
            ops = inner_loop_ops(run(["spirv-dis", "--raw-id", opt]))
            counts[name] = {"ops": ops, "elements": elems, "per_element": round(ops / elems, 2)}

        for t in TYPES:
            define = "TYPE_" + t.upper()
            count(t, "matvec.comp", define, SPEC, ROWS * item_elems(shader_dir, define, tmp))
        for t, (elems, _) in INT_TYPES.items():
            count("int8:" + t, "matvec_q8.comp", "TYPE_" + t.upper(), INT_SPEC, ROWS * elems)
    print(f"{'variant':10} {'ops':>5} {'elements':>8} {'per element':>11}")
    for t, c in counts.items():
        print(f"{t:10} {c['ops']:5} {c['elements']:8} {c['per_element']:11.2f}")
    if write:
        with open(write, "w") as f:
            json.dump(counts, f, indent=1)
            f.write("\n")
    if check:
        with open(check) as f:
            base = json.load(f)
        bad = [t for t in counts if counts[t]["per_element"] > base[t]["per_element"] * 1.05]
        for t in bad:
            print(f"REGRESSION {t}: {counts[t]['per_element']} instructions per element, "
                  f"baseline {base[t]['per_element']}", file=sys.stderr)
        over = [t for t, (_, budget) in INT_TYPES.items()
                if counts["int8:" + t]["per_element"] > budget]
        for t in over:
            print(f"OVER BUDGET int8:{t}: {counts['int8:' + t]['per_element']} instructions per "
                  f"element, budget {INT_TYPES[t][1]}", file=sys.stderr)
        return 1 if bad or over else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
