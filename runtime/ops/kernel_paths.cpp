#include "runtime/ops/kernel_paths.h"

#include "runtime/ops/attention.h"
#include "runtime/ops/matmul.h"
#include "runtime/ops/matmul_id.h"
#include "runtime/ops/matvec.h"

namespace vkllm::ops {
namespace {

std::string tile_text(const MatMulTile& t) {
    return std::to_string(t.bm) + "x" + std::to_string(t.bn) + " tile, " + std::to_string(t.tm) +
           "x" + std::to_string(t.tn) + " per invocation, " +
           std::to_string(detail::tile_threads(t)) + " invocations";
}

}  // namespace

std::vector<KernelPath> kernel_paths(const vk::DeviceInfo& info) {
    std::vector<KernelPath> out;
    const MatVecLayout mv = matvec_layout(info);
    out.push_back(
        {"matvec, matvec_id", "workgroup " + std::to_string(mv.workgroup) + ", " +
                                  std::to_string(mv.rows_per_workgroup) + " rows per workgroup (" +
                                  std::to_string(mv.rows_per_subgroup) + " per subgroup of " +
                                  std::to_string(info.subgroup_size) + ")"});
    // The column counts where the tile choice changes, plus a prefill chunk.
    for (uint32_t m : {16u, 48u, 512u}) {
        out.push_back({"matmul M=" + std::to_string(m), tile_text(matmul_tile(info, m))});
    }
    for (uint32_t mean : {8u, 64u}) {
        out.push_back({"matmul_id " + std::to_string(mean) + " columns per expert",
                       tile_text(matmul_id_tile(info, mean))});
    }
    // Gemma 4 head sizes (sliding 256, global 512) at decode (GQA 2 rows) and prefill (8 x 2).
    for (uint32_t d : {256u, 512u}) {
        for (uint32_t rows : {2u, 16u}) {
            out.push_back(
                {"flash_attn D=" + std::to_string(d) + ", " + std::to_string(rows) + " query rows",
                 std::to_string(attention_rows_per_group(info, d, rows)) +
                     " rows per workgroup of 64"});
        }
    }
    out.push_back({"flash_attn split-K", "split until " +
                                             std::to_string(attention_split_target(info)) +
                                             " workgroups, chunks of >= 256 slots"});
    // Which arithmetic the decode mat-vec runs (matvec.h): the integer kernels where the device
    // accelerates 4x8-bit dot products. No kernel uses fp16 arithmetic.
    const bool int_dot = takes_int_dot(info);
    out.push_back({"matvec arithmetic",
                   int_dot ? std::string("integer dot products on q8_1 activations for Q4_0, "
                                         "Q8_0, Q4_K, Q5_K, Q6_K; fp32 for the other types")
                           : std::string("fp32 decode and accumulation (no accelerated integer "
                                         "dot product)")});
    return out;
}

}  // namespace vkllm::ops
