"""Training DynaMITe on the bundled synthetic scenes (the paper's supplementary I recipe,
scaled down for a CPU).

Per step and image: backbone + pixel decoder once (with gradients); with probability
``subset_prob`` only a random proper subset of the objects is annotated (the others count as
background, as unannotated objects do in COCO, and as the other objects do in the
single-instance protocol); one initial click per annotated object at a random interior
point; 0..``max_corrections`` corrective clicks, each placed without gradients at the deepest
point of the worst current error (a missed part of an object -> positive click on it, a false
object pixel -> background click); then a forward
with all clicks whose final and intermediate predictions get the per-object mask loss:
each object's score is the max of its click queries, background the max of the remaining
queries (official criterion), BCE (weight 20) + dice (weight 1), averaged over masks.
AdamW with the whole-model gradient norm clipped to 0.01, constant learning rate with x0.1
steps at 89% and 96% of the iterations (official schedule shape; the official warm-up factor
is 1.0, i.e. none). The backbone is trained from scratch, so it gets the full learning rate
(the official 0.1 multiplier is for ImageNet-initialised backbones). ``init`` starts from
existing weights instead (fine-tuning: official weights on this data, or a second stage of
a run at another input size).

Randomness is derived from (seed, epoch) for the scene order and (seed, iteration, position
in the batch) for subsets, flips and clicks, so ``--resume`` from an epoch checkpoint continues
exactly. Under ``torchrun`` each rank takes its share of every batch and the gradients are
summed over ranks, the loss normalised by the masks of the whole batch (as the official code
all-reduces ``num_masks``): N processes train the same model as one, N times faster.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from isbench.reference_models.dynamite.model import (
    CONFIGS,
    DynamiteModel,
    build_model,
    load_checkpoint,
    preprocess_image,
)
from tqdm import tqdm

__all__ = ["TrainConfig", "export_weights", "train", "train_step"]

MASK_WEIGHT, DICE_WEIGHT = 20.0, 1.0  # official MASK_FORMER.MASK_WEIGHT / DICE_WEIGHT
CLIP_NORM = 0.01  # official SOLVER.CLIP_GRADIENTS (full_model, L2)
LR_STEPS = (163889 / 184375, 177546 / 184375)  # official SOLVER.STEPS as fractions of MAX_ITER


@dataclass(frozen=True)
class TrainConfig:
    """What defines a run (stored in every checkpoint's ``isbench`` section)."""

    config: str = "mitb0-small"
    input_size: int = 160  # shortest side in training
    #: Shortest side at evaluation, written into the checkpoint (None: input_size). Larger
    #: than input_size sharpens the stride-4 masks of small and thin objects.
    eval_size: int | None = 480
    epochs: int = 4
    train_size: int = 6000  # scenes of the synthetic ``train`` split used
    batch_size: int = 8
    lr: float = 2e-4
    weight_decay: float = 0.05
    max_corrections: int = 6
    subset_prob: float = 0.3  # chance that only some of a scene's objects are annotated
    seed: int = 0
    #: Weights to start from (an official DynaMITe .pth or a file of ``isbench train``, of
    #: the same configuration) instead of a random initialisation: fine-tuning.
    init: str | None = None

    def __post_init__(self):
        if self.config not in CONFIGS:
            raise ValueError(
                f"DynaMITe config {self.config!r}: expected one of {', '.join(CONFIGS)}"
            )
        for name in ("input_size", "epochs", "train_size", "batch_size", "eval_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"train: {name} must be >= 1, got {getattr(self, name)}")
        if self.max_corrections < 0 or not 0 <= self.subset_prob <= 1:
            raise ValueError(f"train: max_corrections must be >= 0 and subset_prob in [0, 1], "
                             f"got {self.max_corrections} and {self.subset_prob}")

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.train_size / self.batch_size)


def lr_factor(iteration: int, total: int) -> float:
    """x0.1 for each LR_STEPS fraction of ``total`` iterations already reached."""
    return 0.1 ** sum(iteration >= int(s * total) for s in LR_STEPS)


def _deepest_point(mask: np.ndarray) -> tuple[tuple[int, int], float]:
    """((y, x), distance) of the pixel of ``mask`` (H, W) bool farthest from its boundary."""
    dist = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(dist.argmax()), dist.shape)
    return (int(y), int(x)), float(dist[y, x])


