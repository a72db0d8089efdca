"""The store: tables, repositories, the unit of work and the migrations.

Importing the package loads every table module, so :data:`tables.metadata` is complete
(foreign keys between modules resolve) whatever module is imported first.
"""

from dingdan.store import (
    tables_aftersales,  # noqa: F401  (after-sales, complaints: 0012)
    tables_analytics,  # noqa: F401
    tables_carriers,  # noqa: F401  (issue 12)
    tables_intake,  # noqa: F401
    tables_people,  # noqa: F401
    tables_review,  # noqa: F401
)
