"""Imported by each solver worker when it starts (service.PRELOAD): pay first-call costs there.

sympy builds caches and imports solver, printing and polynomial modules lazily, and matplotlib
loads fonts on first draw; without this the first request a fresh worker serves (after start
or after a replacement) would take several times longer than the rest. Importing this module
anywhere else only costs that same small amount of work.
"""

import gc

from solver.worker import warm

warm()
# Out of the collector's sight from here on: no collection pass walks (and so writes to) these
# objects again, which keeps them shared with processes forked from this one (gunicorn.conf.py
# preloads this module in the forkserver that every solver process forks from).
gc.collect()
gc.freeze()
