"""The OK / NOK rule that turns a fill measurement into the classifier's label (configs.LabelRule)."""

from __future__ import annotations

from configs import LabelRule


def label_for(fill: float, overfill: bool, rule: LabelRule) -> str:
    """"NOK" when the box is too empty (fill < rule.nok_below_fill) or overfilled (if the rule says so)."""
    if fill < rule.nok_below_fill or (overfill and rule.nok_if_overfill):
        return "NOK"
    return "OK"
