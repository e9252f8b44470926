import pytest

from core import demo, scoring
from core.db import session_scope
from core.permissions import SYSTEM, Role
from tests.moments import NOW, TODAY
from tests.ui.conftest import frame, make_user, see_job_through, sign_in, texts


@pytest.mark.slow
def test_scores_page_before_and_after_scoring() -> None:
    at = sign_in(frame(), make_user(Role.MARKETER))
    at.switch_page("pages/scoring.py").run()
    assert "not been scored yet" in texts(at)
    demo.load_demo(unit_of_work=session_scope, actor=SYSTEM, customers=300, seed=9, now=NOW)
    next(b for b in at.button if b.label == "Rescore now").click().run()
    see_job_through(at, "scoring_job")
    assert "Scores refreshed." in texts(at)
    labels = [m.label for m in at.metric]
    assert labels == ["Scored as of", "Customers scored", "Spend predicted within"]
    # Customers without an order are charted under "No purchases yet" but not counted as scored.
    assert "who have not bought yet are under “No purchases yet”" in at.metric[1].proto.help
    assert len(at.get("plotly_chart")) == 3
    shown = texts(at)
    assert "Predicts next year's spend within" in shown and "off by $" in shown
    assert "one-time buyers, how long they have been gone" in shown
    # 300 customers are too few to trust a fit: the page says so rather than look sure.
    assert "Take the predictions with care" in shown and "customers have bought on more" in shown


def test_viewers_see_scores_but_cannot_rescore() -> None:
    demo.load_demo(unit_of_work=session_scope, actor=SYSTEM, customers=200, seed=9, now=NOW)
    scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, as_of=TODAY, now=NOW)
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.switch_page("pages/scoring.py").run()
    assert not at.exception and "Rescore now" not in [b.label for b in at.button]
