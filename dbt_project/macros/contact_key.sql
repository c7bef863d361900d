{# Pseudonymous key of a person: a salted hash of platform and platform user id, so marts
   never carry handles or platform ids. Set the salt per installation (var or env). #}
{% macro contact_key(platform_column, user_id_column) -%}
    {{ dbt.hash(dbt.concat(["'" ~ var('contact_key_salt', env_var('RAPPORT_CONTACT_KEY_SALT', 'rapport-demo')) ~ "'", "':'", platform_column, "':'", user_id_column])) }}
{%- endmacro %}
