-- Budget sectors and the question-bank sectors each matches (`survey_sectors`, space-separated; empty for
-- `other` and `all`), as a list in `survey_sector_list`.
select
    sector::varchar                                         as sector,
    name_en::varchar                                        as name_en,
    name_ar::varchar                                        as name_ar,
    survey_sectors::varchar                                 as survey_sectors,
    case
        when nullif(trim(survey_sectors), '') is null then []::varchar[]
        else string_split(trim(survey_sectors), ' ')
    end                                                     as survey_sector_list,
    sort_order::integer                                     as sort_order
from {{ source('raw', 'ref_budget_sectors') }}
