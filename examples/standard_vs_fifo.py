"""Standard vs FIFO: at-least-once and best-effort order, or exactly-once and strict order.

One account's ledger events go through a standard queue and through a FIFO queue, with the same
two mishaps on virtual time:

* the client's SendMessage for "deposit 100" times out on the way back, so the client sends it
  again (same transaction id);
* the ledger database fails once on "withdraw 80"; the worker leaves that message for its
  visibility timeout (30 s) and it is retried.

On the **standard** queue the retried send is a second message (the deposit is applied twice),
and the failed withdrawal comes back after the messages sent behind it were applied: the balance
ends wrong. On the **FIFO** queue the retried send carries the same deduplication id and is
dropped, and the account is one message group: while "withdraw 80" is in flight nothing behind
it is handed out (the worker also stops at the first failure in a batch), so the events apply
exactly once and in the order sent.

Even when nothing fails, a standard queue may deliver a message twice (a copy left on a server
that missed the delete) and out of order. The last part makes that happen on purpose with the
seeded :class:`~decoupling.Chaos` mode (20% of deleted messages come back once, each send may
land up to 2 places early): a consumer that remembers the transaction ids it applied is safe
from the duplicate, but only the FIFO queue gives the order back, and Chaos refuses FIFO queues.

Run: ``python examples/standard_vs_fifo.py`` (well under a second).
"""

from __future__ import annotations

import json
from typing import Any

import decoupling as dc

EVENTS = [("tx-1", "open", 0), ("tx-2", "deposit", 100), ("tx-3", "withdraw", 80),
          ("tx-4", "deposit", 50), ("tx-5", "withdraw", 60)]
RETRIED_SEND = "tx-2"
FAILS_ONCE = "tx-3"
CHAOS = {"seed": 14, "duplicate_rate": 0.2, "reorder": True, "reorder_window": 2}


class LedgerDown(Exception):
    """The ledger database did not answer (the simulated transient failure)."""


def run(queue: dc.Queue) -> dict[str, Any]:
    """Send the events (one send retried), then process them until the queue is empty."""
    fifo = queue.is_fifo
    clock = queue.loop.clock
    for tx, kind, amount in EVENTS:
        body = json.dumps({"tx": tx, "kind": kind, "amount": amount})
        options = {"message_group_id": "acct-1", "message_deduplication_id": tx} if fifo else {}
        queue.send(body, **options)
        if tx == RETRIED_SEND:
            queue.send(body, **options)  # the client never saw the answer and sends again
    held = len(queue)
    print(f"  sent {len(EVENTS)} events plus one retried send: the queue holds {held}")

    balance = 0
    applied: list[str] = []
    rejected: list[str] = []
    failing = {FAILS_ONCE}
    while len(queue):
        batch = queue.receive(max_messages=10)
        events = [json.loads(message.body) for message in batch]
        print(f"  t={clock.now():.0f} s: received {', '.join(e['tx'] for e in events)}")
        for message, event in zip(batch, events, strict=True):
            tx = event["tx"]
            if tx in failing:
                failing.discard(tx)
                print(f"  t={clock.now():.0f} s: {tx} {event['kind']} {event['amount']} failed "
                      "(ledger down): not deleted, it comes back after its visibility timeout")
                if fifo:
                    break  # keep the group's order: the rest of the batch waits for the retry
                continue
            if (after := apply(balance, event)) is None:
                rejected.append(tx)
                print(f"  t={clock.now():.0f} s: {tx} withdraw {event['amount']} rejected: "
                      f"balance only {balance}")
            else:
                balance = after
                applied.append(tx)
            queue.delete(message.receipt_handle)
        if len(queue):
            clock.advance(queue.visibility_timeout)
    print(f"  applied in this order: {', '.join(applied)}")
    print(f"  final balance {balance}" + (f"; rejected {', '.join(rejected)}" if rejected else ""))
    return {"held": held, "applied": applied, "rejected": rejected, "balance": balance}


