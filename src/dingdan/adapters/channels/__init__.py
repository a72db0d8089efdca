"""Intake channels: spreadsheets (``spreadsheet``), shops' order webhooks (``shopify``,
``woocommerce``). Each turns what a channel sends into order drafts; none writes anything."""
