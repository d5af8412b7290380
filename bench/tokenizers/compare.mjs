// Runs the tessera and reference tokenizers on the same 10,000 mixed sentences with the same
// thread count, checks that both produce the same ids (token count and checksum), and prints
// texts/s, MB/s and the ratio per tokenizer, then the whole result as JSON.
//
//   cd bench/tokenizers && npm ci && node compare.mjs --build ../../build-tokenizers [--threads 2] [--repeat 5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, value, idx, all) => {
  if (value.startsWith('--')) acc.push([value.slice(2), all[idx + 1]]);
  return acc;
}, []));
const build = path.resolve(args.build ?? path.join(here, '../../build-tokenizers'));
const threads = Number(args.threads ?? os.availableParallelism());
const repeat = Number(args.repeat ?? 5);
const shared = path.resolve(args.shared ?? path.join(here, '../../../shared'));
const tokenizers = {
  'bert-base-uncased (WordPiece)': 'data/tokenizers/bert-base-uncased/tokenizer.json',
  'clip-vit-base-patch32 (BPE)': 'data/tokenizers/clip-vit-base-patch32/tokenizer.json',
  'unigram-xlmr-style (Unigram)': 'data/tokenizers/unigram-xlmr-style/tokenizer.json',
  'bytelevel-bpe-roberta-style (byte-level BPE)': 'data/tokenizers/bytelevel-bpe-roberta-style/tokenizer.json',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-tok-bench-'));
const textsPath = path.join(dir, 'texts.json');
writeFileSync(textsPath, execFileSync('node', [path.join(here, 'make_texts.mjs'), '10000'], { maxBuffer: 1 << 28 }));

let commit = 'unknown';
try { commit = execFileSync('git', ['-C', here, 'rev-parse', '--short', 'HEAD']).toString().trim(); } catch {}
console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, ${os.platform()} ${os.release()}; ` +
  `commit ${commit}; threads ${threads}; median of ${repeat} runs`);
const results = [];
for (const [name, rel] of Object.entries(tokenizers)) {
  const file = path.join(shared, rel);
  const ours = JSON.parse(execFileSync(path.join(build, 'bench/tokenizers/tessera_tokenizers_peer_bench'),
    ['--tokenizer', file, '--texts', textsPath, '--threads', String(threads), '--repeat', String(repeat)]));
  const ref = JSON.parse(execFileSync('node', [path.join(here, 'reference.mjs'), file, textsPath, String(repeat)],
    { env: { ...process.env, RAYON_NUM_THREADS: String(threads) } }));
  const same = ours.tokens === ref.tokens && ours.checksum === ref.checksum;
  const ratio = ours.texts_per_second / ref.texts_per_second;
  results.push({ name, ours, reference: ref, same_ids: same, ratio });
  console.log(`${name.padEnd(46)} tessera ${ours.texts_per_second.toFixed(0).padStart(7)} texts/s ` +
    `${ours.mb_per_second.toFixed(2).padStart(6)} MB/s | reference ${ref.texts_per_second.toFixed(0).padStart(7)} texts/s ` +
    `${ref.mb_per_second.toFixed(2).padStart(6)} MB/s | ratio ${ratio.toFixed(2)}x | ids ${same ? 'identical' : 'DIFFER'}`);
}
console.log(JSON.stringify({ commit, threads, repeat, results }));
if (results.some((r) => !r.same_ids)) process.exitCode = 1;
