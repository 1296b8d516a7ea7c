"""//python:qeff_test — QEfficient's quick-start code shape through the
`qeff` package on a seeded Llama (HF folder) and the real stories260K
(GGUF): the same token ids as //tools:infer (its --output_json), the same
text streamed (stream=True, on_token, generate_iter), unsupported arguments
refused by name, C++ errors as Python exceptions, and the GIL released
while generate runs.

Args: the infer binary, the seeded model folder, stories260K.gguf. No
network; artifacts under $TEST_TMPDIR (QEFF_HOME).
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

INFER, SEEDED, STORIES = (os.path.abspath(a) for a in sys.argv[1:4])
del sys.argv[1:4]
TMP = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
os.environ["QEFF_HOME"] = os.path.join(TMP, "qeff_home")

from qeff import (  # noqa: E402  (QEFF_HOME first)
    CloudAI100ExecInfo,
    PerfMetrics,
    QEFFAutoModel,
    QEFFAutoModelForCausalLM,
    QEFFAutoModelForSpeechSeq2Seq,
    QEFFCommonLoader,
    UnsupportedError,
)


def infer(model, *flags):
    """//tools:infer's results (its --output_json) in a QEFF_HOME of its
    own, so it exports and compiles independently of the package."""
    out = tempfile.mktemp(suffix=".json", dir=TMP)
    env = dict(os.environ, QEFF_HOME=os.path.join(TMP, "infer_home"))
    subprocess.run(
        [INFER, "--model_name", model, "--output_json", out, *flags],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )
    with open(out, encoding="utf-8") as f:
        return json.load(f)["results"]


def quiet(fn, *args, **kwargs):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        r = fn(*args, **kwargs)
    return r, buf.getvalue()


class QuickStartTest(unittest.TestCase):
    def test_seeded_model_quick_start_matches_infer(self):
        # QEfficient's README quick start, one import changed; the tokenizer
        # is the model's own (AutoTokenizer.from_pretrained(model_name)).
        model_name = SEEDED
        model = QEFFAutoModelForCausalLM.from_pretrained(model_name)
        onnx = model.export()
        self.assertTrue(os.path.isfile(onnx), onnx)
        self.assertTrue(onnx.startswith(os.environ["QEFF_HOME"]), onnx)
        self.assertEqual(os.path.basename(onnx), "LlamaForCausalLM.onnx")
        qpc, printed = quiet(model.compile, prefill_seq_len=32, ctx_len=128,
                             num_cores=16, num_devices=1, mxfp6_matmul=False)
        self.assertTrue(os.path.isdir(qpc), qpc)
        self.assertEqual(model.qpc_path, qpc)
        if os.cpu_count() < 16:
            self.assertIn("num_cores 16:", printed)  # FitToDevice's line
        tokenizer = model_name
        info, printed = quiet(model.generate, prompts=["My name is"],
                              tokenizer=tokenizer)
        self.assertIsInstance(info, CloudAI100ExecInfo)
        self.assertIsInstance(info.perf_metrics, PerfMetrics)
        self.assertEqual(info.batch_size, 1)
        self.assertIn("\nPrompt : My name is\nCompletion :", printed)
        self.assertIn("Performance Stats", printed)
        self.assertIn("Average Prefill time a.k.a TTFT is= ", repr(info))
        for k in ("prefill_time", "decode_perf", "total_perf", "total_time"):
            self.assertGreater(getattr(info.perf_metrics, k), 0, k)
        # The same defaults as infer's (generation_len fills the context).
        ref = infer(model_name, "--prompt", "My name is", "--prompt_len", "32",
                    "--ctx_len", "128", "--num_cores", "16")
        self.assertEqual(info.generated_ids, [r["token_ids"] for r in ref])
        self.assertEqual(info.generated_texts, [r["completion"] for r in ref])
        self.assertEqual(info.prompt_ids, [r["prompt_ids"] for r in ref])
        # A second model object reuses both artifacts.
        again = QEFFCommonLoader.from_pretrained(model_name)
        self.assertIsInstance(again, QEFFAutoModelForCausalLM)
        self.assertEqual(quiet(again.compile, num_cores=16)[0], qpc)
        self.assertTrue(again._lm.onnx_reused and again._lm.program_reused)


class StoriesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = QEFFAutoModelForCausalLM.from_pretrained(STORIES)
        quiet(cls.model.compile, prefill_seq_len=32, ctx_len=128, num_cores=16)
        cls.prompts = ["Once upon a time", "The little dog", "She saw a big red ball"]

    def test_batch_matches_infer(self):
        info = self.model.generate(None, self.prompts, generation_len=12,
                                   stream=False)
        ref = infer(STORIES, "--prompt", "|".join(self.prompts),
                    "--generation_len", "12")
        self.assertEqual(info.generated_ids, [r["token_ids"] for r in ref])
        self.assertEqual(info.generated_texts, [r["completion"] for r in ref])
        self.assertTrue(all(len(i) == 12 for i in info.generated_ids))

    def test_continuous_batching_matches_infer(self):
        m = QEFFAutoModelForCausalLM.from_pretrained(STORIES,
                                                     continuous_batching=True)
        quiet(m.compile, full_batch_size=2, num_cores=16)
        info = m.generate(STORIES, self.prompts, generation_len=10, stream=False)
        self.assertEqual(info.batch_size, 2)
        ref = infer(STORIES, "--prompt", "|".join(self.prompts),
                    "--generation_len", "10", "--full_batch_size", "2")
        self.assertEqual(info.generated_ids, [r["token_ids"] for r in ref])

    def test_streaming_gives_the_same_text(self):
        pieces = {}

        def on_token(i, token_id, text):
            pieces.setdefault(i, []).append((token_id, text))

        info, printed = quiet(self.model.generate, None, self.prompts,
                              generation_len=16, on_token=on_token)
        for i, (ids, text) in enumerate(zip(info.generated_ids,
                                            info.generated_texts)):
            self.assertEqual([t for t, _ in pieces[i]], ids)
            self.assertEqual("".join(s for _, s in pieces[i]), text)
        # stream=True prints the first completion as it comes, QEfficient's way.
        self.assertIn(f"\nPrompt : {self.prompts[0]}\nCompletion :"
                      f"{info.generated_texts[0]}\n", printed)
        self.assertIn(f"Prompt : {self.prompts[2]}\nCompletion : "
                      f"{info.generated_texts[2]}\n", printed)
        # The iterator form.
        it = self.model.generate_iter(None, self.prompts, generation_len=16)
        got = {}
        for i, token_id, text in it:
            got.setdefault(i, []).append((token_id, text))
        self.assertEqual(got, pieces)
        self.assertEqual(it.result.generated_ids, info.generated_ids)

    def test_export_dir_compile_dir_and_device_id(self):
        m = QEFFAutoModelForCausalLM.from_pretrained(STORIES)
        onnx = m.export(export_dir=os.path.join(TMP, "exp"))
        self.assertTrue(onnx.startswith(os.path.join(TMP, "exp-")), onnx)
        with self.assertRaisesRegex(ValueError, "onnx_path"):
            m.compile(onnx_path=os.path.join(TMP, "other.onnx"))
        # Two virtual cards of one core each; device_id picks the card.
        qpc = quiet(m.compile, onnx, os.path.join(TMP, "cards"), num_cores=1,
                    device="cpu:2")[0]
        self.assertTrue(qpc.startswith(os.path.join(TMP, "cards")), qpc)
        kw = dict(generation_len=8, stream=False)
        card1 = m.generate(None, ["Once upon a time"], device_id=[1], **kw)
        self.assertEqual(m._lm.device_name, "cpu:2/1")
        card0 = m.generate(None, ["Once upon a time"], device_id=[0], **kw)
        self.assertEqual(m._lm.device_name, "cpu:2/0")
        solo = self.model.generate(None, ["Once upon a time"], **kw)
        self.assertEqual(card1.generated_ids, solo.generated_ids)
        self.assertEqual(card0.generated_ids, solo.generated_ids)
        with self.assertRaisesRegex(ValueError, "no card 5"):
            m.generate(None, ["x"], device_id=[5], **kw)

    def test_callback_exception_is_raised(self):
        def boom(i, token_id, text):
            raise KeyError("from the callback")

        with self.assertRaisesRegex(KeyError, "from the callback"):
            self.model.generate(None, ["Once upon a time"], generation_len=4,
                                stream=False, on_token=boom)

    def test_gil_released_during_generate(self):
        ticks = []
        stop = threading.Event()

        def ticker():
            while not stop.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.001)

        t = threading.Thread(target=ticker)
        t.start()
        try:
            t0 = time.monotonic()
            info = self.model.generate(None, ["Once upon a time"] * 2,
                                       generation_len=120, stop_at_eos=False,
                                       stream=False)
            t1 = time.monotonic()
        finally:
            stop.set()
            t.join()
        self.assertEqual([len(i) for i in info.generated_ids], [120, 120])
        # Ticks in the middle half of the call: impossible if the call held
        # the GIL (the ticker could only run at its edges).
        a, b = t0 + (t1 - t0) / 4, t1 - (t1 - t0) / 4
        inside = [x for x in ticks if a < x < b]
        self.assertGreaterEqual(len(inside), 5, (t1 - t0, len(ticks)))


class ArgumentsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = QEFFAutoModelForCausalLM.from_pretrained(STORIES)
        quiet(cls.model.compile, num_cores=16)

    def test_unsupported_arguments_are_named(self):
        m = self.model
        cases = [
            (lambda: m.compile(prefill_only=True), "prefill_only"),
            (lambda: m.compile(num_speculative_tokens=3), "num_speculative_tokens"),
            (lambda: m.compile(some_qaic_flag=1), "some_qaic_flag"),
            (lambda: m.compile(num_devices=2), "num_devices"),
            (lambda: m.generate(None, ["x"], write_io_dir="/tmp"), "write_io_dir"),
            (lambda: m.generate(None, ["x"], foo=1), "foo"),
            (lambda: m.generate(None, ["x"], runtime_ai100=False), "runtime_ai100"),
            (lambda: m.generate(None, ["x"], device_id=[0, 1]), "device_group"),
            (lambda: QEFFAutoModelForCausalLM.from_pretrained(
                STORIES, attn_implementation="eager"), "attn_implementation"),
            (lambda: QEFFAutoModelForCausalLM.from_pretrained(
                STORIES, qaic_config={"a": 1}), "qaic_config"),
        ]
        for fn, name in cases:
            with self.subTest(name=name):
                with self.assertRaisesRegex(ValueError, name):
                    quiet(fn)
        with self.assertRaises(NotImplementedError):
            m.compile(prefill_only=True)
        # QEfficient's "off" values are what qeff does: accepted.
        qpc = quiet(m.compile, num_cores=16, prefill_only=None,
                    kv_cache_batch_size=None)[0]
        self.assertEqual(qpc, m.qpc_path)
        # Cloud AI 100 compiler options: recorded, said to have no effect.
        printed = quiet(m.compile, num_cores=16, mos=1,
                        aic_enable_depth_first=True)[1]
        self.assertIn("no effect on cpu", printed)

    def test_tokenizer_objects_and_other_tokenizers(self):
        with self.assertRaisesRegex(TypeError, "transformers"):
            self.model.generate(object(), ["x"])
        with self.assertRaisesRegex(ValueError, "tokenizer"):
            self.model.generate(SEEDED, ["x"])

    def test_errors_carry_the_status_message(self):
        missing = os.path.join(TMP, "missing.gguf")
        with self.assertRaisesRegex(FileNotFoundError, "missing.gguf"):
            QEFFAutoModelForCausalLM.from_pretrained(missing)
        with self.assertRaisesRegex(ValueError, "ctx_len"):
            self.model.generate(None, ["Once upon a time"], generation_len=500,
                                stream=False)
        with self.assertRaisesRegex(ValueError, "temperature"):
            self.model.generate(None, ["x"], temperature=-1.0, stream=False)

    def test_classes_not_in_the_engine_say_so(self):
        with self.assertRaisesRegex(UnsupportedError, "not implemented"):
            QEFFAutoModelForSpeechSeq2Seq.from_pretrained(STORIES)
        with self.assertRaisesRegex(UnsupportedError, "pooling must be"):
            QEFFAutoModel.from_pretrained(STORIES)

    def test_embeddings_lengths_and_ids(self):
        # A causal LM used as an embedder (stories260K), last pooling: two
        # lengths in one program, the smallest that fits runs; ids give the
        # same vector as text.
        m = QEFFAutoModel.from_pretrained(STORIES, pooling="last",
                                          normalize=True)
        m.compile(seq_len=[8, 32])
        out = m.generate(["Once upon a time", "Once upon a time there was a "
                          "little girl who liked to play in the park"])
        self.assertEqual(out["specializations"], ["Embedding_0", "Embedding_1"])
        v = out["output"][0]
        self.assertAlmostEqual(sum(x * x for x in v), 1.0, places=5)
        again = m.generate({"input_ids": [out["prompt_ids"][0]]})
        self.assertEqual(again["output"][0], v)
        with self.assertRaisesRegex(ValueError, "exceed the largest"):
            m.generate({"input_ids": [[1] * 40]})

    def test_seeded_sampling_is_reproducible(self):
        kw = dict(generation_len=8, stream=False, temperature=0.8, top_k=40,
                  seed=3)
        a = self.model.generate(None, ["Once upon a time"], **kw)
        b = self.model.generate(None, ["Once upon a time"], **kw)
        self.assertEqual(a.generated_ids, b.generated_ids)
        ref = infer(STORIES, "--prompt", "Once upon a time", "--generation_len",
                    "8", "--temperature", "0.8", "--top_k", "40", "--seed", "3")
        self.assertEqual(a.generated_ids, [r["token_ids"] for r in ref])


if __name__ == "__main__":
    unittest.main(verbosity=2)
