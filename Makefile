# mizan — two entry points for a fresh machine (README "Quick start"):
#   make demo   set up, write the synthetic demo data, run the pipeline, serve the dashboard
#   make test   set up, run every test
# Setup installs uv with pip when it is missing, then the locked environment (uv.lock), then builds
# dbt's manifest with `dbt parse` (dagster-dbt needs it before the definitions import).
# --compile-bytecode writes every package's .pyc once at install (about 15 s on 2 cores): where Python may not
# write them itself (PYTHONDONTWRITEBYTECODE, read-only venv) each process otherwise compiles Dagster, dbt and
# the rest again from source, 5-10 s per `mizan` command, dbt subprocess and test worker.

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: setup demo test run dashboard dev benchmark translations

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
	$(UV) sync --frozen --compile-bytecode
	$(UV) run python -m pipelines.manifest
	$(UV) run python -m dashboards.i18n compile

demo: setup
	$(UV) run mizan demo

test: setup
	$(UV) run pytest -q -n auto

run: setup
	$(UV) run mizan run --data-dir $(DATA_DIR)

dashboard: setup
	$(UV) run mizan dashboard

dev: setup
	mkdir -p .dagster_home && cp pipelines/dagster_home/dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(UV) run dg dev

benchmark: setup
	$(UV) run python benchmarks/pipeline.py

# The dashboard's gettext catalogs (docs/translations.md): extract every _("…") of dashboards/ into the
# template and merge it into each language's .po; then translate the new msgstr entries and run `make setup`.
translations:
	$(UV) run pybabel extract -F babel.cfg -o dashboards/locale/mizan.pot --project=mizan --no-wrap --no-location --sort-output .
	$(UV) run pybabel update -D mizan -i dashboards/locale/mizan.pot -d dashboards/locale --no-wrap --ignore-obsolete --ignore-pot-creation-date
	$(UV) run python -m dashboards.i18n compile
