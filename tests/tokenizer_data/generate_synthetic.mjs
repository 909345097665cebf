// Writes small hand-made tokenizer.json files that exercise what the real files of
// generate_reference.mjs do not (added-token flags, unknown-token fusion, byte fallback of
// arbitrary characters, merges across "▁"), and what Hugging Face tokenizers gives for each case.
//
// Output (committed): tests/tokenizer_data/synthetic/<fixture>.json and
// tests/tokenizer_data/synthetic/reference.json, one item per case:
//   {fixture, case, text, ids, ids_no_special, decoded, decoded_skip_special}   (encode cases)
//   {fixture, case, decode_ids, decoded, decoded_skip_special}                   (decode cases)
// Rerun with the binding installed as generate_reference.mjs explains:
//   TOKREF_DIR=/tmp/tokref node tests/tokenizer_data/generate_synthetic.mjs
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tokrefDir = process.env.TOKREF_DIR || '/tmp/tokref';
const require = createRequire(path.join(tokrefDir, 'package.json'));
const { Tokenizer } = require('@anush008/tokenizers');

const META = '\u2581';

function added(id, content, flags = {}) {
  return {
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...flags,
  };
}

// A Llama 2 style file: Metaspace through normalizers, no pre-tokenizer, BPE with byte fallback.
// Added tokens take the ids tokenizers gives them (vocabulary size onwards) unless `addedIds`
// says otherwise.
function sentencepiece({ byteFallback = true, extraMerges = [], extraTokens = [], addedIds = null } = {}) {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  if (byteFallback) {
    for (let b = 0; b < 256; ++b) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  }
  let next = 259;
  for (const t of [META, 'h', 'e', 'l', 'o', 'w', 'r', 'd', 'a', 'b', 'c', ...extraTokens]) vocab[t] = next++;
  const merges = [...extraMerges,
    `${META} h`, 'e l', 'l o', `${META}h el`, `${META}hel lo`, `${META} w`, 'o r', `${META}w or`,
    `${META}wor l`, `${META}worl d`, `${META} ${META}`, `${META} a`];
  for (const m of merges) {
    const [l, r] = m.split(' ');
    if (!(l + r in vocab)) vocab[l + r] = next++;
  }
  const ids = addedIds || [0, 1, 2, 3].map((k) => next + k);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      added(0, '<unk>'), added(1, '<s>'), added(2, '</s>'),
      added(ids[0], '<L>', { lstrip: true }),
      added(ids[1], '<R>', { rstrip: true }),
      added(ids[2], '<W>', { single_word: true, special: false }),
      added(ids[3], 'ld', { normalized: true, special: false }),
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Prepend', prepend: META }, { type: 'Replace', pattern: { String: ' ' }, content: META }],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: META }, content: ' ' }, { type: 'ByteFallback' },
        { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: byteFallback, ignore_merges: false, vocab, merges,
    },
  };
}

const fixtures = {
  // Byte fallback, the added-token flags and the decoders of Llama 2.
  sentencepiece: {
    json: sentencepiece(),
    encode: {
      empty: '',
      plain: 'hello world',
      byte_fallback_two_bytes: 'hé',
      byte_fallback_four_bytes: 'a😀b',
      byte_fallback_after_unknown_run: 'lé😀é',
      special_tokens_glued: '<s>hello</s><s>',
      lstrip_takes_spaces_on_the_left: 'hello   <L> world',
      rstrip_takes_spaces_on_the_right: 'hello <R>   world',
      single_word_matches_alone: 'hello <W> world',
      single_word_skipped_inside_word: 'hello<W>world',
      // "ld" is normalized=true, so its pattern is normalized too: "▁ld".
      normalized_token_matches_its_normalized_form: 'o ld',
      normalized_token_does_not_match_raw: 'old',
      added_token_prefers_longest_match: 'hello <L><R> <W>',
      metaspace_runs: 'a  b   c ',
    },
    decode: {
      lone_lead_byte_is_replacement_char: [3 + 0xE2],
      truncated_sequence_then_text: [3 + 0xE2, 3 + 0x82, 263],
      unknown_ids_are_skipped: [1, 263, 99999, 264, 2],
      special_tokens_between_text: [1, 262, 2, 282, 263],
    },
  },
  // Without byte tokens, unknown characters become <unk>, consecutive ones fused into one.
  unk_fused: {
    json: sentencepiece({ byteFallback: false }),
    encode: {
      unknown_run_is_one_unk: 'héé😀lo',
      unknown_runs_split_by_known: 'é h é',
    },
    decode: {},
  },
  // Added-token ids in the file that disagree with the ones tokenizers assigns.
  added_ids_renumbered: {
    json: sentencepiece({ addedIds: [300, 7, 7, 1000] }),
    encode: { added_tokens_take_assigned_ids: '<L> <R> <W> old' },
    decode: {},
  },
  // A merge that joins "o" to a following "▁w": words may not be cut before "▁" here.
  merge_across_metaspace: {
    json: sentencepiece({ extraMerges: [`${META} w`, `o ${META}w`] }),
    encode: {
      merge_joins_words: 'hello world',
      merge_joins_words_twice: 'lo wo w',
    },
    decode: {},
  },
};

const outDir = path.join(here, 'synthetic');
fs.mkdirSync(outDir, { recursive: true });
const lines = [];
for (const [name, fixture] of Object.entries(fixtures)) {
  const text = JSON.stringify(fixture.json, null, 1) + '\n';
  fs.writeFileSync(path.join(outDir, `${name}.json`), text);
  const tokenizer = Tokenizer.fromString(text);
  for (const [caseName, input] of Object.entries(fixture.encode)) {
    const ids = Array.from((await tokenizer.encode(input, null, { addSpecialTokens: true })).getIds());
    const idsNoSpecial = Array.from((await tokenizer.encode(input, null, { addSpecialTokens: false })).getIds());
    lines.push(JSON.stringify({
      fixture: name, case: caseName, text: input, ids, ids_no_special: idsNoSpecial,
      decoded: await tokenizer.decode(ids, false), decoded_skip_special: await tokenizer.decode(ids, true),
    }));
  }
  for (const [caseName, ids] of Object.entries(fixture.decode)) {
    lines.push(JSON.stringify({
      fixture: name, case: caseName, decode_ids: ids,
      decoded: await tokenizer.decode(ids, false), decoded_skip_special: await tokenizer.decode(ids, true),
    }));
  }
}
const header = '{"generated_by":"tokenizers 0.22.2 via @anush008/tokenizers 0.6.0 (tests/tokenizer_data/generate_synthetic.mjs)","items":[\n';
fs.writeFileSync(path.join(outDir, 'reference.json'), header + lines.join(',\n') + '\n]}\n');
console.log(`${lines.length} cases`);
