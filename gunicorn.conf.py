"""gunicorn settings, read by the Docker image and the tests: ``gunicorn -c gunicorn.conf.py app:app``.

Each worker process loads its own copy of the model (OpenVINO or ONNX Runtime: well under a second).
The app is not preloaded in the master: the runtimes' thread pools do not survive fork().
"""
import ctypes
import logging
import os

import gunicorn.util

from fetalhc.settings import Settings
from fetalhc.web.serverlog import gunicorn_error, install_one_line_logs

settings = Settings.from_env()
bind = f"0.0.0.0:{settings.port}"
workers = settings.gunicorn_workers
# Threads (gthread workers, default 8): /health and other quick requests are answered while a
# worker measures or decodes an upload, and two slow clients trickling a body hold two threads,
# not both workers. Decoding runs in each worker's sandbox (fetalhc/imaging/sandbox.py), one upload
# at a time: uploads waiting for it hold threads too. With 4 threads, 4 clients and 2 slow clients
# sending bombs filled a worker's threads and /health waited up to 2.2 s (bench/load_test.py); with 8,
# 64 ms.
threads = settings.gunicorn_threads
# gunicorn's own refusals (bad request line, URI or headers too long) in the app's JSON shape,
# with its security headers and a request id (gunicorn calls this module attribute).
gunicorn.util.write_error = gunicorn_error
# Loading the model at worker start must fit in this too (TensorFlow, if chosen, takes seconds).
timeout = settings.gunicorn_timeout
graceful_timeout = 30
# Our own request log line replaces gunicorn's access log: it has the request id and no query values.
accesslog = None
errorlog = "-"
loglevel = "info"
# No runtime admin socket (gunicorn 27 creates one under $HOME by default): nothing to manage.
control_socket_disable = True


M_ARENA_MAX = -8  # glibc's mallopt parameter number


def post_fork(server, worker):
    """At most two malloc arenas per worker: with 8 threads glibc would give each thread its own,
    and the memory freed after large decodes would stay scattered over them (bench/load_test.py
    measured the workers' growth)."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)
    except OSError:  # not glibc: its allocator has no arenas to bound
        pass


def post_worker_init(worker):
    """gunicorn's own log lines one line each too (its "Invalid request" warning quotes the request),
    and the worker's decoding sandbox started before the first upload."""
    from fetalhc.web.answer import sandbox_for

    install_one_line_logs(worker.log.error_log, logging.getLogger())
    sandbox_for(Settings.from_env()).start()


# Worker heartbeat files in memory, not on the container's disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# One CSRF secret for all workers of this server (each worker builds its own app from the
# environment it inherits), unless FETALHC_SECRET_KEY is set for the whole deployment.
os.environ.setdefault("FETALHC_SECRET_KEY", settings.secret_key)
