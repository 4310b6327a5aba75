#pragma once
// Decode mat-vec (the hot path of token generation) and the MoE expert mat-vec, for every weight
// type in VKLLM_WEIGHT_TYPES. Both only record; they may be called any number of times in one
// CommandStream. Shapes use GGUF order: a weight has ne0 = K (contiguous) and ne1 = rows.
// docs/design/matvec.md has the kernel design.

#include <cstdint>
#include <optional>

#include "loader/ggml_type.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// A ggml weight on the device: `rows` rows of K elements of `type`, split into parts of whole
// rows (data->row_bytes == row_bytes(type, K), data->rows == rows). Borrowed, not owned.
struct WeightView {
    const vk::TensorSpans* data = nullptr;
    GgmlType type = GgmlType::F32;
    uint32_t K = 0;
    uint32_t rows = 0;
};

// Which arithmetic a mat-vec runs. Float: weights decoded to fp32, fp32 x (every type). IntDot:
// weight codes times q8_1 activations (quantize_q8.h) by packed 4x8-bit integer dot products,
// one float multiply per 16-32 elements (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K; needs the device's
// shaderIntegerDotProduct). Auto: IntDot where matvec_int_dot(device, type) and the caller
// passed xq, else Float.
enum class MatVecPath { Auto, Float, IntDot };

// Whether the device takes the integer path at all: it has shaderIntegerDotProduct and
// accelerates 4x8-bit packed dot products (signed and mixed signedness).
bool takes_int_dot(const vk::DeviceInfo& info);

// Whether Auto takes the integer path for `type` on this device: the type has an integer kernel
// and the device accelerates 4x8-bit dot products. Callers quantize an activation (once, for
// all its consumers) when any consumer's weight answers yes.
bool matvec_int_dot(const vk::DeviceInfo& info, GgmlType type);

// Whether `type` has an integer dot-product kernel at all.
bool has_int_dot_kernel(GgmlType type);

// Most activation columns one mat-vec takes (more go to the tiled mat-mat, matmul.h).
inline constexpr uint32_t k_matvec_max_cols = 8;

// y[c * y_stride + r] = sum_k W[r][k] * x[c * x_stride + k], r < N, c < ncols; fp32 x and y,
// fp32 accumulation. Strides are in elements. Reads every weight byte once for all columns.
struct MatVecArgs {
    WeightView weight;  // [K, N]
    vk::BufferSpan x;   // ncols columns of K floats
    uint32_t x_stride = 0;
    vk::BufferSpan y;  // ncols columns of N floats
    uint32_t y_stride = 0;
    uint32_t ncols = 1;  // 1..8
    // x quantized by record_quantize_q8_1 (K, ncols): the integer path reads it instead of x.
    std::optional<vk::BufferSpan> xq;
    MatVecPath path = MatVecPath::Auto;
    // Test hook: cap on workgroups per grid dimension x (0 = the device limit), to exercise the
    // fold of large row counts into grid y.
    uint32_t max_groups_x = 0;
    // Bench and test hook: rows per subgroup, 1..4 (0 = matvec_layout's choice for the device).
    uint32_t rows_per_subgroup = 0;
    // Bench and test hook, integer path: subgroups sharing each row group (split-K), a power of
    // two up to the workgroup's subgroups (0 = 1, no split).
    uint32_t split_k = 0;
};

void record_matvec(vk::Context& ctx, vk::CommandStream& cs, const MatVecArgs& args);

// The workgroup shape mat-vec and expert mat-vec use on a device: max(128, subgroup) invocations,
// each subgroup computing rows_per_subgroup rows at a time (kernel_paths.h lists it).
struct MatVecLayout {
    uint32_t workgroup = 0;
    uint32_t rows_per_subgroup = 0;
    uint32_t rows_per_workgroup = 0;  // subgroups / split * rows_per_subgroup
    uint32_t split = 1;               // subgroups sharing each row group (split-K)
};
// rows_per_subgroup != 0 overrides the choice (1..4); split_k (0 or 1 = none) asks for split-K.
MatVecLayout matvec_layout(const vk::DeviceInfo& info, uint32_t rows_per_subgroup = 0,
                           uint32_t split_k = 0);

// Bytes one record_matvec call moves: weight bytes + x (ncols * K * 4, or its q8_1 form when xq
// is set and the path is not Float) + y (ncols * N * 4).
// The bench divides this by the kernel time for GB/s.
uint64_t matvec_bytes(const MatVecArgs& args);

