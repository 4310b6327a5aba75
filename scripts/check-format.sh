#!/usr/bin/env bash
# Fails when a C++ source differs from what clang-format (the repository's .clang-format) would
# write. Fix with: bash scripts/check-format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.cpp' '*.h')
else
    mapfile -t files < <(find loader quant reference runtime server synth bench tools tests \
        -name '*.cpp' -o -name '*.h' | grep -v node_modules)
fi
if [ "${1:-}" = "--fix" ]; then
    clang-format -i "${files[@]}"
else
    clang-format --dry-run --Werror "${files[@]}"
fi
echo "check-format: ${#files[@]} files formatted"
