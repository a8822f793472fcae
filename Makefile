VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test setup setup-test bench bench-audio report-screenshots clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-verify: $(VENV)/.installed
	$(PIP) install -q -e '.[verify]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test,tf]'
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

demo: $(VENV)/.installed-verify
	$(VENV)/bin/microforge demo

test: setup-test
	$(PY) -m pytest -q

bench: setup-test
	$(PY) benchmarks/runtime_throughput.py
	$(PY) benchmarks/c_vs_tflm.py
	$(PY) benchmarks/report_time.py

# the keyword recipe (espeak-ng data, training, streams): about half an hour on 2 cores
bench-audio: setup-test
	nice -n 5 $(PY) benchmarks/audio_train.py

# docs/report-*.png: the HTML reports of person_detect and micro_speech in headless chromium
report-screenshots: setup-test
	$(PY) benchmarks/report_screenshots.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
