// Times qeff's exported causal-LM ONNX in stock onnxruntime (onnxruntime-node,
// CPU), run as tests/e2e/peers/ort_run.mjs runs it: input_ids and
// position_ids, plus the retained state (past_key.i / past_value.i, zeros at
// first, then each call's *_RetainedState outputs). For //bench:cpu_vs_llamacpp.
//   node ort_bench.mjs PEERS_DIR MODEL.onnx PLAN.json
// PLAN.json: {"state": [{"name": "past_key.0", "dims": [1, 12, 640, 64]}, ...],
//             "threads": 2, "reps": 3, "prefill": [128, 512], "decode": 128,
//             "depths": [0, 512], "ids": [token ids, as many as any call needs]}
// Workloads as the benchmark's: pp P = one call of P tokens at positions 0..;
// tg N at depth d = a call of d tokens (untimed), then N single-token calls at
// positions d.. (timed). One warm-up, then `reps`; the mean of the per-rep
// rates. Prints "ppP tok/s" and "tgD tok/s" lines.
import {createRequire} from "module";
import {readFileSync} from "fs";
const [peers, modelPath, planPath] = process.argv.slice(2);
const require = createRequire(peers + "/package.json");
const ort = require(peers + "/node_modules/onnxruntime-node");
const plan = JSON.parse(readFileSync(planPath, "utf8"));
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: plan.threads, interOpNumThreads: 1,
  graphOptimizationLevel: "all"});
const zeros = () => {
  const state = {};
  for (const s of plan.state) {
    const n = s.dims.reduce((a, b) => a * b, 1);
    state[s.name] = new ort.Tensor("float32", new Float32Array(n), s.dims);
  }
  return state;
};
const i64 = (values) => new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)),
                                       [1, values.length]);
// One call of ids[start..start+len) at positions start..; returns the state.
const call = async (state, start, len) => {
  const ids = plan.ids.slice(start, start + len);
  const pos = Array.from({length: len}, (_, i) => start + i);
  const r = await session.run({input_ids: i64(ids), position_ids: i64(pos), ...state});
  const next = {};
  for (const s of plan.state) next[s.name] = r[s.name + "_RetainedState"];
  return next;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;
const sums = {};
for (let rep = 0; rep <= plan.reps; ++rep) {  // rep 0: warm-up
  for (const p of plan.prefill) {
    const t0 = now();
    await call(zeros(), 0, p);
    const rate = p / (now() - t0);
    if (rep > 0) sums["pp" + p] = (sums["pp" + p] || 0) + rate;
  }
  for (const d of plan.depths) {
    let state = zeros();
    if (d > 0) state = await call(state, 0, d);
    const t0 = now();
    for (let i = 0; i < plan.decode; ++i) state = await call(state, d + i, 1);
    const rate = plan.decode / (now() - t0);
    if (rep > 0) sums["tg" + d] = (sums["tg" + d] || 0) + rate;
  }
}
const lines = Object.entries(sums).map(([k, v]) => `${k} ${v / plan.reps}`).join("\n");
// stdout to a pipe is asynchronous: exit only once it is flushed.
process.stdout.write(lines + "\n", () => process.exit(0));
