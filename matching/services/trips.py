"""Running the day of departure: lock, board, depart, arrive, cancel; manifests; messages.

Each transition locks the trip row, checks the state it starts from, and records a
`TripEvent`. Laborer statuses follow the riders: a seat makes them `scheduled`, departure
`departed` (for those who boarded), arrival `arrived`; cancelling a trip sends its riders
back to the pool (`matched`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.bulk import writer_for_connection
from jobmatch.models import User
from matching.models import Notification, Seat, Trip, TripEvent
from matching.sms import SmsError, backend
from matching.transfer_models import TripState
from workers.models import Laborer, LaborerStatus, StatusEvent

logger = logging.getLogger(__name__)

ALLOWED = {
    "lock": ({TripState.PLANNED}, TripState.LOCKED),
    "unlock": ({TripState.LOCKED}, TripState.PLANNED),
    "board": ({TripState.LOCKED, TripState.BOARDING}, TripState.BOARDING),
    "depart": ({TripState.LOCKED, TripState.BOARDING}, TripState.DEPARTED),
    "arrive": ({TripState.DEPARTED}, TripState.ARRIVED),
    "cancel": ({TripState.PLANNED, TripState.LOCKED, TripState.BOARDING}, TripState.CANCELLED),
}


def _locked_trip(trip_id: int, action: str) -> Trip:
    try:
        trip = Trip.objects.select_for_update().get(pk=trip_id)
    except Trip.DoesNotExist:
        # A plan committed between reading the trip and locking it, and dropped it.
        raise ApplicationError(
            _("This trip no longer exists: a new plan replaced it."), status=404
        ) from None
    sources, _target = ALLOWED[action]
    if trip.state not in sources:
        allowed = _(" or ").join(sorted(sources))
        raise Conflict(
            _("Cannot %(action)s a trip that is %(state)s: it must be %(allowed)s.")
            % {"action": action, "state": trip.state, "allowed": allowed}
        )
    return trip


def _move(trip: Trip, to_state: str, actor: User | None, note: str = "") -> None:
    TripEvent.objects.create(
        trip=trip, from_state=trip.state, to_state=to_state, actor=actor, note=note[:200]
    )
    trip.state = to_state
    trip.save(update_fields=["state", "updated_at"])


def set_laborer_statuses(
    laborer_ids: Iterable[int],
    to_status: str,
    actor: User | None,
    note: str,
    only_from: Iterable[str] | None = None,
) -> int:
    """Bulk status change with one event per laborer whose status actually changes."""
    qs = Laborer.objects.filter(pk__in=list(laborer_ids)).exclude(status=to_status)
    if only_from is not None:
        qs = qs.filter(status__in=list(only_from))
    rows = list(qs.values_list("pk", "status"))
    if not rows:
        return 0
    # A plan moves tens of thousands of laborers at once: COPY on PostgreSQL.
    writer = writer_for_connection()
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    writer.write(
        StatusEvent,
        ["laborer_id", "from_status", "to_status", "actor_id", "note", "at"],
        [(pk, status, to_status, actor_id, note[:200], now) for pk, status in rows],
    )
    return Laborer.objects.filter(pk__in=[pk for pk, _ in rows]).update(status=to_status)


def trip_lock(*, actor: User, trip: Trip) -> Trip:
    with transaction.atomic():
        locked = _locked_trip(trip.pk, "lock")
        _move(locked, TripState.LOCKED, actor)
    return locked


def trip_unlock(*, actor: User, trip: Trip) -> Trip:
    with transaction.atomic():
        locked = _locked_trip(trip.pk, "unlock")
        _move(locked, TripState.PLANNED, actor)
    return locked


def trip_board(*, actor: User, trip: Trip, laborer_ids: list[int]) -> Trip:
    """Roster check at the coach door: only this trip's riders may board."""
    with transaction.atomic():
        locked = _locked_trip(trip.pk, "board")
        seats = {
            s.laborer_id: s
            for s in Seat.objects.select_for_update().filter(
                trip=locked, laborer_id__in=laborer_ids
            )
        }
        strangers = [pk for pk in laborer_ids if pk not in seats]
        if strangers:
            messages = [
                _("Laborer %(id)s has no seat on this trip.") % {"id": pk} for pk in strangers
            ]
            raise ApplicationError(f"laborers: {messages[0]}", {"laborers": messages})
        now = timezone.now()
        Seat.objects.filter(pk__in=[s.pk for s in seats.values()], boarded_at__isnull=True).update(
            boarded_at=now
        )
        if locked.state != TripState.BOARDING:
            _move(locked, TripState.BOARDING, actor, f"{len(laborer_ids)} boarded")
        else:
            TripEvent.objects.create(
                trip=locked,
                from_state=locked.state,
                to_state=locked.state,
                actor=actor,
                note=f"{len(laborer_ids)} boarded",
            )
    return locked


