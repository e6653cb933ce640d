"""pyramid_sqlassist's API over pyramid_polydatum: move an app by changing its imports.

::

    import pyramid_polydatum.sqlassist as pyramid_sqlassist

    pyramid_sqlassist.initialize_engine("reader", engine_reader, is_readonly=True)
    pyramid_sqlassist.initialize_engine("writer", engine_writer, use_zope=True)
    pyramid_sqlassist.register_request_method(config, "dbSession")

``request.dbSession.reader`` / ``.writer`` are then the sessions of the request's ``request.dal`` context
(``ctx.db``): one mechanism, not two. Differences from pyramid_sqlassist, all fixes:

- sessions always belong to one request (or ``DataManager`` context), whatever ``is_scoped`` says;
- ``is_readonly=True`` works on SQLAlchemy 2, and the database itself refuses writes;
- ``transaction``/``zope.sqlalchemy`` are imported only for ``use_zope=True``; ``SQLASSIST_DISABLE_TRANSACTION``
  accepts ``1``/``true``/``yes``;
- ``reinit_engine`` never closes the connections of the parent process;
- ``get__by__column__similar`` and ``get__by__column__exact_then_ilike`` treat ``%`` and ``_`` in the seed as
  literal characters.

With ``use_zope=True`` the request's sessions join ``request.tm`` (pyramid_tm's explicit manager, set up by the
include): let pyramid_tm commit, or call ``request.tm.commit()``; the thread-local ``transaction.commit()`` only
commits sessions from ``get_session`` outside a request.
"""

from .engines import (
    DISABLE_TRANSACTION_ENV,
    SQLASSIST_DISABLE_TRANSACTION,
    EngineNotConfigured,
    EngineWrapper,
    _reset_for_tests,
    bind_data_manager,
    current_sessions,
    get_registry,
    get_session,
    get_wrapped_engine,
    initialize_engine,
    reinit_engine,
    transaction_disabled,
)
from .objects import (
    LIKE_ESCAPE,
    NAMING_CONVENTION,
    CoreObject,
    DeclaredTable,
    UtilityObject,
    _metadata,
    escape_like,
    func_lower,
)
from .request import DbSessionsContainer, register_request_method

__all__ = [
    "DISABLE_TRANSACTION_ENV",
    "LIKE_ESCAPE",
    "NAMING_CONVENTION",
    "SQLASSIST_DISABLE_TRANSACTION",
    "CoreObject",
    "DbSessionsContainer",
    "DeclaredTable",
    "EngineNotConfigured",
    "EngineWrapper",
    "UtilityObject",
    "_metadata",
    "_reset_for_tests",
    "bind_data_manager",
    "current_sessions",
    "escape_like",
    "func_lower",
    "get_registry",
    "get_session",
    "get_wrapped_engine",
    "initialize_engine",
    "register_request_method",
    "reinit_engine",
    "transaction_disabled",
]
