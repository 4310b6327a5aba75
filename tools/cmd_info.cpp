// `vkllm info MODEL`: what a GGUF file holds (metadata, tensor table, quant mix) and, for Gemma 4,
// the validated config and an estimate of the device memory it needs at a given context.

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/memory_plan.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

double mib(uint64_t b) {
    return static_cast<double>(b) / (1 << 20);
}

std::string value_text(const GgufValue& v) {
    if (v.type == GgufValueType::STRING) {
        std::string s(v.str.substr(0, 60));
        for (char& c : s) c = (c == '\n') ? ' ' : c;
        return "\"" + s + (v.str.size() > 60 ? "...\"" : "\"");
    }
    if (v.is_array())
        return "[" + std::to_string(v.count) + " x " + gguf_type_name(v.elem_type) + "]";
    return v.type_description();
}

void print_metadata(const GgufFile& f) {
    std::printf("metadata (%zu keys):\n", f.metadata().size());
    for (const GgufKv& kv : f.metadata()) {
        std::string text = value_text(kv.value);
        if (!kv.value.is_array() && kv.value.type != GgufValueType::STRING) {
            if (kv.value.type == GgufValueType::BOOL) {
                text = f.get_bool(kv.key) ? "true" : "false";
            } else if (auto d = f.find_scalar<double>(kv.key)) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%g", *d);
                text = buf;
            }
        }
        std::printf("  %-48.*s %s\n", static_cast<int>(kv.key.size()), kv.key.data(), text.c_str());
    }
}

void print_tensors(const GgufFile& f, bool all) {
    std::map<std::string, std::pair<uint64_t, uint64_t>> mix;  // type -> (count, bytes)
    uint64_t total = 0;
    if (all) std::printf("\ntensors (%zu):\n", f.tensors().size());
    for (const TensorInfo& t : f.tensors()) {
        const std::string type(traits_of(t.type).name);
        mix[type].first++;
        mix[type].second += t.size_bytes;
        total += t.size_bytes;
        if (!all) continue;
        std::string shape;
        for (uint32_t d = 0; d < t.n_dims; ++d) shape += (d ? " x " : "") + std::to_string(t.ne[d]);
        std::printf("  %-40s %-6s [%s] %.2f MiB\n", t.name.c_str(), type.c_str(), shape.c_str(),
                    mib(t.size_bytes));
    }
    std::printf("\nquant mix (%zu tensors, %.2f MiB):\n", f.tensors().size(), mib(total));
    for (const auto& [type, cb] : mix) {
        std::printf("  %-6s %5llu tensors %10.2f MiB %5.1f%%\n", type.c_str(),
                    static_cast<unsigned long long>(cb.first), mib(cb.second),
                    100.0 * static_cast<double>(cb.second) /
                        static_cast<double>(std::max<uint64_t>(total, 1)));
    }
}

// The experts under --vram-budget (issue #15): resident, or how big the expert cache is.
void print_expert_plan(const ModelOptions& options, const MemoryPlan& p) {
    const ExpertCachePlan& ex = p.experts;
    if (options.vram_budget == k_vram_budget_auto && ex.budget == 0) {
        std::printf("  VRAM budget auto: needs a device to size it (pass a size, e.g. 8GiB)\n");
    }
    if (ex.total_experts == 0) return;
    std::printf(
        "  experts: %llu in %u layers (%.2f MiB; one in every layer %.2f MiB); non-expert "
        "weights %.2f MiB\n",
        static_cast<unsigned long long>(ex.total_experts), ex.moe_layers, mib(ex.expert_bytes),
        mib(ex.slot_row_bytes), mib(ex.non_expert_bytes));
    if (ex.budget == 0) return;
    if (!ex.streamed) {
        std::printf("  VRAM budget %.2f MiB: every expert resident\n", mib(ex.budget));
        return;
    }
    std::printf(
        "  VRAM budget %.2f MiB: expert cache of %u slots per layer, %llu in all (%.2f MiB, "
        "%.1f%% of the experts); the rest stream from the mapped file\n",
        mib(ex.budget), ex.slots_per_layer, static_cast<unsigned long long>(ex.slots),
        mib(ex.cache_bytes),
        100.0 * static_cast<double>(ex.slots) / static_cast<double>(ex.total_experts));
}

