"""Stage 2 of triage: rule packs (YAML, validated by pydantic) compiled to one SQL CASE.

A pack is a YAML file::

    pack: builtin
    description: what this pack is for
    rules:
      - id: timely_filing_no_proof
        description: What the rule recognises, in a sentence.
        evidence:                                   # all must hold (AND)
          - {feature: denial_category, op: "=", value: timely_filing}
          - {feature: days_service_to_first_accept, op: ">", value_from: timely_filing_days}
          - any:                                    # OR
              - {feature: last_rarcs, op: has_any, value: [N30]}
              - not: {feature: has_prior_auth, op: is, value: true}
        tier: no_opportunity
        action: write_off
        root_cause: timely_filing
        hint: Where staff look first, in a sentence.
        adjustment_code: WO-TIMELY-FILING           # required for write-offs: a specific root-cause code
        mode: auto                                  # auto | hint | sample

Conditions name a feature of :data:`everyclaim.triage.features.FEATURES` and compare it with a
literal (``value``) or another feature (``value_from``). Operators: ``= != < <= > >=``, ``in`` /
``not_in`` (a list), ``is`` (true / false / null), ``has_any`` / ``has_all`` / ``has_none`` (set
features: CARC, RARC, category sets). A comparison with a NULL feature is false.

Rules are tried in ``priority`` order (then pack order, then file order); the first match wins.
Built-in rules ship as a pack loaded like a user's (``packs/builtin.yaml``); a user's pack (``--rules
DIR``) adds rules or overrides a built-in by id. A user's new rule starts in ``sample`` mode (it hints
and is sampled for review) until the gate proves it; an override that changes the evidence, tier or
action also starts over in ``sample`` mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from everyclaim.triage.features import FEATURE_BY_NAME, triage_features

TIERS = ("no_opportunity", "simple_fix", "hinted", "manual")
AUTOMATIC_TIERS = ("no_opportunity", "simple_fix")
ACTIONS = ("write_off", "transfer_to_patient", "bill_secondary", "rebill_corrected", "rebill_other_payer", "appeal",
           "status_inquiry", "refund", "review")  # fmt: skip
ROOT_CAUSES = ("eligibility", "authorization", "coding", "medical_necessity", "timely_filing", "missing_information",
               "duplicate", "coordination_of_benefits", "bundling", "provider_enrollment", "other", "posting_error",
               "no_response", "overpayment")  # fmt: skip
MODES = ("auto", "hint", "sample")
BUILTIN_DIR = Path(__file__).with_name("packs")
GENERIC_CODES = re.compile(r"MASS|GENERIC|TOO[-_ ]?OLD|BULK|MISC|CLEANUP", re.I)

Tier = Literal["no_opportunity", "simple_fix", "hinted", "manual"]
Action = Literal["", "write_off", "transfer_to_patient", "bill_secondary", "rebill_corrected", "rebill_other_payer",
                 "appeal", "status_inquiry", "refund", "review"]  # fmt: skip
RootCause = Literal["", "eligibility", "authorization", "coding", "medical_necessity", "timely_filing",
                    "missing_information", "duplicate", "coordination_of_benefits", "bundling",
                    "provider_enrollment", "other", "posting_error", "no_response", "overpayment"]  # fmt: skip
Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "is", "has_any", "has_all", "has_none"]
_ORDERED = {"=", "!=", "<", "<=", ">", ">="}
_SET_OPS = {"has_any", "has_all", "has_none"}


class Cond(BaseModel):
    """One comparison of a feature with a literal (``value``) or with another feature (``value_from``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    feature: str
    op: Op
    value: Any = None
    value_from: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Cond:
        f = FEATURE_BY_NAME.get(self.feature)
        if f is None:
            raise ValueError(f"unknown feature {self.feature!r}")
        if self.value_from is not None:
            other = FEATURE_BY_NAME.get(self.value_from)
            if other is None:
                raise ValueError(f"unknown feature {self.value_from!r} in value_from")
            if self.op not in _ORDERED:
                raise ValueError(f"value_from works with {sorted(_ORDERED)}, not {self.op!r}")
            return self
        if self.op in _SET_OPS:
            if f.kind != "set":
                raise ValueError(f"{self.op} needs a set feature; {self.feature} is {f.kind}")
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list")
        elif self.op == "is":
            if self.value not in (True, False, None):
                raise ValueError("is compares with true, false or null")
        elif self.value is None:
            raise ValueError(f"{self.op} needs a value or value_from")
        if f.kind == "set" and self.op not in _SET_OPS:
            raise ValueError(f"{self.feature} is a set: use has_any / has_all / has_none")
        return self


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    any: list[Condition]


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    all: list[Condition]


class NotOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    not_: Condition = Field(alias="not")


Condition = Annotated[Union[Cond, AnyOf, AllOf, NotOf], Field(union_mode="left_to_right")]  # noqa: UP007
AnyOf.model_rebuild()
AllOf.model_rebuild()
NotOf.model_rebuild()


class Rule(BaseModel):
    """One triage rule: the evidence it needs and what to do with the claims it matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]{2,63}$")]
    description: Annotated[str, Field(min_length=10)]
    evidence: Annotated[list[Condition], Field(min_length=1)]
    tier: Tier
    action: Action
    root_cause: RootCause
    hint: Annotated[str, Field(min_length=10)]
    adjustment_code: str | None = None
    mode: Literal["auto", "hint", "sample"] = "sample"
    priority: int = 500
    confidence: Annotated[float, Field(ge=0, le=1)] = 0.9  # prior accuracy until outcomes are reviewed
    recovery_rate: Annotated[float, Field(ge=0, le=1)] | None = None  # share of the balance expected back

    @field_validator("description", "hint")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return " ".join(v.split())

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.action == "write_off":
            code = self.adjustment_code or ""
            if not re.fullmatch(r"[A-Z][A-Z0-9-]{3,31}", code):
                raise ValueError("a write_off needs adjustment_code: a specific root-cause code like WO-TIMELY-FILING")
            if GENERIC_CODES.search(code):
                raise ValueError(f"adjustment_code {code!r} is generic; name the root cause")
        elif self.adjustment_code:
            raise ValueError("adjustment_code is only for write_off rules")
        if self.mode == "auto" and self.tier not in AUTOMATIC_TIERS:
            raise ValueError(f"tier {self.tier} is never automatic; use mode hint")
        return self


class Pack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pack: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
    description: Annotated[str, Field(min_length=10)]
    version: int = 1
    rules: list[Rule]


@dataclass(frozen=True, slots=True)
class LoadedRule:
    rule: Rule
    pack: str
    order: int  # position across all packs, for ties in priority
    builtin: bool
    mode: str  # declared mode after the new/override policy


@dataclass(frozen=True, slots=True)
class PackError:
    """A pack that did not validate: ``file: location: message`` (collected, not raised)."""

    path: str
    location: str
    message: str

    def located(self) -> str:
        return f"{self.path}: {self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[LoadedRule, ...]  # in evaluation order
    packs: tuple[str, ...]

    def by_id(self) -> dict[str, LoadedRule]:
        return {r.rule.id: r for r in self.rules}


def read_pack(path: Path) -> tuple[Pack | None, list[PackError]]:
    """Parse and validate one pack file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Pack.model_validate(doc), []
    except yaml.YAMLError as e:
        return None, [PackError(str(path), "yaml", str(e).replace("\n", " "))]
    except ValidationError as e:
        return None, [PackError(str(path), ".".join(str(x) for x in err["loc"]) or "pack", err["msg"])
                      for err in e.errors()]  # fmt: skip


def pack_files(dirs: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for d in dirs:
        out += [d] if d.is_file() else sorted([*d.glob("*.yaml"), *d.glob("*.yml")])
    return out


def load_rules(user_dirs: Sequence[Path] = (), with_builtin: bool = True) -> tuple[RuleSet, list[PackError]]:
    """The built-in pack, then the user's packs (overrides by id); errors are collected, not raised."""
    errors: list[PackError] = []
    merged: dict[str, LoadedRule] = {}
    names: list[str] = []
    files = [(p, True) for p in pack_files([BUILTIN_DIR])] if with_builtin else []
    files += [(p, False) for p in pack_files(user_dirs)]
    order = 0
    for path, builtin in files:
        pack, errs = read_pack(path)
        errors += errs
        if pack is None:
            continue
        names.append(pack.pack)
        for rule in pack.rules:
            order += 1
            prev = merged.get(rule.id)
            mode = rule.mode if builtin else _user_mode(rule, prev)
            keep_order = prev.order if prev else order
            merged[rule.id] = LoadedRule(rule, pack.pack, keep_order, builtin, mode)
    rules = sorted(merged.values(), key=lambda r: (r.rule.priority, r.order))
    return RuleSet(tuple(rules), tuple(names)), errors


def _user_mode(rule: Rule, prev: LoadedRule | None) -> str:
    """A user's rule never starts automatic unless it only re-words a built-in that was."""
    if rule.mode != "auto":
        return rule.mode
    same = prev is not None and (prev.rule.evidence, prev.rule.tier, prev.rule.action) == (
        rule.evidence, rule.tier, rule.action)
    return prev.mode if same and prev is not None else "sample"


# --------------------------------------------------------------------------------------------------
# Compilation to SQL
# --------------------------------------------------------------------------------------------------
def compile_condition(cond: Any, table: sa.Table = triage_features) -> sa.ColumnElement[bool]:
    if isinstance(cond, AnyOf):
        return sa.or_(*(compile_condition(c, table) for c in cond.any))
    if isinstance(cond, AllOf):
        return sa.and_(*(compile_condition(c, table) for c in cond.all))
    if isinstance(cond, NotOf):
        return sa.not_(compile_condition(cond.not_, table))
    return _false_if_null(_leaf(cond, table))


def _false_if_null(expr: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """SQL compares NULL as unknown; a rule reads "no evidence" as false (so ``not`` stays two-valued)."""
    return sa.func.coalesce(expr, sa.false(), type_=sa.Boolean)


def _leaf(cond: Cond, table: sa.Table) -> sa.ColumnElement[bool]:
    col = table.c[cond.feature]
    if cond.value_from is not None:
        return _compare(col, cond.op, table.c[cond.value_from])
    if cond.op in _SET_OPS:
        likes = [col.like(f"%,{v},%") for v in cond.value]
        if cond.op == "has_any":
            return sa.or_(*likes)
        if cond.op == "has_all":
            return sa.and_(*likes)
        return sa.and_(*(sa.not_(x) for x in likes))
    if cond.op == "in":
        return col.in_(cond.value)
    if cond.op == "not_in":
        return col.not_in(cond.value)
    if cond.op == "is":
        if cond.value is None:
            return col.is_(None)
        return col == (sa.true() if cond.value else sa.false())
    return _compare(col, cond.op, sa.literal(cond.value))


def _compare(col: Any, op: str, other: Any) -> sa.ColumnElement[bool]:
    return {"=": col == other, "!=": col != other, "<": col < other, "<=": col <= other, ">": col > other,
            ">=": col >= other}[op]  # fmt: skip


def rule_condition(rule: Rule, table: sa.Table = triage_features) -> sa.ColumnElement[bool]:
    return sa.and_(*(compile_condition(c, table) for c in rule.evidence))


def rule_case(rules: RuleSet, table: sa.Table = triage_features) -> sa.Case[Any]:
    """``CASE WHEN <evidence of rule 1> THEN 'rule 1' ... END``: the first matching rule's id (or NULL)."""
    whens = [(rule_condition(r.rule, table), r.rule.id) for r in rules.rules]
    return sa.case(*whens, else_=sa.null())


def rules_select(rules: RuleSet, table: sa.Table = triage_features) -> sa.Select[Any]:
    """``SELECT atb_row_id, <rule case> AS rule_id FROM triage_features``."""
    return sa.select(table.c.atb_row_id, rule_case(rules, table).label("rule_id"))


def portable_sql(rules: RuleSet, dialect: str = "postgresql") -> str:
    """The rules' SELECT as SQL text with literals inlined (for review, sqlglot and other engines)."""
    from sqlalchemy.dialects import postgresql, sqlite

    d = {"postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}[dialect]
    return str(rules_select(rules).compile(dialect=d, compile_kwargs={"literal_binds": True}))


def transpile(rules: RuleSet, to: str) -> str:
    """The rules' SELECT in another engine's SQL (``duckdb``, ``spark`` ...) through SQLGlot."""
    import sqlglot

    return sqlglot.transpile(portable_sql(rules), read="postgres", write=to)[0]
