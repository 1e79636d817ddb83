"""Safe equation solving: our own parser (parser.py) and the pure computations the solver's
workers run (actions, fitting). The server-side entry points, the worker pool and the worker's
task module, which composes these computations with rendition's drawing, live in `solver/`.
"""
