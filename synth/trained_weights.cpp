#include "synth/trained_weights.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace vkllm::synth {
namespace {

constexpr const char* k_suffix = ".f32";

std::filesystem::path tensor_path(const std::filesystem::path& dir, const std::string& name) {
    return dir / (name + k_suffix);
}

template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end()) throw std::invalid_argument(where + ": missing \"" + key + "\"");
    try {
        out = it->get<T>();
    } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument(where + ": \"" + key + "\" has the wrong type");
    }
}

// Unsigned fields must be whole numbers >= 0: nlohmann would wrap -1 to 4294967295.
void read_u32(const nlohmann::json& j, const char* key, uint32_t& out, const std::string& where) {
    int64_t v = 0;
    read_field(j, key, v, where);
    if (v < 0 || v > int64_t{UINT32_MAX}) {
        throw std::invalid_argument(where + ": \"" + key + "\" = " + std::to_string(v) +
                                    " is out of range");
    }
    out = static_cast<uint32_t>(v);
}

}  // namespace

Gemma4Shape read_trained_shape(const std::filesystem::path& dir) {
    const std::filesystem::path path = dir / "config.json";
    const std::string where = path.string();
    std::ifstream in(path);
    if (!in)
        throw std::invalid_argument(where + ": cannot open (not a trained-weights directory?)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(where + ": not JSON: " + e.what());
    }
    if (!j.is_object()) throw std::invalid_argument(where + ": not a JSON object");
    Gemma4Shape s;
    read_field(j, "name", s.name, where);
    read_u32(j, "n_layer", s.n_layer, where);
    read_u32(j, "n_embd", s.n_embd, where);
    read_u32(j, "n_ctx", s.n_ctx, where);
    read_u32(j, "n_vocab", s.n_vocab, where);
    read_u32(j, "n_head", s.n_head, where);
    read_u32(j, "n_kv_head_swa", s.n_kv_head_swa, where);
    read_u32(j, "n_kv_head_full", s.n_kv_head_full, where);
    read_u32(j, "head_dim_swa", s.head_dim_swa, where);
    read_u32(j, "head_dim_full", s.head_dim_full, where);
    read_u32(j, "n_ff", s.n_ff, where);
    read_u32(j, "full_period", s.full_period, where);
    read_field(j, "full_has_v", s.full_has_v, where);
    read_u32(j, "n_swa", s.n_swa, where);
    read_u32(j, "n_expert", s.n_expert, where);
    read_u32(j, "n_expert_used", s.n_expert_used, where);
    read_u32(j, "n_ff_expert", s.n_ff_expert, where);
    read_field(j, "rope_base_swa", s.rope_base_swa, where);
    read_field(j, "rope_base_full", s.rope_base_full, where);
    read_field(j, "partial_rotary_full", s.partial_rotary_full, where);
    read_field(j, "rms_eps", s.rms_eps, where);
    read_field(j, "final_softcap", s.final_softcap, where);
    if (j.contains("n_embd_out")) read_u32(j, "n_embd_out", s.n_embd_out, where);
    // Trained models have no per-layer embeddings or shared KV (tools/train/ cannot make them).
    try {
        validate_shape(s);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(where + ": " + e.what());
    }
    return s;
}

void check_trained_tensors(const std::filesystem::path& dir,
                           const std::vector<PlannedTensor>& plan) {
    std::set<std::string> expected;
    for (const PlannedTensor& t : plan) {
        expected.insert(t.name + k_suffix);
        const std::filesystem::path p = tensor_path(dir, t.name);
        std::error_code ec;
        const uintmax_t size = std::filesystem::file_size(p, ec);
        if (ec) throw std::invalid_argument(p.string() + ": missing (the shape needs this tensor)");
        if (size != t.n_elements() * sizeof(float)) {
            throw std::invalid_argument(p.string() + ": " + std::to_string(size) +
                                        " bytes, the shape needs " +
                                        std::to_string(t.n_elements()) + " f32 values");
        }
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string file = entry.path().filename().string();
        if (entry.path().extension() == k_suffix && expected.count(file) == 0) {
            throw std::invalid_argument((dir / file).string() +
                                        ": not a tensor of this shape (wrong config.json?)");
        }
    }
}

TrainedTensor::TrainedTensor(const std::filesystem::path& dir, const PlannedTensor& t)
    : file_(tensor_path(dir, t.name)), row_len_(t.ne[0]) {
    if (file_.size() != t.n_elements() * sizeof(float)) {
        throw std::invalid_argument(file_.path() + ": changed size while packing");
    }
}

void TrainedTensor::fill(uint64_t row, std::span<float> out) const {
    std::memcpy(out.data(), file_.bytes().data() + row * row_len_ * sizeof(float),
                out.size() * sizeof(float));
}

}  // namespace vkllm::synth
