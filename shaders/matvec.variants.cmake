# Decode mat-vec, expert mat-vec and embedding row fetch: one module per weight type
# (docs/design/matvec.md). Rows per subgroup, workgroup size and column count are spec constants.
foreach(mv_type ${VKLLM_WEIGHT_TYPES})
    string(TOUPPER ${mv_type} mv_define)
    vkllm_shader(matvec_${mv_type} matvec.comp DEFINES TYPE_${mv_define})
    vkllm_shader(matvec_id_${mv_type} matvec.comp DEFINES TYPE_${mv_define} MATVEC_ID)
    vkllm_shader(get_rows_${mv_type} get_rows.comp DEFINES TYPE_${mv_define})
endforeach()
