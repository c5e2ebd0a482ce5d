"""Failing job functions for the failure-group tests: two call sites raising the same
ValueError text, and a KeyError. Shared with the Rust tests (`engine/tests/it/groups.rs`)."""


def charge(order_id, user):
    raise ValueError(f"order {order_id} for '{user}' not found")


def refund(order_id, user):
    raise ValueError(f"order {order_id} for '{user}' not found")


def lookup(key):
    return {}[key]
