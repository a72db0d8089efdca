"""The server process's composition root: the web app, plus the in-process worker when
settings ask for one (``dingdan serve`` on SQLite). Like ``cli``, it sits above the rings:
``web`` and ``workers`` are siblings that never import each other, so they meet here.

``uvicorn dingdan.server:app --factory`` builds it from the environment; in development
without ``DINGDAN_SECRET_KEY`` it signs sessions with the private key of
``settings.with_local_secret``.
"""

from __future__ import annotations

from fastapi import FastAPI

from dingdan.settings import Settings, with_local_secret
from dingdan.web.app import create_app
from dingdan.workers.process import in_process_worker


def app() -> FastAPI:
    settings = with_local_secret(Settings())  # development: never the public key
    return create_app(settings, background=[in_process_worker(settings)])
