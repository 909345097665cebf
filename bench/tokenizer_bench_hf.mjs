// The baseline side of bench/tokenizer_bench.cpp: encodes the same documents with Hugging Face
// tokenizers (its native Node binding @anush008/tokenizers, installed outside the repository as
// tests/tokenizer_data/generate_reference.mjs explains) and reports the time of each pass.
//
//   node bench/tokenizer_bench_hf.mjs DOCS.jsonl OUT_DIR REPEATS TOKENIZER_JSON...
//
// DOCS.jsonl holds one JSON string per line. For each tokenizer it prints one line
// {"file": ..., "seconds": [...]} (one time per pass; each pass loads the tokenizer afresh so
// its word cache starts cold, as ours does) and writes OUT_DIR/<index>.ids: per document a
// little-endian int32 count, then the ids of encode(doc, addSpecialTokens = true).
// TOKREF_DIR (default /tmp/tokref) is where the binding is installed.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [docsFile, outDir, repeatsText, ...tokenizerFiles] = process.argv.slice(2);
if (!docsFile || !outDir || !repeatsText || tokenizerFiles.length === 0) {
  console.error('usage: tokenizer_bench_hf.mjs DOCS.jsonl OUT_DIR REPEATS TOKENIZER_JSON...');
  process.exit(2);
}
const tokrefDir = process.env.TOKREF_DIR || '/tmp/tokref';
const require = createRequire(path.join(tokrefDir, 'package.json'));
const { Tokenizer } = require('@anush008/tokenizers');

const docs = fs.readFileSync(docsFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const repeats = Number(repeatsText);

for (const [index, file] of tokenizerFiles.entries()) {
  const seconds = [];
  let ids = [];
  for (let r = 0; r < repeats; ++r) {
    const tokenizer = Tokenizer.fromFile(file);
    const encoded = [];
    const start = process.hrtime.bigint();
    for (const doc of docs) {
      encoded.push((await tokenizer.encode(doc, null, { addSpecialTokens: true })).getIds());
    }
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (r === 0) ids = encoded;
  }
  const total = ids.reduce((n, d) => n + 1 + d.length, 0);
  const out = new Int32Array(total);
  let at = 0;
  for (const d of ids) {
    out[at++] = d.length;
    out.set(d, at);
    at += d.length;
  }
  fs.writeFileSync(path.join(outDir, `${index}.ids`), Buffer.from(out.buffer));
  console.log(JSON.stringify({ file, seconds }));
}
