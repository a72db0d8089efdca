"""The server process's composition root: the web app, plus the in-process worker when
settings ask for one (``dingdan serve`` on SQLite). Like ``cli``, it sits above the rings:
``web`` and ``workers`` are siblings that never import each other, so they meet here.

``uvicorn dingdan.server:app --factory`` builds it from the environment.
"""

from __future__ import annotations

from fastapi import FastAPI

from dingdan.settings import Settings
from dingdan.web.app import create_app
from dingdan.workers.process import in_process_worker


def app() -> FastAPI:
    settings = Settings()
    return create_app(settings, background=[in_process_worker(settings)])
