// Fires many embedding requests at once (mixed lengths, 1..N texts each) and prints every vector,
// so the test can check that batching across requests changes nothing.
// usage: node concurrent.mjs BASE_URL MODEL REQUESTS_JSON  where REQUESTS_JSON = [[text, ...], ...]
import { readFileSync } from "node:fs";

const [baseURL, model, requestsFile] = process.argv.slice(2);
const requests = JSON.parse(readFileSync(requestsFile, "utf8"));
const statuses = {};
const results = await Promise.all(requests.map(async (input) => {
  const response = await fetch(`${baseURL}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, input, encoding_format: "float" }),
  });
  statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  if (response.status !== 200) return { status: response.status, body: await response.text() };
  const body = await response.json();
  return body.data.map((item) => item.embedding);
}));
console.log(JSON.stringify({ statuses, results }));
