// The client side of //tools:serve's test: OpenAI's own Node package
// (not our HTTP code) against the server. Usage:
//   node serve_client_test.js URL EXPECTED.json GEN SERVER_PID [--sigterm]
const OpenAI = require('openai');
const fs = require('fs');
const assert = require('assert');

const [url, expectedPath, genText, pidText, mode] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));
const gen = Number(genText);
const pid = Number(pidText);
const client = new OpenAI({baseURL: `${url}/v1`, apiKey: 'test-key', maxRetries: 0});
const prompt = 'Once upon a time';

function rssKiB() {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
}

async function raw(path, body, headers = {}) {
  const r = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {'Authorization': 'Bearer test-key', 'Content-Type': 'application/json', ...headers},
    body,
  });
  return {status: r.status, json: await r.json().catch(() => null)};
}

async function streamText(model, p, maxTokens) {
  const s = await client.completions.create(
      {model, prompt: p, max_tokens: maxTokens, temperature: 0, stream: true});
  let text = '';
  let finish = null;
  for await (const chunk of s) {
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return {text, finish};
}

async function main() {
  if (mode === '--sigterm') {
    // A stream is running when SIGTERM arrives: it still ends with all its
    // tokens, and the server exits after it.
    const s = await client.completions.create(
        {model: 'stories', prompt, max_tokens: 100, temperature: 0, stream: true});
    let text = '', n = 0, finish = null;
    for await (const chunk of s) {
      if (n++ === 2) process.kill(pid, 'SIGTERM');
      for (const c of chunk.choices) {
        text += c.text;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.strictEqual(finish, 'length');
    assert.ok(text.startsWith(expected.stories), text);
    console.log('sigterm: the in-flight stream finished');
    return;
  }
  // Health and model list.
  assert.strictEqual((await raw('/health')).status, 200);
  const models = await client.models.list();
  assert.deepStrictEqual(models.data.map((m) => m.id).sort(), ['gpt2', 'llama', 'stories']);

  // Completions for 3 models at once equal infer's text; streaming too.
  const names = ['stories', 'llama', 'gpt2'];
  const whole = await Promise.all(names.map((model) => client.completions.create(
      {model, prompt, max_tokens: gen, temperature: 0})));
  const streamed = await Promise.all(names.map((m) => streamText(m, prompt, gen)));
  names.forEach((m, i) => {
    assert.strictEqual(whole[i].choices[0].text, expected[m], `${m} text`);
    assert.strictEqual(whole[i].choices[0].finish_reason, 'length');
    assert.strictEqual(whole[i].usage.completion_tokens, gen);
    assert.strictEqual(streamed[i].text, expected[m], `${m} streamed`);
  });
  console.log('3 models: completions and streams equal infer');

  // Errors through the client: unknown model (404), bad key (401).
  await assert.rejects(client.completions.create({model: 'nope', prompt}),
                       (e) => e.status === 404 && /nope/.test(e.message));
  const badKey = new OpenAI({baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0});
  await assert.rejects(badKey.completions.create({model: 'stories', prompt}),
                       (e) => e.status === 401);
  await assert.rejects(client.chat.completions.create(
      {model: 'stories', messages: [{role: 'user', content: 'hi'}]}), (e) => e.status === 404);

  // Malformed requests: each a 4xx with an OpenAI error body.
  const table = [
    ['{', 400], ['[]', 400], ['{"model":"stories"}', 400],
    ['{"model":"stories","prompt":"x","n":2}', 400],
    ['{"model":"stories","prompt":"x","logprobs":3}', 400],
    ['{"model":"stories","prompt":"x","max_tokens":-1}', 400],
    ['{"model":"stories","prompt":"x","temperature":"hot"}', 400],
    ['{"model":"stories","prompt":"x","bogus":1}', 400],
    ['{"model":"stories","prompt":[1, 999999]}', 400],
    ['{"model":"stories","prompt":"x","max_tokens":500}', 400],  // no context fits
    ['{"model":"nope","prompt":"x"}', 404],
    [JSON.stringify({model: 'stories', prompt: 'x'.repeat(70000)}), 413],
  ];
  for (const [body, want] of table) {
    const r = await raw('/v1/completions', body);
    assert.strictEqual(r.status, want, body.slice(0, 60));
    assert.ok(r.json && r.json.error && r.json.error.message, body.slice(0, 60));
  }
  console.log(`malformed requests: ${table.length} each got their 4xx`);

  // Load: 200 requests, 16 concurrent clients, 3 models, 10 prompts each.
  const words = ['The cat', 'A boy', 'One day', 'Lily saw', 'The sun', 'Tom had',
                 'Mom said', 'The dog', 'She ran', 'They played'];
  const work = [];
  for (let i = 0; i < 200; i++) work.push({model: names[i % 3], prompt: words[i % 10]});
  const reference = {};
  const t0 = Date.now();
  for (const m of names)
    for (const w of words) {
      const r = await client.completions.create({model: m, prompt: w, max_tokens: 16, temperature: 0});
      reference[`${m}|${w}`] = r.choices[0].text;
    }
  const seqSeconds = (Date.now() - t0) / 1000;
  const rss0 = rssKiB();
  const latencies = [];
  let next = 0, tokens = 0;
  const t1 = Date.now();
  await Promise.all(Array.from({length: 16}, async () => {
    while (next < work.length) {
      const w = work[next++];
      const s = Date.now();
      const r = await client.completions.create(
          {model: w.model, prompt: w.prompt, max_tokens: 16, temperature: 0});
      latencies.push(Date.now() - s);
      assert.strictEqual(r.choices[0].text, reference[`${w.model}|${w.prompt}`],
                         `${w.model} ${w.prompt}`);
      tokens += r.usage.completion_tokens;
    }
  }));
  const loadSeconds = (Date.now() - t1) / 1000;
  const rss1 = rssKiB();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  assert.strictEqual(latencies.length, 200);
  console.log(`load: 200 requests, 16 clients: all answered, none mixed up; ` +
              `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, ${(tokens / loadSeconds).toFixed(1)} tok/s ` +
              `(30 distinct requests one at a time: ${(30 * 16 / seqSeconds).toFixed(1)} tok/s); ` +
              `RSS ${rss0} -> ${rss1} KiB`);
  assert.ok(rss1 < rss0 * 1.5 + 65536, `RSS grew ${rss0} -> ${rss1} KiB`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
