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
