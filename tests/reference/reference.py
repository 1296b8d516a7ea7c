#!/usr/bin/python3
"""An independent PyTorch reference for qeff's model builders.

Plain eager modules written from the Hugging Face modeling math
(transformers' modeling_llama / modeling_mistral / modeling_qwen2 /
modeling_qwen3 / modeling_mixtral / modeling_qwen3_moe / modeling_phi3 /
modeling_gpt2 / modeling_gemma3, and HPC-AI Tech's custom modeling_grok1)
for llama, mistral, qwen2, qwen3, mixtral,
qwen3_moe, phi3, gpt2, gemma3 (Gemma3ForCausalLM, and the text part of
Gemma3ForConditionalGeneration) and llama4 (Llama4ForCausalLM, and the text
part of Llama4ForConditionalGeneration; modeling_llama4) and grok-1
(Grok1ModelForCausalLM). Shares no code with qeff's models/: it reads
config.json and the safetensors files directly (an 8-byte header length, a
JSON header, raw little-endian bytes; Debian has no `safetensors` package).

Usage: reference.py MODEL_DIR --prompt_ids=1,2,3 [--steps=16] [--cached]
                    [--grok_llamacpp]
Prints one JSON object: {"tokens": [...greedy ids...],
"min_route_margin": smallest k-th minus (k+1)-th router logit of any token
in any MoE layer over all forwards (null without experts),
"max_attn_cap_ratio": grok-1's largest |attention score| / max_attn_value
before the soft-cap (null for other families),
"step_logits": [[...last-position logits of step s...], ...]}; step s is a
full (no cache) forward over prompt + tokens[:s].

--grok_llamacpp (grok-1): llama.cpp's grok math instead of HF's, for its
GGUF: the top-k expert weights renormalised and the tanh form of GELU.

--cached (llama family): Hugging Face's cached generation instead: one
forward over the prompt, then one token per forward with a KV cache. The
rotary frequencies follow transformers' `dynamic_rope_update`: per forward,
seq_len = max(position_ids) + 1; `dynamic` recomputes inv_freq when seq_len
exceeds the longest seen so far (max_seq_len_cached) and resets to the
original when seq_len drops below max_position_embeddings; keys already in
the cache keep the rotation they were written with.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch

torch.set_num_threads(2)

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + b:base + end]),
                             dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).to(torch.float32)
    return out


def read_weights(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        w = {}
        for s in shards:
            w.update(read_safetensors(os.path.join(d, s)))
        return w
    return read_safetensors(os.path.join(d, "model.safetensors"))


# ---------------------------------------------------------------- llama family
def rope_inv_freq(cfg, dim, seq_len):
    base = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "dynamic":
        max_pos = cfg["max_position_embeddings"]
        factor = scaling["factor"]
        if seq_len > max_pos:
            base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (
                dim / (dim - 2))
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float()
                          / dim))
    if kind in ("longrope", "su"):  # _compute_longrope_parameters
        orig = cfg.get("original_max_position_embeddings") or scaling[
            "original_max_position_embeddings"]
        ext = torch.tensor(scaling["long_factor"] if seq_len > orig else
                           scaling["short_factor"], dtype=torch.float32)
        inv = 1.0 / (ext * base ** (torch.arange(
            0, dim, 2, dtype=torch.int64).float() / dim))
    if kind == "linear":
        inv = inv / scaling["factor"]
    elif kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rope_attention_scaling(cfg):
    """longrope's attention_factor (1 for the other rope types)."""
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind not in ("longrope", "su"):
        return 1.0
    if scaling.get("attention_factor") is not None:
        return scaling["attention_factor"]
    orig = cfg.get("original_max_position_embeddings") or scaling[
        "original_max_position_embeddings"]
    factor = cfg["max_position_embeddings"] / orig
    if factor <= 1.0:
        return 1.0
    return math.sqrt(1 + math.log(factor) / math.log(orig))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


