# Benchmark tools (issue 9). The main Makefile's `bench` target runs `python -m bench.run`;
# this fragment adds its prerequisites: wrk from Debian's packages and a pinned tool venv
# (.tools/bench) with locust and py-spy, kept out of the project's own dependencies.

LOCUST_VERSION ?= 2.47.0
PYSPY_VERSION ?= 0.4.3
BENCH_TOOLS := $(TOOLS)/bench

.PHONY: bench-tools bench-tiny bench-profile

bench: bench-tools

$(BENCH_TOOLS)/.installed: mk/bench.mk
	$(PYTHON) -m venv $(BENCH_TOOLS)
	$(BENCH_TOOLS)/bin/pip install --quiet "locust==$(LOCUST_VERSION)" "py-spy==$(PYSPY_VERSION)"
	@touch $@

bench-tools: $(BENCH_TOOLS)/.installed ## wrk (Debian) and locust + py-spy (.tools/bench) for the benchmark
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get install -y -q wrk || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q wrk; }; }

bench-tiny: setup bench-tools ## The benchmark on a tiny load (checks the harness, not the figures)
	$(RUN) python -m bench.run --tiny --out .township/bench-tiny

bench-profile: setup bench-tools ## The benchmark with py-spy profiles of the hot phases (bench/results/profiles)
	$(RUN) python -m bench.run --pyspy
