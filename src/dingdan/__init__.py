"""Dingdan (订单): an open-source order management system.

Rings, inward only: web, cli, workers → services → store, adapters → domain.
Importing any module here creates nothing: no engine, no settings, no app.
"""

__version__ = "0.1.0"
