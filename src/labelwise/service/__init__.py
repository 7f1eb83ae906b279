"""The labeling service: people label in a web page; the server routes each request
with labelwise's routing policies, aggregates live and keeps a model in the loop.

Install with ``pip install 'labelwise[service]'`` and run ``labelwise serve`` (or
``labelwise serve --demo`` for a ready project). The core library never imports this
package.

Example
-------
>>> from labelwise.service import LabelService, create_app, open_database
>>> svc = LabelService(open_database("sqlite:///:memory:"))  # doctest: +SKIP
>>> app = create_app(service=svc)  # doctest: +SKIP
"""

from __future__ import annotations

from labelwise.service.api import create_app
from labelwise.service.auth import Person, ServiceError
from labelwise.service.core import LabelService, Task
from labelwise.service.db import Database, open_database, sqlite_url
from labelwise.service.schema import ItemIn, ProjectSpec

__all__ = [
    "Database",
    "ItemIn",
    "LabelService",
    "Person",
    "ProjectSpec",
    "ServiceError",
    "Task",
    "create_app",
    "open_database",
    "sqlite_url",
]
