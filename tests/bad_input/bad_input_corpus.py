#!/usr/bin/python3
"""The bad-input corpus: every reader of outside input fed broken files.

Each case derives one bad file (or flag set) from a real, valid input with a
fixed recipe (truncated, bit-flipped, oversized dimensions, lying offsets,
wrong dtypes, huge counts, deep nesting, invalid UTF-8, NaN/Inf weights, bad
flags) and lists the substring its one error must contain. For each case the
tool must exit with a non-zero status (never a signal), print exactly one
error line `<tool>: ...` on stderr containing that substring, and stay under
a peak RSS of 2 x the file's size + 200 MB.

Valid inputs are the repository's stories260K.gguf and a seeded test model
folder written by //tools:make_test_model at test time (nothing large is
committed); the ONNX file and program folder come from one infer run.

  bad_input_corpus.py TOOLS_DIR STORIES_GGUF WORK_DIR [CASE_NAME_SUBSTRING]
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import time

TOOLS, STORIES, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
ONLY = sys.argv[4] if len(sys.argv) > 4 else ""
MB = 1 << 20
# A valid IR text graph (ir/TEXT_FORMAT.md): a decomposed RMSNorm.
IR_TEXT = """graph main (opset 17) {
  input %x: f32[n, 4]
  const %w: f32[4] = [1, 0.5, -2, 3]
  const %two: f32[] = [2]
  const %eps: f32[] = [1e-05]
  %sq = Pow(%x, %two) : f32[n, 4]
  %var = ReduceMean(%sq) {axes=[-1], keepdims=1} : f32[n, 1]
  %var_eps = Add(%var, %eps) : f32[n, 1]
  %std = Sqrt(%var_eps) : f32[n, 1]
  %rstd = Reciprocal(%std) : f32[n, 1]
  %normed = Mul(%x, %rstd) : f32[n, 4]
  %y = Mul(%w, %normed) : f32[n, 4]
  output %y
}
"""


def tool(name):
    return os.path.join(TOOLS, name)


def read(p):
    with open(p, "rb") as f:
        return f.read()


def write(p, data):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return p


# ---------------------------------------------------------------- GGUF layout


class Gguf:
    """Offsets of a GGUF v3 file's fields, for targeted corruption."""

    SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def __init__(self, data):
        self.data = data
        self.n_tensors_at, self.n_kv_at = 8, 16
        n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
        pos = 24
        self.kv = {}  # key -> (key_len_at, type_at, value_at)
        for _ in range(n_kv):
            key_len_at = pos
            (n,) = struct.unpack_from("<Q", data, pos)
            key = data[pos + 8:pos + 8 + n].decode()
            pos += 8 + n
            type_at = pos
            (t,) = struct.unpack_from("<I", data, pos)
            pos += 4
            self.kv[key] = (key_len_at, type_at, pos)
            pos = self._skip(t, pos)
        self.tensors = {}  # name -> dict(dims_at, n_dims, type_at, offset_at)
        for _ in range(n_tensors):
            (n,) = struct.unpack_from("<Q", data, pos)
            name = data[pos + 8:pos + 8 + n].decode()
            pos += 8 + n
            (nd,) = struct.unpack_from("<I", data, pos)
            info = {"n_dims": nd, "dims_at": pos + 4}
            pos += 4 + 8 * nd
            info["type_at"] = pos
            info["offset_at"] = pos + 4
            (info["type"],) = struct.unpack_from("<I", data, pos)
            (info["offset"],) = struct.unpack_from("<Q", data, pos + 4)
            pos += 12
            self.tensors[name] = info
        align = 32
        self.data_at = (pos + align - 1) // align * align

    def _skip(self, t, pos):
        if t in self.SCALAR:
            return pos + self.SCALAR[t]
        if t == 8:
            (n,) = struct.unpack_from("<Q", self.data, pos)
            return pos + 8 + n
        if t == 9:
            (et, n) = struct.unpack_from("<IQ", self.data, pos)
            pos += 12
            for _ in range(n):
                pos = self._skip(et, pos)
            return pos
        raise ValueError("gguf type %d" % t)


