# Everyday commands. PYTHON defaults to the active interpreter (use a virtual environment).
PYTHON ?= python

.PHONY: install dev run worker test e2e lint format demo migrate

install:
	$(PYTHON) -m pip install -r requirements.txt

dev:
	$(PYTHON) -m pip install -r requirements-dev.txt

run: install
	$(PYTHON) -m streamlit run app.py

worker:
	$(PYTHON) -m jobs.worker

test: dev
	$(PYTHON) -m pytest

e2e: dev
	$(PYTHON) -m pytest -n 0 -m e2e

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

format:
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

demo:
	$(PYTHON) -m core demo

migrate:
	$(PYTHON) -m core migrate
