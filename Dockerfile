# fetalhc web app: gunicorn on $PORT (8080), for AWS App Runner or any container host.
# Build: docker build -t fetalhc .    Run: docker run -p 8080:8080 fetalhc
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080

WORKDIR /app
# requirements-serve.lock: requirements-serve.txt with every dependency pinned and hashed
# (docs/deployment.md, "Updating the locks"); pip refuses anything else.
COPY requirements-serve.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements-serve.lock

COPY app.py gunicorn.conf.py ./
COPY fetalhc/ fetalhc/
COPY templates/ templates/
COPY static/ static/
# The ONNX export and the card only: the SavedModel is for TensorFlow, which the image does not have.
COPY Trained_models/dag_vnet/model.onnx Trained_models/dag_vnet/model_card.json Trained_models/dag_vnet/

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin fetalhc
USER 10001

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
