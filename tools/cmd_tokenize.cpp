// `vkllm tokenize -m MODEL [--no-bos] [--no-special] [--json]`: the ids of the text on stdin
// (every byte, a trailing newline included). Reads only the GGUF's tokenizer; no GPU.

#include <cstdio>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "tools/cli_text.h"
#include "tools/commands.h"

namespace vkllm::cli {

int cmd_tokenize(const TokenizeArgs& args) {
    const GgufFile file = GgufFile::open(args.model);
    const Tokenizer tokenizer = Tokenizer::from_gguf(file);
    const std::string text = read_all(stdin);
    const std::vector<int32_t> ids = tokenizer.encode(text, !args.no_bos, !args.no_special);
    std::printf("%s\n", format_token_ids(ids, args.json).c_str());
    return 0;
}

}  // namespace vkllm::cli
