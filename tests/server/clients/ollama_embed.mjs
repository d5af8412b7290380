// Embeds texts with the official Ollama client against a tessera server.
// usage: node ollama_embed.mjs HOST MODEL INPUT_JSON   (prints {"vectors": [...], ...})
import { Ollama } from "ollama";
import { readFileSync } from "node:fs";

const [host, model, inputFile] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputFile, "utf8"));
const ollama = new Ollama({ host });
const response = await ollama.embed({ model, input });
const legacy = await ollama.embeddings({ model, prompt: Array.isArray(input) ? input[0] : input });
console.log(JSON.stringify({
  vectors: response.embeddings,
  model: response.model,
  prompt_eval_count: response.prompt_eval_count,
  legacy: legacy.embedding,
}));
