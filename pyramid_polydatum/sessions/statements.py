"""The reader's statement filter: SQL that could lift read-only is refused before it is sent.

A read-only transaction is only as strong as the statements that cannot end or change it. On a reader
connection this filter refuses, before the driver sends anything:

- more than one statement in one string (``COMMIT; INSERT ...``): the statements after the first would run
  after a COMMIT the library never saw;
- transaction control (``BEGIN``, ``START TRANSACTION``, ``COMMIT``, ``ROLLBACK``, ``END``, ``ABORT``,
  ``PREPARE TRANSACTION``, ``XA ...``); savepoints (``SAVEPOINT``, ``RELEASE``, ``ROLLBACK TO``) stay allowed,
  SQLAlchemy's ``begin_nested()`` uses them and they cannot lift read-only;
- ``SET`` statements that touch the transaction or read-only state (``SET TRANSACTION READ WRITE``, ``SET SESSION
  CHARACTERISTICS AS TRANSACTION ...``, ``SET default_transaction_read_only``, ``SET SESSION TRANSACTION ...``,
  ``SET autocommit``, ``SET @@transaction_read_only``), and PostgreSQL's ``set_config(...read_only...)``;
- SQLite ``PRAGMA query_only`` and any ``PRAGMA name = value`` assignment.

It is cheap for ordinary reads: one ``';' in statement`` test, the first keyword, and a substring test; a
scanner (skipping quoted strings and comments) runs only when a semicolon is present. It does not parse SQL: the
database's own read-only state (a session default and a read-only transaction) stays the wall it backs up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import ReadOnlySessionError

#: Statements the library itself sends on reader connections (they make it read-only; never refused).
OWN_STATEMENTS = frozenset({"SET TRANSACTION READ ONLY", "SET SESSION TRANSACTION READ ONLY"})

_TRANSACTION_CONTROL = frozenset({"BEGIN", "START", "COMMIT", "ROLLBACK", "END", "ABORT", "XA", "PREPARE"})
_SET_WORDS = re.compile(
    r"TRANSACTION|READ[\s_]*ONLY|READ\s+WRITE|CHARACTERISTICS|AUTOCOMMIT|TX_READ_ONLY|QUERY_ONLY", re.IGNORECASE
)
_SET_CONFIG = re.compile(r"set_config\s*\(.*read_only", re.IGNORECASE | re.DOTALL)
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z]+)", re.DOTALL)


def unsafe(statement: str) -> str | None:
    """What makes ``statement`` unsafe on a reader connection, or None."""
    if statement in OWN_STATEMENTS:
        return None
    if ";" in statement and _has_second_statement(statement):
        return "more than one statement in one string"
    word, end = _first_word(statement)
    if word in _TRANSACTION_CONTROL:
        if word == "ROLLBACK" and _ROLLBACK_TO.match(statement, end):
            return None
        return f"transaction control ({word})"
    if word == "SET" and _SET_WORDS.search(statement):
        return "a SET statement that changes the transaction or read-only state"
    if word == "SELECT" or word == "WITH":
        if ("_c" in statement or "_C" in statement) and _SET_CONFIG.search(statement):
            return "set_config() of a read-only setting"
        return None
    if word == "PRAGMA" and ("=" in statement or "query_only" in statement.lower()):
        return "a PRAGMA assignment (query_only)"
    if word == "":
        return "a statement that does not start with a keyword"
    if ("_c" in statement or "_C" in statement) and _SET_CONFIG.search(statement):
        return "set_config() of a read-only setting"
    return None


#: verdicts kept per filter: SQLAlchemy sends the same compiled statement strings again and again
_VERDICTS_KEPT = 2048


def statement_filter(engine_name: str) -> Callable[..., None]:
    """A ``before_cursor_execute`` listener that refuses unsafe statements on the engine ``engine_name``.

    Safe statements are remembered (a bounded dictionary, emptied when full), so a statement seen before costs one
    dictionary lookup; only the verdict "safe" is kept, so an unsafe one is judged, and refused, every time.
    """
    safe: dict[str, bool] = {}

    def refuse_unsafe_statement(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement in safe:
            return
        what = unsafe(statement)
        if what is None:
            if len(safe) >= _VERDICTS_KEPT:
                safe.clear()
            safe[statement] = True
        else:
            raise ReadOnlySessionError(
                f"the {engine_name!r} engine is read-only: refusing {what} before sending it; "
                "use the writer session for writes"
            )

    return refuse_unsafe_statement


_ROLLBACK_TO = re.compile(r"\s+(?:WORK\s+|TRANSACTION\s+)?TO\b", re.IGNORECASE)


def _skip_space_and_comments(sql: str, i: int) -> int:
    """The index of the first character at or after ``i`` that is not whitespace, ``(``, ``;`` or a comment.

    ``/* */`` comments nest, as PostgreSQL reads them.
    """
    n = len(sql)
    while i < n:
        c = sql[i]
        if c.isspace() or c in "(;":
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
            if i < 0:
                return -1
        else:
            return i
    return n


def _skip_block_comment(sql: str, i: int) -> int:
    """The index after the ``/* */`` comment starting at ``i``, or -1 when dialects would read it differently.

    PostgreSQL nests comments, MySQL does not and executes ``/*! ... */``: a nested, executable or unterminated
    comment is not skipped but reported (-1), and the statement refused.
    """
    if sql.startswith("/*!", i) or sql.startswith("/*+", i):
        return -1
    end = sql.find("*/", i + 2)
    if end == -1 or "/*" in sql[i + 2:end]:
        return -1
    return end + 2


def _first_word(sql: str) -> tuple[str, int]:
    """The first keyword (upper case) and where it ends; ``""`` when the statement starts otherwise.

    Statements that start with a keyword (all of SQLAlchemy's) take one regex match; only a leading blank,
    comment or parenthesis takes the slower skip.
    """
    match = _WORD.match(sql)
    if match is None:
        i = _skip_space_and_comments(sql, 0)
        if i < 0:
            return "", 0
        if i == len(sql):
            return "-", i  # nothing but blanks and comments: nothing to refuse
        match = _WORD.match(sql, i)
        if match is None:
            return "", i
    return match.group(0).upper(), match.end()


_WORD = re.compile(r"[A-Za-z_]+")


def _has_second_statement(sql: str) -> bool:
    """True when ``sql`` has a semicolon followed by more SQL, outside quotes and comments.

    Conservative where dialects read a string differently (a backslash inside it, an unterminated quote): then
    any semicolon after the string counts.
    """
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            end = sql.find(c, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == c:  # a doubled quote inside the string
                end = sql.find(c, end + 2)
            if end == -1 or "\\" in sql[i:end]:
                return ";" in sql[i:]
            i = end + 1
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
        elif c == "/" and sql.startswith("/*", i):
            end = _skip_block_comment(sql, i)
            if end < 0:
                return ";" in sql[i:]
            i = end
        elif c == "$":
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1
                continue
            end = sql.find(tag.group(0), tag.end())
            if end == -1:
                return ";" in sql[i:]
            i = end + len(tag.group(0))
        elif c == ";":
            return _skip_space_and_comments(sql, i + 1) != n
        else:
            i += 1
    return False


_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")