class HfRotaryState:
    """transformers' LlamaRotaryEmbedding + dynamic_rope_update state."""

    def __init__(self, cfg, dim):
        self.cfg, self.dim = cfg, dim
        self.original_max = cfg["max_position_embeddings"]
        self.max_seq_len_cached = self.original_max
        self.original_inv = rope_inv_freq(cfg, dim, self.original_max)
        self.inv = self.original_inv
        scaling = cfg.get("rope_scaling") or {}
        kind = scaling.get("rope_type", scaling.get("type"))
        self.dynamic = kind == "dynamic"
        self.longrope = kind in ("longrope", "su")

    def inv_freq(self, seq_len):
        if self.longrope:  # longrope_frequency_update
            return rope_inv_freq(self.cfg, self.dim, seq_len)
        if self.dynamic:
            if seq_len > self.max_seq_len_cached:  # growth
                self.inv = rope_inv_freq(self.cfg, self.dim, seq_len)
                self.max_seq_len_cached = seq_len
            if (seq_len < self.original_max and
                    self.max_seq_len_cached > self.original_max):  # reset
                self.inv = self.original_inv
                self.max_seq_len_cached = self.original_max
        return self.inv


# Smallest gap between the k-th and (k+1)-th router logit of any token in
# any MoE layer over all forwards (a tie would make routing ill-defined).
ROUTE_MARGINS = []


def is_sparse_layer(cfg, l):
    mt = cfg["model_type"]
    if mt == "mixtral":
        return True
    if mt == "qwen3_moe":  # Qwen3MoeDecoderLayer
        return (l not in cfg.get("mlp_only_layers", []) and
                cfg["num_experts"] > 0 and
                (l + 1) % cfg.get("decoder_sparse_step", 1) == 0)
    return False


def sparse_moe_block(cfg, w, h, p):
    """MixtralSparseMoeBlock / Qwen3MoeSparseMoeBlock: softmax router, top-k,
    renormalised (Mixtral always, Qwen3-MoE if norm_topk_prob), experts
    looped with index_add_."""
    mixtral = cfg["model_type"] == "mixtral"
    m = p + ("block_sparse_moe." if mixtral else "mlp.")
    k = cfg["num_experts_per_tok"]
    n_exp = cfg["num_local_experts"] if mixtral else cfg["num_experts"]
    names = ("w1", "w3", "w2") if mixtral else ("gate_proj", "up_proj",
                                                 "down_proj")
    logits = h @ w[m + "gate.weight"].T
    if k < n_exp:
        srt = torch.sort(logits, dim=-1, descending=True).values
        ROUTE_MARGINS.append(float((srt[:, k - 1] - srt[:, k]).min()))
    probs = torch.softmax(logits, dim=1, dtype=torch.float)
    weights, selected = torch.topk(probs, k, dim=-1)
    if mixtral or cfg.get("norm_topk_prob", False):
        weights = weights / weights.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(h)
    mask = torch.nn.functional.one_hot(selected, num_classes=n_exp).permute(
        2, 1, 0)
    for e in range(n_exp):
        idx, top_x = torch.where(mask[e])
        if top_x.numel() == 0:
            continue
        xe = h[top_x]
        q = "%sexperts.%d." % (m, e)
        g = xe @ w[q + names[0] + ".weight"].T
        u = xe @ w[q + names[1] + ".weight"].T
        y = (torch.nn.functional.silu(g) * u) @ w[q + names[2] + ".weight"].T
        out.index_add_(0, top_x, y * weights[top_x, idx, None])
    return out


