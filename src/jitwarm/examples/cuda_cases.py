"""Numba CUDA example cases (run under NUMBA_ENABLE_CUDASIM=1 on machines without a GPU)."""

from __future__ import annotations

import jitwarm


@jitwarm.case
def saxpy():
    """A @cuda.jit kernel launched as kernel[blocks, threads](args)."""
    # `cuda` must be a module global for the kernel: the CUDA simulator swaps the
    # kernel's globals (not its closure) to provide cuda.grid & co.
    global cuda
    import numpy as np
    from numba import cuda

    @cuda.jit
    def saxpy_kernel(a, x, y, out):
        i = cuda.grid(1)
        if i < x.size:
            out[i] = a * x[i] + y[i]

    n = 256
    x = cuda.to_device(np.arange(n, dtype=np.float32))
    y = cuda.to_device(np.ones(n, dtype=np.float32))
    out = cuda.device_array(n, dtype=np.float32)
    threads = 64
    return saxpy_kernel[(n + threads - 1) // threads, threads], (np.float32(2.0), x, y, out)
