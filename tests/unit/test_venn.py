"""The Venn layout: circle areas match set sizes and pair overlaps match shared members."""

import math

import pytest

from core.segments import Overlap
from ui.charts import lens_area, region_middles, venn_layout


def shared_area(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return lens_area(a[2], b[2], math.dist(a[:2], b[:2]))


def test_two_sets_sized_and_overlapping_in_proportion() -> None:
    # 1,000 and 250 members, 100 in both.
    overlap = Overlap(["Big", "Small"], {(True, False): 900, (False, True): 150, (True, True): 100})
    big, small = venn_layout(overlap)
    assert big[2] == pytest.approx(1.0)
    assert (math.pi * small[2] ** 2) / (math.pi * big[2] ** 2) == pytest.approx(0.25)
    assert shared_area(big, small) / (math.pi * big[2] ** 2) == pytest.approx(0.1, rel=1e-6)


def test_apart_and_nested_sets() -> None:
    apart = Overlap(["A", "B"], {(True, False): 10, (False, True): 10})
    a, b = venn_layout(apart)
    assert shared_area(a, b) == 0
    nested = Overlap(["All", "Some"], {(True, False): 30, (True, True): 10})
    outer, inner = venn_layout(nested)
    assert math.dist(outer[:2], inner[:2]) + inner[2] == pytest.approx(outer[2])  # inside, touching


def test_three_sets_keep_every_pair_in_proportion() -> None:
    counts = {
        (True, False, False): 400,
        (False, True, False): 200,
        (False, False, True): 100,
        (True, True, False): 80,
        (True, False, True): 40,
        (False, True, True): 30,
        (True, True, True): 10,
    }
    overlap = Overlap(["A", "B", "C"], counts)
    circles = venn_layout(overlap)
    unit = math.pi * circles[0][2] ** 2 / overlap.total(0)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        both = sum(n for key, n in counts.items() if key[i] and key[j])
        assert shared_area(circles[i], circles[j]) == pytest.approx(both * unit, rel=1e-6)
    middles = region_middles(circles)
    assert (True, True, True) in middles and (True, False, False) in middles
