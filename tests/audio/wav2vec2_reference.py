#!/usr/bin/python3
"""An independent PyTorch reference for wav2vec2 / HuBERT (CTC and sequence
classification heads), written from Hugging Face's modeling_wav2vec2.py /
modeling_hubert.py math at inference (no dropout, no masking). Shares no code
with qeff's models/.

  make DIR --variants=A,B --seed=N   writes seeded tiny HF folders DIR/A,
                                     DIR/B (config.json, model.safetensors,
                                     vocab.json, preprocessor_config.json)
  logits DIR --input=F1,F2 --batch=B [--lengths=a,b/c,d]
                                     prints one line {"logits": [...],
                                     "shape": [...]} per file of raw
                                     little-endian f32 input_values [B, n/B];
                                     with --lengths (real samples per row,
                                     per file) and return_attention_mask in
                                     preprocessor_config.json, HF's
                                     attention_mask path.

Variants: w2v_group_ctc (group-norm feature encoder, post-LN, CTC, even pos
kernel), w2v_layer_ctc (layer-norm feature encoder, stable layer norm, conv
bias, odd pos kernel, parametrizations weight-norm names), hubert_group_cls
(classification, weighted layer sum), hubert_layer_cls (stable layer norm,
no feature-projection LayerNorm).
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(2)

VARIANTS = {
    "w2v_group_ctc": dict(model_type="wav2vec2", arch="Wav2Vec2ForCTC",
                          feat_extract_norm="group", do_stable_layer_norm=False,
                          conv_bias=False, num_conv_pos_embeddings=8,
                          weight_norm_names="old"),
    "w2v_layer_ctc": dict(model_type="wav2vec2", arch="Wav2Vec2ForCTC",
                          feat_extract_norm="layer", do_stable_layer_norm=True,
                          conv_bias=True, num_conv_pos_embeddings=7,
                          weight_norm_names="new"),
    "hubert_group_cls": dict(model_type="hubert",
                             arch="HubertForSequenceClassification",
                             feat_extract_norm="group",
                             do_stable_layer_norm=False, conv_bias=False,
                             num_conv_pos_embeddings=8,
                             use_weighted_layer_sum=True,
                             weight_norm_names="old"),
    "hubert_layer_cls": dict(model_type="hubert",
                             arch="HubertForSequenceClassification",
                             feat_extract_norm="layer",
                             do_stable_layer_norm=True, conv_bias=True,
                             num_conv_pos_embeddings=6,
                             feat_proj_layer_norm=False,
                             weight_norm_names="new"),
}

VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I",
         "H", "S", "R", "D", "L"]


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        t = torch.frombuffer(buf, dtype=torch.float32) if b > a else torch.zeros(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def make(d, variant, seed):
    v = dict(VARIANTS[variant])
    g = torch.Generator().manual_seed(seed)
    cfg = {
        "model_type": v["model_type"], "architectures": [v["arch"]],
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 48, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
        "feat_extract_norm": v["feat_extract_norm"],
        "feat_extract_activation": "gelu",
        "conv_dim": [16, 24, 24], "conv_stride": [5, 2, 2],
        "conv_kernel": [10, 3, 3], "conv_bias": v["conv_bias"],
        "num_conv_pos_embeddings": v["num_conv_pos_embeddings"],
        "num_conv_pos_embedding_groups": 4,
        "do_stable_layer_norm": v["do_stable_layer_norm"],
        "vocab_size": len(VOCAB), "pad_token_id": 0,
        "use_weighted_layer_sum": v.get("use_weighted_layer_sum", False),
        "classifier_proj_size": 12,
        "id2label": {"0": "yes", "1": "no", "2": "up", "3": "down", "4": "left"},
        "label2id": {"yes": 0, "no": 1, "up": 2, "down": 3, "left": 4},
    }
    if "feat_proj_layer_norm" in v:
        cfg["feat_proj_layer_norm"] = v["feat_proj_layer_norm"]
    p = v["model_type"] + "."
    h, ff = cfg["hidden_size"], cfg["intermediate_size"]
    w = {}

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=g) * scale

    def ln(name, n):
        w[name + ".weight"] = 1.0 + rnd(n, scale=0.1)
        w[name + ".bias"] = rnd(n, scale=0.1)

    def lin(name, i, o):
        w[name + ".weight"] = rnd(o, i, scale=1.0 / math.sqrt(i))
        w[name + ".bias"] = rnd(o, scale=0.05)

    cin = 1
    for i, (cd, k) in enumerate(zip(cfg["conv_dim"], cfg["conv_kernel"])):
        base = f"{p}feature_extractor.conv_layers.{i}"
        w[base + ".conv.weight"] = rnd(cd, cin, k, scale=1.0 / math.sqrt(cin * k))
        if cfg["conv_bias"]:
            w[base + ".conv.bias"] = rnd(cd, scale=0.05)
        if cfg["feat_extract_norm"] == "layer" or i == 0:
            ln(base + ".layer_norm", cd)
        cin = cd
    if cfg.get("feat_proj_layer_norm", True):
        ln(p + "feature_projection.layer_norm", cin)
    lin(p + "feature_projection.projection", cin, h)
    k, grp = cfg["num_conv_pos_embeddings"], cfg["num_conv_pos_embedding_groups"]
    pc = p + "encoder.pos_conv_embed.conv"
    gname, vname = ((pc + ".weight_g", pc + ".weight_v")
                    if v["weight_norm_names"] == "old" else
                    (pc + ".parametrizations.weight.original0",
                     pc + ".parametrizations.weight.original1"))
    w[gname] = 0.5 + rnd(1, 1, k, scale=0.1).abs()
    w[vname] = rnd(h, h // grp, k, scale=0.3)
    w[pc + ".bias"] = rnd(h, scale=0.05)
    ln(p + "encoder.layer_norm", h)
    for i in range(cfg["num_hidden_layers"]):
        base = f"{p}encoder.layers.{i}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            lin(f"{base}.attention.{proj}", h, h)
        ln(base + ".layer_norm", h)
        lin(base + ".feed_forward.intermediate_dense", h, ff)
        lin(base + ".feed_forward.output_dense", ff, h)
        ln(base + ".final_layer_norm", h)
    if v["arch"].endswith("ForCTC"):
        lin("lm_head", h, cfg["vocab_size"])
        w[p + "masked_spec_embed"] = rnd(h)  # unused at inference
    else:
        lin("projector", h, cfg["classifier_proj_size"])
        lin("classifier", cfg["classifier_proj_size"], len(cfg["id2label"]))
        if cfg["use_weighted_layer_sum"]:
            w["layer_weights"] = rnd(cfg["num_hidden_layers"] + 1, scale=1.0)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_safetensors(os.path.join(d, "model.safetensors"), w)
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(VOCAB)}, f)
    with open(os.path.join(d, "preprocessor_config.json"), "w") as f:
        json.dump({"feature_extractor_type": "Wav2Vec2FeatureExtractor",
                   "feature_size": 1, "sampling_rate": 16000,
                   "padding_value": 0.0, "do_normalize": True,
                   "return_attention_mask":
                       cfg["feat_extract_norm"] == "layer"}, f)


def gelu(x):
    return F.gelu(x)  # exact (erf) GELU, HF's "gelu"


def act(cfg, name):
    return {"gelu": gelu, "relu": F.relu}[cfg[name]]


def forward(d, x, lengths=None):
    """lengths: real samples per row -> HF's attention_mask path."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = read_safetensors(os.path.join(d, "model.safetensors"))
    mt = cfg["model_type"]
    p = mt + "."
    eps = cfg.get("layer_norm_eps", 1e-5)
    fact = act(cfg, "feat_extract_activation")
    # Feature encoder: input_values[:, None] through the conv layers.
    h = x[:, None, :]
    for i, (cd, k, s) in enumerate(zip(cfg["conv_dim"], cfg["conv_kernel"],
                                       cfg["conv_stride"])):
        base = f"{p}feature_extractor.conv_layers.{i}"
        h = F.conv1d(h, w[base + ".conv.weight"], w.get(base + ".conv.bias"),
                     stride=s)
        if cfg["feat_extract_norm"] == "layer":
            h = F.layer_norm(h.transpose(-2, -1), (cd,),
                             w[base + ".layer_norm.weight"],
                             w[base + ".layer_norm.bias"]).transpose(-2, -1)
        elif i == 0:
            h = F.group_norm(h, cd, w[base + ".layer_norm.weight"],
                             w[base + ".layer_norm.bias"])
        h = fact(h)
    h = h.transpose(1, 2)
    # Feature projection.
    if mt == "wav2vec2" or cfg.get("feat_proj_layer_norm", True):
        h = F.layer_norm(h, (h.shape[-1],),
                         w[p + "feature_projection.layer_norm.weight"],
                         w[p + "feature_projection.layer_norm.bias"], eps)
    h = F.linear(h, w[p + "feature_projection.projection.weight"],
                 w[p + "feature_projection.projection.bias"])
    frame_mask = None
    if lengths is not None:
        # _get_feat_extract_output_lengths + _get_feature_vector_attention_mask
        out_len = torch.tensor(lengths)
        for k_, s_ in zip(cfg["conv_kernel"], cfg["conv_stride"]):
            out_len = torch.div(out_len - k_, s_, rounding_mode="floor") + 1
        frame_mask = torch.arange(h.shape[1])[None, :] < out_len[:, None]
        h = h.clone()
        h[~frame_mask] = 0.0
    # Positional conv embedding with weight norm (dim=2).
    pc = p + "encoder.pos_conv_embed.conv"
    if pc + ".weight_g" in w:
        wg, wv = w[pc + ".weight_g"], w[pc + ".weight_v"]
    else:
        wg = w[pc + ".parametrizations.weight.original0"]
        wv = w[pc + ".parametrizations.weight.original1"]
    norm = wv.norm(dim=(0, 1), keepdim=True)
    pw = wv * (wg / norm)
    k = cfg["num_conv_pos_embeddings"]
    pos = F.conv1d(h.transpose(1, 2), pw, w[pc + ".bias"], padding=k // 2,
                   groups=cfg["num_conv_pos_embedding_groups"])
    if k % 2 == 0:
        pos = pos[:, :, :-1]
    pos = fact(pos).transpose(1, 2)
    h = h + pos
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    hd = H // nh
    hact = act(cfg, "hidden_act")
    stable = cfg.get("do_stable_layer_norm", False)

    def lnorm(t, name):
        return F.layer_norm(t, (H,), w[name + ".weight"], w[name + ".bias"], eps)

    def attention(t, base):
        B, T, _ = t.shape
        q = F.linear(t, w[base + ".q_proj.weight"], w[base + ".q_proj.bias"]) * hd ** -0.5
        kk = F.linear(t, w[base + ".k_proj.weight"], w[base + ".k_proj.bias"])
        vv = F.linear(t, w[base + ".v_proj.weight"], w[base + ".v_proj.bias"])
        q, kk, vv = (z.view(B, T, nh, hd).transpose(1, 2) for z in (q, kk, vv))
        sc = q @ kk.transpose(-1, -2)
        if frame_mask is not None:  # _prepare_4d_attention_mask
            sc = sc + (~frame_mask)[:, None, None, :].to(sc.dtype) * torch.finfo(sc.dtype).min
        a = torch.softmax(sc, dim=-1)
        o = (a @ vv).transpose(1, 2).reshape(B, T, H)
        return F.linear(o, w[base + ".out_proj.weight"], w[base + ".out_proj.bias"])

    def feed_forward(t, base):
        t = hact(F.linear(t, w[base + ".intermediate_dense.weight"],
                          w[base + ".intermediate_dense.bias"]))
        return F.linear(t, w[base + ".output_dense.weight"],
                        w[base + ".output_dense.bias"])

    hidden = []
    if not stable:
        h = lnorm(h, p + "encoder.layer_norm")
    for i in range(cfg["num_hidden_layers"]):
        hidden.append(h)
        base = f"{p}encoder.layers.{i}"
        if stable:
            h = h + attention(lnorm(h, base + ".layer_norm"), base + ".attention")
            h = h + feed_forward(lnorm(h, base + ".final_layer_norm"),
                                 base + ".feed_forward")
        else:
            h = lnorm(h + attention(h, base + ".attention"), base + ".layer_norm")
            h = lnorm(h + feed_forward(h, base + ".feed_forward"),
                      base + ".final_layer_norm")
    if stable:
        h = lnorm(h, p + "encoder.layer_norm")
    hidden.append(h)
    arch = cfg["architectures"][0]
    if arch.endswith("ForCTC"):
        return F.linear(h, w["lm_head.weight"], w["lm_head.bias"])
    if cfg.get("use_weighted_layer_sum", False):
        st = torch.stack(hidden, dim=1)
        nw = torch.softmax(w["layer_weights"], dim=-1)
        h = (st * nw.view(-1, 1, 1)).sum(dim=1)
    h = F.linear(h, w["projector.weight"], w["projector.bias"])
    if frame_mask is None:
        pooled = h.mean(dim=1)
    else:
        h = h.clone()
        h[~frame_mask] = 0.0
        pooled = h.sum(dim=1) / frame_mask.sum(dim=1).view(-1, 1)
    return F.linear(pooled, w["classifier.weight"], w["classifier.bias"])


def main(argv):
    cmd, d = argv[1], argv[2]
    opts = dict(a[2:].split("=", 1) for a in argv[3:] if a.startswith("--"))
    if cmd == "make":  # DIR is a parent: one folder per variant
        for v in opts["variants"].split(","):
            make(os.path.join(d, v), v, int(opts.get("seed", "1")))
        return 0
    if cmd == "logits":  # one JSON line per input file
        b = int(opts.get("batch", "1"))
        pre = json.load(open(os.path.join(d, "preprocessor_config.json")))
        lens = opts.get("lengths", "").split("/")
        for n, path in enumerate(opts["input"].split(",")):
            raw = open(path, "rb").read()
            x = torch.frombuffer(bytearray(raw), dtype=torch.float32).clone()
            rows = None
            if pre.get("return_attention_mask") and lens[0]:
                rows = [int(v) for v in lens[n].split(",")]
            with torch.no_grad():
                y = forward(d, x.reshape(b, -1), rows)
            print(json.dumps({"shape": list(y.shape),
                              "logits": [float(v) for v in y.flatten()]}))
        return 0
    print("unknown command " + cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
