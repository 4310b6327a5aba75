# MoE expert mat-mat (runtime/ops/matmul_id.h): matmul.comp with MATMUL_ID, one module per weight
# type, and the pass that groups (token, slot) pairs by expert for it.
vkllm_shader(moe_group_u32 moe_group.comp)
foreach(mmid_type ${VKLLM_WEIGHT_TYPES})
    string(TOUPPER ${mmid_type} mmid_define)
    vkllm_shader(matmul_id_${mmid_type} matmul.comp DEFINES TYPE_${mmid_define} MATMUL_ID)
endforeach()
