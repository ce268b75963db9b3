"""Static checks of deploy/observability: dashboards, alerting and SLO rules, PromQL."""
