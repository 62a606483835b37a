# `make demo` (report on built-in generated data) and `make test`; also `make bench`, `make lint`, `make clean`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

# One stamp per extras set (.installed-core, -test, -vae, -test-vae): switching targets installs only what
# the new set lacks; pip leaves what is already satisfied alone, and the venv is created once.
comma  := ,
extras  = $(if $(filter core,$*),,[$(subst -,$(comma),$*)])

.PHONY: demo test install-test bench lint clean
.PRECIOUS: $(VENV)/.installed-%

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.$(extras)'
	touch $@

# The demo needs the core only: no test tools, no PyTorch.
demo: $(VENV)/.installed-core
	$(BIN)/difficulty demo -o difficulty-demo --force

# The VAE tests run here, never skipped: the vae extra (torch, pinned) is part of the test set.
test: install-test
	$(BIN)/python -m pytest -q

install-test: $(VENV)/.installed-test-vae

bench: $(VENV)/.installed-vae
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) difficulty-demo
