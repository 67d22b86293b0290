"""Entry point: ``gunicorn -c gunicorn.conf.py app:app`` (production, Docker) or ``python app.py``.

Both serve on ``PORT`` (default 8080) and never in debug mode.
"""
from __future__ import annotations

import logging

from fetalhc.settings import Settings
from fetalhc.web import create_app
from fetalhc.web.serverlog import LOG_FORMAT, install_one_line_logs

logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
install_one_line_logs()  # escaped, one line per record, no tracebacks

settings = Settings.from_env()
app = create_app(settings)

if __name__ == "__main__":
    # Werkzeug's server is for trying the app on one machine; deployments use gunicorn.
    app.run(host=settings.host, port=settings.port, debug=False)