void print_gemma4(const GgufFile& f, const ModelOptions& options) {
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    std::printf(
        "\ngemma4: %u layers, n_embd %u, vocab %u, head dims %u (full) / %u (sliding), window %u, "
        "trained context %u\n",
        c.n_layer, c.n_embd, c.n_vocab, c.head_dim_full, c.head_dim_swa, c.n_swa, c.n_ctx_train);
    if (c.has_moe())
        std::printf("  MoE: %u experts, %u used, expert width %u\n", c.n_expert, c.n_expert_used,
                    c.n_ff_expert);
    if (c.has_ple()) std::printf("  per-layer embeddings: width %u\n", c.n_embd_per_layer);
    std::printf("  final softcap %g, shared-KV layers %u, LM head %s\n",
                static_cast<double>(c.final_softcap), c.n_shared_kv_layers,
                c.tied_output ? "tied" : "untied");
    std::printf("  layers: ");
    for (const auto& L : c.layers) std::printf("%c", L.is_sliding ? 'S' : 'F');
    std::printf("\n");
    // The planner the load uses (runtime/model/memory_plan.h), on a generic GPU's limits (128 MiB
    // bindings): a run allocates these buffers; only padding and the attention split-K scratch
    // can differ on a device with other limits.
    const ModelPlan plan = plan_model(c, weight_bytes_of(Gemma4WeightsView::bind(f, c)), options,
                                      PlanDevice::generic());
    const MemoryPlan& p = plan.totals;
    std::printf("\nmemory plan at %u tokens x %u sequence(s), K %s, V %s:\n", plan.opt.n_ctx,
                plan.opt.n_seq, std::string(traits_of(options.kv_k).name).c_str(),
                std::string(traits_of(options.kv_v).name).c_str());
    std::printf("  prefill chunk %u, step of up to %u tokens, sliding-window ring %u slots\n",
                plan.opt.prefill_chunk, plan.layout.cols, plan.geom.swa_capacity);
    std::printf(
        "  weights %10.2f MiB\n  KV cache %9.2f MiB\n  scratch %10.2f MiB\n  total %12.2f MiB\n",
        mib(p.weights), mib(p.kv), mib(p.scratch), mib(p.total()));
    std::printf("%s", describe_kv(p, "  ").c_str());
    if (const std::string w = past_training_warning(p); !w.empty()) {
        std::printf("  %s\n", w.c_str());
    }
    print_expert_plan(options, p);
    try {
        plan.check_fits();
    } catch (const std::runtime_error& e) {
        std::printf("  does not fit: %s\n", e.what());
    }
    size_t caches = 0;
    for (const PlannedBuffer& b : plan.buffers) caches += b.home == BufferHome::Kv ? 1 : 0;
    std::printf("  %zu KV cache buffers; scratch and host buffers:\n", caches);
    for (const PlannedBuffer& b : plan.buffers) {
        if (b.home == BufferHome::Kv) continue;
        std::printf("    %-22s %10.2f MiB  %s\n", b.name.c_str(), mib(b.bytes), home_name(b.home));
    }
}

}  // namespace

int cmd_info(const InfoArgs& args) {
    const GgufFile f = GgufFile::open(args.path);
    std::printf("%s: GGUF v%u, %.2f MiB, %zu tensors, alignment %u\n", f.name().c_str(),
                f.version(), mib(f.file_size()), f.tensors().size(), f.alignment());
    print_metadata(f);
    print_tensors(f, args.tensors);
    if (f.find_string("general.architecture") == "gemma4") print_gemma4(f, args.plan);
    return 0;
}

}  // namespace vkllm::cli
