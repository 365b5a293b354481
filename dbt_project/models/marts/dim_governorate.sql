-- Governorates keyed by COD-AB 2019 p-code; Halabja carried as IQG19 (cod_ab_parent_pcode = IQG06).
select
    governorate_pcode,
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
order by governorate_pcode
