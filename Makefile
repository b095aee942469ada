# pirec: build, test, run and install. `make run` and `make test` each work on a fresh
# Debian 12 machine: they install the system packages first (`make deps`).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SWIFT ?= swift
DESTDIR ?=

# Debian packages the build and the tests need (cc/c++ build the C test plugin and
# compile the ABI header alone).
APT_PACKAGES := pkg-config libpng-dev libyaml-dev libopenblas-dev gcc g++ libc6-dev
# Only the tests: a throw-away PostgreSQL server for the shared-queue tests, network
# namespaces (iproute2) to put the hosts across a network link from it, a real browser
# (headless Chromium) to open `pirec report`'s page, and qemu-user to run pirec on CPUs
# without AVX-512 or AVX2 (Tests/PirecCLITests/CPUFallbackTests.swift).
TEST_APT_PACKAGES := postgresql iproute2 chromium qemu-user $(DEB_APT_PACKAGES)
# `make deb` (packaging/deb/build.sh): RUNPATHs, shlibs dependencies and the package check.
DEB_APT_PACKAGES := patchelf dpkg-dev lintian
# The learned upscaler's training data: public-domain clip art and the SVG renderer.
UPSCALER_APT_PACKAGES := openclipart-svg librsvg2-bin

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE := .build/release
PLUGIN_HEADER := Sources/CPirecPlugin/include

.PHONY: deps test-deps deb-deps upscaler-deps upscaler deb build test soak soak-short fuzz fuzz-build fuzz-smoke run demo bench install install-files uninstall header-check system-test clean

deps test-deps deb-deps upscaler-deps:
	@missing=""; for p in $(if $(filter test-deps,$@),$(TEST_APT_PACKAGES),$(if $(filter deb-deps,$@),$(DEB_APT_PACKAGES),$(if $(filter upscaler-deps,$@),$(UPSCALER_APT_PACKAGES),$(APT_PACKAGES)))); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# What `make run` and `make install` ship: Package.swift's products, built one by one (a plain
# `swift build` would also build what only the tests use).
PRODUCTS := $(shell sed -n 's/^ *[.]\(executable\|library\).name: "\([^"]*\)".*/\2/p' Package.swift)

build: deps
	for p in $(PRODUCTS); do $(SWIFT) build -c release --product $$p || exit 1; done

# The ABI header must stand alone as C and as C++ with every warning an error.
header-check:
	printf '#include "pirec_plugin.h"\nint main(void) { return 0; }\n' | \
	  cc -x c -std=c99 -Wall -Wextra -Werror -pedantic -I $(PLUGIN_HEADER) -o /dev/null -
	printf '#include "pirec_plugin.h"\nint main() { return 0; }\n' | \
	  c++ -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -I $(PLUGIN_HEADER) -o /dev/null -
	@echo "pirec_plugin.h compiles alone as C99 and C++11"

# The Prometheus project's Python client parses pirecd's /metrics in the tests.
TEST_PIP_PACKAGES := prometheus-client==0.26.0

test: deps test-deps header-check
	python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q $(TEST_PIP_PACKAGES)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) soak-short
	$(MAKE) fuzz-smoke
	$(MAKE) system-test

# Two minutes of a steady stream with reloads and bad files: no descriptor or thread growth
# (bench/soak.py; `make soak` is the 30-minute run with the RSS check and the plot).
soak-short:
	python3 bench/soak.py --minutes 2 --warm-up 0.75 --rate 2 --reload-every 30 --sample-every 5 \
	  --rss-growth 0 --pirec-dir .build/debug

soak: build
	python3 bench/soak.py --minutes 30 --plot bench/soak.png

# Coverage-guided fuzzing of the parsers that read outside bytes (Sources/PirecFuzzTargets):
# FUZZ_SECONDS per target (Tests/Fuzz/run.sh; RELIABILITY.md has the figures). The plugins
# of the fixed catalog the configuration target checks against are the debug build's.
FUZZ_SECONDS ?= 600
PLUGIN_PRODUCTS := $(filter pirec-%,$(PRODUCTS))
fuzz-build: deps
	for p in $(PLUGIN_PRODUCTS); do $(SWIFT) build --product $$p || exit 1; done
	$(SWIFT) build --build-path .build/fuzz --product pirec-fuzz -Xswiftc -sanitize=fuzzer,address \
	  -Xswiftc -DFUZZER -Xcc -fsanitize=fuzzer-no-link,address,undefined

fuzz: fuzz-build
	bash Tests/Fuzz/run.sh $(FUZZ_SECONDS)

# 20 seconds a target, in `make test`.
fuzz-smoke: fuzz-build
	bash Tests/Fuzz/run.sh 20

# pirecd installed into a Debian 12 container booted with a real systemd (needs root).
system-test:
	bash Tests/system/systemd-test.sh

