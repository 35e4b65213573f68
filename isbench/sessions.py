"""The two click loops: one object (NoC protocol) and all objects at once (MIST).

A session takes one `Sample`, drives the adapter with simulated clicks and returns a
record (a dict, one line of ``samples.jsonl``). Strategies place clicks, metrics score
masks; the session only keeps the bookkeeping: clicks, exclusion disks, IoUs, timings.
"""

from __future__ import annotations

import time

import numpy as np

from isbench.adapters.base import MultiInstanceAdapter, SingleInstanceAdapter
from isbench.metrics.iou import ObjectIoU, fused_labels, iou, label_map
from isbench.protocols import Protocol
from isbench.strategies.objects import make_chooser
from isbench.strategies.perturb import Perturbation, jitter_point, place_click
from isbench.strategies.placement import disk_offsets, farthest_point
from isbench.types import Click, Sample

__all__ = ["NO_PERTURBATION", "probability_threshold", "run_mist", "run_single"]

NO_PERTURBATION = Perturbation()


def probability_threshold(model, protocol: Protocol) -> float:
    """The model's own threshold, else the preset's."""
    return protocol.threshold if model.threshold is None else float(model.threshold)


class _Exclusion:
    """Pixels later clicks may not reuse: a disk of ``radius`` around each click (0 = pixel)."""

    def __init__(self, shape: tuple[int, int], radius: int) -> None:
        self.map = np.zeros(shape, dtype=bool)
        self.r = int(radius)
        dy, dx = disk_offsets(radius)
        self.stamp = np.zeros((2 * self.r + 1, 2 * self.r + 1), dtype=bool)
        self.stamp[dy + self.r, dx + self.r] = True

    def add(self, y: int, x: int) -> None:
        """Stamp the disk around (y, x), clipped to the image."""
        h, w = self.map.shape
        r = self.r
        y0, y1, x0, x1 = max(y - r, 0), min(y + r + 1, h), max(x - r, 0), min(x + r + 1, w)
        self.map[y0:y1, x0:x1] |= self.stamp[y0 - y + r : y1 - y + r, x0 - x + r : x1 - x + r]


def _timed(clock, fn, *args):
    """(fn(*args), seconds) read with ``clock`` (which synchronises a GPU if needed)."""
    start = clock()
    out = fn(*args)
    return out, clock() - start


def _click_kind(perturbation: Perturbation, plan: dict[int, str], index: int) -> str:
    """Kind of click number ``index`` (0-based; ``plan`` counts corrective clicks)."""
    if perturbation.kind == "jitter":
        return "jitter"
    return plan.get(index - 1, "normal") if index else "normal"


def _predict_single(model, clicks: tuple[Click, ...], prev: np.ndarray | None, shape):
    """One object's probabilities from a single- or multi-instance adapter."""
    if isinstance(model, MultiInstanceAdapter):
        probs = model.check_output(model.predict(clicks, 1), (1, *shape))[0]
    else:
        probs = model.check_output(model.predict(clicks, prev), shape)
    return probs


