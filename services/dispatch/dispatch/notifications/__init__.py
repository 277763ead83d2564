"""Notifications: what dispatch tells engineers, the dispatcher and the managers, on e-mail and SMS.

- `templates`: the words of each notice in Chinese and English (pure).
- `outbox`: `queue()` in the transaction that decides a notice; `deliver_due()` in a background loop
  claims due rows, sends them, retries with backoff, and returns the `NotificationDelivered` events.
- `channels`: SMTP e-mail and the HTTP SMS gateway; `settings`: their configuration (`SD_` variables);
  `metrics`: `sd_notifications_total` and `sd_notification_delivery_seconds`.
"""
