// Drives the official Qdrant JS client against a tessera server: create a collection, upsert,
// search, query, scroll, count, set payload, delete, and report what came back.
// usage: node qdrant_flow.mjs URL DATA_JSON  where DATA_JSON = {"collection", "dim", "points": [
//   {"id", "vector", "payload"}], "query": [...], "filter_tag": "..."}
import { QdrantClient } from "@qdrant/js-client-rest";
import { readFileSync } from "node:fs";

const [url, dataFile] = process.argv.slice(2);
const data = JSON.parse(readFileSync(dataFile, "utf8"));
const client = new QdrantClient({ url, apiKey: process.env.TESSERA_API_KEY, checkCompatibility: true });
const name = data.collection;
const out = {};

out.created = await client.createCollection(name, { vectors: { size: data.dim, distance: "Cosine" } });
out.exists = (await client.collectionExists(name)).exists;
out.listed = (await client.getCollections()).collections.map((c) => c.name);
out.upsert = await client.upsert(name, { wait: true, points: data.points });
out.info_points = (await client.getCollection(name)).points_count;
out.search = await client.search(name, { vector: data.query, limit: 3, with_payload: true });
out.search_filtered = await client.search(name, {
  vector: data.query, limit: 10,
  filter: { must: [{ key: "tag", match: { value: data.filter_tag } }] },
});
out.query = (await client.query(name, { query: data.query, limit: 3 })).points;
out.retrieved = await client.retrieve(name, { ids: [data.points[0].id], with_vector: true });
out.scroll = await client.scroll(name, { limit: 100, with_payload: true });
out.count = (await client.count(name, { exact: true })).count;
await client.setPayload(name, { payload: { reviewed: true }, points: [data.points[0].id], wait: true });
out.after_set_payload = (await client.retrieve(name, { ids: [data.points[0].id] }))[0].payload;
await client.delete(name, { points: [data.points[1].id], wait: true });
out.count_after_delete = (await client.count(name, { exact: true })).count;
out.deleted = await client.deleteCollection(name);
out.exists_after_delete = (await client.collectionExists(name)).exists;
console.log(JSON.stringify(out));
