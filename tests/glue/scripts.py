"""Scripts run as subprocesses by ``test_owner.py``: the shapes Pyramid apps' own scripts have.

``python -m tests.glue.scripts INI MODE``; exits 0 when the script body finished, 3 when it raised.
"""

from __future__ import annotations

import sys

from pyramid.paster import bootstrap


def main(ini: str, mode: str) -> int:
    if mode == "cookiecutter":  # pyramid-cookiecutter-starter's initialize_db shape
        env = bootstrap(ini)
        try:
            with env["request"].tm:
                env["request"].dal.notes.add(1, "initial")
        finally:
            env["closer"]()
        return 0
    with bootstrap(ini) as env:
        request = env["request"]
        try:
            if mode == "tm-commit":
                with request.tm:
                    request.dal.notes.add(2, "committed by with request.tm")
            elif mode == "tm-raise":
                with request.tm:
                    request.dal.notes.add(3, "then the script fails")
                    raise RuntimeError("script failed after writing")
            elif mode == "no-tm":
                request.dal.notes.add(4, "written without a transaction")
                request.polydatum_context.db.writer.flush()
            elif mode == "no-tm-raise":
                request.dal.notes.get(1)  # reads need no transaction
                request.dal.notes.add(5, "written without a transaction, then the script fails")
                raise RuntimeError("script failed after writing")
        except Exception as error:
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
