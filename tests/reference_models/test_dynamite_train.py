"""``isbench train`` for DynaMITe: the loss falls, resuming is exact, files load strictly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from isbench.reference_models.dynamite.model import load_checkpoint
from isbench.reference_models.dynamite.train import (
    TrainConfig,
    _corrective_click,
    lr_factor,
    train,
)

from isbench.cli import main
from isbench.datasets.synthetic import SyntheticScenes

TINY = {"input_size": 64, "eval_size": None, "batch_size": 2, "lr": 1e-4}


@pytest.fixture(scope="module")
def scenes():
    return SyntheticScenes(2, "train", height=64, width=96)


def test_loss_falls_on_a_tiny_split(scenes, tmp_path):
    losses = train(TrainConfig(epochs=12, train_size=2, **TINY), tmp_path, dataset=scenes,
                   progress=False)
    assert len(losses) == 12 and all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.6 * np.mean(losses[:3]), losses


def test_resume_continues_exactly(scenes, tmp_path):
    tcfg = TrainConfig(epochs=2, train_size=2, **TINY)
    straight = train(tcfg, tmp_path / "a", dataset=scenes, progress=False)
    first = train(tcfg, tmp_path / "b", dataset=scenes, progress=False, stop_after=0)
    assert not (tmp_path / "b" / "model_final.pth").exists()
    rest = train(tcfg, tmp_path / "b", resume=True, dataset=scenes, progress=False)
    assert first + rest == straight
    a = load_checkpoint(tmp_path / "a" / "model_final.pth").state_dict()
    b = load_checkpoint(tmp_path / "b" / "model_final.pth").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="other settings"):
        train(TrainConfig(epochs=3, train_size=2, **TINY), tmp_path / "b", resume=True,
              dataset=scenes, progress=False)


def test_final_file_is_an_official_layout_checkpoint(scenes, tmp_path):
    train(TrainConfig(epochs=1, train_size=2, **TINY), tmp_path, dataset=scenes, progress=False)
    state = torch.load(tmp_path / "model_final.pth", weights_only=True)
    assert set(state) == {"model", "isbench"}
    assert all(v.dtype == torch.float16 for v in state["model"].values() if v.is_floating_point())
    model = load_checkpoint(tmp_path / "model_final.pth")
    assert model.cfg.name == "mitb0-small" and model.cfg.min_size == 64
    assert next(model.parameters()).dtype == torch.float32
    assert model.isbench_section["train"]["epochs"] == 1


def test_lr_schedule_shape():
    assert [lr_factor(i, 100) for i in (0, 87, 88, 95, 96, 99)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01, 0.01])


def test_corrective_click_targets_the_deepest_error():
    gt = np.full((20, 30), -1)
    gt[2:18, 2:12] = 0
    pred = np.full((20, 30), -1)
    pred[2:18, 2:5] = 0  # object 0 mostly missed
    pred[5:8, 20:23] = 0  # small false positive
    k, y, x = _corrective_click(pred, gt, 1)
    assert k == 0 and gt[y, x] == 0 and pred[y, x] == -1
    assert _corrective_click(gt, gt, 1) is None


def test_init_starts_from_given_weights(scenes, tmp_path):
    train(TrainConfig(epochs=1, train_size=2, **TINY), tmp_path / "a", dataset=scenes,
          progress=False)
    first = tmp_path / "a" / "model_final.pth"
    tcfg = TrainConfig(epochs=1, train_size=2, init=str(first), seed=1, **{**TINY, "lr": 1e-30})
    train(tcfg, tmp_path / "b", dataset=scenes, progress=False)
    # a step of lr 1e-30 leaves every float16 weight where it started
    a = torch.load(first, weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "model_final.pth", weights_only=True)
    assert all(torch.equal(a[k], b["model"][k]) for k in a)
    assert b["isbench"]["train"]["init"] == str(first)
    res = CliRunner().invoke(main, ["train", "--out", str(tmp_path / "c"), "--init",
                                    str(tmp_path / "missing.pth")])
    assert res.exit_code == 2 and "missing.pth" in res.output


def test_cli_train_errors_are_one_line(tmp_path):
    res = CliRunner().invoke(main, ["train", "--model", "grabcut", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "dynamite-<config>" in res.output
    res = CliRunner().invoke(main, ["train", "--out", str(tmp_path), "--resume"])
    assert res.exit_code == 2 and "no checkpoint.pth" in res.output
    res = CliRunner().invoke(main, ["train", "--out", str(tmp_path), "--epochs", "0"])
    assert res.exit_code == 2 and "epochs must be >= 1" in res.output
    res = CliRunner().invoke(main, ["train", "--out", str(tmp_path), "--subset-prob", "1.5"])
    assert res.exit_code == 2 and "subset_prob in [0, 1]" in res.output


def test_small_variant_uses_the_official_key_names():
    from pathlib import Path

    from isbench.reference_models.dynamite.model import CONFIGS, DynamiteModel

    listing = Path(__file__).parent / "dynamite_keys" / "mitb0_bs32_ep50.tsv"
    official = dict(r.split("\t")[:2] for r in listing.read_text().splitlines()[1:])
    with torch.device("meta"):
        small = DynamiteModel(CONFIGS["mitb0-small"]).state_dict()
    assert set(small) < set(official)
    differ = {k for k, v in small.items() if str(list(v.shape)) != official[k]}
    assert differ and all(".ffn_layers." in k and ".encoder." in k for k in differ)


def test_cli_train_writes_a_loadable_model(tmp_path):
    res = CliRunner().invoke(main, ["train", "--out", str(tmp_path), "--epochs", "1",
                                    "--train-size", "2", "--batch-size", "2",
                                    "--input-size", "64", "--eval-size", "96",
                                    "--max-corrections", "1", "--subset-prob", "0"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "log.jsonl").read_text().count("\n") == 1
    model = load_checkpoint(tmp_path / "model_final.pth")
    trained = model.isbench_section["train"]
    assert (trained["train_size"], trained["max_corrections"], trained["subset_prob"]) == (2, 1, 0)
    # Trained at 64, evaluated at the stored eval size.
    assert model.isbench_section["input_size"] == 64 and model.cfg.min_size == 96


def _train_rank(rank, world, port, out, scenes, tcfg):
    import os

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    losses = train(tcfg, out, dataset=scenes, progress=False)
    torch.save(losses, f"{out}/losses-{rank}.pt")
    torch.distributed.destroy_process_group()


def test_two_ranks_train_the_model_of_one_process(tmp_path):
    """Sharing each batch over two gloo ranks gives one process's losses and weights."""
    import socket

    import torch.multiprocessing as mp

    scenes = SyntheticScenes(3, "train", height=64, width=96)
    # Batches of 2 and a last one of 1 (rank 1 has no share of it).
    tcfg = TrainConfig(epochs=2, train_size=3, **TINY)
    one = train(tcfg, tmp_path / "one", dataset=scenes, progress=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mp.spawn(_train_rank, args=(2, port, tmp_path / "two", scenes, tcfg), nprocs=2)
    two = [torch.load(tmp_path / "two" / f"losses-{r}.pt") for r in (0, 1)]
    assert two[0] == two[1] and two[0] == pytest.approx(one, rel=1e-4)
    a = load_checkpoint(tmp_path / "one" / "model_final.pth").state_dict()
    b = load_checkpoint(tmp_path / "two" / "model_final.pth").state_dict()
    assert all(torch.allclose(a[k], b[k], atol=2e-3) for k in a)
