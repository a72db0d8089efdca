"""The rules of order management. Pure: no I/O, no framework, no clock — time is passed in."""
