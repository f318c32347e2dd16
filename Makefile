.PHONY: help install deck test lint format bench

help:  ## show this help
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install:  ## create .venv with the tool and its test dependencies
	python3 -m venv .venv && .venv/bin/pip install -e '.[test,dev]'

deck:  ## build the bundled Keras deck
	.venv/bin/python build_deck.py

test:  ## run the test suite
	.venv/bin/python -m pytest

lint:  ## ruff checks and formatting
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:  ## reformat the code
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench:  ## run the benchmark (10,000 synthetic cards)
	.venv/bin/python bench/benchmark.py
