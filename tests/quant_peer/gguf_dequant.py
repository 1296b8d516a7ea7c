#!/usr/bin/env python3
"""Dequantizes every tensor of a GGUF file with llama.cpp's gguf-py.

Usage: PYTHONPATH=<llama.cpp>/gguf-py gguf_dequant.py FILE.gguf OUT_DIR

For each tensor writes OUT_DIR/<name>.f32 (raw little-endian float32, the
tensor's logical values in row-major order) and prints one line
"<name> <ggml type name> <element count>". The peer side of
//tests/quant_peer:gguf_dequant_peer_test; qeff is not involved here.
"""
import os
import sys

import numpy as np
import gguf
from gguf import quants


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, out_dir = sys.argv[1], sys.argv[2]
    reader = gguf.GGUFReader(path)
    for t in reader.tensors:
        # t.data: the raw bytes as uint8, shaped (rows..., bytes per row)
        # for quantized types; dequantize gives float32 (rows..., values).
        values = quants.dequantize(t.data, t.tensor_type)
        values = np.ascontiguousarray(values, dtype="<f4")
        if values.size != int(t.n_elements):
            print(f"{t.name}: {values.size} values, want {t.n_elements}",
                  file=sys.stderr)
            return 1
        with open(os.path.join(out_dir, t.name + ".f32"), "wb") as f:
            f.write(values.tobytes())
        print(t.name, t.tensor_type.name, values.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
