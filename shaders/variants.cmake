# One line per SPIR-V module: vkllm_shader(<module name> <source> [DEFINES ...]).
# Kernel families that dequantize weights loop over VKLLM_WEIGHT_TYPES.

vkllm_shader(fill_f32 fill.comp)
