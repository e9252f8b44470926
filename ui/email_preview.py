"""An email as its recipient sees it, shown inside the app without trusting it.

The message's HTML is sanitised by core already; it is still shown in an iframe loaded from a
`data:` URL, which the browser gives an origin of its own (it cannot reach the app's page, its
sidebar or its cookies), and under a Content-Security-Policy that allows no script, no form and
no request but images.
"""

from __future__ import annotations

import base64
import html

import streamlit as st

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "form-action 'none'; base-uri 'none'"
)


def sandboxed_document(body_html: str) -> str:
    """`body_html` as the `data:` URL of a whole document under the policy above."""
    document = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:12px}</style>"
        "</head><body>"
        f"{body_html}</body></html>"
    )
    return "data:text/html;base64," + base64.b64encode(document.encode()).decode()


def show_email(*, subject: str, preheader: str, body_html: str, height: int = 560) -> None:
    st.html(  # escaped: a subject is text, never markup
        f"<p><strong>{html.escape(subject)}</strong>"
        + (f" — {html.escape(preheader)}" if preheader else "")
        + "</p>"
    )
    st.iframe(sandboxed_document(body_html), height=height)
