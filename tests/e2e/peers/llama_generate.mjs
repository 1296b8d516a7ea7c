// Greedy generation with llama.cpp (node-llama-cpp's prebuilt CPU build), the
// peer the walking-skeleton test compares qeff's tokens with.
//   node llama_generate.mjs PEERS_DIR MODEL.gguf PROMPT N [CTX]
// CTX: the context size (default 256).
// PROMPT "ids:1,2,3" feeds those token ids as given (no BOS added).
// Prints one JSON line: {"prompt_ids": [...], "token_ids": [...], "text": "..."}.
const [peers, modelPath, prompt, n, ctxArg] = process.argv.slice(2);
const {getLlama} = await import(peers + "/node_modules/node-llama-cpp/dist/index.js");
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const ctx = await model.createContext({contextSize: Number(ctxArg || 256), threads: 2});
const seq = ctx.getSequence();
const promptIds = prompt.startsWith("ids:")
    ? prompt.slice(4).split(",").map(Number)
    : [model.tokens.bos, ...model.tokenize(prompt, false)];
const out = [];
for await (const t of seq.evaluate(promptIds, {temperature: 0})) {
  out.push(t);
  if (out.length >= Number(n)) break;
}
// stdout to a pipe is asynchronous: exit only once it is flushed.
process.stdout.write(JSON.stringify({prompt_ids: promptIds, token_ids: out, text: model.detokenize(out)}) + "\n", () => process.exit(0));
