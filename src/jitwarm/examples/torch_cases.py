"""torch.compile example cases (torch is imported inside the case functions)."""

from __future__ import annotations

import jitwarm


def _mlp(torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    ).eval()
    for p in model.parameters():
        p.requires_grad_(False)  # inference: no backward graph is compiled
    return model


@jitwarm.case
def mlp():
    """A 3-layer MLP under torch.compile (Inductor, CPU), batch 32."""
    import torch

    return torch.compile(_mlp(torch)), (torch.randn(32, 64),)


@jitwarm.case
def mlp_batches(shapes=((32, 64), (64, 64), (96, 64))):
    """The MLP with several batch sizes: the second recompiles with dynamic shapes."""
    import torch

    model = torch.compile(_mlp(torch))
    return model, jitwarm.inputs(*[(torch.randn(*s),) for s in shapes])
