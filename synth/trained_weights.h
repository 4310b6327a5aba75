#pragma once
// The tensors of a model trained outside vkllm (tools/train/): a directory holding `config.json`
// (the Gemma4Shape fields by their C++ names) and one raw little-endian f32 file per tensor,
// `<GGUF tensor name>.f32`, in GGUF element order (ne[0] fastest: a torch Linear weight's
// row-major bytes). `vkllm pack` writes them as a GGUF through the synthetic-model writer, so a
// trained file has exactly the tensor table, metadata and quantization of a synthetic one.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "loader/mapped_file.h"
#include "synth/gemma4_shape.h"
#include "synth/tensor_plan.h"

namespace vkllm::synth {

// Reads and validates dir/config.json. Throws std::invalid_argument naming the file and the
// first missing, mistyped or inconsistent field.
Gemma4Shape read_trained_shape(const std::filesystem::path& dir);

// Checks that `dir` holds exactly the tensors of `plan`, each with n_elements() f32 values.
// Throws std::invalid_argument naming the first missing, extra or wrongly sized file.
void check_trained_tensors(const std::filesystem::path& dir,
                           const std::vector<PlannedTensor>& plan);

// One tensor's values, mapped read-only. Rows are read in place, so any thread may call fill().
class TrainedTensor {
  public:
    TrainedTensor(const std::filesystem::path& dir, const PlannedTensor& t);

    // Row `row` of the tensor (out.size() = ne[0] values).
    void fill(uint64_t row, std::span<float> out) const;

  private:
    MappedFile file_;
    uint64_t row_len_;
};

}  // namespace vkllm::synth
