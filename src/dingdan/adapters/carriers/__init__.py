"""Carriers and tracking aggregators, each speaking its provider's documented format:
``kuaidi100`` (快递100: subscribe, push callback, real-time query) and ``sf`` (顺丰开放平台:
route push). :mod:`port` is what they give the services."""
