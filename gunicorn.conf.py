"""gunicorn settings, read by the Docker image and the tests: ``gunicorn -c gunicorn.conf.py app:app``.

Each worker process loads its own copy of the model (OpenVINO or ONNX Runtime: well under a second).
The app is not preloaded in the master: the runtimes' thread pools do not survive fork().
"""
import os

from fetalhc.settings import Settings

settings = Settings.from_env()
bind = f"0.0.0.0:{settings.port}"
workers = settings.gunicorn_workers
# More than one thread per worker is safe (decoding is serialised in fetalhc/web/answer.py),
# but one prediction already uses FETALHC_THREADS cores (default 2), so threads add little.
threads = settings.gunicorn_threads
# Loading the model at worker start must fit in this too (TensorFlow, if chosen, takes seconds).
timeout = settings.gunicorn_timeout
graceful_timeout = 30
# Our own request log line replaces gunicorn's access log: it has the request id and no query values.
accesslog = None
errorlog = "-"
loglevel = "info"
# No runtime admin socket (gunicorn 27 creates one under $HOME by default): nothing to manage.
control_socket_disable = True
# Worker heartbeat files in memory, not on the container's disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# One CSRF secret for all workers of this server (each worker builds its own app from the
# environment it inherits), unless FETALHC_SECRET_KEY is set for the whole deployment.
os.environ.setdefault("FETALHC_SECRET_KEY", settings.secret_key)
