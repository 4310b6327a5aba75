// Shared by every kernel. Only storage-width extensions are required (device.cpp checks them):
// arithmetic stays fp32 so GPUs with slow fp16 math (Pascal) run the same SPIR-V at full speed.
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
