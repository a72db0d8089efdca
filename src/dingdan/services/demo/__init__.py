"""Demo data: ``load_demo`` fills a database with a believable shop's last 90 days.

Everything is made through the ordinary use cases, deterministic from a seed: ~60 products,
three warehouses, ~300 customers across the provinces and their orders in every status.
``data`` holds the fixed tables, ``people`` and ``plan`` draw customers and order lives
(pure), ``batch`` runs many use cases per transaction and ``loader`` puts it all together.
"""

from dingdan.services.demo.life import ShopRules
from dingdan.services.demo.loader import SimulatedClock, load_demo

__all__ = ["ShopRules", "SimulatedClock", "load_demo"]
