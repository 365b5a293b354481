{#-
  Which survey waves a build works on. A pipeline run passes its run id (env MIZAN_RUN_ID, set by the dbt
  asset for the dbt process); ingestion records in raw.survey_wave_loads the run that (re)loaded each wave
  (pipelines/ingest/waves.py). The waves of this run are the new work; the others are as the last published
  build left them. Without a run id (a bare `dbt build`), every wave is new work.

  waves_built_now(alias)  a SQL condition on `<alias>.source_id, <alias>.wave_id`: true for the waves this
                          build (re)computes. Used by incremental models and to scope the data tests of the
                          large views to the new waves (their other waves were tested when they were built).
-#}
{% macro current_run_id() -%}
{{ return(env_var('MIZAN_RUN_ID', '')) }}
{%- endmacro %}

{% macro waves_built_now(alias=none) -%}
{%- set p = (alias ~ '.') if alias else '' -%}
{%- if current_run_id() -%}
{#- The waves are read when the model runs and written into the SQL as constants: a constant filter reaches
    the scans below a view's joins (the engine reads a view over every wave), where a subquery would be
    applied only after the whole history was joined. -#}
{%- set waves = [] -%}
{%- if execute -%}
    {%- set loads = run_query(
        "select distinct source_id, wave_id from " ~ source('raw', 'survey_wave_loads')
        ~ " where load_run_id = '" ~ current_run_id() | replace("'", "''") ~ "' order by source_id, wave_id") -%}
    {%- set waves = loads.rows -%}
{%- endif -%}
{%- if waves | length == 0 -%}
1 = 0
{%- else -%}
({% for w in waves %}({{ p }}source_id = '{{ w[0] | replace("'", "''") }}' and {{ p }}wave_id = '{{ w[1] | replace("'", "''") }}'){{ ' or ' if not loop.last }}{% endfor %})
{%- endif -%}
{%- else -%}
1 = 1
{%- endif -%}
{%- endmacro %}


{#-
  dbt's hook for a data test's `where` config, extended: the tests of the models named in the var
  `wave_scoped_test_models` (views over every respondent, whose tests would otherwise recompute the whole
  history each run) see only the waves built now. Their other waves passed the same tests when they were
  built, and a change to the project or the contracts rebuilds and retests everything (full refresh).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set scoped = current_run_id() and relation.identifier in var('wave_scoped_test_models', []) -%}
    {%- if where or scoped -%}
        {%- set conditions = [] -%}
        {%- if where %}{% do conditions.append('(' ~ where ~ ')') %}{% endif -%}
        {%- if scoped %}{% do conditions.append(waves_built_now()) %}{% endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