# The main job: pirecd in the foreground on etc/pirec/local.yaml (folders under ./var/),
# with the bundled examples dropped into its inboxes. Ctrl-C stops it cleanly.
run: build
	@mkdir -p var/inbox/photo var/inbox/sketch var/inbox/upscale var/run
	cp examples/emoji/*.png var/inbox/photo/
	cp examples/sketch/*.png examples/pair/*.png var/inbox/sketch/
	cp examples/*.png var/inbox/upscale/
	@echo "pirecd is starting; results appear in $(CURDIR)/var/outbox/{photo,sketch,upscale}"
	@echo "(failures in var/failed, inputs kept in var/archive, job log var/log/jobs.jsonl); Ctrl-C stops it"
	$(RELEASE)/pirecd --config etc/pirec/local.yaml --control var/run

# The one-shot CLI on the same examples, into ./out/.
demo: build
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline upscale2 examples -o out/upscale2
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline domains examples -o out/domains
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline photo examples/emoji -o out/photo
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline sketch examples/sketch -o out/sketch
	@echo "outputs are in $(CURDIR)/out/: upscale2, domains, photo (emoji through PI-REC), sketch (drawn pairs)"

# Classical plugins against scikit-image, OpenCV and Pillow in the same run (needs
# the Python packages in bench/requirements.txt); prints a Markdown table.
bench: build
	python3 bench/classical.py --rounds 3

# The learned upscaler from scratch (models/upscaler/MODEL_CARD.md): the clip-art data
# (4.5 min), x2 and x4 training (28 and 38 minutes of CPU, the last 8 with generator-styled
# crops; resumable from training/state/), export, and the held-out figures and contact
# sheets through the Swift plugin.
upscaler: build upscaler-deps
	python3 -m pip install -q -r training/requirements.txt
	python3 training/upscaler_dataset.py
	nice -n 19 python3 training/train_upscaler.py --scale 2 --minutes 20
	nice -n 19 python3 training/train_upscaler.py --scale 4 --minutes 30
	nice -n 19 python3 training/train_upscaler.py --scale 2 --minutes 28 --styled 0.2
	nice -n 19 python3 training/train_upscaler.py --scale 4 --minutes 38 --styled 0.2
	python3 training/train_upscaler.py --scale 2 --export models/upscaler/x2.safetensors
	python3 training/train_upscaler.py --scale 4 --export models/upscaler/x4.safetensors
	python3 training/evaluate_upscaler.py --json models/upscaler/heldout.json --sheets models/upscaler

UNITDIR ?= $(PREFIX)/lib/systemd/system

install: build install-files
	sh systemd/install-system.sh $(DESTDIR)
	@echo "installed; start with: systemctl enable --now pirecd"

# The files alone (no build, no user or folders): the systemd test stages the debug build
# this way, and `make deb` its package tree.
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pirec/plugins $(DESTDIR)$(PREFIX)/share/doc/pirec \
	  $(DESTDIR)$(PREFIX)/share/pirec/models/emoji $(DESTDIR)$(PREFIX)/share/pirec/models/upscaler \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/pirec
	install -m 644 models/emoji/*.safetensors models/emoji/MODEL_CARD.md $(DESTDIR)$(PREFIX)/share/pirec/models/emoji/
	install -m 644 models/upscaler/*.safetensors models/upscaler/MODEL_CARD.md $(DESTDIR)$(PREFIX)/share/pirec/models/upscaler/
	install -m 755 $(RELEASE)/pirec $(RELEASE)/pirecd $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(RELEASE)/libpirec-*.so $(DESTDIR)$(PREFIX)/lib/pirec/plugins/
	install -m 644 etc/pirec/README.md $(DESTDIR)$(PREFIX)/share/doc/pirec/config.md
	install -m 644 README.md $(DESTDIR)$(PREFIX)/share/doc/pirec/README.md
	sed 's#/usr/local#$(PREFIX)#g; s#/etc/pirec#$(SYSCONFDIR)/pirec#g' systemd/pirecd.service > $(DESTDIR)$(UNITDIR)/pirecd.service
	sed 's#/usr/local#$(PREFIX)#g; s#/etc/pirec#$(SYSCONFDIR)/pirec#g' systemd/pirecd-metrics.socket > $(DESTDIR)$(UNITDIR)/pirecd-metrics.socket
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml ]; then \
	  echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml"; \
	else \
	  sed 's#/usr/local#$(PREFIX)#g' etc/pirec/pirec.yaml > $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml; \
	fi

# Removes what `make install` put in place; keeps /var/lib/pirec (your files), the pirec
# user, and /etc/pirec/pirec.yaml when you changed it.
uninstall:
	-@[ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && systemctl disable --now pirecd-metrics.socket pirecd.service 2>/dev/null; true
	rm -f $(DESTDIR)$(PREFIX)/bin/pirec $(DESTDIR)$(PREFIX)/bin/pirecd $(DESTDIR)$(UNITDIR)/pirecd.service \
	  $(DESTDIR)$(UNITDIR)/pirecd-metrics.socket
	rm -rf $(DESTDIR)$(PREFIX)/lib/pirec $(DESTDIR)$(PREFIX)/share/pirec $(DESTDIR)$(PREFIX)/share/doc/pirec
	@if sed 's#/usr/local#$(PREFIX)#g' etc/pirec/pirec.yaml | cmp -s - $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml; then \
	  rm -f $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml; rmdir $(DESTDIR)$(SYSCONFDIR)/pirec 2>/dev/null; \
	else echo "keeping $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml (changed, or not ours)"; fi
	-@[ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && systemctl daemon-reload; true
	@echo "left in place: /var/lib/pirec (inputs, outputs, logs) and the pirec user"

# The Debian package pirec_VERSION-1_amd64.deb (self-contained: the Swift runtime inside),
# checked with lintian (packaging/deb/lintian-overrides says why each remaining tag stays).
deb: build deb-deps
	LINTIAN=yes bash packaging/deb/build.sh $(RELEASE) .

clean:
	rm -rf .build out var
