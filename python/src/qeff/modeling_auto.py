"""QEfficient's model classes (QEfficient.transformers.models.modeling_auto).

What it does: QEFFAutoModelForCausalLM and QEFFCommonLoader with
QEfficient's method names, argument names and defaults, each call running
qeff's C++ model API (engine/qeff_auto_model.h) through the extension
`qeff._qeff` with the GIL released, so other Python threads run meanwhile.

What it does not do:
- Every argument is implemented or refused: an argument qeff does not
  support raises ValueError naming it (UnsupportedError, also a
  NotImplementedError, for QEfficient features qeff lacks). This differs
  from QEfficient on purpose: QEfficient forwards unknown compile keyword
  arguments to qaic-compile; qeff has no qaic-compile on host devices and
  never drops an argument silently.
- No PyTorch model, no transformers, no network: models are local files
  (.gguf, llama2.c .bin, Hugging Face folders) or ORG/NAME ids in the
  offline hub cache; tokenizers are the model's own.
- QEFFAutoModelForSpeechSeq2Seq (audio) does not exist in the C++ engine
  yet: it raises UnsupportedError. QEFFAutoModel (embeddings) differs from
  QEfficient where its class says.
"""

import os
import queue
import sys
import threading
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _qeff
from .exec_info import CloudAI100ExecInfo, PerfMetrics

UnsupportedError = _qeff.UnsupportedError

# QEfficient's compile keyword arguments for features qeff does not have,
# with the value that means "off" (QEfficient's default): that value is
# accepted (it asks for what qeff does); any other value goes to the C++
# SetCompileParam, which refuses it by name.
_COMPILE_OFF_VALUES = {
    "kv_cache_batch_size": None,
    "num_speculative_tokens": None,
    "prefill_only": None,
    "use_onnx_subfunctions": False,
    "enable_qnn": False,
    "qnn_config": None,
    "comp_ctx_lengths_prefill": None,
    "comp_ctx_lengths_decode": None,
    "enable_chunking": False,
    "retain_full_kv": None,
    "mdp_ts_num_devices": None,
    "mdp_ts_json_path": None,
}

# QEfficient's generate / cloud_ai_100_exec_kv keyword arguments qeff does
# not implement, with the value that means "off".
_GENERATE_OFF_VALUES = {
    "automation": False,
    "iteration": 1,
    "write_io_dir": None,
    "enable_debug_logs": False,
    "prompt_to_lora_id_mapping": None,
    "include_sampler": False,
    "return_pdfs": False,
    "sampler_params": None,
    "is_tlm": False,
}

# qeff's host-side sampler parameters (engine/sampler.h; QEfficient's
# sampler names, one value for all prompts; prompt i draws from seed + i).
_SAMPLING_KEYS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "repetition_penalty",
    "presence_penalty",
    "seed",
)


def _refuse(what: str, names: Sequence[str]) -> None:
    if names:
        raise ValueError(
            f"{what}: unsupported argument(s) {', '.join(repr(n) for n in names)}"
            " (qeff implements or refuses every argument; none is ignored)"
        )


def _take_off_values(kwargs: dict, off: dict, what: str) -> None:
    """Drops QEfficient arguments given with their "off" value; refuses
    them with any other value."""
    for name in list(kwargs):
        if name in off:
            if kwargs[name] == off[name] and type(kwargs[name]) is type(off[name]):
                del kwargs[name]
            else:
                raise UnsupportedError(
                    f"{what}: argument {name!r}={kwargs[name]!r} is a QEfficient "
                    "feature qeff does not support yet"
                )


