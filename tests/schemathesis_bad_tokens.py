"""A schemathesis hook (SCHEMATHESIS_HOOKS): each call sends the next of the bad tokens in
QUARTILE_TEST_BAD_TOKENS (comma-separated), so one run fuzzes every operation with each kind."""

import itertools
import os

import schemathesis

TOKENS = itertools.cycle(os.environ["QUARTILE_TEST_BAD_TOKENS"].split(","))


@schemathesis.hook
def before_call(context, case, kwargs):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {next(TOKENS)}"}
