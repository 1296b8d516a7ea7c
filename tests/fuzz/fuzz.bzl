"""qeff_fuzz_target: a libFuzzer target and its regression test.

Under `--config=fuzz` (clang, -fsanitize=fuzzer,address,undefined) the
binary is a libFuzzer fuzzer; otherwise it links tests/fuzz/standalone_main.cc,
which runs the target once over each file or folder named. The test
`<name>_regression` runs it over seeds/<name>/ and regressions/<name>/
(inputs that once crashed it), in every build: under --config=asan the
regression inputs run under ASan + UBSan too.
"""

def qeff_fuzz_target(name, deps, extra_seeds = []):
    short = name[:-len("_fuzz")] if name.endswith("_fuzz") else name
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"],
        linkstatic = True,
        linkopts = select({
            "//tests/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + [":fuzz_util"] + select({
            "//tests/fuzz:fuzzing": [],
            "//conditions:default": [":standalone_main"],
        }),
    )
    seeds = native.glob(["seeds/" + short + "/**"], allow_empty = True)
    regressions = native.glob(["regressions/" + short + "/**"], allow_empty = True)
    native.sh_test(
        name = name + "_regression",
        srcs = ["regression_test.sh"],
        args = ["$(location :" + name + ")", "tests/fuzz/seeds/" + short,
                "tests/fuzz/regressions/" + short] +
               ["$(location %s)" % s for s in extra_seeds],
        data = [":" + name] + seeds + regressions + extra_seeds,
    )
