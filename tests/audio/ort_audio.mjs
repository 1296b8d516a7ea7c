// Runs a qeff-exported wav2vec2 / HuBERT ONNX with stock onnxruntime
// (onnxruntime-node, CPU): input_values f32 [B, n/B] from a raw
// little-endian f32 file.
//   node ort_audio.mjs PEERS_DIR MODEL.onnx INPUT.f32 B [MASK.i64]
// MASK.i64: attention_mask [B, n/B] as raw little-endian int64, for exports
// that take one.
// Prints one JSON line: {"dims": [...], "logits": [...]}.
import {createRequire} from "module";
import {readFileSync} from "fs";
const [peers, modelPath, inputPath, batch, maskPath] = process.argv.slice(2);
const require = createRequire(peers + "/package.json");
const ort = require(peers + "/node_modules/onnxruntime-node");
const raw = readFileSync(inputPath);
const x = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const b = Number(batch);
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: 2, graphOptimizationLevel: "disabled"});
const feeds = {input_values: new ort.Tensor("float32", Float32Array.from(x), [b, x.length / b])};
if (maskPath) {
  const m = readFileSync(maskPath);
  const mask = new BigInt64Array(m.buffer.slice(m.byteOffset, m.byteOffset + m.length));
  feeds.attention_mask = new ort.Tensor("int64", mask, [b, x.length / b]);
}
const r = await session.run(feeds);
process.stdout.write(
    JSON.stringify({dims: r.logits.dims, logits: Array.from(r.logits.data)}) + "\n",
    () => process.exit(0));
