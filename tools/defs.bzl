"""Build rules that make exports and compiles Bazel actions.

Each rule runs one of qeff's tools as a hermetic action: declared inputs
(the model or ONNX and the tool), one declared output directory, no
$QEFF_HOME. Actions are cacheable (--disk_cache, --remote_cache) and can run
remotely (--remote_executor): the artifacts are byte-deterministic and hold
no absolute paths (//tools:determinism_test). The instruction set is an
explicit attribute of qeff_compile, so it is part of the action key; the
thread count is not (programs are thread-invariant).

  qeff_test_model(name, arch, seed)        a seeded random HF folder
  qeff_export(name, model, continuous_batching)
  qeff_compile(name, onnx, prompt_len, ctx_len, batch_size,
               full_batch_size, mxfp6, mxint8, device, isa)
"""

def _test_model_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    args = ["--arch=" + ctx.attr.arch, "--out=" + out.path]
    if ctx.attr.seed >= 0:
        args.append("--seed=%d" % ctx.attr.seed)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = args,
        outputs = [out],
        mnemonic = "QeffTestModel",
        progress_message = "Writing test model %s" % ctx.label,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

qeff_test_model = rule(
    implementation = _test_model_impl,
    attrs = {
        "arch": attr.string(default = "llama"),
        "seed": attr.int(default = -1),
        "_tool": attr.label(
            default = "//tools:make_test_model",
            executable = True,
            cfg = "host",
        ),
    },
)

def _single(target, what):
    files = target.files.to_list()
    if len(files) != 1:
        fail("%s must give exactly one file or directory, got %d" % (what, len(files)))
    return files[0]

def _export_impl(ctx):
    model = _single(ctx.attr.model, "model")
    out = ctx.actions.declare_directory(ctx.label.name)
    args = ["--model_name=" + model.path, "--output_dir=" + out.path]
    if ctx.attr.continuous_batching:
        args.append("--full_batch_size=1")
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = args,
        inputs = [model],
        outputs = [out],
        mnemonic = "QeffExport",
        progress_message = "Exporting %s" % ctx.label,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

qeff_export = rule(
    implementation = _export_impl,
    attrs = {
        "model": attr.label(allow_files = True, mandatory = True),
        "continuous_batching": attr.bool(default = False),
        "_tool": attr.label(
            default = "//tools:export",
            executable = True,
            cfg = "host",
        ),
    },
)

def _compile_impl(ctx):
    onnx = _single(ctx.attr.onnx, "onnx")
    out = ctx.actions.declare_directory(ctx.label.name)
    args = [
        "--onnx_path=" + onnx.path,
        "--output_dir=" + out.path,
        "--prompt_len=%d" % ctx.attr.prompt_len,
        "--ctx_len=%d" % ctx.attr.ctx_len,
        "--batch_size=%d" % ctx.attr.batch_size,
        "--full_batch_size=%d" % ctx.attr.full_batch_size,
        "--num_cores=0",
        "--device_group=[0]",
        "--device=" + ctx.attr.device,
        "--isa=" + ctx.attr.isa,
    ]
    if ctx.attr.mxfp6:
        args.append("--mxfp6")
    if ctx.attr.mxint8:
        args.append("--mxint8")
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = args,
        inputs = [onnx],
        outputs = [out],
        mnemonic = "QeffCompile",
        progress_message = "Compiling %s" % ctx.label,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

qeff_compile = rule(
    implementation = _compile_impl,
    attrs = {
        "onnx": attr.label(allow_files = True, mandatory = True),
        "prompt_len": attr.int(default = 32),
        "ctx_len": attr.int(default = 128),
        "batch_size": attr.int(default = 1),
        "full_batch_size": attr.int(default = 0),
        "mxfp6": attr.bool(default = False),
        "mxint8": attr.bool(default = False),
        "device": attr.string(default = "cpu"),
        "isa": attr.string(default = "x86_64"),
        "_tool": attr.label(
            default = "//tools:compile",
            executable = True,
            cfg = "host",
        ),
    },
)