def trip_depart(*, actor: User, trip: Trip) -> Trip:
    """The coach leaves: boarded riders are `departed`; no-shows lose their seat."""
    with transaction.atomic():
        locked = _locked_trip(trip.pk, "depart")
        seats = list(Seat.objects.select_for_update().filter(trip=locked))
        boarded = [s.laborer_id for s in seats if s.boarded_at is not None]
        if not boarded:
            raise Conflict(_("Nobody has boarded this trip: board the riders before departure."))
        absent = [s for s in seats if s.boarded_at is None]
        set_laborer_statuses(boarded, LaborerStatus.DEPARTED, actor, f"trip {locked.pk} departed")
        if absent:
            set_laborer_statuses(
                [s.laborer_id for s in absent],
                LaborerStatus.MATCHED,
                actor,
                f"missed trip {locked.pk}",
            )
            Seat.objects.filter(pk__in=[s.pk for s in absent]).delete()
        _move(locked, TripState.DEPARTED, actor, f"{len(boarded)} on board, {len(absent)} absent")
    return locked


def trip_arrive(*, actor: User, trip: Trip) -> Trip:
    """Handover to the employers: riders are `arrived`."""
    with transaction.atomic():
        locked = _locked_trip(trip.pk, "arrive")
        riders = list(Seat.objects.filter(trip=locked).values_list("laborer_id", flat=True))
        set_laborer_statuses(riders, LaborerStatus.ARRIVED, actor, f"trip {locked.pk} arrived")
        _move(locked, TripState.ARRIVED, actor)
    return locked


def trip_cancel(*, actor: User, trip: Trip) -> Trip:
    """Riders go back to the pool for the next plan."""
    with transaction.atomic():
        locked = _locked_trip(trip.pk, "cancel")
        seats = list(Seat.objects.select_for_update().filter(trip=locked))
        set_laborer_statuses(
            [s.laborer_id for s in seats],
            LaborerStatus.MATCHED,
            actor,
            f"trip {locked.pk} cancelled",
        )
        Seat.objects.filter(pk__in=[s.pk for s in seats]).delete()
        _move(locked, TripState.CANCELLED, actor, f"{len(seats)} riders back to the pool")
    return locked


MANIFEST_HEADER = ["座位号", "姓名", "身份证号", "手机号", "上车点", "下车点", "用人单位"]


def manifest_rows(trip: Trip) -> tuple[list[list[str]], list[int]]:
    seats = (
        Seat.objects.filter(trip=trip)
        .select_related(
            "laborer", "pickup__township", "dropoff__destination", "match__vacancy__employer"
        )
        .order_by("number")
    )
    rows, laborer_ids = [], []
    for seat in seats:
        rows.append(
            [
                str(seat.number),
                seat.laborer.name,
                seat.laborer.id_number,
                seat.laborer.phone,
                seat.pickup.township.name if seat.pickup.township else "",
                seat.dropoff.destination.name if seat.dropoff.destination else "",
                seat.match.vacancy.employer.name,
            ]
        )
        laborer_ids.append(seat.laborer_id)
    return rows, laborer_ids


def manifest_title(trip: Trip) -> str:
    return (
        f"点对点专车实名乘客名单 车次{trip.pk} {timezone.localtime(trip.departure):%Y-%m-%d %H:%M} "
        f"{trip.coach_type.name}"
    )


def manifest_csv(trip: Trip) -> tuple[bytes, list[int]]:
    rows, ids = manifest_rows(trip)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MANIFEST_HEADER)
    writer.writerows(rows)
    # A BOM so that Excel on Chinese Windows opens the UTF-8 file with the right encoding.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), ids


def manifest_xlsx(trip: Trip) -> tuple[bytes, list[int]]:
    rows, ids = manifest_rows(trip)
    book = Workbook()
    sheet = book.active
    sheet.title = "乘客名单"
    sheet.append([manifest_title(trip)])
    sheet.append(MANIFEST_HEADER)
    for row in rows:
        sheet.append(row)
    for column, width in zip("ABCDEFG", (8, 12, 22, 14, 16, 16, 30), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), ids


