# Decode mat-vec, expert mat-vec and embedding row fetch: one module per weight type
# (docs/design/matvec.md). Rows per subgroup, workgroup size and column count are spec constants.
foreach(mv_type ${VKLLM_WEIGHT_TYPES})
    string(TOUPPER ${mv_type} mv_define)
    vkllm_shader(matvec_${mv_type} matvec.comp DEFINES TYPE_${mv_define})
    vkllm_shader(matvec_id_${mv_type} matvec.comp DEFINES TYPE_${mv_define} MATVEC_ID)
    vkllm_shader(matvec_glu_${mv_type} matvec.comp DEFINES TYPE_${mv_define} GLU)
    vkllm_shader(matvec_id_glu_${mv_type} matvec.comp DEFINES TYPE_${mv_define} MATVEC_ID GLU)
    vkllm_shader(get_rows_${mv_type} get_rows.comp DEFINES TYPE_${mv_define})
endforeach()

# Integer dot-product mat-vec on q8_1 activations (quant_dot.glsl), for the types it covers, and
# the activation quantizer it reads from.
foreach(mv_type q4_0 q8_0 q4_k q5_k q6_k)
    string(TOUPPER ${mv_type} mv_define)
    vkllm_shader(matvec_q8_${mv_type} matvec_q8.comp DEFINES TYPE_${mv_define})
    vkllm_shader(matvec_id_q8_${mv_type} matvec_q8.comp DEFINES TYPE_${mv_define} MATVEC_ID)
    vkllm_shader(matvec_glu_q8_${mv_type} matvec_q8.comp DEFINES TYPE_${mv_define} GLU)
    vkllm_shader(matvec_id_glu_q8_${mv_type} matvec_q8.comp DEFINES TYPE_${mv_define} MATVEC_ID GLU)
endforeach()
vkllm_shader(quantize_q8_1 quantize_q8_1.comp)
