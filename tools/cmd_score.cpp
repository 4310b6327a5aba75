// `vkllm score -m MODEL --tokens ID,ID,... [--top K] [--json] [--ctx N] [--kv-k T] [--kv-v T]`:
// the top-K log-probabilities after each input token, from ONE prefill that returns the logits
// of every position. Entry i is the distribution of the token that would follow token i.
// With --json: {"positions": [{"top": [[id, logprob], ...]}, ...]}; else one line per position.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>
#include <stdexcept>

#include "runtime/generate/sampler.h"
#include "tools/cli_text.h"
#include "tools/commands.h"
#include "tools/model_args.h"

namespace vkllm::cli {
namespace {

// exp(mean NLL) of tokens[1..] under the logits of the positions before them, in double.
void print_perplexity(const std::vector<float>& logits, const std::vector<int32_t>& tokens,
                      uint32_t n_vocab, bool json) {
    if (tokens.size() < 2) throw std::invalid_argument("--perplexity needs at least 2 tokens");
    double nll = 0.0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        const std::span<const float> row(logits.data() + i * n_vocab, n_vocab);
        double mx = -std::numeric_limits<double>::infinity();
        for (float v : row) mx = std::max(mx, static_cast<double>(v));
        double sum = 0.0;
        for (float v : row) sum += std::exp(static_cast<double>(v) - mx);
        nll += mx + std::log(sum) - static_cast<double>(row[static_cast<size_t>(tokens[i + 1])]);
    }
    const size_t n = tokens.size() - 1;
    const double mean = nll / static_cast<double>(n);
    if (json) {
        std::printf("{\"n_predicted\": %zu, \"mean_nll\": %.6f, \"perplexity\": %.6f}\n", n, mean,
                    std::exp(mean));
    } else {
        std::printf("perplexity %.4f (mean NLL %.5f nat) over %zu predicted tokens\n",
                    std::exp(mean), mean, n);
    }
}

}  // namespace

int cmd_score(const ScoreArgs& args) {
    // Range-checked against the vocabulary once the model is loaded.
    const std::vector<int32_t> tokens = parse_token_ids(args.tokens, 0);
    if (tokens.empty()) throw std::invalid_argument("--tokens: no token ids given");

    ModelArgs model = args.model;
    if (model.options.n_ctx == 0) model.options.n_ctx = static_cast<uint32_t>(tokens.size());
    auto loaded = open_model(model);
    const uint32_t n_vocab = loaded->model->n_vocab();
    parse_token_ids(args.tokens, n_vocab);
    const std::vector<float> logits = loaded->model->prefill(0, tokens, /*all_logits=*/true);
    if (logits.size() != static_cast<size_t>(n_vocab) * tokens.size()) {
        throw std::runtime_error("prefill returned " + std::to_string(logits.size()) +
                                 " logits for " + std::to_string(tokens.size()) + " positions");
    }

    if (args.perplexity) {
        print_perplexity(logits, tokens, n_vocab, args.json);
        return 0;
    }
    std::vector<std::vector<std::pair<int32_t, float>>> positions;
    positions.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        positions.push_back(
            top_logprobs(std::span<const float>(logits).subspan(i * n_vocab, n_vocab), args.top));
    }
    if (args.json) {
        std::printf("%s\n", format_score_json(positions).c_str());
        return 0;
    }
    for (size_t i = 0; i < positions.size(); ++i) {
        std::printf("%zu %d:", i, tokens[i]);
        for (const auto& [id, logprob] : positions[i]) {
            std::printf(" %d(%.4f)", id, static_cast<double>(logprob));
        }
        std::printf("\n");
    }
    return 0;
}

}  // namespace vkllm::cli
