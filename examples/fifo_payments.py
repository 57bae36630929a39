"""Per-account ledger updates through a FIFO queue: in order, exactly once, with a retry.

A payments service posts deposits and withdrawals to ``payments.fifo``. Each account is a
message group, so one account's updates apply strictly in the order they were sent while other
accounts keep flowing; each transaction id is the deduplication id, so a client that retries a
submission cannot make a payment happen twice. On virtual time:

1. t=0   the service submits five transactions for ``alice`` and ``bob``.
2. t=0   the worker applies alice's deposit, then the ledger database times out on her
         withdrawal: the worker stops handling alice (her later deposit must wait) and goes on
         with bob's updates.
3. t=10  a client that never saw its answer resubmits alice's withdrawal: SQS accepts it,
         answers with the original MessageId, and does not deliver it again.
4. t=10  nothing of alice's comes out: her withdrawal is still in flight.
5. t=30  the visibility timeout ends; the withdrawal comes back (receive #2) with the deposit
         behind it, and both apply in order.

Run: ``python examples/fifo_payments.py`` (finishes in well under a second).
"""

from __future__ import annotations

import json
from typing import Any

import decoupling as dc


class LedgerUnavailable(Exception):
    """The ledger database did not answer (the simulated failure)."""


def main() -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    payments = dc.FifoQueue(loop, "payments.fifo", visibility_timeout=30)
    balances = {"alice": 0, "bob": 0}
    applied: list[str] = []
    fail_once = {"tx-2"}  # the ledger database times out the first time tx-2 is applied

    def submit(tx: str, account: str, amount: int) -> dc.SendResult:
        body = json.dumps({"tx": tx, "account": account, "amount": amount})
        return payments.send(body, message_group_id=account, message_deduplication_id=tx)

    def apply(payment: dict[str, Any]) -> None:
        if payment["tx"] in fail_once:
            fail_once.discard(payment["tx"])
            raise LedgerUnavailable("ledger database timed out")
        new_balance = balances[payment["account"]] + payment["amount"]
        if new_balance < 0:  # out-of-order updates would trip this
            raise ValueError(f"{payment['tx']} would overdraw {payment['account']}")
        balances[payment["account"]] = new_balance
        applied.append(payment["tx"])

    def work() -> None:
        failed_groups: set[str] = set()
        for msg in payments.receive(max_messages=10):
            payment = json.loads(msg.body)
            account = payment["account"]
            if account in failed_groups:
                continue  # keep the account's order: leave its later updates for the retry
            try:
                apply(payment)
            except LedgerUnavailable as error:
                failed_groups.add(account)
                print(f"  worker: {payment['tx']} for {account} failed ({error}); "
                      f"{account}'s later updates wait for the retry")
                continue
            payments.delete(msg.receipt_handle)
            print(f"  worker: applied {payment['tx']} {payment['amount']:+d} to {account} "
                  f"(receive #{msg.receive_count}), balance {balances[account]}")

    clock = loop.clock
    print("t=0s: the service submits five transactions")
    submit("tx-1", "alice", 100)
    original = submit("tx-2", "alice", -30)
    submit("tx-4", "bob", 200)
    submit("tx-3", "alice", 50)
    submit("tx-5", "bob", -75)
    work()

    clock.advance(10)
    print(f"t={clock.now():.0f}s: a client resubmits tx-2")
    again = submit("tx-2", "alice", -30)
    same = again.message_id == original.message_id
    print(f"  queue: accepted as a duplicate (same MessageId: {same}); "
          f"{len(payments)} messages held")
    work()
    print(f"  nothing for alice yet: {payments.approximate_number_of_messages_not_visible} "
          "of her messages in flight")

    clock.advance(20)
    print(f"t={clock.now():.0f}s: the visibility timeout ends")
    work()

    summary: dict[str, Any] = {
        "balances": dict(balances),
        "applied": list(applied),
        "duplicates_ignored": 1 if same else 0,
        "left_in_queue": len(payments),
    }
    print("final balances: " + ", ".join(f"{k} {v}" for k, v in balances.items()))
    print(f"applied in this order: {', '.join(applied)}")
    return summary


if __name__ == "__main__":
    main()
