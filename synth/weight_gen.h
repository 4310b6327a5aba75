#pragma once
// Deterministic random tensor values, addressable by row: row r of a tensor depends only on
// (seed, tensor name, r), so rows can be generated in any order, on any thread, and a file is
// byte-identical for the same seed.
//
// Normal values come from a 65,536-entry table of standard-normal quantiles (the inverse CDF at
// the bin centres, |z| <= 4.17) indexed by 16 random bits: one 64-bit SplitMix64 draw gives four
// values, an order of magnitude faster than Box-Muller, which matters for 20 GB presets.

#include <cstdint>
#include <span>
#include <string_view>

#include "synth/tensor_plan.h"

namespace vkllm::synth {

class RowGenerator {
  public:
    RowGenerator(uint64_t seed, std::string_view tensor_name, WeightInit init);

    // Fills `out` with row `row` (ne[0] = out.size() values).
    void fill(uint64_t row, std::span<float> out) const;

  private:
    uint64_t tensor_seed_;
    WeightInit init_;
};

}  // namespace vkllm::synth
