"""Who a campaign keeps back as its control group."""

from core.campaigns.holdout import held_out
from core.models import Audience, Campaign


def test_the_draw_keeps_back_the_share_asked_for_the_same_way_every_time() -> None:
    kept = [c for c in range(20_000) if held_out(7, c, 10)]
    assert 1_850 < len(kept) < 2_150
    assert kept == [c for c in range(20_000) if held_out(7, c, 10)]
    assert set(kept) != {c for c in range(20_000) if held_out(8, c, 10)}, "each campaign draws"
    # A larger share keeps back the same customers and more.
    assert set(kept) < {c for c in range(20_000) if held_out(7, c, 20)}
    assert not any(held_out(7, c, 0) for c in range(1_000))


def test_customers_a_person_approved_are_never_held_back() -> None:
    segments = Campaign(holdout_percent=15, audience=Audience.SEGMENTS)
    approved = Campaign(holdout_percent=15, audience=Audience.APPROVED)
    assert (segments.control_percent, approved.control_percent) == (15, 0)
