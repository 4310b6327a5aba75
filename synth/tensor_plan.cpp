#include "synth/tensor_plan.h"

#include <algorithm>
#include <cmath>

#include "quant/tensor_order.h"

namespace vkllm::synth {
namespace {

// Adds tensors in any order; plan_tensors() sorts them at the end.
class Planner {
  public:
    explicit Planner(bool all_f32) : matrix_type_(all_f32 ? GgmlType::F32 : GgmlType::F16) {}

    PlannedTensor& matrix(std::string name, std::vector<uint64_t> ne) {
        const float std_dev = 1.0f / std::sqrt(static_cast<float>(ne[0]));
        return matrix(std::move(name), std::move(ne), {InitKind::Normal, 0.0f, std_dev});
    }
    PlannedTensor& matrix(std::string name, std::vector<uint64_t> ne, WeightInit init) {
        return out_.emplace_back(
            PlannedTensor{std::move(name), std::move(ne), init, matrix_type_, false, {}});
    }
    void vector(std::string name, uint64_t n, WeightInit init) {
        out_.push_back({std::move(name), {n}, init, GgmlType::F32, true, {}});
    }
    void pre_norm(std::string name, uint64_t n) {
        vector(std::move(name), n, {InitKind::Normal, 1.0f, 0.2f});
    }
    void post_norm(std::string name, uint64_t n) {
        vector(std::move(name), n, {InitKind::Normal, 1.0f, 0.1f});
    }

    std::vector<PlannedTensor> take() { return std::move(out_); }

