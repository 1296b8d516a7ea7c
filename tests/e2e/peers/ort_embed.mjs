// Runs a qeff-exported embedding model (QEFFAutoModel's ONNX: inputs
// input_ids / attention_mask, output `output`) with stock onnxruntime
// (onnxruntime-node, CPU).
//   node ort_embed.mjs PEERS_DIR MODEL.onnx INPUT.json
// INPUT.json: {"input_ids": [[...], ...], "attention_mask": [[...], ...]}
// Prints one JSON line: {"dims": [...], "output": [...floats, row-major...]}.
import {createRequire} from "module";
import {readFileSync} from "fs";
const [peers, modelPath, inputPath] = process.argv.slice(2);
const require = createRequire(peers + "/package.json");
const ort = require(peers + "/node_modules/onnxruntime-node");
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: 2, graphOptimizationLevel: "disabled"});
const i64 = (rows) => new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)),
                                     [rows.length, rows[0].length]);
const r = await session.run({input_ids: i64(input.input_ids),
                             attention_mask: i64(input.attention_mask)});
process.stdout.write(JSON.stringify({dims: r.output.dims, output: Array.from(r.output.data)}) + "\n",
                     () => process.exit(0));
