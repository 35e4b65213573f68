"""RITM test helpers: random-weight networks saved as official-format checkpoints.

Imported by the ``test_ritm_*`` files (a plain module, not a conftest, so other model
families can keep their own helpers in this folder).
"""

from __future__ import annotations

from pathlib import Path

import torch
from isbench.reference_models import ritm
from isbench.reference_models.ritm.configs import VARIANTS


def random_ritm(variant: str, seed: int = 0) -> ritm.RitmNet:
    """The variant's reference network with random weights *and* BatchNorm statistics."""
    spec = VARIANTS[variant].specified
    cls = "HRNetModel" if VARIANTS[variant].kind == "hrnet" else "DeeplabModel"
    arch = ritm.arch_from_config({"class": cls, "params": {k: {"value": v}
                                                          for k, v in spec.items()}})
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = ritm.RitmNet(arch)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
            m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
            m.weight.data.copy_(1 + 0.1 * torch.randn(n, generator=gen))
            m.bias.data.copy_(0.1 * torch.randn(n, generator=gen))
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
    net.maps_transform[3].scale.data.fill_(0.3)
    return net.eval()


def save_random(variant: str, folder: Path, seed: int = 0) -> tuple[Path, ritm.RitmNet]:
    """An official-format checkpoint of ``random_ritm(variant, seed)`` in ``folder``."""
    net = random_ritm(variant, seed)
    path = Path(folder) / f"{variant}-{seed}.pth"
    ritm.save_checkpoint(net, path, VARIANTS[variant].specified)
    return path, net