def run_single(
    model: SingleInstanceAdapter | MultiInstanceAdapter,
    sample: Sample,
    object_id: int,
    *,
    protocol: Protocol,
    max_clicks: int = 20,
    stop_iou: float = 0.90,
    t_image: float = 0.0,
    perturbation: Perturbation = NO_PERTURBATION,
    rng: np.random.Generator | None = None,
    clock=time.perf_counter,
) -> dict:
    """NoC protocol for object ``object_id`` of an image already given to ``model.set_image``.

    Each click goes on the larger error region (RITM's clicker); the loop stops when the
    IoU reaches ``stop_iou`` or after ``max_clicks``. Every other instance is background.
    ``perturbation`` draws its plan and offsets from ``rng``.
    """
    gt = sample.masks[object_id]
    valid = None if sample.ignore is None else ~sample.ignore
    shape = gt.shape
    thr = probability_threshold(model, protocol)
    exclusion = _Exclusion(shape, protocol.single_exclusion_radius)
    gt_valid = gt if valid is None else gt & valid
    not_gt_valid = ~gt if valid is None else ~gt & valid
    model.object_state = {}
    pred = np.zeros(shape, dtype=bool)
    plan = perturbation.plan(rng, max_clicks - 1)
    prev, clicks, ious, t_click = None, [], [], []
    for k in range(max_clicks):
        kind = _click_kind(perturbation, plan, k)
        previous = (clicks[-1].y, clicks[-1].x) if clicks else (0, 0)
        y, x, from_fn = place_click(kind, gt_valid & ~pred, not_gt_valid & pred, gt_valid & pred,
                                    exclusion.map, previous, rng, perturbation.sigma)
        positive = bool(gt[y, x]) if from_fn is None else from_fn
        if kind == "false":
            positive = not positive
        exclusion.add(y, x)
        # Clicks given to the model name object 0: the one being segmented.
        clicks.append(Click(y, x, positive, 0 if positive else None, 0, k, kind))
        prev, dt = _timed(clock, _predict_single, model, tuple(clicks), prev, shape)
        pred = prev > thr
        ious.append(iou(gt, pred, valid))
        t_click.append(dt)
        if ious[-1] >= stop_iou:
            break
    return {
        "sample_id": sample.id,
        "object_id": object_id,
        "num_objects": 1,
        "object_areas": [int(np.count_nonzero(gt))],
        "clicks": [
            [c.y, c.x, c.positive, object_id if c.positive else -1, c.kind] for c in clicks
        ],
        "ious": ious,
        "t_image": t_image,
        "t_click": t_click,
    }


def _false_label(label: int, target: int, n_obj: int, rng) -> int:
    """The wrong label of a false MIST click (-1 = background)."""
    if label < 0:
        return max(target, 0)
    if n_obj == 1:
        return -1
    others = [k for k in range(n_obj) if k != label]
    return int(others[int(rng.integers(len(others)))])


def _object_ious(joint_iou, gt_masks, pred_labels, pred_masks, valid):
    """Per-object IoUs: one counting pass (``joint_iou``, None unless the ground truth is
    disjoint) when the prediction is a label map, else object by object."""
    if joint_iou is not None and pred_masks is None:
        return joint_iou(pred_labels)
    if pred_masks is None:
        pred_masks = [pred_labels == k + 1 for k in range(len(gt_masks))]
    return np.array([iou(g, p, valid) for g, p in zip(gt_masks, pred_masks)], dtype=np.float64)


