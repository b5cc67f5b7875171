"""torch AOTInductor through the C++ package loader: no Dynamo, no Inductor when serving."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jitwarm.caches.aot import prepare
from jitwarm.cases.targets import validate_built

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_aoti_package_loads_without_dynamo(tmp_path):
    torch = pytest.importorskip("torch")
    from jitwarm.examples.torch_cases import mlp

    built = validate_built(mlp(), "mlp")
    manifest = prepare("torch", built, tmp_path / "art", target="jitwarm.examples.torch_cases:mlp")
    assert manifest["loader"] == "torch-aoti" and manifest["info"]["file"] == "model.pt2"
    assert set(manifest["versions"]) == {"torch"}
    want = built.fn(*built.args).detach()
    torch.save(want, tmp_path / "want.pt")
    code = (
        "import sys, time, torch, jitwarm\n"
        "from jitwarm.caches.aot import load_inputs\n"
        f"fn = jitwarm.load({str(tmp_path / 'art')!r})\n"
        f"args, kwargs = load_inputs({str(tmp_path / 'art')!r})\n"
        "out = fn(*args, **kwargs)\n"
        f"want = torch.load({str(tmp_path / 'want.pt')!r})\n"
        "torch.testing.assert_close(out, want, rtol=1e-4, atol=1e-5)\n"
        # AOTInductor itself runs any shape and returns wrong results (pytorch#141115)
        "other = torch.zeros(*[d + 1 for d in args[0].shape], dtype=args[0].dtype)\n"
        "try:\n    fn(other)\nexcept ValueError as e:\n    print('refused:', e)\n"
        "print(sorted(m for m in ('torch._dynamo', 'torch._inductor') if m in sys.modules))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.splitlines()[-1] == "[]"
    assert "refused: model.pt2 was exported for input 0 of shape" in res.stdout, res.stdout
