-- Governorates: COD-AB 2019 p-codes IQG01..IQG18 plus Halabja as IQG19, a mizan surrogate code
-- (a district, IQG06Q05, of Sulaymaniyah in COD-AB 2019; see data_contracts/reference/README.md).
select
    governorate_pcode::varchar    as governorate_pcode,
    name_en::varchar              as name_en,
    name_en_short::varchar        as name_en_short,
    name_ar::varchar              as name_ar,
    name_ckb::varchar             as name_ckb,
    name_kmr::varchar             as name_kmr,
    region::varchar               as region,
    iso3166_2::varchar            as iso3166_2,
    adm1_pcode_ocha2014::varchar  as adm1_pcode_ocha2014,
    capital::varchar              as capital,
    cod_ab_parent_pcode::varchar  as cod_ab_parent_pcode,
    cod_ab_note::varchar          as cod_ab_note
from {{ source('raw', 'ref_governorates') }}