def run_mist(
    model: MultiInstanceAdapter,
    sample: Sample,
    *,
    protocol: Protocol,
    strategy: str,
    rng,
    tau: int = 10,
    beta: int = 10,
    iou_thr: float = 0.85,
    t_image: float = 0.0,
    perturbation: Perturbation = NO_PERTURBATION,
    perturb_rng: np.random.Generator | None = None,
    clock=time.perf_counter,
) -> dict:
    """DynaMITe's multi-instance loop on an image already given to ``model.set_image``.

    One positive click per object first, then one click per step on the object the
    strategy picks (labelled by whichever object's pixel it lands on), until every
    object reaches ``iou_thr`` or the image has had ``tau`` clicks per object.
    ``rng`` drives the strategy; ``perturb_rng`` the perturbation's plan and offsets.
    A false click names the wrong object: a positive click becomes background (one
    object) or another object, a negative click a positive one for the target.
    """
    gt_masks = sample.masks
    n_obj = sample.num_objects
    shape = gt_masks.shape[1:]
    gt_labels = label_map(gt_masks)
    valid = None if sample.ignore is None else ~sample.ignore
    disjoint_gt = int(np.count_nonzero(gt_labels)) == int(gt_masks.sum())
    joint_iou = ObjectIoU(gt_labels, n_obj, valid) if disjoint_gt else None
    thr = probability_threshold(model, protocol)
    fused_in_loop = getattr(model, "fuse", "every-click") == "every-click"
    exclusion = _Exclusion(shape, protocol.mist_exclusion_radius)
    chooser = make_chooser(strategy, n_obj, beta)

    plan = perturbation.plan(perturb_rng, tau * n_obj - n_obj)
    jitter = perturbation.kind == "jitter"
    clicks: list[Click] = []
    for k in range(n_obj):
        region = gt_masks[k] if valid is None else gt_masks[k] & valid
        y, x = farthest_point(region)
        if jitter:
            y, x = jitter_point(region, y, x, perturb_rng, perturbation.sigma)
        clicks.append(Click(y, x, True, k, k, k, "jitter" if jitter else "normal"))
    for c in clicks:
        exclusion.add(c.y, c.x)

    def predict():
        """Probabilities, label map, per-object masks (None when fused) and IoUs."""
        probs, dt = _timed(clock, model.predict, tuple(clicks), n_obj)
        # Fused in the loop, the finiteness check rides on the fusion's single pass.
        probs = model.check_output(probs, (n_obj, *shape), check_finite=not fused_in_loop)
        if fused_in_loop and joint_iou is not None:
            labels, ious, finite = joint_iou.fused(probs, thr)
            masks = None
        elif fused_in_loop:
            (labels, finite), masks = fused_labels(probs, thr), None
            ious = _object_ious(None, gt_masks, labels, None, valid)
        else:  # objects refined independently: each thresholded on its own
            masks, finite = probs > thr, True
            labels = label_map(masks)
            ious = _object_ious(joint_iou, gt_masks, labels, masks, valid)
        if not finite:
            raise model.output_error()
        return probs, labels, masks, ious, dt

    probs, pred_labels, masks, ious, dt = predict()
    history, t_click = [ious.tolist()], [dt]
    while len(clicks) < tau * n_obj and not (ious >= iou_thr).all():
        kind = "jitter" if jitter else plan.get(len(clicks) - n_obj, "normal")
        if chooser.joint:
            error = pred_labels != gt_labels
            y, x = farthest_point(error, exclusion.map)
            # The object whose error it is: the true one, or the one wrongly predicted there.
            target = int(gt_labels[y, x] or pred_labels[y, x]) - 1
        else:
            target = chooser.choose(ious, iou_thr, rng)
            if target is None:
                break
            gt_t = gt_masks[target]
            pred_t = pred_labels == target + 1 if masks is None else masks[target]
        if kind != "normal" or not chooser.joint:
            if chooser.joint:
                fn, fp = error, np.zeros_like(error)
                kept = (pred_labels == gt_labels) & (gt_labels > 0)
            else:  # on bools, a > b is a & ~b
                fn, fp = np.greater(gt_t, pred_t), np.greater(pred_t, gt_t)
                kept = gt_t & pred_t if kind == "repetitive" else None
                if valid is not None:
                    fn, fp = fn & valid, fp & valid
                    kept = None if kept is None else kept & valid
            y, x, _ = place_click(kind, fn, fp, kept, exclusion.map,
                                  (clicks[-1].y, clicks[-1].x), perturb_rng, perturbation.sigma)
        label = int(gt_labels[y, x]) - 1
        if kind == "false":
            label = _false_label(label, target, n_obj, perturb_rng)
        clicks.append(Click(y, x, label >= 0, label if label >= 0 else None,
                            target if target >= 0 else None, len(clicks), kind))
        exclusion.add(y, x)
        probs, pred_labels, masks, ious, dt = predict()
        history.append(ious.tolist())
        t_click.append(dt)
    final = ious
    if not fused_in_loop:
        final = _object_ious(joint_iou, gt_masks, fused_labels(probs, thr)[0], None, valid)
    return {
        "sample_id": sample.id,
        "num_objects": n_obj,
        "object_areas": [int(a) for a in gt_masks.reshape(n_obj, -1).sum(axis=1)],
        "clicks": [c.as_record() for c in clicks],
        "targets": [-1 if c.target_id is None else c.target_id for c in clicks],
        "ious": history,
        "final_ious": final.tolist(),
        "t_image": t_image,
        "t_click": t_click,
    }
