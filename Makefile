# Potentiel: `make demo` and `make test` work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test sample template bench render clean loadtest fuzz messages

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(VENV)/bin/potentiel score workbooks/portfolio.xlsx -o out/portfolio-scored.xlsx --top 10
	@echo "Scored workbook: out/portfolio-scored.xlsx"

# Exit code 5 means pytest collected no test: that is a failure, never a pass.
test: $(STAMP)
	$(PY) -m pytest --import-mode=importlib -q -p no:cacheprovider tests; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no test"; exit 1; fi; exit $$rc

sample: $(STAMP)
	$(PY) workbooks/build_sample.py

# The Excel template (never edited by hand): rebuild it after changing its script.
template: $(STAMP)
	$(PY) workbooks/build_template.py

# Render the recomputed template to PNG pages in out/render (LibreOffice + pdftoppm).
render: $(STAMP)
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null || \
		{ echo "install LibreOffice and poppler: apt-get install libreoffice-calc poppler-utils"; exit 1; }
	@rm -rf out/render && mkdir -p out/render
	POTENTIEL_RENDER_DIR=out/render $(PY) -m pytest --import-mode=importlib -q -p no:cacheprovider \
		tests/test_template.py -k render
	@ls out/render/*.png

clean:
	rm -rf $(VENV) out build dist *.egg-info

# Benchmarks are not part of `make test`: they measure, they do not assert.
bench: $(STAMP)
	$(PY) benchmarks/run.py

# The server under load: 200 recompute requests of 1,000 accounts, 4 at a time, on
# 127.0.0.1; prints latency percentiles (`make test` sends 24).
loadtest: $(STAMP)
	POTENTIEL_LOADTEST_REQUESTS=200 $(PY) -m pytest --import-mode=importlib -q -s \
		-p no:cacheprovider tests/test_server_hardening.py -k bounded_load

# The property and fuzz tests with ten times the examples (a few minutes).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=long $(PY) -m pytest --import-mode=importlib -q -p no:cacheprovider \
		tests/test_properties.py tests/test_server_hardening.py -k "not bounded_load"

# Extract the user-facing texts into the catalog template and update the French catalog;
# then translate the new entries in core/locale/fr/LC_MESSAGES/potentiel.po (a test fails on
# any untranslated one).
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k ngettext:1,2 --no-location \
		--omit-header -o core/locale/potentiel.pot core plugins
	@test -f core/locale/fr/LC_MESSAGES/potentiel.po || $(VENV)/bin/pybabel init -D potentiel \
		-i core/locale/potentiel.pot -d core/locale -l fr
	$(VENV)/bin/pybabel update -D potentiel -i core/locale/potentiel.pot -d core/locale \
		--no-fuzzy-matching
