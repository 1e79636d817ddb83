# The two commands of the README. Both set up what is missing first (scripts/setup.sh).
.PHONY: run test lint bench worker stack

run:
	@scripts/setup.sh run
	.venv/bin/gunicorn -c gunicorn.conf.py "app:create_app()"

test:
	@scripts/setup.sh test
	.venv/bin/ruff check .
	.venv/bin/pytest -n auto $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check .

worker:
	@scripts/setup.sh run
	.venv/bin/celery -A jobs.celery_app worker --loglevel=info --concurrency=2

bench:
	@scripts/setup.sh run
	.venv/bin/python -m bench

# Two app nodes, a Celery worker, Redis and SeaweedFS on this machine, on your PostgreSQL
# (QUARTILE_DATABASE_URL); see "Running on several machines" in the README.
stack:
	@scripts/setup.sh stack
	.venv/bin/python scripts/stack.py $(STACK_ARGS)
