"""A page that fails shows a calm message with a reference, not a traceback (app.py)."""

from streamlit.testing.v1 import AppTest


def failing_page() -> None:
    from app import friendly_error

    try:
        raise RuntimeError("database exploded: password=hunter2")
    except RuntimeError as exc:
        assert friendly_error(exc) is True


def test_friendly_error_hides_the_details() -> None:
    at = AppTest.from_function(failing_page).run()
    assert not at.exception
    message = at.error[0].value
    assert "Something went wrong on our side" in message and "reference" in message
    assert "hunter2" not in message and "RuntimeError" not in message
