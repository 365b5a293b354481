-- Change of every indicator between consecutive waves of a source (macros/survey_change.sql: difference,
-- SE for independent samples, t interval on min(df), significance; no numbers where a cell is suppressed).
{{ survey_change(ref('fct_service_indicators'), ref('dim_wave')) }}
