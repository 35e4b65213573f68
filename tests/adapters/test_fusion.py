import numpy as np
import pytest
from isbench.adapters import SingleInstanceAdapter
from isbench.adapters.fusion import ArgmaxFusion

from isbench.types import Click


class Recorder(SingleInstanceAdapter):
    """Probability 0.8 on a 3x3 square at each positive click; records what it was given."""

    threshold = 0.5

    def __init__(self):
        self.seen = []

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, clicks, prev_mask):
        self.seen.append((clicks, prev_mask, dict(self.object_state)))
        self.object_state["n"] = self.object_state.get("n", 0) + 1
        out = np.zeros(self.shape, np.float32)
        for c in clicks:
            if c.positive:
                out[max(c.y - 1, 0):c.y + 2, max(c.x - 1, 0):c.x + 2] = 0.8
        return out


CLICKS = (
    Click(2, 2, True, 0, 0, 0),
    Click(7, 7, True, 1, 1, 1),
    Click(2, 7, False, None, 0, 2),
    Click(7, 2, True, 1, 0, 3),  # placed while refining object 0, lands on object 1
)


def test_own_policy_gives_each_object_only_its_targeted_clicks():
    fusion = ArgmaxFusion(Recorder(), clicks="own")
    obj0 = fusion.object_clicks(CLICKS, 0)
    assert [(c.y, c.x, c.positive, c.index) for c in obj0] == [
        (2, 2, True, 0), (2, 7, False, 1), (7, 2, False, 2)]
    assert [(c.y, c.x, c.positive) for c in fusion.object_clicks(CLICKS, 1)] == [(7, 7, True)]


def test_shared_policy_is_positive_only_for_the_owner():
    fusion = ArgmaxFusion(Recorder(), clicks="shared")
    obj1 = fusion.object_clicks(CLICKS, 1)
    assert [c.positive for c in obj1] == [False, True, False, True]
    assert all(c.object_id in (0, None) for c in obj1)


def test_only_objects_whose_clicks_changed_are_repredicted_with_their_own_state():
    model = Recorder()
    fusion = ArgmaxFusion(model, clicks="own")
    fusion.set_image(np.zeros((10, 10, 3), np.uint8))
    fusion.predict(CLICKS[:2], 2)
    assert len(model.seen) == 2
    out = fusion.predict(CLICKS[:3], 2)  # only object 0 got a new click
    assert len(model.seen) == 3
    clicks, prev, state = model.seen[-1]
    assert prev is not None and prev[2, 2] == pytest.approx(0.8)
    assert state == {"n": 1}  # object 0's state, not object 1's
    assert out.shape == (2, 10, 10) and out[1, 7, 7] == pytest.approx(0.8)


def test_bad_policy_names():
    with pytest.raises(ValueError, match="fusion clicks 'mine'"):
        ArgmaxFusion(Recorder(), clicks="mine")
    with pytest.raises(ValueError, match="fusion mode 'sometimes'"):
        ArgmaxFusion(Recorder(), fuse="sometimes")
