"""The uvicorn entry point: ``uvicorn dingdan.web.main:app --factory`` builds the app from the
environment. Kept apart from ``app.py`` so that importing the factory reads no settings."""

from __future__ import annotations

from fastapi import FastAPI

from dingdan.settings import Settings, with_local_secret
from dingdan.web.app import create_app


def app() -> FastAPI:
    return create_app(with_local_secret(Settings()))
