"""The one settings object: every environment variable the project reads, read once, here.

``Settings.from_env()`` is called by the entry points (``app.py``/gunicorn, the command-line
tools); everything else receives the object. :data:`DOCUMENTED` lists each variable with its
default and meaning; ``docs/configuration.md`` is checked against it by a test.
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fetalhc.numbers import parse_number

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "Trained_models" / "dag_vnet"
RUNTIMES = ("openvino", "onnx", "tensorflow")  # in order of preference
# Ten a second for a minute: a page that follows a dragged handle, far above any upload limit.
DEFAULT_ELLIPSE_RATE_LIMIT = "600/minute"


class ConfigError(ValueError):
    """An environment variable holds a value the app cannot start with."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str


# Every variable read anywhere in the project, in the order of docs/configuration.md.
DOCUMENTED = (
    Variable("PORT", "8080", "port to listen on (`python app.py` listens on `HOST`, default `127.0.0.1`)"),
    Variable("HOST", "127.0.0.1", "address `python app.py` listens on (gunicorn listens on all addresses)"),
    Variable("FETALHC_MODEL_DIR", "Trained_models/dag_vnet", "model folder (`model.onnx` or SavedModel, `model_card.json`)"),
    Variable("FETALHC_RUNTIME", "OpenVINO if `model.onnx` exists", "`openvino`, `onnx` or `tensorflow`: what runs the network"),
    Variable("FETALHC_THREADS", "2", "threads one prediction uses"),
    Variable("FETALHC_MAX_UPLOAD_MB", "32", "largest request body; larger uploads get 413"),
    Variable("FETALHC_MAX_PIXELS", "12000000", "largest image (width x height); larger images get 415"),
    Variable("FETALHC_DECODE_MEMORY_MB", "200", "memory one upload's decoding may take (its sandbox's limit); more gets 415"),
    Variable("FETALHC_DECODE_TIMEOUT_S", "3", "seconds one upload's decoding may take; longer gets 415"),
    Variable("FETALHC_BATCH_MAX_IMAGES", "20", "images in one `POST /batch` (a zip's images count one by one); more gets 413"),
    Variable("FETALHC_BATCH_MAX_MB", "64", "largest request body of `POST /batch`; larger gets 413"),
    Variable("FETALHC_ZIP_MAX_ENTRIES", "100", "entries (files and folders) in one zip sent to `POST /batch`; more gets 413"),
    Variable("FETALHC_ZIP_MAX_MB", "100", "what the zips of one batch may unpack to, together; more gets 413"),
    Variable("FETALHC_ZIP_MAX_RATIO", "100", "largest compression ratio of one zip entry; a higher one is an error row"),
    Variable("FETALHC_API_KEY", "unset", "when set, the API (`X-API-Key`) and the page (asks once) measure only for clients with this key"),
    Variable("FETALHC_RATE_LIMIT", "unset (off)", "uploads per client, e.g. `60/minute`"),
    Variable("FETALHC_ELLIPSE_RATE_LIMIT", "`600/minute` when `FETALHC_RATE_LIMIT` is set, else unset (off)", "edits of the ellipse (`POST /ellipse`, which decodes no image and is not counted as an upload) per client"),
    Variable("FETALHC_PROXY_COUNT", "0", "reverse proxies in front of the app whose `X-Forwarded-For`/`-Proto` are trusted (App Runner: `1`)"),
    Variable("FETALHC_CORS_ORIGINS", "unset (none)", "origins, separated by commas, whose browser applications may call `POST /`, `/batch`, `/ellipse`, `/csv`, `/health`, `/chart.svg` and `/openapi.json` (CORS), e.g. `https://pacs.example.org`"),
    Variable("FETALHC_SECRET_KEY", "random", "signs the form's CSRF session; set one value for all instances when running more than one"),
    Variable("GUNICORN_WORKERS", "2", "worker processes, each with its own copy of the model"),
    Variable("GUNICORN_THREADS", "8", "threads per worker (`/health` and other requests are answered while uploads are measured)"),
    Variable("GUNICORN_TIMEOUT", "120", "seconds before a silent worker is restarted"),
    Variable("HC18_DIR", "`../shared/hc18`, else `dataset/`", "the HC18 folder for data scripts, training, evaluation and tests"),
)


def _number(environ: Mapping[str, str], name: str, default: float, kind: type, minimum: float):
    raw = environ.get(name, "")
    try:
        value = parse_number(raw, kind)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if value is None:
        return default
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


_ORIGIN = re.compile(r"https?://[^\s/?#*,]+")


