// Runs a qeff-exported wav2vec2 / HuBERT ONNX with stock onnxruntime
// (onnxruntime-node, CPU): input_values f32 [B, n/B] from a raw
// little-endian f32 file.
//   node ort_audio.mjs PEERS_DIR MODEL.onnx INPUT.f32 B
// Prints one JSON line: {"dims": [...], "logits": [...]}.
import {createRequire} from "module";
import {readFileSync} from "fs";
const [peers, modelPath, inputPath, batch] = process.argv.slice(2);
const require = createRequire(peers + "/package.json");
const ort = require(peers + "/node_modules/onnxruntime-node");
const raw = readFileSync(inputPath);
const x = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const b = Number(batch);
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: 2, graphOptimizationLevel: "disabled"});
const r = await session.run(
    {input_values: new ort.Tensor("float32", Float32Array.from(x), [b, x.length / b])});
process.stdout.write(
    JSON.stringify({dims: r.logits.dims, logits: Array.from(r.logits.data)}) + "\n",
    () => process.exit(0));
