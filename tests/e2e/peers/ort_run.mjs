// Runs a qeff-exported causal LM with stock onnxruntime (onnxruntime-node,
// CPU) as a QEfficient user's runtime would: each step feeds input_ids and
// position_ids, plus the retained state (past_key.i / past_value.i, zeros at
// first, then each step's *_RetainedState outputs).
//   node ort_run.mjs PEERS_DIR MODEL.onnx PLAN.json
// PLAN.json: {"state": [{"name": "past_key.0", "dims": [1, 2, 16, 8]}, ...],
//             "steps": [{"input_ids": [[...]], "position_ids": [[...]],
//                        "batch_index": [[..]] (continuous batching only)}, ...]}
// Prints one JSON line: {"logits": [[...vocab floats of step 0...], ...]}.
import {createRequire} from "module";
import {readFileSync} from "fs";
const [peers, modelPath, planPath] = process.argv.slice(2);
const require = createRequire(peers + "/package.json");
const ort = require(peers + "/node_modules/onnxruntime-node");
const plan = JSON.parse(readFileSync(planPath, "utf8"));
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: 2, graphOptimizationLevel: "disabled"});
let state = {};
for (const s of plan.state) {
  const n = s.dims.reduce((a, b) => a * b, 1);
  state[s.name] = new ort.Tensor("float32", new Float32Array(n), s.dims);
}
const i64 = (rows) => new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)),
                                     [rows.length, rows[0].length]);
const out = [];
for (const step of plan.steps) {
  const feeds = {input_ids: i64(step.input_ids), position_ids: i64(step.position_ids), ...state};
  if (step.batch_index) feeds.batch_index = i64(step.batch_index);
  const r = await session.run(feeds);
  out.push(Array.from(r.logits.data));
  for (const s of plan.state) state[s.name] = r[s.name + "_RetainedState"];
}
// stdout to a pipe is asynchronous: exit only once it is flushed.
process.stdout.write(JSON.stringify({logits: out}) + "\n", () => process.exit(0));