class QEFFAutoModelForCausalLM:
    """QEfficient's QEFFAutoModelForCausalLM on qeff's C++ engine.

    model = QEFFAutoModelForCausalLM.from_pretrained(path)
    model.compile(prefill_seq_len=32, ctx_len=128, num_cores=16)
    exec_info = model.generate(tokenizer=None, prompts=["Once upon a time"])
    """

    def __init__(self, *args, **kwargs):
        raise TypeError(
            "QEFFAutoModelForCausalLM wraps a PyTorch model in QEfficient; "
            "qeff has none: use QEFFAutoModelForCausalLM.from_pretrained(path)"
        )

    @classmethod
    def _wrap(cls, lm, source: str, tokenizer_path: str):
        self = object.__new__(cls)
        self._lm = lm
        self._source = source
        self._tokenizer_path = tokenizer_path
        return self

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str,
        continuous_batching: bool = False,
        *args,
        **kwargs,
    ) -> "QEFFAutoModelForCausalLM":
        """Loads a model: a .gguf, a llama2.c .bin, a Hugging Face folder or
        an ORG/NAME in the offline hub cache.

        QEfficient's arguments: continuous_batching (export with
        batch_index; compile then needs full_batch_size), qaic_config
        (None only), cache_dir (the hub cache). qeff's: tokenizer_path (for
        checkpoints without a tokenizer, e.g. llama2.c tokenizer.bin),
        qeff_home (artifact root; default $QEFF_HOME, else
        $XDG_CACHE_HOME/qeff_models, else ~/.cache/qeff_models). Anything
        else (e.g. transformers' loading options) raises ValueError naming
        it.
        """
        return cls._load(pretrained_model_name_or_path, continuous_batching,
                         args, kwargs, common_loader=False)

    @classmethod
    def _load(cls, path, continuous_batching, args, kwargs, common_loader):
        if args:
            raise ValueError(
                f"from_pretrained: unsupported positional argument(s) {args!r}"
            )
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("pretrained_model_name_or_path must be a path or ORG/NAME")
        kwargs = dict(kwargs)
        _take_off_values(kwargs, {"qaic_config": None}, "from_pretrained")
        cache_dir = kwargs.pop("cache_dir", None) or ""
        tokenizer_path = kwargs.pop("tokenizer_path", None) or ""
        qeff_home = kwargs.pop("qeff_home", None) or ""
        _refuse("from_pretrained", sorted(kwargs))
        path = os.fspath(path)
        lm = _qeff.CausalLM.from_pretrained(
            path,
            continuous_batching=bool(continuous_batching),
            tokenizer_path=os.fspath(tokenizer_path),
            hub_cache_dir=os.fspath(cache_dir),
            qeff_home=os.fspath(qeff_home),
            common_loader=common_loader,
        )
        return cls._wrap(lm, path, os.fspath(tokenizer_path))

    # QEfficient's attributes.
    @property
    def model_name(self) -> str:
        return self._lm.model_name

    @property
    def model_architecture(self) -> str:
        return self._lm.model_architecture

    @property
    def continuous_batching(self) -> bool:
        return self._lm.continuous_batching

    @property
    def onnx_path(self) -> Optional[str]:
        return self._lm.onnx_path or None

    @property
    def qpc_path(self) -> Optional[str]:
        return self._lm.qpc_path or None

    def __repr__(self) -> str:
        return f"QEFFAutoModelForCausalLM({self._source!r}, {self.model_name})"

    def export(self, export_dir: Optional[str] = None) -> str:
        """Exports the transformed model to ONNX and returns its path:
        <export_dir>-<hash16>/<model_name>.onnx when export_dir is given,
        else <qeff_home>/<architecture>/<model_name>-<hash16>/. An export
        that exists is reused."""
        return self._lm.export(os.fspath(export_dir) if export_dir else "")

    def compile(
        self,
        onnx_path: Optional[str] = None,
        compile_dir: Optional[str] = None,
        *,
        prefill_seq_len: int = 32,
        ctx_len: int = 128,
        batch_size: int = 1,
        full_batch_size: Optional[int] = None,
        num_cores: int = 16,
        num_devices: int = 1,
        mxfp6_matmul: bool = False,
        mxint8_kv_cache: bool = False,
        device: str = "cpu",
        **compiler_options,
    ) -> str:
        """Compiles for `device` (exporting first if needed) and returns the
        program folder, <compile_dir or the ONNX's folder>/qpc-<hash16>/.

        QEfficient's names and defaults. num_cores above what the device
        has uses what it has (one line says so). onnx_path, when given,
        must be this model's own export. compiler_options: mos and
        aic_enable_depth_first are recorded (no effect on host devices);
        weight_format ("q8_0", "q4_0", "mxfp6") is qeff's. Unlike
        QEfficient, which forwards unknown compiler_options to
        qaic-compile, any other option raises ValueError naming it; a
        QEfficient feature qeff lacks (prefill_only, kv_cache_batch_size,
        num_speculative_tokens, ...) raises UnsupportedError unless given
        its "off" value. device (qeff's): "cpu", "cpu:N" / "cpu:N/k"
        (virtual cards), "reference".
        """
        if onnx_path is not None:
            own = self._lm.onnx_path or self.export()
            if os.path.realpath(os.fspath(onnx_path)) != os.path.realpath(own):
                raise ValueError(
                    f"compile: onnx_path {os.fspath(onnx_path)!r} is not this "
                    f"model's export ({own}); compiling another ONNX is "
                    "`bazel run //tools:compile -- --onnx_path ...`"
                )
        options = dict(compiler_options)
        _take_off_values(options, _COMPILE_OFF_VALUES, "compile")
        params = {
            "prefill_seq_len": prefill_seq_len,
            "ctx_len": ctx_len,
            "batch_size": batch_size,
            "num_cores": num_cores,
            "num_devices": num_devices,
            "mxfp6_matmul": mxfp6_matmul,
            "mxint8_kv_cache": mxint8_kv_cache,
            "device": device,
        }
        if full_batch_size is not None:
            params["full_batch_size"] = full_batch_size
        if compile_dir is not None:
            params["compile_dir"] = os.fspath(compile_dir)
        aic = "mos" in options or "aic_enable_depth_first" in options
        params.update(options)  # the C++ side refuses unknown names
        return self._lm.compile(params, aic_options_given=aic)

    def _check_tokenizer(self, tokenizer) -> None:
        if tokenizer is None:
            pass
        elif isinstance(tokenizer, (str, os.PathLike)):
            t = os.fspath(tokenizer)
            own = [self._source] + ([self._tokenizer_path] if self._tokenizer_path else [])
            if t not in own and os.path.realpath(t) not in [os.path.realpath(o) for o in own]:
                raise ValueError(
                    f"generate: tokenizer {t!r} is not this model's "
                    f"({', '.join(own)}); qeff uses the model's own tokenizer "
                    "(give tokenizer_path to from_pretrained for checkpoints "
                    "without one)"
                )
        else:
            raise TypeError(
                f"generate: tokenizer of type {type(tokenizer).__name__}: a "
                "Hugging Face tokenizer object cannot exist here (qeff runs "
                "without transformers); pass tokenizer=None (or the model's "
                "path) to use the model's own tokenizer"
            )
        if not self._lm.has_tokenizer:
            raise ValueError(
                "generate: the model has no tokenizer; give tokenizer_path to "
                "from_pretrained (e.g. a llama2.c tokenizer.bin)"
            )

    def generate(
        self,
        tokenizer,
        prompts: Union[str, List[str], None] = None,
        device_id: Optional[List[int]] = None,
        runtime_ai100: bool = True,
        **kwargs,
    ) -> CloudAI100ExecInfo:
        """Generates for the prompts on the compiled program (QEfficient's
        generate / cloud_ai_100_exec_kv) and returns a CloudAI100ExecInfo.

        tokenizer: None or the model's path (the model's own tokenizer is
        used; a tokenizer object raises TypeError). prompts: a list of
        strings (a str is one prompt), or prompts_txt_file_path=PATH (one
        per line). Fewer prompts than the compiled batch are repeated to
        fill it (QEfficient's fix_prompts). device_id: None or [k] (card k
        of the compiled cpu:N device). generation_len: None fills the
        context. stream=True (default) prints "Prompt : / Completion :"
        streaming the first prompt's completion, the other completions and
        QEfficient's performance block; stream=False prints nothing.
        qeff's additions: on_token(prompt_index, token_id, text) called as
        each token comes (from an engine thread, with the GIL held),
        stop_at_eos (default True), and the sampler parameters temperature,
        top_k, top_p, min_p, repetition_penalty, presence_penalty, seed
        (default greedy). runtime_ai100=False (PyTorch) and any other
        argument raise ValueError naming it.
        """
        return self._generate(tokenizer, prompts, device_id, runtime_ai100, kwargs)

    def generate_iter(
        self,
        tokenizer,
        prompts: Union[str, List[str], None] = None,
        device_id: Optional[List[int]] = None,
        **kwargs,
    ) -> "TokenStream":
        """Like generate(stream=False), as an iterator of
        (prompt_index, token_id, text) tuples in the order tokens come; the
        CloudAI100ExecInfo is the iterator's .result once it is exhausted.
        Generation runs on a background thread (the GIL is released)."""
        if "on_token" in kwargs or "stream" in kwargs:
            raise ValueError("generate_iter: 'on_token' and 'stream' are generate()'s")
        return TokenStream(self, tokenizer, prompts, device_id, kwargs)

    def _generate(self, tokenizer, prompts, device_id, runtime_ai100, kwargs):
        kwargs = dict(kwargs)
        if runtime_ai100 is not True:
            raise ValueError(
                "generate: runtime_ai100=False (the PyTorch runtime) is not "
                "supported: qeff has no PyTorch model"
            )
        _take_off_values(kwargs, _GENERATE_OFF_VALUES, "generate")
        generation_len = kwargs.pop("generation_len", None)
        stream = kwargs.pop("stream", True)
        on_token = kwargs.pop("on_token", None)
        stop_at_eos = kwargs.pop("stop_at_eos", True)
        prompts_file = kwargs.pop("prompts_txt_file_path", None)
        sampling = {k: kwargs.pop(k) for k in _SAMPLING_KEYS if k in kwargs}
        _refuse("generate", sorted(kwargs))
        if on_token is not None and not callable(on_token):
            raise TypeError("generate: on_token must be callable")
        if generation_len is not None and (
            not isinstance(generation_len, int) or generation_len < 1
        ):
            raise ValueError(f"generate: generation_len must be a positive int, got {generation_len!r}")
        self._check_tokenizer(tokenizer)
        prompts = _prompt_list(prompts, prompts_file)
        if not self._lm.qpc_path:
            raise RuntimeError("generate: compile the model first (model.compile(...))")
        if device_id is not None:
            self._lm.use_device_group([int(i) for i in device_id])

        callback = on_token
        if stream:
            # QEfficient's "Prompt : / Completion :" header, printed with the
            # first token (so an error before any token prints nothing).
            out = sys.stdout
            header = [f"\nPrompt : {prompts[0]}\nCompletion :"]

            def callback(index, token_id, text, _user=on_token):
                if index == 0:
                    out.write(header.pop() + text if header else text)
                    out.flush()
                if _user is not None:
                    _user(index, token_id, text)

        r = self._lm.generate(
            prompts, [], generation_len or 0, bool(stop_at_eos), True, callback, sampling
        )
        cp = self._lm.compile_params
        info = _exec_info(r, cp["full_batch_size"] or cp["batch_size"])
        if stream:
            print(header.pop() if header else "", file=sys.stdout)
            for i, (p, t) in enumerate(zip(info.prompts, info.generated_texts)):
                if i > 0:
                    print(f"Prompt : {p}\nCompletion : {t}")
            print("========================= Performance Stats =========================")
            print(repr(info))
            print("=====================================================================", flush=True)
        return info


