-- One row per loaded respondent: the design as the variance step uses it (docs/methodology.md, section 2b).
--
-- variance_stratum, variance_psu  the delivered stratum and PSU after the source's rule for a stratum with
--     a single PSU (stg_survey__sources.single_psu_rule, default var single_psu_rule):
--       skip             unchanged; such a stratum contributes no variance (samplics SinglePSUEst.skip,
--                        R options(survey.lonely.psu = "certainty"))
--       certainty_units  the single PSU was a certainty selection: its respondents act as the PSUs of the
--                        stratum (samplics SinglePSUEst.certainty without SSUs)
--       combine          collapsed strata (samplics SinglePSUEst.combine): a stratum the mapping names
--                        (strata_combine) joins the stratum it names, whatever its PSUs; any other single-PSU
--                        stratum joins the nearest stratum of the same governorate with 2+ PSUs (the one
--                        before it in name order, else the one after), else the first single-PSU stratum of
--                        its governorate in name order (singletons pooled); a stratum nothing can join stays
--                        single (no variance). One step only: a target is not itself re-targeted. PSU ids
--                        become "<stratum> / <psu>".
-- design_weight  the weight as loaded (delivered, constant, or N_h / n_h from a sample frame)
-- weight         design_weight x post-stratification factor: with post_stratify = governorate_population,
--                population of the governorate in the fieldwork year / sum of design weights of the wave's
--                respondents there (raw.ref_population); otherwise 1.
with

respondents as (
    select * from {{ ref('stg_survey__respondents') }}
),

sources as (
    select * from {{ ref('stg_survey__sources') }}
),

population as (
    select * from {{ ref('stg_reference__population') }}
),

delivered_strata as (
    select
        source_id,
        wave_id,
        stratum,
        count(distinct psu) as n_psu,
        min(governorate_pcode) as governorate_pcode
    from respondents
    group by source_id, wave_id, stratum
),

explicit_combine as (
    select s.source_id, s.wave_id, e.key as stratum, e.value ->> '$' as combined_into
    from sources as s, json_each(s.strata_combine) as e
    where s.single_psu_rule = 'combine'
),

-- strata the mapping names join the stratum it names (any stratum: collapsing is the mapping's decision);
-- every other single-PSU stratum joins the nearest stratum of its governorate (see the header)
combine_targets as (
    select source_id, wave_id, stratum, combined_into, true as is_explicit
    from explicit_combine

    union all

    select
        sg.source_id,
        sg.wave_id,
        sg.stratum,
        coalesce(
            (select max(m.stratum) from delivered_strata as m
             where m.source_id = sg.source_id and m.wave_id = sg.wave_id
               and m.governorate_pcode = sg.governorate_pcode and m.n_psu >= 2 and m.stratum < sg.stratum),
            (select min(m.stratum) from delivered_strata as m
             where m.source_id = sg.source_id and m.wave_id = sg.wave_id
               and m.governorate_pcode = sg.governorate_pcode and m.n_psu >= 2 and m.stratum > sg.stratum),
            (select min(m.stratum) from delivered_strata as m
             where m.source_id = sg.source_id and m.wave_id = sg.wave_id
               and m.governorate_pcode = sg.governorate_pcode and m.n_psu = 1)
        ) as combined_into,
        false as is_explicit
    from delivered_strata as sg
    inner join sources as s using (source_id, wave_id)
    where s.single_psu_rule = 'combine' and sg.n_psu = 1
      and not exists (
          select 1 from explicit_combine as x
          where x.source_id = sg.source_id and x.wave_id = sg.wave_id and x.stratum = sg.stratum)
),

weight_totals as (
    select source_id, wave_id, governorate_pcode, sum(weight) as sum_design_weight
    from respondents
    group by source_id, wave_id, governorate_pcode
),

post_strata as (
    select
        w.source_id,
        w.wave_id,
        w.governorate_pcode,
        case
            when s.post_stratify = 'governorate_population' then p.population / w.sum_design_weight
            else 1.0
        end as post_stratification_factor
    from weight_totals as w
    inner join sources as s using (source_id, wave_id)
    left join population as p
        on p.governorate_pcode = w.governorate_pcode
        and p.year = year(s.fieldwork_start)
)

select
    r.source_id,
    r.wave_id,
    r.respondent_id,
    r.governorate_pcode,
    r.stratum,
    r.psu,
    s.single_psu_rule,
    d.n_psu = 1 as is_in_single_psu_stratum,
    coalesce(c.combined_into, r.stratum) as variance_stratum,
    case
        when s.single_psu_rule = 'combine' then r.stratum || ' / ' || r.psu
        when s.single_psu_rule = 'certainty_units' and d.n_psu = 1 then r.respondent_id
        else r.psu
    end as variance_psu,
    r.weight as design_weight,
    ps.post_stratification_factor,
    r.weight * ps.post_stratification_factor as weight,
    r.is_synthetic
from respondents as r
inner join sources as s using (source_id, wave_id)
inner join delivered_strata as d using (source_id, wave_id, stratum)
left join combine_targets as c using (source_id, wave_id, stratum)
left join post_strata as ps
    on ps.source_id = r.source_id
    and ps.wave_id = r.wave_id
    and ps.governorate_pcode = r.governorate_pcode
