// The reference side of the peer benchmark: npm `tokenizers` (the official Node binding of the
// Rust library) running encodeBatch over the same texts. RAYON_NUM_THREADS sets its threads.
//
//   RAYON_NUM_THREADS=2 node reference.mjs TOKENIZER_JSON TEXTS_JSON [REPEAT]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');

const [tokenizerPath, textsPath, repeatArg] = process.argv.slice(2);
const repeat = Math.max(1, Number(repeatArg ?? 5));
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0);
const tokenizer = Tokenizer.fromFile(tokenizerPath);
tokenizer.disableTruncation();
tokenizer.disablePadding();

let encodings = await tokenizer.encodeBatch(texts, true);  // warm-up
const seconds = [];
for (let run = 0; run < repeat; ++run) {
  const start = process.hrtime.bigint();
  encodings = await tokenizer.encodeBatch(texts, true);
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
}
seconds.sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)];
let tokens = 0;
let checksum = 0n;
for (const e of encodings) {
  const ids = e.getIds();
  tokens += ids.length;
  for (let k = 0; k < ids.length; ++k) checksum = (checksum * 31n + BigInt(ids[k]) + BigInt(k)) % 1000000007n;
}
console.log(JSON.stringify({
  impl: 'reference', tokenizer: tokenizerPath, threads: Number(process.env.RAYON_NUM_THREADS ?? 0),
  texts: texts.length, bytes, tokens, checksum: Number(checksum), median_seconds: median,
  texts_per_second: texts.length / median, mb_per_second: bytes / 1e6 / median,
}));
