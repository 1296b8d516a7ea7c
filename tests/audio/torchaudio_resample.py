#!/usr/bin/python3
"""torchaudio's Resample with its defaults, for qeff's resampler test.

  torchaudio_resample.py IN.f32 FROM_HZ TO_HZ OUT.f32
raw little-endian f32 mono samples in and out.
"""
import sys

import torch
import torchaudio

src, a, b, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
x = torch.frombuffer(bytearray(open(src, "rb").read()), dtype=torch.float32)
y = torchaudio.transforms.Resample(a, b)(x[None, :].clone())[0]
open(dst, "wb").write(y.contiguous().numpy().astype("<f4").tobytes())
