#!/usr/bin/env bash
# //tools:infer on a sim device: outputs from the host (the same tokens as
# the cpu), modelled card times printed beside the host's and labelled;
# --device_group of four ids is num_devices 4 (four SoCs of the Ultra).
set -euo pipefail
infer="$1"
export QEFF_HOME="$TEST_TMPDIR/home"
"$infer" --generation_len=8 >"$TEST_TMPDIR/cpu.txt"
"$infer" --generation_len=8 --device=sim:ai100-ultra \
  --device_group=[0,1,2,3] >"$TEST_TMPDIR/sim.txt"
cat "$TEST_TMPDIR/sim.txt"
grep -q "^Device: sim:ai100-ultra" "$TEST_TMPDIR/sim.txt"
grep -q "Host times above: measured on the host" "$TEST_TMPDIR/sim.txt"
grep -q "Modelled on sim:ai100-ultra (num_cores 16, num_devices 4;" "$TEST_TMPDIR/sim.txt"
grep -q "  Prefill (batch 1 x seq 32): .* ms per call" "$TEST_TMPDIR/sim.txt"
grep -q "  Decode (batch 1 x seq 1): .* tokens/s \[memory-bound\]" "$TEST_TMPDIR/sim.txt"
grep -q "Modelled TTFT (5-token prompt)" "$TEST_TMPDIR/sim.txt"
# The same tokens as the cpu device: outputs come from the host.
diff <(grep "^Token ids" "$TEST_TMPDIR/cpu.txt") <(grep "^Token ids" "$TEST_TMPDIR/sim.txt")
# A host device still refuses a group of several ids.
if "$infer" --generation_len=2 --device_group=[0,1] 2>"$TEST_TMPDIR/err.txt"; then
  echo "cpu with two device ids accepted"; exit 1
fi
grep -q "num_devices=2" "$TEST_TMPDIR/err.txt"
echo PASS
