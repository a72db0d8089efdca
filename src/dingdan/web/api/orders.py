"""Orders: intake, reads, lifecycle actions, notes, contact and address changes."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response

from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Action
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft, normalize_phone
from dingdan.services import orders as svc
from dingdan.services import queries
from dingdan.services.queries import ListQuery
from dingdan.web.deps import ActorDep, LangDep, ReadUowDep, UowDep, get_read_uow
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Line, LineQuery, Moment
from dingdan.web.portal import status_page_url
from dingdan.web.schemas import (
    ActionIn,
    AddressChangeIn,
    ContactIn,
    EventOut,
    NoteIn,
    OrderCreate,
    OrderPage,
    OrderPublic,
    PayIn,
    ShipIn,
    order_public,
    order_summary,
)

router = APIRouter(prefix="/orders", tags=["orders"],
                   responses=problem_responses(400, 401, 422))
WRITE_ERRORS = problem_responses(404, 409)


def _draft(body: OrderCreate) -> OrderDraft:
    return OrderDraft(
        channel=body.channel, external_id=body.external_id,
        customer=Customer(**body.customer.model_dump()),
        shipping_address=Address(**body.shipping_address.model_dump()),
        lines=tuple(LineDraft(**ln.model_dump()) for ln in body.lines),
        currency=body.currency.upper(), shipping_fee=body.shipping_fee, discount=body.discount,
        tax=body.tax, subtotal=body.subtotal, total=body.total,
        payment_method=body.payment_method, promo_code=body.promo_code,
        placed_at=body.placed_at, ship_by=body.ship_by, deliver_by=body.deliver_by,
        notes=body.notes, tags=tuple(body.tags), custom_fields=body.custom_fields)


async def _public(request: Request, number: str, lang: str, actor: Actor) -> dict[str, Any]:
    return _with_page(request, order_public(
        await queries.get_order(number, get_read_uow(request), actor=actor), lang))


def _with_page(request: Request, order: dict[str, Any]) -> dict[str, Any]:
    return {**order, "status_page_url": status_page_url(request, order["number"])}


@router.post("", status_code=201, response_model=OrderPublic, responses=WRITE_ERRORS,
             summary="Place an order (reserves stock at once)")
async def create_order(body: OrderCreate, request: Request, response: Response, uow: UowDep,
                       actor: ActorDep, lang: LangDep,
                       idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
                       ) -> dict[str, Any]:
    """Idempotent by the ``Idempotency-Key`` header and by (channel, external_id): a repeat
    answers 200 with the original order; the same key with another body is a 409."""
    # The body's meaning, not its bytes: a retry with other spacing or key order is the same.
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(canonical).hexdigest()
    placed = await svc.place_order(svc.PlaceOrder(_draft(body), actor, idempotency_key, digest,
                                                  read_back=True), uow)
    if not placed.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/orders/{placed.number}"
    if placed.order is not None:  # read in the placing transaction: no second one
        return _with_page(request, order_public(
            queries.show_order(placed.number, placed.order, actor=actor), lang))
    return await _public(request, placed.number, lang, actor)


@router.get("", response_model=OrderPage, summary="List and search orders")
async def list_orders(
    uow: ReadUowDep, actor: ActorDep, lang: LangDep,
    status: Annotated[list[Annotated[str, Query(max_length=32)]] | None, Query()] = None,
    channel: LineQuery = None,
    placed_from: Moment | None = None,
    placed_to: Moment | None = None,
    province: LineQuery = None,
    sku: LineQuery = None,
    phone: LineQuery = None,
    name: LineQuery = None,
    email: LineQuery = None,
    tag: LineQuery = None,
    q: Annotated[Line | None, Query(max_length=200,
                                    description="order number, phone or name")] = None,
    sort: Annotated[str, Query(max_length=32, description="placed_at, total, number or "
                                                          "updated_at; prefix - for "
                                                          "descending")] = "-placed_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: LineQuery = None,
) -> dict[str, Any]:
    if phone:
        phone = normalize_phone(phone) or phone
    rows, next_cursor = await queries.list_orders(ListQuery(
        status=tuple(status or ()), channel=channel, placed_from=placed_from,
        placed_to=placed_to, province=province, sku=sku, phone=phone, name=name, email=email,
        tag=tag, q=q, sort=sort, limit=limit, cursor=cursor), uow, actor=actor)
    return {"items": [order_summary(r, lang) for r in rows], "next_cursor": next_cursor}


@router.get("/{number}", response_model=OrderPublic, responses=problem_responses(404))
async def get_order(number: str, request: Request, uow: ReadUowDep, actor: ActorDep,
                    lang: LangDep) -> dict[str, Any]:
    return _with_page(request, order_public(await queries.get_order(number, uow, actor=actor),
                                            lang))


@router.get("/{number}/events", response_model=list[EventOut], responses=problem_responses(404),
            summary="The order's timeline, oldest first")
async def get_timeline(number: str, uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await queries.order_timeline(number, uow, actor=actor)


async def _act(request: Request, number: str, action: Action, body: ActionIn, actor: Actor,
               lang: str, **extra: Any) -> dict[str, Any]:
    await svc.change_status(svc.ChangeStatus(number, action, actor, body.reason,
                                             body.expected_version, **extra),
                            request.app.state.uow())
    return await _public(request, number, lang, actor)


@router.post("/{number}/pay", response_model=OrderPublic, responses=WRITE_ERRORS,
             summary="Mark paid (finance)")
async def pay(number: str, body: PayIn, request: Request, actor: ActorDep,
              lang: LangDep) -> dict[str, Any]:
    return await _act(request, number, Action.PAY, body, actor, lang,
                      payment_reference=body.payment_reference)


@router.post("/{number}/ship", response_model=OrderPublic, responses=WRITE_ERRORS,
             summary="Ship with a carrier and tracking number (consumes stock)")
async def ship(number: str, body: ShipIn, request: Request, actor: ActorDep,
               lang: LangDep) -> dict[str, Any]:
    return await _act(request, number, Action.SHIP, body, actor, lang, carrier=body.carrier,
                      tracking_number=body.tracking_number)


def _simple_action(action: Action, path: str, summary: str) -> None:
    async def endpoint(number: str, request: Request, actor: ActorDep, lang: LangDep,
                       body: ActionIn | None = None) -> dict[str, Any]:
        return await _act(request, number, action, body or ActionIn(), actor, lang)

    endpoint.__name__ = f"order_{action.value}"
    router.add_api_route(f"/{{number}}/{path}", endpoint, methods=["POST"],
                         response_model=OrderPublic, responses=WRITE_ERRORS, summary=summary)


for _action, _path, _summary in (
    (Action.SUBMIT_REVIEW, "submit-review", "Submit for review"),
    (Action.APPROVE, "approve", "Approve (review passed)"),
    (Action.HOLD, "hold", "Put on hold (reason required)"),
    (Action.RELEASE, "release", "Release from hold (reason required)"),
    (Action.CANCEL, "cancel", "Cancel before shipment (reason required; releases stock)"),
    (Action.ALLOCATE, "allocate", "Allocate (lock stock for the warehouse)"),
    (Action.PICK, "pick", "Start picking"),
    (Action.PACK, "pack", "Packed"),
    (Action.IN_TRANSIT, "in-transit", "In transit"),
    (Action.OUT_FOR_DELIVERY, "out-for-delivery", "Out for delivery"),
    (Action.DELIVER, "deliver", "Delivered"),
    (Action.COMPLETE, "complete", "Complete"),
):
    _simple_action(_action, _path, _summary)


@router.post("/{number}/notes", status_code=201, response_model=list[EventOut],
             responses=problem_responses(404), summary="Add a note to the timeline")
async def add_note(number: str, body: NoteIn, uow: UowDep, request: Request,
                   actor: ActorDep) -> list[dict[str, Any]]:
    await svc.add_note(svc.AddNote(number, body.note, actor), uow)
    return await queries.order_timeline(number, get_read_uow(request), actor=actor)


@router.put("/{number}/contact", response_model=OrderPublic, responses=WRITE_ERRORS,
            summary="Change the customer's contact (before picking)")
async def change_contact(number: str, body: ContactIn, uow: UowDep, request: Request,
                         actor: ActorDep, lang: LangDep) -> dict[str, Any]:
    await svc.change_contact(svc.ChangeContact(
        number, Customer(**body.customer.model_dump()), actor, body.reason,
        body.expected_version), uow)
    return await _public(request, number, lang, actor)


@router.put("/{number}/shipping-address", response_model=OrderPublic, responses=WRITE_ERRORS,
            summary="Change the shipping address (before picking; re-validated)")
async def change_address(number: str, body: AddressChangeIn, uow: UowDep, request: Request,
                         actor: ActorDep, lang: LangDep) -> dict[str, Any]:
    await svc.change_address(svc.ChangeAddress(
        number, Address(**body.shipping_address.model_dump()), actor, body.reason,
        body.expected_version), uow)
    return await _public(request, number, lang, actor)

