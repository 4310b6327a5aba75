# Small ops of the forward pass (docs/design/elementwise-ops.md). fp32 in and out, so one module
# each; features (weight, residual, fused layout, op kind) are specialization constants.
vkllm_shader(rms_norm_f32 rms_norm.comp)
vkllm_shader(rope_neox_f32 rope.comp)
vkllm_shader(glu_gelu_f32 glu.comp)
vkllm_shader(softmax_f32 softmax.comp)
vkllm_shader(binary_f32 binary.comp)
vkllm_shader(softcap_f32 softcap.comp)
vkllm_shader(argmax_f32 argmax.comp)
vkllm_shader(moe_route_f32 moe_route.comp)
vkllm_shader(moe_combine_f32 moe_combine.comp)
