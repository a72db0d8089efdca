"""Demo customers and the people and systems that act on demo orders. Pure: callers pass
the random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass

from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.orders import normalize_phone
from dingdan.domain.permissions import Role
from dingdan.services.demo import data
from dingdan.services.demo.data import Place

SOURCE = "demo"  # every demo event says it came from the demo loader


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    name: str
    phone: str  # as typed by the customer; the order use case normalises it to E.164
    email: str | None
    company: str | None
    place: Place
    street: str
    vip: bool
    channel: str  # where this customer usually shops
    activity: float  # relative chance of being the buyer of the next order


def make_customers(rng: random.Random, count: int) -> list[DemoCustomer]:
    customers: list[DemoCustomer] = []
    phones: set[str] = set()
    places = [p for p, _ in data.PLACES]
    place_weights = [w for _, w in data.PLACES]
    for _ in range(count):
        name, surname_py, given_py = person_name(rng)
        phone = mobile_number(rng, phones)
        place = rng.choices(places, place_weights)[0]
        company = None
        email = None
        if rng.random() < 0.15:
            word, word_py = rng.choice(data.COMPANY_WORDS)
            trade = rng.choice(data.COMPANY_TRADES)
            company = f"{place.city.removesuffix('市')}{word}{trade}有限公司"
            email = f"{given_py}.{surname_py}@{word_py}.{rng.choice(data.EMAIL_DOMAINS)}"
            street = (f"{rng.choice(data.ROADS)}{rng.randint(1, 999)}号"
                      f"{rng.choice(data.TOWERS)}{rng.randint(2, 38)}层{rng.randint(1, 20):02d}室")
            channel = "api" if rng.random() < 0.5 else _channel(rng)
        else:
            if rng.random() < 0.45:
                handle = rng.choice((f"{given_py}.{surname_py}", f"{surname_py}{given_py}",
                                     f"{surname_py}_{given_py}"))
                email = f"{handle}{rng.randint(1, 99)}@{rng.choice(data.EMAIL_DOMAINS)}"
            street = home_street(rng)
            channel = _channel(rng, business=False)
        activity = rng.lognormvariate(0.0, 0.9) * (1.5 if company else 1.0)
        customers.append(DemoCustomer(name, phone, email, company, place, street,
                                      rng.random() < 0.08, channel, activity))
    return customers


def person_name(rng: random.Random) -> tuple[str, str, str]:
    """A Chinese name and the pinyin of its surname and given name."""
    surname, surname_py, _ = rng.choices(data.SURNAMES, [w for _, _, w in data.SURNAMES])[0]
    given, given_py = rng.choice(data.GIVEN_NAMES)
    return surname + given, surname_py, given_py


def mobile_number(rng: random.Random, taken: set[str]) -> str:
    """A valid mainland mobile number not used by another demo customer."""
    while True:
        number = rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if number not in taken and normalize_phone(number) is not None:
            taken.add(number)
            return number


def home_street(rng: random.Random) -> str:
    return (f"{rng.choice(data.ROADS)}{rng.randint(1, 999)}号{rng.choice(data.ESTATES)}"
            f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}"
            f"{rng.randint(1, 4):02d}室")


def _channel(rng: random.Random, business: bool = True) -> str:
    channels = [(c, w) for c, w in data.CHANNELS if business or c != "api"]
    return rng.choices([c for c, _ in channels], [w for _, w in channels])[0]


def staff_actor(member: data.Staff) -> Actor:
    """A member of staff as the plan names them; the loader swaps in their user account."""
    return Actor(ActorKind.USER, f"demo-{member.name}", member.name, SOURCE,
                 frozenset({member.role}))


def _one_of(rng: random.Random, role: Role) -> Actor:
    return staff_actor(rng.choice([s for s in data.STAFF if s.role == role.value]))


def reviewer(rng: random.Random) -> Actor:
    """审核员: approves, holds and releases."""
    return _one_of(rng, Role.REVIEWER)


def agent(rng: random.Random) -> Actor:
    """客服: takes phone orders, cancels on the buyer's request, writes notes."""
    return _one_of(rng, Role.CUSTOMER_SERVICE)


def finance(rng: random.Random) -> Actor:
    """财务: confirms bank transfers."""
    return _one_of(rng, Role.FINANCE)


def on_shift(warehouse: str, hour: int) -> data.Staff:
    """Who works in ``warehouse`` at local ``hour``: the early shift until 15:00, then the late."""
    crew = [s for s in data.STAFF if s.warehouse == warehouse]
    return crew[0] if hour < 15 or len(crew) == 1 else crew[1]


def system(name: str) -> Actor:
    return Actor(ActorKind.SYSTEM, name, name, SOURCE)


def connector(channel: str) -> Actor:
    """The integration that brings a channel's orders, payments and receipts in."""
    return Actor(ActorKind.TOKEN, f"demo-{channel}", f"{channel}-connector", SOURCE,
                 frozenset({Role.INTEGRATION.value}))


def carrier_feed(code: str) -> Actor:
    """A carrier's tracking feed."""
    return Actor(ActorKind.TOKEN, f"demo-{code}", f"{code}-tracking", SOURCE,
                 frozenset({Role.INTEGRATION.value}))


SETUP = system("demo")  # creates the demo's people
MANAGER = staff_actor(next(s for s in data.STAFF if s.role == Role.MANAGER.value))
AUTO_REVIEW = system("auto-review")
ALLOCATOR = system("allocator")
PAYMENT_TIMEOUT = system("payment-timeout")
AUTO_COMPLETE = system("auto-complete")