def _initial_click(mask: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """A random (y, x) among the pixels of ``mask`` at least 0.3 x its maximal depth inside."""
    dist = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero(dist >= max(dist.max() * 0.3, min(1.0, dist.max())))
    j = int(rng.integers(ys.size))
    return int(ys[j]), int(xs[j])


def _corrective_click(pred: np.ndarray, gt: np.ndarray, num_objects: int):
    """Worst error of label maps pred/gt (H, W) int, -1 = background -> (object or -1, y, x).

    Candidates: each object's missed pixels (positive click on it) and the pixels wrongly
    given to an object (background click); the one with the deepest interior point wins.
    None if the prediction is perfect.
    """
    best = None
    for k in [*range(num_objects), -1]:
        err = (gt == k) & (pred != k)
        if err.any():
            (y, x), depth = _deepest_point(err)
            if best is None or depth > best[0]:
                best = (depth, k, y, x)
    return None if best is None else best[1:]


def _group_scores(logits: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """(Q, h, w) query logits -> (N + 1, h, w): per object the max of its queries, then the
    max of all remaining (background) queries."""
    n_fg = sum(sizes)
    groups = list(torch.split(logits[:n_fg], sizes)) + [logits[n_fg:]]
    return torch.stack([g.max(dim=0).values for g in groups])


def mask_loss(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Summed over masks: MASK_WEIGHT * mean BCE + DICE_WEIGHT * dice.

    scores: (M, h, w) logits; targets: (M, h, w) float in [0, 1]."""
    bce = F.binary_cross_entropy_with_logits(scores, targets, reduction="none").flatten(1).mean(1)
    p, t = scores.sigmoid().flatten(1), targets.flatten(1)
    dice = 1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)
    return (MASK_WEIGHT * bce + DICE_WEIGHT * dice).sum()


def _prepare(sample, cfg, flip: bool):
    """Sample -> (image (1, 3, Hp, Wp), gt labels (h', w') int, soft targets (N+1, Hp/4, Wp/4))."""
    image, masks = sample.image, sample.masks
    if flip:
        image, masks = image[:, ::-1].copy(), masks[:, :, ::-1].copy()
    x, (nh, nw) = preprocess_image(image, cfg)
    labels = np.full(masks.shape[1:], -1, np.int32)
    for k, m in enumerate(masks):
        labels[m] = k
    labels = cv2.resize(labels, (nw, nh), interpolation=cv2.INTER_NEAREST)
    soft = torch.from_numpy(masks.astype(np.float32))[None]
    soft = F.interpolate(soft, size=(nh, nw), mode="area")[0]
    soft = torch.cat([soft, (1 - soft.sum(0, keepdim=True)).clamp(0, 1)])
    hp, wp = x.shape[-2:]
    soft = F.pad(soft, (0, wp - nw, 0, hp - nh))
    soft[-1, nh:, :], soft[-1, :, nw:] = 1.0, 1.0
    return x, labels, F.avg_pool2d(soft[None], 4)[0]


def _labels_from_logits(logits, sizes, padded, resized) -> np.ndarray:
    """(1, Q, h4, w4) -> (h', w') int labels (-1 background) as the evaluation argmax."""
    scores = F.interpolate(_group_scores(logits[0], sizes)[None], size=padded, mode="bilinear",
                           align_corners=False)[0, :, : resized[0], : resized[1]]
    labels = scores.argmax(0).numpy().astype(np.int32)
    labels[labels == len(sizes)] = -1
    return labels


def _annotated(sample, rng: np.random.Generator, subset_prob: float):
    """``sample`` itself, or with probability ``subset_prob`` (and >= 2 objects) a copy keeping
    a random proper subset of its objects."""
    n = len(sample.masks)
    if n < 2 or rng.random() >= subset_prob:
        return sample
    keep = np.sort(rng.choice(n, size=int(rng.integers(1, n)), replace=False))
    return replace(sample, masks=sample.masks[keep])


def train_step(model: DynamiteModel, samples, tcfg: TrainConfig, iteration: int,
               positions=None) -> tuple[torch.Tensor, int]:
    """(summed mask loss, number of masks) of ``samples`` (isbench Samples of equal image
    size) at ``positions`` in the batch (default 0, 1, ...); no update."""
    positions = range(len(samples)) if positions is None else positions
    rngs = [np.random.default_rng([tcfg.seed, iteration, int(j)]) for j in positions]
    cfg = replace(model.cfg, min_size=tcfg.input_size)
    prepared = [_prepare(_annotated(s, rng, tcfg.subset_prob), cfg, bool(rng.random() < 0.5))
                for s, rng in zip(samples, rngs)]
    images = torch.cat([p[0] for p in prepared])
    mask_features, multi_scale = model.sem_seg_head.pixel_decoder(model.backbone(images))
    transformer = model.sem_seg_head.interactive_transformer
    total, count = images.new_zeros(()), 0
    for i, ((_, labels, targets), rng) in enumerate(zip(prepared, rngs)):
        n = targets.shape[0] - 1
        ms, mf = [f[i : i + 1] for f in multi_scale], mask_features[i : i + 1]
        fg = [[(*_initial_click(labels == k, rng), float(k))] for k in range(n)]
        bg = []
        for r in range(int(rng.integers(0, tcfg.max_corrections + 1))):
            with torch.no_grad():
                logits = transformer([f.detach() for f in ms], mf.detach(), fg, bg, n - 1 + r)
            pred = _labels_from_logits(logits, [len(c) for c in fg], images.shape[-2:],
                                       labels.shape)
            click = _corrective_click(pred, labels, n)
            if click is None:
                break
            k, y, x = click
            (fg[k] if k >= 0 else bg).append((y, x, float(n + r)))
        num_clicks = sum(map(len, fg)) + len(bg)
        logits, aux = transformer(ms, mf, fg, bg, num_clicks - 1, with_aux=True)
        sizes = [len(c) for c in fg]
        for out in [logits, *aux]:
            total = total + mask_loss(_group_scores(out[0], sizes), targets)
        count += n + 1
    return total, count


def _save(path: Path, model, optimizer, tcfg: TrainConfig, epoch: int, iteration: int) -> None:
    """Official layout {"model": state_dict, "optimizer", "iteration"} + an ``isbench`` section."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "iteration": iteration,
        "isbench": {"train": asdict(tcfg), "config": tcfg.config, "input_size": tcfg.input_size,
                    "eval_size": tcfg.eval_size or tcfg.input_size, "epoch": epoch},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def export_weights(checkpoint: str | Path, out: str | Path) -> None:
    """Keep only ``model`` (stored as float16; loading casts back) and the ``isbench`` section."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    info = {**state["isbench"], "trained_on": "isbench bundled synthetic train split"}
    torch.save({"model": model, "isbench": info}, out)


def train(tcfg: TrainConfig, out: str | Path, resume: bool = False, dataset=None,
          progress: bool = True, stop_after: int | None = None) -> list[float]:
    """Train (or continue) into ``out``: ``checkpoint.pth`` after every epoch, per-epoch mean
    losses appended to ``log.jsonl``, ``model_final.pth`` (export_weights) at the end.
    Under ``torchrun`` (or in an initialised process group) the ranks share every batch and
    rank 0 writes the files.

    dataset: indexable isbench Samples of one image size (default: the synthetic train split).
    stop_after: end this call after that epoch index (a planned interruption; continue with
        ``resume=True``). Returns the per-iteration losses of this call."""
    from isbench.datasets.synthetic import SyntheticScenes

    rank, world = _process_group()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = dataset if dataset is not None else SyntheticScenes(tcfg.train_size, "train")
    torch.manual_seed(tcfg.seed)
    model = build_model(tcfg.config).train()
    if tcfg.init and not resume:
        model.load_state_dict(load_checkpoint(tcfg.init, tcfg.config).state_dict())
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": tcfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=tcfg.lr)
    start_epoch, iteration = 0, 0
    ckpt = out / "checkpoint.pth"
    if resume:
        if not ckpt.exists():
            raise ValueError(f"train --resume: no checkpoint.pth in {str(out)!r}")
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        if state["isbench"]["train"] != asdict(tcfg):
            raise ValueError(f"train --resume: {ckpt} was made with other settings "
                             f"({state['isbench']['train']})")
        model.load_state_dict(state["model"], strict=True)
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, iteration = state["isbench"]["epoch"] + 1, state["iteration"]
    total = tcfg.epochs * tcfg.steps_per_epoch
    losses = []
    bar = tqdm(total=total, initial=iteration, disable=not progress or rank > 0, desc="train")
    for epoch in range(start_epoch, tcfg.epochs):
        order = np.random.default_rng([tcfg.seed, 1_000_000 + epoch]).permutation(len(dataset))
        epoch_losses = []
        for start in range(0, len(order), tcfg.batch_size):
            for group in optimizer.param_groups:
                group["lr"] = tcfg.lr * lr_factor(iteration, total)
            mine = range(rank, min(tcfg.batch_size, len(order) - start), world)
            batch = [dataset[int(order[start + j])] for j in mine]
            loss_sum, num_masks = (train_step(model, batch, tcfg, iteration, mine) if batch
                                   else (torch.zeros(()), 0))  # a rank without a share
            sums = torch.tensor([loss_sum.item(), num_masks], dtype=torch.float64)
            _all_sum(sums)
            optimizer.zero_grad()
            if batch:
                (loss_sum / sums[1].item()).backward()
            if world > 1:
                _sum_gradients(model)
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
            optimizer.step()
            iteration += 1
            epoch_losses.append(float(sums[0] / sums[1]))
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{epoch_losses[-1]:.3f}")
        losses += epoch_losses
        if rank == 0:
            _save(ckpt, model, optimizer, tcfg, epoch, iteration)
            with open(out / "log.jsonl", "a") as log:
                log.write(json.dumps({"epoch": epoch, "iteration": iteration,
                                      "loss": float(np.mean(epoch_losses))}) + "\n")
        if epoch == stop_after:
            break
    bar.close()
    if rank == 0 and ckpt.exists() and iteration == total:
        export_weights(ckpt, out / "model_final.pth")
    if world > 1:
        torch.distributed.barrier()
    return losses


def _process_group() -> tuple[int, int]:
    """(rank, world size): of the initialised process group, or of the one ``torchrun``
    describes (joined here, gloo), else (0, 1)."""
    from isbench import distributed

    if torch.distributed.is_initialized() or distributed.launched_by_torchrun():
        return distributed.init("cpu")
    return 0, 1


def _sum_gradients(model: torch.nn.Module) -> None:
    """Sum the gradients over the ranks in one message; a parameter no rank gave a gradient
    keeps none (so AdamW leaves it alone, as in one process)."""
    params = list(model.parameters())
    has = torch.tensor([p.grad is not None for p in params], dtype=torch.float64)
    _all_sum(has)
    params = [p for p, h in zip(params, has) if h]
    for p in params:
        p.grad = torch.zeros_like(p) if p.grad is None else p.grad
    flat = torch.cat([p.grad.flatten() for p in params])
    _all_sum(flat)
    for p, g in zip(params, flat.split([p.numel() for p in params])):
        p.grad.copy_(g.view_as(p))


def _all_sum(tensor: torch.Tensor) -> None:
    """Sum ``tensor`` over the ranks in place (nothing to do in one process)."""
    if torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1:
        torch.distributed.all_reduce(tensor)
