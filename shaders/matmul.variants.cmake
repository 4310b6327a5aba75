# Prefill mat-mat: one module per weight type (docs/design/matmul.md). Tile sizes, workgroup size
# and the vec4 activation path are spec constants chosen per device in runtime/ops/matmul.cpp.
foreach(mm_type ${VKLLM_WEIGHT_TYPES})
    string(TOUPPER ${mm_type} mm_define)
    vkllm_shader(matmul_${mm_type} matmul.comp DEFINES TYPE_${mm_define})
endforeach()
