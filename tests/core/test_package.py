"""The public names and the promise that the core never imports Pyramid."""

import subprocess
import sys

import pyramid_polydatum

POLYDATUM_091_NAMES = [
    "DataManager", "DataAccessLayer", "DataAccessContext", "Service", "Resource", "ValueResource", "Meta",
    "PolydatumException", "NotFound", "AlreadyExistsException", "MiddlewareSetupException",
    "ResourceSetupException", "InvalidMiddleware",
]


def test_polydatum_names_are_importable_from_the_package():
    for name in POLYDATUM_091_NAMES:
        assert hasattr(pyramid_polydatum, name), name
    assert pyramid_polydatum.Context is pyramid_polydatum.DataAccessContext
    for name in POLYDATUM_091_NAMES[7:]:
        assert issubclass(getattr(pyramid_polydatum, name), pyramid_polydatum.PolydatumException) or (
            name == "PolydatumException"
        )


def test_importing_the_core_does_not_import_pyramid():
    code = (
        "import sys, pyramid_polydatum, pyramid_polydatum.core; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pyramid', 'sqlalchemy', 'transaction')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_ships_py_typed():
    from importlib.resources import files

    assert files("pyramid_polydatum").joinpath("py.typed").is_file()


def test_polydatum_error_hierarchy_is_kept():
    from pyramid_polydatum import (
        ErrorsOnClose,
        MiddlewareException,
        MiddlewareSetupException,
        NotFound,
        ResourceException,
        ResourceSetupException,
        ServiceError,
    )

    assert issubclass(NotFound, ServiceError) and NotFound.code == 404 and ServiceError.code == 500
    assert issubclass(MiddlewareSetupException, MiddlewareException)
    assert issubclass(ResourceSetupException, ResourceException)
    error = ErrorsOnClose("closing failed", [ValueError("a")])
    assert error.exceptions[0].args == ("a",) and "closing failed" in str(error)


def test_polydatum_context_hooks_are_called_in_order():
    from pyramid_polydatum import DataAccessContext, DataManager

    calls = []

    class HookedContext(DataAccessContext):
        def _setup_hook(self):
            calls.append("setup")

        def _teardown_hook(self, exception):
            calls.append(("teardown", type(exception).__name__))

        def _final_hook(self, exception):
            calls.append(("final", self.data_manager.get_active_context()))
            raise OSError("hook failed")

    def db(ctx):
        try:
            yield "db"
        finally:
            calls.append("db teardown")

    dm = DataManager(context_class=HookedContext).register_resources(db=db)
    try:
        with dm.context() as ctx:
            ctx.db
            raise KeyError("k")
    except KeyError:
        pass
    assert calls == ["setup", ("teardown", "KeyError"), "db teardown", ("final", None)]
    assert [e[0] for e in ctx.get_resource_exit_errors()] == [OSError]


def test_a_service_may_assign_its_dal_as_in_polydatum():
    from pyramid_polydatum import DataManager, Service

    class Custom(Service):
        def setup(self, data_manager):
            super().setup(data_manager)
            self._dal = "custom dal"

    service = Custom()
    dm = DataManager().register_services(custom=service)
    assert service._dal == "custom dal"
    assert Service()._dal is None
    dm.replace_service("custom", Service())
