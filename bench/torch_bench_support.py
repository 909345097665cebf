"""What the PyTorch comparison scripts share (attention_vs_sdpa.py, decode_vs_sdpa.py,
flex_attention_bench.py; imported, not run): CUDA-event medians, SDPA's backends, running
our bench program, and the device line and JSON file of the results.
"""
import json
import subprocess

import torch


def median_ms(fn, reps, warmup=3):
    """Median milliseconds of `reps` runs of fn(), each between two CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]


def sdpa_variants(with_math=False):
    """(name, context manager factory or None) for the default choice and each backend
    this torch has (the math backend too where asked)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    variants = [("sdpa default", None)]
    backends = [("sdpa flash", "FLASH_ATTENTION"), ("sdpa cudnn", "CUDNN_ATTENTION"),
                ("sdpa efficient", "EFFICIENT_ATTENTION")]
    if with_math:
        backends.append(("sdpa math", "MATH"))
    for name, backend in backends:
        if hasattr(SDPBackend, backend):
            variants.append((name, lambda b=getattr(SDPBackend, backend): sdpa_kernel([b])))
    return variants


def error_note(e):
    """The first line of an exception's message (60 characters), or its type's name."""
    return str(e).splitlines()[0][:60] if str(e) else type(e).__name__


def bench_output(cmd):
    """Standard output of one of our bench programs (it prints CSV with --csv)."""
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def device_line():
    """The start of each script's first line: the GPU and the torch version."""
    return f"{torch.cuda.get_device_name()}, torch {torch.__version__}; "


def write_json(path, **fields):
    """The results with the GPU and the torch version first."""
    with open(path, "w") as f:
        json.dump(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, **fields), f, indent=1)
