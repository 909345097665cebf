// attnscope-cli tokenize: the ids Hugging Face's encode gives for a text.
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/tokenizer/tokenizer.h"
#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/text_format.h"

namespace attnscope::cli {

int run_tokenize(const std::vector<std::string>& raw) {
  const Arguments args(raw, {"model", "tokenizer", "text", "text-file"}, {"json", "no-special-tokens"});
  if (args.has("model") == args.has("tokenizer"))
    throw UsageError("give exactly one of --model and --tokenizer");
  const std::filesystem::path file = args.has("tokenizer")
                                         ? std::filesystem::path(*args.value("tokenizer"))
                                         : std::filesystem::path(*args.value("model")) / "tokenizer.json";
  const std::string text = text_input(args, "text", "text-file");
  const auto tokenizer = tokenizer::Tokenizer::from_file(file);
  const std::vector<int32_t> ids = tokenizer.encode(text, !args.flag("no-special-tokens"));

  if (args.flag("json")) {
    nlohmann::json out;
    out["ids"] = ids;
    out["tokens"] = nlohmann::json::array();
    for (int32_t id : ids) out["tokens"].push_back(tokenizer.token_string(id));
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  for (size_t i = 0; i < ids.size(); ++i)
    std::cout << i << '\t' << ids[i] << '\t' << printable(tokenizer.token_string(ids[i])) << '\n';
  std::cout << ids.size() << " tokens\n";
  return 0;
}

}  // namespace attnscope::cli
