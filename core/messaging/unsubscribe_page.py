"""The small public pages behind an unsubscribe link: confirm, done, not valid. Plain HTML with
the store's colours, readable on a phone, no scripts, no cookies."""

from __future__ import annotations

from jinja2 import Environment

_env = Environment(autoescape=True)

_PAGE = _env.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f6f3ef;color:#1f1b16;margin:0;padding:2rem 1rem}
main{max-width:32rem;margin:auto;background:#fff;border-radius:12px;padding:2rem}
h1{font-size:1.4rem;margin-top:0}
button{background:#7a1f3d;color:#fff;border:0;border-radius:8px;padding:.8rem 1.4rem;font-size:1rem}
button:focus{outline:3px solid #1f1b16;outline-offset:2px}
</style></head>
<body><main><h1>{{ title }}</h1>{% for line in lines %}<p>{{ line }}</p>{% endfor %}
{% if action %}<form method="post" action="{{ action }}">
<button type="submit">Unsubscribe</button></form>{% endif %}
</main></body></html>"""
)


def confirm(token: str) -> str:
    return _PAGE.render(
        title="Unsubscribe from our emails?",
        lines=["Press the button and we will not email you offers again."],
        action=f"/u/{token}",
    )


def done(address: str) -> str:
    return _PAGE.render(
        title="You are unsubscribed",
        lines=[
            f"{address} will get no more marketing email from us.",
            "Changed your mind? Ask us at the store.",
        ],
    )


def received() -> str:
    return _PAGE.render(
        title="We have your request",
        lines=[
            "You will be unsubscribed within minutes and get no more marketing email from us.",
            "Changed your mind? Ask us at the store.",
        ],
    )


def unavailable() -> str:
    return _PAGE.render(
        title="Please try again in a few minutes",
        lines=["We could not take your request just now. Nothing was changed."],
    )


def invalid(reason: str) -> str:
    return _PAGE.render(
        title="This link does not work", lines=[reason, "Reply to any of our emails instead."]
    )
