"""Payment gateways: the refund port (``port``) and its adapters (``alipay``).

A refund by bank transfer or cash (``manual``) has no gateway: the person who paid it back
records it (``services.refunds``).
"""
