# Last Call: one image for the app (`streamlit run app.py`) and the worker (`python -m jobs.worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501

WORKDIR /app
RUN useradd --create-home --uid 10001 lastcall

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=lastcall:lastcall . .
RUN mkdir -p /app/data && chown lastcall:lastcall /app/data
USER lastcall

EXPOSE 8501
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import json,sys,urllib.request; r=urllib.request.urlopen('http://127.0.0.1:8501/healthz', timeout=4); sys.exit(0 if json.load(r)['status'] != 'down' else 1)"

CMD ["streamlit", "run", "app.py"]
