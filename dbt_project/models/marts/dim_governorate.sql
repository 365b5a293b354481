-- Areas estimates are filed under: governorates keyed by COD-AB 2019 p-code, Halabja carried as IQG19
-- (cod_ab_parent_pcode = IQG06), and IQ (COD-AB ADM0 p-code), the whole country, for the national
-- estimates of surveys that reached every governorate (area_level = 'national').
select
    governorate_pcode,
    'governorate' as area_level,
    name_en,
    name_en_short,
    name_ar,
    name_ckb,
    name_kmr,
    region,
    iso3166_2,
    adm1_pcode_ocha2014,
    capital,
    cod_ab_parent_pcode,
    cod_ab_note
from {{ ref('stg_reference__governorates') }}

union all

select
    'IQ',
    'national',
    'Iraq (national)',
    'Iraq',
    'العراق (على المستوى الوطني)',
    'عێراق',
    'Iraq',
    null,
    'IQ',
    null,
    'Baghdad',
    null,
    'COD-AB 2019 ADM0 p-code: the whole country (national estimates of a survey that reached all 18 COD-AB governorates)'
order by area_level desc, governorate_pcode
