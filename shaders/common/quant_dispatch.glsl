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
// trick (code_to_float, weight_views.glsl), which avoids int->float conversions (quarter rate on NVIDIA).

#include "weight_views.glsl"

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
