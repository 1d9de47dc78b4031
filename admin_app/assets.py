"""Static files: URLs carry a hash of the file's content (`?v=<hash>`), so a browser keeps each
file for a year and asks again only when it changes; responses are compressed (brotli or
gzip, Flask-Compress) when the browser accepts it."""
from __future__ import annotations

import hashlib
import os

from flask import request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "image/svg+xml"}
_hashes: dict[tuple[str, float], str] = {}


def _static_folder(app, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return getattr(blueprint, "static_folder", None)


def content_hash(folder: str, filename: str) -> str | None:
    path = os.path.join(folder, filename)
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        return None
    key = (path, mtime)
    if key not in _hashes:
        with open(path, "rb") as fh:
            _hashes[key] = hashlib.sha256(fh.read()).hexdigest()[:12]
    return _hashes[key]


def register(app) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_MIN_SIZE", 512)
    app.config.setdefault("COMPRESS_STREAMS", False)  # exports stream row by row; never buffered
    Compress(app)

    @app.url_defaults
    def hashed_static_url(endpoint, values):
        if endpoint != "static" and not endpoint.endswith(".static"):
            return
        folder = _static_folder(app, endpoint)
        digest = content_hash(folder, values.get("filename", "")) if folder else None
        if digest:
            values["v"] = digest

    @app.after_request
    def cache_hashed_static(response):
        endpoint = request.endpoint or ""
        if (endpoint == "static" or endpoint.endswith(".static")) and response.status_code == 200:
            folder = _static_folder(app, endpoint)
            filename = (request.view_args or {}).get("filename", "")
            # Flask streams files; Flask-Compress (whose hook runs after this one) compresses a
            # body it holds: scripts and stylesheets are read into memory (the font is not).
            if response.mimetype in COMPRESSIBLE:
                response.direct_passthrough = False
                response.set_data(response.get_data())
            if folder and request.args.get("v") and request.args.get("v") == content_hash(folder, filename):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