// MoE expert mat-vec. The weight stacks E experts of N rows ([K, N, E], weight.rows = N * E;
// expert e is rows e*N .. e*N+N-1, possibly across parts). For token t < n_tokens and slot
// s < n_used, with e = ids[t * ids_stride + s] read on the device:
//   y[(t * n_used + s) * y_stride + r] = sum_k W[e*N + r][k] * x[xi * x_stride + k],
//   xi = x_per_slot ? t * n_used + s : t.
// An id >= n_experts leaves its y row unwritten.
struct MatVecIdArgs {
    WeightView weight;  // rows = n_rows * n_experts
    uint32_t n_rows = 0;
    uint32_t n_experts = 0;
    vk::BufferSpan ids;  // uint32
    uint32_t ids_stride = 0;
    uint32_t n_used = 0;
    uint32_t n_tokens = 1;
    vk::BufferSpan x;
    uint32_t x_stride = 0;
    bool x_per_slot = false;
    vk::BufferSpan y;
    uint32_t y_stride = 0;
    // The x vectors (n_x of them: one per token or per slot) quantized by record_quantize_q8_1;
    // as MatVecArgs::xq.
    std::optional<vk::BufferSpan> xq;
    MatVecPath path = MatVecPath::Auto;
};

void record_matvec_id(vk::Context& ctx, vk::CommandStream& cs, const MatVecIdArgs& args);

// Gated mat-vec of the Gemma 4 MLPs at decode, gate, up and the GELU-GLU in one dispatch:
//   out[c * out_stride + r] = gelu_tanh(W[r] . x_c) * (W[F + r] . x_c),  r < F,
// where the weight holds the F gate rows then the F up rows in one part (the loader's fused
// ffn_gate_up, model_weights.h). The path is chosen as for record_matvec (xq, path). On the
// integer path q8_out also gets out's q8_1 form (F a multiple of 32) for the down projection,
// byte for byte what record_gelu_glu's q8_out writes; the workgroup computes 32 output rows.
struct MatVecGluArgs {
    WeightView weight;  // [K, 2F]
    vk::BufferSpan x;   // ncols columns of K floats (fp32 path)
    uint32_t x_stride = 0;
    std::optional<vk::BufferSpan> xq;  // x's q8_1 form (integer path)
    MatVecPath path = MatVecPath::Auto;
    vk::BufferSpan out;
    uint32_t out_stride = 0;               // >= F; ignored for one column
    uint32_t ncols = 1;                    // 1..8
    std::optional<vk::BufferSpan> q8_out;  // integer path only: q8_1_bytes(F, ncols)
    uint32_t rows_per_subgroup = 0;        // test hook: 1 or 2 (0 = 2)
};

// Whether the gated kernels can read this weight: one part, an even row count.
bool matvec_glu_fits(const WeightView& weight);

void record_matvec_glu(vk::Context& ctx, vk::CommandStream& cs, const MatVecGluArgs& args);

// The same for the MoE experts (gate_up_exps, [K, 2F, E], each expert's F gate rows then its F
// up rows, args.n_rows = 2F): y[(t * n_used + s) * y_stride + r] = gelu_tanh(gate) * up for
// r < F, y_stride >= F. q8_out (integer path): y's q8_1 form, one vector of F per (token, slot)
// pair, for the down projection.
void record_matvec_id_glu(vk::Context& ctx, vk::CommandStream& cs, const MatVecIdArgs& args,
                          const std::optional<vk::BufferSpan>& q8_out);

// Module-name suffix of a weight type ("q4_k"); throws std::invalid_argument for a type that is
// not in VKLLM_WEIGHT_TYPES. Shared with get_rows.
const char* weight_type_suffix(GgmlType type);

namespace detail {  // argument checks shared with get_rows; throw std::invalid_argument
void check_weight(const WeightView& w, const char* op);
void check_floats(const vk::BufferSpan& s, uint64_t count, const char* op, const char* what);

// An expert call's checked geometry (record_matvec_id, record_matmul_id): the pair count, the
// number of x columns, and the strides with a single column's stride widened to its length.
struct ExpertCall {
    uint64_t pairs;
    uint64_t n_x;
    uint32_t x_stride;
    uint32_t y_stride;
    uint32_t ids_stride;
};
// Checks the weight, rows = n_rows * n_experts, 1..max_pairs (token, slot) pairs, the strides,
// indices under 2^32, and that x, y and ids hold what the call touches.
// y_rows: rows of y per pair (0: n_rows; the gated kernel writes F of its 2F).
ExpertCall check_expert_args(const MatVecIdArgs& a, uint64_t max_pairs, const char* op,
                             uint32_t y_rows = 0);
}  // namespace detail

}  // namespace vkllm::ops
