#include "runtime/ops/matvec.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/ops/quantize_q8.h"

namespace vkllm::ops {
namespace {

// Rows one subgroup computes together: x values are loaded once per item for all of them.
constexpr uint32_t k_rows_per_subgroup = 2;

// Mirrors `Push` in shaders/matvec.comp and shaders/matvec_q8.comp (std430); the integer kernel
// reads x_stride as xd_first (its x vectors are K apart by construction).
struct MatVecPush {
    uint32_t K;
    uint32_t part_rows;
    uint32_t part_first_row;
    uint32_t y_first;
    uint32_t x_stride;
    uint32_t y_stride;
    uint32_t n_rows;
    uint32_t n_experts;
    uint32_t n_used;
    uint32_t ids_stride;
    uint32_t x_per_slot;
    uint32_t yq_first;  // matvec_q8.comp -D GLU only
};
static_assert(sizeof(MatVecPush) == 48);

// Binding indices of shaders/matvec.comp.
constexpr uint32_t k_bindings = 3;
constexpr uint32_t k_bindings_id = 4;

std::string name(const char* family, GgmlType type) {
    return std::string(family) + "_" + weight_type_suffix(type);
}

// Folds `groups` workgroups into grid x and y so neither exceeds the device limit.
vk::Groups fold(const vk::Device& device, uint64_t groups, uint32_t max_x_override,
                const char* op) {
    const auto& lim = device.info().max_workgroup_count;
    uint32_t max_x = lim[0];
    if (max_x_override != 0) max_x = std::min(max_x, max_x_override);
    const uint64_t gx = std::max<uint64_t>(1, std::min<uint64_t>(groups, max_x));
    const uint64_t gy = (groups + gx - 1) / gx;
    if (gy > lim[1]) {
        throw std::invalid_argument(std::string("[") + op + "] expected at most " +
                                    std::to_string(uint64_t{max_x} * lim[1]) + " workgroups, got " +
                                    std::to_string(groups));
    }
    return {static_cast<uint32_t>(gx), static_cast<uint32_t>(gy), 1};
}

bool x_vec4_ok(GgmlType type, uint64_t x_stride, bool single_column) {
    return traits_of(type).block_elems % 4 == 0 && (single_column || x_stride % 4 == 0);
}

// The pipeline of the fp32 (`family`, e.g. "matvec_id") or integer (`family`_q8) kernel.
const vk::Pipeline& pipeline_for(vk::Context& ctx, const char* family, GgmlType type,
                                 const MatVecLayout& lay, uint32_t ncols, bool vec4, bool int_dot,
                                 uint32_t bindings) {
    std::vector<uint32_t> spec = {lay.workgroup, lay.rows_per_subgroup, lay.rows_per_workgroup,
                                  ncols};
    if (!int_dot) spec.push_back(vec4 ? 1u : 0u);  // matvec_q8.comp reads x as uvec4 always
    if (int_dot) spec.insert(spec.end(), {0u, lay.split});  // ids 4 (GLU only) and 5
    const std::string module = int_dot ? std::string(family) + "_q8" : std::string(family);
    return ctx.pipelines().get({name(module.c_str(), type), spec, sizeof(MatVecPush), bindings});
}

// Whether a call runs the integer kernel; throws when it asks for it and cannot have it.
bool use_int_dot(const vk::DeviceInfo& info, GgmlType type, MatVecPath path,
                 const std::optional<vk::BufferSpan>& xq, uint64_t n_x, uint32_t K,
                 const char* op) {
    if (path == MatVecPath::Float) return false;
    if (path == MatVecPath::Auto && !(xq.has_value() && matvec_int_dot(info, type))) return false;
    // IntDot, or Auto taking it: the same checks.
    const std::string tag = std::string("[") + op + "] ";
    if (!has_int_dot_kernel(type)) {
        throw std::invalid_argument(tag +
                                    "the integer path covers Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, got " +
                                    std::string(traits_of(type).name));
    }
    if (!info.int_dot) {
        throw std::invalid_argument(tag +
                                    "the integer path needs shaderIntegerDotProduct, which the "
                                    "device lacks");
    }
    if (!xq) throw std::invalid_argument(tag + "the integer path needs xq (quantized x)");
    check_q8_1_span(*xq, K, n_x, op, "xq");
    return true;
}

// The columns of a dense mat-vec call (record_matvec, record_matvec_glu): 1..8 of them, strides
// of at least K and N (one column's widened to its length), and y, and x where `check_x` (the
// path reads the fp32 x), holding what the call touches. Returns the strides to use.
struct Columns {
    uint32_t x_stride;
    uint32_t y_stride;
};

Columns check_columns(const vk::BufferSpan& x, uint32_t x_stride, bool check_x,
                      const vk::BufferSpan& y, uint32_t y_stride, const char* y_name, uint32_t K,
                      uint32_t N, uint32_t ncols, const char* op) {
    const std::string tag = std::string("[") + op + "] ";
    if (ncols < 1 || ncols > k_matvec_max_cols) {
        throw std::invalid_argument(tag + "expected ncols in 1..8, got " + std::to_string(ncols));
    }
    const Columns c{ncols == 1 ? std::max(x_stride, K) : x_stride,
                    ncols == 1 ? std::max(y_stride, N) : y_stride};
    if (c.x_stride < K || c.y_stride < N) {
        throw std::invalid_argument(tag + "expected x_stride >= K = " + std::to_string(K) +
                                    " and " + y_name + "_stride >= " + std::to_string(N) +
                                    ", got " + std::to_string(x_stride) + " and " +
                                    std::to_string(y_stride));
    }
    if (check_x) detail::check_floats(x, uint64_t{ncols - 1} * c.x_stride + K, op, "x");
    detail::check_floats(y, uint64_t{ncols - 1} * c.y_stride + N, op, y_name);
    return c;
}

}  // namespace

bool has_int_dot_kernel(GgmlType type) {
    switch (type) {
        case GgmlType::Q4_0:
        case GgmlType::Q8_0:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K:
            return true;
        default:
            return false;
    }
}

bool takes_int_dot(const vk::DeviceInfo& info) {
    return info.int_dot && info.int_dot_accelerated;
}

bool matvec_int_dot(const vk::DeviceInfo& info, GgmlType type) {
    return takes_int_dot(info) && has_int_dot_kernel(type);
}

MatVecLayout matvec_layout(const vk::DeviceInfo& info, uint32_t rows_per_subgroup,
                           uint32_t split_k) {
    if (rows_per_subgroup > 4) {
        throw std::invalid_argument("[matvec] expected rows per subgroup in 1..4, got " +
                                    std::to_string(rows_per_subgroup));
    }
    const uint32_t rows = rows_per_subgroup != 0 ? rows_per_subgroup : k_rows_per_subgroup;
    const uint32_t sg = std::max<uint32_t>(1, info.subgroup_size);
    const uint32_t wg = std::min(std::max<uint32_t>(128, sg),
                                 std::max<uint32_t>(sg, info.max_workgroup_invocations));
    const uint32_t subgroups = wg / sg;
    const uint32_t split = std::max<uint32_t>(1, split_k);
    if ((split & (split - 1)) != 0 || split > subgroups) {
        throw std::invalid_argument("[matvec] expected split-K a power of two up to the " +
                                    std::to_string(subgroups) + " subgroups of a workgroup, got " +
                                    std::to_string(split_k));
    }
    return {wg, rows, (subgroups / split) * rows, split};
}

const char* weight_type_suffix(GgmlType type) {
    switch (type) {
        case GgmlType::F32:
            return "f32";
        case GgmlType::F16:
            return "f16";
        case GgmlType::BF16:
            return "bf16";
        case GgmlType::Q4_0:
            return "q4_0";
        case GgmlType::Q4_1:
            return "q4_1";
        case GgmlType::Q5_0:
            return "q5_0";
        case GgmlType::Q5_1:
            return "q5_1";
        case GgmlType::Q8_0:
            return "q8_0";
        case GgmlType::Q2_K:
            return "q2_k";
        case GgmlType::Q3_K:
            return "q3_k";
        case GgmlType::Q4_K:
            return "q4_k";
        case GgmlType::Q5_K:
            return "q5_k";
        case GgmlType::Q6_K:
            return "q6_k";
        default:
            break;
    }
    throw std::invalid_argument("[matvec] expected a type in VKLLM_WEIGHT_TYPES, got " +
                                std::string(traits_of(type).name));
}

namespace detail {

void check_weight(const WeightView& w, const char* op) {
    const std::string p = std::string("[") + op + "] ";
    if (w.data == nullptr) throw std::invalid_argument(p + "expected weight data, got null");
    weight_type_suffix(w.type);
    const GgmlTypeTraits t = traits_of(w.type);
    if (w.K == 0 || w.K % t.block_elems != 0) {
        throw std::invalid_argument(p + "expected K a positive multiple of " +
                                    std::to_string(t.block_elems) + " for " + std::string(t.name) +
                                    ", got " + std::to_string(w.K));
    }
    if (w.data->row_bytes != row_bytes(w.type, w.K) || w.data->rows != w.rows ||
        w.data->parts.empty()) {
        throw std::invalid_argument(p + "expected weight spans of " + std::to_string(w.rows) +
                                    " rows x " + std::to_string(row_bytes(w.type, w.K)) +
                                    " bytes, got " + std::to_string(w.data->rows) + " rows x " +
                                    std::to_string(w.data->row_bytes) + " bytes in " +
                                    std::to_string(w.data->parts.size()) + " parts");
    }
}

void check_floats(const vk::BufferSpan& s, uint64_t count, const char* op, const char* what) {
    if (count * 4 > s.size) {
        throw std::invalid_argument(std::string("[") + op + "] expected " + what + " of at least " +
                                    std::to_string(count * 4) + " bytes, got " +
                                    std::to_string(s.size));
    }
}

ExpertCall check_expert_args(const MatVecIdArgs& a, uint64_t max_pairs, const char* op,
                             uint32_t y_rows) {
    const std::string tag = std::string("[") + op + "] ";
    if (y_rows == 0) y_rows = a.n_rows;
    check_weight(a.weight, op);
    const uint32_t K = a.weight.K;
    if (a.n_rows == 0 || a.n_experts == 0 || uint64_t{a.n_rows} * a.n_experts != a.weight.rows) {
        throw std::invalid_argument(tag + "expected weight rows = n_rows * n_experts, got " +
                                    std::to_string(a.weight.rows) + " != " +
                                    std::to_string(a.n_rows) + " * " + std::to_string(a.n_experts));
    }
    const uint64_t pairs = uint64_t{a.n_tokens} * a.n_used;
    if (a.n_used == 0 || a.n_tokens == 0 || pairs > max_pairs) {
        throw std::invalid_argument(tag + "expected 1.." + std::to_string(max_pairs) +
                                    " (token, slot) pairs, got " + std::to_string(a.n_tokens) +
                                    " tokens x " + std::to_string(a.n_used) + " slots");
    }
    ExpertCall c{pairs, a.x_per_slot ? pairs : a.n_tokens, 0, 0, 0};
    c.x_stride = c.n_x == 1 ? std::max(a.x_stride, K) : a.x_stride;
    c.y_stride = pairs == 1 ? std::max(a.y_stride, y_rows) : a.y_stride;
    c.ids_stride = a.n_tokens == 1 ? std::max(a.ids_stride, a.n_used) : a.ids_stride;
    if (c.x_stride < K || c.y_stride < y_rows || c.ids_stride < a.n_used) {
        throw std::invalid_argument(tag +
                                    "expected x_stride >= K, y_stride >= N and "
                                    "ids_stride >= n_used, got " +
                                    std::to_string(a.x_stride) + ", " + std::to_string(a.y_stride) +
                                    ", " + std::to_string(a.ids_stride));
    }
    const uint64_t x_elems = (c.n_x - 1) * c.x_stride + K;
    const uint64_t y_elems = (pairs - 1) * c.y_stride + y_rows;
    const uint64_t ids_elems = uint64_t{a.n_tokens - 1} * c.ids_stride + a.n_used;
    if (x_elems > UINT32_MAX || y_elems > UINT32_MAX || ids_elems > UINT32_MAX) {
        throw std::invalid_argument(tag + "expected x, y and ids under 2^32 elements, got " +
                                    std::to_string(x_elems) + ", " + std::to_string(y_elems) +
                                    " and " + std::to_string(ids_elems));
    }
    check_floats(a.x, x_elems, op, "x");
    check_floats(a.y, y_elems, op, "y");
    check_floats(a.ids, ids_elems, op, "ids");
    return c;
}

}  // namespace detail

uint64_t matvec_bytes(const MatVecArgs& a) {
    const uint64_t w = a.weight.data ? a.weight.data->total_bytes() : 0;
    const uint64_t x = a.xq && a.path != MatVecPath::Float ? q8_1_bytes(a.weight.K, a.ncols)
                                                           : uint64_t{a.ncols} * a.weight.K * 4;
    return w + x + uint64_t{a.ncols} * a.weight.rows * 4;
}

void record_matvec(vk::Context& ctx, vk::CommandStream& cs, const MatVecArgs& a) {
    constexpr const char* op = "matvec";
    detail::check_weight(a.weight, op);
    const uint32_t K = a.weight.K;
    const uint32_t N = a.weight.rows;
    const auto [x_stride, y_stride] =
        check_columns(a.x, a.x_stride, true, a.y, a.y_stride, "y", K, N, a.ncols, op);

    const MatVecLayout lay = matvec_layout(ctx.device().info(), a.rows_per_subgroup, a.split_k);
    const bool int_dot =
        use_int_dot(ctx.device().info(), a.weight.type, a.path, a.xq, a.ncols, K, op);
    if (lay.split > 1 && !int_dot) {
        throw std::invalid_argument("[matvec] split-K is on the integer path only");
    }
    const bool vec4 = x_vec4_ok(a.weight.type, x_stride, a.ncols == 1);
    const vk::Pipeline& p =
        pipeline_for(ctx, "matvec", a.weight.type, lay, a.ncols, vec4, int_dot, k_bindings);
    const vk::BufferSpan x = int_dot ? *a.xq : a.x;
    const uint32_t x_word = int_dot ? a.ncols * K / 16 : x_stride;  // xd_first or x_stride
    const uint64_t align = std::max<uint64_t>(1, ctx.device().limits().binding_alignment);
    const vk::TensorSpans& w = *a.weight.data;
    for (size_t part = 0; part < w.parts.size(); ++part) {
        const auto first = static_cast<uint32_t>(w.first_row(part));
        const auto rows = static_cast<uint32_t>(w.rows_in(part));
        if (rows == 0) continue;
        MatVecPush push{K, rows, first, first, x_word, y_stride, 0, 0, 0, 0, 0, 0};
        // One column: bind only this part's slice of y when it is aligned, so the parts'
        // dispatches touch disjoint ranges and need no barrier between them.
        vk::BufferSpan y = a.y;
        if (a.ncols == 1 && w.parts.size() > 1 && (a.y.offset + uint64_t{first} * 4) % align == 0) {
            y = a.y.sub(uint64_t{first} * 4, uint64_t{rows} * 4);
            push.y_first = 0;
        }
        const vk::Groups g =
            fold(ctx.device(), vk::groups_for(rows, lay.rows_per_workgroup), a.max_groups_x, op);
        cs.dispatch(p, {vk::reads(w.parts[part]), vk::reads(x), vk::writes(y)}, push, g);
    }
}

bool matvec_glu_fits(const WeightView& weight) {
    return weight.data != nullptr && weight.data->parts.size() == 1 && weight.rows % 2 == 0;
}

namespace {

// The gated kernels' pipeline and workgroup grid, after the checks both forms share: one weight
// part, 1 or 2 rows per subgroup, and a q8_1 output (integer path only) of `vectors` vectors of
// F, F a multiple of 32. The integer kernel covers 32 output rows per workgroup, so each
// vector's q8_1 block of them meets in shared memory: 32 / rows subgroups where the device
// allows that many invocations, else fewer, looping; the fp32 kernel has the mat-vec's layout.
struct GluDispatch {
    const vk::Pipeline* pipeline;
    uint32_t rows_per_workgroup;
};

GluDispatch glu_dispatch(vk::Context& ctx, const char* family, const WeightView& w, uint32_t F,
                         uint32_t ncols, uint64_t vectors, bool int_dot, bool vec4,
                         const std::optional<vk::BufferSpan>& q8_out, uint32_t rows_per_subgroup,
                         uint32_t bindings, const char* op) {
    const std::string tag = std::string("[") + op + "] ";
    if (!matvec_glu_fits(w)) {
        throw std::invalid_argument(tag + "expected one weight part of 2F rows, got " +
                                    std::to_string(w.data->parts.size()) + " parts of " +
                                    std::to_string(w.rows) + " rows");
    }
    if (rows_per_subgroup > 2) {
        throw std::invalid_argument(tag + "expected rows per subgroup 1 or 2, got " +
                                    std::to_string(rows_per_subgroup));
    }
    const uint32_t rows = rows_per_subgroup != 0 ? rows_per_subgroup : 2;
    const vk::DeviceInfo& info = ctx.device().info();
    if (!int_dot) {
        if (q8_out) throw std::invalid_argument(tag + "q8_out needs the integer path");
        const MatVecLayout lay = matvec_layout(info, rows);
        const vk::Pipeline& p =
            pipeline_for(ctx, family, w.type, lay, ncols, vec4, false, bindings);
        return {&p, lay.rows_per_workgroup};
    }
    if (q8_out) {
        if (F % 32 != 0) {
            throw std::invalid_argument(tag + "expected F a multiple of 32 for q8_out, got " +
                                        std::to_string(F));
        }
        check_q8_1_span(*q8_out, F, vectors, op, "q8_out");
    }
    const uint32_t sg = std::max<uint32_t>(1, info.subgroup_size);
    const uint32_t wg =
        std::max(sg, std::min(sg * (32 / rows), info.max_workgroup_invocations / sg * sg));
    const std::vector<uint32_t> spec = {wg, rows, 32, ncols, q8_out ? 1u : 0u};
    const std::string module = std::string(family) + "_q8";
    const vk::Pipeline& p =
        ctx.pipelines().get({name(module.c_str(), w.type), spec, sizeof(MatVecPush), bindings});
    return {&p, 32};
}

}  // namespace

void record_matvec_glu(vk::Context& ctx, vk::CommandStream& cs, const MatVecGluArgs& a) {
    constexpr const char* op = "matvec_glu";
    const std::string tag = std::string("[") + op + "] ";
    detail::check_weight(a.weight, op);
    if (a.weight.rows % 2 != 0) {
        throw std::invalid_argument(tag + "expected 2F weight rows, got " +
                                    std::to_string(a.weight.rows));
    }
    const uint32_t K = a.weight.K;
    const uint32_t F = a.weight.rows / 2;
    const vk::DeviceInfo& info = ctx.device().info();
    const bool int_dot = use_int_dot(info, a.weight.type, a.path, a.xq, a.ncols, K, op);
    const auto [x_stride, out_stride] =
        check_columns(a.x, a.x_stride, !int_dot, a.out, a.out_stride, "out", K, F, a.ncols, op);
    const bool vec4 = x_vec4_ok(a.weight.type, x_stride, a.ncols == 1);
    const GluDispatch d = glu_dispatch(ctx, "matvec_glu", a.weight, F, a.ncols, a.ncols, int_dot,
                                       vec4, a.q8_out, a.rows_per_subgroup, k_bindings + 1, op);
    const vk::BufferSpan x = int_dot ? *a.xq : a.x;
    const uint32_t x_word = int_dot ? a.ncols * K / 16 : x_stride;  // xd_first or x_stride
    const uint32_t q8_first = a.q8_out ? a.ncols * F / 16 : 0;      // vec4 index of its entries
    const MatVecPush push{K, 2 * F, 0, 0, x_word, out_stride, F, 0, 0, 0, 0, q8_first};
    const vk::BufferSpan q8 = a.q8_out ? *a.q8_out : a.out;
    cs.dispatch(
        *d.pipeline,
        {vk::reads(a.weight.data->parts[0]), vk::reads(x), vk::writes(a.out), vk::writes(q8)}, push,
        fold(ctx.device(), vk::groups_for(F, d.rows_per_workgroup), 0, op));
}

void record_matvec_id_glu(vk::Context& ctx, vk::CommandStream& cs, const MatVecIdArgs& a,
                          const std::optional<vk::BufferSpan>& q8_out) {
    constexpr const char* op = "matvec_id_glu";
    const std::string tag = std::string("[") + op + "] ";
    const auto& lim = ctx.device().info().max_workgroup_count;
    // As record_matvec_id, with n_rows the expert's 2F rows and F rows of y per pair.
    if (a.n_rows % 2 != 0) {
        throw std::invalid_argument(tag + "expected 2F rows per expert, got " +
                                    std::to_string(a.n_rows));
    }
    const uint32_t F = a.n_rows / 2;
    const detail::ExpertCall c = detail::check_expert_args(a, lim[2], op, F);
    const uint32_t K = a.weight.K;
    const bool int_dot =
        use_int_dot(ctx.device().info(), a.weight.type, a.path, a.xq, c.n_x, K, op);
    const bool vec4 = x_vec4_ok(a.weight.type, c.x_stride, c.n_x == 1);
    const GluDispatch d = glu_dispatch(ctx, "matvec_id_glu", a.weight, F, 1, c.pairs, int_dot, vec4,
                                       q8_out, 0, k_bindings_id + 1, op);
    const vk::BufferSpan x = int_dot ? *a.xq : a.x;
    const uint32_t x_word = int_dot ? static_cast<uint32_t>(c.n_x * K / 16) : c.x_stride;
    const auto q8_first = static_cast<uint32_t>(q8_out ? c.pairs * F / 16 : 0);
    const MatVecPush push{K,
                          a.weight.rows,
                          0,
                          0,
                          x_word,
                          c.y_stride,
                          F,
                          a.n_experts,
                          a.n_used,
                          c.ids_stride,
                          a.x_per_slot ? 1u : 0u,
                          q8_first};
    vk::Groups g = fold(ctx.device(), vk::groups_for(F, d.rows_per_workgroup), 0, op);
    g.z = static_cast<uint32_t>(c.pairs);
    const vk::BufferSpan q8 = q8_out ? *q8_out : a.y;
    cs.dispatch(*d.pipeline,
                {vk::reads(a.weight.data->parts[0]), vk::reads(x), vk::writes(a.y),
                 vk::reads(a.ids), vk::writes(q8)},
                push, g);
}

void record_matvec_id(vk::Context& ctx, vk::CommandStream& cs, const MatVecIdArgs& a) {
    constexpr const char* op = "matvec_id";
    const uint32_t K = a.weight.K;
    const auto& lim = ctx.device().info().max_workgroup_count;
    const detail::ExpertCall c = detail::check_expert_args(a, lim[2], op);  // pairs are grid z
    const uint64_t pairs = c.pairs, n_x = c.n_x;
    const uint32_t x_stride = c.x_stride, y_stride = c.y_stride, ids_stride = c.ids_stride;

    const MatVecLayout lay = matvec_layout(ctx.device().info());
    const bool int_dot = use_int_dot(ctx.device().info(), a.weight.type, a.path, a.xq, n_x, K, op);
    const bool vec4 = x_vec4_ok(a.weight.type, x_stride, n_x == 1);
    const vk::Pipeline& p =
        pipeline_for(ctx, "matvec_id", a.weight.type, lay, 1, vec4, int_dot, k_bindings_id);
    const vk::BufferSpan x = int_dot ? *a.xq : a.x;
    const uint32_t x_word = int_dot ? static_cast<uint32_t>(n_x * K / 16) : x_stride;
    vk::Groups g = fold(ctx.device(), vk::groups_for(a.n_rows, lay.rows_per_workgroup), 0, op);
    g.z = static_cast<uint32_t>(pairs);
    const vk::TensorSpans& w = *a.weight.data;
    for (size_t part = 0; part < w.parts.size(); ++part) {
        const auto rows = static_cast<uint32_t>(w.rows_in(part));
        if (rows == 0) continue;
        const MatVecPush push{K,
                              rows,
                              static_cast<uint32_t>(w.first_row(part)),
                              0,
                              x_word,
                              y_stride,
                              a.n_rows,
                              a.n_experts,
                              a.n_used,
                              ids_stride,
                              a.x_per_slot ? 1u : 0u,
                              0};
        cs.dispatch(p, {vk::reads(w.parts[part]), vk::reads(x), vk::writes(a.y), vk::reads(a.ids)},
                    push, g);
    }
}

}  // namespace vkllm::ops
