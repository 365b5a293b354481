{#-
  Use a model's custom schema as-is (`staging`, `intermediate`, `marts`, `seeds`), not dbt's default
  `<target_schema>_<custom>`: the dashboards and Dagster read `marts.fct_service_indicators`.
  Nodes without a custom schema land in the target schema (`main`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
