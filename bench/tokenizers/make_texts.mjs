// 10,000 mixed sentences (English, accents, CJK, scripts, emoji, numbers, URLs, punctuation)
// from a seeded generator, written as a JSON array: the same texts for both implementations.
//
//   node make_texts.mjs [COUNT] > texts.json
const count = Number(process.argv[2] ?? 10000);
let state = 1234;
const rand = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};
const pick = (list) => list[Math.floor(rand() * list.length)];
const english = ('the of and to in is that for it as was with be by on not he this are or his from at which ' +
  'but have an they you were her she there been one all we their has would when if so no what up out into ' +
  'time people year way day man thing woman life child world school state family student group country ' +
  'problem hand part place case week company system program question work government number night point ' +
  'tokenizer embedding vector search model language transformer unaffable understanding international').split(' ');
const accented = ['café', 'naïve', 'résumé', 'crème', 'São', 'Ångström', 'smörgåsbord', 'piñata', 'Straße',
  'déjà', 'Nguyễn', 'İzmir', 'Čapek', 'Bjørn', 'ﬁnance', 'ｆｕｌｌｗｉｄｔｈ'];
const scripts = ['日本語', '中文字符', '한국어', 'こんにちは', 'Привет', 'мир', 'مرحبا', 'שלום', 'नमस्ते',
  'Ελληνικά', 'ภาษาไทย', 'ქართული', 'தமிழ்', 'বাংলা'];
const emoji = ['😀', '👍🏾', '👨‍👩‍👧‍👦', '🇧🇷', '🌍', '1️⃣', '🧑‍🚀', '❤️', '🎉'];
const punct = [',', '.', '!', '?', ';', ':', '—', '...', '"', "'s", "n't", '(', ')'];
const other = () => pick([
  () => String(Math.floor(rand() * 1e6)),
  () => (rand() * 1000).toFixed(2),
  () => `https://example.com/${pick(english)}/${Math.floor(rand() * 100)}`,
  () => `${pick(english)}@mail.org`,
  () => pick(punct),
])();
const texts = [];
for (let idx = 0; idx < count; ++idx) {
  const words = 4 + Math.floor(rand() * 40);
  const parts = [];
  for (let w = 0; w < words; ++w) {
    const r = rand();
    parts.push(r < 0.70 ? pick(english) : r < 0.78 ? pick(accented) : r < 0.86 ? pick(scripts)
      : r < 0.91 ? pick(emoji) : other());
  }
  let text = parts.join(' ');
  text = text.charAt(0).toUpperCase() + text.slice(1) + pick(['.', '!', '?', '']);
  texts.push(text);
}
process.stdout.write(JSON.stringify(texts));