class TokenStream:
    """An iterator over (prompt_index, token_id, text) of one generation
    running on a background thread; .result is the CloudAI100ExecInfo once
    the iterator is exhausted (an error in the generation is raised by the
    iteration)."""

    _END = object()

    def __init__(self, model, tokenizer, prompts, device_id, kwargs):
        self._q: "queue.Queue" = queue.Queue()
        self.result: Optional[CloudAI100ExecInfo] = None
        self._error: Optional[BaseException] = None
        kwargs = dict(kwargs, stream=False, on_token=lambda *t: self._q.put(t))

        def run():
            try:
                self.result = model._generate(tokenizer, prompts, device_id, True, kwargs)
            except BaseException as e:  # re-raised by __next__
                self._error = e
            finally:
                self._q.put(self._END)

        self._thread = threading.Thread(target=run, name="qeff-generate", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[Tuple[int, int, str]]:
        return self

    def __next__(self) -> Tuple[int, int, str]:
        item = self._q.get()
        if item is self._END:
            self._q.put(self._END)  # later calls end too
            self._thread.join()
            if self._error is not None:
                raise self._error
            raise StopIteration
        return item


def _prompt_list(prompts, prompts_file) -> List[str]:
    if prompts is not None and prompts_file is not None:
        raise ValueError("generate: give prompts or prompts_txt_file_path, not both")
    if prompts_file is not None:
        with open(prompts_file, encoding="utf-8") as f:
            out = [line.rstrip("\r\n") for line in f if line.strip()]
        if not out:
            raise ValueError(f"generate: {prompts_file}: no prompts (one per line)")
        return out
    if prompts is None:
        raise ValueError("generate: prompts is required (or prompts_txt_file_path)")
    if isinstance(prompts, str):
        return [prompts]
    out = list(prompts)
    if not out or not all(isinstance(p, str) for p in out):
        raise ValueError("generate: prompts must be a non-empty list of strings")
    return out


def _perf(d) -> PerfMetrics:
    return PerfMetrics(d["prefill_time"], d["decode_perf"], d["total_perf"], d["total_time"])


def _exec_info(r, batch_size: int) -> CloudAI100ExecInfo:
    outs = r["outputs"]
    return CloudAI100ExecInfo(
        batch_size=batch_size,
        generated_texts=[o["text"] for o in outs],
        generated_ids=[list(o["token_ids"]) for o in outs],
        perf_metrics=_perf(r["perf"]),
        prompts=[o["prompt"] for o in outs],
        prompt_ids=[list(o["prompt_ids"]) for o in outs],
        per_prompt_perf=[_perf(o["perf"]) for o in outs],
    )


class QEFFCommonLoader:
    """QEfficient's QEFFCommonLoader: picks the class from the model's
    architecture. Only causal LMs exist in qeff's C++ engine; another
    architecture raises UnsupportedError naming it."""

    def __init__(self, *args, **kwargs):
        raise EnvironmentError(
            "QEFFCommonLoader is designed to be instantiated using the "
            "QEFFCommonLoader.from_pretrained(pretrained_model_name_or_path) method"
        )

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str, *args, **kwargs):
        """QEFFAutoModelForCausalLM.from_pretrained's arguments."""
        kwargs = dict(kwargs)
        cb = kwargs.pop("continuous_batching", False)
        return QEFFAutoModelForCausalLM._load(
            pretrained_model_name_or_path, cb, args, kwargs, common_loader=True
        )


