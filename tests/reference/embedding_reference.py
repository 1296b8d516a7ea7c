#!/usr/bin/python3
"""An independent PyTorch reference for qeff's sentence embeddings.

A plain eager BertModel written from transformers' modeling_bert math
(BertEmbeddings with token type 0, BertSelfAttention with the extended
attention mask (1 - mask) * finfo.min, post-LN BertSelfOutput / BertOutput,
GELU exact or tanh as config.json's hidden_act says), then the pooling of
sentence-transformers / QEfficient (mean: masked sum / clamp(count, 1e-9);
avg: the same; cls: token 0; max: padding set to -1e9, then max; last: the
last token whose mask is 1) and optional F.normalize(p=2). Computed in
float64. Shares no code with qeff: it reads config.json and
model.safetensors itself.

nomic_bert (config model_type "nomic_bert") follows nomic-ai's
modeling_hf_nomic_bert.py: word + token-type embeddings, emb_ln, post-LN
blocks with Wqkv split as (three h d), non-interleaved rotary embedding
(rotate_half, base rotary_emb_base, positions 0..S-1), out_proj, norm1,
gated MLP fc2(fc11(x) * silu(fc12(x))), norm2.

Usage: embedding_reference.py MODEL_DIR --ids=1,2,3;4,5
Prints {"mean": {"none": [[...], ...], "l2": [...]}, "avg": ..., ...} for
the prompts (padded to the longest with id 0 and mask 0, as one batch).
"""
import argparse
import json
import struct

import torch
import torch.nn.functional as F

torch.set_num_threads(2)

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[8 + n + b:8 + n + end]),
                             dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).to(torch.float64)
    return out


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def bert(cfg, w, ids, mask):
    eps = cfg.get("layer_norm_eps", 1e-12)
    nh = cfg["num_attention_heads"]
    B, S = ids.shape
    x = (w["embeddings.word_embeddings.weight"][ids] +
         w["embeddings.position_embeddings.weight"][torch.arange(S)][None] +
         w["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"],
                   w["embeddings.LayerNorm.bias"], eps)
    ext = (1.0 - mask[:, None, None, :].to(torch.float64)) * \
        torch.finfo(torch.float64).min
    act = cfg.get("hidden_act", "gelu")
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def lin(t, n):
            return t @ w[p + n + ".weight"].T + w[p + n + ".bias"]

        def heads(t):
            return t.view(B, S, nh, -1).transpose(1, 2)

        q = heads(lin(x, "attention.self.query"))
        k = heads(lin(x, "attention.self.key"))
        v = heads(lin(x, "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5) + ext
        ctx = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, S, -1)
        x = layer_norm(lin(ctx, "attention.output.dense") + x,
                       w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        h = lin(x, "intermediate.dense")
        h = F.gelu(h) if act == "gelu" else F.gelu(h, approximate="tanh")
        x = layer_norm(lin(h, "output.dense") + x,
                       w[p + "output.LayerNorm.weight"],
                       w[p + "output.LayerNorm.bias"], eps)
    return x


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def nomic_bert(cfg, w, ids, mask):
    eps = cfg.get("layer_norm_epsilon", 1e-12)
    nh = cfg["n_head"]
    B, S = ids.shape
    x = (w["embeddings.word_embeddings.weight"][ids] +
         w["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, w["emb_ln.weight"], w["emb_ln.bias"], eps)
    d = x.shape[-1] // nh
    base = cfg.get("rotary_emb_base", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.outer(torch.arange(S, dtype=torch.float64), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]
    ext = (1.0 - mask[:, None, None, :].to(torch.float64)) * \
        torch.finfo(torch.float64).min
    for i in range(cfg["n_layer"]):
        p = f"encoder.layers.{i}."
        qkv = (x @ w[p + "attn.Wqkv.weight"].T).view(B, S, 3, nh, d)
        q, k, v = qkv.unbind(dim=2)  # [B, S, h, d]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / (d ** 0.5) + ext
        ctx = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, S, -1)
        x = layer_norm(ctx @ w[p + "attn.out_proj.weight"].T + x,
                       w[p + "norm1.weight"], w[p + "norm1.bias"], eps)
        y = x @ w[p + "mlp.fc11.weight"].T
        gate = x @ w[p + "mlp.fc12.weight"].T
        y = (y * F.silu(gate)) @ w[p + "mlp.fc2.weight"].T
        x = layer_norm(y + x, w[p + "norm2.weight"], w[p + "norm2.bias"], eps)
    return x


def pool(h, mask, how):
    m = mask[:, :, None].to(h.dtype)
    if how in ("mean", "avg"):
        return (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    if how == "cls":
        return h[:, 0]
    if how == "max":
        h = h.clone()
        h[m.expand_as(h) == 0] = -1e9
        return h.max(1).values
    if how == "last":
        last = [int(torch.nonzero(r).max()) for r in mask]
        return torch.stack([h[b, i] for b, i in enumerate(last)])
    raise ValueError(how)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--ids", required=True)
    a = ap.parse_args()
    with open(a.model_dir + "/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(a.model_dir + "/model.safetensors")
    prompts = [[int(t) for t in p.split(",")] for p in a.ids.split(";")]
    S = max(len(p) for p in prompts)
    ids = torch.zeros(len(prompts), S, dtype=torch.long)
    mask = torch.zeros(len(prompts), S, dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, :len(p)] = torch.tensor(p)
        mask[b, :len(p)] = 1
    with torch.no_grad():
        model = nomic_bert if cfg.get("model_type") == "nomic_bert" else bert
        h = model(cfg, w, ids, mask)
        out = {}
        for how in ("mean", "avg", "cls", "max", "last"):
            v = pool(h, mask, how)
            out[how] = {"none": v.tolist(),
                        "l2": F.normalize(v, p=2, dim=1).tolist()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
