"""SimpleClick's official inference path, checked against values derived by hand."""

import math

import numpy as np
import pytest
import torch
from isbench.reference_models.simpleclick.predictor import (
    SimpleClickPredictor,
    box_iou,
    expand_box,
    next_roi,
    object_roi,
    points_tensor,
    roi_holds_clicks,
    zoom_clicks,
)
from torch import nn


def test_expand_box_rounds_half_to_even_and_applies_min_crop():
    # centre 14.5, size max(1.4*10, 200) = 200: ends -85.5 -> -86, 114.5 -> 114
    assert expand_box((10, 19, 30, 59), 1.4, 200) == (-86, 114, -56, 144)
    # rows: 1.4*200 = 280 about 199.5 -> 59.5 -> 60, 339.5 -> 340;
    # cols: 1.4*150 = 210 about 74.5 -> -30.5 -> -30, 179.5 -> 180
    assert expand_box((100, 299, 0, 149), 1.4, 200) == (60, 340, -30, 180)


def test_object_roi_adds_positive_clicks_expands_and_clamps():
    prob = np.zeros((300, 400), np.float32)
    prob[100:150, 200:240] = 0.6
    prob[10, 10] = 0.5  # not above 0.5: not object
    clicks = [(160, 250, True), (5, 390, False)]  # the negative click is not added
    # box rows 100..160, cols 200..250 -> 200x200 about (130, 225) -> (30, 230, 125, 325)
    assert object_roi(prob, clicks) == (30, 230, 125, 325)
    prob[:] = 0
    prob[280:300, 380:400] = 0.9  # near the corner: clamped to the image
    assert object_roi(prob, []) == (190, 299, 290, 399)
    assert object_roi(np.full((5, 5), 0.5, np.float32), [(2, 2, True)]) is None


def test_box_iou_is_product_of_interval_ious_and_roi_membership():
    assert box_iou((0, 9, 0, 9), (5, 14, 0, 9)) == pytest.approx(5 / 15)
    assert box_iou((0, 9, 0, 9), (5, 14, 5, 14)) == pytest.approx((5 / 15) ** 2)
    assert box_iou((0, 9, 0, 9), (20, 29, 0, 9)) == 0
    roi = (10, 20, 10, 20)
    assert roi_holds_clicks(roi, [(19, 19, True), (0, 0, False)])
    assert not roi_holds_clicks(roi, [(20, 15, True)])  # the last row counts as outside
    assert not roi_holds_clicks(roi, [(15, 9, True)])


def test_next_roi_whole_image_first_then_sticky_until_click_leaves_or_iou_drops():
    shape = (300, 400)
    assert next_roi(None, None, [(150, 220, True)], shape) == (0, 299, 0, 399)
    # empty previous mask -> whole image again
    empty = np.zeros(shape, np.float32)
    assert next_roi((0, 299, 0, 399), empty, [(150, 220, True)], shape) == (0, 299, 0, 399)
    prob = np.zeros(shape, np.float32)
    prob[100:150, 200:240] = 0.9
    # box rows 100..149, cols 200..239 -> 200x200 about (124.5, 219.5): 24.5 -> 24,
    # 224.5 -> 224, 119.5 -> 120, 319.5 -> 320. IoU with the whole image: 201/300 * 201/400
    assert next_roi((0, 299, 0, 399), prob, [(120, 220, True)], shape) == (24, 224, 120, 320)
    old = (40, 239, 130, 329)  # IoU with the candidate: 185/216 * 191/210 >= 0.5 -> kept
    assert next_roi(old, prob, [(120, 220, True)], shape) == old
    # a positive click on the old ROI's last row forces the candidate
    moved = next_roi(old, prob, [(120, 220, True), (239, 200, True)], shape)
    assert moved == object_roi(prob, [(120, 220, True), (239, 200, True)]) != old


