{# A raw column, or a typed NULL when the source has not delivered that column yet.
   dlt only creates a column once some row carries a value for it, so optional API fields
   (in_reply_to ids, reply parents...) may be missing on a young warehouse. #}
{% macro column_or_null(relation, column_name, data_type) -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- if col.name | lower == column_name | lower -%}{%- do present.append(col) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if present -%}
        cast({{ adapter.quote(column_name) }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
