"""RITM test helpers: random-weight networks saved as official-format checkpoints."""

from __future__ import annotations

import pytest
import torch
from isbench.reference_models import ritm
from isbench.reference_models.ritm.configs import VARIANTS


def _random_ritm(variant: str, seed: int = 0) -> ritm.RitmNet:
    """The variant's reference network with random weights *and* BatchNorm statistics."""
    spec = VARIANTS[variant].specified
    arch = ritm.arch_from_config({"class": "x.HRNetModel" if "width" in spec else
                                  "x.DeeplabModel", "params": {k: {"value": v}
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


@pytest.fixture
def random_ritm():
    """``make(variant, seed=0) -> RitmNet`` with random weights and BatchNorm statistics."""
    return _random_ritm


@pytest.fixture
def ritm_checkpoint(tmp_path):
    """``make(variant, seed=0) -> (path, net)``: an official-format file of a random net."""

    def make(variant: str, seed: int = 0):
        net = _random_ritm(variant, seed)
        path = tmp_path / f"{variant}-{seed}.pth"
        ritm.save_checkpoint(net, path, VARIANTS[variant].specified)
        return path, net

    return make
