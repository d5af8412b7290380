// Embeds texts with the official OpenAI SDK against a tessera server.
// usage: node openai_embed.mjs BASE_URL MODEL default|float INPUT_JSON   (prints {"vectors": [...], ...})
import OpenAI from "openai";
import { readFileSync } from "node:fs";

const [baseURL, model, format, inputFile] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputFile, "utf8"));
const client = new OpenAI({ baseURL, apiKey: process.env.TESSERA_API_KEY ?? "unused", maxRetries: 0 });
const request = { model, input };
if (format === "float") request.encoding_format = "float";  // "default": the SDK asks for base64
const response = await client.embeddings.create(request);
console.log(JSON.stringify({
  vectors: response.data.map((item) => Array.from(item.embedding)),
  indexes: response.data.map((item) => item.index),
  model: response.model,
  usage: response.usage,
}));