def patch(data, at, fmt, *values):
    b = bytearray(data)
    struct.pack_into(fmt, b, at, *values)
    return bytes(b)


# ------------------------------------------------------------ llama2.c files


def llama2c_bin(dim=16, hidden=32, layers=1, heads=2, kv_heads=2, vocab=32,
                seq=16, extra=0, values=None):
    head = dim // heads
    kv_dim = dim * kv_heads // heads
    n = (vocab * dim + layers * (2 * dim + dim * dim * 2 + kv_dim * dim * 2 +
                                  3 * hidden * dim) + dim + seq * head)
    floats = values if values is not None else [0.01 * ((i * 7) % 13 - 6)
                                                for i in range(n)]
    return (struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab, seq)
            + struct.pack("<%df" % len(floats), *floats) + b"\0" * extra)


def llama2c_tokenizer(vocab=32, max_len=None, lie_len=None, bad_utf8=False):
    pieces = [b"<unk>", b"<s>", b"</s>"] + [bytes([97 + i % 26]) * (1 + i // 26)
                                            for i in range(vocab - 3)]
    if bad_utf8:
        pieces[5] = b"\xff\xfe"
    out = struct.pack("<i", max_len if max_len is not None
                      else max(len(p) for p in pieces))
    for i, p in enumerate(pieces):
        n = lie_len if (lie_len is not None and i == 4) else len(p)
        out += struct.pack("<fi", -float(i), n) + p
    return out


# ------------------------------------------------------------------- running


def peak_rss_run(argv, env):
    """Runs argv under GNU time; returns (status, stdout, stderr, peak RSS).

    (A child forked from this interpreter would report the interpreter's own
    high-water mark; GNU time's is small.)"""
    out_p, err_p = os.path.join(WORK, "stdout"), os.path.join(WORK, "stderr")
    rss_p = os.path.join(WORK, "rss")
    with open(out_p, "wb") as o, open(err_p, "wb") as e:
        p = subprocess.run(["/usr/bin/time", "-q", "-f", "%M %x", "-o", rss_p]
                           + argv, stdout=o, stderr=e, env=env)
    words = read(rss_p).split()
    rss = int(words[-2]) * 1024
    # GNU time exits 128+N for a child killed by signal N.
    status = (p.returncode - 128) if p.returncode > 128 else (p.returncode << 8)
    return status, read(out_p).decode("utf-8", "replace"), read(
        err_p).decode("utf-8", "replace"), rss


def main():
    os.makedirs(WORK, exist_ok=True)
    env = dict(os.environ)
    env["QEFF_HOME"] = os.path.join(WORK, "home")
    env.pop("TERM", None)

    # Valid inputs.
    hf = os.path.join(WORK, "hf")
    subprocess.run([tool("make_test_model"), "--out=" + hf], check=True,
                   stdout=subprocess.DEVNULL)
    stories = read(STORIES)
    g = Gguf(stories)
    subprocess.run([tool("infer"), "--ctx_len=64", "--prompt_len=8",
                    "--generation_len=1"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    onnx = qpc = None
    for root, dirs, files in os.walk(env["QEFF_HOME"]):
        for f in files:
            if f.endswith(".onnx"):
                onnx = os.path.join(root, f)
        for d in dirs:
            if d.startswith("qpc-"):
                qpc = os.path.join(root, d)
    assert onnx and qpc, "infer wrote no ONNX/program"
    # The reference device's program folder reads its specializations.json
    # (the cpu container keeps its own copy inside program.bin).
    ref_qpc = os.path.join(WORK, "refq")
    subprocess.run([tool("compile"), "--onnx_path", onnx, "--qpc_path",
                    ref_qpc, "--device=reference", "--device_group=[0]",
                    "--num_cores=1", "--ctx_len=64", "--prompt_len=8"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    ref_qpc = os.path.join(ref_qpc, "qpcs")
    tok_json = read(os.path.join(hf, "tokenizer.json")).decode()
    config = json.loads(read(os.path.join(hf, "config.json")))
    program = read(os.path.join(qpc, "qpc", "program.bin"))
    ir_text = IR_TEXT
    embd = g.tensors["token_embd.weight"]
    embd_data = g.data_at + embd["offset"]

    def gguf_case(data):
        return lambda d: (write(os.path.join(d, "m.gguf"), data),)

    def hf_case(**files):
        def make(d):
            folder = os.path.join(d, "hf")
            shutil.copytree(hf, folder)
            for name, content in files.items():
                write(os.path.join(folder, name.replace("__", ".")), content)
            return (folder,)
        return make

    def program_case(name, content, src=None):
        def make(d):
            folder = os.path.join(d, "qpc-0")
            shutil.copytree(src or qpc, folder)
            write(os.path.join(folder, name), content)
            return (folder,)
        return make

    def file_case(name, content):
        return lambda d: (write(os.path.join(d, name), content),)

    infer = lambda p: [tool("infer"), "--model_name", p, "--ctx_len=64",
                       "--prompt_len=8", "--generation_len=1"]
    tokenize = lambda p: [tool("tokenize"), "--tokenizer", p, "--text", "hi"]
    compile_ = lambda p: [tool("compile"), "--onnx_path", p, "--qpc_path",
                          os.path.join(os.path.dirname(p), "out"),
                          "--device_group", "[0]", "--num_cores=1",
                          "--ctx_len=64",
                          "--prompt_len=8"]
    execute = lambda p: [tool("execute"), "--qpc_path", p,
                         "--generation_len=1", "--prompt", "hi"]
    opt = lambda p: [tool("opt"), "--input", p, "--passes", "shape_inference"]
    farm = lambda p: [tool("farm"), "--jobs", p, "--qeff_home",
                      os.path.join(os.path.dirname(p), "home")]
    flags = lambda *f: (lambda p: [tool("infer")] + list(f))
    nested = "[" * 100000 + "]" * 100000
    deep_cfg = dict(config, rope_scaling=json.loads("[" * 50 + "]" * 50))
    n_f = (len(llama2c_bin()) - 28) // 4

    # name, make(dir) -> (path,), argv(path), expected substring
    cases = [
        # GGUF (stories260K.gguf)
        ("gguf_truncated_header", gguf_case(stories[:100]), infer,
         "metadata_kv_count 19 is absurd for a file of 100 bytes"),
        ("gguf_truncated_tensor_data", gguf_case(stories[:-4096]), infer,
         "past end of file"),
        ("gguf_empty", gguf_case(b""), infer, "truncated: magic"),
        ("gguf_bad_magic", gguf_case(b"GGUX" + stories[4:]), infer, "magic"),
        ("gguf_version_99", gguf_case(patch(stories, 4, "<I", 99)), infer,
         "version 99"),
        ("gguf_huge_tensor_count",
         gguf_case(patch(stories, g.n_tensors_at, "<Q", 1 << 60)), infer,
         "tensor_count"),
        ("gguf_huge_kv_count",
         gguf_case(patch(stories, g.n_kv_at, "<Q", 1 << 62)), infer,
         "metadata_kv_count"),
        ("gguf_huge_key_length",
         gguf_case(patch(stories, g.kv["general.architecture"][0], "<Q",
                         1 << 40)), infer, "string length 1099511627776"),
        ("gguf_huge_array_count",
         gguf_case(patch(stories, g.kv["tokenizer.ggml.tokens"][2] + 4, "<Q",
                         1 << 50)), infer, "tokenizer.ggml.tokens"),
        ("gguf_bad_kv_type",
         gguf_case(patch(stories, g.kv["general.architecture"][1], "<I", 99)),
         infer, "type 99"),
        ("gguf_wrong_kv_type",
         gguf_case(patch(stories, g.kv["llama.block_count"][1], "<I", 6)),
         infer, "llama.block_count"),
        ("gguf_oversized_dim",
         gguf_case(patch(stories, embd["dims_at"], "<Q", 1 << 40)), infer,
         "token_embd.weight"),
        ("gguf_lying_offset",
         gguf_case(patch(stories, embd["offset_at"], "<Q", 1 << 40)), infer,
         "token_embd.weight"),
        ("gguf_misaligned_offset",
         gguf_case(patch(stories, embd["offset_at"], "<Q", embd["offset"] + 1)),
         infer, "token_embd.weight"),
        ("gguf_unknown_dtype",
         gguf_case(patch(stories, embd["type_at"], "<I", 99)), infer,
         "token_embd.weight"),
        ("gguf_too_many_dims",
         gguf_case(patch(stories, embd["dims_at"] - 4, "<I", 9)), infer,
         "token_embd.weight"),
        ("gguf_nan_weight",
         gguf_case(patch(stories, embd_data + 40, "<f", float("nan"))), infer,
         "is nan"),
        ("gguf_inf_weight",
         gguf_case(patch(stories, embd_data, "<f", float("inf"))), infer,
         "is inf"),
        ("gguf_bit_flipped_arch",
         gguf_case(patch(stories, g.kv["general.architecture"][2] + 8, "<B",
                         ord("L"))), infer, "Llama"),
        ("gguf_tokenizer_truncated", gguf_case(stories[:20000]), tokenize,
         "past end of file"),
        # safetensors + config.json + tokenizer.json (HF folder)
        ("safetensors_truncated",
         hf_case(model__safetensors=read(os.path.join(hf, "model.safetensors"))
                 [:5000]), infer, "model.safetensors"),
        ("safetensors_huge_header_len",
         hf_case(model__safetensors=struct.pack("<Q", 1 << 60) + b"{}"), infer,
         "header"),
        ("safetensors_header_not_json",
         hf_case(model__safetensors=struct.pack("<Q", 8) + b"{\"a\":[1,"),
         infer, "model.safetensors"),
        ("safetensors_lying_offsets",
         hf_case(model__safetensors=(lambda b, n: struct.pack("<Q", len(
             n)) + n + b[8 + struct.unpack_from("<Q", b)[0]:])(
                 read(os.path.join(hf, "model.safetensors")),
                 read(os.path.join(hf, "model.safetensors"))[8:8 + struct.unpack_from(
                     "<Q", read(os.path.join(hf, "model.safetensors")))[0]].replace(
                         b'"data_offsets":[0,115712]',
                         b'"data_offsets":[0,999999999999]'))), infer,
         "model.embed_tokens.weight"),
        ("config_not_json", hf_case(config__json="{\"hidden_size\": 64,"),
         infer, "config.json"),
        ("config_negative_layers",
         hf_case(config__json=json.dumps(dict(config, num_hidden_layers=-3))),
         infer, "num_hidden_layers"),
        ("config_huge_hidden",
         hf_case(config__json=json.dumps(dict(config, hidden_size=1 << 40))),
         infer, "expected [452, 1099511627776]"),
        ("config_heads_not_dividing",
         hf_case(config__json=json.dumps(dict(config, num_key_value_heads=3))),
         infer, "num_key_value_heads"),
        ("config_wrong_type",
         hf_case(config__json=json.dumps(dict(config, hidden_size="64"))),
         infer, "hidden_size"),
        ("config_deep_nesting", hf_case(config__json=json.dumps(deep_cfg)),
         infer, "rope_scaling"),
        ("config_nested_100k", hf_case(config__json=nested), infer,
         "nest"),
        ("tokenizer_json_truncated",
         file_case("tokenizer.json", tok_json[:len(tok_json) // 2]), tokenize,
         "tokenizer.json"),
        ("tokenizer_json_invalid_utf8",
         file_case("tokenizer.json", tok_json.encode().replace(
             b"<unk>", b"<\xff\xfek>")), tokenize,
         "invalid UTF-8 byte 0xff"),
        ("tokenizer_json_nested_100k", file_case("tokenizer.json", nested),
         tokenize, "nest"),
        ("tokenizer_json_no_model",
         file_case("tokenizer.json", json.dumps({"version": "1.0"})),
         tokenize, "model"),
        # llama2.c checkpoint and tokenizer.bin
        ("llama2c_truncated", file_case("m.bin", llama2c_bin()[:-100]), infer,
         "m.bin"),
        ("llama2c_trailing_bytes",
         file_case("m.bin", llama2c_bin(extra=4)), infer, "m.bin"),
        ("llama2c_huge_dims",
         file_case("m.bin", patch(llama2c_bin(), 0, "<i", 1 << 30)), infer,
         "dim"),
        ("llama2c_overflowing_dims",  # dim^2 x n_layers past 2^64 bytes
         file_case("m.bin", struct.pack("<7i", 1 << 24, 1 << 24, 1 << 24,
                                        1 << 4, 1 << 4, 1 << 24, 1 << 24)),
         infer, "truncated: weight array token_embedding_table"),
        ("llama2c_zero_heads", file_case("m.bin", patch(llama2c_bin(), 12, "<i",
                                                         0)), infer, "n_heads"),
        ("llama2c_vocab_int32_min",  # fuzz finding: -vocab overflowed
         file_case("m.bin", patch(llama2c_bin(), 20, "<i", -2**31)), infer,
         "vocab_size = -2147483648 is out of range"),
        ("llama2c_negative_layers",
         file_case("m.bin", patch(llama2c_bin(), 8, "<i", -2)), infer,
         "n_layers"),
        ("llama2c_nan_weight",
         file_case("m.bin", llama2c_bin(values=[0.0] * 7 + [float("nan")] +
                                        [0.0] * (n_f - 8))), infer, "is nan"),
        ("llama2c_v1_magic",
         file_case("m.bin", b"ak42" + llama2c_bin()[4:]), infer, "m.bin"),
        ("tokenizer_bin_truncated",
         file_case("tokenizer.bin", llama2c_tokenizer()[:-3]), tokenize,
         "tokenizer.bin"),
        ("tokenizer_bin_lying_length",
         file_case("tokenizer.bin", llama2c_tokenizer(lie_len=1 << 30)),
         tokenize, "tokenizer.bin"),
        ("tokenizer_bin_negative_length",
         file_case("tokenizer.bin", llama2c_tokenizer(lie_len=-5)), tokenize,
         "tokenizer.bin"),
        ("tokenizer_bin_negative_max_len",
         file_case("tokenizer.bin", llama2c_tokenizer(max_len=-1)), tokenize,
         "tokenizer.bin"),
        # ONNX import
        ("onnx_truncated", file_case("m.onnx", read(onnx)[:3000]), compile_,
         "m.onnx"),
        ("onnx_garbage", file_case("m.onnx", b"\x08\x07" + b"\xff" * 4000),
         compile_, "m.onnx"),
        ("onnx_missing_data",
         file_case("m.onnx", read(onnx)), compile_, ".onnx.data"),
        # IR text
        ("ir_text_truncated", file_case("g.txt", ir_text[:len(ir_text) // 2]),
         opt, "g.txt"),
        ("ir_text_huge_dim",
         file_case("g.txt", ir_text.replace("f32[4] = [1", "f32[99999999999999] = [1", 1)),
         opt, "g.txt"),
        ("ir_text_invalid_utf8",
         file_case("g.txt", ir_text.encode().replace(b"x", b"\xff", 1)), opt,
         "g.txt"),
        # program folder: container and specializations.json
        ("program_truncated", program_case("qpc/program.bin", program[:200]),
         execute, "program.bin"),
        ("program_bit_flipped_plan",
         program_case("qpc/program.bin",
                      patch(program, 200, "<B", program[200] ^ 0x10)),
         execute, "checksum"),
        ("program_bad_magic",
         program_case("qpc/program.bin", b"XXXXXXXX" + program[8:]), execute,
         "program.bin"),
        ("program_lying_weights_size",
         program_case("qpc/program.bin", patch(program, 72, "<Q", 1 << 50)),
         execute, "program.bin"),
        ("specializations_not_json",
         program_case("specializations.json", "{\"specializations\": [",
                      ref_qpc),
         execute, "specializations.json"),
        ("specializations_huge_ctx",
         program_case("specializations.json", json.dumps({"specializations": [
             {"name": "Prefill", "symbols": {"batch_size": "1",
                                             "ctx_len": "99999999999999999999",
                                             "seq_len": "8"}}]}), ref_qpc),
         execute,
         "specializations.json"),
        # farm manifests
        ("farm_not_json", file_case("jobs.json", "[{\"model\": "), farm,
         "jobs.json"),
        ("farm_negative_ctx",
         file_case("jobs.json", json.dumps([{"model": STORIES, "prompt_len": 8,
                                             "ctx_len": -64}])), farm,
         "ctx_len"),
        ("farm_missing_model",
         file_case("jobs.json", json.dumps([{"prompt_len": 8, "ctx_len": 64}])),
         farm, "model"),
        ("farm_nested_100k", file_case("jobs.json", nested), farm, "nest"),
        # flags, and memory as input
        ("flag_negative_ctx", lambda d: ("",), flags("--ctx_len=-5"),
         "ctx_len"),
        ("flag_zero_batch", lambda d: ("",), flags("--batch_size=0"),
         "batch_size"),
        ("flag_prompt_len_over_ctx", lambda d: ("",),
         flags("--prompt_len=256", "--ctx_len=64"),
         "prefill_seq_len 256 exceeds ctx_len 64"),
        ("flag_bad_device", lambda d: ("",), flags("--device=cpu:2/7"),
         "cpu:2/7"),
        ("flag_ctx_len_2e9", lambda d: ("",), flags("--ctx_len=2000000000"),
         "the host has"),
        ("flag_unknown_model", lambda d: ("",),
         flags("--model_name=/nonexistent/model.gguf"), "model.gguf"),
    ]

    failures, ran = [], 0
    for name, make, argv_of, want in cases:
        if ONLY and ONLY not in name:
            continue
        d = os.path.join(WORK, "cases", name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        (path,) = make(d)
        size = os.path.getsize(path) if path and os.path.isfile(path) else 0
        t0 = time.time()
        status, out, err, rss = peak_rss_run(argv_of(path), env)
        dt = time.time() - t0
        ran += 1
        prog = os.path.basename(argv_of(path)[0])
        lines = [l for l in err.splitlines() if l.startswith(prog + ": ")]
        problems = []
        if os.WIFSIGNALED(status):
            problems.append("killed by signal %d" % os.WTERMSIG(status))
        elif os.WEXITSTATUS(status) == 0:
            problems.append("exit 0")
        if len(lines) != 1:
            problems.append("%d error lines" % len(lines))
        elif want not in lines[0]:
            problems.append("error lacks %r" % want)
        limit = 2 * size + 200 * MB
        if rss > limit:
            problems.append("peak RSS %d MB > %d MB" % (rss // MB, limit // MB))
        verdict = "FAIL " + "; ".join(problems) if problems else "ok"
        print("%-32s %s  rss=%dMB %.1fs  %s" % (
            name, verdict, rss // MB, dt, lines[0] if len(lines) == 1 else
            err.strip()[-300:]))
        if problems:
            failures.append(name)
    print("bad-input corpus: %d cases, %d failed %s" % (ran, len(failures),
                                                       " ".join(failures)))
    return 1 if failures or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
