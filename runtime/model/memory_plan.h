#pragma once
// Memory planning of Gemma4Model (memory_plan.cpp): resolved options, the scratch layout, KV and
// fixed scratch bytes, and the plan text.

#include <cstdint>
#include <string>

#include "runtime/model/gemma4_model.h"
#include "runtime/model/gemma4_model_impl.h"
#include "runtime/model/kv_state.h"
#include "runtime/ops/kv_store.h"

namespace vkllm {

// n_ctx 0 -> min(n_ctx_train, 8192); validates n_seq, prefill_chunk (clamped to n_ctx), KV types.
ModelOptions resolve(const Gemma4Config& cfg, ModelOptions o);
ops::KvType kv_type(GgmlType t);
// Per-column widths for B = max(prefill_chunk, n_seq) columns (logit_cols, attn_scratch and pool
// are filled in by the caller).
ScratchLayout make_layout(const Gemma4Config& c, const ModelOptions& o);
uint64_t pool_bytes(const ScratchLayout& s, const ModelOptions& o, uint32_t swa_capacity,
                    uint64_t align);
uint64_t kv_bytes(const Gemma4Config& c, const ModelOptions& o, const KvGeometry& g);
uint32_t logit_cols(const Gemma4Config& c, const ModelOptions& o, uint32_t cols,
                    uint64_t max_binding);
// Logits + readback, attention scratch, upload pool, global positions, PLE gather ids.
uint64_t fixed_bytes(const Gemma4Config& c, const ModelOptions& o, const ScratchLayout& s);
// "weights X MiB + KV cache Y MiB + scratch Z MiB = T MiB (device heap H MiB)".
std::string describe(const MemoryPlan& p);

}  // namespace vkllm
