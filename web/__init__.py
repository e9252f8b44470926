"""HTTP routes served by the same process as the dashboard (see app.py)."""
