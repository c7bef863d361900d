-- Shitstorm alerts: one row per alert. Every hour, the negative inbound volume of that hour
-- (int_negative_volume_hourly) is compared with the trailing baseline of the
-- var alert_baseline_hours hours before it (mean and sample standard deviation, the stddev
-- floored at var alert_stddev_floor so a silent baseline does not make every message a spike).
-- An hour triggers when it has at least var alert_min_volume negative messages, a baseline of
-- at least var alert_min_baseline_hours hours, and exceeds the mean by k standard deviations:
-- k = alert_k_low / alert_k_medium / alert_k_high (1.5 / 2 / 3) for low / medium / high.
-- Cool-down: triggering hours less than var alert_cooldown_hours after the previous
-- triggering hour belong to the same alert, so one storm is one alert. The alert keeps the
-- highest severity reached and the figures of its peak hour (highest z-score).

with hourly as (
    select * from {{ ref('int_negative_volume_hourly') }}
),

baselined as (
    select
        hour_start,
        negative_messages,
        platform_breakdown,
        sample_message_keys,
        avg(cast(negative_messages as {{ type_double() }})) over (
            order by hour_start
            rows between {{ var('alert_baseline_hours') }} preceding and 1 preceding
        ) as baseline_mean,
        stddev_samp(cast(negative_messages as {{ type_double() }})) over (
            order by hour_start
            rows between {{ var('alert_baseline_hours') }} preceding and 1 preceding
        ) as baseline_stddev,
        count(*) over (
            order by hour_start
            rows between {{ var('alert_baseline_hours') }} preceding and 1 preceding
        ) as baseline_hours
    from hourly
),

scored as (
    select
        *,
        (negative_messages - baseline_mean)
            / case
                when coalesce(baseline_stddev, 0) < {{ var('alert_stddev_floor') }}
                    then {{ var('alert_stddev_floor') }}
                else baseline_stddev
            end as z_score
    from baselined
    where baseline_hours >= {{ var('alert_min_baseline_hours') }}
),

triggered as (
    select
        *,
        case
            when z_score >= {{ var('alert_k_high') }} then 3
            when z_score >= {{ var('alert_k_medium') }} then 2
            else 1
        end as severity_rank,
        lag(hour_start) over (order by hour_start) as previous_trigger_hour
    from scored
    where negative_messages >= {{ var('alert_min_volume') }}
        and z_score >= {{ var('alert_k_low') }}
),

grouped as (
    select
        *,
        sum(
            case
                when previous_trigger_hour is null
                    or {{ dbt.datediff("previous_trigger_hour", "hour_start", "hour") }}
                        > {{ var('alert_cooldown_hours') }}
                    then 1
                else 0
            end
        ) over (order by hour_start rows between unbounded preceding and current row)
            as alert_number
    from triggered
),

peaks as (
    select
        *,
        row_number() over (
            partition by alert_number order by z_score desc, hour_start
        ) as peak_rank
    from grouped
),

alerts as (
    select
        alert_number,
        min(hour_start) as window_start,
        {{ dbt.dateadd("hour", 1, "max(hour_start)") }} as window_end,
        max(severity_rank) as severity_rank,
        count(*) as triggered_hours,
        sum(negative_messages) as negative_messages_in_window,
        {{ dbt.listagg(
            dbt.concat([
                "cast(hour_start as " ~ dbt.type_string() ~ ")", "' UTC: '",
                "cast(negative_messages as " ~ dbt.type_string() ~ ")", "' negative ('",
                "platform_breakdown", "')'"]),
            "'; '",
            "order by hour_start") }} as evidence
    from grouped
    group by alert_number
)

select
    -- ids
    {{ dbt.hash(dbt.concat(["'negative_spike|'", "cast(alerts.window_start as " ~ dbt.type_string() ~ ")"])) }}
        as alert_id,
    -- classification
    'negative_spike' as alert_type,
    case alerts.severity_rank when 3 then 'high' when 2 then 'medium' else 'low' end as severity,
    -- window
    alerts.window_start,
    alerts.window_end,
    cast(alerts.window_start as date) as alert_date,
    cast(alerts.triggered_hours as {{ dbt.type_bigint() }}) as triggered_hours,
    cast(alerts.negative_messages_in_window as {{ dbt.type_bigint() }})
        as negative_messages_in_window,
    -- the peak hour against its baseline
    peaks.hour_start as peak_hour_start,
    cast(peaks.negative_messages as {{ dbt.type_bigint() }}) as observed_count,
    cast(peaks.baseline_mean as {{ type_double() }}) as baseline_mean,
    cast(peaks.baseline_stddev as {{ type_double() }}) as baseline_stddev,
    cast(peaks.z_score as {{ type_double() }}) as z_score,
    cast(
        case alerts.severity_rank
            when 3 then {{ var('alert_k_high') }}
            when 2 then {{ var('alert_k_medium') }}
            else {{ var('alert_k_low') }}
        end as {{ type_double() }}
    ) as k,
    -- evidence
    alerts.evidence,
    peaks.sample_message_keys
from alerts
inner join peaks on alerts.alert_number = peaks.alert_number and peaks.peak_rank = 1
