"""QEfficient's generation result types (QEfficient.generation.text_generation_inference).

What it does: holds what one generate() call produced, in the shape
QEfficient's CloudAI100ExecInfo has (batch_size, generated_texts,
generated_ids, perf_metrics), and prints QEfficient's performance block.

What it does not do: generated_ids are Python lists of ints (one list per
prompt, generated tokens only), not NumPy arrays padded to a common length
as QEfficient's are; nothing here runs a model.
"""

from dataclasses import dataclass, field
from typing import List, Optional


def _round2(x: float) -> float:
    return round(x, 2)


@dataclass
class PerfMetrics:
    """QEfficient's PerfMetrics: seconds and tokens/s (per sequence)."""

    prefill_time: float  # time to the first token (TTFT), s
    decode_perf: float  # tokens/s after the first token
    total_perf: float  # tokens/s end to end
    total_time: float  # end-to-end time, s


@dataclass
class CloudAI100ExecInfo:
    """QEfficient's CloudAI100ExecInfo: one generate() call's results.

    generated_texts[i] / generated_ids[i] are prompt i's completion (the
    generated tokens only), in prompt order. prompts / prompt_ids are qeff's
    additions (the prompts as run, with BOS when the tokenizer adds one).
    """

    batch_size: int
    generated_texts: List[str]
    generated_ids: List[List[int]]
    perf_metrics: PerfMetrics
    prompts: List[Optional[str]] = field(default_factory=list)
    prompt_ids: List[List[int]] = field(default_factory=list)
    per_prompt_perf: List[PerfMetrics] = field(default_factory=list)

    def __repr__(self) -> str:
        # QEfficient's text: Decode and Total are scaled by the batch size.
        p, b = self.perf_metrics, max(1, self.batch_size)
        return (
            f"Average Prefill time a.k.a TTFT is= {_round2(p.prefill_time)} sec\n"
            f"Decode is= {_round2(p.decode_perf * b)} tokens/sec\n"
            f"Total is= {_round2(p.total_perf * b)} tokens/sec\n"
            f"Total (E2E) inference time is= {_round2(p.total_time)} sec"
        )