def _origins(environ: Mapping[str, str]) -> tuple[str, ...]:
    """FETALHC_CORS_ORIGINS: exact origins (scheme://host[:port]); no wildcard."""
    raw = environ.get("FETALHC_CORS_ORIGINS", "")
    origins = tuple(o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"FETALHC_CORS_ORIGINS holds {origin!r}, which is not an origin such as "
                              "'https://pacs.example.org' (scheme, host and optional port; no path, no '*')")
    return origins


@dataclass(frozen=True)
class Settings:
    """What the environment sets, with the project's fixed limits beside it."""

    model_dir: Path = DEFAULT_MODEL_DIR
    runtime: str | None = None            # None: the first of RUNTIMES that can run the model
    threads: int = 2                      # App Runner's 2 vCPUs
    max_upload_bytes: int = 32 * 1024 * 1024
    max_pixels: int = 12_000_000          # above any ultrasound export; what the decode memory allows
    decode_memory_mb: int = 200           # the decoding sandbox's memory limit per upload
    decode_timeout_s: float = 3.0         # and its deadline
    # POST /batch (docs/batch.md#post-batch): a few dozen exported frames, never a zip bomb.
    batch_max_images: int = 20
    batch_max_bytes: int = 64 * 1024 * 1024
    zip_max_entries: int = 100
    zip_max_bytes: int = 100 * 1024 * 1024
    zip_max_ratio: float = 100.0
    api_key: str | None = None
    rate_limit: str | None = None
    ellipse_rate_limit: str | None = None  # POST /ellipse: a drag of the page's ellipse sends a few a second
    proxy_count: int = 0
    cors_origins: tuple[str, ...] = ()    # browser origins allowed to call the API (CORS)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    hc18_dir: Path | None = None
    port: int = 8080
    host: str = "127.0.0.1"
    gunicorn_workers: int = 2
    gunicorn_threads: int = 8
    gunicorn_timeout: int = 120
    # Plausible request values, checked once by the predictor (not environment settings).
    pixel_size_mm_range: tuple[float, float] = (0.01, 2.0)
    ga_weeks_range: tuple[float, float] = (10.0, 45.0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        runtime = environ.get("FETALHC_RUNTIME", "").strip().lower() or None
        if runtime is not None and runtime not in RUNTIMES:
            raise ConfigError(f"FETALHC_RUNTIME={runtime!r} is not one of {', '.join(RUNTIMES)}")
        max_upload_mb = _number(environ, "FETALHC_MAX_UPLOAD_MB", 32, float, 0.001)
        return cls(
            model_dir=Path(environ.get("FETALHC_MODEL_DIR") or DEFAULT_MODEL_DIR),
            runtime=runtime,
            threads=_number(environ, "FETALHC_THREADS", 2, int, 1),
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            max_pixels=_number(environ, "FETALHC_MAX_PIXELS", 12_000_000, int, 256),
            decode_memory_mb=_number(environ, "FETALHC_DECODE_MEMORY_MB", 200, int, 64),
            decode_timeout_s=_number(environ, "FETALHC_DECODE_TIMEOUT_S", 3.0, float, 0.1),
            batch_max_images=_number(environ, "FETALHC_BATCH_MAX_IMAGES", 20, int, 1),
            batch_max_bytes=int(_number(environ, "FETALHC_BATCH_MAX_MB", 64, float, 0.001) * 1024 * 1024),
            zip_max_entries=_number(environ, "FETALHC_ZIP_MAX_ENTRIES", 100, int, 1),
            zip_max_bytes=int(_number(environ, "FETALHC_ZIP_MAX_MB", 100, float, 0.001) * 1024 * 1024),
            zip_max_ratio=_number(environ, "FETALHC_ZIP_MAX_RATIO", 100.0, float, 1.0),
            api_key=environ.get("FETALHC_API_KEY") or None,
            rate_limit=environ.get("FETALHC_RATE_LIMIT") or None,
            ellipse_rate_limit=environ.get("FETALHC_ELLIPSE_RATE_LIMIT") or (
                DEFAULT_ELLIPSE_RATE_LIMIT if environ.get("FETALHC_RATE_LIMIT") else None),
            proxy_count=_number(environ, "FETALHC_PROXY_COUNT", 0, int, 0),
            cors_origins=_origins(environ),
            secret_key=environ.get("FETALHC_SECRET_KEY") or secrets.token_hex(32),
            hc18_dir=Path(environ["HC18_DIR"]) if environ.get("HC18_DIR") else None,
            port=_number(environ, "PORT", 8080, int, 1),
            host=environ.get("HOST") or "127.0.0.1",
            gunicorn_workers=_number(environ, "GUNICORN_WORKERS", 2, int, 1),
            gunicorn_threads=_number(environ, "GUNICORN_THREADS", 8, int, 1),
            gunicorn_timeout=_number(environ, "GUNICORN_TIMEOUT", 120, int, 1),
        )
