// The weight binding (WEIGHT_BINDING, defined by the includer) seen at several widths, and the
// small load and code helpers shared by the float decoders (quant_dispatch.glsl) and the integer
// dot-product decoders (quant_dot.glsl).

// Block starts are only as aligned as BLOCK_BYTES allows (2 bytes for Q5_0 and Q3_K), so each
// family picks the widest safe view. Q4_0, Q8_0 and Q6_K are stored grouped (below).
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU8 { uint8_t w_u8[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightI8 { int8_t w_i8[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU16 { uint16_t w_u16[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU32 { uint w_u32[]; };
// 16-byte loads, where every block start of a type is 16-byte aligned (Q4_K, Q5_K) and for the
// codes of the grouped types.
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU128 { uvec4 w_u128[]; };

uint ld_u8(uint b) { return uint(w_u8[b]); }
float ld_i8f(uint b) { return float(int(w_i8[b])); }
uint ld_u16(uint b) { return uint(w_u16[b >> 1]); }
uint ld_u32_a4(uint b) { return w_u32[b >> 2]; }                         // b % 4 == 0
uint ld_u32_a2(uint b) { return ld_u16(b) | (ld_u16(b + 2u) << 16); }  // b % 2 == 0
float ld_f16(uint b) { return unpackHalf2x16(ld_u16(b)).x; }
float ld_bf16(uint b) { return uintBitsToFloat(ld_u16(b) << 16); }

// float(v) - bias for 0 <= v < 2^22 and small integer bias, exactly: 2^23 + v has v in its low
// mantissa bits, and subtracting 2^23 + bias is exact (both operands lie in [2^22, 2^24)).
float code_to_float(uint v, float bias) {
    return uintBitsToFloat(v | 0x4B000000u) - (8388608.0 + bias);
}

// Byte i (0..3) of a little-endian word.
uint byte_of(uint word, uint i) { return (word >> (8u * i)) & 0xFFu; }

// The grouped device layout of Q4_0, Q8_0 and Q6_K (quant/device_layout.h): from the start of the
// bound part, each run of 8 blocks stores the blocks' codes (their bytes but the fp16 d, 16, 32
// or 208 of them, so 16-byte aligned) and then the 8 d values. The part's last group may hold
// fewer blocks, which moves its d values: kernels set w_part_blocks (blocks in the bound part)
// before decoding. Callers keep addressing blocks by their GGUF byte offset b (a multiple of
// block_bytes); grouped_block gives the offsets of the codes (x) and of d (y).
uint w_part_blocks = 0u;

uvec2 grouped_block(uint b, uint block_bytes) {
    const uint id = b / block_bytes;
    const uint slot = id & 7u;
    const uint group = b - slot * block_bytes;
    const uint n = min(8u, w_part_blocks - (id - slot));
    const uint codes_bytes = block_bytes - 2u;
    return uvec2(group + slot * codes_bytes, group + n * codes_bytes + 2u * slot);
}
