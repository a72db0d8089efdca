"""The verified-token cache: entries live ``ttl`` seconds, a revoked token goes at once, and a
full cache drops its oldest entry instead of everyone."""

from __future__ import annotations

from dingdan.domain.events import Actor, ActorKind
from dingdan.web.deps import TokenCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token(n: int) -> Actor:
    return Actor(ActorKind.TOKEN, str(n), f"shop{n}", roles=frozenset({"integration"}))


def test_a_token_is_remembered_for_ttl_seconds_only() -> None:
    clock = Clock()
    cache = TokenCache(5.0, timer=clock)
    cache.put("t1", token(1))
    clock.now += 4.9
    assert cache.get("t1") == token(1)
    clock.now += 0.2
    assert cache.get("t1") is None


def test_a_zero_ttl_remembers_nothing_past_the_moment() -> None:
    clock = Clock()
    cache = TokenCache(0.0, timer=clock)
    cache.put("t1", token(1))
    clock.now += 0.001
    assert cache.get("t1") is None


def test_forgetting_a_token_id_drops_it_at_once() -> None:
    cache = TokenCache(60.0)
    cache.put("t1", token(1))
    cache.put("t2", token(2))
    cache.forget(1)
    assert cache.get("t1") is None and cache.get("t2") == token(2)


def test_a_full_cache_drops_the_oldest_entry_not_every_entry() -> None:
    clock = Clock()
    cache = TokenCache(60.0, max_size=3, timer=clock)
    for n in range(1, 5):
        cache.put(f"t{n}", token(n))
        clock.now += 1
    assert cache.get("t1") is None
    assert [cache.get(f"t{n}") for n in (2, 3, 4)] == [token(2), token(3), token(4)]
