import random

import numpy as np
import pytest
from isbench.strategies.objects import make_chooser


def test_best_and_worst_break_ties_by_index():
    ious = np.array([0.5, 0.2, 0.5, 0.2, 0.9])
    assert make_chooser("best", 5).choose(ious, 0.85, None) == 0
    assert make_chooser("worst", 5).choose(ious, 0.85, None) == 1
    assert make_chooser("best", 5).choose(np.full(5, 0.9), 0.85, None) is None


def test_threshold_reached_when_equal():
    assert make_chooser("worst", 2).choose(np.array([0.85, 0.3]), 0.85, None) == 1


def test_random_shuffles_one_persistent_list_like_python_random():
    chooser = make_chooser("random", 4)
    rng, ref = random.Random(7), random.Random(7)
    order = [0, 1, 2, 3]
    ious = np.array([0.1, 0.1, 0.95, 0.1])
    for _ in range(5):
        ref.shuffle(order)
        expected = next(i for i in order if ious[i] < 0.85)
        assert chooser.choose(ious, 0.85, rng) == expected


def test_worst_with_limit_switches_to_best_when_every_object_used_its_beta():
    chooser = make_chooser("worst-with-limit", 2, beta=3)
    ious = np.array([0.1, 0.5])
    # targeted counts start at 1: object 0 gets 2 more, then object 1 gets 2, then best (1)
    picks = [chooser.choose(ious, 0.85, None) for _ in range(6)]
    assert picks == [0, 0, 1, 1, 1, 1]


def test_round_robin_windows_follow_the_official_counters():
    chooser = make_chooser("round-robin", 2, beta=3)

    class FirstStays:
        def shuffle(self, x):
            pass

    ious = np.array([0.1, 0.1])
    picks = [chooser.choose(ious, 0.85, FirstStays()) for _ in range(8)]
    # counters start [1, 1]: object 0 is chosen (count 2, the other zeroed), clicked once more
    # (3 = window full); object 1 then gets 3 clicks; object 0 (count 0) is eligible again.
    assert picks[:2] == [0, 0]
    assert picks[2] == 1 and picks[3:5] == [1, 1]
    assert picks[5] == 0  # object 1's window ran out; object 0 (count 0) is eligible again


def test_round_robin_stops_on_done_objects():
    chooser = make_chooser("round-robin", 2, beta=3)
    assert chooser.choose(np.array([0.9, 0.95]), 0.85, random.Random(0)) is None


def test_unknown_strategy_and_bad_beta():
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        make_chooser("nope", 2)
    with pytest.raises(ValueError, match="beta"):
        make_chooser("best", 2, beta=0)