class _NotInEngine:
    _what = ""

    def __init__(self, *args, **kwargs):
        raise UnsupportedError(self._what)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        raise UnsupportedError(cls._what)


class QEFFAutoModel:
    """QEfficient's QEFFAutoModel (sentence embeddings) on qeff's C++
    QEFFAutoModel (engine/qeff_auto_model_embedding.h): BERT and nomic-bert
    encoders (HF folders, GGUF) and causal LMs used as embedders.

    Differences from QEfficient, on purpose: `pooling` is a name ("mean",
    "avg", "cls", "max", "last"); pooling=None (token vectors) and a
    callable pooling raise UnsupportedError. `normalize=True` (qeff's)
    L2-normalises in the exported graph. generate() takes text (a str or a
    list of str) or {"input_ids": [[...], ...]} (lists, not tensors) and
    returns {"output": [[floats], ...], "prompt_ids": [...],
    "specializations": [...]}: no torch here.
    """

    def __init__(self, *args, **kwargs):
        raise EnvironmentError(
            "QEFFAutoModel is designed to be instantiated using the "
            "QEFFAutoModel.from_pretrained(pretrained_model_name_or_path) method"
        )

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str, pooling=None,
                        *args, **kwargs):
        if args:
            raise ValueError(
                f"from_pretrained: unsupported positional argument(s) {args!r}"
            )
        if pooling is None or callable(pooling):
            raise UnsupportedError(
                "QEFFAutoModel: pooling must be one of 'mean', 'avg', 'cls', "
                "'max', 'last' (token vectors and custom pooling callables "
                "are not supported)"
            )
        if not isinstance(pretrained_model_name_or_path, (str, os.PathLike)):
            raise TypeError("pretrained_model_name_or_path must be a path or ORG/NAME")
        kwargs = dict(kwargs)
        normalize = bool(kwargs.pop("normalize", False))
        cache_dir = kwargs.pop("cache_dir", None) or ""
        tokenizer_path = kwargs.pop("tokenizer_path", None) or ""
        qeff_home = kwargs.pop("qeff_home", None) or ""
        _refuse("from_pretrained", sorted(kwargs))
        self = cls.__new__(cls)
        self._m = _qeff.Embedder.from_pretrained(
            os.fspath(pretrained_model_name_or_path), str(pooling), normalize,
            tokenizer_path=os.fspath(tokenizer_path),
            hub_cache_dir=os.fspath(cache_dir), qeff_home=os.fspath(qeff_home))
        return self

    @property
    def model_name(self) -> str:
        return self._m.model_name

    @property
    def onnx_path(self) -> str:
        return self._m.onnx_path

    @property
    def qpc_path(self) -> str:
        return self._m.qpc_path

    def export(self, export_dir: Optional[str] = None) -> str:
        """Exports the transformed model (pooling in the graph) to ONNX and
        returns its path (reused when it exists)."""
        return self._m.export(os.fspath(export_dir) if export_dir else "")

    def compile(self, onnx_path: Optional[str] = None,
                compile_dir: Optional[str] = None, *,
                seq_len: Union[int, List[int]] = 32, batch_size: int = 1,
                num_devices: int = 1, num_cores: int = 16,
                mxfp6_matmul: bool = False, device: str = "cpu",
                **compiler_options) -> str:
        """Compiles one program with a specialization per seq_len
        (Embedding, or Embedding_0.. for several) and returns its folder."""
        if onnx_path is not None:
            own = self._m.onnx_path or self.export()
            if os.path.realpath(os.fspath(onnx_path)) != os.path.realpath(own):
                raise ValueError(
                    f"compile: onnx_path {os.fspath(onnx_path)!r} is not this "
                    f"model's export ({own})")
        params = {
            "seq_len": list(seq_len) if isinstance(seq_len, (list, tuple)) else seq_len,
            "batch_size": batch_size,
            "num_devices": num_devices,
            "num_cores": num_cores,
            "mxfp6_matmul": mxfp6_matmul,
            "device": device,
        }
        if compile_dir is not None:
            params["compile_dir"] = os.fspath(compile_dir)
        params.update(compiler_options)  # the C++ side refuses unknown names
        return self._m.compile(params)

    def generate(self, inputs, truncate: bool = False) -> dict:
        """Embeds text (str or list of str, tokenized as the model's tokenizer
        says) or {"input_ids": [[...], ...]} (fed as given)."""
        if isinstance(inputs, str):
            rows = self._m.embed([inputs], [], truncate)
        elif isinstance(inputs, dict):
            ids = inputs.get("input_ids")
            if ids is None or set(inputs) - {"input_ids", "attention_mask"}:
                raise ValueError("generate: a dict input needs exactly input_ids "
                                 "(and optionally attention_mask)")
            ids = [list(map(int, r)) for r in ids]
            mask = inputs.get("attention_mask")
            if mask is not None:  # drop padding: the C++ side pads itself
                ids = [[t for t, m in zip(r, mr) if m] for r, mr in zip(ids, mask)]
            rows = self._m.embed([], ids, truncate)
        else:
            rows = self._m.embed([str(p) for p in inputs], [], truncate)
        return {
            "output": [r["embedding"] for r in rows],
            "prompt_ids": [r["prompt_ids"] for r in rows],
            "specializations": [r["specialization"] for r in rows],
        }


class QEFFAutoModelForSpeechSeq2Seq(_NotInEngine):
    """QEfficient's audio class: not in qeff's C++ engine yet; using it
    raises UnsupportedError."""

    _what = (
        "QEFFAutoModelForSpeechSeq2Seq (audio models) is not implemented in "
        "qeff's C++ engine yet; only QEFFAutoModelForCausalLM is"
    )
