"""The store: tables, repositories, the unit of work and the migrations.

Importing the package loads every table module, so :data:`tables.metadata` is complete
(foreign keys between modules resolve) whatever module is imported first.
"""

from dingdan.store import (
    tables_analytics,  # noqa: F401
    tables_people,  # noqa: F401
)
