import cv2
import numpy as np
import pytest
from isbench.strategies.placement import disk_offsets, error_click, farthest_point
from scipy import ndimage


def _official_next_click(fn, fp, not_clicked):
    """The RITM/DynaMITe rule on full-image OpenCV transforms (spec 4.1 / 3.3)."""
    def dt(m):
        return cv2.distanceTransform(np.pad(m, 1).astype(np.uint8), cv2.DIST_L2, 0)[1:-1, 1:-1]
    fn_dt, fp_dt = dt(fn) * not_clicked, dt(fp) * not_clicked
    positive = fn_dt.max() > fp_dt.max()
    chosen = fn_dt if positive else fp_dt
    ys, xs = np.where(chosen == chosen.max())
    return int(ys[0]), int(xs[0]), bool(positive)


def _exact_maxima(mask, not_clicked):
    """Number of pixels at the exact (scipy, float64 of integer squares) maximum distance."""
    exact = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1] * not_clicked
    return exact, int((exact == exact.max()).sum())


def test_farthest_point_of_a_box_is_its_centre_first_in_row_major_order():
    m = np.zeros((20, 30), bool)
    m[2:9, 4:15] = True  # rows 2..8, cols 4..14: distance 4 at row 5, cols 7..11
    assert farthest_point(m) == (5, 7)


def test_image_border_counts_as_boundary():
    m = np.ones((5, 9), bool)
    assert farthest_point(m) == (2, 2)  # distance 3 to the padded border, first of (2, 2..6)


def test_empty_mask_and_no_clickable_error_give_origin():
    assert farthest_point(np.zeros((4, 4), bool)) == (0, 0)
    fn = np.zeros((6, 6), bool)
    fn[2, 2] = True
    excluded = np.zeros((6, 6), bool)
    excluded[2, 2] = True
    assert error_click(fn, np.zeros_like(fn), excluded) == (0, 0, False)


def test_tie_between_fn_and_fp_is_negative():
    fn = np.zeros((10, 20), bool)
    fp = np.zeros((10, 20), bool)
    fn[2:5, 2:5] = True
    fp[2:5, 12:15] = True
    assert error_click(fn, fp, None) == (3, 13, False)
    fn[2:7, 2:7] = True
    assert error_click(fn, fp, None) == (4, 4, True)


def test_exclusion_zeroes_distance_but_keeps_distances_of_others():
    fn = np.zeros((11, 11), bool)
    fn[1:10, 1:10] = True
    excluded = np.zeros_like(fn)
    excluded[5, 5] = True
    # centre excluded: next best are the distance-4 pixels around it; first in row-major order
    assert error_click(fn, np.zeros_like(fn), excluded) == (4, 4, True)


def test_disk_offsets_radius_5():
    dy, dx = disk_offsets(5)
    assert len(dy) == 81 and (dy**2 + dx**2 <= 25).all()
    assert len(disk_offsets(0)[0]) == 1


@pytest.mark.parametrize("seed", range(3))
def test_matches_official_clicker_where_the_official_maximum_is_unique(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(60):
        gt = np.zeros((48, 64), np.uint8)
        pred = np.zeros((48, 64), np.uint8)
        for m in (gt, pred):
            cv2.ellipse(m, (int(rng.integers(10, 54)), int(rng.integers(8, 40))),
                        (int(rng.integers(3, 25)), int(rng.integers(3, 18))),
                        float(rng.uniform(0, 180)), 0, 360, 1, -1)
        gt, pred = gt.astype(bool), pred.astype(bool)
        not_clicked = np.ones(gt.shape, bool)
        not_clicked[tuple(rng.integers(0, 48, 2))] = False
        fn, fp = gt & ~pred, ~gt & pred
        official = _official_next_click(fn, fp, not_clicked)
        ours = error_click(fn, fp, ~not_clicked)
        exact, n_max = _exact_maxima(fn if ours[2] else fp, not_clicked)
        assert exact[ours[0], ours[1]] == exact.max()
        if n_max == 1:  # no tie: ours is the official click (OpenCV's ulp noise can't matter)
            assert ours == official
            checked += 1
        else:  # a true tie: ours is the first exact maximum in row-major order
            ys, xs = np.nonzero(exact == exact.max())
            assert ours[:2] == (ys[0], xs[0])
    assert checked > 10


def _brute_force_sq_distances(mask):
    """Squared distance of every pixel to the nearest non-mask pixel of the zero-padded
    mask, by checking every pair."""
    padded = np.pad(mask, 1)
    zy, zx = np.nonzero(~padded)
    ys, xs = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    d2 = ((ys[..., None] + 1 - zy) ** 2 + (xs[..., None] + 1 - zx) ** 2).min(axis=-1)
    return np.where(mask, d2, 0)


@pytest.mark.parametrize("seed", range(40))
def test_distances_and_row_pruned_maximum_equal_brute_force(seed):
    from isbench.strategies.placement import _masked_max, _squared_distances

    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 48, size=2)
    if seed % 4 == 2:  # rows of whole 64-bit words, whose empty words are skipped at once
        w = 8 * int(rng.integers(1, 7))
    mask = rng.random((h, w)) < rng.choice([0.3, 0.7, 0.95])
    if seed % 3 == 0:  # blocky shapes with long runs and many ties
        mask = np.kron(rng.random((h // 4 + 1, w // 4 + 1)) < 0.6, np.ones((4, 4), bool))
    if seed % 5 == 1:  # thin bands, as in a joint error map of slightly shifted objects
        mask = mask ^ np.roll(mask, (int(rng.integers(1, 4)), int(rng.integers(1, 4))), (0, 1))
    excluded = rng.random(mask.shape) < (0.0 if seed % 2 else 0.2)
    want = _brute_force_sq_distances(mask)
    if mask.any():
        ys, xs = np.nonzero(mask)
        box = (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)
        got = _squared_distances(mask, *box)
        assert (got == want[box[0] : box[1], box[2] : box[3]]).all()
    allowed = np.where(excluded, 0, want)
    best = int(allowed.max())
    y, x = divmod(int(allowed.argmax()), mask.shape[1]) if best else (0, 0)
    assert _masked_max(np.ascontiguousarray(mask), excluded) == (best, y, x)
    floor = int(rng.integers(1, 10))
    want = (best, y, x) if best >= floor else (0, 0, 0)
    assert _masked_max(np.ascontiguousarray(mask), excluded, floor) == want

