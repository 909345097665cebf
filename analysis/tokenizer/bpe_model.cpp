// BPE as tokenizers implements it (see bpe_model.h).
#include "analysis/tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <shared_mutex>

#include "analysis/tokenizer/unicode_utf8.h"
#include "kernels/error.h"

namespace attnscope::tokenizer::detail {

// Results per pre-token: most words of a text repeat, so this is where the speed comes from.
// Shared between threads; bounded so a huge text cannot grow it without limit.
struct BpeModel::Cache {
  static constexpr size_t kMaxEntries = 1 << 18;
  static constexpr size_t kMaxWordBytes = 256;
  std::shared_mutex mutex;
  StringMap<std::vector<int32_t>> map;
};

BpeModel::BpeModel() : cache_(std::make_unique<Cache>()) {}
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

namespace {

// One merge entry as two token strings, from either "a b" or ["a", "b"].
std::pair<std::string, std::string> parse_merge(const JsonNode& entry) {
  if (entry.value().is_string()) {
    std::string line = entry.as_string();
    size_t space = line.find(' ');
    // tokenizers splits on every space and wants exactly two parts.
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      entry.fail("expected \"<left> <right>\" with exactly one space, found \"" + line + "\"");
    }
    return {line.substr(0, space), line.substr(space + 1)};
  }
  const auto& v = entry.value();
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_string()) {
    entry.fail("expected a pair of strings");
  }
  return {v[0].get<std::string>(), v[1].get<std::string>()};
}

// Llama 2 / Mistral have no pre-tokenizer: a whole text is one BPE word, which makes the merge
// queue as long as the text and defeats the word cache. In their vocabularies "▁" (the
// Metaspace space) starts tokens and fills runs of itself but never follows another character,
// so no merge joins "x" and "▁...": the text can be cut before such a "▁" and give the same ids.
constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581

// True when merging `left` and `right` would join a character to a following "▁".
bool joins_before_metaspace(std::string_view left, std::string_view right) {
  const size_t n = kMetaspace.size();
  const bool right_starts = right.substr(0, n) == kMetaspace;
  const bool left_ends = left.size() >= n && left.substr(left.size() - n) == kMetaspace;
  return right_starts && !left_ends;
}

}  // namespace

