-- The reference date must exist: it is null only when no order has a parseable date
-- (empty or unreadable orders file). Fix the orders export or set var as_of_date.
select
    reference_date,
    reference_date_source
from {{ ref('stg_shop__reference_date') }}
where reference_date is null
