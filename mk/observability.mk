# Observability tooling (dashboards, alerting/SLO rules): see docs/operate.md.
# Included by the top-level Makefile (`-include mk/*.mk`).
# promtool ships only in Debian's `prometheus` package, which also brings the server: on a
# host with systemd it starts one on :9090 (`systemctl disable --now prometheus` if unwanted;
# containers and CI have no init that starts it).

.PHONY: observability-tools observability-dashboards observability-check

observability-tools: ## Install promtool (Debian package `prometheus`) when it is missing
	@command -v promtool >/dev/null 2>&1 || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus)
	@command -v promtool >/dev/null 2>&1 || { echo "observability-tools: promtool is still missing" >&2; exit 1; }
	@promtool --version 2>&1 | head -n 1

observability-dashboards: setup ## Regenerate deploy/observability/dashboards/*.json
	$(RUN) python deploy/observability/build_dashboards.py

observability-check: setup observability-tools ## promtool check/test rules + dashboard/PromQL tests
	$(RUN) pytest tests/observability -q $(PYTEST_ARGS)
