// Fills the "expect" of every case in *.jsonl with what the reference library (npm tokenizers,
// the official binding of the Rust `tokenizers`) produces, so the C++ runner checks against it.
// The inputs are hand-written for options the shared golden files do not cover.
//
//   NODE_PATH=../../../bench/tokenizers/node_modules node record.mjs
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../../bench/tokenizers/package.json'));
const { Tokenizer } = require('tokenizers');
const shared = path.resolve(here, '../../../../shared');

function load(kase) {
  const file = kase.tokenizer.startsWith('shared:')
    ? path.join(shared, 'data/tokenizers', kase.tokenizer.slice(7))
    : path.join(here, 'tokenizers', kase.tokenizer);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  if ('truncation' in kase) json.truncation = kase.truncation;
  if ('padding' in kase) json.padding = kase.padding;
  return Tokenizer.fromString(JSON.stringify(json));
}

async function describe(tokenizer, e) {
  return {
    ids: e.getIds(), tokens: e.getTokens(), type_ids: e.getTypeIds(), offsets: e.getOffsets(),
    attention_mask: e.getAttentionMask(), special_tokens_mask: e.getSpecialTokensMask(),
    decode: await tokenizer.decode(e.getIds(), true),
  };
}

for (const name of readdirSync(here).filter((f) => f.endsWith('.jsonl')).sort()) {
  const lines = readFileSync(path.join(here, name), 'utf8').split('\n').filter((l) => l.trim());
  const out = [];
  for (const line of lines) {
    const kase = JSON.parse(line);
    delete kase.expect;
    const tokenizer = load(kase);
    const add = kase.add_special_tokens ?? true;
    if (kase.batch) {
      const encodings = await tokenizer.encodeBatch(kase.batch, { addSpecialTokens: add });
      kase.expect = await Promise.all(encodings.map((e) => describe(tokenizer, e)));
    } else {
      const e = await tokenizer.encode(kase.text, kase.pair ?? null, { addSpecialTokens: add });
      kase.expect = await describe(tokenizer, e);
    }
    out.push(JSON.stringify(kase));
  }
  writeFileSync(path.join(here, name), out.join('\n') + '\n');
  console.log(`${name}: ${out.length} cases`);
}
