{#-
  THE survey estimation engine of mizan: every indicator estimate goes through this macro (formulas and
  sources in docs/methodology.md). Design-based ratio estimator with
  Taylor-linearised variance, domains that keep every PSU, item non-response as a domain exclusion,
  t-based, logit or Korn-Graubard confidence intervals and NCHS-style suppression flags. Reproduces samplics
  TaylorEstimator(param=prop|mean).estimate(y, samp_weight, stratum, psu, domain,
  single_psu=SinglePSUEst.skip) to floating-point precision (tests/dbt/).

  survey_estimates(observations, strata, design_keys=['source_id', 'wave_id'],
                   domain_keys=['indicator_id', 'governorate_pcode', 'disaggregation', 'disaggregation_value'],
                   t_quantiles=none)

  observations  relation (or CTE name): one row per unit x domain it belongs to. Columns:
                  <design_keys>, <domain_keys>   non-NULL; design_keys identify the survey wave (the design),
                                                 design_keys + domain_keys identify one estimate
                  estimate_type                  'proportion' | 'mean' (constant within an estimate)
                  ci_method                      'logit' | 'korn_graubard' | 't' (constant within an estimate)
                  stratum, psu                   VARIANCE stratum and PSU (PSU nested in stratum), i.e. after
                                                 the design's single-PSU rule (int_survey_design_units)
                  weight                         final weight > 0
                  y                              0/1 (proportion) or the value (mean); NULL when not answered
                  value_min, value_max           DOUBLE or NULL: the range y can take (a mean's interval is
                                                 clipped to it; e.g. 0-24 hours/day); ignored for proportions
                  is_answered                    y is a substantive answer (in the estimation domain)
                  is_nonresponse                 don't know / refused (counted in excluded_share only)
                A unit absent from a domain has score 0 there; its PSU still counts through `strata`.
  strata        relation: one row per <design_keys> x stratum with n_psu = number of PSUs of that stratum
                over the WHOLE survey wave (every respondent, whatever they answered). Degrees of freedom
                = sum(n_psu) - count(strata) per wave.
  t_quantiles   relation with (df, t_975), default ref('t_quantiles') (seed, df 1..1000); df > 1000 uses
                the Cornish-Fisher expansion of the t quantile (error < 1e-15 there).

  Output: one row per <design_keys> x <domain_keys> present in `observations`, with
    estimate_type, ci_method (method actually used: logit | korn_graubard | t | clopper_pearson_neff;
    NULL without CI), ci_method_requested, estimate, variance, std_error, degrees_of_freedom, t_quantile,
    ci_lower, ci_upper, n_domain, n_unweighted, n_nonresponse, n_effective, sum_weight, design_effect,
    excluded_share, n_psu_domain, n_strata_domain, n_singleton_strata_domain, weight_ratio_max_median,
    is_suppressed, suppression_reason, is_unreliable.

  Method (D = answered units of the domain; w weights; everything per estimate):
    estimate   p = sum_D(w y) / sum_D(w)   (proportions with all y = 0 / all y = 1 are set to exactly 0 / 1)
    scores     z_i = w_i (y_i - p) / sum_D(w) for i in D, 0 outside D; z_hi = PSU totals, computed from the
               PSU's sufficient statistics as (sum_hi w y - p sum_hi w) / sum_D(w)
    variance   V = sum_h n_h/(n_h-1) * sum_i (z_hi - zbar_h)^2, computed sparsely as
               sum_i z_hi^2 - (sum_i z_hi)^2 / n_h (PSUs without a domain member have z_hi = 0);
               strata with n_h = 1 contribute 0 (samplics SinglePSUEst.skip); with replacement, no fpc.
    std_error  sqrt(V); variance, std_error and design_effect are NULL when df <= 0 (not estimable). A V
               within rounding of 0 (sqrt(V) < 1e-12 max(|p|, 1)) is 0.
    n_unweighted = |D|;  n_effective = (sum_D w)^2 / sum_D w^2 (Kish)
    design_effect  V / (s2 / n_unweighted) with s2 = p(1-p) for proportions and, for means, the weighted
               population variance s2 = sum_D w (y - p)^2 / sum_D w = sum_D w y^2 / sum_D w - p^2 (no n/(n-1)
               factor, so that the two coincide for 0/1 data; exactly 0 when all answers are equal); NULL
               when s2 = 0 (up to rounding: s2 <= (1e-12 max(|p|, 1))^2).
  Cost: three grouped passes over `observations` (domain x PSU sums; domain facts; domain x weight counts for
    the median weight),
    then work on PSU rows only: memory follows the number of domain x PSU cells, not of units.
    excluded_share = sum(w | don't know/refused) / sum(w | substantive or don't know/refused), domain units.
               NULL when no unit of the domain gave either (e.g. all skipped by the form).
    n_psu_domain, n_strata_domain  PSUs and strata holding at least one unit of D;
    n_singleton_strata_domain      of those strata, how many have one PSU in the wave (they add no variance)
    weight_ratio_max_median        max_D(w) / median_D(w) (extreme weights: docs/methodology.md)
    CI (95 %)  t = t_{0.975, df}, df = #PSU - #strata of the wave.
               proportion, ci_method logit, 0 < p < 1: logit(p) -/+ t SE / (p(1-p)), back-transformed
                 (samplics, SUDAAN); p = 0: [0, 1 - 0.025^(1/n_eff)]; p = 1: [0.025^(1/n_eff), 1]
                 (Clopper-Pearson with x = 0 or x = n at the Kish effective sample size);
               proportion, ci_method korn_graubard (Korn & Graubard 1998; R survey::svyciprop(method =
                 "beta")): n* = p(1-p)/V * (t_{0.975, n-1} / t_{0.975, df})^2 (n = n_unweighted; no
                 df adjustment when n < 2), x* = n* p, [Beta^-1(0.025; x*, n* - x* + 1),
                 Beta^-1(0.975; x* + 1, n* - x*)]; p = 0 or 1 (V = 0): n* from the Kish effective n
                 instead of p(1-p)/V, bound 0 or 1 on the side of the estimate;
               proportion, ci_method t: p -/+ t SE clipped to [0, 1];
               mean: p -/+ t SE clipped to [value_min, value_max] where given;
               df <= 0 or no answers: NULL.
    is_suppressed  n_unweighted < var suppression_min_n, or n_effective < var suppression_min_n_eff, or
               no answers, or df <= 0, or SE = 0 for an estimate that is not a boundary proportion (no
               sampling variance: the domain's PSUs all sit in single-PSU strata, or nobody varies; such a
               cell has no CI); suppression_reason lists every reason, '; '-separated.
               CI bounds are clamped to contain the estimate (rounding of the logit back-transform).
    is_unreliable  no CI; or proportion with CI width >= var unreliable_ci_width; or width / |estimate| >
               var unreliable_relative_width (an estimate of 0 with a CI of positive width counts as
               infinitely wide); or SE = 0 for an estimate that is not a boundary proportion (0 or 1),
               i.e. no sampling variance could be estimated.
-#}
{% macro survey_estimates(
        observations,
        strata,
        design_keys=['source_id', 'wave_id'],
        domain_keys=['indicator_id', 'governorate_pcode', 'disaggregation', 'disaggregation_value'],
        t_quantiles=none) -%}
{%- set tq = t_quantiles if t_quantiles is not none else ref('t_quantiles') -%}
{%- set keys = design_keys + domain_keys -%}
{%- set key_list = keys | join(', ') -%}
{%- set design_list = design_keys | join(', ') -%}
{%- set s_design = [] -%}
{%- for k in design_keys %}{% do s_design.append('s.' ~ k) %}{% endfor -%}
{%- set min_n = var('suppression_min_n', 30) -%}
{%- set min_n_eff = var('suppression_min_n_eff', 30) -%}
{%- set max_width = var('unreliable_ci_width', 0.30) -%}
{%- set max_rel_width = var('unreliable_relative_width', 1.30) -%}
with

_se_obs as not materialized (
    select
        {{ key_list }},
        estimate_type,
        ci_method,
        stratum,
        psu,
        cast(weight as double) as weight,
        cast(y as double) as y,
        cast(value_min as double) as value_min,
        cast(value_max as double) as value_max,
        coalesce(is_answered, false) and y is not null as is_answered,
        coalesce(is_nonresponse, false) as is_nonresponse
    from {{ observations }}
),

-- weight and y of the answered units (D), NULL for every other unit of the domain
_se_units as not materialized (
    select
        *,
        case when is_answered then weight end as weight_d,
        case when is_answered then y end as y_d
    from _se_obs
),

-- Stage 1: the sufficient statistics of the domain's PSUs. The linearised PSU score is
-- z_hi = (sum_hi w y - p sum_hi w) / sum_D w, the same total as summing w (y - p) / sum_D w unit by unit, so
-- the variance below works on these PSU rows and never goes back to the units. PSUs without an answered
-- unit (sum NULL) have z = 0 and are left out.
_se_psu as (
    select
        {{ key_list }},
        stratum,
        psu,
        sum(weight_d) as sum_w,
        sum(weight_d * y_d) as sum_w_y
    from _se_units
    group by {{ key_list }}, stratum, psu
),

-- the domain's unit-level facts, in a second pass of the same kind: counts and weighted sums of the answered
-- units (for the estimate, Kish's n_eff and a mean's unit variance), the median weight, don't know / refused
_se_domain as (
    select
        {{ key_list }},
        any_value(estimate_type) as estimate_type,
        any_value(ci_method) as ci_method_requested,
        min(value_min) as value_min,
        max(value_max) as value_max,
        count(*) as n_domain,
        count(weight_d) as n_unweighted,
        count(case when is_nonresponse then 1 end) as n_nonresponse,
        sum(weight_d) as sum_weight,
        sum(weight_d * weight_d) as sum_weight_sq,
        sum(weight_d * y_d) as sum_weight_y,
        sum(weight_d * y_d * y_d) as sum_weight_y_sq,
        min(y_d) as min_y,
        max(y_d) as max_y,
        max(weight_d) as max_weight_d,
        sum(case when is_nonresponse then weight end) as sum_weight_nonresponse,
        sum(case when is_answered or is_nonresponse then weight end) as sum_weight_asked
    from _se_units
    group by {{ key_list }}
),

-- The median weight of the domain's answered units, from how many units carry each weight. A median
-- aggregate keeps every value of every domain in memory at once and cannot spill to disk (at 300,000
-- respondents it alone passed a 1.5 GB limit); weights repeat (one per stratum, or a few after calibration),
-- so this frequency table is small, and its grouping spills when it is not. Same value as median(): the mean
-- of the two middle values for an even count, written lo + (hi - lo) * 0.5 as DuckDB interpolates.
_se_weight_freq as (
    select
        {{ key_list }},
        weight_d,
        count(*) as n_w
    from _se_units
    where weight_d is not null
    group by {{ key_list }}, weight_d
),

_se_weight_cum as (
    select
        *,
        sum(n_w) over (partition by {{ key_list }} order by weight_d rows between unbounded preceding and current row) as cum_n,
        sum(n_w) over (partition by {{ key_list }}) as total_n
    from _se_weight_freq
),

_se_weight_middle as (
    select
        {{ key_list }},
        -- the values at positions floor((n + 1) / 2) and floor(n / 2) + 1 of the sorted weights
        min(case when cum_n >= floor((total_n + 1) / 2.0) then weight_d end) as lower_middle,
        min(case when cum_n >= floor(total_n / 2.0) + 1 then weight_d end) as upper_middle
    from _se_weight_cum
    group by {{ key_list }}
),

_se_point as (
    select
        d.*,
        d.max_weight_d / (m.lower_middle + (m.upper_middle - m.lower_middle) * 0.5) as weight_ratio_max_median,
        d.min_y = d.max_y as y_constant,
        case
            when d.n_unweighted = 0 then null
            -- y is 0/1: all ones or all zeros
            when d.estimate_type = 'proportion' and d.min_y = 1 and d.max_y = 1 then 1.0
            when d.estimate_type = 'proportion' and d.min_y = 0 and d.max_y = 0 then 0.0
            else d.sum_weight_y / d.sum_weight
        end as estimate
    from _se_domain as d
    left join _se_weight_middle as m using ({{ key_list }})
),

-- Stage 2: per stratum, the sums of the domain's PSU scores z_hi (PSUs without an answered unit have z = 0)
_se_stratum as (
    select
        {% for k in keys %}s.{{ k }}, {% endfor %}
        s.stratum,
        count(*) as n_psu_in_domain,
        -- (no ORDER BY inside these sums: DuckDB's ordered aggregates cannot spill to disk)
        sum((s.sum_w_y - p.estimate * s.sum_w) / p.sum_weight) as sum_z,
        sum(((s.sum_w_y - p.estimate * s.sum_w) / p.sum_weight) * ((s.sum_w_y - p.estimate * s.sum_w) / p.sum_weight)) as sum_z_sq
    from _se_psu as s
    inner join _se_point as p using ({{ key_list }})
    where s.sum_w is not null
    group by {% for k in keys %}s.{{ k }}, {% endfor %}s.stratum
),

_se_variance as (
    select
        {% for k in keys %}s.{{ k }}, {% endfor %}
        sum(
            case
                when st.n_psu is null then {{ mizan_raise(
                    "'survey_estimates: stratum ' || s.stratum || ' of ' || concat_ws('/', "
                    ~ (s_design | join(', ')) ~ ") || ' is missing from the strata relation'") }}
                when st.n_psu > 1 then cast(st.n_psu as double) / (st.n_psu - 1) * (s.sum_z_sq - s.sum_z * s.sum_z / cast(st.n_psu as double))
                else 0.0
            end
        ) as variance_raw,
        sum(s.n_psu_in_domain) as n_psu_domain,
        count(*) as n_strata_domain,
        count(case when st.n_psu = 1 then 1 end) as n_singleton_strata_domain
    from _se_stratum as s
    left join {{ strata }} as st
        on {% for k in design_keys %}st.{{ k }} = s.{{ k }} and {% endfor %}st.stratum = s.stratum
    group by {% for k in keys %}s.{{ k }}{{ ', ' if not loop.last }}{% endfor %}
),

_se_design as (
    select
        {{ design_list }},
        cast(sum(n_psu) - count(*) as bigint) as degrees_of_freedom
    from {{ strata }}
    group by {{ design_list }}
),

_se_moments as (
    select
        p.*,
        -- no variance is estimable without degrees of freedom (e.g. every stratum has one PSU)
        -- a variance within rounding of 0 (SE < 1e-12 max(|p|, 1), e.g. one answer whose estimate differs from
        -- its own y in the last bit) is 0: otherwise rescaling the weights could turn "no variance" into a CI
        case when d.degrees_of_freedom > 0 and p.n_unweighted > 0 then
            case when v.variance_raw <= power(1e-12 * greatest(abs(p.estimate), 1.0), 2) then 0.0 else v.variance_raw end
        end as variance,
        case when d.degrees_of_freedom > 0 and p.n_unweighted > 0 then
            case when v.variance_raw <= power(1e-12 * greatest(abs(p.estimate), 1.0), 2) then 0.0 else sqrt(v.variance_raw) end
        end as std_error,
        d.degrees_of_freedom,
        cast(coalesce(v.n_psu_domain, 0) as bigint) as n_psu_domain,
        cast(coalesce(v.n_strata_domain, 0) as bigint) as n_strata_domain,
        cast(coalesce(v.n_singleton_strata_domain, 0) as bigint) as n_singleton_strata_domain,
        p.sum_weight * p.sum_weight / p.sum_weight_sq as n_effective,
        case
            when p.estimate_type = 'proportion' then p.estimate * (1.0 - p.estimate)
            -- means: the weighted population variance sum_D w (y - p)^2 / sum_D w from the sums of w y^2,
            -- w y and w; exactly 0 when every answer is the same
            when p.y_constant then 0.0
            else greatest(p.sum_weight_y_sq / p.sum_weight - p.estimate * p.estimate, 0.0)
        end as unit_variance,
        coalesce(p.sum_weight_nonresponse, 0.0) / nullif(p.sum_weight_asked, 0) as excluded_share_raw
    from _se_point as p
    left join _se_variance as v using ({{ key_list }})
    left join _se_design as d using ({{ design_list }})
),

_se_t as (
    select
        m.*,
        {{ t975_from('m.degrees_of_freedom', 'tq') }} as t_quantile,
        -- Korn-Graubard's df adjustment uses t on n - 1 (the sample size of the domain)
        {{ t975_from('m.n_unweighted - 1', 'tq_n') }} as t_quantile_n,
        case
            when m.estimate is null or m.degrees_of_freedom is null or m.degrees_of_freedom <= 0 then null
            when m.estimate_type = 'proportion' and m.ci_method_requested = 'korn_graubard'
                and (m.estimate = 0 or m.estimate = 1) then 'korn_graubard'
            when m.estimate_type = 'proportion' and (m.estimate = 0 or m.estimate = 1) then 'clopper_pearson_neff'
            -- SE = 0 for anything but a boundary proportion: no sampling variance could be estimated (every
            -- PSU of the domain sits in a single-PSU stratum, or nobody varies): no interval, suppressed
            when m.std_error = 0 then null
            when m.estimate_type = 'proportion' and m.ci_method_requested in ('logit', 'korn_graubard')
                then m.ci_method_requested
            else 't'
        end as ci_method
    from _se_moments as m
    left join {{ tq }} as tq on tq.df = m.degrees_of_freedom
    left join {{ tq }} as tq_n on tq_n.df = m.n_unweighted - 1
),

-- Korn-Graubard effective sample size n* (df-adjusted); from Kish's n_eff where V = 0 (p = 0 or 1)
_se_kg as (
    select
        *,
        case when ci_method = 'korn_graubard' then
            case when estimate = 0 or estimate = 1 then n_effective else estimate * (1.0 - estimate) / variance end
            * case when n_unweighted >= 2 then pow(t_quantile_n / t_quantile, 2) else 1.0 end
        end as n_star
    from _se_t
),

_se_ci_raw as (
    select
        *,
        case
            when ci_method = 'clopper_pearson_neff' and estimate = 0 then 0.0
            when ci_method = 'clopper_pearson_neff' then pow(0.025, 1.0 / n_effective)
            when ci_method = 'korn_graubard' and estimate = 0 then 0.0
            when ci_method = 'korn_graubard' then
                mizan_beta_quantile(0.025, n_star * estimate, n_star * (1.0 - estimate) + 1.0)
            when ci_method = 'logit' then
                exp(ln(estimate / (1 - estimate)) - t_quantile * std_error / (estimate * (1 - estimate)))
                / (1 + exp(ln(estimate / (1 - estimate)) - t_quantile * std_error / (estimate * (1 - estimate))))
            when ci_method = 't' and estimate_type = 'proportion' then greatest(estimate - t_quantile * std_error, 0.0)
            when ci_method = 't' then greatest(estimate - t_quantile * std_error, coalesce(value_min, cast('-infinity' as double)))
        end as ci_lower_raw,
        case
            when ci_method = 'clopper_pearson_neff' and estimate = 0 then 1.0 - pow(0.025, 1.0 / n_effective)
            when ci_method = 'clopper_pearson_neff' then 1.0
            when ci_method = 'korn_graubard' and estimate = 1 then 1.0
            when ci_method = 'korn_graubard' then
                mizan_beta_quantile(0.975, n_star * estimate + 1.0, n_star * (1.0 - estimate))
            when ci_method = 'logit' then
                exp(ln(estimate / (1 - estimate)) + t_quantile * std_error / (estimate * (1 - estimate)))
                / (1 + exp(ln(estimate / (1 - estimate)) + t_quantile * std_error / (estimate * (1 - estimate))))
            when ci_method = 't' and estimate_type = 'proportion' then least(estimate + t_quantile * std_error, 1.0)
            when ci_method = 't' then least(estimate + t_quantile * std_error, coalesce(value_max, cast('infinity' as double)))
        end as ci_upper_raw
    from _se_kg
),

-- the back-transformed logit bounds can miss the estimate by one rounding step when SE is tiny: clamp
_se_ci as (
    select
        *,
        case when ci_lower_raw is not null then least(ci_lower_raw, estimate) end as ci_lower,  -- least() skips NULLs
        case when ci_upper_raw is not null then greatest(ci_upper_raw, estimate) end as ci_upper,
        std_error = 0 and not (estimate_type = 'proportion' and (estimate = 0 or estimate = 1)) as _no_variance
    from _se_ci_raw
)

select
    {{ key_list }},
    estimate_type,
    estimate,
    variance,
    std_error,
    ci_lower,
    ci_upper,
    ci_method,
    ci_method_requested,
    t_quantile,
    degrees_of_freedom,
    n_domain,
    n_unweighted,
    n_nonresponse,
    n_effective,
    sum_weight,
    -- s2 of identical values is 0 up to rounding (e.g. 1.9 - 1.9000000000000001): treat as 0, not as a
    -- ratio of two rounding errors
    case
        when unit_variance <= power(1e-12 * greatest(abs(estimate), 1.0), 2) then null
        else variance / (unit_variance / n_unweighted)
    end as design_effect,
    excluded_share_raw as excluded_share,
    n_psu_domain,
    n_strata_domain,
    n_singleton_strata_domain,
    weight_ratio_max_median,
    (
        n_unweighted = 0
        or degrees_of_freedom is null or degrees_of_freedom <= 0
        or n_unweighted < {{ min_n }}
        or n_effective < {{ min_n_eff }}
        or coalesce(_no_variance, false)
    ) as is_suppressed,
    nullif(concat_ws('; ',
        case when n_unweighted = 0 then 'no answers in domain' end,
        case when degrees_of_freedom is null or degrees_of_freedom <= 0 then 'degrees of freedom <= 0' end,
        case when n_unweighted > 0 and n_unweighted < {{ min_n }} then 'n < {{ min_n }}' end,
        case when n_effective < {{ min_n_eff }} then 'effective n < {{ min_n_eff }}' end,
        case when _no_variance then 'no sampling variance (SE = 0: single-PSU strata only, or no variation)' end
    ), '') as suppression_reason,
    case
        when ci_lower is null or ci_upper is null then true
        when std_error = 0 and not (estimate_type = 'proportion' and (estimate = 0 or estimate = 1)) then true
        when estimate_type = 'proportion' and ci_upper - ci_lower >= {{ max_width }} then true
        when estimate = 0 then ci_upper - ci_lower > 0
        when (ci_upper - ci_lower) / abs(estimate) > {{ max_rel_width }} then true
        else false
    end as is_unreliable
from _se_ci
{%- endmacro %}


{#- t_{0.975, df} for an integer SQL expression ``df``: the seed row joined as ``alias`` (df 1..1000), the
    Cornish-Fisher expansion beyond; NULL when df < 1. -#}
{% macro t975_from(df, alias) -%}
case
    when {{ df }} is null or {{ df }} < 1 then null
    when {{ df }} <= 1000 then {{ alias }}.t_975
    else {{ t975_cornish_fisher('cast(' ~ df ~ ' as double)') }}
end
{%- endmacro %}


{#- t_{0.975, nu} for large nu: Cornish-Fisher expansion around z = qnorm(0.975), 4 terms (Abramowitz &
    Stegun 26.7.5; error < 1e-15 for nu > 1000). ``nu`` is a SQL expression of type DOUBLE. All literals
    are DOUBLE: DuckDB reads a decimal literal as DECIMAL, whose products overflow. -#}
{% macro t975_cornish_fisher(nu) -%}
{%- set z = 'cast(1.959963984540054 as double)' -%}
({{ z }}
    + (pow({{ z }}, 3) + {{ z }}) / (4.0 * {{ nu }})
    + (5.0 * pow({{ z }}, 5) + 16.0 * pow({{ z }}, 3) + 3.0 * {{ z }}) / (96.0 * pow({{ nu }}, 2))
    + (3.0 * pow({{ z }}, 7) + 19.0 * pow({{ z }}, 5) + 17.0 * pow({{ z }}, 3) - 15.0 * {{ z }})
        / (384.0 * pow({{ nu }}, 3))
    + (79.0 * pow({{ z }}, 9) + 776.0 * pow({{ z }}, 7) + 1482.0 * pow({{ z }}, 5)
        - 1920.0 * pow({{ z }}, 3) - 945.0 * {{ z }}) / (92160.0 * pow({{ nu }}, 4)))
{%- endmacro %}


{#- Stops the query with ``message`` (a SQL string expression) when evaluated: DuckDB's error(); engines
    without such a function need their own implementation here. -#}
{% macro mizan_raise(message) -%}
{{ return(adapter.dispatch('mizan_raise')(message)) }}
{%- endmacro %}

{% macro duckdb__mizan_raise(message) -%}
error({{ message }})
{%- endmacro %}
