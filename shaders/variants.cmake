# Module list. Each kernel family owns one shaders/<family>.variants.cmake file with lines
# vkllm_shader(<module name> <source> [DEFINES ...]); weight-dequantizing families loop over
# VKLLM_WEIGHT_TYPES.

vkllm_shader(fill_f32 fill.comp)
vkllm_shader(copy_vec4 copy_vec4.comp)
vkllm_shader(subgroup_probe subgroup_probe.comp)

file(GLOB family_files ${CMAKE_CURRENT_SOURCE_DIR}/*.variants.cmake)
list(SORT family_files)
foreach(f ${family_files})
    include(${f})
endforeach()
