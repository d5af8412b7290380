// Writes requests.json (an array of requests of 1-16 short texts) and wrk_bodies.lua (the same
// requests as OpenAI request bodies, for load.lua). usage: node make_requests.mjs OUT_DIR [COUNT]
import { writeFileSync } from "node:fs";

const [outDir, countText] = process.argv.slice(2);
const count = Number(countText ?? 2000);
const words = ["mosaic", "tile", "vector", "embedding", "server", "batch", "token", "glass", "stone",
  "colour", "pattern", "floor", "search", "query", "local", "model", "fast", "small", "text", "image"];
let seed = 42;
const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const requests = [];
for (let idx = 0; idx < count; idx++) {
  const texts = [];
  const textCount = 1 + Math.floor(random() * 16);
  for (let t = 0; t < textCount; t++) {
    const length = 4 + Math.floor(random() * 13);  // short texts: 4-16 words
    texts.push(Array.from({ length }, () => words[Math.floor(random() * words.length)]).join(" "));
  }
  requests.push(texts);
}
writeFileSync(`${outDir}/requests.json`, JSON.stringify(requests));
const bodies = requests.map((input) => JSON.stringify({ model: "bench", input, encoding_format: "base64" }));
writeFileSync(`${outDir}/wrk_bodies.lua`, "return {\n" + bodies.map((b) => "[==[" + b + "]==]").join(",\n") + "\n}\n");
const mean = requests.reduce((sum, r) => sum + r.length, 0) / requests.length;
console.log(JSON.stringify({ requests: count, mean_texts_per_request: mean }));
