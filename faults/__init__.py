"""Fault and load runs against PostgreSQL: ``python -m faults`` (see ``--help``).

Each request asks the app for one operation, possibly with an injected fault; afterwards the run counts what the
database holds against what each request was promised, connections left checked out or idle in a transaction,
and the responses. The expected result is zero lost, zero partial, zero leaked.
"""