  private:
    GgmlType matrix_type_;
    std::vector<PlannedTensor> out_;
};

WeightInit qk_norm_init(uint32_t head_dim) {
    const float centre = std::pow(static_cast<float>(head_dim), -0.25f);
    return {InitKind::Normal, centre, 0.2f * centre};
}

void plan_attention(Planner& p, const std::string& b, const Gemma4Shape& s, uint32_t l) {
    const uint64_t n = s.n_embd, D = s.head_dim(l), q = D * s.n_head, kv = D * s.n_kv_head(l);
    p.pre_norm(b + "attn_norm.weight", n);
    p.matrix(b + "attn_q.weight", {n, q});
    p.matrix(b + "attn_output.weight", {q, n});
    p.vector(b + "attn_q_norm.weight", D, qk_norm_init(s.head_dim(l)));
    p.post_norm(b + "post_attention_norm.weight", n);
    // Shared-KV layers and every layer of an MTP drafter (§2.4) read another layer's K/V.
    if (l >= s.n_kv_start() || s.is_assistant()) return;
    p.matrix(b + "attn_k.weight", {n, kv});
    p.vector(b + "attn_k_norm.weight", D, qk_norm_init(s.head_dim(l)));
    if (s.has_v(l)) p.matrix(b + "attn_v.weight", {n, kv});
}

void plan_ffn(Planner& p, const std::string& b, const Gemma4Shape& s, const TensorLayout& layout,
              uint32_t l) {
    const uint64_t n = s.n_embd, f = s.ff(l);
    p.pre_norm(b + "ffn_norm.weight", n);
    p.matrix(b + "ffn_gate.weight", {n, f});
    p.matrix(b + "ffn_up.weight", {n, f});
    p.matrix(b + "ffn_down.weight", {f, n});
    p.post_norm(b + "post_ffw_norm.weight", n);
    p.vector(b + "layer_output_scale.weight", 1, {InitKind::Uniform, 0.8f, 1.2f});
    if (!s.is_moe()) return;
    const uint64_t E = s.n_expert, F = s.n_ff_expert;
    p.matrix(b + "ffn_gate_inp.weight", {n, E}, {InitKind::Normal, 0.0f, 2.0f});
    p.pre_norm(b + "ffn_gate_inp.scale", n);
    p.pre_norm(b + "pre_ffw_norm_2.weight", n);
    p.post_norm(b + "post_ffw_norm_1.weight", n);
    p.post_norm(b + "post_ffw_norm_2.weight", n);
    const std::string fused = b + "ffn_gate_up_exps.weight";
    if (layout.split_expert_gate_up) {
        // §2.3: of expert e's 2F fused rows, 0..F-1 are gate and F..2F-1 are up. No per-expert
        // .scale: the fused tensor has none either (only ffn_down_exps.scale is semantic).
        p.matrix(b + "ffn_gate_exps.weight", {n, F, E}).source = {fused, F, 2 * F, 0};
        p.matrix(b + "ffn_up_exps.weight", {n, F, E}).source = {fused, F, 2 * F, F};
    } else {
        p.matrix(fused, {n, 2 * F, E});
    }
    p.matrix(b + "ffn_down_exps.weight", {F, n, E});
    p.vector(b + "ffn_down_exps.scale", E, {InitKind::Uniform, 0.5f, 1.5f});
}

void plan_ple_layer(Planner& p, const std::string& b, const Gemma4Shape& s) {
    const uint64_t n = s.n_embd, P = s.n_embd_per_layer;
    p.matrix(b + "inp_gate.weight", {n, P});
    p.matrix(b + "proj.weight", {P, n});
    p.post_norm(b + "post_norm.weight", n);
}

void plan_globals(Planner& p, const Gemma4Shape& s, const TensorLayout& layout) {
    const uint64_t n = s.n_embd, V = s.n_vocab;
    p.matrix("token_embd.weight", {n, V});
    if (layout.untied_head) p.matrix("output.weight", {n, V});
    p.vector("output_norm.weight", n, {InitKind::Normal, 3.0f, 0.6f});
    if (s.is_assistant()) {
        // §2.4: the drafter's input takes [target embedding; target hidden], its output is
        // projected back to the target's width.
        p.matrix("nextn.pre_projection.weight", {2 * uint64_t{s.n_embd_out}, n});
        p.matrix("nextn.post_projection.weight", {n, s.n_embd_out});
    }
    // §2.2: m = int(D_full * partial_rotary_factor / 2) pairs rotate.
    const auto rotating = static_cast<float>(
        static_cast<uint32_t>(static_cast<float>(s.head_dim_full) * s.partial_rotary_full / 2.0f));
    p.vector("rope_freqs.weight", s.head_dim_full / 2, {InitKind::RopeFreqs, rotating, 0.0f});
    if (s.n_embd_per_layer == 0) return;
    const uint64_t P = s.n_embd_per_layer, PL = P * s.n_layer;
    p.matrix("per_layer_token_embd.weight", {PL, V},
             {InitKind::Normal, 0.0f, 1.0f / std::sqrt(static_cast<float>(P))});
    p.matrix("per_layer_model_proj.weight", {n, PL});
    p.pre_norm("per_layer_proj_norm.weight", P);
}

}  // namespace

uint64_t PlannedTensor::n_elements() const {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    return n;
}

std::vector<PlannedTensor> plan_tensors(const Gemma4Shape& s, const TensorLayout& layout,
                                        bool all_f32) {
    Planner p(all_f32);
    plan_globals(p, s, layout);
    for (uint32_t l = 0; l < s.n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        plan_attention(p, b, s, l);
        plan_ffn(p, b, s, layout, l);
        if (s.n_embd_per_layer != 0) plan_ple_layer(p, b, s);
    }
    std::vector<PlannedTensor> out = p.take();
    std::sort(out.begin(), out.end(), [](const PlannedTensor& x, const PlannedTensor& y) {
        return quant::tensor_order_less(x.name, y.name);
    });
    return out;
}

void assign_types(quant::QuantMix mix, const Gemma4Shape& shape, std::vector<PlannedTensor>& plan) {
    std::vector<quant::TypeRuleTensor> rule_tensors;
    rule_tensors.reserve(plan.size());
    for (const PlannedTensor& t : plan) {
        rule_tensors.push_back(
            {t.name, t.ne[0], t.is_vector ? 1u : static_cast<uint32_t>(t.ne.size()), t.type});
    }
    const std::vector<GgmlType> types =
        quant::choose_types(mix, {shape.n_layer, shape.n_expert}, rule_tensors);
    for (size_t i = 0; i < plan.size(); ++i) plan[i].type = types[i];
}

}  // namespace vkllm::synth
