// `vkllm detokenize -m MODEL [--skip-special]`: the text of the ids on stdin (a JSON array, or
// integers separated by whitespace or commas), written exactly, without a trailing newline.
// Control tokens such as <bos> are shown unless --skip-special.

#include <cstdio>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "tools/cli_text.h"
#include "tools/commands.h"

namespace vkllm::cli {

int cmd_detokenize(const DetokenizeArgs& args) {
    const GgufFile file = GgufFile::open(args.model);
    const Tokenizer tokenizer = Tokenizer::from_gguf(file);
    const std::vector<int32_t> ids = parse_token_ids(read_all(stdin), tokenizer.vocab_size());
    const std::string text = tokenizer.decode(ids, args.skip_special);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

}  // namespace vkllm::cli
