{#- Fails for every row where the SQL boolean `expression` is false (NULL counts as passing). -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
