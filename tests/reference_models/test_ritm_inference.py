"""RITM's official inference path: Zoom-In boxes and rounding, flip averaging, pasting back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from isbench.reference_models.ritm.inference import (
    ZoomIn,
    bbox_iou,
    crop_size,
    expand_bbox,
    object_roi,
    points_nd,
    predict,
    select_roi,
)

ZOOM = ZoomIn()


def _mask(h, w, r0, r1, c0, c1):
    m = np.zeros((h, w), bool)
    m[r0:r1 + 1, c0:c1 + 1] = True
    return m


def test_zoom_in_box_worked_examples():
    # rows 100..199: centre 149.5, side max(1.4·100, 200) = 200 → 49.5, 249.5 → 50, 250 (half
    # to even); cols 200..349: centre 274.5, side 1.4·150 = 210 → 169.5, 379.5 → 170, 380.
    box = object_roi(_mask(480, 640, 100, 199, 200, 349), [(150, 250, True)], ZOOM)
    assert box == (50, 250, 170, 380)
    assert crop_size(box, 400) == (381, 400)  # 201 · 400/211 = 381.04
    assert crop_size(box, 600) == (572, 600)  # DAVIS: 201 · 600/211 = 571.56
    # rows 10..29 → -80.5, 119.5 → -80 → clipped 0, 120; cols 600..629 → 514.5, 714.5 →
    # 514, 714 → clipped 639.
    box = object_roi(_mask(480, 640, 10, 29, 600, 629), [], ZOOM)
    assert box == (0, 120, 514, 639) and crop_size(box, 400) == (384, 400)


def test_zoom_in_rounds_half_to_even_and_adds_positive_clicks():
    # rows 101..200: centre 150.5 → 50.5, 250.5 → 50, 250 (half-up would give 51, 251).
    assert expand_bbox((101, 200, 101, 200), 1.4, 200) == (50, 250, 50, 250)
    mask = _mask(480, 640, 100, 199, 200, 349)
    # a positive click below the mask extends the rows to 100..299 (side 1.4·200 = 280):
    # centre 199.5 → 59.5, 339.5 → 60, 340; a negative click changes nothing.
    box = object_roi(mask, [(299, 250, True), (450, 600, False)], ZOOM)
    assert box == (60, 340, 170, 380)


def test_bbox_iou_uses_inclusive_ends():
    assert bbox_iou((0, 9, 0, 9), (0, 9, 0, 9)) == 1.0
    assert bbox_iou((0, 9, 0, 9), (5, 14, 0, 9)) == 5 / 15


def test_select_roi_skip_keep_and_replace():
    prev = _mask(480, 640, 100, 199, 200, 349).astype(np.float32) * 0.9
    first = [(150, 250, True)]
    assert select_roi(prev, first, None, ZOOM) == (None, False)  # first click: whole image
    two = first + [(300, 300, False)]
    assert select_roi(None, two, None, ZOOM) == (None, False)
    assert select_roi(prev * 0.5, two, (1, 2, 3, 4), ZOOM) == ((1, 2, 3, 4), False)  # empty
    box, crop = select_roi(prev, two, None, ZOOM)
    assert (box, crop) == ((50, 250, 170, 380), True)
    near = (52, 252, 172, 382)  # IoU with the new box >= 0.5, clicks inside: kept
    assert select_roi(prev, two, near, ZOOM) == (near, True)
    edge = (50, 150, 170, 380)  # the positive click's y == 150 == rmax counts as outside
    assert select_roi(prev, two, edge, ZOOM) == ((50, 250, 170, 380), True)
    far = (0, 120, 170, 380)  # clicks inside? y=150 > 120: outside as well
    assert select_roi(prev, [(100, 250, True)] + two[1:], far, ZOOM)[0] == (50, 250, 170, 380)
    low_iou = (0, 300, 0, 639)  # contains the click, IoU 201/301 · 211/640 < 0.5: replaced
    assert select_roi(prev, two, low_iou, ZOOM)[0] == (50, 250, 170, 380)


def test_points_layout_positives_then_negatives_padded():
    pts = points_nd([[(152, 197, True), (227, 387, False), (226, 387, False)]])
    assert pts.dtype == torch.float32
    assert pts.tolist() == [[[152, 197, 0], [-1, -1, -1], [227, 387, 1], [226, 387, 2]]]
    assert points_nd([[]]).tolist() == [[[-1, -1, -1], [-1, -1, -1]]]


class EchoNet(torch.nn.Module):
    """Logits = 4·(red channel) - 2 + 0.1·(the previous-mask channel); records its points."""

    with_prev_mask = True

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, x, points):
        self.calls.append((x.clone(), points.clone()))
        return {"instances": 4 * x[:, :1] - 2 + 0.1 * x[:, 3:]}


def _image(h=60, w=80, seed=0):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_first_click_runs_on_the_whole_image_with_flip_averaged_logits():
    net, image = EchoNet(), _image()
    probs, box = predict(net, image, None, [(10, 20, True)], ZOOM, None, flip=True)
    x, pts = net.calls[0]
    assert box is None and x.shape == (2, 4, 60, 80)
    assert torch.equal(x[1], torch.flip(x[0], dims=[2])) and torch.all(x[0, 3] == 0)
    assert pts.tolist() == [[[10, 20, 0], [-1, -1, -1]], [[10, 59, 0], [-1, -1, -1]]]
    logits = 4 * image[:, :1] - 2
    expected = torch.sigmoid(0.5 * (logits + torch.flip(torch.flip(logits, [3]), [3])))
    assert probs.dtype == np.float32 and probs.shape == (60, 80)
    assert np.array_equal(probs, expected[0, 0].numpy())


def test_zoomed_click_crops_resizes_transforms_clicks_and_pastes_into_zeros():
    net, image = EchoNet(), _image(300, 400)
    prev = np.zeros((300, 400), np.float32)
    prev[100:150, 120:180] = 0.8
    clicks = [(120, 150, True), (40, 30, False)]
    probs, box = predict(net, image, prev, clicks, ZOOM, None, flip=True)
    # rows 100..149: centre 124.5, side 200 → 24.5, 224.5 → 24, 224; cols 120..179:
    # centre 149.5 → 49.5, 249.5 → 50, 250. Crop 201×201 → 400×400.
    assert box == (24, 224, 50, 250)
    x, pts = net.calls[0]
    assert x.shape == (2, 4, 400, 400)
    full = torch.cat([image, torch.from_numpy(prev)[None, None]], 1)
    crop = F.interpolate(full[:, :, 24:225, 50:251], size=(400, 400), mode="bilinear",
                         align_corners=True)
    assert torch.equal(x[:1], crop)
    y0, x0 = 400 * (120 - 24) / 201, 400 * (150 - 50) / 201
    y1, x1 = 400 * (40 - 24) / 201, 400 * (30 - 50) / 201
    want = torch.tensor([[[y0, x0, 0], [y1, x1, 1]], [[y0, 399 - x0, 0], [y1, 399 - x1, 1]]],
                        dtype=torch.float64).to(torch.float32)
    assert torch.equal(pts, want)
    assert np.all(probs[:24] == 0) and np.all(probs[225:] == 0)
    assert np.all(probs[:, :50] == 0) and np.all(probs[:, 251:] == 0)
    logits = 4 * crop[:, :1] - 2 + 0.1 * crop[:, 3:]
    inner = F.interpolate(torch.sigmoid(logits), size=(201, 201), mode="bilinear",
                          align_corners=True)
    assert np.array_equal(probs[24:225, 50:251], inner[0, 0].numpy())


def test_empty_previous_mask_predicts_the_whole_image_but_pastes_into_the_kept_box():
    net, image = EchoNet(), _image()
    stored = (10, 40, 20, 60)
    probs, box = predict(net, image, np.full((60, 80), 0.2, np.float32),
                         [(15, 25, True), (50, 70, False)], ZOOM, stored, flip=False)
    x, _ = net.calls[0]
    assert box == stored and x.shape == (1, 4, 60, 80)
    logits = 4 * image[:, :1] - 2 + 0.1 * torch.full((1, 1, 60, 80), 0.2)
    inner = F.interpolate(torch.sigmoid(logits), size=(31, 41), mode="bilinear",
                          align_corners=True)
    assert np.array_equal(probs[10:41, 20:61], inner[0, 0].numpy())
    assert probs.sum() == pytest.approx(float(inner.sum()), rel=1e-5)


def test_zoom_in_off_never_crops():
    net, image = EchoNet(), _image()
    prev = np.ones((60, 80), np.float32)
    probs, box = predict(net, image, prev, [(15, 25, True), (50, 70, False)], None, None, False)
    assert box is None and net.calls[0][0].shape == (1, 4, 60, 80) and probs.min() > 0
