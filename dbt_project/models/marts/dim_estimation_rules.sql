-- The estimation rules this snapshot was built with (dbt vars in dbt_project.yml, the one place to change
-- them): one row. Dashboards print rule_text on every screen and in every download, so a number is never
-- shown without the rule that made or hid it.
{%- set min_n = var('suppression_min_n', 30) %}
{%- set min_n_eff = var('suppression_min_n_eff', 30) %}
{%- set max_width = var('unreliable_ci_width', 0.30) %}
{%- set max_rel_width = var('unreliable_relative_width', 1.30) %}
{%- set single_psu = var('single_psu_rule', 'skip') %}
{%- set extreme = var('extreme_weight_ratio', 10) %}
select
    0.95::double as confidence_level,
    {{ min_n }}::integer as suppression_min_n,
    {{ min_n_eff }}::double as suppression_min_n_eff,
    {{ max_width }}::double as unreliable_ci_width,
    {{ max_rel_width }}::double as unreliable_relative_width,
    '{{ single_psu }}'::varchar as default_single_psu_rule,
    {{ extreme }}::double as extreme_weight_ratio,
    'Suppression rule: an estimate is suppressed (not shown) when its unweighted n < {{ min_n }} or its '
    || 'effective n < {{ min_n_eff }}, when no sampling variance can be estimated, or to protect another '
    || 'suppressed cell (complementary suppression); it is flagged unreliable when its 95% confidence '
    || 'interval is {{ (max_width * 100) | round | int }} percentage points wide or more, or wider than '
    || '{{ (max_rel_width * 100) | round | int }}% of the estimate (NCHS 2017 style).' as rule_text