BpeModel BpeModel::parse(const JsonNode& model) {
  model.expect_object();
  const std::string type = model.optional_string("type").value_or("BPE");
  if (type != "BPE") {
    model.field("type").fail("unsupported model type \"" + type + "\" (only BPE is supported)");
  }
  if (auto dropout = model.optional_field("dropout")) {
    if (!dropout->value().is_number() || dropout->value().get<double>() != 0.0) {
      dropout->fail("BPE dropout is not supported (it makes encoding random); expected null");
    }
  }
  BpeModel bpe;
  bpe.origin_ = model.origin();
  bpe.unk_token_ = model.optional_string("unk_token");
  bpe.continuing_subword_prefix_ = model.optional_string("continuing_subword_prefix").value_or("");
  bpe.end_of_word_suffix_ = model.optional_string("end_of_word_suffix").value_or("");
  bpe.fuse_unk_ = model.bool_field("fuse_unk", false);
  bpe.byte_fallback_ = model.bool_field("byte_fallback", false);
  bpe.ignore_merges_ = model.bool_field("ignore_merges", false);

  JsonNode vocab = model.field("vocab");
  vocab.expect_object();
  bpe.vocab_.reserve(vocab.value().size());
  for (auto it = vocab.value().begin(); it != vocab.value().end(); ++it) {
    JsonNode id_node(it.value(), vocab.path() + "[\"" + it.key() + "\"]", model.origin());
    int32_t id = id_node.as_id();
    bpe.vocab_.emplace(it.key(), id);
    bpe.max_id_ = std::max(bpe.max_id_, id);
  }
  bpe.vocab_r_.reserve(bpe.vocab_.size());
  for (const auto& [token, id] : bpe.vocab_) bpe.vocab_r_[id] = &token;

  if (bpe.unk_token_) {
    auto it = bpe.vocab_.find(*bpe.unk_token_);
    if (it != bpe.vocab_.end()) bpe.unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = bpe.vocab_.find(std::string_view(name));
    bpe.byte_ids_[b] = it == bpe.vocab_.end() ? -1 : it->second;
  }

  JsonNode merges = model.field("merges");
  size_t count = merges.array_size();
  bpe.merges_.reserve(count);
  int32_t rank = 0;
  const size_t prefix_len = bpe.continuing_subword_prefix_.size();
  // The cut must also leave step 1 of merge_word unchanged: "▁" has to be a vocabulary entry
  // (so a pending unknown run is flushed right before it), and no prefix or suffix may apply.
  bool cut_at_metaspace = !bpe.ignore_merges_ && prefix_len == 0 && bpe.end_of_word_suffix_.empty() &&
                          bpe.vocab_.find(kMetaspace) != bpe.vocab_.end();
  for (size_t i = 0; i < count; ++i) {
    JsonNode entry = merges.element(i);
    if (entry.value().is_string() && entry.value().get_ref<const std::string&>().rfind("#version", 0) == 0) {
      continue;  // header line of a merges.txt carried over; tokenizers skips it
    }
    auto [left, right] = parse_merge(entry);
    if (joins_before_metaspace(left, right)) cut_at_metaspace = false;
    auto l = bpe.vocab_.find(left), r = bpe.vocab_.find(right);
    if (l == bpe.vocab_.end()) entry.fail("token \"" + left + "\" is not in the vocabulary");
    if (r == bpe.vocab_.end()) entry.fail("token \"" + right + "\" is not in the vocabulary");
    if (right.size() < prefix_len) entry.fail("token \"" + right + "\" lacks the continuing_subword_prefix");
    std::string merged = left + right.substr(prefix_len);
    auto m = bpe.vocab_.find(merged);
    if (m == bpe.vocab_.end()) entry.fail("merged token \"" + merged + "\" is not in the vocabulary");
    // A repeated pair keeps its last rank, as tokenizers' map insertion does.
    bpe.merges_.insert_or_assign(l->second, r->second, MergeTable::Merge{rank, m->second});
    ++rank;
  }
  bpe.cut_before_metaspace_ = cut_at_metaspace;
  return bpe;
}

std::optional<int32_t> BpeModel::token_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::token_string(int32_t id) const {
  auto it = vocab_r_.find(id);
  return it == vocab_r_.end() ? nullptr : it->second;
}

