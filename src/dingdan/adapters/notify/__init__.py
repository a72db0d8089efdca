"""Outbound channels (email, SMS, web push, webhooks, broker), each behind one port."""
