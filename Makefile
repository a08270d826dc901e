# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test demo lint bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

demo: setup
	$(BIN)/nie demo

lint: setup
	$(BIN)/python -m pip install --quiet ruff==0.17.5
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/synth_throughput.py
	$(BIN)/python bench/depth_pipeline.py
	$(BIN)/python bench/keypoints_throughput.py
	$(BIN)/python bench/keypoints_augment.py
	$(BIN)/python bench/predict_folder.py
	$(BIN)/python bench/classifier_inference.py
	$(BIN)/python bench/colour_jitter.py
	$(BIN)/python bench/fill_latency.py
	$(BIN)/python bench/backends.py
	$(BIN)/python bench/big_photo.py
	$(BIN)/python bench/summary.py

clean:
	rm -rf $(VENV) build *.egg-info