@dataclass(frozen=True, slots=True)
class SeatNews:
    """What a rider is told about a seat, read as plain values (a plan has 36,500)."""

    seat_id: int
    laborer_id: int
    name: str
    phone: str
    trip_id: int
    number: int
    coach_key: str
    coach_name: str
    township: str
    township_name: str
    pickup_eta: datetime
    destination: str
    destination_name: str

    def message(self) -> str:
        pickup_time = timezone.localtime(self.pickup_eta)
        return (
            f"【百色就业】{self.name}您好：您已安排乘坐点对点免费专车，"
            f"{pickup_time.month}月{pickup_time.day}日{pickup_time:%H:%M}在{self.township_name}上车，"
            f"车次{self.trip_id}（{self.coach_name}），座位{self.number}号，"
            f"前往{self.destination_name}。联系人：{settings.TRANSFER_CONTACT}。"
        )

    def signature(self) -> str:
        """What the laborer must be told: a change in any of these is a new message."""
        parts = [
            str(self.trip_id),
            str(self.number),
            self.township,
            self.pickup_eta.isoformat(),
            self.destination,
            self.coach_key,
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def seat_news(seat_ids: Iterable[int]) -> list[SeatNews]:
    rows = (
        Seat.objects.filter(pk__in=list(seat_ids))
        .order_by("pk")
        .values_list(
            "pk",
            "laborer_id",
            "laborer__name",
            "laborer__phone",
            "trip_id",
            "number",
            "trip__coach_type_id",
            "trip__coach_type__name",
            "pickup__township_id",
            "pickup__township__name",
            "pickup__eta",
            "dropoff__destination_id",
            "dropoff__destination__name",
        )
    )
    return [SeatNews(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class _Outgoing:
    pk: int
    phone: str
    message: str


def notify_seats(seat_ids: Iterable[int]) -> int:
    """Record and send a message for every seat whose rider was last told something else
    (or nothing yet); returns the messages sent. Asking twice sends nothing new."""
    seats = seat_news(seat_ids)
    if not seats:
        return 0
    laborer_ids = sorted({seat.laborer_id for seat in seats})
    with transaction.atomic():
        # Locked laborer rows: two runs cannot both decide that the same change is news.
        list(
            Laborer.objects.select_for_update(no_key=True)
            .filter(pk__in=laborer_ids)
            .values_list("pk")
        )
        last_ids = (
            Notification.objects.filter(laborer_id__in=laborer_ids)
            .values("laborer_id")
            .annotate(last=Max("pk"))
            .values_list("last", flat=True)
        )
        told = dict(
            Notification.objects.filter(pk__in=list(last_ids)).values_list(
                "laborer_id", "signature"
            )
        )
        fresh = []
        for seat in seats:
            signature = seat.signature()
            if told.get(seat.laborer_id) == signature:
                continue  # the rider already knows this seat
            told[seat.laborer_id] = signature
            fresh.append((seat, signature, seat.message()))
        writer = writer_for_connection()
        ids = writer.reserve_ids(Notification, len(fresh)).tolist()
        now = timezone.now()
        writer.write(
            Notification,
            ["id", "laborer_id", "trip_id", "signature", "phone", "message", "backend", "sent",
             "error", "created_at"],
            [
                (nid, seat.laborer_id, seat.trip_id, signature, seat.phone, message,
                 settings.SMS_BACKEND, False, "", now)
                for nid, (seat, signature, message) in zip(ids, fresh, strict=True)
            ],
        )  # fmt: skip
        writer.finish([Notification])
    notes = [
        _Outgoing(pk=nid, phone=seat.phone, message=message)
        for nid, (seat, _signature, message) in zip(ids, fresh, strict=True)
    ]
    sms = backend()
    sent_ids: list[int] = []
    for note in notes:
        try:
            sms.send(note.phone, note.message)
        except SmsError as exc:
            error = str(exc)
        except Exception as exc:
            # A gateway client failing in its own way must not fail the plan that seated
            # the riders (their seats are already written): keep the reason on the message.
            logger.exception("SMS backend failed on notification %s", note.pk)
            error = f"{type(exc).__name__}: {exc}"
        else:
            sent_ids.append(note.pk)
            continue
        Notification.objects.filter(pk=note.pk).update(error=error[:200])
    for start in range(0, len(sent_ids), 5000):
        Notification.objects.filter(pk__in=sent_ids[start : start + 5000]).update(sent=True)
    return len(sent_ids)
