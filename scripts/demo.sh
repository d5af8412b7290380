#!/usr/bin/env bash
# The main job, from nothing: install what is needed, build, then embed, store and search a
# small sample. Run from the repository root: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
JOBS="${JOBS:-2}" scripts/build.sh release tessera tessera-make-model

T=./build/tessera
WORK="${TESSERA_DEMO_DIR:-$PWD/build/demo}"
mkdir -p "$WORK"
export TESSERA_HOME="$WORK/home"

MODEL="BAAI/bge-small-en-v1.5"
echo "== 1. the model: tessera pull $MODEL" >&2
if $T pull "$MODEL"; then
  MODEL_NOTE="(real model weights: the similarities below mean something)"
else
  echo "   could not download $MODEL (no network to the Hugging Face Hub?)." >&2
  echo "   Falling back to a generated model with RANDOM weights and the real bge tokenizer:" >&2
  echo "   everything below runs for real, but its similarity numbers carry no meaning." >&2
  MODEL="$WORK/random-minilm"
  [ -f "$MODEL/config.json" ] || ./build/tessera-make-model --arch bert --shape minilm-l6 --seed 7 "$MODEL" >/dev/null
  MODEL_NOTE="(RANDOM weights: the numbers below carry no meaning)"
fi

echo "== 2. embed a few sentences and print their pairwise cosine similarities $MODEL_NOTE" >&2
SENTENCES=("The cat sits on the mat." "A kitten is resting on a rug." "Stock markets fell sharply today." "How do I bake sourdough bread?")
$T embed --model "$MODEL" --output "$WORK/sentences.npy" "${SENTENCES[@]}"
$T embed --model "$MODEL" "${SENTENCES[@]}" | python3 -c '
import json, sys, math
rows = [json.loads(line)["embedding"] for line in sys.stdin]
names = sys.argv[1:]
print("cosine similarity")
for i, a in enumerate(rows):
    print(f"  {names[i][:32]:32s} " + " ".join(f"{sum(x*y for x, y in zip(a, b)):6.3f}" for b in rows))
' "${SENTENCES[@]}" 2>/dev/null || $T embed --model "$MODEL" "${SENTENCES[@]}" | head -c 600

echo "== 3. store notes in a collection and search them in words $MODEL_NOTE" >&2
STORE="$WORK/store"
rm -rf "$STORE"
$T collection create notes --store "$STORE" --model "$MODEL"
cat > "$WORK/notes.jsonl" <<'NOTES'
{"id": 1, "text": "Sourdough needs a mature starter, flour, water and salt.", "payload": {"topic": "cooking"}}
{"id": 2, "text": "The central bank raised interest rates by a quarter point.", "payload": {"topic": "finance"}}
{"id": 3, "text": "Cats sleep for up to sixteen hours a day.", "payload": {"topic": "animals"}}
{"id": 4, "text": "Index funds spread risk across the whole market.", "payload": {"topic": "finance"}}
NOTES
$T upsert --store "$STORE" --collection notes --input "$WORK/notes.jsonl"
$T search --store "$STORE" --collection notes --text "how do I make bread?" --limit 2
$T search --store "$STORE" --collection notes --text "investing" --filter '{"must":[{"key":"topic","match":{"value":"finance"}}]}' --limit 2
echo "== done: see README.md for images, the server and the benchmarks" >&2
