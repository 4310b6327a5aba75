#pragma once
// The KV cache of one layer and the op that writes new rows into it (docs/design/attention.md).
//
// Layout: a K (or V) cache is `capacity` slots; slot s is one row of n_kv_heads head rows of
// head_dim elements, ne = [head_dim, n_kv_heads, capacity]. Elements are f16, q8_0 blocks of 32
// along head_dim (34 bytes: fp16 d + 32 int8), or TurboQuant blocks of 128 (turbo2 / turbo3 /
// turbo4: 34 / 50 / 68 bytes, formats.md §3), which hold the row rotated by F and are read in
// that basis (attention rotates the query and un-rotates the output). K and V pick their types
// independently. A
// cache larger than one binding is split by slots into TensorSpans parts of whole slots; ops
// dispatch once per part. Which position a slot holds is the caller's business (a device int32
// array, see attention.h); a sliding-window ring buffer is slot = pos % capacity on the host.

#include <cstdint>

#include "loader/ggml_type.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// Values are the shaders' KV_* constants (shaders/common/kv_types.glsl).
enum class KvType : uint32_t { F16 = 0, Q8_0 = 1, TURBO2 = 2, TURBO3 = 3, TURBO4 = 4 };

bool is_turbo(KvType type);
// The cache type of a ggml type (F16, Q8_0, TURBO2_0, TURBO3_0, TURBO4_0); throws
// std::invalid_argument for any other.
KvType kv_type_of(GgmlType type);

GgmlType ggml_type_of(KvType type);
// Elements per block along head_dim (1, 32 or 128).
uint32_t kv_block_elems(KvType type);
// Elements a head takes in the cache: head_dim, padded with zeros to a multiple of 128 for the
// turbo types (formats.md §3.7: a 128-group never spans two heads; Gemma 4's 256 and 512 need no
// padding).
uint32_t kv_stored_dim(KvType type, uint32_t head_dim);
// Bytes of one slot: n_kv_heads heads of kv_stored_dim elements.
uint64_t kv_slot_bytes(KvType type, uint32_t head_dim, uint32_t n_kv_heads);

struct KvCache {
    KvType type = KvType::F16;
    uint32_t head_dim = 0;  // a multiple of 32 (turbo types pad each head, kv_stored_dim)
    uint32_t n_kv_heads = 0;
    uint32_t capacity = 0;  // slots
    vk::TensorSpans spans;  // rows = slots, row_bytes = kv_slot_bytes(...)
};

// Allocates an (uninitialised) cache from `arena`, split into binding-sized parts as needed.
KvCache allocate_kv_cache(vk::Arena& arena, KvType type, uint32_t head_dim, uint32_t n_kv_heads,
                          uint32_t capacity);

// Writes n_tokens rows: src fp32 [head_dim, n_kv_heads, n_tokens], token t goes to slot
// slots[t] (device uint32 [n_tokens]). q8_0 rows are quantised exactly like the CPU Q8_0
// quantiser (formats.md §2.5.1), f16 with round-to-nearest-even, turbo types like
// quant::quantize_turbo_row (each 128-group of a head rotated and coded); the bytes match the CPU
// encoders bit for bit (turbo: for inputs whose squares are not f32 subnormals, which a device
// may flush to zero). Slots >= capacity are ignored; duplicate slots in one call leave one of
// the rows (unspecified which).
void record_kv_store(vk::Context& ctx, vk::CommandStream& cs, const vk::BufferSpan& src,
                     const vk::BufferSpan& slots, uint32_t n_tokens, const KvCache& dst);

}  // namespace vkllm::ops