def test_zoom_clicks_and_points_tensor_layout():
    zoomed = zoom_clicks([(130, 225, True), (30, 125, False)], (30, 230, 125, 325), (448, 448))
    assert zoomed[0] == (448 * 100 / 201, 448 * 100 / 201, True)
    assert zoomed[1] == (0.0, 0.0, False)
    pts = points_tensor([[(1, 2, True), (3, 4, False), (5, 6.5, True)]])
    assert pts.dtype == torch.float32
    assert pts.tolist() == [[[1, 2, 0], [5, 6.5, 2], [3, 4, 1], [-1, -1, -1]]]
    assert points_tensor([[(1, 2, True)], [(3, 4, True)]]).shape == (2, 2, 3)


class RampNet(nn.Module):
    """Fake network: logits = 0.01 * column + batch index; records what it receives."""

    def set_input_size(self, size):
        self.size = size

    def forward(self, image, points):
        self.image, self.points = image, points
        b, _, h, w = image.shape
        cols = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w).expand(b, 1, h, w)
        return 0.01 * cols + torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1)


def test_predictor_zooms_flips_averages_logits_and_pastes_into_zero_canvas():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    net = RampNet()
    pred = SimpleClickPredictor(net, (448, 448))
    assert net.size == (448, 448)
    pred.set_image(image)
    prob, roi = pred.predict([(150, 220, True)], None, None)
    assert roi == (0, 299, 0, 399) and prob.shape == (300, 400) and prob.dtype == np.float32
    # mirror pair: 0.5 * (0.01 j + 0.01 (447 - j) + 1) = 2.735 everywhere
    expected = 1 / (1 + math.exp(-2.735))
    np.testing.assert_allclose(prob, expected, rtol=1e-6)
    x = net.image
    assert x.shape == (2, 4, 448, 448)  # 300x400 squeezed to 448x448: aspect not kept
    assert torch.equal(x[1], torch.flip(x[0], dims=[2]))
    # align_corners=True keeps the corner pixels exactly
    assert torch.equal(x[0, :3, 0, 0], torch.from_numpy(image[0, 0]).float() / 255)
    assert torch.equal(x[0, :3, -1, -1], torch.from_numpy(image[-1, -1]).float() / 255)
    assert x[0, 3].abs().sum() == 0  # no previous mask yet
    y0, x0 = 448 * 150 / 300, 448 * 220 / 400
    torch.testing.assert_close(net.points, torch.tensor(
        [[[y0, x0, 0], [-1, -1, -1]], [[y0, 447 - x0, 0], [-1, -1, -1]]],
        dtype=torch.float32))

    prev = np.zeros((300, 400), np.float32)
    prev[100:150, 200:240] = 0.9
    prob2, roi2 = pred.predict([(150, 220, True), (20, 30, False)], prev, roi)
    # the click on row 150 extends the box to rows 100..150: centre 125 -> rows 25..225
    assert roi2 == (25, 225, 120, 320)
    assert (prob2[25:226, 120:321] > 0.9).all()
    outside = np.ones_like(prob2, bool)
    outside[25:226, 120:321] = False
    assert (prob2[outside] == 0).all()
    # the previous mask rides along as channel 3 of the crop
    assert net.image[0, 3, 0, 0] == 0 and net.image[0, 3].max() == pytest.approx(0.9)
    # the negative click lies outside the crop: negative zoomed coordinates, still sent
    neg = net.points[0, 1].tolist()
    assert neg[0] == pytest.approx(448 * (20 - 25) / 201) and neg[2] == 1


def test_predictor_without_flip_runs_one_crop():
    net = RampNet()
    pred = SimpleClickPredictor(net, (448, 448), flip=False)
    pred.set_image(np.zeros((50, 60, 3), np.uint8))
    prob, _ = pred.predict([(10, 10, True)], None, None)
    assert net.image.shape[0] == 1
    # column j of the 60-wide image maps to 447 * j / 59 of the crop (align_corners=True)
    np.testing.assert_allclose(prob[0], 1 / (1 + np.exp(-0.01 * 447 * np.arange(60) / 59)),
                               rtol=1e-5)
    with pytest.raises(RuntimeError, match="set_image"):
        SimpleClickPredictor(RampNet()).predict([(1, 1, True)], None, None)
