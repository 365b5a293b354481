{#-
  95 % Student t interval of a mean of paired differences (the training courses' knowledge gain:
  post-test - pre-test per participant): mean -+ t(0.975, n - 1) * sd / sqrt(n), NULL below two pairs.
  `t_975` is the quantile for n - 1 degrees of freedom (the t_quantiles seed). `side` is 'lower' or 'upper'.
  Source: any statistics text (e.g. Moore, McCabe & Craig, "Matched pairs t procedures").
-#}
{% macro paired_mean_ci(mean, sd, n, t_975, side) -%}
case when {{ n }} >= 2 then
    {{ mean }} {{ '-' if side == 'lower' else '+' }} {{ t_975 }} * {{ sd }} / sqrt({{ n }})
end
{%- endmacro %}

{% macro paired_mean_se(sd, n) -%}
case when {{ n }} >= 2 then {{ sd }} / sqrt({{ n }}) end
{%- endmacro %}
