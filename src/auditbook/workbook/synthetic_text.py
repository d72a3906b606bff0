"""Pure: the words of synthetic returns that should read like an auditor's: theme tags that fit their section,
actions that are things to do, and who is responsible for them (a role, or the team manager by name)."""

from __future__ import annotations

import random
import re

#: Words too common in a section's text to say what it is about.
_COMMON = frozenset((
    "and", "the", "for", "not", "with", "are", "was", "were", "has", "have", "this", "that", "their", "they", "there",
    "from", "when", "what", "who", "how", "all", "any", "out", "date", "good", "well", "clear", "timely", "sought",
    "used", "without", "place", "fully", "child", "children", "young", "person", "people", "case", "cases", "work",
    "does", "did", "been", "being", "should", "must", "need", "needs", "into", "where", "which", "within", "time",
    "evidence", "look", "section", "completed", "audit", "period", "social", "care", "service", "services", "quality",
))
#: Letters a word is compared on, so "assessed" and "assessment", "plan" and "plans" meet.
_STEM = 4


def _stems(text: str) -> set[str]:
    return {w[:_STEM] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _COMMON}


def fitting(labels: list[str], title: str, text: str) -> list[str]:
    """The labels that fit a section best: sharing words with its title counts most, then with its guidance and
    questions, and a word the section never uses counts against. Empty when none shares a word (an unrelated
    tag would mislead more than none)."""
    title_words, text_words = _stems(title), _stems(text)
    scored = [(10 * len(words & title_words) + len(words & text_words) - len(words - text_words - title_words),
               label) for label in labels for words in [_stems(label)]]
    best = max((score for score, _ in scored), default=0)
    return [label for score, label in scored if score == best and best > 0]


#: Actions a team manager can act on, by what the section they come from is about (its title's words).
_ACTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("early",), "Complete an early help assessment with the family and agree a plan at a team around the family "
                 "meeting."),
    (("protection",), "Hold a core group within four weeks to review the child protection plan and record progress "
                      "against each action."),
    (("need",), "Review the child in need plan with the family and record whether the child's circumstances have "
                "improved."),
    (("assessment",), "Update the assessment so it reflects the child's current needs and risks, and share it with "
                      "the family."),
    (("voice", "wishes"), "See the child alone at the next visit and record their wishes and feelings in their own "
                          "words."),
    (("decision", "management", "oversight"), "Record management oversight of the key decisions, with the reasons, "
                                              "at the next supervision."),
    (("partnership", "information", "agencies"), "Invite school and health to the next review and record what each "
                                                 "agency agreed to do."),
    (("diversity", "culture", "identity"), "Explore the child's identity, culture and faith with them and their "
                                           "family, and show how it shapes the plan."),
    (("plans", "reviews"), "Rewrite the plan so it says what will change, who will do it and by when, and share it "
                           "with the family."),
    (("recording", "direct"), "Bring the case recording and chronology up to date, and plan direct work with the "
                              "child."),
    (("feedback",), "Ask the child and family for feedback on the help they receive and record what changes as a "
                    "result."),
    (("permanence", "placement"), "Agree a permanence plan with timescales and present it at the next looked after "
                                  "review."),
    (("independence", "pathway"), "Update the pathway plan with the young person, covering accommodation, skills "
                                  "and support."),
)
#: Actions for any section.
_GENERAL = (
    "Discuss the audit findings in supervision and agree the next steps with timescales.",
    "Update the chronology with the significant events of the last two years.",
    "Make sure the plan and its review dates are recorded on the child's file.",
)
#: Who else is often responsible for an action, as roles (never names).
_ROLES = ("Allocated social worker", "Practice supervisor", "Independent reviewing officer", "Service manager")


def action_text(rng: random.Random, section: str) -> str:
    """An action fitting the section it comes from (its title), or a general one."""
    words = set(re.findall(r"[a-z]+", section.lower()))
    for keys, text in _ACTIONS:
        if words & set(keys):
            return text
    return rng.choice(_GENERAL)


def responsible(rng: random.Random, team_manager: str | None, *, required: bool) -> str | None:
    """Who is responsible for an action: often nobody named (the team manager then is), the team manager by name,
    or a role; None means left blank (never when the column is required)."""
    pick = rng.random()
    if pick < 0.4 and not required:
        return None
    if pick < 0.65 and team_manager:
        return team_manager
    return rng.choice(_ROLES)
