"""Shared by tests/test_equations_*.py: the solver pool, a module-wide app, the hostile inputs.

Each hostile case is (text, status, fragment of the message a person sees). The same table is
run against the engine (test_equations_hostile.py) and through HTTP (test_equations_api.py).
"""

from __future__ import annotations

import shutil

from solver import service

UNKNOWN = "Unknown function"
LIMIT_EXP = "Exponents are limited to ±1000"

HOSTILE: list[tuple[str, int, str]] = [
    ("__import__('os').system('id')", 400, "Names may not start with '_' (column 1)"),
    ("().__class__.__bases__[0].__subclasses__()", 400, "Attribute access ('.' at column 3)"),
    ("x.diff.__globals__", 400, "Attribute access ('.' at column 2)"),
    ("x.real", 400, "Attribute access"),
    ("lambda: 1", 400, "'lambda' (column 1) is a Python keyword"),
    ("[i for i in range(10**9)]", 400, "Indexing and lists ('[' at column 1)"),
    ("9**9**9**9", 422, LIMIT_EXP),
    ("9^9^9^9", 422, LIMIT_EXP),
    ("factorial(10**10)", 422, "factorial() is limited to arguments up to 1000"),
    ("factorial(factorial(7))", 422, "factorial() is limited to arguments up to 1000"),
    ("(" * 10_000 + "x" + ")" * 10_000, 422, "the limit is 2,000"),
    ("(" * 60 + "x" + ")" * 60, 422, "nested more than 50 parentheses deep"),
    ("x" * 1_000_000, 422, "1,000,000 characters long; the limit is 2,000"),
    ("'a'", 400, "Strings are not allowed in an expression"),
    ('"x"', 400, "Strings are not allowed in an expression"),
    ('f"{x}"', 400, "Strings are not allowed in an expression"),
    ("x\uff3f1", 400, "looks like '_'"),  # fullwidth low line
    ("\uff3f\uff3fimport\uff3f\uff3f", 400, "looks like '_'"),
    ("\uff58 + 1", 400, "looks like 'x' but is a different character"),  # fullwidth x
    ("\u0445 + 1", 400, "CYRILLIC SMALL LETTER HA"),
    ("", 400, "The equation 1 is empty"),
    ("   ", 400, "is empty"),
    ("2*(x+1", 400, "Unbalanced parenthesis: the '(' at column 3 is never closed"),
    ("x+1)", 400, "Unexpected ')' at column 4"),
    ("foo(x)", 400, "Unknown function 'foo' at column 1. Allowed: abs, acos"),
    ("globals()", 400, UNKNOWN),
    ('exec("1")', 400, "Strings are not allowed"),
    ("exec(x)", 400, "Unknown function 'exec'"),
    ('eval("1")', 400, "Strings are not allowed"),
    ('open("/etc/passwd")', 400, "Strings are not allowed"),
    ("{1:2}", 400, "Braces"),
    ("x if y else z", 400, "'if' (column 3) is a Python keyword"),
    ("(x:=1)", 400, "':' at column 3 is not allowed"),
    ("*x", 400, "cannot start with '*'"),
    ("x[0]", 400, "Indexing and lists ('[' at column 2)"),
    ("1e999999", 422, "The number at column 1 is too large"),
    ("2**-9**9", 422, LIMIT_EXP),
    ("1" * 200, 422, "The number at column 1 is too large"),
    ("x**(10**6)", 422, LIMIT_EXP),
    ("sin(" * 1000 + "x" + ")" * 1000, 422, "the limit is 2,000"),
    ("sin(" * 51 + "x" + ")" * 51, 422, "nested more than 50 parentheses deep"),
    ("-" * 1500 + "x", 422, "nested more than 50 levels deep"),
    ("import os", 400, "'import' (column 1) is a Python keyword"),
    ("x; y", 400, "';' at column 2"),
    ("x @ y", 400, "'@' at column 3"),
    ("x\x00", 400, "at column 2 is not allowed"),
    ("x = y = 1", 400, "Only one '='"),
    ("2^^3", 400, "not well formed at column 3"),
    ("sqrt(x, y)", 400, "sqrt() at column 1 takes 1 argument, not 2"),
    ("sin x", 400, "'sin' (column 1) is a function: write sin(...)"),
    ("(2^1000)^1000", 422, "digits; the limit is 10,000"),
    ("(10^300)^40", 422, "digits; the limit is 10,000"),
    ("*".join(["10^999"] * 12), 422, "more than 10,000 digits"),  # refused in the worker
    ("x/0", 422, "Division by zero"),  # refused in the worker
]


def hostile_ids() -> list[str]:
    return [f"{n:02d}-{text[:24]!r}" for n, (text, _, _) in enumerate(HOSTILE)]


def solver_pool():
    """The production solver pool (service.POOL), started: a module-scoped fixture yields it.

    Shared with the HTTP tests, so the whole area pays for starting workers once; tests that
    need other limits build their own LimitedPool.
    """
    yield service.POOL.start()


def module_client(sqlite_template, tmp_path_factory, name: str):
    """A test client of one app for a whole module (the equation suites make hundreds of
    requests; an app each is slow). Use with `yield from` in a module-scoped fixture."""
    from app import create_app
    from config import Config
    from store.db import db

    files = tmp_path_factory.mktemp(name)
    database = files / "quartile.sqlite3"
    shutil.copy(sqlite_template, database)
    app = create_app(Config(FILES_DIR=files, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                            SECRET_KEY="test-secret", TESTING=True, WTF_CSRF_ENABLED=False,
                            AUTH="off"))
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
