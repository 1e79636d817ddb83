"""Hostile input against the engine: each is a quick, clear 4xx and the pool keeps answering."""

from __future__ import annotations

import math
import time

import pytest

from config import Config
from errors import BadInput, QuartileError, Unprocessable
from sandbox import LimitedPool, Limits
from solver import service
from tests.equations_fixtures import HOSTILE, hostile_ids, solver_pool


@pytest.fixture(scope="module")
def pool():
    yield from solver_pool()


def assert_pool_answers(pool) -> None:
    answer = service.solve_equations(["2x = 4"], pool=pool)
    assert answer["solutions"][0]["x"]["text"] == "2"


@pytest.mark.parametrize(("text", "status", "message"), HOSTILE, ids=hostile_ids())
def test_hostile_input_is_a_quick_clear_4xx(pool, text, status, message):
    started = time.perf_counter()
    with pytest.raises(QuartileError) as caught:
        service.solve_equations([text], pool=pool)
    elapsed = time.perf_counter() - started
    assert caught.value.status == status
    assert message in caught.value.message
    assert elapsed < 2.0
    assert_pool_answers(pool)


@pytest.mark.parametrize(("text", "status", "message"), HOSTILE[:12], ids=hostile_ids()[:12])
def test_every_entry_point_refuses_it(pool, text, status, message):
    calls = [
        lambda: service.evaluate_expression(text, {}, pool=pool),
        lambda: service.transform_expression("simplify", text, pool=pool),
        lambda: service.numeric_solve([text], None, {}, pool=pool),
        lambda: service.plot_equations([text], [-1, 1], pool=pool),
    ]
    for call in calls:
        with pytest.raises(QuartileError) as caught:
            call()
        assert caught.value.status == status and message in caught.value.message


def test_the_parser_refuses_before_the_pool_is_touched():
    """Hostile text never reaches a worker: a pool that was never started stays so."""
    idle = LimitedPool("never used", size=1)
    for text, _, _ in HOSTILE[:-2]:  # the last two are refused by the worker's exact checks
        with pytest.raises(QuartileError):
            service.solve_equations([text], pool=idle)
    assert idle.worker_pids() == [] and not idle._started


def test_values_are_built_under_the_same_caps(pool):
    with pytest.raises(Unprocessable, match="Exponents are limited to ±1000"):
        service.evaluate_expression("x^y", {"x": 10, "y": 1e6}, pool=pool)
    with pytest.raises(Unprocessable, match="factorial"):
        service.evaluate_expression("factorial(n)", {"n": 10**10}, pool=pool)
    with pytest.raises(Unprocessable, match="digits; the limit is 10,000"):
        service.evaluate_expression("x^1000", {"x": 1e300}, pool=pool)
    assert_pool_answers(pool)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: service.solve_equations("x = 1", pool=p), "'equations' is a list of texts"),
        (lambda p: service.solve_equations([], pool=p), "at least one equation"),
        (lambda p: service.solve_equations(["x"] * 11, pool=p), "At most 10 equations"),
        (lambda p: service.solve_equations([3], pool=p), "must be text, not int"),
        (lambda p: service.solve_equations(["x"], "x", pool=p), "list of variable names"),
        (lambda p: service.solve_equations(["x"], ["y"], pool=p), "no variable named 'y'"),
        (lambda p: service.solve_equations(["x"], ["__x"], pool=p), "is not a variable name"),
        (lambda p: service.solve_equations(["x"], domain="rational", pool=p), "'domain'"),
        (lambda p: service.evaluate_expression("x", {"x": "1"}, pool=p), "must be a number"),
        (lambda p: service.evaluate_expression("x", {"x": True}, pool=p), "must be a number"),
        (lambda p: service.evaluate_expression("x", {"x": math.nan}, pool=p), "finite"),
        (lambda p: service.evaluate_expression("x", {"x": 10**400}, pool=p), "between"),
        (lambda p: service.evaluate_expression("x", {"y": 1}, pool=p), "no variable named 'y'"),
        (lambda p: service.evaluate_expression("x", [1], pool=p), "maps variable names"),
        (lambda p: service.transform_expression("run", "x", pool=p), "Unknown action 'run'"),
        (lambda p: service.transform_expression("diff", "x", pool=p), "Choose one of"),
        (
            lambda p: service.transform_expression("differentiate", "x", order=11, pool=p),
            "from 1 to 10",
        ),
        (
            lambda p: service.transform_expression("integrate", "x", lower="__x", pool=p),
            "may not start with '_'",
        ),
        (lambda p: service.plot_equations(["x"], [1, 1], pool=p), "needs a < b"),
        (lambda p: service.plot_equations(["x"], [0, math.inf], pool=p), "finite"),
        (lambda p: service.plot_equations(["x"], "ab", pool=p), "two numbers"),
        (lambda p: service.plot_equations(["x"], [0, 1], 10**9, pool=p), "pixels"),
        (lambda p: service.plot_equations(["z^2"], [0, 1], pool=p), "also has z"),
    ],
)
def test_malformed_requests_are_refused_in_the_server(call, message):
    idle = LimitedPool("never used", size=1)
    with pytest.raises(BadInput) as caught:
        call(idle)
    assert message in caught.value.message
    assert not idle._started


def test_work_that_overruns_is_stopped_and_the_worker_replaced():
    quick = LimitedPool(
        "equation solver",
        size=1,
        limits=Limits(wall_seconds=0.5, cpu_seconds=5, memory_bytes=service.LIMITS.memory_bytes),
        preload=service.PRELOAD,
    ).start()
    try:
        assert_pool_answers(quick)  # warm: the worker is up
        started = time.perf_counter()
        with pytest.raises(Unprocessable) as caught:
            service.transform_expression("expand", "(x+y+z+w)^40", pool=quick)
        assert time.perf_counter() - started < 2.0
        assert caught.value.code == "time_limit"
        assert caught.value.message == (
            "The equation solver took longer than 0.5 s and was stopped."
        )
        assert quick.replaced == 1
        assert_pool_answers(quick)  # a fresh worker answers
    finally:
        quick.close()


def test_production_limits_are_the_issues(make_app):
    make_app()  # the factory sizes the pool: QUARTILE_SOLVER_WORKERS, by default the cores (1-4)
    assert service.POOL.name == "equation solver"
    assert service.POOL.size == Config().SOLVER_WORKERS
    assert service.LIMITS == Limits(wall_seconds=5.0, cpu_seconds=5, memory_bytes=512 * 2**20)
