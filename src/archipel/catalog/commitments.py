"""Documented discount levels of purchasable commitments, per provider, kind and term.

A spec's ``reservations:`` (:mod:`archipel.spec.reservations`) lists commitments the planner may
buy; an option that gives no ``discount_pct`` takes the level documented here for its provider,
kind and term. Every level names its source page and the date it was read. ``basis`` says what
the figure is:

- ``exact``: a published rate or percentage for exactly this program and term;
- ``up_to``: the provider's headline "up to" level — the best case it advertises (often for
  another machine family, the longest term and all upfront), not what a GPU node gets. Using it
  is an **assumption**: the derived offerings carry the flag ``discount-assumed``
  (:mod:`archipel.catalog.flags`) and a spec with ``catalog.exclude_assumed: true`` must give
  ``discount_pct`` instead;
- ``quote``: the provider publishes the program but no level (priced by quote or negotiated, or
  set by supply and demand): a spec must give ``discount_pct``.

Kinds: ``reserved_instance``, ``capacity_block`` and ``committed_use`` give capacity (N nodes of
an instance type in a region for a term, at a discount) and are what the planner buys;
``savings_plan`` (a USD/hour commitment whose discount applies to any usage in scope) is listed
for reference and for commitments whose size a contract decides — it is not a capacity option.

The levels were read on 2026-11-30 from stored copies of the pages named (see docs/catalog.md,
"Commitment discounts"); prices and levels change, so each row keeps its date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["reserved_instance", "capacity_block", "committed_use", "savings_plan"]
Basis = Literal["exact", "up_to", "quote"]
CAPACITY_KINDS: tuple[Kind, ...] = ("reserved_instance", "capacity_block", "committed_use")
KINDS: tuple[Kind, ...] = (*CAPACITY_KINDS, "savings_plan")
RETRIEVED = "2026-11-30"


@dataclass(frozen=True, slots=True)
class CommitmentLevel:
    """One documented program: its discount off the on-demand price for one term, with source.

    ``term_months`` None means the program's term is chosen per purchase (days to months);
    ``level_pct`` None means no level is published (``basis`` ``quote``)."""

    provider: str
    kind: Kind
    program: str
    term_months: int | None
    level_pct: float | None
    basis: Basis
    upfront: str  # payment options the program offers
    url: str
    retrieved: str
    note: str = ""

    @property
    def assumed(self) -> bool:
        """Using this level as a discount is an assumption (an "up to" headline)."""
        return self.basis == "up_to"


_AWS_RI = "https://docs.aws.amazon.com/whitepapers/latest/cost-optimization-reservation-models/amazon-ec2-reserved-instances.html"
_AWS_SP = "https://aws.amazon.com/savingsplans/faqs"
_AWS_CB = "https://aws.amazon.com/ec2/capacityblocks/pricing/"
_AZURE_RI = "https://azure.microsoft.com/pricing/reserved-vm-instances"
_AZURE_SP = "https://techcommunity.microsoft.com/blog/azurecompute/optimize-and-maximize-cloud-investment-with-azure-savings-plan-for-compute/3636447"
_GCP_CUD = "https://cloud.google.com/compute/docs/instances/signing-up-committed-use-discounts"
_GCP_FLEX = "https://cloud.google.com/compute/docs/instances/committed-use-discounts-overview"
_OCI_UC = "https://www.oracle.com/cloud/universal-credits/"
_OCI_CR = "https://docs.oracle.com/en-us/iaas/Content/Compute/Tasks/reserve-capacity.htm"
_LAMBDA = "https://docs.lambda.ai/public-cloud/billing"
_COREWEAVE = "https://docs.coreweave.com/platform/capacity-plans"


def _level(
    provider: str,
    kind: Kind,
    program: str,
    term_months: int | None,
    level_pct: float | None,
    basis: Basis,
    upfront: str,
    url: str,
    note: str = "",
) -> CommitmentLevel:
    return CommitmentLevel(
        provider, kind, program, term_months, level_pct, basis, upfront, url, RETRIEVED, note
    )


COMMITMENT_LEVELS: tuple[CommitmentLevel, ...] = (
    _level(
        "aws", "reserved_instance", "EC2 Standard Reserved Instances", 36, 72.0, "up_to",
        "no, partial or all upfront", _AWS_RI,
        "'a one-year or three-year commitment ... billing discount of up to 72 percent'; the "
        "best case is a 3-year all-upfront term; per-instance RI rates are in the price list",
    ),
    _level(
        "aws", "reserved_instance", "EC2 Standard Reserved Instances", 12, None, "quote",
        "no, partial or all upfront", _AWS_RI,
        "no headline level for 1-year terms: take the instance type's RI rate from the price "
        "list and give discount_pct",
    ),
    _level(
        "aws", "savings_plan", "EC2 Instance Savings Plans", 36, 72.0, "up_to",
        "no, partial or all upfront", _AWS_SP,
        "USD/hour commitment to one instance family in one region; 1- or 3-year term",
    ),
    _level(
        "aws", "savings_plan", "Compute Savings Plans", 36, 66.0, "up_to",
        "no, partial or all upfront", _AWS_SP,
        "USD/hour commitment across instance families, regions, Fargate and Lambda",
    ),
    _level(
        "aws", "capacity_block", "EC2 Capacity Blocks for ML", None, None, "quote",
        "all upfront (reservation fee at purchase)", _AWS_CB,
        "1-14 days or multiples of 7 days up to 182 days, booked up to 8 weeks ahead; the fee "
        "follows supply and demand (the page read listed p5.48xlarge at 39.33 USD/h in "
        "us-east-1 until 2025-01-01, when on-demand was 98.32): give discount_pct from a quote",
    ),
    _level(
        "azure", "reserved_instance", "Azure Reserved VM Instances", 36, 72.0, "up_to",
        "all upfront or monthly at no extra cost", _AZURE_RI,
        "the 72% example is an M32ts SUSE VM in West US 2 on a 3-year term (pricing of "
        "2022-02-22), not an ND/NC GPU VM",
    ),
    _level(
        "azure", "reserved_instance", "Azure Reserved VM Instances", 12, None, "quote",
        "all upfront or monthly at no extra cost", _AZURE_RI,
        "no headline level for 1-year terms: take the VM's reservation price and give "
        "discount_pct",
    ),
    _level(
        "azure", "savings_plan", "Azure savings plan for compute", 36, 65.0, "up_to",
        "all upfront or monthly at no extra cost", _AZURE_SP,
        "USD/hour commitment for 1 or 3 years across VM series and regions (announced "
        "2022-10-12)",
    ),
    _level(
        "gcp", "committed_use", "Resource-based committed use discounts", 36, 57.0, "up_to",
        "none: billed monthly, no upfront", _GCP_CUD,
        "'up to 57% for most resources like machine types or GPUs' for 1- or 3-year "
        "commitments; A3/A2/G2 GPU commitments are per machine series",
    ),
    _level(
        "gcp", "committed_use", "Resource-based committed use discounts", 12, None, "quote",
        "none: billed monthly, no upfront", _GCP_CUD,
        "no headline level for 1-year terms: take the committed-use price of the machine "
        "series and give discount_pct",
    ),
    _level(
        "gcp", "savings_plan", "Compute flexible committed use discounts", None, None, "quote",
        "none: billed monthly", _GCP_FLEX,
        "spend-based USD/hour commitment for 1 or 3 years; no level on the page read",
    ),
    _level(
        "oci", "savings_plan", "Universal Credits (annual commitment)", 12, None, "quote",
        "prepaid credits drawn down by usage", _OCI_UC,
        "the discount is negotiated per order; OCI sells no term reservations of GPU shapes "
        "at a published discount, and its capacity reservations have no term and no discount",
    ),
    _level(
        "oci", "capacity_block", "Compute capacity reservations", None, None, "quote",
        "none", _OCI_CR,
        "no size or time commitment, no discount: unused reserved capacity is metered "
        "differently from used capacity (Universal Credits service descriptions)",
    ),
    _level(
        "lambda", "capacity_block", "1-Click Clusters (reserved)", None, None, "quote",
        "invoiced at approval, per reservation terms", _LAMBDA,
        "priced per GPU-hour and billed weekly for the reservation's term; no discount level "
        "published on the page read",
    ),
    _level(
        "coreweave", "reserved_instance", "Reserved Instances (capacity plans)", None, None,
        "quote", "per contract", _COREWEAVE,
        "a flat rate for the term with guaranteed capacity; rates by contract (CoreWeave is "
        "not in the built-in catalog)",
    ),
)  # fmt: skip


def levels(provider: str | None = None, kind: str | None = None) -> tuple[CommitmentLevel, ...]:
    """The documented levels, optionally of one provider and/or kind, in table order."""
    return tuple(
        c
        for c in COMMITMENT_LEVELS
        if (provider is None or c.provider == provider) and (kind is None or c.kind == kind)
    )


def default_level(provider: str, kind: str, term_months: int | None) -> CommitmentLevel | None:
    """The level a capacity option of ``provider``/``kind`` with a term of ``term_months`` takes
    when it gives no ``discount_pct``: the row for exactly that term (or for any term) that
    publishes a level; None when no row does."""
    for c in levels(provider, kind):
        if c.level_pct is not None and c.term_months in (term_months, None):
            return c
    return None