def llama_forward(cfg, w, ids, cache=None, rotary=None):
    """Logits [S, V] for ids at positions P..P+S-1 (P = cached length).

    cache: None (no cache, P = 0) or a list of per-layer (k, v) that is
    extended in place. rotary: an HfRotaryState (cached generation)."""
    mt = cfg["model_type"]
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    d = cfg.get("head_dim") or H // nh
    eps = cfg.get("rms_norm_eps", 1e-6)
    L = cfg["num_hidden_layers"]
    S = ids.shape[0]
    P = cache[0][0].shape[1] if cache else 0
    window = None
    window_from = L
    if mt in ("mistral", "mixtral", "phi3") and cfg.get("sliding_window"):
        window, window_from = cfg["sliding_window"], 0
    if mt in ("qwen2", "qwen3", "qwen3_moe") and cfg.get("use_sliding_window"):
        window = cfg["sliding_window"]
        window_from = cfg.get("max_window_layers", L)
    pos = torch.arange(P, P + S)
    inv = rotary.inv_freq(P + S) if rotary else rope_inv_freq(cfg, d, S)
    freqs = pos.float()[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    att = rope_attention_scaling(cfg)
    cos, sin = emb.cos() * att, emb.sin() * att
    i = pos[:, None]
    j = torch.arange(P + S)[None, :]
    causal = j > i
    windowed = causal | (j <= i - window) if window else causal
    x = w["model.embed_tokens.weight"][ids]
    bias = lambda n: w.get(n)

    def lin(t, name):
        y = t @ w[name + ".weight"].T
        b = bias(name + ".bias")
        return y + b if b is not None else y

    for l in range(L):
        p = "model.layers.%d." % l
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        if mt == "phi3":  # Phi3Attention: one qkv_proj, split
            qkv = lin(h, p + "self_attn.qkv_proj")
            q = qkv[..., :nh * d].view(S, nh, d)
            k = qkv[..., nh * d:(nh + nkv) * d].view(S, nkv, d)
            v = qkv[..., (nh + nkv) * d:].view(S, nkv, d).transpose(0, 1)
        else:
            q = lin(h, p + "self_attn.q_proj").view(S, nh, d)
            k = lin(h, p + "self_attn.k_proj").view(S, nkv, d)
            v = lin(h, p + "self_attn.v_proj").view(S, nkv, d).transpose(0, 1)
        if mt in ("qwen3", "qwen3_moe"):  # q_norm/k_norm over head_dim
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(0, 1), k.transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if len(cache) <= l:
                cache.append((k[:, :0], v[:, :0]))
            k = torch.cat((cache[l][0], k), dim=1)
            v = torch.cat((cache[l][1], v), dim=1)
            cache[l] = (k, v)
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(d)
        mask = windowed if (window and l >= window_from) else causal
        scores = scores.masked_fill(mask, torch.finfo(torch.float32).min)
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(0, 1).reshape(S, nh * d)
        x = x + lin(attn, p + "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        if is_sparse_layer(cfg, l):
            x = x + sparse_moe_block(cfg, w, h, p)
            continue
        if mt == "phi3":  # Phi3MLP: gate_up_proj chunked, gate first
            gate, up = lin(h, p + "mlp.gate_up_proj").chunk(2, dim=-1)
            x = x + lin(up * torch.nn.functional.silu(gate), p + "mlp.down_proj")
            continue
        g = lin(h, p + "mlp.gate_proj")
        x = x + lin(torch.nn.functional.silu(g) * lin(h, p + "mlp.up_proj"),
                    p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight")
    if cfg.get("tie_word_embeddings", False) or head is None:
        head = w["model.embed_tokens.weight"]
    return x @ head.T


# ---------------------------------------------------------------------- gpt2
def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_forward(cfg, w, ids):
    w = {(k[12:] if k.startswith("transformer.") else k): v
         for k, v in w.items()}
    H, nh = cfg["n_embd"], cfg["n_head"]
    d = H // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    S = ids.shape[0]
    act = cfg.get("activation_function", "gelu_new")
    f_act = (lambda t: torch.nn.functional.gelu(t)) if act == "gelu" else gelu_new
    pos = torch.arange(S)
    x = w["wte.weight"][ids] + w["wpe.weight"][pos]
    causal = pos[None, :] > pos[:, None]

    def ln(t, n):
        return torch.nn.functional.layer_norm(t, (H,), w[n + ".weight"],
                                              w[n + ".bias"], eps)

    def conv1d(t, n):  # HF Conv1D: weight [in, out]
        return torch.addmm(w[n + ".bias"], t, w[n + ".weight"])

    for l in range(cfg["n_layer"]):
        p = "h.%d." % l
        qkv = conv1d(ln(x, p + "ln_1"), p + "attn.c_attn")
        q, k, v = qkv.split(H, dim=-1)
        q, k, v = (t.view(S, nh, d).transpose(0, 1) for t in (q, k, v))
        scores = q @ k.transpose(1, 2)
        if cfg.get("scale_attn_weights", True):
            scores = scores / (float(d) ** 0.5)
        scores = scores.masked_fill(causal, torch.finfo(torch.float32).min)
        a = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(S, H)
        x = x + conv1d(a, p + "attn.c_proj")
        m = f_act(conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc"))
        x = x + conv1d(m, p + "mlp.c_proj")
    x = ln(x, "ln_f")
    return x @ w["wte.weight"].T


def text_part(top, w, tie_default, override_tie):
    """The language model of a *ForConditionalGeneration folder: its
    text_config and its weights under language_model (renamed model.* /
    lm_head.*); the vision weights are dropped."""
    cfg = dict(top["text_config"])
    tie = top.get("tie_word_embeddings", tie_default)
    if override_tie:
        cfg["tie_word_embeddings"] = tie
    else:
        cfg.setdefault("tie_word_embeddings", tie)
    ren = {}
    for k, v in w.items():
        for pre in ("language_model.model.", "model.language_model."):
            if k.startswith(pre):
                ren["model." + k[len(pre):]] = v
        if k == "language_model.lm_head.weight":
            ren["lm_head.weight"] = v
    return cfg, ren


# -------------------------------------------------------------------- gemma3
def gemma3_forward(cfg, w, ids):
    """transformers' Gemma3ForCausalLM (modeling_gemma3), eager attention."""
    if cfg.get("model_type") == "gemma3":  # ForConditionalGeneration
        cfg, w = text_part(cfg, w, tie_default=True, override_tie=False)
    H = cfg.get("hidden_size", 2304)
    nh = cfg.get("num_attention_heads", 8)
    nkv = cfg.get("num_key_value_heads", 4)
    d = cfg.get("head_dim", 256)
    L = cfg.get("num_hidden_layers", 26)
    eps = cfg.get("rms_norm_eps", 1e-6)
    window = cfg.get("sliding_window", 4096)
    types = cfg.get("layer_types") or [
        "sliding_attention" if (i + 1) % cfg.get("sliding_window_pattern", 6)
        else "full_attention" for i in range(L)]
    scaling = cfg.get("query_pre_attn_scalar", 256) ** -0.5
    S = ids.shape[0]
    pos = torch.arange(S)

    def cos_sin(theta, rope_scaling):
        inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.int64).float()
                               / d))
        kind = (rope_scaling or {}).get("rope_type",
                                        (rope_scaling or {}).get("type"))
        if kind == "linear":
            inv = inv / rope_scaling["factor"]
        elif kind not in (None, "default"):
            sys.exit("reference.py: gemma3 rope_type %r" % kind)
        freqs = pos.float()[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    glob = cos_sin(cfg.get("rope_theta", 1e6), cfg.get("rope_scaling"))
    local = cos_sin(cfg.get("rope_local_base_freq", 1e4), None)

    def norm(x, name):  # Gemma3RMSNorm: x_normed * (1 + weight)
        x_n = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
        return x_n * (1.0 + w[name + ".weight"])

    def lin(t, name):
        return t @ w[name + ".weight"].T

    i, j = pos[:, None], pos[None, :]
    causal = j > i
    sliding_mask = causal | (j <= i - window)
    x = w["model.embed_tokens.weight"][ids] * torch.tensor(H ** 0.5)
    for l in range(L):
        p = "model.layers.%d." % l
        is_sliding = types[l] == "sliding_attention"
        cos, sin = local if is_sliding else glob
        h = norm(x, p + "input_layernorm")
        q = lin(h, p + "self_attn.q_proj").view(S, nh, d).transpose(0, 1)
        k = lin(h, p + "self_attn.k_proj").view(S, nkv, d).transpose(0, 1)
        v = lin(h, p + "self_attn.v_proj").view(S, nkv, d).transpose(0, 1)
        q = norm(q, p + "self_attn.q_norm")
        k = norm(k, p + "self_attn.k_norm")
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        scores = (q @ k.transpose(1, 2)) * scaling
        if cfg.get("attn_logit_softcapping"):
            cap = cfg["attn_logit_softcapping"]
            scores = torch.tanh(scores / cap) * cap
        mask = sliding_mask if is_sliding else causal
        scores = scores.masked_fill(mask, torch.finfo(torch.float32).min)
        a = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(S, -1)
        a = norm(lin(a, p + "self_attn.o_proj"), p + "post_attention_layernorm")
        x = x + a
        h = norm(x, p + "pre_feedforward_layernorm")
        g = torch.nn.functional.gelu(lin(h, p + "mlp.gate_proj"),
                                     approximate="tanh")
        m = lin(g * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        x = x + norm(m, p + "post_feedforward_layernorm")
    x = norm(x, "model.norm")
    head = w.get("lm_head.weight")
    if cfg.get("tie_word_embeddings", True) or head is None:
        head = w["model.embed_tokens.weight"]
    logits = x @ head.T
    if cfg.get("final_logit_softcapping"):
        cap = cfg["final_logit_softcapping"]
        logits = torch.tanh(logits / cap) * cap
    return logits


# -------------------------------------------------------------------- llama4
def llama4_forward(cfg, w, ids):
    """transformers' Llama4ForCausalLM (modeling_llama4), eager attention."""
    if cfg.get("model_type") == "llama4":  # ForConditionalGeneration
        cfg, w = text_part(cfg, w, tie_default=False, override_tie=True)
    H = cfg.get("hidden_size", 5120)
    nh = cfg.get("num_attention_heads", 40)
    nkv = cfg.get("num_key_value_heads") or nh
    d = cfg.get("head_dim", 128)
    L = cfg.get("num_hidden_layers", 48)
    eps = cfg.get("rms_norm_eps", 1e-5)
    E = cfg.get("num_local_experts", 16)
    top_k = cfg.get("num_experts_per_tok", 1)
    no_rope = cfg.get("no_rope_layers") or [
        int((l + 1) % cfg.get("no_rope_layer_interval", 4) != 0)
        for l in range(L)]
    step = cfg.get("interleave_moe_layer_step", 1)
    moe_layers = cfg.get("moe_layers")
    if moe_layers is None:
        moe_layers = list(range(step - 1, L, step))
    types = cfg.get("layer_types") or [
        "chunked_attention" if r else "full_attention" for r in no_rope]
    chunk = cfg.get("attention_chunk_size", 8192)
    tuning = cfg.get("attn_temperature_tuning", True)
    floor_scale = cfg.get("floor_scale", 8192)
    attn_scale = cfg.get("attn_scale", 0.1)
    S = ids.shape[0]
    pos = torch.arange(S)
    # Llama4TextRotaryEmbedding: complex freqs_cis, pairs (2i, 2i+1).
    inv = rope_inv_freq(cfg, d, S)
    freqs = pos.float()[:, None] * inv[None, :]
    freqs_cis = torch.polar(torch.ones_like(freqs), freqs)  # [S, d/2]

    def rope(x):  # x [S, n, d]
        xc = torch.view_as_complex(x.float().reshape(S, x.shape[1], -1, 2))
        return torch.view_as_real(xc * freqs_cis[:, None, :]).flatten(2)

    def rms(x, weight=None):
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
        return y if weight is None else y * weight

    def lin(t, name):
        return t @ w[name + ".weight"].T

    def mlp(x, p):
        g = lin(x, p + ".gate_proj")
        return lin(torch.nn.functional.silu(g) * lin(x, p + ".up_proj"),
                   p + ".down_proj")

    i, j = pos[:, None], pos[None, :]
    causal = j > i
    if chunk:
        chunked = causal | (torch.div(j, chunk, rounding_mode="floor") !=
                            torch.div(i, chunk, rounding_mode="floor"))
    else:
        chunked = causal
    temp = (torch.log1p(torch.floor((pos.float() + 1.0) / floor_scale)) *
            attn_scale + 1.0)
    x = w["model.embed_tokens.weight"][ids]
    for l in range(L):
        p = "model.layers.%d." % l
        use_rope = bool(no_rope[l])
        h = rms(x, w[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").view(S, nh, d)
        k = lin(h, p + "self_attn.k_proj").view(S, nkv, d)
        v = lin(h, p + "self_attn.v_proj").view(S, nkv, d)
        if use_rope:
            q, k = rope(q), rope(k)
            if cfg.get("use_qk_norm", True):
                q, k = rms(q), rms(k)
        elif tuning:
            q = q * temp[:, None, None]
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        scores = (q @ k.transpose(1, 2)) * d ** -0.5
        mask = chunked if types[l] == "chunked_attention" else causal
        scores = scores.masked_fill(mask, torch.finfo(torch.float32).min)
        a = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(S, -1)
        x = x + lin(a, p + "self_attn.o_proj")
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        f = p + "feed_forward"
        if l in moe_layers:
            # Llama4TextMoe: top-k logits, sigmoid scores scale the input of
            # each expert; the shared expert is added.
            logits = h @ w[f + ".router.weight"].T  # [S, E]
            top_v, top_i = torch.topk(logits, top_k, dim=1)
            srt = torch.sort(logits, dim=1, descending=True).values
            if top_k < E:
                ROUTE_MARGINS.append(
                    float((srt[:, top_k - 1] - srt[:, top_k]).min()))
            scores = torch.full_like(logits, float("-inf")).scatter_(
                1, top_i, top_v)
            scores = torch.sigmoid(scores)  # [S, E]
            gate_up = w[f + ".experts.gate_up_proj"]  # [E, H, 2F]
            down = w[f + ".experts.down_proj"]  # [E, F, H]
            out = mlp(h, f + ".shared_expert")
            for e in range(E):
                xin = h * scores[:, e:e + 1]
                gu = xin @ gate_up[e]
                g, u = gu.chunk(2, dim=-1)
                out = out + (u * torch.nn.functional.silu(g)) @ down[e]
            x = x + out
        else:
            x = x + mlp(h, f)
    x = rms(x, w["model.norm.weight"])
    head = w.get("lm_head.weight")
    if cfg.get("tie_word_embeddings", False) or head is None:
        head = w["model.embed_tokens.weight"]
    return x @ head.T


# ---------------------------------------------------------------------- grok
# Largest |q.k * attn_output_multiplier| / max_attn_value over the unmasked
# attention scores of any forward (> 1: the soft-cap's tanh is well inside
# its nonlinear range).
CAP_RATIOS = []
# --grok_llamacpp: llama.cpp's grok graph instead of the HF module: the
# selected experts' softmax weights renormalised (build_moe_ffn's norm_w)
# and ggml_gelu's tanh form of GELU.
GROK_LLAMACPP = False


def grok_forward(cfg, w, ids):
    """HPC-AI Tech's Grok1ModelForCausalLM (modeling_grok1.py), eager."""
    hs = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    d = hs // nh
    eps = cfg.get("rms_norm_eps", 1e-5)
    mult = cfg.get("attn_output_multiplier", 1.0)
    cap = cfg.get("max_attn_value", 1.0)
    n_exp = cfg.get("num_experts", 8)
    k = cfg.get("num_experts_per_tok", 2)
    S = len(ids)
    # RotaryEmbedding(head_dim, base=10000): cos/sin of cat(freqs, freqs).
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
    freqs = torch.outer(torch.arange(S, dtype=torch.float32), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mask = torch.full((S, S), torch.finfo(torch.float32).min).triu(1)
    causal = torch.ones(S, S, dtype=torch.bool).tril()

    def norm(x, name):  # RMSNorm: scale * (x * rsqrt(mean(x^2) + eps))
        return w[name + ".scale"] * (
            x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    # MoeMLP.act_fn: nn.GELU(), the exact (erf) form.
    gelu = torch.nn.GELU(approximate="tanh" if GROK_LLAMACPP else "none")
    h = w["model.embed_tokens.weight"][ids] * cfg.get(
        "embedding_multiplier_scale", 1.0)
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        x = norm(h, p + "pre_attn_norm")
        q = (x @ w[p + "attn.q_proj.weight"].T).view(S, nh, d).transpose(0, 1)
        kk = (x @ w[p + "attn.k_proj.weight"].T).view(S, nkv, d).transpose(0, 1)
        v = (x @ w[p + "attn.v_proj.weight"].T).view(S, nkv, d).transpose(0, 1)
        q = q[None] * cos + rotate_half(q[None]) * sin
        kk = kk[None] * cos + rotate_half(kk[None]) * sin
        rep = nh // nkv
        kk = kk[:, :, None].expand(1, nkv, rep, S, d).reshape(1, nh, S, d)
        v = v[None, :, None].expand(1, nkv, rep, S, d).reshape(1, nh, S, d)
        a = torch.matmul(q, kk.transpose(2, 3)) * mult
        CAP_RATIOS.append(float(a[..., causal].abs().max()) / cap)
        a = cap * torch.tanh(a / cap)
        a = torch.softmax(a + mask, dim=-1)
        o = torch.matmul(a, v)[0].transpose(0, 1).reshape(S, nh * d)
        o = o @ w[p + "attn.o_proj.weight"].T
        h = h + norm(o, p + "post_attn_norm")
        x = norm(h, p + "pre_moe_norm")
        # MoeBlock: softmax over the experts, top-k of the probabilities,
        # not renormalised.
        logits = x @ w[p + "moe_block.gate.weight"].T
        if k < n_exp:
            srt = torch.sort(logits, dim=-1, descending=True).values
            ROUTE_MARGINS.append(float((srt[:, k - 1] - srt[:, k]).min()))
        probs = torch.softmax(logits, dim=1, dtype=torch.float)
        weights, selected = torch.topk(probs, k, dim=-1)
        if GROK_LLAMACPP:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for e in range(n_exp):
            rows, slot = torch.where(selected == e)
            if rows.numel() == 0:
                continue
            q_ = "%smoe_block.experts.%d." % (p, e)
            xe = x[rows]
            y = (gelu(xe @ w[q_ + "linear.weight"].T) *
                 (xe @ w[q_ + "linear_v.weight"].T)) @ w[q_ + "linear_1.weight"].T
            out.index_add_(0, rows, y * weights[rows, slot, None])
        h = h + norm(out, p + "post_moe_norm")
    h = norm(h, "model.norm")
    head = w.get("lm_head.weight")
    if cfg.get("tie_word_embeddings", True) or head is None:
        head = w["model.embed_tokens.weight"]
    return (h @ head.T) * cfg.get("output_multiplier_scale", 1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--prompt_ids", required=True)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--cached", action="store_true")
    ap.add_argument("--grok_llamacpp", action="store_true")
    args = ap.parse_args()
    global GROK_LLAMACPP
    GROK_LLAMACPP = args.grok_llamacpp
    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = read_weights(args.model_dir)
    mt = cfg.get("model_type")
    if mt in ("llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen3_moe",
              "phi3"):
        forward = llama_forward
    elif mt == "gpt2":
        forward = gpt2_forward
    elif mt in ("gemma3_text", "gemma3"):
        forward = gemma3_forward
    elif mt == "grok-1":
        forward = grok_forward
    elif mt in ("llama4_text", "llama4"):
        forward = llama4_forward
    else:
        sys.exit("reference.py: unsupported model_type %r" % mt)
    ids = [int(t) for t in args.prompt_ids.split(",")]
    tokens, step_logits = [], []
    if args.cached and forward is not llama_forward:
        sys.exit("reference.py: --cached is for the llama family")
    with torch.no_grad():
        if args.cached:
            nh = cfg["num_attention_heads"]
            d = cfg.get("head_dim") or cfg["hidden_size"] // nh
            rotary, cache = HfRotaryState(cfg, d), []
            feed = ids
            for _ in range(args.steps):
                logits = llama_forward(cfg, w, torch.tensor(feed), cache,
                                       rotary)[-1]
                step_logits.append(["%.9g" % v for v in logits.tolist()])
                tokens.append(int(torch.argmax(logits)))
                feed = tokens[-1:]
        else:
            for _ in range(args.steps):
                logits = forward(cfg, w, torch.tensor(ids + tokens))[-1]
                step_logits.append(["%.9g" % v for v in logits.tolist()])
                tokens.append(int(torch.argmax(logits)))
    margin = min(ROUTE_MARGINS) if ROUTE_MARGINS else None
    cap_ratio = max(CAP_RATIOS) if CAP_RATIOS else None
    out = ('{"tokens": %s, "min_route_margin": %s, "max_attn_cap_ratio": %s, '
           '"step_logits": [%s]}') % (
        json.dumps(tokens), json.dumps(margin), json.dumps(cap_ratio),
        ", ".join("[" + ", ".join(s) + "]" for s in step_logits))
    print(out)


if __name__ == "__main__":
    main()
