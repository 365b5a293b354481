{#-
  natural_sort_key(expr): a text key that sorts wave ids the way people read them, numbers by value
  ('9' before '10', 'w2' before 'w10', '2024-3' before '2024-10'): every run of digits is left-padded to 20
  digits. Used wherever waves are ordered (dim_wave.wave_order, survey_change) after the fieldwork start.
-#}
{% macro natural_sort_key(expr) -%}
array_to_string(list_transform(regexp_extract_all({{ expr }}, '\d+|\D+'),
    lambda t: case when regexp_full_match(t, '\d+') then lpad(t, 20, '0') else t end), '')
{%- endmacro %}
