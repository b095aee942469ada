# pirec: build, test, run and install. `make run` and `make test` each work on a fresh
# Debian 12 machine: they install the system packages first (`make deps`).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SWIFT ?= swift
DESTDIR ?=

# Debian packages the build and the tests need (cc/c++ build the C test plugin and
# compile the ABI header alone).
APT_PACKAGES := pkg-config libpng-dev libyaml-dev libinotifytools0-dev libopenblas-dev gcc g++ libc6-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE := .build/release
PLUGIN_HEADER := Sources/CPirecPlugin/include

.PHONY: deps build test run bench install header-check clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

# The ABI header must stand alone as C and as C++ with every warning an error.
header-check:
	printf '#include "pirec_plugin.h"\nint main(void) { return 0; }\n' | \
	  cc -x c -std=c99 -Wall -Wextra -Werror -pedantic -I $(PLUGIN_HEADER) -o /dev/null -
	printf '#include "pirec_plugin.h"\nint main() { return 0; }\n' | \
	  c++ -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -I $(PLUGIN_HEADER) -o /dev/null -
	@echo "pirec_plugin.h compiles alone as C99 and C++11"

test: deps header-check
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

run: build
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline upscale2 examples -o out/upscale2
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline domains examples -o out/domains
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline photo examples/emoji -o out/photo
	$(RELEASE)/pirec run --config etc/pirec/example.yaml --pipeline sketch examples/sketch -o out/sketch
	@echo "outputs are in $(CURDIR)/out/: upscale2, domains, photo (emoji through PI-REC), sketch (drawn pairs)"

# Classical plugins against scikit-image, OpenCV and Pillow in the same run (needs
# the Python packages in bench/requirements.txt); prints a Markdown table.
bench: build
	python3 bench/classical.py

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pirec/plugins $(DESTDIR)$(PREFIX)/share/doc/pirec \
	  $(DESTDIR)$(PREFIX)/share/pirec/models/emoji
	install -m 644 models/emoji/*.safetensors models/emoji/MODEL_CARD.md $(DESTDIR)$(PREFIX)/share/pirec/models/emoji/
	install -m 755 $(RELEASE)/pirec $(DESTDIR)$(PREFIX)/bin/pirec
	install -m 644 $(RELEASE)/libpirec-*.so $(DESTDIR)$(PREFIX)/lib/pirec/plugins/
	install -m 644 etc/pirec/README.md $(DESTDIR)$(PREFIX)/share/doc/pirec/config.md
	install -d $(DESTDIR)$(SYSCONFDIR)/pirec
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml ]; then \
	  echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml"; \
	else \
	  install -m 644 etc/pirec/pirec.yaml $(DESTDIR)$(SYSCONFDIR)/pirec/pirec.yaml; \
	fi

clean:
	rm -rf .build out