int32_t BpeModel::unk_id() const {
  if (!unk_id_) throw Error(origin_, "model.unk_token \"" + *unk_token_ + "\" is not in the vocabulary");
  return *unk_id_;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    // Llama 3: a pre-token that is itself a vocabulary entry is emitted whole.
    auto it = vocab_.find(word);
    if (it != vocab_.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  if (!cut_before_metaspace_) {
    tokenize_cached(word, ids);
    return;
  }
  // Cut before every "▁" that does not continue a run of them; no merge can join the two sides
  // (see kMetaspace), so each part can be merged, and cached, on its own.
  const size_t n = kMetaspace.size();
  size_t start = 0;
  for (size_t pos = word.find(kMetaspace, 1); pos != std::string_view::npos; pos = word.find(kMetaspace, pos + n)) {
    if (pos >= n && word.substr(pos - n, n) == kMetaspace) continue;
    tokenize_cached(word.substr(start, pos - start), ids);
    start = pos;
  }
  tokenize_cached(word.substr(start), ids);
}

void BpeModel::tokenize_cached(std::string_view word, std::vector<int32_t>& ids) const {
  const bool cacheable = word.size() < Cache::kMaxWordBytes;
  if (cacheable) {
    std::shared_lock lock(cache_->mutex);
    auto it = cache_->map.find(word);
    if (it != cache_->map.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t first = ids.size();
  merge_word(word, ids);
  if (cacheable) {
    std::unique_lock lock(cache_->mutex);
    if (cache_->map.size() < Cache::kMaxEntries) {
      cache_->map.emplace(std::string(word), std::vector<int32_t>(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end()));
    }
  }
}

namespace {

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;  // bytes of the word it covers; 0 once merged into its left neighbour
};

struct MergeCandidate {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
  // The heap top is the largest: make that the lowest rank, then the leftmost.
  bool operator<(const MergeCandidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  auto add = [&](int32_t id, size_t len) {
    auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, static_cast<uint32_t>(len)});
  };

  // 1. One symbol per character (with prefix / suffix), unknown ones via byte fallback or unk.
  int32_t pending_unk = -1;  // an unknown run waiting to be added: its id and byte length
  size_t pending_unk_len = 0;
  std::string scratch;
  size_t i = 0;
  while (i < word.size()) {
    size_t start = i;
    i += utf8::char_length(static_cast<unsigned char>(word[i]));
    const size_t byte_len = i - start;
    std::string_view s = word.substr(start, byte_len);
    if ((start > 0 && !continuing_subword_prefix_.empty()) || (i == word.size() && !end_of_word_suffix_.empty())) {
      scratch.assign(start > 0 ? continuing_subword_prefix_ : std::string());
      scratch.append(s);
      if (i == word.size()) scratch += end_of_word_suffix_;
      s = scratch;
    }
    if (auto it = vocab_.find(s); it != vocab_.end()) {
      if (pending_unk >= 0) {
        add(pending_unk, pending_unk_len);
        pending_unk = -1;
      }
      add(it->second, byte_len);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : s) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        // As in tokenizers, a pending unknown run is not flushed before the byte tokens.
        for (char c : s) add(byte_ids_[static_cast<unsigned char>(c)], 1);
        continue;
      }
    }
    if (unk_token_) {
      if (pending_unk >= 0 && fuse_unk_) {
        pending_unk_len += byte_len;
      } else {
        if (pending_unk >= 0) add(pending_unk, pending_unk_len);
        pending_unk = unk_id();
        pending_unk_len = byte_len;
      }
    }
    // Without an unk token an unknown character is dropped, as tokenizers does.
  }
  if (pending_unk >= 0) add(pending_unk, pending_unk_len);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  // 2. Merge: always the lowest-ranked adjacent pair, leftmost on ties; stale queue
  //    entries are recognised by the pair no longer producing the same token.
  auto lookup = [&](int32_t left, int32_t right) { return merges_.find(left, right); };
  thread_local std::vector<MergeCandidate> queue;  // a binary heap (std::push_heap)
  queue.clear();
  auto push = [&](MergeCandidate c) {
    queue.push_back(c);
    std::push_heap(queue.begin(), queue.end());
  };
  for (size_t k = 0; k + 1 < symbols.size(); ++k) {
    if (const MergeTable::Merge* m = lookup(symbols[k].id, symbols[k + 1].id)) {
      push({m->rank, static_cast<int32_t>(k), m->new_id});
    }
  }
  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end());
    const MergeCandidate top = queue.back();
    queue.pop_back();
    Symbol& current = symbols[static_cast<size_t>(top.pos)];
    if (current.len == 0 || current.next == -1) continue;
    const size_t next_pos = static_cast<size_t>(current.next);
    const Symbol right = symbols[next_pos];
    const MergeTable::Merge* m = lookup(current.id, right.id);
    if (m == nullptr || m->new_id != top.new_id) continue;

    current.id = top.new_id;
    current.len += right.len;
    current.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = top.pos;

    if (current.prev >= 0) {
      if (const MergeTable::Merge* pm = lookup(symbols[static_cast<size_t>(current.prev)].id, current.id)) {
        push({pm->rank, current.prev, pm->new_id});
      }
    }
    if (current.next >= 0) {
      if (const MergeTable::Merge* nm = lookup(current.id, symbols[static_cast<size_t>(current.next)].id)) {
        push({nm->rank, top.pos, nm->new_id});
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.len != 0) ids.push_back(s.id);
  }
}

}  // namespace attnscope::tokenizer::detail
