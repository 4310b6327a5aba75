// Weight block decoding for the kernels that read ggml tensors (matvec, matvec_id, get_rows).
// The includer defines WEIGHT_BINDING and exactly one TYPE_<T> (-D TYPE_Q4_K, ...), and gets:
//   QK            elements per block        BLOCK_BYTES  bytes per block (formats.md §1.8)
//   ITEMS         work items per block: one item is what one thread decodes per step
//   RUNS, RUN_LEN an item's elements form RUNS runs of RUN_LEN contiguous elements
//   ITEM_ELEMS    RUNS * RUN_LEN
//   uint run_start(uint sub, uint run)        first element (within the block) of a run
//   void decode_item(uint b, uint sub, out float w[ITEM_ELEMS])
//                 item `sub` of the block at byte offset b of the weight binding, in run order
// Consecutive items of a block are adjacent bytes, so consecutive threads read coalesced.
// Every decode is fp32 arithmetic; small integer codes become floats through the exponent
// trick below, which avoids int->float conversions (quarter rate on NVIDIA).

// The weight binding seen at several widths. Block starts are only as aligned as BLOCK_BYTES
// allows (2 bytes for Q4_0, Q8_0, Q5_0, Q3_K, Q6_K), so each family picks the widest safe view.
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU8 { uint8_t w_u8[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightI8 { int8_t w_i8[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU16 { uint16_t w_u16[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightU32 { uint w_u32[]; };

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

#if defined(TYPE_F32) || defined(TYPE_F16) || defined(TYPE_BF16)
#include "quant_float.glsl"
#elif defined(TYPE_Q4_0) || defined(TYPE_Q4_1) || defined(TYPE_Q5_0) || defined(TYPE_Q5_1) || \
    defined(TYPE_Q8_0)
#include "quant_legacy.glsl"
#elif defined(TYPE_Q2_K) || defined(TYPE_Q3_K) || defined(TYPE_Q4_K) || defined(TYPE_Q5_K) || \
    defined(TYPE_Q6_K)
#include "quant_k.glsl"
#else
#error "quant_dispatch.glsl: define one TYPE_<T> from VKLLM_WEIGHT_TYPES"
#endif

#define ITEM_ELEMS (RUNS * RUN_LEN)