def apply(balance: int, event: dict[str, Any]) -> int | None:
    """The new balance, or ``None`` if a withdrawal would overdraw the account."""
    if event["kind"] == "withdraw":
        return balance - event["amount"] if event["amount"] <= balance else None
    return balance + event["amount"]


def with_chaos(idempotent: bool) -> dict[str, Any]:
    """The events through a standard queue under seeded chaos; nothing fails. A consumer polls
    every second for a minute (a duplicate can come back up to 30 s after its delete)."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    queue = dc.Queue(loop, "ledger")
    chaos = dc.Chaos(**CHAOS).attach(queue)
    for tx, kind, amount in EVENTS:
        queue.send(json.dumps({"tx": tx, "kind": kind, "amount": amount}))
    clock = loop.clock
    balance = 0
    received: list[str] = []
    applied: list[str] = []
    rejected: list[str] = []
    skipped: list[str] = []
    while clock.now() < 60:
        for message in queue.receive(max_messages=10):
            event = json.loads(message.body)
            tx = event["tx"]
            received.append(tx if clock.now() == 0 else f"{tx} (again, t={clock.now():.0f} s)")
            if idempotent and tx in applied + rejected:
                skipped.append(tx)
            elif (after := apply(balance, event)) is None:
                rejected.append(tx)
            else:
                balance = after
                applied.append(tx)
            queue.delete(message.receipt_handle)
        clock.advance(1)
    chaos.detach()
    return {"received": received, "applied": applied, "rejected": rejected,
            "skipped": skipped, "balance": balance, "duplicates": chaos.duplicates,
            "reordered": chaos.reordered}


def chaos_part() -> dict[str, Any]:
    print(f"standard queue with Chaos(seed={CHAOS['seed']}, duplicate_rate="
          f"{CHAOS['duplicate_rate']}, reorder=True, reorder_window={CHAOS['reorder_window']}); "
          "nothing fails:")
    naive = with_chaos(idempotent=False)
    print(f"  received {', '.join(naive['received'])}")
    print(f"  ({naive['reordered']} sends landed early, {naive['duplicates']} deleted message "
          "came back)")
    print(f"  a plain consumer: final balance {naive['balance']}; rejected "
          f"{', '.join(naive['rejected']) or 'nothing'}")
    careful = with_chaos(idempotent=True)
    print(f"  a consumer that skips transaction ids it has seen: final balance "
          f"{careful['balance']}; skipped {', '.join(careful['skipped'])}, rejected "
          f"{', '.join(careful['rejected']) or 'nothing'}")
    loop = dc.EventLoop(clock=dc.ManualClock())
    try:
        dc.Chaos(**CHAOS).attach(dc.FifoQueue(loop, "ledger.fifo"))
        refused = ""
    except dc.errors.InvalidParameterValue as error:
        refused = error.message
    print(f"FIFO queue with the same Chaos: refused ({refused})")
    return {"plain": naive, "idempotent": careful, "fifo_refused": bool(refused)}


def main() -> dict[str, Any]:
    expected = 0
    for _, kind, amount in EVENTS:
        expected += amount if kind == "deposit" else -amount if kind == "withdraw" else 0
    print("events for acct-1: " + ", ".join(f"{tx} {kind} {amount}" for tx, kind, amount in
                                            EVENTS) + f" (the balance should end at {expected})")
    print("standard queue (at-least-once, best-effort order):")
    loop = dc.EventLoop(clock=dc.ManualClock())
    standard = run(dc.Queue(loop, "ledger", visibility_timeout=30))
    print("FIFO queue (exactly-once, ordered within the message group):")
    loop = dc.EventLoop(clock=dc.ManualClock())
    fifo = run(dc.FifoQueue(loop, "ledger.fifo", visibility_timeout=30))
    chaos = chaos_part()
    return {"expected_balance": expected, "standard": standard, "fifo": fifo, "chaos": chaos}


if __name__ == "__main__":
    main()
