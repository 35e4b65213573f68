"""SimpleClick checkpoints in the official format: safe loading, strictness, round trip."""

import pickle
import sys

import pytest
import torch
from isbench.reference_models import simpleclick
from isbench.reference_models.simpleclick.checkpoint import LOSS_GLOBALS, official_config
from simpleclick_files import write_official_checkpoint


@pytest.fixture(scope="module")
def xtiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("sc") / "cocolvis_vit_xtiny.pth"
    net = write_official_checkpoint(path, "vit-xt", seed=1)
    return path, net


def test_file_pickles_the_official_loss_globals_and_no_isegm_is_importable(xtiny):
    path, _ = xtiny
    assert sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path)) == \
        sorted(LOSS_GLOBALS)
    assert not any(name.startswith("isegm") for name in sys.modules)
    with pytest.raises(pickle.UnpicklingError):  # what the official loader hits on torch >= 2.6
        torch.load(path, weights_only=True)
    raw = simpleclick.read_checkpoint(path)
    assert set(raw) == {"state_dict", "config"}
    params = raw["config"]["params"]
    assert list(params)[:7] == ["use_disks", "norm_radius", "with_prev_mask", "backbone_params",
                                "neck_params", "head_params", "random_split"]
    assert all(params[k]["specified"] for k in list(params)[:7])
    loss = params["head_params"]["value"]["loss_decode"]
    assert isinstance(loss, torch.nn.Module) and loss.reduction == "mean"
    assert not any(name.startswith("isegm") for name in sys.modules)


def test_round_trip_is_bit_identical(xtiny):
    path, net = xtiny
    loaded = simpleclick.load_checkpoint(path)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    torch.manual_seed(2)
    image = torch.rand(1, 4, 448, 448)
    points = torch.tensor([[[200.0, 210, 0], [300, 100, 2], [50, 60, 1], [-1, -1, -1]]])
    with torch.no_grad():
        assert torch.equal(loaded(image, points), net(image, points))


def _save(path, state_dict, config):
    torch.save({"state_dict": state_dict, "config": config}, path)


def test_strict_loading_names_missing_unexpected_and_misshapen_keys(tmp_path, xtiny):
    _, net = xtiny
    config = official_config("vit-xt", None)
    sd = dict(net.state_dict())
    del sd["backbone.fc_norm.weight"]  # unused at inference, still required
    sd["head.extra.weight"] = torch.zeros(1)
    _save(tmp_path / "bad.pth", sd, config)
    with pytest.raises(ValueError) as err:
        simpleclick.load_checkpoint(tmp_path / "bad.pth")
    msg = str(err.value)
    assert "\n" not in msg and "missing (1): backbone.fc_norm.weight" in msg
    assert "unexpected (1): head.extra.weight" in msg
    sd = dict(net.state_dict())
    sd["head.conv_seg.bias"] = torch.zeros(2)
    _save(tmp_path / "shape.pth", sd, config)
    with pytest.raises(ValueError, match=r"wrong shape \(1\): head.conv_seg.bias \(2,\)"):
        simpleclick.load_checkpoint(tmp_path / "shape.pth")
    # a ViT-B config over xTiny weights: many keys misshapen
    _save(tmp_path / "mix.pth", net.state_dict(), official_config("vit-b", None))
    with pytest.raises(ValueError, match="wrong shape"):
        simpleclick.load_checkpoint(tmp_path / "mix.pth")


def test_not_a_simpleclick_file_is_a_one_line_error(tmp_path, xtiny):
    _, net = xtiny
    with pytest.raises(ValueError, match="no such file"):
        simpleclick.load_checkpoint(tmp_path / "absent.pth")
    torch.save(net.state_dict(), tmp_path / "bare.pth")
    with pytest.raises(ValueError, match="expected a dict with keys 'state_dict' and 'config'"):
        simpleclick.load_checkpoint(tmp_path / "bare.pth")
    ritm = {"class": "isegm.model.is_hrnet_model.HRNetModel", "params": {}}
    _save(tmp_path / "ritm.pth", net.state_dict(), ritm)
    with pytest.raises(ValueError, match="config class is 'isegm.model.is_hrnet_model"):
        simpleclick.load_checkpoint(tmp_path / "ritm.pth")
    _save(tmp_path / "code.pth", net.state_dict(), {"class": pickle.Pickler, "params": {}})
    with pytest.raises(ValueError, match="cannot be read safely .it pickles pickle.Pickler"):
        simpleclick.load_checkpoint(tmp_path / "code.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a torch checkpoint"):
        simpleclick.load_checkpoint(tmp_path / "text.pth")
    _save(tmp_path / "variant.pth", net.state_dict(), official_config("vit-xt", None))
    with pytest.raises(ValueError, match="holds architecture vit-xt, expected vit-b"):
        simpleclick.load_checkpoint(tmp_path / "variant.pth", "vit-b")


def test_unsupported_settings_are_refused(tmp_path, xtiny):
    _, net = xtiny
    config = official_config("vit-xt", None)
    config["params"]["use_disks"]["value"] = False
    _save(tmp_path / "gauss.pth", net.state_dict(), config)
    with pytest.raises(ValueError, match="expected use_disks=True"):
        simpleclick.load_checkpoint(tmp_path / "gauss.pth")

