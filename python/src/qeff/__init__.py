"""qeff: QEfficient's Python API backed by qeff's C++ engine.

Switch from QEfficient by changing one import::

    from qeff import QEFFAutoModelForCausalLM   # was: from QEfficient import ...

    model = QEFFAutoModelForCausalLM.from_pretrained("stories260K.gguf")
    model.compile(num_cores=16)
    model.generate(prompts=["Once upon a time"], tokenizer=None)

What it has: QEFFAutoModelForCausalLM (from_pretrained / export / compile /
generate, continuous batching, token streaming), QEFFAutoModel (sentence
embeddings: from_pretrained(path, pooling=...) / export / compile(seq_len=...)
/ generate), QEFFCommonLoader, and the result types CloudAI100ExecInfo /
PerfMetrics. What it does not have yet: QEFFAutoModelForSpeechSeq2Seq
(audio) — the C++ engine has no such class yet, so it raises
UnsupportedError when used; no Hugging Face tokenizer objects (no
transformers here: the model's own tokenizer is used).
"""

from .exec_info import CloudAI100ExecInfo, PerfMetrics
from .modeling_auto import (
    QEFFAutoModel,
    QEFFAutoModelForCausalLM,
    QEFFAutoModelForSpeechSeq2Seq,
    QEFFCommonLoader,
    UnsupportedError,
)

__all__ = [
    "CloudAI100ExecInfo",
    "PerfMetrics",
    "QEFFAutoModel",
    "QEFFAutoModelForCausalLM",
    "QEFFAutoModelForSpeechSeq2Seq",
    "QEFFCommonLoader",
    "UnsupportedError",
]
